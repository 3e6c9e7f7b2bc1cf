/*
 * SHA-256 (FIPS 180-4) for the API keys: the key file holds each key's
 * digest, never the key, and a request's key is hashed before it is
 * compared.  Small and dependency-free: the module is built --with-compat
 * against Debian's nginx without OpenSSL's headers.
 */

#ifndef MT_SHA256_H
#define MT_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>


#define MT_SHA256_LEN      32
#define MT_SHA256_HEX_LEN  64

typedef struct {
    uint32_t                state[8];
    uint64_t                bytes;      /* hashed so far */
    unsigned char           buf[64];
    size_t                  used;       /* bytes in buf */
} mt_sha256_t;

void mt_sha256_init(mt_sha256_t *c);
void mt_sha256_update(mt_sha256_t *c, const void *data, size_t len);
void mt_sha256_final(mt_sha256_t *c, unsigned char out[MT_SHA256_LEN]);
void mt_sha256(const void *data, size_t len,
    unsigned char out[MT_SHA256_LEN]);

/*
 * The x86 SHA extensions, when the CPU has them, are used unless on is
 * 0 (for the tests of the C code); returns 1 when they are in use.
 */
int mt_sha256_use_hw(int on);

/* 64 hex digits (either case) → 32 bytes: 0, else -1 */
int mt_sha256_from_hex(const char *hex, size_t len,
    unsigned char out[MT_SHA256_LEN]);

/*
 * 1 when the n bytes are equal; the time taken depends on n only, not
 * on where the first difference is.
 */
int mt_ct_equal(const void *a, const void *b, size_t n);

/*
 * The same for two digests, a word at a time, inline: every entry of a
 * key file is compared on every request.  Every word is loaded and
 * folded in: no branch on the contents.
 */
static inline int
mt_sha256_equal(const unsigned char a[MT_SHA256_LEN],
    const unsigned char b[MT_SHA256_LEN])
{
    size_t    i;
    uint64_t  x[MT_SHA256_LEN / 8], y[MT_SHA256_LEN / 8], d;

    memcpy(x, a, MT_SHA256_LEN);
    memcpy(y, b, MT_SHA256_LEN);

    d = 0;

    for (i = 0; i < MT_SHA256_LEN / 8; i++) {
        d |= x[i] ^ y[i];
    }

    return d == 0;
}

#endif /* MT_SHA256_H */

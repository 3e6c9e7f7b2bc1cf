/*
 * libFuzzer target: mt_query_decode().  An accepted value is valid UTF-8
 * with no NUL and never longer than its input; percent-encoding it again
 * (every byte, or only what needs it, with "+" for a space) decodes to
 * the same bytes.  A refused value reports a length of 0.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "util.h"


static const char  fuzz_hex[] = "0123456789abcdef";


/* all: every byte as %XX; else unreserved bytes raw and ' ' as '+' */
static size_t
fuzz_encode(const char *s, size_t len, char *dst, int all)
{
    size_t         i, n;
    unsigned char  c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (!all && c == ' ') {
            dst[n++] = '+';

        } else if (!all && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                            || (c >= '0' && c <= '9') || c == '-'
                            || c == '.' || c == '_' || c == '~'))
        {
            dst[n++] = (char) c;

        } else {
            dst[n++] = '%';
            dst[n++] = fuzz_hex[c >> 4];
            dst[n++] = fuzz_hex[c & 15];
        }
    }

    return n;
}


static void
fuzz_roundtrip(const char *value, size_t len, int all)
{
    char            *enc, *dec;
    size_t           elen, dlen;
    mt_query_err_t   rc;

    enc = malloc(len * 3 + 1);
    if (enc == NULL) {
        return;
    }

    elen = fuzz_encode(value, len, enc, all);

    dec = malloc(elen + 1);
    if (dec == NULL) {
        free(enc);
        return;
    }

    rc = mt_query_decode(enc, elen, dec, &dlen);
    if (rc != MT_QUERY_OK || dlen != len || memcmp(dec, value, len) != 0) {
        abort();
    }

    free(dec);
    free(enc);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char            *dst;
    size_t           n;
    mt_query_err_t   rc;

    /* exactly size + 1 bytes: ASan sees a write past the promised room */
    dst = malloc(size + 1);
    if (dst == NULL) {
        return 0;
    }

    n = 12345;
    rc = mt_query_decode((const char *) data, size, dst, &n);

    if (mt_query_strerror(rc) == NULL) {
        abort();
    }

    if (rc != MT_QUERY_OK) {
        if (n != 0) {
            abort();
        }

        free(dst);
        return 0;
    }

    if (n > size || dst[n] != '\0' || memchr(dst, '\0', n) != NULL
        || !mt_utf8_valid(dst, n))
    {
        abort();
    }

    fuzz_roundtrip(dst, n, 1);
    fuzz_roundtrip(dst, n, 0);

    free(dst);

    return 0;
}

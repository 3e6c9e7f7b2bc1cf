/*
 * SHA-256 after FIPS 180-4, section 6.2: plain C, one block at a time,
 * or with the x86 SHA extensions where the CPU has them (a request's key
 * is hashed on every request: about 0.45 µs in C, a sixth of it so).
 */

#include <string.h>

#include "sha256.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define MT_SHA256_NI  1
#include <cpuid.h>
#include <immintrin.h>
#endif


static const uint32_t  mt_sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};


#define ROTR(x, n)  (((x) >> (n)) | ((x) << (32 - (n))))


static void mt_sha256_block_c(mt_sha256_t *c, const unsigned char *p);

/* -1: not looked at yet; 0: C; 1: SHA extensions */
static int  mt_sha256_hw = -1;


#if (MT_SHA256_NI)

/*
 * One block with SHA256RNDS2 and friends, 4 rounds a step, the message
 * schedule in a ring of the last 4 groups of 4 words (as in Intel's
 * "New Instructions Supporting the Secure Hash Algorithm").
 */

__attribute__((target("sha,sse4.1,ssse3")))
static void
mt_sha256_block_ni(mt_sha256_t *c, const unsigned char *p)
{
    size_t   g;
    __m128i  s0, s1, tmp, msg, abef, cdgh, w[4];

    const __m128i  swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
                                         0x0405060700010203ULL);

    /* the state as the instructions want it: ABEF and CDGH */

    tmp = _mm_loadu_si128((const __m128i *) &c->state[0]);
    s1 = _mm_loadu_si128((const __m128i *) &c->state[4]);
    tmp = _mm_shuffle_epi32(tmp, 0xb1);
    s1 = _mm_shuffle_epi32(s1, 0x1b);
    s0 = _mm_alignr_epi8(tmp, s1, 8);
    s1 = _mm_blend_epi16(s1, tmp, 0xf0);

    abef = s0;
    cdgh = s1;

    for (g = 0; g < 16; g++) {

        if (g < 4) {
            w[g] = _mm_shuffle_epi8(
                       _mm_loadu_si128((const __m128i *) (p + 16 * g)),
                       swap);

        } else {
            /* w[g % 4] holds the words of group g - 4, and so on */
            tmp = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
            tmp = _mm_add_epi32(tmp, _mm_alignr_epi8(w[(g + 3) % 4],
                                                     w[(g + 2) % 4], 4));
            w[g % 4] = _mm_sha256msg2_epu32(tmp, w[(g + 3) % 4]);
        }

        msg = _mm_add_epi32(w[g % 4],
                  _mm_loadu_si128((const __m128i *) &mt_sha256_k[4 * g]));
        s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
        msg = _mm_shuffle_epi32(msg, 0x0e);
        s0 = _mm_sha256rnds2_epu32(s0, s1, msg);
    }

    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);

    /* back to ABCD and EFGH */

    tmp = _mm_shuffle_epi32(s0, 0x1b);
    s1 = _mm_shuffle_epi32(s1, 0xb1);
    s0 = _mm_blend_epi16(tmp, s1, 0xf0);
    s1 = _mm_alignr_epi8(s1, tmp, 8);

    _mm_storeu_si128((__m128i *) &c->state[0], s0);
    _mm_storeu_si128((__m128i *) &c->state[4], s1);
}


static int
mt_sha256_has_ni(void)
{
    unsigned int  a, b, cx, d;

    /* SSSE3 and SSE4.1 (leaf 1, ECX bits 9 and 19), SHA (leaf 7, EBX 29) */

    if (!__get_cpuid(1, &a, &b, &cx, &d)
        || !(cx & (1u << 9)) || !(cx & (1u << 19)))
    {
        return 0;
    }

    if (!__get_cpuid_count(7, 0, &a, &b, &cx, &d)) {
        return 0;
    }

    return (b & (1u << 29)) != 0;
}

#endif


int
mt_sha256_use_hw(int on)
{
#if (MT_SHA256_NI)
    mt_sha256_hw = (on && mt_sha256_has_ni()) ? 1 : 0;
#else
    (void) on;
    mt_sha256_hw = 0;
#endif

    return mt_sha256_hw;
}


static void
mt_sha256_block(mt_sha256_t *c, const unsigned char *p)
{
    /* a race of two threads here writes the same answer twice */

    if (mt_sha256_hw < 0) {
        (void) mt_sha256_use_hw(1);
    }

#if (MT_SHA256_NI)
    if (mt_sha256_hw) {
        mt_sha256_block_ni(c, p);
        return;
    }
#endif

    mt_sha256_block_c(c, p);
}


static void
mt_sha256_block_c(mt_sha256_t *c, const unsigned char *p)
{
    size_t    i;
    uint32_t  w[64], a, b, cc, d, e, f, g, h, t1, t2, s0, s1;

    for (i = 0; i < 16; i++) {
        w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16
               | (uint32_t) p[4 * i + 2] << 8 | (uint32_t) p[4 * i + 3];
    }

    for (i = 16; i < 64; i++) {
        s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }

    a = c->state[0];
    b = c->state[1];
    cc = c->state[2];
    d = c->state[3];
    e = c->state[4];
    f = c->state[5];
    g = c->state[6];
    h = c->state[7];

    for (i = 0; i < 64; i++) {
        s1 = ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25);
        t1 = h + s1 + ((e & f) ^ (~e & g)) + mt_sha256_k[i] + w[i];
        s0 = ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22);
        t2 = s0 + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = cc;
        cc = b;
        b = a;
        a = t1 + t2;
    }

    c->state[0] += a;
    c->state[1] += b;
    c->state[2] += cc;
    c->state[3] += d;
    c->state[4] += e;
    c->state[5] += f;
    c->state[6] += g;
    c->state[7] += h;
}


void
mt_sha256_init(mt_sha256_t *c)
{
    static const uint32_t  iv[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
    };

    memcpy(c->state, iv, sizeof(iv));
    c->bytes = 0;
    c->used = 0;
}


void
mt_sha256_update(mt_sha256_t *c, const void *data, size_t len)
{
    size_t                n;
    const unsigned char  *p = data;

    c->bytes += len;

    if (c->used) {
        n = 64 - c->used;
        if (n > len) {
            n = len;
        }

        memcpy(c->buf + c->used, p, n);
        c->used += n;
        p += n;
        len -= n;

        if (c->used < 64) {
            return;
        }

        mt_sha256_block(c, c->buf);
        c->used = 0;
    }

    while (len >= 64) {
        mt_sha256_block(c, p);
        p += 64;
        len -= 64;
    }

    if (len) {
        memcpy(c->buf, p, len);
        c->used = len;
    }
}


void
mt_sha256_final(mt_sha256_t *c, unsigned char out[MT_SHA256_LEN])
{
    size_t    i;
    uint64_t  bits;

    bits = c->bytes * 8;

    c->buf[c->used++] = 0x80;

    if (c->used > 56) {
        memset(c->buf + c->used, 0, 64 - c->used);
        mt_sha256_block(c, c->buf);
        c->used = 0;
    }

    memset(c->buf + c->used, 0, 56 - c->used);

    for (i = 0; i < 8; i++) {
        c->buf[56 + i] = (unsigned char) (bits >> (56 - 8 * i));
    }

    mt_sha256_block(c, c->buf);

    for (i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char) (c->state[i] >> 24);
        out[4 * i + 1] = (unsigned char) (c->state[i] >> 16);
        out[4 * i + 2] = (unsigned char) (c->state[i] >> 8);
        out[4 * i + 3] = (unsigned char) c->state[i];
    }

    /* nothing of the key stays on the stack of the caller */
    memset(c, 0, sizeof(*c));
}


void
mt_sha256(const void *data, size_t len, unsigned char out[MT_SHA256_LEN])
{
    mt_sha256_t  c;

    mt_sha256_init(&c);
    mt_sha256_update(&c, data, len);
    mt_sha256_final(&c, out);
}


static int
mt_hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }

    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }

    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }

    return -1;
}


int
mt_sha256_from_hex(const char *hex, size_t len,
    unsigned char out[MT_SHA256_LEN])
{
    int     hi, lo;
    size_t  i;

    if (len != MT_SHA256_HEX_LEN) {
        return -1;
    }

    for (i = 0; i < MT_SHA256_LEN; i++) {
        hi = mt_hex_digit(hex[2 * i]);
        lo = mt_hex_digit(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        out[i] = (unsigned char) (hi << 4 | lo);
    }

    return 0;
}


int
mt_ct_equal(const void *a, const void *b, size_t n)
{
    size_t                         i;
    unsigned char                  d;
    const volatile unsigned char  *x = a, *y = b;

    d = 0;

    for (i = 0; i < n; i++) {
        d |= x[i] ^ y[i];
    }

    return d == 0;
}

/*
 * ObjectId: 4 bytes of seconds (big-endian), 5 random bytes chosen once
 * per process, 3 bytes of a counter that starts at a random value.
 */

#include "oid.h"


static const char  hex[] = "0123456789abcdef";


/* splitmix64: spreads a weak seed (pid ^ time) over all the bits */
static uint64_t
mt_oid_mix(uint64_t *state)
{
    uint64_t  z;

    *state += 0x9e3779b97f4a7c15ULL;
    z = *state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

    return z ^ (z >> 31);
}


void
mt_oid_gen_init(mt_oid_gen_t *gen, uint64_t seed)
{
    uint64_t  r;
    size_t    i;

    r = mt_oid_mix(&seed);

    for (i = 0; i < sizeof(gen->random); i++) {
        gen->random[i] = (unsigned char) (r >> (8 * i));
    }

    gen->counter = (uint32_t) (mt_oid_mix(&seed) & 0xffffff);
}


void
mt_oid_next(mt_oid_gen_t *gen, uint32_t now_sec, char out[MT_OID_LEN + 1])
{
    unsigned char  b[12];
    uint32_t       c;
    size_t         i;

    c = gen->counter;
    gen->counter = (c + 1) & 0xffffff;

    b[0] = (unsigned char) (now_sec >> 24);
    b[1] = (unsigned char) (now_sec >> 16);
    b[2] = (unsigned char) (now_sec >> 8);
    b[3] = (unsigned char) now_sec;

    for (i = 0; i < 5; i++) {
        b[4 + i] = gen->random[i];
    }

    b[9] = (unsigned char) (c >> 16);
    b[10] = (unsigned char) (c >> 8);
    b[11] = (unsigned char) c;

    for (i = 0; i < 12; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 0xf];
    }

    out[MT_OID_LEN] = '\0';
}


int
mt_oid_normalize(const char *s, size_t len, char out[MT_OID_LEN + 1])
{
    size_t  i;
    char    c;

    if (len != MT_OID_LEN) {
        return -1;
    }

    for (i = 0; i < MT_OID_LEN; i++) {
        c = s[i];

        if (c >= 'A' && c <= 'F') {
            c = (char) (c - 'A' + 'a');

        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return -1;
        }

        out[i] = c;
    }

    out[MT_OID_LEN] = '\0';

    return 0;
}


uint32_t
mt_oid_time(const char id[MT_OID_LEN])
{
    uint32_t  t;
    size_t    i;
    char      c;

    t = 0;

    for (i = 0; i < 8; i++) {
        c = id[i];
        t = (t << 4) | (uint32_t) (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }

    return t;
}

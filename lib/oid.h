/*
 * MongoDB ObjectIds as 24 lowercase hex characters: assignment ids are
 * ObjectIds in the service this replaces, and stay so in every backend.
 */

#ifndef MT_OID_H
#define MT_OID_H

#include <stddef.h>
#include <stdint.h>


#define MT_OID_LEN  24

typedef struct {
    unsigned char           random[5];  /* per process, as the spec says */
    uint32_t                counter;    /* 24 bits used */
} mt_oid_gen_t;

/* seed: anything that differs between processes (pid, time, random) */
void mt_oid_gen_init(mt_oid_gen_t *gen, uint64_t seed);
void mt_oid_next(mt_oid_gen_t *gen, uint32_t now_sec,
    char out[MT_OID_LEN + 1]);

/*
 * Ids are matched case-insensitively: writes the lowercase form and
 * returns 0 when s is 24 hex digits, -1 otherwise.
 */
int mt_oid_normalize(const char *s, size_t len, char out[MT_OID_LEN + 1]);

/* Seconds since the epoch kept in the id's first four bytes. */
uint32_t mt_oid_time(const char id[MT_OID_LEN]);

#endif /* MT_OID_H */

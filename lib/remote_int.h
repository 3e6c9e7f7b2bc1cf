/*
 * What the remote_*.c files share and nothing else needs: the bounded
 * parse of a reply, floats written compactly, UTF-8 cut to a byte
 * budget, base64.  Not part of the interface (remote.h).
 */

#ifndef MT_REMOTE_INT_H
#define MT_REMOTE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "json.h"


#if defined(__GNUC__)
#define MT_REMOTE_PRINTF(f, a)  __attribute__((format(printf, f, a)))
#else
#define MT_REMOTE_PRINTF(f, a)
#endif


/* a short reason into err; always returns -1, for "return mt_remote_fail" */
int mt_remote_fail(char *err, size_t errlen, const char *fmt, ...)
    MT_REMOTE_PRINTF(3, 4);

/*
 * Parses a reply whose root must be an object; NULL with a reason in err
 * ("not JSON (invalid JSON at byte 1)", "reply over 4194304 bytes").
 */
mt_json_doc_t *mt_remote_parse(const char *data, size_t len,
    const mt_json_limits_t *limits, char *err, size_t errlen);

/* a finite number's value: 0, or -1 for anything else */
int mt_remote_number(const mt_json_t *v, double *d);

/*
 * f as a decimal: in (-1, 1) 8 fractional digits at most, by integer
 * arithmetic (5e-9 off at most: fast, and exact enough for a cosine),
 * else the 9 significant digits that read back.  Not finite: null
 * (callers refuse those first).
 */
void mt_remote_jw_float(mt_jw_t *w, float f);

/*
 * How many bytes of s to keep so that what mt_jw_str() sends of them
 * (each ill-formed UTF-8 subpart becomes U+FFFD, 3 bytes) is at most max
 * bytes, cut between characters; *sent gets that size.
 */
size_t mt_remote_utf8_cut(const char *s, size_t len, size_t max,
    size_t *sent);

/*
 * Decodes standard base64 (padding optional, nothing else allowed) into
 * exactly want bytes at out; 0, or -1 when s is not base64 of that size.
 */
int mt_remote_base64_decode(const char *s, size_t len, unsigned char *out,
    size_t want);

/* 1 when s[0..len) is 1 to MT_PINECONE_ID_MAX printable ASCII bytes */
int mt_remote_id_ok(const char *s, size_t len);

/* a * b + c, or SIZE_MAX when that overflows: for limits */
size_t mt_remote_mul_add(size_t a, size_t b, size_t c);

/*
 * Hits (backend.h) from an array of objects with an "id" (1 to
 * MT_PINECONE_ID_MAX bytes) and, when scored, a numeric "score" (clamped
 * to [-1, 1]), in their order, ids copied into one block.  0, or -1 with
 * err and out zeroed.
 */
int mt_remote_hits(const mt_json_t *items, int scored, mt_vec_hits_t *out,
    char *err, size_t errlen);

#endif /* MT_REMOTE_INT_H */

/*
 * Small pure helpers the handlers need: time stamps, strict numbers from
 * query strings, media types, UTF-8.  No nginx types.
 */

#ifndef MT_UTIL_H
#define MT_UTIL_H

#include <stddef.h>
#include <stdint.h>


#define MT_ISO8601_LEN  24      /* "2026-11-25T16:07:04.123Z" */

/* Writes milliseconds since the epoch as JS toISOString() does, NUL too. */
size_t mt_iso8601(char out[MT_ISO8601_LEN + 1], int64_t ms);

/*
 * Reads what mt_iso8601() writes, and the same without milliseconds
 * ("2025-12-31T03:27:00Z"): real dates of years 0000-9999, no offsets.
 * 0 and *ms, or -1.
 */
int mt_iso8601_parse(const char *s, size_t len, int64_t *ms);

/*
 * Strict decimal integer: optional '-', digits only, no spaces, within
 * [min, max].  Returns 0 on success, -1 otherwise ("10abc", "", "1e3").
 */
int mt_parse_int(const char *s, size_t len, int64_t min, int64_t max,
    int64_t *out);

/*
 * The length of the well-formed UTF-8 sequence at p (at most n bytes), or
 * minus the length of its maximal ill-formed subpart (what one U+FFFD
 * replaces).  Never 0 for n > 0.
 */
int mt_utf8_seq(const unsigned char *p, size_t n);

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
int mt_utf8_valid(const char *s, size_t len);

/* the value of a hex digit, either case; -1 for any other byte */
int mt_hex_digit(unsigned char c);

/*
 * Checks a Content-Type header value against one wanted media type
 * ("application/json"): type and subtype case-insensitive, parameters
 * after ';' allowed, but a charset parameter must be utf-8 (quoted or
 * not, any case).  Returns 1 when acceptable.
 */
int mt_media_type_is(const char *value, size_t len, const char *want);

/* 64-bit FNV-1a from seed, and a finaliser that spreads its bits */
#define MT_HASH_SEED  0xcbf29ce484222325ULL
#define MT_FNV_PRIME  0x100000001b3ULL

uint64_t mt_hash64(const void *data, size_t len, uint64_t seed);
uint64_t mt_hash_mix(uint64_t h);

#endif /* MT_UTIL_H */

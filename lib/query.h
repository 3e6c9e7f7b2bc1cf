/*
 * Query-string values: form decoding ("+" is a space, "%XX" a byte) that
 * keeps every byte or refuses the value.  No nginx types: the module
 * finds the raw value, this decides what it means.
 */

#ifndef MT_QUERY_H
#define MT_QUERY_H

#include <stddef.h>


typedef enum {
    MT_QUERY_OK = 0,
    MT_QUERY_EESCAPE,                   /* "%" without two hex digits */
    MT_QUERY_ENUL,                      /* decodes to a NUL byte */
    MT_QUERY_EUTF8                      /* not UTF-8 once decoded */
} mt_query_err_t;


/*
 * Decodes len bytes of src into dst, which has room for len + 1 bytes
 * (a value never grows), and NUL-terminates it; *out_len is the decoded
 * length.  A value is refused as a whole rather than cut or patched:
 *
 *   - "%" must be followed by two hex digits (either case): "%G1", "%4"
 *     and a trailing "%" are MT_QUERY_EESCAPE, not kept as text;
 *   - a NUL byte ("%00") is MT_QUERY_ENUL: callers use the value as a C
 *     string, so a NUL would cut it ("US%00junk" compared as "US");
 *   - the decoded bytes must be UTF-8 (no overlongs such as "%C0%AF",
 *     no surrogates, nothing past U+10FFFF): MT_QUERY_EUTF8.
 *
 * On success dst holds no NUL before dst[*out_len].  On failure dst's
 * content is unspecified and *out_len is 0.
 */
mt_query_err_t mt_query_decode(const char *src, size_t len, char *dst,
    size_t *out_len);

/* "malformed percent escape", ...: for a message, never NULL */
const char *mt_query_strerror(mt_query_err_t err);

#endif /* MT_QUERY_H */

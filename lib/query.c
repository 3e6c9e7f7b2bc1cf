/*
 * Form decoding of query-string values.  nginx's ngx_unescape_uri() stops
 * at an encoded NUL and keeps a malformed escape as text; here either
 * every byte of the value counts or the value is refused.
 */

#include <stddef.h>

#include "query.h"
#include "util.h"


mt_query_err_t
mt_query_decode(const char *src, size_t len, char *dst, size_t *out_len)
{
    int                   hi, lo;
    size_t                i, n;
    unsigned char         c;
    const unsigned char  *s;

    s = (const unsigned char *) src;
    n = 0;
    *out_len = 0;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (c == '+') {
            c = ' ';

        } else if (c == '%') {
            if (len - i < 3) {
                return MT_QUERY_EESCAPE;
            }

            hi = mt_hex_digit(s[i + 1]);
            lo = mt_hex_digit(s[i + 2]);

            if (hi < 0 || lo < 0) {
                return MT_QUERY_EESCAPE;
            }

            c = (unsigned char) (hi << 4 | lo);
            i += 2;
        }

        /* nginx refuses a raw NUL in the request line; be sure anyway */
        if (c == '\0') {
            return MT_QUERY_ENUL;
        }

        dst[n++] = (char) c;
    }

    dst[n] = '\0';

    if (!mt_utf8_valid(dst, n)) {
        return MT_QUERY_EUTF8;
    }

    *out_len = n;

    return MT_QUERY_OK;
}


const char *
mt_query_strerror(mt_query_err_t err)
{
    switch (err) {

    case MT_QUERY_OK:
        return "ok";

    case MT_QUERY_EESCAPE:
        return "malformed percent escape";

    case MT_QUERY_ENUL:
        return "must not contain a NUL byte";

    case MT_QUERY_EUTF8:
        return "must be valid UTF-8";
    }

    return "invalid value";
}

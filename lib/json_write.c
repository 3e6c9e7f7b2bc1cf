/*
 * The JSON writer: appends to a growing heap buffer, places commas and
 * colons itself, escapes per RFC 8259 (and U+2028/U+2029 for JavaScript),
 * never emits invalid UTF-8; and the contract's error envelope.
 */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"


/* ----------------------------------------------------------------------
 * writer
 *
 * count[d] describes the container open at depth d + 1: bit 0 is set
 * once it holds an item (a comma goes before the next one), bit 1 marks
 * an object.  At depth 0 a second top-level value is misuse.
 */

#define MT_JW_INIT_CAP   1024
#define MT_JW_NOT_FIRST  0x01
#define MT_JW_OBJECT     0x02


static int
mt_jw_reserve(mt_jw_t *w, size_t n)
{
    char    *p;
    size_t   cap;

    if (w->failed) {
        return -1;
    }

    /* one spare byte for the NUL that mt_jw_take() adds */
    if (n < w->cap - w->len) {
        return 0;
    }

    cap = w->cap ? w->cap : MT_JW_INIT_CAP;

    while (cap - w->len <= n) {
        if (cap > SIZE_MAX / 2) {
            w->failed = 1;
            return -1;
        }

        cap *= 2;
    }

    p = realloc(w->data, cap);
    if (p == NULL) {
        w->failed = 1;
        return -1;
    }

    w->data = p;
    w->cap = cap;

    return 0;
}


static void
mt_jw_put(mt_jw_t *w, const void *s, size_t n)
{
    if (n == 0 || mt_jw_reserve(w, n) != 0) {
        return;
    }

    memcpy(w->data + w->len, s, n);
    w->len += n;
}


/* Places the comma and checks that a value may come here. */
static int
mt_jw_before_value(mt_jw_t *w)
{
    unsigned char  *c;

    if (w->failed) {
        return -1;
    }

    if (w->depth == 0) {
        if (w->len != 0) {
            w->failed = 1;
            return -1;
        }

        return 0;
    }

    c = &w->count[w->depth - 1];

    if (*c & MT_JW_OBJECT) {
        if (!w->after_key) {
            w->failed = 1;
            return -1;
        }

        w->after_key = 0;
        return 0;
    }

    if (*c & MT_JW_NOT_FIRST) {
        mt_jw_put(w, ",", 1);
    }

    *c |= MT_JW_NOT_FIRST;

    return w->failed ? -1 : 0;
}


static void
mt_jw_escaped(mt_jw_t *w, const char *s, size_t len)
{
    int                   k;
    char                  esc[8];
    const char           *q;
    size_t                i, run;
    unsigned char         c;
    const unsigned char  *p;

    /* RFC 8259 short escapes; other controls become \u00XX */
    static const char     hex[] = "0123456789abcdef";
    static const char     short_in[] = "\"\\\b\f\n\r\t";
    static const char     short_out[] = "\"\\bfnrt";

    p = (const unsigned char *) s;

    mt_jw_put(w, "\"", 1);

    for (i = 0; i < len && !w->failed; /* void */ ) {

        for (run = i; i < len; i++) {
            c = p[i];

            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                break;
            }
        }

        mt_jw_put(w, p + run, i - run);

        if (i == len) {
            break;
        }

        c = p[i];

        if (c < 0x80) {
            q = (c != 0) ? strchr(short_in, c) : NULL;

            if (q != NULL) {
                esc[0] = '\\';
                esc[1] = short_out[q - short_in];
                mt_jw_put(w, esc, 2);

            } else {
                esc[0] = '\\';
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 0x0f];
                mt_jw_put(w, esc, 6);
            }

            i++;
            continue;
        }

        k = mt_utf8_seq(p + i, len - i);

        if (k < 0) {
            mt_jw_put(w, "\xef\xbf\xbd", 3);
            i += (size_t) -k;
            continue;
        }

        /* U+2028 and U+2029 end a line in JavaScript before ES2019 */
        if (k == 3 && c == 0xe2 && p[i + 1] == 0x80
            && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
        {
            mt_jw_put(w, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);

        } else {
            mt_jw_put(w, p + i, (size_t) k);
        }

        i += (size_t) k;
    }

    mt_jw_put(w, "\"", 1);
}


void
mt_jw_init(mt_jw_t *w)
{
    memset(w, 0, sizeof(mt_jw_t));
}


void
mt_jw_free(mt_jw_t *w)
{
    free(w->data);
    mt_jw_init(w);
}


/*
 * An unfinished document (containers left open, a key without value,
 * nothing written) is not JSON and counts as a failure too.
 */
char *
mt_jw_take(mt_jw_t *w, size_t *len)
{
    char  *data;

    if (w->depth || w->after_key || w->len == 0) {
        w->failed = 1;
    }

    if (w->failed) {
        mt_jw_free(w);
        return NULL;
    }

    data = w->data;
    data[w->len] = '\0';

    if (len) {
        *len = w->len;
    }

    mt_jw_init(w);

    return data;
}


int
mt_jw_failed(const mt_jw_t *w)
{
    return w->failed;
}


static void
mt_jw_open(mt_jw_t *w, char ch, unsigned char flags)
{
    if (mt_jw_before_value(w) != 0) {
        return;
    }

    if (w->depth >= MT_JW_MAX_DEPTH) {
        w->failed = 1;
        return;
    }

    mt_jw_put(w, &ch, 1);
    w->count[w->depth++] = flags;
}


static void
mt_jw_close(mt_jw_t *w, char ch, unsigned char flags)
{
    if (w->failed) {
        return;
    }

    if (w->depth == 0 || w->after_key
        || (w->count[w->depth - 1] & MT_JW_OBJECT) != flags)
    {
        w->failed = 1;
        return;
    }

    mt_jw_put(w, &ch, 1);
    w->depth--;
}


void
mt_jw_obj_open(mt_jw_t *w)
{
    mt_jw_open(w, '{', MT_JW_OBJECT);
}


void
mt_jw_obj_close(mt_jw_t *w)
{
    mt_jw_close(w, '}', MT_JW_OBJECT);
}


void
mt_jw_arr_open(mt_jw_t *w)
{
    mt_jw_open(w, '[', 0);
}


void
mt_jw_arr_close(mt_jw_t *w)
{
    mt_jw_close(w, ']', 0);
}


void
mt_jw_key(mt_jw_t *w, const char *key)
{
    if (key == NULL) {
        w->failed = 1;
        return;
    }

    mt_jw_keyn(w, key, strlen(key));
}


void
mt_jw_keyn(mt_jw_t *w, const char *key, size_t len)
{
    unsigned char  *c;

    if (w->failed) {
        return;
    }

    if (key == NULL || w->depth == 0 || w->after_key
        || !(w->count[w->depth - 1] & MT_JW_OBJECT))
    {
        w->failed = 1;
        return;
    }

    c = &w->count[w->depth - 1];

    if (*c & MT_JW_NOT_FIRST) {
        mt_jw_put(w, ",", 1);
    }

    *c |= MT_JW_NOT_FIRST;

    mt_jw_escaped(w, key, len);
    mt_jw_put(w, ":", 1);
    w->after_key = 1;
}


void
mt_jw_str(mt_jw_t *w, const char *s, size_t len)
{
    if (s == NULL) {
        mt_jw_null(w);
        return;
    }

    if (mt_jw_before_value(w) == 0) {
        mt_jw_escaped(w, s, len);
    }
}


void
mt_jw_cstr(mt_jw_t *w, const char *s)
{
    mt_jw_str(w, s, s ? strlen(s) : 0);
}


void
mt_jw_int(mt_jw_t *w, int64_t v)
{
    int   n;
    char  buf[32];

    if (mt_jw_before_value(w) != 0) {
        return;
    }

    n = snprintf(buf, sizeof(buf), "%" PRId64, v);
    mt_jw_put(w, buf, (size_t) n);
}


void
mt_jw_double(mt_jw_t *w, double v)
{
    int   n, prec;
    char  buf[40];

    if (!isfinite(v)) {
        mt_jw_null(w);
        return;
    }

    if (mt_jw_before_value(w) != 0) {
        return;
    }

    /*
     * The shortest %g that reads back to the same double.  %g gives
     * "1e+20" and "1e-07", both valid JSON; it never prints "inf" or
     * "nan" for finite values, and no leading or trailing '.'.
     */
    n = 0;

    for (prec = 1; prec <= 17; prec++) {
        n = snprintf(buf, sizeof(buf), "%.*g", prec, v);

        if (strtod(buf, NULL) == v) {
            break;
        }
    }

    mt_jw_put(w, buf, (size_t) n);
}


void
mt_jw_bool(mt_jw_t *w, int v)
{
    if (mt_jw_before_value(w) == 0) {
        mt_jw_put(w, v ? "true" : "false", v ? 4 : 5);
    }
}


void
mt_jw_null(mt_jw_t *w)
{
    if (mt_jw_before_value(w) == 0) {
        mt_jw_put(w, "null", 4);
    }
}


/*
 * A value that is JSON already, such as a stored document: written as
 * is, so the caller vouches for it (the store only holds what this writer
 * wrote).
 */
void
mt_jw_raw(mt_jw_t *w, const char *json, size_t len)
{
    if (len == 0) {
        mt_jw_null(w);
        return;
    }

    if (mt_jw_before_value(w) == 0) {
        mt_jw_put(w, json, len);
    }
}


/*
 * Recursion is bounded: past MT_JW_MAX_DEPTH the open fails, the writer
 * is marked failed and the loops below stop.
 */
void
mt_jw_value(mt_jw_t *w, const mt_json_t *v)
{
    size_t  i;

    if (w->failed) {
        return;
    }

    if (v == NULL) {
        mt_jw_null(w);
        return;
    }

    switch (v->type) {

    case MT_JSON_NULL:
        mt_jw_null(w);
        break;

    case MT_JSON_BOOL:
        mt_jw_bool(w, v->u.boolean);
        break;

    case MT_JSON_NUMBER:
        if (v->u.number.raw == NULL) {
            mt_jw_double(w, v->u.number.d);

        } else if (mt_jw_before_value(w) == 0) {
            mt_jw_put(w, v->u.number.raw, v->u.number.raw_len);
        }

        break;

    case MT_JSON_STRING:
        mt_jw_str(w, v->u.string.s, v->u.string.len);
        break;

    case MT_JSON_ARRAY:
        mt_jw_arr_open(w);

        for (i = 0; i < v->u.array.n && !w->failed; i++) {
            mt_jw_value(w, v->u.array.items[i]);
        }

        mt_jw_arr_close(w);
        break;

    case MT_JSON_OBJECT:
        mt_jw_obj_open(w);

        for (i = 0; i < v->u.object.n && !w->failed; i++) {
            mt_jw_keyn(w, v->u.object.pairs[i].key,
                       v->u.object.pairs[i].key_len);
            mt_jw_value(w, v->u.object.pairs[i].value);
        }

        mt_jw_obj_close(w);
        break;

    default:
        w->failed = 1;
        break;
    }
}


void
mt_json_error_envelope(mt_jw_t *w, const char *message, const char *code,
    const mt_json_detail_t *details, size_t n, int64_t now_ms)
{
    char  ts[MT_ISO8601_LEN + 1];

    mt_jw_obj_open(w);

    mt_jw_key(w, "success");
    mt_jw_bool(w, 0);

    mt_jw_key(w, "error");
    mt_jw_cstr(w, message);

    mt_jw_key(w, "code");
    mt_jw_cstr(w, code);

    if (n > 0 && details != NULL) {
        size_t  i;

        mt_jw_key(w, "details");
        mt_jw_arr_open(w);

        for (i = 0; i < n; i++) {
            const mt_json_detail_t  *d;

            d = &details[i];

            mt_jw_obj_open(w);

            if (d->field) {
                mt_jw_key(w, "field");
                mt_jw_cstr(w, d->field);
            }

            mt_jw_key(w, "message");
            mt_jw_cstr(w, d->message);

            if (d->value) {
                mt_jw_key(w, "value");
                mt_jw_value(w, d->value);

            } else if (d->value_str) {
                mt_jw_key(w, "value");
                mt_jw_cstr(w, d->value_str);
            }

            mt_jw_obj_close(w);
        }

        mt_jw_arr_close(w);
    }

    mt_iso8601(ts, now_ms);

    mt_jw_key(w, "timestamp");
    mt_jw_str(w, ts, MT_ISO8601_LEN);

    mt_jw_obj_close(w);
}

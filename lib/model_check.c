/*
 * The validation error list and the field checks that lib/model.c
 * (assignments) and lib/creator.c (creators) are built from.
 *
 * Every check records its failure and returns, so a validator runs to the
 * end and one 400 reply lists every failing field.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model_check.h"


/* A hostile body could fail a check per array item: keep the first few. */
#define MT_ERRS_MAX        256


static int mt_is_js_space(uint32_t c);
static uint32_t mt_utf8_decode(const unsigned char *p, size_t n,
    size_t *k);


/* ----------------------------------------------------------------------
 * errors
 */

void
mt_errs_init(mt_errs_t *e)
{
    memset(e, 0, sizeof(mt_errs_t));
}


void
mt_errs_free(mt_errs_t *e)
{
    free(e->items);
    memset(e, 0, sizeof(mt_errs_t));
}


void
mt_errs_add(mt_errs_t *e, const mt_json_t *value, const char *message,
    const char *field, ...)
{
    size_t    cap;
    va_list   args;
    mt_err_t *items, *err;

    if (e->n >= MT_ERRS_MAX) {
        return;
    }

    if (e->n == e->cap) {
        cap = e->cap ? e->cap * 2 : 8;

        items = realloc(e->items, cap * sizeof(mt_err_t));
        if (items == NULL) {
            e->oom = 1;
            return;
        }

        e->items = items;
        e->cap = cap;
    }

    err = &e->items[e->n++];

    /*
     * clang-tidy 14 sees va_start only in the first file of a run, and
     * then calls every va_list uninitialized
     */
    va_start(args, field);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void) vsnprintf(err->field, sizeof(err->field), field, args);
    va_end(args);

    (void) snprintf(err->message, sizeof(err->message), "%s",
                    message ? message : "");
    err->value = value;
}


size_t
mt_errs_summary(const mt_errs_t *e, char *buf, size_t size)
{
    int     n;
    size_t  i, len;

    if (size == 0) {
        return 0;
    }

    buf[0] = '\0';
    len = 0;

    for (i = 0; i < e->n && len < size - 1; i++) {
        const mt_err_t  *err = &e->items[i];

        n = snprintf(buf + len, size - len, "%s%s%s%s",
                     i ? "; " : "", err->field,
                     err->field[0] ? ": " : "", err->message);
        if (n < 0) {
            break;
        }

        /* truncated: snprintf kept what fits and the NUL */
        len = ((size_t) n < size - len) ? len + (size_t) n : size - 1;
    }

    return len;
}


/* ----------------------------------------------------------------------
 * field checks
 */

size_t
mt_model_chars(const char *s, size_t len)
{
    size_t  i, n;

    /* one lead byte per code point: continuation bytes are 10xxxxxx */
    n = 0;

    for (i = 0; i < len; i++) {
        if (((unsigned char) s[i] & 0xc0) != 0x80) {
            n++;
        }
    }

    return n;
}


void
mt_model_trim(const char **s, size_t *len)
{
    size_t                k, i;
    const unsigned char  *p;

    p = (const unsigned char *) *s;

    while (*len > 0 && mt_is_js_space(mt_utf8_decode(p, *len, &k))) {
        p += k;
        *len -= k;
    }

    while (*len > 0) {
        /* back to the lead byte of the last code point */
        i = *len - 1;

        while (i > 0 && *len - i < 4 && (p[i] & 0xc0) == 0x80) {
            i--;
        }

        if (!mt_is_js_space(mt_utf8_decode(p + i, *len - i, &k))) {
            break;
        }

        *len = i;
    }

    *s = (const char *) p;
}


/* What String.prototype.trim() strips: WhiteSpace and LineTerminator. */
static int
mt_is_js_space(uint32_t c)
{
    switch (c) {
    case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x20:
    case 0xa0: case 0x1680: case 0x2028: case 0x2029: case 0x202f:
    case 0x205f: case 0x3000: case 0xfeff:
        return 1;
    }

    return c >= 0x2000 && c <= 0x200a;
}


/* The code point at p, its length in *k; strings here are valid UTF-8. */
static uint32_t
mt_utf8_decode(const unsigned char *p, size_t n, size_t *k)
{
    size_t    need, i;
    uint32_t  c;

    c = p[0];

    if (c < 0x80) {
        *k = 1;
        return c;
    }

    if (c >= 0xf0) {
        need = 3;
        c &= 0x07;

    } else if (c >= 0xe0) {
        need = 2;
        c &= 0x0f;

    } else {
        need = 1;
        c &= 0x1f;
    }

    if (need >= n) {
        *k = 1;
        return 0xfffd;
    }

    for (i = 1; i <= need; i++) {
        c = (c << 6) | (p[i] & 0x3f);
    }

    *k = need + 1;
    return c;
}


void
mt_model_key_path(char *buf, const char *prefix, const char *key)
{
    if (prefix[0] == '\0') {
        (void) snprintf(buf, MT_PATH_MAX, "%s", key);

    } else {
        (void) snprintf(buf, MT_PATH_MAX, "%s.%s", prefix, key);
    }
}


void
mt_model_index_path(char *buf, const char *prefix, size_t i)
{
    (void) snprintf(buf, MT_PATH_MAX, "%s[%zu]", prefix, i);
}


int
mt_model_name_ok(const char *key, size_t len)
{
    return len > 0 && key[0] != '$' && memchr(key, '.', len) == NULL
           && memchr(key, '\0', len) == NULL;
}


int
mt_model_names(mt_vctx_t *ctx, const mt_json_t *v, const char *path)
{
    char                   sub[MT_PATH_MAX];
    size_t                 i;
    const mt_json_pair_t  *p;

    if (v->type == MT_JSON_ARRAY) {
        for (i = 0; i < v->u.array.n; i++) {
            mt_model_index_path(sub, path, i);

            if (mt_model_names(ctx, v->u.array.items[i], sub) != 0) {
                return -1;
            }
        }

        return 0;
    }

    if (v->type != MT_JSON_OBJECT) {
        return 0;
    }

    for (i = 0; i < v->u.object.n; i++) {
        p = &v->u.object.pairs[i];

        if (!mt_model_name_ok(p->key, p->key_len)) {
            mt_model_fail(ctx, NULL, path[0] ? path : "(root)",
                          "field names may not be empty, start with '$' "
                          "or contain '.'");
            return -1;
        }

        mt_model_key_path(sub, path, p->key);

        if (mt_model_names(ctx, p->value, sub) != 0) {
            return -1;
        }
    }

    return 0;
}


void
mt_model_fail(mt_vctx_t *ctx, const mt_json_t *value, const char *path,
    const char *message)
{
    ctx->bad = 1;
    mt_errs_add(ctx->errs, value, message, "%s", path);
}


/* absent or null: 0 after the required check, else 1 */
static int
mt_model_present(mt_vctx_t *ctx, const mt_json_t *v, const char *path,
    unsigned flags)
{
    if (v != NULL && v->type != MT_JSON_NULL) {
        return 1;
    }

    if (flags & MT_F_REQUIRED) {
        mt_model_fail(ctx, NULL, path, "is required");
        return -1;
    }

    return 0;
}


int
mt_model_string(mt_vctx_t *ctx, const mt_json_t *v, const char *path,
    size_t min_chars, size_t max_chars, unsigned flags, mt_str_t *out)
{
    int          rc;
    char         msg[64];
    size_t       len, n;
    const char  *s;

    rc = mt_model_present(ctx, v, path, flags);
    if (rc != 1) {
        return rc;
    }

    if (v->type != MT_JSON_STRING) {
        mt_model_fail(ctx, v, path, "must be a string");
        return -1;
    }

    s = v->u.string.s;
    len = v->u.string.len;

    if (flags & MT_F_TRIM) {
        mt_model_trim(&s, &len);
    }

    if (flags & MT_F_NONEMPTY) {
        const char  *t = s;
        size_t       tlen = len;

        mt_model_trim(&t, &tlen);

        if (tlen == 0) {
            mt_model_fail(ctx, v, path, "must not be empty");
            return -1;
        }
    }

    n = mt_model_chars(s, len);

    if (n < min_chars || (max_chars && n > max_chars)) {
        if (min_chars > 1) {
            (void) snprintf(msg, sizeof(msg), "must be %zu to %zu characters",
                            min_chars, max_chars);

        } else if (n < min_chars) {
            (void) snprintf(msg, sizeof(msg), "must not be empty");

        } else {
            (void) snprintf(msg, sizeof(msg),
                            "must be at most %zu characters", max_chars);
        }

        mt_model_fail(ctx, v, path, msg);
        return -1;
    }

    if (out != NULL) {
        out->s = s;
        out->len = len;
    }

    return 1;
}


int
mt_model_str_array(mt_vctx_t *ctx, const mt_json_t *v, const char *path,
    size_t min_items, size_t max_items, size_t item_max,
    unsigned item_flags, unsigned flags)
{
    int     rc, ok;
    char    msg[64], ipath[MT_PATH_MAX];
    size_t  i;

    rc = mt_model_present(ctx, v, path, flags);
    if (rc != 1) {
        return rc;
    }

    if (v->type != MT_JSON_ARRAY) {
        mt_model_fail(ctx, v, path, "must be an array");
        return -1;
    }

    if (v->u.array.n < min_items) {
        (void) snprintf(msg, sizeof(msg), "must have at least %zu item%s",
                        min_items, min_items == 1 ? "" : "s");
        mt_model_fail(ctx, v, path, msg);
        return -1;
    }

    if (max_items && v->u.array.n > max_items) {
        (void) snprintf(msg, sizeof(msg), "must have at most %zu items",
                        max_items);
        mt_model_fail(ctx, v, path, msg);
        return -1;
    }

    ok = 1;

    for (i = 0; i < v->u.array.n; i++) {
        mt_model_index_path(ipath, path, i);

        /* an array item is there even when it is null */
        if (v->u.array.items[i]->type == MT_JSON_NULL) {
            mt_model_fail(ctx, v->u.array.items[i], ipath,
                          "must be a string");
            ok = -1;
            continue;
        }

        if (mt_model_string(ctx, v->u.array.items[i], ipath, 0, item_max,
                            item_flags, NULL) != 1)
        {
            ok = -1;
        }
    }

    return ok;
}


int
mt_model_object(mt_vctx_t *ctx, const mt_json_t *v, const char *path,
    unsigned flags)
{
    int  rc;

    rc = mt_model_present(ctx, v, path, flags);
    if (rc != 1) {
        return rc;
    }

    if (v->type != MT_JSON_OBJECT) {
        mt_model_fail(ctx, v, path, "must be an object");
        return -1;
    }

    return 1;
}


int
mt_model_count(mt_vctx_t *ctx, const mt_json_t *v, const char *path,
    unsigned flags, int64_t *out)
{
    int  rc;

    rc = mt_model_present(ctx, v, path, flags);
    if (rc != 1) {
        return rc;
    }

    if (v->type != MT_JSON_NUMBER || !v->u.number.is_int
        || v->u.number.i < 0)
    {
        mt_model_fail(ctx, v, path, "must be a non-negative integer");
        return -1;
    }

    if (out != NULL) {
        *out = v->u.number.i;
    }

    return 1;
}


int
mt_model_unit(mt_vctx_t *ctx, const mt_json_t *v, const char *path,
    unsigned flags)
{
    int  rc;

    rc = mt_model_present(ctx, v, path, flags);
    if (rc != 1) {
        return rc;
    }

    if (v->type != MT_JSON_NUMBER) {
        mt_model_fail(ctx, v, path, "must be a number");
        return -1;
    }

    if (!(v->u.number.d >= 0.0 && v->u.number.d <= 1.0)) {
        mt_model_fail(ctx, v, path, "must be between 0 and 1");
        return -1;
    }

    return 1;
}

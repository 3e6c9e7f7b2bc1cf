/*
 * JSON parser on yajl's callback API and a small escaping writer.
 *
 * The parser builds the whole tree in one arena owned by the document, so
 * freeing is a walk over a few blocks, never over the tree.  Children of
 * an open array or object wait on a temporary heap stack and are copied
 * into the arena when the container closes: nothing realloc'ed ends up in
 * the tree.
 */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "json.h"
#include "util.h"


/* ----------------------------------------------------------------------
 * arena
 */

#define MT_ARENA_ALIGN     _Alignof(max_align_t)
#define MT_ARENA_MIN       2048
#define MT_ARENA_MAX       65536

#define mt_align(n, a)     (((n) + ((a) - 1)) & ~((size_t) (a) - 1))


typedef struct mt_arena_blk_s  mt_arena_blk_t;

struct mt_arena_blk_s {
    mt_arena_blk_t         *next;
    size_t                  size;       /* usable bytes after the header */
    size_t                  used;
};

#define MT_ARENA_HDR  mt_align(sizeof(mt_arena_blk_t), MT_ARENA_ALIGN)


struct mt_json_doc_s {
    mt_arena_blk_t         *blocks;     /* the head one is current */
    size_t                  next_size;
    mt_json_t              *root;
};


static mt_json_doc_t *mt_json_parse_text(const char *data, size_t len,
    const mt_json_limits_t *limits, int check, mt_json_err_t *err,
    char *errbuf, size_t errlen);


static void *
mt_arena_alloc(mt_json_doc_t *doc, size_t size, int aligned)
{
    int              own;
    size_t           bsize;
    mt_arena_blk_t  *b;

    b = doc->blocks;

    if (b != NULL) {
        size_t  off;

        off = aligned ? mt_align(b->used, MT_ARENA_ALIGN) : b->used;

        if (off <= b->size && size <= b->size - off) {
            b->used = off + size;
            return (char *) b + MT_ARENA_HDR + off;
        }
    }

    if (size > SIZE_MAX - MT_ARENA_HDR) {
        return NULL;
    }

    /*
     * A large request gets a block of its own, linked behind the current
     * one, so the free tail of the current block stays usable.
     */
    own = (size > doc->next_size / 4);
    bsize = own ? size : doc->next_size;

    b = malloc(MT_ARENA_HDR + bsize);
    if (b == NULL) {
        return NULL;
    }

    b->size = bsize;
    b->used = size;

    if (own && doc->blocks != NULL) {
        b->next = doc->blocks->next;
        doc->blocks->next = b;

    } else {
        b->next = doc->blocks;
        doc->blocks = b;

        if (doc->next_size < MT_ARENA_MAX) {
            doc->next_size *= 2;
        }
    }

    return (char *) b + MT_ARENA_HDR;
}


static char *
mt_arena_strdup(mt_json_doc_t *doc, const void *s, size_t len)
{
    char  *p;

    p = mt_arena_alloc(doc, len + 1, 0);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


/* ----------------------------------------------------------------------
 * UTF-8
 */



static int
mt_hex4(const unsigned char *p, unsigned *out)
{
    int       i;
    unsigned  v;

    v = 0;

    for (i = 0; i < 4; i++) {
        int  c;

        c = mt_hex_digit(p[i]);
        if (c < 0) {
            return -1;
        }

        v = v << 4 | (unsigned) c;
    }

    *out = v;

    return 0;
}


static int
mt_json_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/* a byte that ends a number or a literal (true, false, null) */
static int
mt_json_is_delim(unsigned char c)
{
    return mt_json_is_ws(c) || c == '\f' || c == '\v' || c == '"'
           || c == '[' || c == ']' || c == '{' || c == '}' || c == ','
           || c == ':';
}


/*
 * What yajl lets through, checked before it runs.  It checks only the
 * shape of multibyte sequences (overlongs, encoded surrogates and code
 * points past U+10FFFF pass), decodes a lone "\udc00" into an encoded
 * surrogate, "\ud800" into '?' and "\ud800\u0041" into U+10041, and
 * takes '\f' and '\v' for whitespace.  Everything else outside strings
 * is left to yajl: there only ASCII is valid, so bad bytes are a syntax
 * error.  *pos is set for a syntax error, as yajl counts it.
 *
 * *end is set to where the first value ends, found by the brackets and
 * quotes alone: exact for any text that yajl takes.  yajl refuses most
 * trailing bytes by itself, but an unterminated string after the value
 * ("{} \"abc") only looks unfinished to its lexer, and yajl_complete_parse
 * accepts it; the caller checks that only whitespace follows *end.
 */
mt_json_err_t
mt_json_check_text(const unsigned char *p, size_t len, size_t *pos,
    size_t *end)
{
    int       k;
    size_t    i, depth;
    unsigned  cp, lo;

    i = 0;
    depth = 0;
    *end = len;

    while (i < len) {

        if (p[i] == '\f' || p[i] == '\v') {
            *pos = i + 1;
            return MT_JSON_ESYNTAX;
        }

        if (p[i] == '[' || p[i] == '{') {
            depth++;

        } else if (p[i] == ']' || p[i] == '}') {
            if (depth && --depth == 0 && *end == len) {
                *end = i + 1;
            }

        } else if (depth == 0 && *end == len && p[i] != '"'
                   && !mt_json_is_ws(p[i]))
        {
            /* a number or a literal at the top: it ends at a delimiter */

            while (i < len && !mt_json_is_delim(p[i])) {
                i++;
            }

            *end = i;
            continue;
        }

        if (p[i++] != '"') {
            continue;
        }

        /* inside a string until the closing quote */

        while (i < len && p[i] != '"') {

            if (p[i] >= 0x80) {
                k = mt_utf8_seq(p + i, len - i);
                if (k < 0) {
                    return MT_JSON_EUTF8;
                }

                i += (size_t) k;
                continue;
            }

            if (p[i] != '\\') {
                i++;
                continue;
            }

            if (len - i < 6 || p[i + 1] != 'u' || mt_hex4(p + i + 2, &cp)) {
                /* a short escape, or a malformed one yajl reports */
                i += 2;
                continue;
            }

            i += 6;

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                return MT_JSON_EUTF8;
            }

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (len - i < 6 || p[i] != '\\' || p[i + 1] != 'u'
                    || mt_hex4(p + i + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                {
                    return MT_JSON_EUTF8;
                }

                i += 6;
            }
        }

        if (i < len && depth == 0 && *end == len) {
            *end = i + 1;
        }

        i++;
    }

    return MT_JSON_OK;
}


/* ----------------------------------------------------------------------
 * parser
 */

typedef struct {
    mt_json_type_t          type;
    size_t                  start;      /* its first child in ctx->kids */
    const char             *key;        /* pending key in an object */
    size_t                  key_len;
} mt_json_frame_t;


typedef struct {
    mt_json_doc_t          *doc;
    mt_json_limits_t        limits;
    mt_json_err_t           err;

    mt_json_frame_t        *frames;
    size_t                  nframes;
    size_t                  cframes;

    mt_json_pair_t         *kids;       /* key is NULL for array items */
    size_t                  nkids;
    size_t                  ckids;

    mt_json_pair_t        **order;      /* scratch for mt_json_dups() */
    size_t                  corder;

    size_t                  nvalues;
} mt_json_ctx_t;


/* Makes room for one more element of size esize in *base. */
static int
mt_json_grow(void **base, size_t *cap, size_t n, size_t esize)
{
    void    *p;
    size_t   ncap;

    if (n < *cap) {
        return 0;
    }

    ncap = *cap ? *cap * 2 : 16;

    if (ncap < *cap || ncap > SIZE_MAX / esize) {
        return -1;
    }

    p = realloc(*base, ncap * esize);
    if (p == NULL) {
        return -1;
    }

    *base = p;
    *cap = ncap;

    return 0;
}


static mt_json_t *
mt_json_node(mt_json_ctx_t *ctx, mt_json_type_t type)
{
    mt_json_t  *v;

    if (ctx->limits.max_values && ++ctx->nvalues > ctx->limits.max_values) {
        ctx->err = MT_JSON_EVALUES;
        return NULL;
    }

    v = mt_arena_alloc(ctx->doc, sizeof(mt_json_t), 1);
    if (v == NULL) {
        ctx->err = MT_JSON_ENOMEM;
        return NULL;
    }

    memset(v, 0, sizeof(mt_json_t));
    v->type = type;

    return v;
}


/* Hands a finished value to its parent, or makes it the root. */
static int
mt_json_add(mt_json_ctx_t *ctx, mt_json_t *v)
{
    mt_json_pair_t   *kid;
    mt_json_frame_t  *f;

    if (v == NULL) {
        return 0;
    }

    if (ctx->nframes == 0) {
        ctx->doc->root = v;
        return 1;
    }

    if (mt_json_grow((void **) &ctx->kids, &ctx->ckids, ctx->nkids,
                     sizeof(mt_json_pair_t)) != 0)
    {
        ctx->err = MT_JSON_ENOMEM;
        return 0;
    }

    f = &ctx->frames[ctx->nframes - 1];

    if (ctx->limits.max_members
        && ctx->nkids - f->start >= ctx->limits.max_members)
    {
        ctx->err = MT_JSON_EMEMBERS;
        return 0;
    }

    kid = &ctx->kids[ctx->nkids++];
    kid->key = f->key;
    kid->key_len = f->key_len;
    kid->value = v;
    kid->shadowed = 0;

    f->key = NULL;
    f->key_len = 0;

    return 1;
}


static int
mt_json_on_null(void *data)
{
    mt_json_ctx_t  *ctx = data;

    return mt_json_add(ctx, mt_json_node(ctx, MT_JSON_NULL));
}


static int
mt_json_on_bool(void *data, int b)
{
    mt_json_t      *v;
    mt_json_ctx_t  *ctx = data;

    v = mt_json_node(ctx, MT_JSON_BOOL);
    if (v == NULL) {
        return 0;
    }

    v->u.boolean = b ? 1 : 0;

    return mt_json_add(ctx, v);
}


static int
mt_json_on_number(void *data, const char *s, size_t len)
{
    char           *raw;
    mt_json_t      *v;
    mt_json_ctx_t  *ctx = data;

    v = mt_json_node(ctx, MT_JSON_NUMBER);
    if (v == NULL) {
        return 0;
    }

    /* NUL-terminated copy: strtod needs one, and the tree keeps it */
    raw = mt_arena_strdup(ctx->doc, s, len);
    if (raw == NULL) {
        ctx->err = MT_JSON_ENOMEM;
        return 0;
    }

    v->u.number.raw = raw;
    v->u.number.raw_len = len;
    v->u.number.d = strtod(raw, NULL);

    /* accepts only '-' and digits, so "1.0" and "1e3" stay non-integer */
    v->u.number.is_int = (mt_parse_int(raw, len, INT64_MIN, INT64_MAX,
                                       &v->u.number.i) == 0);

    return mt_json_add(ctx, v);
}


static const char *
mt_json_copy_string(mt_json_ctx_t *ctx, const unsigned char *s, size_t len)
{
    const char  *p;

    if (ctx->limits.max_string && len > ctx->limits.max_string) {
        ctx->err = MT_JSON_ESTRING;
        return NULL;
    }

    p = mt_arena_strdup(ctx->doc, s, len);
    if (p == NULL) {
        ctx->err = MT_JSON_ENOMEM;
    }

    return p;
}


static int
mt_json_on_string(void *data, const unsigned char *s, size_t len)
{
    const char     *p;
    mt_json_t      *v;
    mt_json_ctx_t  *ctx = data;

    p = mt_json_copy_string(ctx, s, len);
    if (p == NULL) {
        return 0;
    }

    v = mt_json_node(ctx, MT_JSON_STRING);
    if (v == NULL) {
        return 0;
    }

    v->u.string.s = p;
    v->u.string.len = len;

    return mt_json_add(ctx, v);
}


static int
mt_json_on_key(void *data, const unsigned char *s, size_t len)
{
    const char     *p;
    mt_json_ctx_t  *ctx = data;

    p = mt_json_copy_string(ctx, s, len);
    if (p == NULL) {
        return 0;
    }

    ctx->frames[ctx->nframes - 1].key = p;
    ctx->frames[ctx->nframes - 1].key_len = len;

    return 1;
}


static int
mt_json_open(mt_json_ctx_t *ctx, mt_json_type_t type)
{
    mt_json_frame_t  *f;

    if (ctx->limits.max_depth && ctx->nframes >= ctx->limits.max_depth) {
        ctx->err = MT_JSON_EDEPTH;
        return 0;
    }

    if (mt_json_grow((void **) &ctx->frames, &ctx->cframes, ctx->nframes,
                     sizeof(mt_json_frame_t)) != 0)
    {
        ctx->err = MT_JSON_ENOMEM;
        return 0;
    }

    f = &ctx->frames[ctx->nframes++];
    f->type = type;
    f->start = ctx->nkids;
    f->key = NULL;
    f->key_len = 0;

    return 1;
}


/* qsort order: by key (length first), then by position in the object */
static int
mt_json_pair_cmp(const void *a, const void *b)
{
    int                    rc;
    const mt_json_pair_t  *p, *q;

    p = *(mt_json_pair_t *const *) a;
    q = *(mt_json_pair_t *const *) b;

    if (p->key_len != q->key_len) {
        return p->key_len < q->key_len ? -1 : 1;
    }

    rc = memcmp(p->key, q->key, p->key_len);
    if (rc != 0) {
        return rc;
    }

    /* the pairs are one array: address order is document order */
    return (p > q) - (p < q);
}


/*
 * Marks every member that a later one with the same key overrides, once
 * per object, so that mt_json_shadowed() is O(1): asked for each member,
 * a scan would make a loop over an object quadratic in its keys.  A sort
 * rather than a hash table, so that no set of keys (chosen to collide)
 * costs more than O(n log n) compares.
 */
static int
mt_json_dups(mt_json_ctx_t *ctx, mt_json_pair_t *pairs, size_t n)
{
    size_t  i, j;

    if (n <= 16) {
        /* at most 120 compares, and no scratch memory */

        for (i = 0; i < n; i++) {
            for (j = i + 1; j < n; j++) {
                if (pairs[j].key_len == pairs[i].key_len
                    && memcmp(pairs[j].key, pairs[i].key, pairs[i].key_len)
                       == 0)
                {
                    pairs[i].shadowed = 1;
                    break;
                }
            }
        }

        return 0;
    }

    if (n > ctx->corder) {
        void  *p;

        if (n > SIZE_MAX / sizeof(mt_json_pair_t *)) {
            return -1;
        }

        p = realloc(ctx->order, n * sizeof(mt_json_pair_t *));
        if (p == NULL) {
            return -1;
        }

        ctx->order = p;
        ctx->corder = n;
    }

    for (i = 0; i < n; i++) {
        ctx->order[i] = &pairs[i];
    }

    qsort(ctx->order, n, sizeof(mt_json_pair_t *), mt_json_pair_cmp);

    /* in a run of equal keys all but the last (in the document) lose */

    for (i = 0; i + 1 < n; i++) {
        const mt_json_pair_t  *p, *q;

        p = ctx->order[i];
        q = ctx->order[i + 1];

        if (p->key_len == q->key_len
            && memcmp(p->key, q->key, p->key_len) == 0)
        {
            ctx->order[i]->shadowed = 1;
        }
    }

    return 0;
}


static int
mt_json_close(mt_json_ctx_t *ctx)
{
    size_t            n;
    mt_json_t        *v;
    mt_json_pair_t   *kids;
    mt_json_frame_t  *f;

    f = &ctx->frames[ctx->nframes - 1];
    n = ctx->nkids - f->start;

    /* kids is still NULL when "[]" or "{}" comes before any member */
    kids = n ? ctx->kids + f->start : NULL;

    v = mt_json_node(ctx, f->type);
    if (v == NULL) {
        return 0;
    }

    if (n && f->type == MT_JSON_ARRAY) {
        size_t  i;

        v->u.array.items = mt_arena_alloc(ctx->doc, n * sizeof(mt_json_t *),
                                          1);
        if (v->u.array.items == NULL) {
            ctx->err = MT_JSON_ENOMEM;
            return 0;
        }

        for (i = 0; i < n; i++) {
            v->u.array.items[i] = kids[i].value;
        }

        v->u.array.n = n;

    } else if (n) {
        v->u.object.pairs = mt_arena_alloc(ctx->doc,
                                           n * sizeof(mt_json_pair_t), 1);
        if (v->u.object.pairs == NULL) {
            ctx->err = MT_JSON_ENOMEM;
            return 0;
        }

        memcpy(v->u.object.pairs, kids, n * sizeof(mt_json_pair_t));
        v->u.object.n = n;

        if (mt_json_dups(ctx, v->u.object.pairs, n) != 0) {
            ctx->err = MT_JSON_ENOMEM;
            return 0;
        }
    }

    ctx->nkids = f->start;
    ctx->nframes--;

    return mt_json_add(ctx, v);
}


static int
mt_json_on_start_map(void *data)
{
    return mt_json_open(data, MT_JSON_OBJECT);
}


static int
mt_json_on_start_array(void *data)
{
    return mt_json_open(data, MT_JSON_ARRAY);
}


static int
mt_json_on_end(void *data)
{
    return mt_json_close(data);
}


static const yajl_callbacks  mt_json_callbacks = {
    mt_json_on_null,
    mt_json_on_bool,
    NULL,                               /* yajl_number takes all numbers */
    NULL,
    mt_json_on_number,
    mt_json_on_string,
    mt_json_on_start_map,
    mt_json_on_key,
    mt_json_on_end,
    mt_json_on_start_array,
    mt_json_on_end
};


static void
mt_json_fail(mt_json_err_t code, mt_json_err_t *err, char *errbuf,
    size_t errlen, const mt_json_limits_t *limits, size_t pos)
{
    if (err) {
        *err = code;
    }

    mt_json_message(code, limits, pos, errbuf, errlen);
}


void
mt_json_message(mt_json_err_t code, const mt_json_limits_t *limits,
    size_t pos, char *errbuf, size_t errlen)
{
    if (errbuf == NULL || errlen == 0) {
        return;
    }

    switch (code) {

    case MT_JSON_EUTF8:
        snprintf(errbuf, errlen, "invalid UTF-8 in string");
        break;

    case MT_JSON_EDEPTH:
        snprintf(errbuf, errlen, "nesting deeper than %u levels",
                 limits->max_depth);
        break;

    case MT_JSON_ESIZE:
        snprintf(errbuf, errlen, "body larger than %zu bytes",
                 limits->max_size);
        break;

    case MT_JSON_ESTRING:
        snprintf(errbuf, errlen, "string longer than %zu bytes",
                 limits->max_string);
        break;

    case MT_JSON_EMEMBERS:
        snprintf(errbuf, errlen, "an object or array of more than %zu "
                 "members", limits->max_members);
        break;

    case MT_JSON_EVALUES:
        snprintf(errbuf, errlen, "more than %zu values", limits->max_values);
        break;

    case MT_JSON_ENOMEM:
        snprintf(errbuf, errlen, "out of memory");
        break;

    default:
        snprintf(errbuf, errlen, "invalid JSON at byte %zu", pos);
        break;
    }
}


size_t
mt_json_trailing(const char *data, size_t len, size_t end)
{
    size_t  i;

    for (i = end; i < len; i++) {
        if (!mt_json_is_ws((unsigned char) data[i])) {
            return i + 1;
        }
    }

    return 0;
}


mt_json_doc_t *
mt_json_parse(const char *data, size_t len, const mt_json_limits_t *limits,
    mt_json_err_t *err, char *errbuf, size_t errlen)
{
    return mt_json_parse_text(data, len, limits, 1, err, errbuf, errlen);
}


mt_json_doc_t *
mt_json_parse_stored(const char *data, size_t len, mt_json_err_t *err)
{
    return mt_json_parse_text(data, len, NULL, 0, err, NULL, 0);
}


static mt_json_doc_t *
mt_json_parse_text(const char *data, size_t len,
    const mt_json_limits_t *limits, int check, mt_json_err_t *err,
    char *errbuf, size_t errlen)
{
    size_t          pos, end, i;
    yajl_handle     h;
    yajl_status     st;
    mt_json_ctx_t   ctx;
    mt_json_doc_t  *doc;

    memset(&ctx, 0, sizeof(ctx));

    if (limits) {
        ctx.limits = *limits;
    }

    if (data == NULL) {
        data = "";
        len = 0;
    }

    if (ctx.limits.max_size && len > ctx.limits.max_size) {
        mt_json_fail(MT_JSON_ESIZE, err, errbuf, errlen, &ctx.limits, 0);
        return NULL;
    }

    pos = 0;
    end = len;
    ctx.err = check ? mt_json_check_text((const unsigned char *) data, len,
                                         &pos, &end)
                    : MT_JSON_OK;

    if (ctx.err != MT_JSON_OK) {
        mt_json_fail(ctx.err, err, errbuf, errlen, &ctx.limits, pos);
        return NULL;
    }

    doc = malloc(sizeof(mt_json_doc_t));
    if (doc == NULL) {
        mt_json_fail(MT_JSON_ENOMEM, err, errbuf, errlen, &ctx.limits, 0);
        return NULL;
    }

    doc->blocks = NULL;
    doc->next_size = MT_ARENA_MIN;
    doc->root = NULL;

    ctx.doc = doc;
    ctx.err = MT_JSON_OK;

    h = yajl_alloc(&mt_json_callbacks, NULL, &ctx);
    if (h == NULL) {
        ctx.err = MT_JSON_ENOMEM;
        pos = 0;
        goto failed;
    }

    /*
     * All yajl options stay off: strings are validated, no comments, no
     * trailing garbage, one value.  yajl itself has no nesting limit (its
     * state stack grows on the heap), so max_depth is ours alone.
     */

    st = yajl_parse(h, (const unsigned char *) data, len);
    pos = yajl_get_bytes_consumed(h);

    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);

        /* the error is at the end of the text; yajl's count is reset */
        pos = len;
    }

    yajl_free(h);

    /* one JSON text: only whitespace after the value (see check_text) */

    if (st == yajl_status_ok) {
        i = mt_json_trailing(data, len, end);

        if (i) {
            st = yajl_status_error;
            pos = i;
        }
    }

    if (st == yajl_status_ok && doc->root != NULL) {
        free(ctx.frames);
        free(ctx.kids);
        free(ctx.order);

        if (err) {
            *err = MT_JSON_OK;
        }

        return doc;
    }

    if (st != yajl_status_client_canceled || ctx.err == MT_JSON_OK) {
        ctx.err = MT_JSON_ESYNTAX;
    }

failed:

    free(ctx.frames);
    free(ctx.kids);
    free(ctx.order);
    mt_json_free(doc);

    mt_json_fail(ctx.err, err, errbuf, errlen, &ctx.limits, pos);

    return NULL;
}


const mt_json_t *
mt_json_root(const mt_json_doc_t *doc)
{
    return doc ? doc->root : NULL;
}


void
mt_json_free(mt_json_doc_t *doc)
{
    mt_arena_blk_t  *b, *next;

    if (doc == NULL) {
        return;
    }

    for (b = doc->blocks; b; b = next) {
        next = b->next;
        free(b);
    }

    free(doc);
}


const mt_json_t *
mt_json_get(const mt_json_t *obj, const char *key)
{
    size_t  i, len;

    if (obj == NULL || key == NULL || obj->type != MT_JSON_OBJECT) {
        return NULL;
    }

    len = strlen(key);

    /* from the end: the last duplicate wins, as in JSON.parse() */
    for (i = obj->u.object.n; i > 0; i--) {
        const mt_json_pair_t  *p;

        p = &obj->u.object.pairs[i - 1];

        if (p->key_len == len && memcmp(p->key, key, len) == 0) {
            return p->value;
        }
    }

    return NULL;
}


const char *
mt_json_type_name(mt_json_type_t type)
{
    switch (type) {
    case MT_JSON_NULL:
        return "null";
    case MT_JSON_BOOL:
        return "boolean";
    case MT_JSON_NUMBER:
        return "number";
    case MT_JSON_STRING:
        return "string";
    case MT_JSON_ARRAY:
        return "array";
    case MT_JSON_OBJECT:
        return "object";
    }

    return "unknown";
}


/*
 * The size of v as compact JSON (strings unescaped) when it is at most
 * max, else more than max: the walk stops there, so it is bounded by
 * max whatever v holds (every value counts one byte at least).
 */
size_t
mt_json_size(const mt_json_t *v, size_t max)
{
    size_t  i, size;

    switch (v->type) {

    case MT_JSON_NULL:
        return 4;

    case MT_JSON_BOOL:
        return v->u.boolean ? 4 : 5;

    case MT_JSON_NUMBER:
        return v->u.number.raw_len > 0 ? v->u.number.raw_len : 1;

    case MT_JSON_STRING:
        return v->u.string.len + 2;

    case MT_JSON_ARRAY:
        size = 2;

        for (i = 0; i < v->u.array.n && size <= max; i++) {
            size += (i > 0) + mt_json_size(v->u.array.items[i], max - size);
        }

        return size;

    case MT_JSON_OBJECT:
        size = 2;

        for (i = 0; i < v->u.object.n && size <= max; i++) {
            size += (i > 0) + v->u.object.pairs[i].key_len + 3;

            if (size <= max) {
                size += mt_json_size(v->u.object.pairs[i].value, max - size);
            }
        }

        return size;

    default:
        return 1;
    }
}


/* ----------------------------------------------------------------------
 * structural hash
 *
 * Equal documents hash equal whatever the order of object members: the
 * member hashes are added, and addition does not care about order.
 * Arrays keep their order.  Numbers hash by their text, so 1 and 1.0
 * differ, which at worst costs a needless rewrite.
 */

static uint64_t
mt_json_bytes_hash(const char *s, size_t len, uint64_t h)
{
    return mt_hash_mix(mt_hash64(s, len, h) ^ len);
}


/*
 * A member that a later one with the same key overrides: it is not part
 * of the document as read (the last one wins), so it must not count.
 * The parser marks these when it closes the object (mt_json_dups()).
 */
int
mt_json_shadowed(const mt_json_t *obj, size_t i)
{
    return obj->u.object.pairs[i].shadowed;
}


uint64_t
mt_json_hash_pair(const mt_json_pair_t *p)
{
    return mt_hash_mix(mt_json_bytes_hash(p->key, p->key_len, MT_HASH_SEED)
                       + 31 * mt_json_hash(p->value));
}


uint64_t
mt_json_hash(const mt_json_t *v)
{
    size_t    i;
    uint64_t  h;

    if (v == NULL) {
        return 0;
    }

    h = (uint64_t) v->type + 1;

    switch (v->type) {

    case MT_JSON_BOOL:
        h = mt_hash_mix(h * 2 + (v->u.boolean != 0));
        break;

    case MT_JSON_NUMBER:
        h = mt_json_bytes_hash(v->u.number.raw, v->u.number.raw_len, h);
        break;

    case MT_JSON_STRING:
        h = mt_json_bytes_hash(v->u.string.s, v->u.string.len, h);
        break;

    case MT_JSON_ARRAY:
        for (i = 0; i < v->u.array.n; i++) {
            h = mt_hash_mix(h * 0x9e3779b97f4a7c15ULL
                            + mt_json_hash(v->u.array.items[i]));
        }
        break;

    case MT_JSON_OBJECT:
        for (i = 0; i < v->u.object.n; i++) {
            if (!mt_json_shadowed(v, i)) {
                h += mt_json_hash_pair(&v->u.object.pairs[i]);
            }
        }
        h = mt_hash_mix(h);
        break;

    default:
        h = mt_hash_mix(h);
        break;
    }

    return h;
}

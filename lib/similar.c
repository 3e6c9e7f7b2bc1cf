/*
 * Lookalike creators' shared signals, and the minScore note of a match
 * summary (similar.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "similar.h"


typedef struct {
    char                   *p;
    size_t                  len;
    size_t                  size;       /* bytes at p, NUL included */
    int                     full;       /* a piece did not fit */
} mt_sbuf_t;


static const mt_json_t *mt_shared_list(const mt_json_t *obj,
    const char *key);
static int mt_shared_same(const mt_json_t *x, const mt_json_t *y);
static int mt_shared_in(const mt_json_t *v, const mt_json_t *list);
static int mt_shared_dup(const mt_json_t *v, const mt_json_t **seen,
    size_t n);
static size_t mt_shared_lists(const mt_json_t *a1, const mt_json_t *a2,
    const mt_json_t *b1, const mt_json_t *b2, const mt_json_t **out);
static void mt_sbuf_put(mt_sbuf_t *b, const char *s, size_t len, int lower);
static void mt_sbuf_items(mt_sbuf_t *b, const char *lead,
    const mt_json_t *const *items, size_t n, int lower);
static void mt_shared_write_list(mt_jw_t *w, const char *key,
    const mt_json_t *const *items, size_t n);


void
mt_shared(const mt_json_t *a, const mt_json_t *b, mt_shared_t *out)
{
    const mt_json_t  *aa, *ba, *as, *bs, *ra, *rb;

    memset(out, 0, sizeof(mt_shared_t));

    if (a == NULL || b == NULL || a->type != MT_JSON_OBJECT
        || b->type != MT_JSON_OBJECT)
    {
        return;
    }

    ra = mt_json_get(a, "region");
    rb = mt_json_get(b, "region");

    if (mt_shared_same(ra, rb)) {
        out->region = ra;
    }

    aa = mt_json_get(a, "analysis");
    ba = mt_json_get(b, "analysis");

    if (aa == NULL || ba == NULL || aa->type != MT_JSON_OBJECT
        || ba->type != MT_JSON_OBJECT)
    {
        return;
    }

    out->nniches = mt_shared_lists(mt_shared_list(aa, "primaryNiches"),
                                   mt_shared_list(aa, "secondaryNiches"),
                                   mt_shared_list(ba, "primaryNiches"),
                                   mt_shared_list(ba, "secondaryNiches"),
                                   out->niches);

    out->nvalues = mt_shared_lists(mt_shared_list(aa, "apparentValues"),
                                   NULL,
                                   mt_shared_list(ba, "apparentValues"),
                                   NULL, out->values);

    as = mt_json_get(aa, "engagementStyle");
    bs = mt_json_get(ba, "engagementStyle");

    if (as != NULL && bs != NULL && as->type == MT_JSON_OBJECT
        && bs->type == MT_JSON_OBJECT)
    {
        out->ntones = mt_shared_lists(mt_shared_list(as, "tone"), NULL,
                                      mt_shared_list(bs, "tone"), NULL,
                                      out->tones);
    }
}


static const mt_json_t *
mt_shared_list(const mt_json_t *obj, const char *key)
{
    const mt_json_t  *v;

    v = mt_json_get(obj, key);

    return (v != NULL && v->type == MT_JSON_ARRAY) ? v : NULL;
}


/* both non-empty strings, equal but for ASCII case */

static int
mt_shared_same(const mt_json_t *x, const mt_json_t *y)
{
    size_t         i;
    unsigned char  c, d;

    if (x == NULL || y == NULL || x->type != MT_JSON_STRING
        || y->type != MT_JSON_STRING || x->u.string.len == 0
        || x->u.string.len != y->u.string.len)
    {
        return 0;
    }

    for (i = 0; i < x->u.string.len; i++) {
        c = (unsigned char) x->u.string.s[i];
        d = (unsigned char) y->u.string.s[i];

        c = (c >= 'A' && c <= 'Z') ? (unsigned char) (c | 0x20) : c;
        d = (d >= 'A' && d <= 'Z') ? (unsigned char) (d | 0x20) : d;

        if (c != d) {
            return 0;
        }
    }

    return 1;
}


static int
mt_shared_in(const mt_json_t *v, const mt_json_t *list)
{
    size_t  i;

    for (i = 0; list && i < list->u.array.n && i < MT_SHARED_SCAN_MAX; i++) {
        if (mt_shared_same(v, list->u.array.items[i])) {
            return 1;
        }
    }

    return 0;
}


static int
mt_shared_dup(const mt_json_t *v, const mt_json_t **seen, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (mt_shared_same(v, seen[i])) {
            return 1;
        }
    }

    return 0;
}


/*
 * The items of a1 + a2 found in b1 + b2, each once, in a's order; at
 * most MT_SHARED_MAX, out of MT_SHARED_SCAN_MAX items a list.
 */

static size_t
mt_shared_lists(const mt_json_t *a1, const mt_json_t *a2,
    const mt_json_t *b1, const mt_json_t *b2, const mt_json_t **out)
{
    size_t            i, j, n;
    const mt_json_t  *v, *lists[2];

    lists[0] = a1;
    lists[1] = a2;
    n = 0;

    for (j = 0; j < 2; j++) {
        for (i = 0;
             lists[j] && i < lists[j]->u.array.n && i < MT_SHARED_SCAN_MAX
             && n < MT_SHARED_MAX;
             i++)
        {
            v = lists[j]->u.array.items[i];

            if (v->type != MT_JSON_STRING
                || !(mt_shared_in(v, b1) || mt_shared_in(v, b2)))
            {
                continue;
            }

            /* listed twice by a, or as primary and secondary */
            if (mt_shared_dup(v, out, n)) {
                continue;
            }

            out[n++] = v;
        }
    }

    return n;
}


size_t
mt_shared_text(const mt_shared_t *s, char *buf, size_t size)
{
    mt_sbuf_t  b;

    if (size == 0) {
        return 0;
    }

    b.p = buf;
    b.len = 0;
    b.size = size;
    b.full = 0;
    buf[0] = '\0';

    mt_sbuf_items(&b, "both post about ", s->niches, s->nniches, 1);

    if (s->region != NULL) {
        mt_sbuf_items(&b, "both ", &s->region, 1, 0);
    }

    mt_sbuf_items(&b, "both ", s->tones, s->ntones, 1);
    mt_sbuf_items(&b, "both value ", s->values, s->nvalues, 1);

    if (b.len == 0 && !b.full) {
        mt_sbuf_put(&b, "nothing in common beyond their content's wording",
                    sizeof("nothing in common beyond their content's "
                           "wording") - 1, 0);
    }

    return b.len;
}


/*
 * ", " lead "x, y and z" as one piece: when it does not fit it is left
 * out whole, so the string never ends in a cut word or UTF-8 sequence.
 */

static void
mt_sbuf_items(mt_sbuf_t *b, const char *lead, const mt_json_t *const *items,
    size_t n, int lower)
{
    size_t  i, start;

    if (n == 0 || b->full) {
        return;
    }

    start = b->len;

    if (b->len) {
        mt_sbuf_put(b, ", ", 2, 0);
    }

    mt_sbuf_put(b, lead, strlen(lead), 0);

    for (i = 0; i < n; i++) {
        if (i > 0) {
            mt_sbuf_put(b, (i + 1 == n) ? " and " : ", ",
                        (i + 1 == n) ? 5 : 2, 0);
        }

        mt_sbuf_put(b, items[i]->u.string.s, items[i]->u.string.len, lower);
    }

    if (b->full) {
        b->len = start;
        b->p[start] = '\0';
    }
}


static void
mt_sbuf_put(mt_sbuf_t *b, const char *s, size_t len, int lower)
{
    size_t  i;
    char    c;

    if (b->full || len >= b->size - b->len) {
        b->full = 1;
        return;
    }

    for (i = 0; i < len; i++) {
        c = s[i];
        b->p[b->len++] = (lower && c >= 'A' && c <= 'Z') ? (char) (c | 0x20)
                                                         : c;
    }

    b->p[b->len] = '\0';
}


void
mt_shared_write(const mt_shared_t *s, mt_jw_t *w)
{
    char    text[MT_SHARED_TEXT_MAX];
    size_t  len;

    len = mt_shared_text(s, text, sizeof(text));

    mt_jw_obj_open(w);
    mt_jw_key(w, "summary");
    mt_jw_str(w, text, len);
    mt_shared_write_list(w, "niches", s->niches, s->nniches);
    mt_jw_key(w, "region");

    if (s->region != NULL) {
        mt_jw_value(w, s->region);

    } else {
        mt_jw_null(w);
    }

    mt_shared_write_list(w, "tone", s->tones, s->ntones);
    mt_shared_write_list(w, "values", s->values, s->nvalues);
    mt_jw_obj_close(w);
}


static void
mt_shared_write_list(mt_jw_t *w, const char *key,
    const mt_json_t *const *items, size_t n)
{
    size_t  i;

    mt_jw_key(w, key);
    mt_jw_arr_open(w);

    for (i = 0; i < n; i++) {
        mt_jw_value(w, items[i]);
    }

    mt_jw_arr_close(w);
}


size_t
mt_min_score_note(size_t dropped, size_t kept, size_t ncreators,
    double min_score, char *buf, size_t size)
{
    int  n;

    /*
     * %.15g: the threshold as the client wrote it (up to 15 digits), not
     * rounded to 6 and then below a score it did not drop
     */

    if (size == 0) {
        return 0;
    }

    buf[0] = '\0';

    if (dropped == 0) {
        return 0;
    }

    if (kept == 0) {
        n = snprintf(buf, size, "None of the %zu creator%s reaches "
                     "minScore %.15g: %zu weaker match%s (below minScore "
                     "%.15g) left out.",
                     ncreators, ncreators == 1 ? "" : "s", min_score,
                     dropped, dropped == 1 ? "" : "es", min_score);

    } else {
        n = snprintf(buf, size, "%zu weaker match%s (below minScore "
                     "%.15g) left out.", dropped, dropped == 1 ? "" : "es",
                     min_score);
    }

    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }

    return ((size_t) n < size) ? (size_t) n : size - 1;
}


int
mt_summary_append(mt_jw_t *w, const char *summary, size_t len,
    const char *note, size_t note_len)
{
    char              *text;
    size_t             n;
    mt_json_err_t      err;
    mt_json_doc_t     *d;
    const mt_json_t   *v;

    d = mt_json_parse(summary, len, NULL, &err, NULL, 0);
    if (d == NULL) {
        return -1;
    }

    v = mt_json_root(d);

    if (v->type != MT_JSON_STRING) {
        mt_json_free(d);
        return -1;
    }

    n = v->u.string.len;

    text = malloc(n + 1 + note_len);
    if (text == NULL) {
        mt_json_free(d);
        return -1;
    }

    memcpy(text, v->u.string.s, n);

    if (n > 0 && note_len > 0) {
        text[n++] = ' ';
    }

    memcpy(text + n, note, note_len);
    n += note_len;

    mt_jw_str(w, text, n);

    free(text);
    mt_json_free(d);

    return 0;
}

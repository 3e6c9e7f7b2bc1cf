/*
 * What the texts of a match are built with (score_int.h): the accessors
 * of the documents, which score.c uses too, and a fixed buffer.  Every
 * quoted piece is cut to a few dozen bytes on a UTF-8 boundary, so the
 * buffer only fills up on absurd input, and then the text is cut there
 * too, never overrun.
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"
#include "score_int.h"


/* ----------------------------------------------------------------------
 * the documents, for score.c too
 */

const char *
mt_get_str(const mt_json_t *obj, const char *key, size_t *len)
{
    const mt_json_t  *v;

    v = mt_json_get(obj, key);

    if (v == NULL || v->type != MT_JSON_STRING || v->u.string.len == 0) {
        *len = 0;
        return NULL;
    }

    *len = v->u.string.len;
    return v->u.string.s;
}


/* the array's string items, at most MT_LIST_MAX; 0 when not an array */
size_t
mt_get_list(const mt_json_t *obj, const char *key,
    const mt_json_t **items)
{
    size_t            i, n;
    const mt_json_t  *v;

    v = mt_json_get(obj, key);

    if (v == NULL || v->type != MT_JSON_ARRAY) {
        return 0;
    }

    n = 0;

    for (i = 0; i < v->u.array.n && n < MT_LIST_MAX; i++) {
        if (v->u.array.items[i]->type == MT_JSON_STRING
            && v->u.array.items[i]->u.string.len > 0)
        {
            items[n++] = v->u.array.items[i];
        }
    }

    return n;
}


/* a non-negative finite number, or -1 */
double
mt_get_count(const mt_json_t *obj, const char *key)
{
    const mt_json_t  *v;

    v = mt_json_get(obj, key);

    if (v == NULL || v->type != MT_JSON_NUMBER || !isfinite(v->u.number.d)
        || v->u.number.d < 0.0)
    {
        return -1.0;
    }

    return v->u.number.d;
}


/* ----------------------------------------------------------------------
 * the buffer
 */

/* control characters become spaces; what does not fit is cut */
void
mt_put(mt_buf_t *b, const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (len > MT_TEXT_MAX - b->len) {
        len = MT_TEXT_MAX - b->len;

        /* s[len] exists: back to the start of its character */
        while (len > 0 && ((unsigned char) s[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];
        b->p[b->len++] = (char) ((c < 0x20 || c == 0x7f) ? ' ' : c);
    }
}


void
mt_puts(mt_buf_t *b, const char *s)
{
    mt_put(b, s, strlen(s));
}


/*
 * A quoted piece, at most max bytes: cut at a space when there is one in
 * the second half, else at a character boundary, then "...".
 */
void
mt_put_cut(mt_buf_t *b, const char *s, size_t len, size_t max, int lower)
{
    size_t  k, j, start;
    int     cut;

    start = b->len;
    cut = 0;

    if (len > max) {
        k = max;

        while (k > 0 && ((unsigned char) s[k] & 0xc0) == 0x80) {
            k--;
        }

        for (j = k; j > max / 2 && s[j] != ' '; j--) {
            /* void */
        }

        if (s[j] == ' ') {
            k = j;
        }

        while (k > 0 && s[k - 1] != '\0' && strchr(" ,;:-(", s[k - 1])) {
            k--;
        }

        len = k;
        cut = 1;
    }

    mt_put(b, s, len);
    mt_lower_words(b->p + start, b->len - start, lower);

    if (cut) {
        mt_puts(b, "...");
    }
}


/* "A", "A and B", "A, B and C", "A, B, C and 2 more" */
void
mt_put_names(mt_buf_t *b, const mt_names_t *l, int lower)
{
    size_t  i;

    for (i = 0; i < l->n && i < MT_SHOW_ITEMS; i++) {
        if (i > 0) {
            mt_puts(b, (i + 1 == l->n) ? " and " : ", ");
        }

        mt_put_cut(b, l->v[i]->u.string.s, l->v[i]->u.string.len,
                   MT_CUT_ITEM, lower);
    }

    if (l->n > MT_SHOW_ITEMS) {
        mt_puts(b, " and ");
        mt_put_uint(b, l->n - MT_SHOW_ITEMS);
        mt_puts(b, " more");
    }
}


/* the nickname, else the uniqueId; "Alex R.'s", "Chris'" */
void
mt_put_nick(mt_buf_t *b, const mt_json_t *c, int possessive)
{
    size_t       len;
    const char  *s;

    s = mt_get_str(c, "nickname", &len);

    if (s == NULL) {
        s = mt_get_str(c, "uniqueId", &len);
    }

    if (s == NULL) {
        s = possessive ? "this creator" : "This creator";
        len = strlen(s);
    }

    mt_put_cut(b, s, len, MT_CUT_NAME, MT_LOWER_NONE);

    if (possessive) {
        mt_puts(b, (b->len > 0 && b->p[b->len - 1] == 's') ? "'" : "'s");
    }
}


void
mt_put_uint(mt_buf_t *b, uint64_t v)
{
    char    tmp[24];
    size_t  n;

    n = sizeof(tmp);

    do {
        tmp[--n] = (char) ('0' + v % 10);
        v /= 10;
    } while (v > 0);

    mt_put(b, tmp + n, sizeof(tmp) - n);
}


/* a value in [0, 1] with two decimals: "0.78" */
void
mt_put_score(mt_buf_t *b, double v)
{
    char      tmp[4];
    unsigned  c;

    c = (v > 0.0) ? (unsigned) ((v < 1.0 ? v : 1.0) * 100.0 + 0.5) : 0;

    tmp[0] = (char) ('0' + c / 100);
    tmp[1] = '.';
    tmp[2] = (char) ('0' + c / 10 % 10);
    tmp[3] = (char) ('0' + c % 10);

    mt_put(b, tmp, sizeof(tmp));
}


/* 950, 117K, 1.2M: cut, not rounded */
void
mt_put_count(mt_buf_t *b, double v)
{
    uint64_t  n;

    n = (uint64_t) (v < 1e15 ? v : 1e15);

    if (n < 1000) {
        mt_put_uint(b, n);

    } else if (n < 1000000) {
        mt_put_uint(b, n / 1000);
        mt_puts(b, "K");

    } else {
        n /= 100000;
        mt_put_uint(b, n / 10);
        mt_puts(b, ".");
        mt_put_uint(b, n % 10);
        mt_puts(b, "M");
    }
}


/* drops the trailing space and writes the JSON string */
void
mt_put_end(mt_buf_t *b, mt_jw_t *w)
{
    while (b->len > 0 && b->p[b->len - 1] == ' ') {
        b->len--;
    }

    mt_jw_str(w, b->p, b->len);
}


/* lowercases words capitalised only at their start: "AI", "Q&A" stay */
void
mt_lower_words(char *p, size_t len, int lower)
{
    size_t  i, j, upper;

    for (i = 0; i < len && lower != MT_LOWER_NONE; i = j + 1) {
        upper = 0;

        for (j = i; j < len && p[j] != ' '; j++) {
            upper += (p[j] >= 'A' && p[j] <= 'Z');
        }

        if (upper == 1 && p[i] >= 'A' && p[i] <= 'Z') {
            p[i] = (char) (p[i] + 32);
        }

        if (lower == MT_LOWER_FIRST) {
            break;
        }
    }
}


void
mt_names_add(mt_names_t *l, const mt_json_t *v)
{
    size_t  i;

    for (i = 0; i < l->n; i++) {
        if (l->v[i] == v) {
            return;
        }
    }

    if (v != NULL && l->n < MT_LIST_MAX) {
        l->v[l->n++] = v;
    }
}


void
mt_names_of(mt_names_t *l, const mt_json_t *obj, const char *key)
{
    l->n = mt_get_list(obj, key, l->v);
}

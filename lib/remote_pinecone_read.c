/*
 * Pinecone's reads for jobs: describe_index_stats (how many vectors,
 * of how many dimensions), fetch (which ids exist, and their vectors)
 * and list (every id, a page at a time), with the query strings of the
 * two GET calls.
 */

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "remote_int.h"


#define MT_STATS_REPLY_MAX  ((size_t) 1024 * 1024)
#define MT_LIST_REPLY_MAX   ((size_t) 1024 * 1024)
#define MT_FETCH_ITEM_MAX   (2 * MT_PINECONE_META_MAX + 2048)


/* Stats */

int
mt_pinecone_stats_reply(const char *data, size_t len, const char *namespace_,
    uint64_t *count, unsigned *dims, char *err, size_t errlen)
{
    int                rc;
    mt_json_doc_t     *doc;
    const mt_json_t   *root, *nss, *ns, *vc, *dim;
    mt_json_limits_t   lim = { MT_STATS_REPLY_MAX, 16, 0, 100000, 500000 };

    *count = 0;
    *dims = 0;

    doc = mt_remote_parse(data, len, &lim, err, errlen);
    if (doc == NULL) {
        return -1;
    }

    root = mt_json_root(doc);
    nss = mt_json_get(root, "namespaces");
    ns = mt_json_get(nss, namespace_ != NULL ? namespace_ : "");
    vc = mt_json_get(ns, "vectorCount");
    dim = mt_json_get(root, "dimension");

    rc = 0;

    if (nss != NULL && nss->type != MT_JSON_OBJECT) {
        rc = mt_remote_fail(err, errlen, "\"namespaces\" is a %s",
                            mt_json_type_name(nss->type));

    } else if (vc != NULL
               && (vc->type != MT_JSON_NUMBER || !vc->u.number.is_int
                   || vc->u.number.i < 0))
    {
        rc = mt_remote_fail(err, errlen, "\"vectorCount\" is not a count");

    } else if (dim != NULL
               && (dim->type != MT_JSON_NUMBER || !dim->u.number.is_int
                   || dim->u.number.i < 1
                   || dim->u.number.i > MT_PINECONE_DIMS_MAX))
    {
        rc = mt_remote_fail(err, errlen, "\"dimension\" is not a dimension");

    } else {
        /* a namespace not listed holds no vectors (yet) */
        *count = (vc != NULL) ? (uint64_t) vc->u.number.i : 0;
        *dims = (dim != NULL) ? (unsigned) dim->u.number.i : 0;
    }

    mt_json_free(doc);

    return rc;
}


/* Query strings */

/* s percent-encoded at p (3 bytes a byte at most); returns the end */
static char *
mt_pct(char *p, const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    static const char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '~')
        {
            *p++ = (char) c;

        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0x0f];
        }
    }

    return p;
}


/* "&name=value" (no '&' first), value percent-encoded */
static char *
mt_arg(char *p, const char *start, const char *name, const char *value,
    size_t len)
{
    if (p != start) {
        *p++ = '&';
    }

    len = (value != NULL) ? len : 0;

    while (*name != '\0') {
        *p++ = *name++;
    }

    *p++ = '=';

    return mt_pct(p, value, len);
}


char *
mt_pinecone_fetch_args(const mt_span_t *ids, size_t n,
    const char *namespace_, size_t *len)
{
    char    *buf, *p;
    size_t   i, size, nslen;

    if (n == 0 || n > MT_PINECONE_MAX_VECTORS) {
        return NULL;
    }

    nslen = (namespace_ != NULL) ? strlen(namespace_) : 0;
    size = sizeof("&namespace=") + 3 * nslen;

    for (i = 0; i < n; i++) {
        if (ids[i].len > MT_PINECONE_ID_MAX) {
            return NULL;
        }

        size += sizeof("&ids=") + 3 * ids[i].len;
    }

    buf = malloc(size);
    if (buf == NULL) {
        return NULL;
    }

    p = buf;

    for (i = 0; i < n; i++) {
        p = mt_arg(p, buf, "ids", ids[i].data, ids[i].len);
    }

    if (nslen > 0) {
        p = mt_arg(p, buf, "namespace", namespace_, nslen);
    }

    *p = '\0';

    if (len != NULL) {
        *len = (size_t) (p - buf);
    }

    return buf;
}


char *
mt_pinecone_list_args(const char *prefix, unsigned limit, const char *token,
    const char *namespace_, size_t *len)
{
    char     num[16], *buf, *p;
    size_t   plen, tlen, nslen, nlen, size;
    unsigned v;

    plen = (prefix != NULL) ? strlen(prefix) : 0;
    tlen = (token != NULL) ? strlen(token) : 0;
    nslen = (namespace_ != NULL) ? strlen(namespace_) : 0;

    /* limit in digits, backwards */
    nlen = 0;

    for (v = limit; v != 0; v /= 10) {
        num[sizeof(num) - 1 - nlen++] = (char) ('0' + v % 10);
    }

    size = sizeof("&limit=") + nlen + sizeof("&prefix=") + 3 * plen
           + sizeof("&paginationToken=") + 3 * tlen
           + sizeof("&namespace=") + 3 * nslen;

    buf = malloc(size);
    if (buf == NULL) {
        return NULL;
    }

    p = buf;

    if (nlen > 0) {
        p = mt_arg(p, buf, "limit", num + sizeof(num) - nlen, nlen);
    }

    if (plen > 0) {
        p = mt_arg(p, buf, "prefix", prefix, plen);
    }

    if (tlen > 0) {
        p = mt_arg(p, buf, "paginationToken", token, tlen);
    }

    if (nslen > 0) {
        p = mt_arg(p, buf, "namespace", namespace_, nslen);
    }

    *p = '\0';

    if (len != NULL) {
        *len = (size_t) (p - buf);
    }

    return buf;
}


/* Fetch */

typedef struct {
    const char             *data;
    size_t                  len;
    size_t                  i;          /* in the ids asked */
} mt_asked_t;


static int
mt_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int  c;

    c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0) {
        return c;
    }

    return (alen > blen) - (alen < blen);
}


static int
mt_asked_cmp(const void *x, const void *y)
{
    const mt_asked_t  *a = x, *b = y;

    return mt_bytes_cmp(a->data, a->len, b->data, b->len);
}


/* the first asked id not below key */
static size_t
mt_asked_find(const mt_asked_t *asked, size_t n, const char *key,
    size_t len)
{
    size_t  lo, hi, mid;

    lo = 0;
    hi = n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (mt_bytes_cmp(asked[mid].data, asked[mid].len, key, len) < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return lo;
}


static int
mt_fetch_values(const mt_json_t *entry, const char *id, unsigned dims,
    float *v, char *err, size_t errlen)
{
    size_t            i;
    double            d;
    const mt_json_t  *values;

    values = mt_json_get(entry, "values");

    if (values == NULL || values->type != MT_JSON_ARRAY
        || values->u.array.n != dims)
    {
        return mt_remote_fail(err, errlen, "vector \"%.64s\" has no %u "
                              "values", id, dims);
    }

    for (i = 0; i < dims; i++) {
        if (mt_remote_number(values->u.array.items[i], &d) != 0
            || fabs(d) > FLT_MAX)
        {
            return mt_remote_fail(err, errlen, "vector \"%.64s\": value "
                                  "%zu is not a float", id, i);
        }

        v[i] = (float) d;
    }

    return 0;
}


int
mt_pinecone_fetch_reply(const char *data, size_t len, const mt_span_t *ids,
    size_t n, unsigned dims, unsigned char *found, float *vecs, char *err,
    size_t errlen)
{
    int                    rc;
    size_t                 i, j, first;
    mt_asked_t            *asked;
    mt_json_doc_t         *doc;
    const mt_json_t       *vectors;
    mt_json_limits_t       lim;
    const mt_json_pair_t  *pair;

    if (n > MT_PINECONE_MAX_VECTORS || dims == 0
        || dims > MT_PINECONE_DIMS_MAX)
    {
        return mt_remote_fail(err, errlen, "%zu ids of %u dimensions", n,
                              dims);
    }

    memset(found, 0, n);

    lim.max_size = mt_remote_mul_add(n > 0 ? n : 1,
                                     (size_t) dims * 32 + MT_FETCH_ITEM_MAX,
                                     65536);
    lim.max_depth = 16;
    lim.max_string = 65536;
    lim.max_members = (n > dims ? n : dims) + 256;
    lim.max_values = mt_remote_mul_add(n > 0 ? n : 1, (size_t) dims + 256,
                                       1024);

    doc = mt_remote_parse(data, len, &lim, err, errlen);
    if (doc == NULL) {
        return -1;
    }

    vectors = mt_json_get(mt_json_root(doc), "vectors");

    if (vectors == NULL || vectors->type != MT_JSON_OBJECT) {
        mt_json_free(doc);
        return mt_remote_fail(err, errlen, "reply has no \"vectors\" "
                              "object");
    }

    asked = malloc((n ? n : 1) * sizeof(mt_asked_t));
    if (asked == NULL) {
        mt_json_free(doc);
        return mt_remote_fail(err, errlen, "out of memory");
    }

    for (i = 0; i < n; i++) {
        asked[i].data = ids[i].data;
        asked[i].len = ids[i].len;
        asked[i].i = i;
    }

    /* sorted, so that a reply of n ids costs n log n, not n * n */
    qsort(asked, n, sizeof(mt_asked_t), mt_asked_cmp);

    rc = 0;

    for (j = 0; j < vectors->u.object.n && rc == 0; j++) {
        if (mt_json_shadowed(vectors, j)) {
            continue;
        }

        pair = &vectors->u.object.pairs[j];
        first = mt_asked_find(asked, n, pair->key, pair->key_len);

        /* the same id asked twice: both found */
        for (i = first; i < n && rc == 0; i++) {
            if (mt_bytes_cmp(asked[i].data, asked[i].len, pair->key,
                             pair->key_len) != 0)
            {
                break;
            }

            found[asked[i].i] = 1;

            if (vecs != NULL) {
                rc = mt_fetch_values(pair->value, pair->key, dims,
                                     vecs + asked[i].i * dims, err, errlen);
            }
        }
    }

    if (rc != 0) {
        memset(found, 0, n);
    }

    free(asked);
    mt_json_free(doc);

    return rc;
}


/* List */

int
mt_pinecone_list_reply(const char *data, size_t len, mt_vec_hits_t *ids,
    char **next, char *err, size_t errlen)
{
    int                rc;
    mt_json_doc_t     *doc;
    const mt_json_t   *root, *vectors, *token;
    mt_json_limits_t   lim = { MT_LIST_REPLY_MAX, 16, 65536, 100000,
                               500000 };

    memset(ids, 0, sizeof(mt_vec_hits_t));
    *next = NULL;

    doc = mt_remote_parse(data, len, &lim, err, errlen);
    if (doc == NULL) {
        return -1;
    }

    root = mt_json_root(doc);
    vectors = mt_json_get(root, "vectors");

    if (vectors == NULL || vectors->type != MT_JSON_ARRAY) {
        mt_json_free(doc);
        return mt_remote_fail(err, errlen, "reply has no \"vectors\" "
                              "array");
    }

    rc = mt_remote_hits(vectors, 0, ids, err, errlen);

    token = mt_json_get(mt_json_get(root, "pagination"), "next");

    /* no pagination, or an empty token: the last page */
    if (rc == 0 && token != NULL && token->type == MT_JSON_STRING
        && token->u.string.len > 0)
    {
        *next = malloc(token->u.string.len + 1);

        if (*next == NULL) {
            mt_vec_hits_free(ids);
            rc = mt_remote_fail(err, errlen, "out of memory");

        } else {
            memcpy(*next, token->u.string.s, token->u.string.len + 1);
        }
    }

    mt_json_free(doc);

    return rc;
}

/*
 * Pinecone's data plane, writes and queries: the index backend
 * "pinecone" (POST /query) and the bodies of upsert and delete, with the
 * metadata a filter needs.  Its reads for jobs (stats, fetch, list) are
 * in remote_pinecone_read.c.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "remote_int.h"


#define MT_META_RESERVE   128       /* closing the metadata, empty lists */
#define MT_MIN_MAGNITUDE  1e-8      /* one value at least this, or refused */


typedef struct {
    mt_vec_t                vec;        /* first: the interface */
    char                   *ns;
    unsigned                dims;
} mt_vec_pinecone_t;


static int mt_vec_pinecone_request(const mt_vec_t *v, const float *q,
    unsigned dims, const mt_json_t *filter, size_t k, mt_jw_t *body);
static int mt_vec_pinecone_reply(const mt_vec_t *v, const char *data,
    size_t len, mt_vec_hits_t *out, char *err, size_t errlen);
static size_t mt_vec_pinecone_count(const mt_vec_t *v);
static uint64_t mt_vec_pinecone_generation(const mt_vec_t *v);
static void mt_vec_pinecone_free(mt_vec_t *v);


static const mt_vec_ops_t  mt_vec_pinecone_ops = {
    "pinecone", MT_BACKEND_WIRE,
    NULL, mt_vec_pinecone_request, mt_vec_pinecone_reply, NULL, NULL,
    mt_vec_pinecone_count, mt_vec_pinecone_generation, mt_vec_pinecone_free
};


mt_vec_t *
mt_vec_pinecone_new(const char *namespace_, unsigned dims)
{
    size_t              len;
    mt_vec_pinecone_t  *p;

    if (dims == 0 || dims > MT_PINECONE_DIMS_MAX) {
        return NULL;
    }

    p = calloc(1, sizeof(mt_vec_pinecone_t));
    if (p == NULL) {
        return NULL;
    }

    len = (namespace_ != NULL) ? strlen(namespace_) : 0;

    p->ns = malloc(len + 1);
    if (p->ns == NULL) {
        free(p);
        return NULL;
    }

    if (len > 0) {
        memcpy(p->ns, namespace_, len);
    }

    p->ns[len] = '\0';
    p->vec.ops = &mt_vec_pinecone_ops;
    p->dims = dims;

    return &p->vec;
}


static size_t
mt_vec_pinecone_count(const mt_vec_t *v)
{
    (void) v;

    return 0;
}


static uint64_t
mt_vec_pinecone_generation(const mt_vec_t *v)
{
    (void) v;

    return 0;
}


static void
mt_vec_pinecone_free(mt_vec_t *v)
{
    mt_vec_pinecone_t  *p = (mt_vec_pinecone_t *) v;

    free(p->ns);
    free(p);
}


static void
mt_pinecone_namespace(mt_jw_t *w, const char *namespace_)
{
    if (namespace_ != NULL && namespace_[0] != '\0') {
        mt_jw_key(w, "namespace");
        mt_jw_cstr(w, namespace_);
    }
}


/* dims floats: all finite, one at least of some magnitude; 0 or -1 */
static int
mt_pinecone_values_ok(const float *v, unsigned dims)
{
    int       big;
    unsigned  i;

    big = 0;

    for (i = 0; i < dims; i++) {
        if (!isfinite(v[i])) {
            return -1;
        }

        big |= (fabsf(v[i]) >= MT_MIN_MAGNITUDE);
    }

    return big ? 0 : -1;
}


static void
mt_pinecone_values(mt_jw_t *w, const float *v, unsigned dims)
{
    unsigned  i;

    mt_jw_arr_open(w);

    for (i = 0; i < dims && !mt_jw_failed(w); i++) {
        mt_remote_jw_float(w, v[i]);
    }

    mt_jw_arr_close(w);
}


static int
mt_vec_pinecone_request(const mt_vec_t *v, const float *q, unsigned dims,
    const mt_json_t *filter, size_t k, mt_jw_t *body)
{
    const mt_vec_pinecone_t  *p = (const mt_vec_pinecone_t *) v;

    if (dims != p->dims || k == 0 || k > MT_PINECONE_TOP_K_MAX
        || mt_pinecone_values_ok(q, dims) != 0
        || (filter != NULL && filter->type != MT_JSON_OBJECT))
    {
        return -1;
    }

    mt_jw_obj_open(body);
    mt_jw_key(body, "vector");
    mt_pinecone_values(body, q, dims);
    mt_jw_key(body, "topK");
    mt_jw_int(body, (int64_t) k);
    mt_jw_key(body, "includeValues");
    mt_jw_bool(body, 0);
    mt_jw_key(body, "includeMetadata");
    mt_jw_bool(body, 0);

    /*
     * The contract's filter language is Pinecone's: the client's filter
     * goes out as it came (numbers as their text), so that Pinecone
     * judges what it says, not a rewriting of it.  {} is no filter.
     */
    if (filter != NULL && filter->u.object.n > 0) {
        mt_jw_key(body, "filter");
        mt_jw_value(body, filter);
    }

    mt_pinecone_namespace(body, p->ns);
    mt_jw_obj_close(body);

    return mt_jw_failed(body) ? -1 : 0;
}


int
mt_remote_hits(const mt_json_t *items, int scored, mt_vec_hits_t *out,
    char *err, size_t errlen)
{
    char             *ids;
    size_t            i, n, bytes;
    double            score;
    const mt_json_t  *id, *sc;

    memset(out, 0, sizeof(mt_vec_hits_t));

    n = items->u.array.n;
    bytes = 0;
    score = 0;

    /* checked first, so that the copies need no way back */
    for (i = 0; i < n; i++) {
        id = mt_json_get(items->u.array.items[i], "id");

        if (id == NULL || id->type != MT_JSON_STRING || id->u.string.len == 0
            || id->u.string.len > MT_PINECONE_ID_MAX)
        {
            return mt_remote_fail(err, errlen, "item %zu has no id of 1 to "
                                  "%d bytes", i, MT_PINECONE_ID_MAX);
        }

        if (scored) {
            sc = mt_json_get(items->u.array.items[i], "score");

            if (mt_remote_number(sc, &score) != 0) {
                return mt_remote_fail(err, errlen, "match %zu has no "
                                      "numeric score", i);
            }
        }

        bytes += id->u.string.len + 1;
    }

    out->hits = malloc((n ? n : 1) * sizeof(mt_vec_hit_t));
    out->ids = malloc(bytes ? bytes : 1);

    if (out->hits == NULL || out->ids == NULL) {
        mt_vec_hits_free(out);
        return mt_remote_fail(err, errlen, "out of memory");
    }

    ids = out->ids;

    for (i = 0; i < n; i++) {
        id = mt_json_get(items->u.array.items[i], "id");

        memcpy(ids, id->u.string.s, id->u.string.len);
        ids[id->u.string.len] = '\0';

        out->hits[i].id = ids;
        out->hits[i].id_len = id->u.string.len;
        out->hits[i].score = 0;

        if (scored) {
            (void) mt_remote_number(mt_json_get(items->u.array.items[i],
                                                "score"), &score);

            /* cosine: rounding may step out of [-1, 1], a client may not */
            score = (score > 1) ? 1 : (score < -1) ? -1 : score;
            out->hits[i].score = (float) score;
        }

        ids += id->u.string.len + 1;
    }

    out->n = n;

    return 0;
}


static int
mt_vec_pinecone_reply(const mt_vec_t *v, const char *data, size_t len,
    mt_vec_hits_t *out, char *err, size_t errlen)
{
    int                rc;
    mt_json_doc_t     *doc;
    const mt_json_t   *matches;
    mt_json_limits_t   lim = { MT_PINECONE_REPLY_MAX, 16, 65536,
                               MT_PINECONE_DIMS_MAX + 1, 1 << 20 };

    (void) v;

    memset(out, 0, sizeof(mt_vec_hits_t));

    doc = mt_remote_parse(data, len, &lim, err, errlen);
    if (doc == NULL) {
        return -1;
    }

    matches = mt_json_get(mt_json_root(doc), "matches");

    if (matches == NULL || matches->type != MT_JSON_ARRAY) {
        mt_json_free(doc);
        return mt_remote_fail(err, errlen, "reply has no \"matches\" array");
    }

    rc = mt_remote_hits(matches, 1, out, err, errlen);
    mt_json_free(doc);

    return rc;
}


/* Metadata */

/* a list of strings within the tag count and the byte budget */
static void
mt_pinecone_meta_list(mt_jw_t *w, const char *key, const mt_json_t *list,
    size_t start, size_t *tags)
{
    size_t            i, cost;
    const mt_json_t  *item;

    if (list == NULL || list->type != MT_JSON_ARRAY) {
        return;
    }

    mt_jw_key(w, key);
    mt_jw_arr_open(w);

    for (i = 0; i < list->u.array.n && *tags < MT_META_TAGS; i++) {
        item = list->u.array.items[i];

        if (item->type != MT_JSON_STRING) {
            continue;
        }

        /* escaped, a byte may take 6; quotes and comma */
        cost = mt_remote_mul_add(item->u.string.len, 6, 3);

        if (cost > MT_PINECONE_META_MAX - MT_META_RESERVE
                   - (w->len - start))
        {
            break;
        }

        mt_jw_str(w, item->u.string.s, item->u.string.len);
        (*tags)++;
    }

    mt_jw_arr_close(w);
}


/*
 * The same fields as mt_meta_from_creator() in the same order, so that
 * the tags a local index keeps are the strings kept here.
 */
int
mt_pinecone_metadata(mt_jw_t *w, const mt_json_t *creator)
{
    size_t            start, tags;
    const mt_json_t  *v, *a;

    mt_jw_obj_open(w);
    start = w->len;
    tags = 0;

    v = mt_json_get(creator, "region");

    if (v != NULL && v->type == MT_JSON_STRING
        && v->u.string.len <= MT_PINECONE_META_MAX / 8)
    {
        mt_jw_key(w, "region");
        mt_jw_str(w, v->u.string.s, v->u.string.len);
        tags++;
    }

    v = mt_json_get(creator, "followerCount");

    if (v != NULL && v->type == MT_JSON_NUMBER && isfinite(v->u.number.d)) {
        mt_jw_key(w, "followerCount");

        if (v->u.number.is_int) {
            mt_jw_int(w, v->u.number.i);

        } else {
            mt_jw_double(w, v->u.number.d);
        }
    }

    v = mt_json_get(creator, "verified");

    if (v != NULL && v->type == MT_JSON_BOOL) {
        mt_jw_key(w, "verified");
        mt_jw_bool(w, v->u.boolean);
    }

    a = mt_json_get(creator, "analysis");

    mt_pinecone_meta_list(w, "primaryNiches", mt_json_get(a, "primaryNiches"),
                          start, &tags);
    mt_pinecone_meta_list(w, "secondaryNiches",
                          mt_json_get(a, "secondaryNiches"), start, &tags);
    mt_pinecone_meta_list(w, "apparentValues",
                          mt_json_get(a, "apparentValues"), start, &tags);

    mt_jw_obj_close(w);

    return mt_jw_failed(w) ? -1 : 0;
}


/* Upsert */

static int
mt_pinecone_record(mt_jw_t *w, const mt_vec_record_t *r, size_t i,
    unsigned dims, char *err, size_t errlen)
{
    if (r->id == NULL || !mt_remote_id_ok(r->id, r->id_len)) {
        return mt_remote_fail(err, errlen, "record %zu: the id is not 1 to "
                              "%d printable ASCII characters", i,
                              MT_PINECONE_ID_MAX);
    }

    if (r->vec == NULL || mt_pinecone_values_ok(r->vec, dims) != 0) {
        return mt_remote_fail(err, errlen, "record %zu: the vector is not "
                              "finite, or zero", i);
    }

    mt_jw_obj_open(w);
    mt_jw_key(w, "id");
    mt_jw_str(w, r->id, r->id_len);
    mt_jw_key(w, "values");
    mt_pinecone_values(w, r->vec, dims);

    if (r->doc != NULL && r->doc->type == MT_JSON_OBJECT) {
        mt_jw_key(w, "metadata");
        (void) mt_pinecone_metadata(w, r->doc);
    }

    mt_jw_obj_close(w);

    if (mt_jw_failed(w)) {
        return mt_remote_fail(err, errlen, "out of memory");
    }

    return 0;
}


int
mt_pinecone_upsert_request(mt_jw_t *body, const mt_vec_record_t *recs,
    size_t n, unsigned dims, const char *namespace_, char *err,
    size_t errlen)
{
    size_t  i;

    if (n == 0 || n > MT_PINECONE_MAX_VECTORS || dims == 0
        || dims > MT_PINECONE_DIMS_MAX)
    {
        return mt_remote_fail(err, errlen, "%zu records of %u dimensions",
                              n, dims);
    }

    mt_jw_obj_open(body);
    mt_jw_key(body, "vectors");
    mt_jw_arr_open(body);

    for (i = 0; i < n; i++) {
        if (mt_pinecone_record(body, &recs[i], i, dims, err, errlen) != 0) {
            return -1;
        }
    }

    mt_jw_arr_close(body);
    mt_pinecone_namespace(body, namespace_);
    mt_jw_obj_close(body);

    if (mt_jw_failed(body)) {
        return mt_remote_fail(err, errlen, "out of memory");
    }

    return 0;
}


/* empties w for another top-level value, keeping its buffer */
static void
mt_jw_reset(mt_jw_t *w)
{
    char    *data;
    size_t   cap;

    data = w->data;
    cap = w->cap;

    mt_jw_init(w);

    w->data = data;
    w->cap = cap;
}


size_t
mt_pinecone_upsert_batch(const mt_vec_record_t *recs, size_t n,
    unsigned dims, const char *namespace_)
{
    size_t   i, total;
    mt_jw_t  w;

    if (n == 0) {
        return 0;
    }

    /* the body without records: {"vectors":[],"namespace":"..."} */
    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "vectors");
    mt_jw_arr_open(&w);
    mt_jw_arr_close(&w);
    mt_pinecone_namespace(&w, namespace_);
    mt_jw_obj_close(&w);

    total = w.len;

    for (i = 0; i < n && i < MT_PINECONE_MAX_VECTORS; i++) {
        mt_jw_reset(&w);

        /* a record refused ends the batch before it: its own is next */
        if (mt_pinecone_record(&w, &recs[i], i, dims, NULL, 0) != 0) {
            break;
        }

        /* the record and the comma before it */
        if (w.len + (i > 0) > MT_PINECONE_BODY_MAX - total) {
            break;
        }

        total += w.len + (i > 0);
    }

    mt_jw_free(&w);

    return (i > 0) ? i : 1;
}


/* Delete */

int
mt_pinecone_delete_request(mt_jw_t *body, const mt_span_t *ids, size_t n,
    const char *namespace_)
{
    size_t  i;

    if (n == 0 || n > MT_PINECONE_MAX_VECTORS) {
        return -1;
    }

    mt_jw_obj_open(body);
    mt_jw_key(body, "ids");
    mt_jw_arr_open(body);

    for (i = 0; i < n; i++) {
        if (!mt_remote_id_ok(ids[i].data, ids[i].len)) {
            return -1;
        }

        mt_jw_str(body, ids[i].data, ids[i].len);
    }

    mt_jw_arr_close(body);
    mt_pinecone_namespace(body, namespace_);
    mt_jw_obj_close(body);

    return mt_jw_failed(body) ? -1 : 0;
}

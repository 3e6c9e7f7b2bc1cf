
/*
 * POST /creators/search, and the vector search that POST /matches shares.
 * Query vectors come from the shared cache when it has them (key: model,
 * embedder state, text hash).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ngx_http_matcher_remote.h"
#include "filter.h"


/* a search as a step: its job owns everything the thread touches */
typedef struct {
    ngx_http_matcher_backends_t   *b;        /* the job's own reference */
    float                         *q;
    ngx_uint_t                     heap_q;   /* q from the heap */
    mt_filter_t                   *f;        /* taken */
    size_t                         k;
    mt_vec_hits_t                  hits;
    int                            rc;
    char                           error[256];
    ngx_http_matcher_hits_pt       next;
    void                          *data;

    /* by a creator's vector: its id, in the job's memory after this */
    char                          *id;
    size_t                         id_len;
    ngx_uint_t                     missing;  /* not in the index */
    ngx_uint_t                    *missing_out; /* the caller's, r->pool */
} ngx_http_matcher_vsearch_t;

/* POST /creators/search between its steps */
typedef struct {
    const mt_json_t               *query;
    mt_vec_hits_t                 *hits;
} ngx_http_matcher_search_t;


static ngx_http_matcher_job_t *ngx_http_matcher_vsearch_alloc(
    ngx_http_request_t *r, ngx_http_matcher_backends_t *b, mt_filter_t *f,
    size_t k, size_t extra, ngx_http_matcher_hits_pt next, void *data);
static void ngx_http_matcher_vsearch_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_vsearch_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_matcher_vsearch_free(void *data);
static void ngx_http_matcher_hits_free(void *data);
static ngx_int_t ngx_http_matcher_search_found(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_vec_hits_t *hits);
static ngx_int_t ngx_http_matcher_search_loaded(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);


static const ngx_http_matcher_job_type_t  ngx_http_matcher_vsearch_job = {
    ngx_http_matcher_vsearch_run, ngx_http_matcher_vsearch_done,
    ngx_http_matcher_vsearch_free
};


/*
 * A query vector: from the cache (key: model, dimensions, embedder
 * state, text), else embedded here and cached.  The local embedder takes
 * tens of microseconds: it runs on the loop.
 */

ngx_int_t
ngx_http_matcher_embed_key(ngx_http_request_t *r, mt_emb_t *emb,
    const char *text, size_t len, ngx_str_t *key)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_HTTP_MATCHER_EMBED_KEY_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    key->len = ngx_snprintf(p, NGX_HTTP_MATCHER_EMBED_KEY_LEN,
                            "%s/%ui/%uL/%016uxL/%uz",
                            emb->ops->model(emb), emb->ops->dims(emb),
                            emb->ops->epoch(emb),
                            mt_index_text_hash(text, len), len)
               - p;

    return NGX_OK;
}


ngx_int_t
ngx_http_matcher_embed_query(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, ngx_http_matcher_backends_t *b,
    const char *text, size_t len, float *out)
{
    char        err[128];
    size_t      size;
    mt_emb_t   *emb;
    mt_span_t   span;
    ngx_int_t   rc;
    ngx_str_t   key, value;
    ngx_uint_t  status;

    emb = b->emb;
    size = emb->ops->dims(emb) * sizeof(float);

    if (ngx_http_matcher_embed_key(r, emb, text, len, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    /* $matcher_cache_status tells the request's first lookup */
    status = ctx->cache_status;

    rc = ngx_http_matcher_cache_get(r, ctx, NGX_HTTP_MATCHER_CACHE_EMBEDDING,
                                    &key, &value);

    if (status != NGX_HTTP_MATCHER_CACHE_NONE) {
        ctx->cache_status = status;
    }

    if (rc == NGX_OK && value.len == size) {
        ngx_memcpy(out, value.data, size);
        return NGX_OK;
    }

    /* a remote embedder goes with a remote index, which never gets here */
    if (emb->ops->embed == NULL) {
        return NGX_ERROR;
    }

    span.data = text;
    span.len = len;

    if (emb->ops->embed(emb, &span, 1, out, err, sizeof(err)) != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "matcher: embedder %s: %s", emb->ops->name, err);
        return NGX_ERROR;
    }

    value.data = (u_char *) out;
    value.len = size;

    ngx_http_matcher_cache_put(r, NGX_HTTP_MATCHER_CACHE_EMBEDDING, &key,
                               &value);

    return NGX_OK;
}


/*
 * The k nearest creators to text among those f admits (f is taken), as
 * steps: the text embedded, then the index queried, on the loop or on
 * the thread pool ("matcher_vectors ... run=pool"), or by remote calls,
 * which take the filter as the body had it (filter, which f compiles).
 * next(r, ctx, data, hits) follows, now or after the search; hits NULL:
 * no index yet, or a remote call failed (ctx->failed says which).  The
 * hits are freed with the request.
 */

ngx_int_t
ngx_http_matcher_vector_search(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const char *text, size_t len,
    mt_filter_t *f, const mt_json_t *filter, size_t k,
    ngx_http_matcher_hits_pt next, void *data)
{
    ngx_http_matcher_job_t        *job;
    ngx_http_matcher_vsearch_t    *vs;
    ngx_http_matcher_backends_t   *b;

    b = ngx_http_matcher_backends(r, ctx);
    if (b == NULL) {
        mt_filter_free(f);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (b->vec == NULL) {
        mt_filter_free(f);
        return next(r, ctx, data, NULL);
    }

    if (b->vec->ops->flags & MT_BACKEND_WIRE) {
        mt_filter_free(f);
        return ngx_http_matcher_remote_search(r, ctx, b, text, len, filter,
                                              k, next, data);
    }

    job = ngx_http_matcher_vsearch_alloc(r, b, f, k, 0, next, data);
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    vs = job->data;

    if (ngx_http_matcher_embed_query(r, ctx, b, text, len, vs->q) != NGX_OK) {
        ngx_http_matcher_job_free(job);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_matcher_step(r, job, &ngx_http_matcher_vsearch_job);
}


/*
 * The k nearest creators to creator id by its vector in the local index
 * (b->vi), among those f admits (f is taken), as one step: the lookup
 * scans the index's slots, so it goes where the search goes, the loop or
 * the thread pool.  *missing is set when id has no vector in the index;
 * next() then gets no hits.  A remote index has no lookup by id here:
 * the caller answers for it, this returns 500.
 */

ngx_int_t
ngx_http_matcher_vector_near(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const u_char *id, size_t id_len,
    mt_filter_t *f, size_t k, ngx_uint_t *missing,
    ngx_http_matcher_hits_pt next, void *data)
{
    ngx_http_matcher_job_t       *job;
    ngx_http_matcher_vsearch_t   *vs;
    ngx_http_matcher_backends_t  *b;

    b = ngx_http_matcher_backends(r, ctx);
    if (b == NULL) {
        mt_filter_free(f);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (b->vec == NULL) {
        mt_filter_free(f);
        return next(r, ctx, data, NULL);
    }

    if (b->vi == NULL || (b->vec->ops->flags & MT_BACKEND_WIRE)) {
        mt_filter_free(f);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job = ngx_http_matcher_vsearch_alloc(r, b, f, k, id_len, next, data);
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    vs = job->data;
    vs->id = (char *) (vs + 1);
    vs->id_len = id_len;
    ngx_memcpy(vs->id, id, id_len);
    vs->missing_out = missing;

    return ngx_http_matcher_step(r, job, &ngx_http_matcher_vsearch_job);
}


/*
 * A search's job, with extra bytes after it, holding f (taken either
 * way), b (referenced) and room for the query vector; NULL: no memory.
 */

static ngx_http_matcher_job_t *
ngx_http_matcher_vsearch_alloc(ngx_http_request_t *r,
    ngx_http_matcher_backends_t *b, mt_filter_t *f, size_t k, size_t extra,
    ngx_http_matcher_hits_pt next, void *data)
{
    size_t                         size;
    ngx_uint_t                     on_loop;
    ngx_http_matcher_job_t        *job;
    ngx_http_matcher_vsearch_t    *vs;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);

    on_loop = (b->vec->ops->flags & MT_BACKEND_SYNC)
              && (mmcf->index_run == NGX_HTTP_MATCHER_RUN_LOOP
                  || (mmcf->index_run == NGX_HTTP_MATCHER_RUN_AUTO
                      && b->vec->ops->count(b->vec)
                         <= NGX_HTTP_MATCHER_RUN_LOOP_MAX));

    job = ngx_http_matcher_step_alloc(r,
                                      sizeof(ngx_http_matcher_vsearch_t)
                                      + extra, on_loop);
    if (job == NULL) {
        mt_filter_free(f);
        return NULL;
    }

    vs = job->data;
    vs->f = f;
    vs->k = k;
    vs->next = next;
    vs->data = data;

    /* the pair stays mapped until the job is freed, request or not */
    vs->b = b;
    ngx_http_matcher_backends_ref(b);
    job->type = &ngx_http_matcher_vsearch_job;

    size = b->emb->ops->dims(b->emb) * sizeof(float);
    vs->heap_q = !on_loop;
    vs->q = on_loop ? ngx_palloc(r->pool, size)
                    : ngx_alloc(size, r->connection->log);

    if (vs->q == NULL) {
        ngx_http_matcher_job_free(job);
        return NULL;
    }

    return job;
}


static void
ngx_http_matcher_vsearch_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_vsearch_t  *vs = data;

    unsigned   dims;
    mt_vec_t  *vec;

    vec = vs->b->vec;
    dims = vs->b->emb->ops->dims(vs->b->emb);

    if (vs->id != NULL) {
        if (mt_vindex_dims(vs->b->vi) != dims) {
            vs->rc = -1;
            ngx_cpystrn((u_char *) vs->error,
                        (u_char *) "the index's dimensions are not the "
                        "embedder's", sizeof(vs->error));
            return;
        }

        if (mt_vindex_get(vs->b->vi, vs->id, vs->id_len, NULL, vs->q) != 0) {
            vs->missing = 1;
            vs->rc = 0;
            return;
        }
    }

    vs->rc = vec->ops->query(vec, vs->q, dims, vs->f, vs->k, &vs->hits,
                             vs->error, sizeof(vs->error));
}


static ngx_int_t
ngx_http_matcher_vsearch_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_vsearch_t  *vs = data;

    mt_vec_hits_t           *hits;
    ngx_pool_cleanup_t      *cln;
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    if (vs->rc != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "matcher: vector search: %s", vs->error);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (vs->missing) {
        *vs->missing_out = 1;
    }

    /* the hits move to the request: the job's memory goes now */

    cln = ngx_pool_cleanup_add(r->pool, sizeof(mt_vec_hits_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    hits = cln->data;
    *hits = vs->hits;
    ngx_memzero(&vs->hits, sizeof(mt_vec_hits_t));
    cln->handler = ngx_http_matcher_hits_free;

    return vs->next(r, ctx, vs->data, hits);
}


static void
ngx_http_matcher_vsearch_free(void *data)
{
    ngx_http_matcher_vsearch_t  *vs = data;

    mt_vec_hits_free(&vs->hits);
    mt_filter_free(vs->f);
    vs->f = NULL;

    if (vs->heap_q) {
        ngx_free(vs->q);
    }

    vs->q = NULL;

    ngx_http_matcher_backends_unref(vs->b);
    vs->b = NULL;
}


static void
ngx_http_matcher_hits_free(void *data)
{
    mt_vec_hits_free(data);
}


ngx_int_t
ngx_http_matcher_search(ngx_http_request_t *r, ngx_http_matcher_ctx_t *ctx)
{
    size_t                      k;
    ngx_int_t                   rc;
    mt_errs_t                   errs;
    mt_filter_t                *f;
    const mt_json_t            *body, *query, *topk, *filter;
    ngx_http_matcher_search_t  *st;

    rc = ngx_http_matcher_parse_body(r, ctx, &body);
    if (body == NULL) {
        return rc;
    }

    if (ngx_http_matcher_store() == NULL) {
        return ngx_http_matcher_no_store(r);
    }

    mt_errs_init(&errs);

    query = mt_json_get(body, "query");
    topk = mt_json_get(body, "topK");
    filter = mt_json_get(body, "filter");
    k = 10;

    if (query == NULL || query->type != MT_JSON_STRING
        || query->u.string.len == 0
        || query->u.string.len > NGX_HTTP_MATCHER_MAX_TEXT)
    {
        mt_errs_add(&errs, query, "must be a non-empty string of at most "
                    "65536 bytes", "query");
    }

    if (topk != NULL) {
        if (topk->type != MT_JSON_NUMBER || !topk->u.number.is_int
            || topk->u.number.i < 1 || topk->u.number.i > 100)
        {
            mt_errs_add(&errs, topk, "must be an integer from 1 to 100",
                        "topK");

        } else {
            k = (size_t) topk->u.number.i;
        }
    }

    f = NULL;

    if (filter != NULL && filter->type != MT_JSON_NULL) {
        f = mt_filter_compile(filter, &errs);
    }

    if (errs.n || errs.oom || query == NULL
        || (filter && filter->type != MT_JSON_NULL && f == NULL))
    {
        mt_filter_free(f);

        if (errs.n == 0) {
            mt_errs_free(&errs);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = ngx_http_matcher_validation_error(r, &errs);
        mt_errs_free(&errs);
        return rc;
    }

    mt_errs_free(&errs);

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_matcher_search_t));
    if (st == NULL) {
        mt_filter_free(f);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st->query = query;

    return ngx_http_matcher_vector_search(r, ctx, query->u.string.s,
                                          query->u.string.len, f,
                                          (filter && filter->type
                                           != MT_JSON_NULL) ? filter : NULL,
                                          k,
                                          ngx_http_matcher_search_found, st);
}


/* the hits' documents, read as a step */

static ngx_int_t
ngx_http_matcher_search_found(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_vec_hits_t *hits)
{
    ngx_http_matcher_search_t *st = data;

    size_t                    i, bytes;
    ngx_http_matcher_read_t  *rd;

    if (hits == NULL) {
        if (ctx->failed) {
            return ngx_http_matcher_remote_error(r, ctx->failed);
        }

        return ngx_http_matcher_no_index(r);
    }

    st->hits = hits;
    bytes = 0;

    for (i = 0; i < hits->n; i++) {
        bytes += hits->hits[i].id_len;
    }

    rd = ngx_http_matcher_read_creators(r, hits->n, bytes);
    if (rd == NULL) {
        return ngx_http_matcher_read_failed(r);
    }

    for (i = 0; i < hits->n; i++) {
        ngx_http_matcher_read_add_id(rd, hits->hits[i].id,
                                     hits->hits[i].id_len);
    }

    rd->next = ngx_http_matcher_search_loaded;
    rd->data = st;

    return ngx_http_matcher_read(r, rd);
}


static ngx_int_t
ngx_http_matcher_search_loaded(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    ngx_http_matcher_search_t *st = rd->data;

    size_t          i;
    mt_jw_t         w;
    ngx_int_t       rc;
    mt_text_t      *doc;
    mt_vec_hit_t   *hit;

    if (rd->rc != MT_STORE_OK) {
        return ngx_http_matcher_read_error(r, rd, "not found");
    }

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "query");
    mt_jw_str(&w, st->query->u.string.s, st->query->u.string.len);
    mt_jw_key(&w, "results");
    mt_jw_arr_open(&w);

    for (i = 0; i < rd->n; i++) {
        doc = &rd->docs[i];
        hit = &st->hits->hits[i];

        /* deleted since it was indexed */
        if (doc->data == NULL) {
            continue;
        }

        mt_jw_obj_open(&w);
        mt_jw_key(&w, "id");
        mt_jw_str(&w, hit->id, hit->id_len);
        mt_jw_key(&w, "score");
        mt_jw_double(&w, (double) hit->score);
        mt_jw_key(&w, "metadata");
        rc = ngx_http_matcher_write_metadata(&w, doc->data, doc->len);
        mt_jw_key(&w, "creator");
        mt_jw_raw(&w, doc->data, doc->len);
        mt_jw_obj_close(&w);

        if (rc != NGX_OK) {
            mt_jw_free(&w);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    mt_jw_arr_close(&w);
    mt_jw_key(&w, "count");
    mt_jw_int(&w, (int64_t) rd->n);
    mt_jw_obj_close(&w);

    return ngx_http_matcher_send(r, NGX_HTTP_OK, &w);
}


/* what Pinecone would hold as the vector's metadata */

ngx_int_t
ngx_http_matcher_write_metadata(mt_jw_t *w, const char *doc, size_t len)
{
    mt_json_err_t     err;
    mt_json_doc_t    *d;
    const mt_json_t  *root, *analysis, *v;
    ngx_uint_t        i;

    static const char  *top[] = { "region", "followerCount", "verified",
                                  NULL };
    static const char  *lists[] = { "primaryNiches", "secondaryNiches",
                                    "apparentValues", NULL };

    d = mt_json_parse_stored(doc, len, &err);
    if (d == NULL) {
        return NGX_ERROR;
    }

    root = mt_json_root(d);
    analysis = mt_json_get(root, "analysis");

    mt_jw_obj_open(w);

    for (i = 0; top[i]; i++) {
        v = mt_json_get(root, top[i]);
        if (v != NULL) {
            mt_jw_key(w, top[i]);
            mt_jw_value(w, v);
        }
    }

    for (i = 0; lists[i] && analysis; i++) {
        v = mt_json_get(analysis, lists[i]);
        if (v != NULL && v->type == MT_JSON_ARRAY) {
            mt_jw_key(w, lists[i]);
            mt_jw_value(w, v);
        }
    }

    mt_jw_obj_close(w);
    mt_json_free(d);

    return NGX_OK;
}


ngx_int_t
ngx_http_matcher_no_index(ngx_http_request_t *r)
{
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);

    /* the index lives beside the store: without one there is none */
    if (mmcf->index_path.len == 0) {
        return ngx_http_matcher_no_store(r);
    }

    return ngx_http_matcher_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "unavailable",
                                  "the vector index is not built yet; "
                                  "retry shortly", NULL, 0);
}

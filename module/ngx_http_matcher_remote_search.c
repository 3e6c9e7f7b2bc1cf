
/*
 * The vector search with remote backends, as two calls: the text to
 * OpenAI's /embeddings (unless the shared zone has its vector), then the
 * vector and the contract's filter, unchanged, to Pinecone's /query.
 * Each call is a subrequest (ngx_http_matcher_remote.c); the request
 * waits for it without holding the event loop.
 *
 * A failed call resumes the caller with no hits and ctx->failed set:
 * matching then ranks on structured signals (isFallback), search answers
 * the call's 502, 503 or 504.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ngx_http_matcher_remote.h"


typedef struct {
    ngx_http_matcher_call_t        call;     /* first: the calls' state */
    ngx_http_matcher_backends_t   *b;
    float                         *q;
    ngx_str_t                      key;      /* of q in the cache */
    const mt_json_t               *filter;   /* the body's, r->pool */
    size_t                         k;
    mt_vec_hits_t                 *hits;     /* freed with the request */
    ngx_http_matcher_hits_pt       next;
    void                          *data;
} ngx_http_matcher_rsearch_t;


static int ngx_http_matcher_rsearch_embed_parse(ngx_http_matcher_call_t *call,
    char *err, size_t errlen);
static ngx_int_t ngx_http_matcher_rsearch_embedded(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call);
static ngx_int_t ngx_http_matcher_rsearch_query(ngx_http_request_t *r,
    ngx_http_matcher_rsearch_t *rs);
static int ngx_http_matcher_rsearch_query_parse(ngx_http_matcher_call_t *call,
    char *err, size_t errlen);
static ngx_int_t ngx_http_matcher_rsearch_queried(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call);
static void ngx_http_matcher_rsearch_hits_free(void *data);


ngx_int_t
ngx_http_matcher_remote_search(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, ngx_http_matcher_backends_t *b,
    const char *text, size_t len, const mt_json_t *filter, size_t k,
    ngx_http_matcher_hits_pt next, void *data)
{
    mt_jw_t                      w;
    mt_emb_t                    *emb;
    ngx_int_t                    rc;
    mt_span_t                    span;
    ngx_str_t                    body, value;
    ngx_uint_t                   status;
    ngx_http_matcher_rsearch_t  *rs;

    emb = b->emb;

    rs = ngx_pcalloc(r->pool, sizeof(ngx_http_matcher_rsearch_t));
    if (rs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rs->b = b;
    rs->filter = filter;
    rs->k = k;
    rs->next = next;
    rs->data = data;
    rs->call.data = rs;

    rs->q = ngx_palloc(r->pool, emb->ops->dims(emb) * sizeof(float));
    if (rs->q == NULL
        || ngx_http_matcher_embed_key(r, emb, text, len, &rs->key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A text embedded before, by any worker, is never sent again.
     * $matcher_cache_status tells the request's first lookup: a match's
     * is its result's, not this one.
     */

    status = ctx->cache_status;

    rc = ngx_http_matcher_cache_get(r, ctx, NGX_HTTP_MATCHER_CACHE_EMBEDDING,
                                    &rs->key, &value);

    if (status != NGX_HTTP_MATCHER_CACHE_NONE) {
        ctx->cache_status = status;
    }

    if (rc == NGX_OK && value.len == emb->ops->dims(emb) * sizeof(float)) {
        ngx_memcpy(rs->q, value.data, value.len);
        return ngx_http_matcher_rsearch_query(r, rs);
    }

    span.data = text;
    span.len = len;

    mt_jw_init(&w);

    if (emb->ops->request(emb, &span, 1, &w) != 0
        || ngx_http_matcher_jw_str(r, &w, &body) != NGX_OK)
    {
        mt_jw_free(&w);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rs->call.remote = NGX_HTTP_MATCHER_REMOTE_EMBEDDINGS;
    rs->call.parse = ngx_http_matcher_rsearch_embed_parse;
    rs->call.next = ngx_http_matcher_rsearch_embedded;

    return ngx_http_matcher_remote_call(r, &rs->call, "embeddings", &body);
}


static int
ngx_http_matcher_rsearch_embed_parse(ngx_http_matcher_call_t *call,
    char *err, size_t errlen)
{
    ngx_http_matcher_rsearch_t *rs = call->data;

    mt_emb_t  *emb;

    emb = rs->b->emb;

    return emb->ops->reply(emb, (char *) call->body.data, call->body.len, 1,
                           rs->q, err, errlen);
}


static ngx_int_t
ngx_http_matcher_rsearch_embedded(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call)
{
    ngx_http_matcher_rsearch_t *rs = call->data;

    ngx_str_t                value;
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    if (call->cause != NGX_HTTP_MATCHER_REMOTE_OK) {
        ctx->failed = call;
        return rs->next(r, ctx, rs->data, NULL);
    }

    value.data = (u_char *) rs->q;
    value.len = rs->b->emb->ops->dims(rs->b->emb) * sizeof(float);

    ngx_http_matcher_cache_put(r, NGX_HTTP_MATCHER_CACHE_EMBEDDING, &rs->key,
                               &value);

    return ngx_http_matcher_rsearch_query(r, rs);
}


static ngx_int_t
ngx_http_matcher_rsearch_query(ngx_http_request_t *r,
    ngx_http_matcher_rsearch_t *rs)
{
    mt_jw_t     w;
    mt_vec_t   *vec;
    ngx_str_t   body;

    vec = rs->b->vec;

    mt_jw_init(&w);

    if (vec->ops->request(vec, rs->q, rs->b->emb->ops->dims(rs->b->emb),
                          rs->filter, rs->k, &w)
        != 0
        || ngx_http_matcher_jw_str(r, &w, &body) != NGX_OK)
    {
        mt_jw_free(&w);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rs->hits = ngx_pcalloc(r->pool, sizeof(mt_vec_hits_t));
    if (rs->hits == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rs->call.remote = NGX_HTTP_MATCHER_REMOTE_VECTORS;
    rs->call.parse = ngx_http_matcher_rsearch_query_parse;
    rs->call.next = ngx_http_matcher_rsearch_queried;

    return ngx_http_matcher_remote_call(r, &rs->call, "query", &body);
}


static int
ngx_http_matcher_rsearch_query_parse(ngx_http_matcher_call_t *call,
    char *err, size_t errlen)
{
    ngx_http_matcher_rsearch_t *rs = call->data;

    mt_vec_t  *vec;

    vec = rs->b->vec;

    return vec->ops->reply(vec, (char *) call->body.data, call->body.len,
                           rs->hits, err, errlen);
}


static ngx_int_t
ngx_http_matcher_rsearch_queried(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call)
{
    ngx_http_matcher_rsearch_t *rs = call->data;

    ngx_pool_cleanup_t      *cln;
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    /* the hits' ids are the heap's, whatever the outcome */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        mt_vec_hits_free(rs->hits);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_matcher_rsearch_hits_free;
    cln->data = rs->hits;

    if (call->cause != NGX_HTTP_MATCHER_REMOTE_OK) {
        ctx->failed = call;
        return rs->next(r, ctx, rs->data, NULL);
    }

    return rs->next(r, ctx, rs->data, rs->hits);
}


static void
ngx_http_matcher_rsearch_hits_free(void *data)
{
    mt_vec_hits_free(data);
}


/* a writer's text into r->pool, the writer freed; NGX_ERROR: no memory */

ngx_int_t
ngx_http_matcher_jw_str(ngx_http_request_t *r, mt_jw_t *w, ngx_str_t *out)
{
    char    *data;
    size_t   len;

    data = mt_jw_take(w, &len);
    if (data == NULL) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data == NULL) {
        free(data);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, data, len);
    out->len = len;
    free(data);

    return NGX_OK;
}


/*
 * POST /creators/embeddings {"texts"} with a remote embedder: the texts
 * the zone does not have, in one call.  At most
 * NGX_HTTP_MATCHER_REMOTE_TEXTS texts: printing 1536 floats a text takes
 * the loop about 0.3 ms, and the reply must fit in the subrequest's
 * buffer (subrequest_output_buffer_size: 8 KB a text in base64).
 */

typedef struct {
    ngx_http_matcher_call_t        call;
    ngx_http_matcher_backends_t   *be;
    const mt_json_t               *texts;
    float                         *vecs;     /* n * dims */
    ngx_str_t                     *keys;
    size_t                        *miss;     /* the texts sent, by index */
    size_t                         nmiss;
} ngx_http_matcher_rembed_t;


static int ngx_http_matcher_rembed_parse(ngx_http_matcher_call_t *call,
    char *err, size_t errlen);
static ngx_int_t ngx_http_matcher_rembed_done(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call);
static ngx_int_t ngx_http_matcher_rembed_reply(ngx_http_request_t *r,
    ngx_http_matcher_rembed_t *re);


ngx_int_t
ngx_http_matcher_remote_embed_texts(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, ngx_http_matcher_backends_t *be,
    const mt_json_t *texts)
{
    size_t                      i, n, size;
    mt_jw_t                     w;
    mt_emb_t                   *emb;
    mt_span_t                  *spans;
    ngx_str_t                   body, value;
    const mt_json_t            *t;
    mt_json_detail_t            detail;
    ngx_http_matcher_rembed_t  *re;

    n = texts->u.array.n;
    emb = be->emb;
    size = emb->ops->dims(emb) * sizeof(float);

    if (n > NGX_HTTP_MATCHER_REMOTE_TEXTS) {
        ngx_memzero(&detail, sizeof(detail));
        detail.field = "texts";
        detail.message = "at most " NGX_HTTP_MATCHER_REMOTE_TEXTS_S
                         " texts a request with a remote embedder";

        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                      "validation_failed", detail.message,
                                      &detail, 1);
    }

    re = ngx_pcalloc(r->pool, sizeof(ngx_http_matcher_rembed_t));
    if (re == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    re->be = be;
    re->texts = texts;
    re->call.data = re;
    re->vecs = ngx_palloc(r->pool, n * size);
    re->keys = ngx_palloc(r->pool, n * sizeof(ngx_str_t));
    re->miss = ngx_palloc(r->pool, n * sizeof(size_t));
    spans = ngx_palloc(r->pool, n * sizeof(mt_span_t));

    if (re->vecs == NULL || re->keys == NULL || re->miss == NULL
        || spans == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        t = texts->u.array.items[i];

        if (ngx_http_matcher_embed_key(r, emb, t->u.string.s,
                                       t->u.string.len, &re->keys[i])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_matcher_cache_get(r, ctx,
                                       NGX_HTTP_MATCHER_CACHE_EMBEDDING,
                                       &re->keys[i], &value)
            == NGX_OK
            && value.len == size)
        {
            ngx_memcpy((u_char *) re->vecs + i * size, value.data, size);
            continue;
        }

        spans[re->nmiss].data = t->u.string.s;
        spans[re->nmiss].len = t->u.string.len;
        re->miss[re->nmiss++] = i;
    }

    if (re->nmiss == 0) {
        return ngx_http_matcher_rembed_reply(r, re);
    }

    mt_jw_init(&w);

    if (emb->ops->request(emb, spans, re->nmiss, &w) != 0
        || ngx_http_matcher_jw_str(r, &w, &body) != NGX_OK)
    {
        mt_jw_free(&w);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    re->call.remote = NGX_HTTP_MATCHER_REMOTE_EMBEDDINGS;
    re->call.parse = ngx_http_matcher_rembed_parse;
    re->call.next = ngx_http_matcher_rembed_done;

    return ngx_http_matcher_remote_call(r, &re->call, "embeddings", &body);
}


static int
ngx_http_matcher_rembed_parse(ngx_http_matcher_call_t *call, char *err,
    size_t errlen)
{
    ngx_http_matcher_rembed_t *re = call->data;

    size_t     i, size;
    float     *out;
    mt_emb_t  *emb;

    emb = re->be->emb;
    size = emb->ops->dims(emb) * sizeof(float);

    out = ngx_palloc(call->pool, re->nmiss * size);
    if (out == NULL) {
        ngx_cpystrn((u_char *) err, (u_char *) "no memory", errlen);
        return -1;
    }

    if (emb->ops->reply(emb, (char *) call->body.data, call->body.len,
                        re->nmiss, out, err, errlen)
        != 0)
    {
        return -1;
    }

    for (i = 0; i < re->nmiss; i++) {
        ngx_memcpy((u_char *) re->vecs + re->miss[i] * size,
                   (u_char *) out + i * size, size);
    }

    return 0;
}


static ngx_int_t
ngx_http_matcher_rembed_done(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call)
{
    ngx_http_matcher_rembed_t *re = call->data;

    size_t      i, size;
    ngx_str_t   value;

    if (call->cause != NGX_HTTP_MATCHER_REMOTE_OK) {
        return ngx_http_matcher_remote_error(r, call);
    }

    size = re->be->emb->ops->dims(re->be->emb) * sizeof(float);

    for (i = 0; i < re->nmiss; i++) {
        value.data = (u_char *) re->vecs + re->miss[i] * size;
        value.len = size;
        ngx_http_matcher_cache_put(r, NGX_HTTP_MATCHER_CACHE_EMBEDDING,
                                   &re->keys[re->miss[i]], &value);
    }

    return ngx_http_matcher_rembed_reply(r, re);
}


static ngx_int_t
ngx_http_matcher_rembed_reply(ngx_http_request_t *r,
    ngx_http_matcher_rembed_t *re)
{
    size_t      i, n;
    mt_jw_t     w;
    unsigned    dims;
    mt_emb_t   *emb;

    emb = re->be->emb;
    dims = emb->ops->dims(emb);
    n = re->texts->u.array.n;

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "embeddings");
    mt_jw_arr_open(&w);

    for (i = 0; i < n; i++) {
        ngx_http_matcher_write_vector(&w, re->vecs + i * dims, dims);
    }

    ngx_http_matcher_write_embeddings(&w, n, emb);

    return ngx_http_matcher_send(r, NGX_HTTP_OK, &w);
}

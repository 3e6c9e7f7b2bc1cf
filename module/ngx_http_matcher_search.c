
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
#include "filter.h"


/*
 * A query vector: from the cache, else embedded here (tens of
 * microseconds: the local embedder runs on the loop) and cached.
 */

ngx_int_t
ngx_http_matcher_embed_query(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const mt_embedder_t *emb, uint64_t epoch,
    const char *text, size_t len, float *out)
{
    u_char      buf[128];
    size_t      size;
    ngx_int_t   rc;
    ngx_str_t   key, value;
    ngx_uint_t  status;

    size = mt_embedder_dims(emb) * sizeof(float);

    key.data = buf;
    key.len = ngx_snprintf(buf, sizeof(buf), "%s/%ui/%uL/%016uxL/%uz",
                           MT_INDEX_MODEL, mt_embedder_dims(emb), epoch,
                           mt_index_text_hash(text, len), len)
              - buf;

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

    if (mt_embed(emb, text, len, out) != 0) {
        return NGX_ERROR;
    }

    value.data = (u_char *) out;
    value.len = size;

    ngx_http_matcher_cache_put(r, NGX_HTTP_MATCHER_CACHE_EMBEDDING, &key,
                               &value);

    return NGX_OK;
}


/*
 * The k nearest creators to text among those f admits.  NGX_DECLINED:
 * no index yet; NGX_ERROR: out of memory.
 */

ngx_int_t
ngx_http_matcher_vector_search(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const char *text, size_t len,
    const mt_filter_t *f, size_t k, mt_vhit_t *hits, size_t *n,
    mt_vindex_t **vip)
{
    float                *q;
    mt_vindex_t          *vi;
    const mt_embedder_t  *emb;

    vi = ngx_http_matcher_index_reader(r->connection->log, &emb);
    if (vi == NULL) {
        return NGX_DECLINED;
    }

    q = ngx_palloc(r->pool, mt_embedder_dims(emb) * sizeof(float));
    if (q == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_matcher_embed_query(r, ctx, emb, mt_vindex_model_epoch(vi),
                                     text, len, q)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    *n = mt_vindex_search(vi, q, f, k, hits);
    *vip = vi;

    return NGX_OK;
}


ngx_int_t
ngx_http_matcher_search(ngx_http_request_t *r, ngx_http_matcher_ctx_t *ctx)
{
    size_t             i, n, k, id_len;
    mt_jw_t            w;
    ngx_int_t          rc;
    mt_errs_t          errs;
    mt_vhit_t         *hits;
    mt_text_t          doc;
    mt_store_t        *s;
    mt_filter_t       *f;
    mt_vindex_t       *vi;
    mt_store_rc_t      src;
    const char        *id;
    const mt_json_t   *body, *query, *topk, *filter;

    rc = ngx_http_matcher_parse_body(r, ctx, &body);
    if (body == NULL) {
        return rc;
    }

    s = ngx_http_matcher_store();
    if (s == NULL) {
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

    hits = ngx_palloc(r->pool, k * sizeof(mt_vhit_t));
    if (hits == NULL) {
        mt_filter_free(f);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_matcher_vector_search(r, ctx, query->u.string.s,
                                        query->u.string.len, f, k, hits, &n,
                                        &vi);
    mt_filter_free(f);

    if (rc == NGX_DECLINED) {
        return ngx_http_matcher_no_index(r);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "query");
    mt_jw_str(&w, query->u.string.s, query->u.string.len);
    mt_jw_key(&w, "results");
    mt_jw_arr_open(&w);

    for (i = 0; i < n; i++) {
        id = mt_vindex_id(vi, hits[i].slot, &id_len);

        /* an LMDB read: a microsecond from the mapped file */
        src = s->ops->creator_get(s, id, id_len, &doc, NULL);

        if (src == MT_STORE_NOT_FOUND) {
            continue;
        }

        if (src != MT_STORE_OK) {
            mt_jw_free(&w);
            return ngx_http_matcher_store_error(r, src, "not found",
                                                mt_store_error(s));
        }

        mt_jw_obj_open(&w);
        mt_jw_key(&w, "id");
        mt_jw_str(&w, id, id_len);
        mt_jw_key(&w, "score");
        mt_jw_double(&w, (double) hits[i].score);
        mt_jw_key(&w, "metadata");
        rc = ngx_http_matcher_write_metadata(&w, doc.data, doc.len);
        mt_jw_key(&w, "creator");
        mt_jw_raw(&w, doc.data, doc.len);
        mt_jw_obj_close(&w);

        free(doc.data);

        if (rc != NGX_OK) {
            mt_jw_free(&w);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    mt_jw_arr_close(&w);
    mt_jw_key(&w, "count");
    mt_jw_int(&w, (int64_t) n);
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

    d = mt_json_parse(doc, len, NULL, &err, NULL, 0);
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


/*
 * Lookalike creators: GET /creators/{uniqueId}/similar?topK=10 and
 * POST /creators/{uniqueId}/similar {"topK", "filter"}.  The creator's
 * own vector in the local index is searched like a query (the search's
 * step, on the loop or the thread pool), the creator itself left out,
 * and each result says what the two share (lib/similar.c).  Replies are
 * cached in the shared zone under the index generation, which moves on
 * every ingest and embedding, so a hit is never stale.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "filter.h"
#include "similar.h"


/* the longest uniqueId the contract allows: a longer one is not stored */
#define NGX_HTTP_MATCHER_UNIQUE_ID_MAX  100


/* a lookalike request between its steps, in r->pool */
typedef struct {
    ngx_str_t                      id;
    size_t                         k;
    mt_filter_t                   *f;        /* until the search takes it */
    ngx_str_t                      key;      /* the cache's */
    const mt_json_t               *creator;  /* the creator's own */
    mt_vec_hits_t                 *hits;
    ngx_uint_t                     missing;  /* no vector in the index */
} ngx_http_matcher_similar_t;


static ngx_int_t ngx_http_matcher_similar_args(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, ngx_http_matcher_similar_t *st,
    const mt_json_t **filter, ngx_int_t *reply);
static ngx_int_t ngx_http_matcher_similar_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
static ngx_int_t ngx_http_matcher_similar_found(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_vec_hits_t *hits);
static ngx_int_t ngx_http_matcher_similar_loaded(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
static ngx_int_t ngx_http_matcher_similar_result(mt_jw_t *w,
    const mt_json_t *creator, mt_vec_hit_t *hit, mt_text_t *doc);


/*
 * The steps: the arguments checked and the cache looked in, the creator
 * read (a 404 before any search), its vector looked up and searched
 * (one step), the neighbours read, and the reply cached.
 */

ngx_int_t
ngx_http_matcher_similar(ngx_http_request_t *r, ngx_http_matcher_ctx_t *ctx)
{
    u_char                       *p;
    mt_jw_t                       w;
    uint64_t                      gen;
    ngx_int_t                     rc;
    ngx_str_t                     value;
    const mt_json_t              *filter;
    ngx_http_matcher_read_t      *rd;
    ngx_http_matcher_similar_t   *st;
    ngx_http_matcher_backends_t  *b;

    if (ngx_http_matcher_store() == NULL) {
        return ngx_http_matcher_no_store(r);
    }

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_matcher_similar_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st->id = ctx->params[0];

    if (st->id.len > NGX_HTTP_MATCHER_UNIQUE_ID_MAX) {
        return ngx_http_matcher_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      "creator not found", NULL, 0);
    }

    if (ngx_http_matcher_similar_args(r, ctx, st, &filter, &rc) != NGX_OK) {
        return rc;
    }

    b = ngx_http_matcher_backends(r, ctx);
    if (b == NULL) {
        mt_filter_free(st->f);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A remote index is asked by text only: a creator's vector would
     * have to be fetched from it first, a call it has no client for yet.
     */

    if (b->vec != NULL
        && ((b->vec->ops->flags & MT_BACKEND_WIRE) || b->vi == NULL))
    {
        mt_filter_free(st->f);
        return ngx_http_matcher_error(r, NGX_HTTP_NOT_IMPLEMENTED,
                                      "not_implemented",
                                      "similar creators need the local "
                                      "vector index", NULL, 0);
    }

    /* the generation and the id: an id is at most 100 bytes, so is this */

    gen = b->vec ? b->vec->ops->generation(b->vec) : 0;

    p = ngx_pnalloc(r->pool, 64 + st->id.len);
    if (p == NULL) {
        mt_filter_free(st->f);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st->key.data = p;
    st->key.len = ngx_snprintf(p, 64 + st->id.len, "%uL/%uz/%016uxL/%V",
                               gen, st->k,
                               filter ? mt_json_hash(filter) : 0, &st->id)
                  - p;

    if (b->vec != NULL
        && ngx_http_matcher_cache_get(r, ctx, NGX_HTTP_MATCHER_CACHE_SIMILAR,
                                      &st->key, &value)
           == NGX_OK)
    {
        mt_filter_free(st->f);
        mt_jw_init(&w);
        mt_jw_raw(&w, (char *) value.data, value.len);
        return ngx_http_matcher_send(r, NGX_HTTP_OK, &w);
    }

    rd = ngx_http_matcher_read_creators(r, 1, st->id.len);
    if (rd == NULL) {
        mt_filter_free(st->f);
        return ngx_http_matcher_read_failed(r);
    }

    ngx_http_matcher_read_add_id(rd, (const char *) st->id.data, st->id.len);
    rd->next = ngx_http_matcher_similar_got;
    rd->data = st;

    return ngx_http_matcher_read(r, rd);
}


/*
 * topK (1 to 100, default 10, as POST /creators/search) from the query
 * string of a GET or the body of a POST, with the filter compiled into
 * st->f: NGX_OK; else NGX_DONE, and *reply is the code of the reply sent
 * (which may itself be NGX_OK).
 */

static ngx_int_t
ngx_http_matcher_similar_args(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, ngx_http_matcher_similar_t *st,
    const mt_json_t **filter, ngx_int_t *reply)
{
    int64_t            k;
    ngx_int_t          rc;
    mt_errs_t          errs;
    mt_json_detail_t   detail;
    const mt_json_t   *body, *topk;

    *filter = NULL;
    st->k = 10;

    if (r->method != NGX_HTTP_POST) {
        ngx_memzero(&detail, sizeof(detail));

        rc = ngx_http_matcher_query_int(r, "topK", 1, 100, 10, &k, &detail);

        if (rc == NGX_ERROR) {
            *reply = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_DONE;
        }

        if (rc == NGX_DECLINED) {
            *reply = ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                            "validation_failed",
                                            "request validation failed",
                                            &detail, 1);
            return NGX_DONE;
        }

        st->k = (size_t) k;

        return NGX_OK;
    }

    *reply = ngx_http_matcher_parse_body(r, ctx, &body);
    if (body == NULL) {
        return NGX_DONE;
    }

    mt_errs_init(&errs);

    if (body->type != MT_JSON_OBJECT) {
        mt_errs_add(&errs, body, "must be an object", "body");
    }

    topk = mt_json_get(body, "topK");
    *filter = mt_json_get(body, "filter");

    if (topk != NULL) {
        if (topk->type != MT_JSON_NUMBER || !topk->u.number.is_int
            || topk->u.number.i < 1 || topk->u.number.i > 100)
        {
            mt_errs_add(&errs, topk, "must be an integer from 1 to 100",
                        "topK");

        } else {
            st->k = (size_t) topk->u.number.i;
        }
    }

    if (*filter != NULL && (*filter)->type == MT_JSON_NULL) {
        *filter = NULL;
    }

    if (*filter != NULL) {
        st->f = mt_filter_compile(*filter, &errs);
    }

    if (errs.n || errs.oom || (*filter != NULL && st->f == NULL)) {
        mt_filter_free(st->f);
        st->f = NULL;

        if (errs.n == 0) {
            mt_errs_free(&errs);
            *reply = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_DONE;
        }

        *reply = ngx_http_matcher_validation_error(r, &errs);
        mt_errs_free(&errs);
        return NGX_DONE;
    }

    mt_errs_free(&errs);

    return NGX_OK;
}


/* the creator itself: 404 when unknown, else its neighbours searched */

static ngx_int_t
ngx_http_matcher_similar_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    ngx_http_matcher_similar_t *st = rd->data;

    mt_filter_t             *f;
    mt_json_doc_t           *doc;
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    /* the search takes the filter now, whatever the read says */
    f = st->f;
    st->f = NULL;

    if (rd->rc == MT_STORE_OK && rd->found == 0) {
        rd->rc = MT_STORE_NOT_FOUND;
    }

    if (rd->rc != MT_STORE_OK) {
        mt_filter_free(f);
        return ngx_http_matcher_read_error(r, rd, "creator not found");
    }

    doc = ngx_http_matcher_read_parse(r, &rd->docs[0]);
    if (doc == NULL) {
        mt_filter_free(f);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st->creator = mt_json_root(doc);

    /* one more than asked: the creator itself is its own nearest */
    return ngx_http_matcher_vector_near(r, ctx, st->id.data, st->id.len, f,
                                        st->k + 1, &st->missing,
                                        ngx_http_matcher_similar_found, st);
}


static ngx_int_t
ngx_http_matcher_similar_found(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_vec_hits_t *hits)
{
    ngx_http_matcher_similar_t *st = data;

    size_t                    i, bytes;
    ngx_http_matcher_read_t  *rd;

    if (hits == NULL) {
        return ngx_http_matcher_no_index(r);
    }

    if (st->missing) {
        return ngx_http_matcher_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable",
                                      "the creator is not indexed yet; "
                                      "retry shortly", NULL, 0);
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

    rd->next = ngx_http_matcher_similar_loaded;
    rd->data = st;

    return ngx_http_matcher_read(r, rd);
}


/* {"uniqueId", "results": [{"id", "creatorId", "score", ...}], "count"} */

static ngx_int_t
ngx_http_matcher_similar_loaded(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    ngx_http_matcher_similar_t *st = rd->data;

    size_t         i, n;
    mt_jw_t        w;
    ngx_str_t      value;
    mt_vec_hit_t  *hit;

    if (rd->rc != MT_STORE_OK) {
        return ngx_http_matcher_read_error(r, rd, "not found");
    }

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "uniqueId");
    mt_jw_str(&w, (char *) st->id.data, st->id.len);
    mt_jw_key(&w, "results");
    mt_jw_arr_open(&w);

    n = 0;

    for (i = 0; i < rd->n && n < st->k; i++) {
        hit = &st->hits->hits[i];

        /* itself, or deleted since it was indexed */
        if (rd->docs[i].data == NULL
            || (hit->id_len == st->id.len
                && ngx_strncmp(hit->id, st->id.data, st->id.len) == 0))
        {
            continue;
        }

        if (ngx_http_matcher_similar_result(&w, st->creator, hit,
                                            &rd->docs[i])
            != NGX_OK)
        {
            mt_jw_free(&w);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n++;
    }

    mt_jw_arr_close(&w);
    mt_jw_key(&w, "count");
    mt_jw_int(&w, (int64_t) n);
    mt_jw_obj_close(&w);

    if (mt_jw_failed(&w)) {
        mt_jw_free(&w);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.data = (u_char *) w.data;
    value.len = w.len;

    ngx_http_matcher_cache_put(r, NGX_HTTP_MATCHER_CACHE_SIMILAR, &st->key,
                               &value);

    return ngx_http_matcher_send(r, NGX_HTTP_OK, &w);
}


static ngx_int_t
ngx_http_matcher_similar_result(mt_jw_t *w, const mt_json_t *creator,
    mt_vec_hit_t *hit, mt_text_t *doc)
{
    ngx_int_t       rc;
    mt_shared_t     shared;
    mt_json_err_t   err;
    mt_json_doc_t  *d;

    d = mt_json_parse(doc->data, doc->len, NULL, &err, NULL, 0);
    if (d == NULL) {
        return NGX_ERROR;
    }

    mt_shared(creator, mt_json_root(d), &shared);

    mt_jw_obj_open(w);
    mt_jw_key(w, "id");
    mt_jw_str(w, hit->id, hit->id_len);
    mt_jw_key(w, "creatorId");
    mt_jw_str(w, hit->id, hit->id_len);
    mt_jw_key(w, "score");
    mt_jw_double(w, (double) hit->score);
    mt_jw_key(w, "shared");
    mt_shared_write(&shared, w);
    mt_jw_key(w, "metadata");
    rc = ngx_http_matcher_write_metadata(w, doc->data, doc->len);
    mt_jw_key(w, "creator");
    mt_jw_raw(w, doc->data, doc->len);
    mt_jw_obj_close(w);

    mt_json_free(d);

    return rc;
}

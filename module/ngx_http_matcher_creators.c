
/*
 * Creators: GET /creators, GET /creators/{uniqueId} and
 * POST /creators/ingest.  Replies are bare objects, as the creator
 * service's were.  Ingest parses and writes on the thread pool: a 64 MB
 * batch would stall the loop for many milliseconds.
 */


#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ingest.h"


typedef struct {
    u_char                       *body;        /* NULL: reload the file */
    size_t                        body_len;
    char                         *path;
    mt_ingest_format_t            format;
    mt_json_limits_t              limits;
    int64_t                       now_ms;
    int                           rc;
    mt_ingest_result_t            res;
} ngx_http_matcher_ingest_t;


static ngx_int_t ngx_http_matcher_creator_list(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
static ngx_int_t ngx_http_matcher_creator_listed(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
static ngx_int_t ngx_http_matcher_creator_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
static ngx_int_t ngx_http_matcher_creator_get(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
static ngx_int_t ngx_http_matcher_creator_ingest(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
static void ngx_http_matcher_ingest_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_ingest_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_matcher_ingest_free(void *data);


ngx_http_matcher_route_t  ngx_http_matcher_creator_routes[] = {

    { ngx_string(""), NGX_HTTP_GET,
      ngx_http_matcher_creator_list, 0, 0, 0, 0 },

    { ngx_string("ingest"), NGX_HTTP_POST,
      ngx_http_matcher_creator_ingest, 1, 1, 1, 0 },

    { ngx_string("embeddings"), NGX_HTTP_POST,
      ngx_http_matcher_embeddings, 0, 0, 0, 1 },

    { ngx_string("search"), NGX_HTTP_POST,
      ngx_http_matcher_search, 0, 0, 0, 1 },

    { ngx_string("embeddings/refresh"), NGX_HTTP_POST,
      ngx_http_matcher_refresh, 1, 0, 0, 0 },

    { ngx_string("embeddings/refresh/{}"), NGX_HTTP_GET,
      ngx_http_matcher_refresh_get, 0, 0, 0, 0 },

    { ngx_string("{}"), NGX_HTTP_GET,
      ngx_http_matcher_creator_get, 0, 0, 0, 0 },

    /* lookalikes: GET takes topK in the query, POST a filter too */
    { ngx_string("{}/similar"), NGX_HTTP_GET|NGX_HTTP_POST,
      ngx_http_matcher_similar, 0, 0, 0, 1 },

    { ngx_null_string, 0, NULL, 0, 0, 0, 0 }
};


static const ngx_http_matcher_job_type_t  ngx_http_matcher_ingest_job = {
    ngx_http_matcher_ingest_run, ngx_http_matcher_ingest_done,
    ngx_http_matcher_ingest_free
};


static ngx_int_t
ngx_http_matcher_creator_list(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    int64_t                   page, limit;
    ngx_str_t                 region, niche;
    ngx_int_t                 rc;
    ngx_uint_t                nd;
    mt_json_detail_t          details[4];
    mt_creator_query_t        q;
    ngx_http_matcher_read_t  *rd;

    ngx_memzero(details, sizeof(details));
    ngx_memzero(&q, sizeof(q));
    nd = 0;

    rc = ngx_http_matcher_query_int(r, "page", 1, 1000000, 1, &page,
                                    &details[nd]);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nd += (rc == NGX_DECLINED);

    rc = ngx_http_matcher_query_int(r, "limit", 1, 100, 20, &limit,
                                    &details[nd]);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nd += (rc == NGX_DECLINED);

    rc = ngx_http_matcher_query_str(r, "region", &region);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_ABORT) {
        details[nd].field = "region";
        details[nd++].message = NGX_HTTP_MATCHER_QUERY_REFUSED;

    } else if (rc == NGX_OK && region.len > MT_REGION_MAX) {
        details[nd].field = "region";
        details[nd++].message = "must be at most 10 characters";

    } else if (rc == NGX_OK && region.len) {
        q.region = (const char *) region.data;

    } else {
        region.len = 0;
    }

    rc = ngx_http_matcher_query_str(r, "niche", &niche);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_ABORT) {
        details[nd].field = "niche";
        details[nd++].message = NGX_HTTP_MATCHER_QUERY_REFUSED;

    } else if (rc == NGX_OK && niche.len > 400) {
        details[nd].field = "niche";
        details[nd++].message = "must be at most 100 characters of UTF-8";

    } else if (rc == NGX_OK && niche.len) {
        q.niche = (const char *) niche.data;

    } else {
        niche.len = 0;
    }

    if (nd) {
        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                      "validation_failed",
                                      "request validation failed",
                                      details, nd);
    }

    rd = ngx_http_matcher_read_alloc(r, NGX_HTTP_MATCHER_READ_CREATOR_LIST,
                                     region.len + niche.len + 2);
    if (rd == NULL) {
        return ngx_http_matcher_read_failed(r);
    }

    rd->list.region = q.region ? ngx_http_matcher_read_copy(rd, region.data,
                                                            region.len)
                               : NULL;
    rd->list.niche = q.niche ? ngx_http_matcher_read_copy(rd, niche.data,
                                                          niche.len)
                             : NULL;
    rd->list.skip = (size_t) ((page - 1) * limit);
    rd->list.limit = (size_t) limit;
    rd->next = ngx_http_matcher_creator_listed;

    return ngx_http_matcher_read(r, rd);
}


static ngx_int_t
ngx_http_matcher_creator_listed(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    size_t   i, page, limit;
    mt_jw_t  w;

    if (rd->rc != MT_STORE_OK) {
        return ngx_http_matcher_read_error(r, rd, "not found");
    }

    limit = rd->list.limit;
    page = rd->list.skip / limit + 1;

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "creators");
    mt_jw_arr_open(&w);

    for (i = 0; i < rd->n; i++) {
        mt_jw_raw(&w, rd->docs[i].data, rd->docs[i].len);
    }

    mt_jw_arr_close(&w);

    mt_jw_key(&w, "pagination");
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "page");
    mt_jw_int(&w, (int64_t) page);
    mt_jw_key(&w, "limit");
    mt_jw_int(&w, (int64_t) limit);
    mt_jw_key(&w, "total");
    mt_jw_int(&w, (int64_t) rd->total);
    mt_jw_key(&w, "pages");
    mt_jw_int(&w, (int64_t) ((rd->total + limit - 1) / limit));
    mt_jw_obj_close(&w);
    mt_jw_obj_close(&w);

    return ngx_http_matcher_send(r, NGX_HTTP_OK, &w);
}


static ngx_int_t
ngx_http_matcher_creator_get(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    ngx_http_matcher_read_t  *rd;

    rd = ngx_http_matcher_read_creators(r, 1, ctx->params[0].len);
    if (rd == NULL) {
        return ngx_http_matcher_read_failed(r);
    }

    ngx_http_matcher_read_add_id(rd, (const char *) ctx->params[0].data,
                                 ctx->params[0].len);
    rd->next = ngx_http_matcher_creator_got;

    return ngx_http_matcher_read(r, rd);
}


static ngx_int_t
ngx_http_matcher_creator_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    mt_jw_t  w;

    if (rd->rc == MT_STORE_OK && rd->found == 0) {
        rd->rc = MT_STORE_NOT_FOUND;
    }

    if (rd->rc != MT_STORE_OK) {
        return ngx_http_matcher_read_error(r, rd, "creator not found");
    }

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "creator");
    mt_jw_raw(&w, rd->docs[0].data, rd->docs[0].len);
    mt_jw_obj_close(&w);

    return ngx_http_matcher_send(r, NGX_HTTP_OK, &w);
}


static ngx_int_t
ngx_http_matcher_creator_ingest(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    ngx_http_matcher_job_t        *job;
    ngx_http_matcher_ingest_t     *ingest;
    ngx_http_matcher_loc_conf_t   *mlcf;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_matcher_module);

    if (ctx->body_len == 0 && mmcf->creators_file.len == 0) {
        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                      "validation_failed",
                                      "send creators, or configure "
                                      "matcher_creators_file to reload",
                                      NULL, 0);
    }

    if (ngx_http_matcher_store() == NULL) {
        return ngx_http_matcher_no_store(r);
    }

    job = ngx_http_matcher_job_alloc(r, sizeof(ngx_http_matcher_ingest_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ingest = job->data;
    ingest->format = ctx->ndjson ? MT_INGEST_NDJSON : MT_INGEST_JSON;
    ingest->limits.max_size = mlcf->ingest_max_body_size;
    ingest->limits.max_depth = mlcf->json_max_depth;
    ingest->limits.max_string = mlcf->max_body_size;
    ingest->now_ms = ngx_http_matcher_now_ms();

    if (ctx->body_len) {
        ingest->body = ngx_http_matcher_take_body(ctx, &ingest->body_len);

    } else {
        ingest->path = (char *) mmcf->creators_file.data;
    }

    return ngx_http_matcher_job_start(r, job, &ngx_http_matcher_ingest_job);
}


static void
ngx_http_matcher_ingest_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_ingest_t  *ingest = data;

    mt_store_t  *s;

    s = ngx_http_matcher_store();

    if (ingest->path) {
        ingest->rc = mt_ingest_file(s, ingest->path, &ingest->limits,
                                    ingest->now_ms, &ingest->res);
        return;
    }

    ingest->rc = mt_ingest(s, (const char *) ingest->body, ingest->body_len,
                           ingest->format, &ingest->limits, ingest->now_ms,
                           &ingest->res);
}


static ngx_int_t
ngx_http_matcher_ingest_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_ingest_t  *ingest = data;

    char                  msg[128];
    size_t                i;
    mt_jw_t               w;
    mt_ingest_result_t   *res;
    mt_ingest_failure_t  *f;

    res = &ingest->res;

    /* new texts to embed: the index catches up in the background */
    if (res->inserted + res->updated > 0) {
        ngx_http_matcher_index_kick(r->connection->log);
    }

    switch (res->status) {

    case MT_INGEST_OK:
        break;

    case MT_INGEST_BAD_JSON:
        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                      res->error, NULL, 0);

    case MT_INGEST_BAD_SHAPE:
        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                      "validation_failed", res->error,
                                      NULL, 0);

    case MT_INGEST_STORE:
        return ngx_http_matcher_store_error(r, res->rc, "not found",
                                            res->error);

    case MT_INGEST_IO:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "matcher: reloading creators: %s", res->error);
        return ngx_http_matcher_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal",
                                      "cannot read the creators file",
                                      NULL, 0);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (res->nfailed < res->nfailed_total) {
        ngx_snprintf((u_char *) msg, sizeof(msg),
                     "ingested %uz creators; %uz failed, the first %uz "
                     "listed%Z", res->count, res->nfailed_total,
                     res->nfailed);

    } else {
        ngx_snprintf((u_char *) msg, sizeof(msg), "ingested %uz creators%Z",
                     res->count);
    }

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "message");
    mt_jw_cstr(&w, msg);
    mt_jw_key(&w, "count");
    mt_jw_int(&w, (int64_t) res->count);
    mt_jw_key(&w, "inserted");
    mt_jw_int(&w, (int64_t) res->inserted);
    mt_jw_key(&w, "updated");
    mt_jw_int(&w, (int64_t) res->updated);
    mt_jw_key(&w, "unchanged");
    mt_jw_int(&w, (int64_t) res->unchanged);
    mt_jw_key(&w, "failed");
    mt_jw_arr_open(&w);

    for (i = 0; i < res->nfailed; i++) {
        f = &res->failed[i];

        mt_jw_obj_open(&w);
        mt_jw_key(&w, "index");
        mt_jw_int(&w, (int64_t) f->index);
        mt_jw_key(&w, "uniqueId");
        mt_jw_cstr(&w, f->unique_id[0] ? f->unique_id : NULL);
        mt_jw_key(&w, "error");
        mt_jw_cstr(&w, f->error);
        mt_jw_obj_close(&w);
    }

    mt_jw_arr_close(&w);

    /*
     * added to the contract's fields: "failed" holds the first
     * MT_INGEST_FAILED_MAX failures only (a hostile body can fail
     * millions), so the total and whether the list was cut are said
     */
    mt_jw_key(&w, "failedCount");
    mt_jw_int(&w, (int64_t) res->nfailed_total);
    mt_jw_key(&w, "failedTruncated");
    mt_jw_bool(&w, res->nfailed < res->nfailed_total);
    mt_jw_obj_close(&w);

    return ngx_http_matcher_send(r, NGX_HTTP_OK, &w);
}


static void
ngx_http_matcher_ingest_free(void *data)
{
    ngx_http_matcher_ingest_t  *ingest = data;

    ngx_free(ingest->body);
    mt_ingest_result_free(&ingest->res);
}

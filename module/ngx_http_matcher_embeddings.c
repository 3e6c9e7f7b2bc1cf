
/*
 * POST /creators/embeddings: vectors for texts (on the loop, cached, or
 * on the thread pool for a big batch), or creators embedded and indexed
 * now (on the thread pool).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ngx_http_matcher_remote.h"


#define NGX_HTTP_MATCHER_MAX_TEXTS     2048
#define NGX_HTTP_MATCHER_MAX_IDS       1000

/* texts embedded on the loop at most; more go to the thread pool */
#define NGX_HTTP_MATCHER_LOOP_TEXTS    8
#define NGX_HTTP_MATCHER_LOOP_BYTES    ((size_t) 16 * 1024)


/* a big batch of texts, embedded and written on a pool thread */
typedef struct {
    ngx_http_matcher_backends_t    *be;       /* the job's reference */
    char                           *texts;    /* heap, NUL-separated */
    size_t                         *lens;
    size_t                          n;
    mt_jw_t                         out;
    char                            error[256];
} ngx_http_matcher_embed_batch_t;

typedef struct {
    ngx_http_matcher_index_task_t   task;
    char                          **ids;      /* heap, with their text */
    size_t                         *lens;
    int                            *status;
    size_t                          n;
} ngx_http_matcher_embed_ids_t;


static ngx_int_t ngx_http_matcher_embed_texts(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const mt_json_t *texts);
static ngx_int_t ngx_http_matcher_embed_ids(ngx_http_request_t *r,
    const mt_json_t *ids);
static void ngx_http_matcher_embed_ids_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_embed_ids_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_matcher_embed_ids_free(void *data);
static ngx_int_t ngx_http_matcher_embed_batch(ngx_http_request_t *r,
    ngx_http_matcher_backends_t *be, const mt_json_t *texts, size_t total);
static void ngx_http_matcher_embed_batch_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_embed_batch_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_matcher_embed_batch_free(void *data);


static const ngx_http_matcher_job_type_t  ngx_http_matcher_embed_batch_job = {
    ngx_http_matcher_embed_batch_run, ngx_http_matcher_embed_batch_done,
    ngx_http_matcher_embed_batch_free
};

static const ngx_http_matcher_job_type_t  ngx_http_matcher_embed_ids_job = {
    ngx_http_matcher_embed_ids_run, ngx_http_matcher_embed_ids_done,
    ngx_http_matcher_embed_ids_free
};


ngx_int_t
ngx_http_matcher_embeddings(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    size_t            i, max;
    ngx_int_t         rc;
    mt_errs_t         errs;
    mt_json_detail_t  detail;
    const mt_json_t  *body, *list, *texts, *ids;

    rc = ngx_http_matcher_parse_body(r, ctx, &body);
    if (body == NULL) {
        return rc;
    }

    texts = mt_json_get(body, "texts");
    ids = mt_json_get(body, "creatorIds");
    list = texts ? texts : ids;
    max = texts ? NGX_HTTP_MATCHER_MAX_TEXTS : NGX_HTTP_MATCHER_MAX_IDS;

    if (list == NULL || (texts && ids)) {
        ngx_memzero(&detail, sizeof(detail));
        detail.field = "texts";
        detail.message = list ? "send texts or creatorIds, not both"
                              : "texts or creatorIds is required";

        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                      "validation_failed", detail.message,
                                      &detail, 1);
    }

    mt_errs_init(&errs);

    if (list->type != MT_JSON_ARRAY || list->u.array.n == 0
        || list->u.array.n > max)
    {
        mt_errs_add(&errs, list, texts ? "must be 1 to 2048 strings"
                                       : "must be 1 to 1000 strings",
                    texts ? "texts" : "creatorIds");

    } else {
        for (i = 0; i < list->u.array.n; i++) {
            if (list->u.array.items[i]->type != MT_JSON_STRING
                || list->u.array.items[i]->u.string.len == 0
                || list->u.array.items[i]->u.string.len
                   > (texts ? NGX_HTTP_MATCHER_MAX_TEXT : MT_UNIQUE_ID_MAX))
            {
                mt_errs_add(&errs, list->u.array.items[i],
                            texts ? "must be a non-empty string of at most "
                                    "65536 bytes"
                                  : "must be a uniqueId (1 to 100 bytes)",
                            texts ? "texts[%zu]" : "creatorIds[%zu]", i);
            }
        }
    }

    if (errs.n || errs.oom) {
        rc = ngx_http_matcher_validation_error(r, &errs);
        mt_errs_free(&errs);
        return rc;
    }

    mt_errs_free(&errs);

    if (texts) {
        return ngx_http_matcher_embed_texts(r, ctx, texts);
    }

    return ngx_http_matcher_embed_ids(r, list);
}


static ngx_int_t
ngx_http_matcher_embed_texts(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const mt_json_t *texts)
{
    float                        *vec;
    size_t                        i, total;
    unsigned                      dims;
    mt_jw_t                       w;
    ngx_int_t                     rc;
    const mt_json_t              *t;
    ngx_http_matcher_backends_t  *be;

    be = ngx_http_matcher_backends(r, ctx);
    if (be == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (be->emb->ops->flags & MT_BACKEND_WIRE) {
        return ngx_http_matcher_remote_embed_texts(r, ctx, be, texts);
    }

    /*
     * Embedding and printing 512 floats a text take tens of microseconds
     * each: a big batch goes to the thread pool, uncached, so that the
     * loop is never held for milliseconds.
     */

    total = 0;

    for (i = 0; i < texts->u.array.n; i++) {
        total += texts->u.array.items[i]->u.string.len;
    }

    if (texts->u.array.n > NGX_HTTP_MATCHER_LOOP_TEXTS
        || total > NGX_HTTP_MATCHER_LOOP_BYTES)
    {
        return ngx_http_matcher_embed_batch(r, be, texts, total);
    }

    dims = be->emb->ops->dims(be->emb);

    vec = ngx_palloc(r->pool, dims * sizeof(float));
    if (vec == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "embeddings");
    mt_jw_arr_open(&w);

    for (i = 0; i < texts->u.array.n; i++) {
        t = texts->u.array.items[i];

        rc = ngx_http_matcher_embed_query(r, ctx, be, t->u.string.s,
                                          t->u.string.len, vec);
        if (rc != NGX_OK) {
            mt_jw_free(&w);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_matcher_write_vector(&w, vec, dims);
    }

    ngx_http_matcher_write_embeddings(&w, texts->u.array.n, be->emb);

    return ngx_http_matcher_send(r, NGX_HTTP_OK, &w);
}


/* the end of a texts reply: after the vectors, the counts */

void
ngx_http_matcher_write_embeddings(mt_jw_t *w, size_t n, mt_emb_t *emb)
{
    mt_jw_arr_close(w);
    mt_jw_key(w, "count");
    mt_jw_int(w, (int64_t) n);
    mt_jw_key(w, "model");
    mt_jw_cstr(w, emb->ops->model(emb));
    mt_jw_key(w, "dimensions");
    mt_jw_int(w, emb->ops->dims(emb));
    mt_jw_obj_close(w);
}


static ngx_int_t
ngx_http_matcher_embed_batch(ngx_http_request_t *r,
    ngx_http_matcher_backends_t *be, const mt_json_t *texts, size_t total)
{
    u_char                          *p;
    size_t                           i, n;
    ngx_http_matcher_job_t          *job;
    ngx_http_matcher_embed_batch_t  *b;

    n = texts->u.array.n;

    job = ngx_http_matcher_job_alloc(r,
                                     sizeof(ngx_http_matcher_embed_batch_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the embedder stays mapped until the job is freed, request or not */
    b = job->data;
    b->be = be;
    ngx_http_matcher_backends_ref(be);
    job->type = &ngx_http_matcher_embed_batch_job;
    b->n = n;
    mt_jw_init(&b->out);

    /* copies: the request and its parsed body may go before the thread */

    b->texts = ngx_alloc(total + n, r->connection->log);
    b->lens = ngx_alloc(n * sizeof(size_t), r->connection->log);

    if (b->texts == NULL || b->lens == NULL) {
        ngx_http_matcher_job_free(job);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = (u_char *) b->texts;

    for (i = 0; i < n; i++) {
        b->lens[i] = texts->u.array.items[i]->u.string.len;
        p = ngx_cpymem(p, texts->u.array.items[i]->u.string.s, b->lens[i]);
        *p++ = '\0';
    }

    return ngx_http_matcher_job_start(r, job,
                                      &ngx_http_matcher_embed_batch_job);
}


static void
ngx_http_matcher_embed_batch_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_embed_batch_t  *b = data;

    char       *t;
    float      *vec;
    size_t      i;
    unsigned    dims;
    mt_emb_t   *emb;
    mt_span_t   span;

    emb = b->be->emb;
    dims = emb->ops->dims(emb);
    vec = malloc(dims * sizeof(float));

    if (vec == NULL) {
        ngx_cpystrn((u_char *) b->error, (u_char *) "out of memory",
                    sizeof(b->error));
        return;
    }

    mt_jw_obj_open(&b->out);
    mt_jw_key(&b->out, "embeddings");
    mt_jw_arr_open(&b->out);

    for (i = 0, t = b->texts; i < b->n; t += b->lens[i++] + 1) {
        span.data = t;
        span.len = b->lens[i];

        if (emb->ops->embed(emb, &span, 1, vec, b->error, sizeof(b->error))
            != 0)
        {
            break;
        }

        ngx_http_matcher_write_vector(&b->out, vec, dims);
    }

    ngx_http_matcher_write_embeddings(&b->out, b->n, emb);

    free(vec);
}


static ngx_int_t
ngx_http_matcher_embed_batch_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_embed_batch_t  *b = data;

    if (b->error[0] || mt_jw_failed(&b->out) || b->out.data == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "matcher: embedding texts failed: %s",
                      b->error[0] ? b->error : "out of memory");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_matcher_send(r, NGX_HTTP_OK, &b->out);
}


static void
ngx_http_matcher_embed_batch_free(void *data)
{
    ngx_http_matcher_embed_batch_t  *b = data;

    mt_jw_free(&b->out);
    ngx_free(b->texts);
    ngx_free(b->lens);
    ngx_http_matcher_backends_unref(b->be);
    b->be = NULL;
}


void
ngx_http_matcher_write_vector(mt_jw_t *w, const float *v, unsigned dims)
{
    u_char    num[32], *p;
    unsigned  i;

    mt_jw_arr_open(w);

    /* float precision: nine significant digits round-trip a float */
    for (i = 0; i < dims; i++) {
        p = ngx_snprintf(num, sizeof(num), "%.9f", (double) v[i]);
        mt_jw_raw(w, (char *) num, p - num);
    }

    mt_jw_arr_close(w);
}


static ngx_int_t
ngx_http_matcher_embed_ids(ngx_http_request_t *r, const mt_json_t *ids)
{
    size_t                          i, n;
    ngx_http_matcher_job_t         *job;
    ngx_http_matcher_embed_ids_t   *e;
    ngx_http_matcher_main_conf_t   *mmcf;

    if (ngx_http_matcher_store() == NULL) {
        return ngx_http_matcher_no_store(r);
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);


    job = ngx_http_matcher_job_alloc(r, sizeof(ngx_http_matcher_embed_ids_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    e = job->data;
    n = ids->u.array.n;

    ngx_http_matcher_index_task_init(&e->task, mmcf);

    e->ids = ngx_calloc(n * sizeof(char *), r->connection->log);
    e->lens = ngx_calloc(n * sizeof(size_t), r->connection->log);
    e->status = ngx_calloc(n * sizeof(int), r->connection->log);

    if (e->ids == NULL || e->lens == NULL || e->status == NULL) {
        ngx_http_matcher_job_free(job);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    e->n = n;

    /* the thread may outlive the request: copies, not pointers */

    for (i = 0; i < n; i++) {
        e->lens[i] = ids->u.array.items[i]->u.string.len;
        e->ids[i] = ngx_alloc(e->lens[i] + 1, r->connection->log);

        if (e->ids[i] == NULL) {
            ngx_http_matcher_job_free(job);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(e->ids[i], ids->u.array.items[i]->u.string.s,
                   e->lens[i] + 1);
    }

    return ngx_http_matcher_job_start(r, job, &ngx_http_matcher_embed_ids_job);
}


static void
ngx_http_matcher_embed_ids_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_embed_ids_t  *e = data;

    char      err[256];
    uint64_t  epoch;

    if (e->task.remote) {
        e->task.rc = (e->task.ix.bvec != NULL
                      && mt_index_ids(&e->task.ix,
                                      (const char *const *) e->ids, e->lens,
                                      e->n, e->status)
                         == 0)
                     ? NGX_OK : NGX_ERROR;

        if (e->task.ix.bvec == NULL) {
            ngx_cpystrn((u_char *) e->task.ix.error,
                        (u_char *) "no client for the remote services",
                        sizeof(e->task.ix.error));
        }

        return;
    }

    /* no state or no index yet: build both first, then add these */

    e->task.ix.emb = mt_embedder_map(e->task.embedder_path, &epoch, err,
                                     sizeof(err));
    if (e->task.ix.emb == NULL) {
        e->task.rc = ngx_http_matcher_index_run(&e->task, 0);
        if (e->task.rc != NGX_OK) {
            return;
        }

        e->task.ix.emb = mt_embedder_map(e->task.embedder_path, &epoch, err,
                                         sizeof(err));
        if (e->task.ix.emb == NULL) {
            ngx_cpystrn((u_char *) e->task.ix.error, (u_char *) err,
                        sizeof(e->task.ix.error));
            e->task.rc = NGX_ERROR;
            return;
        }
    }

    e->task.ix.epoch = epoch;

    e->task.rc = (mt_index_ids(&e->task.ix, (const char *const *) e->ids,
                               e->lens, e->n, e->status)
                  == 0)
                 ? NGX_OK : NGX_ERROR;

    mt_embedder_free((mt_embedder_t *) e->task.ix.emb);
    e->task.ix.emb = NULL;
}


static ngx_int_t
ngx_http_matcher_embed_ids_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_embed_ids_t  *e = data;

    size_t   i, done;
    mt_jw_t  w;

    if (ngx_http_matcher_index_wrote(&e->task)) {
        ngx_http_matcher_remote_bump_generation();
    }

    /* after the client's retries: the remote's failure, as a job's is */
    if (e->task.rc != NGX_OK && e->task.remote) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "matcher: embedding creators failed: %s",
                      e->task.ix.error);
        return ngx_http_matcher_error(r, NGX_HTTP_BAD_GATEWAY,
                                      "upstream_error", e->task.ix.error,
                                      NULL, 0);
    }

    if (e->task.rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "matcher: embedding creators failed: %s",
                      e->task.ix.error);
        return ngx_http_matcher_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable",
                                      "the vector index cannot be updated "
                                      "now", NULL, 0);
    }

    done = 0;

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "creatorIds");
    mt_jw_arr_open(&w);

    for (i = 0; i < e->n; i++) {
        if (e->status[i] == MT_INDEX_DONE) {
            mt_jw_str(&w, e->ids[i], e->lens[i]);
            done++;
        }
    }

    mt_jw_arr_close(&w);
    mt_jw_key(&w, "failed");
    mt_jw_arr_open(&w);

    for (i = 0; i < e->n; i++) {
        if (e->status[i] != MT_INDEX_DONE) {
            mt_jw_obj_open(&w);
            mt_jw_key(&w, "creatorId");
            mt_jw_str(&w, e->ids[i], e->lens[i]);
            mt_jw_key(&w, "error");
            mt_jw_cstr(&w, e->status[i] == MT_INDEX_NOT_FOUND
                           ? "creator not found" : "embedding failed");
            mt_jw_obj_close(&w);
        }
    }

    mt_jw_arr_close(&w);
    mt_jw_key(&w, "count");
    mt_jw_int(&w, (int64_t) done);
    mt_jw_key(&w, "model");
    mt_jw_cstr(&w, e->task.ix.params.model);
    mt_jw_key(&w, "dimensions");
    mt_jw_int(&w, e->task.ix.params.dims);
    mt_jw_obj_close(&w);

    return ngx_http_matcher_send(r, NGX_HTTP_OK, &w);
}


static void
ngx_http_matcher_embed_ids_free(void *data)
{
    ngx_http_matcher_embed_ids_t  *e = data;

    size_t  i;

    for (i = 0; e->ids && i < e->n; i++) {
        ngx_free(e->ids[i]);
    }

    ngx_free(e->ids);
    ngx_free(e->lens);
    ngx_free(e->status);
}

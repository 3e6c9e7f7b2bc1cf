
/*
 * Store reads as a step of a request.  A store whose reads may run on
 * the event loop (LMDB: a microsecond from a mapped file) answers at
 * once; any other (MongoDB, or LMDB with "reads=pool") is read on the
 * thread pool and the request resumes when the read is done.  The
 * handler is written once, as "read, then next": it cannot tell the two
 * apart.  What the thread reads from is copied into the step's own
 * memory, never left pointing into the request, which may be gone first.
 */


#include "ngx_http_matcher_module.h"


static void ngx_http_matcher_read_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_read_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_matcher_read_free(void *data);


static const ngx_http_matcher_job_type_t  ngx_http_matcher_read_job = {
    ngx_http_matcher_read_run, ngx_http_matcher_read_done,
    ngx_http_matcher_read_free
};


/*
 * A read with room for extra bytes of copied input (see read_copy).
 * NULL: no store or no memory (ngx_http_matcher_read_failed() answers).
 */

ngx_http_matcher_read_t *
ngx_http_matcher_read_alloc(ngx_http_request_t *r, ngx_uint_t op,
    size_t extra)
{
    mt_store_t               *s;
    ngx_http_matcher_job_t   *job;
    ngx_http_matcher_read_t  *rd;

    s = ngx_http_matcher_store();
    if (s == NULL) {
        return NULL;
    }

    job = ngx_http_matcher_step_alloc(r, sizeof(ngx_http_matcher_read_t)
                                         + extra,
                                      s->caps & MT_STORE_LOOP_READS);
    if (job == NULL) {
        return NULL;
    }

    rd = job->data;
    rd->job = job;
    rd->store = s;
    rd->op = op;
    rd->arena = (u_char *) (rd + 1);
    rd->arena_end = rd->arena + extra;

    return rd;
}


/* a CREATORS read with room for n ids of bytes in all */

ngx_http_matcher_read_t *
ngx_http_matcher_read_creators(ngx_http_request_t *r, size_t n, size_t bytes)
{
    ngx_http_matcher_read_t  *rd;

    rd = ngx_http_matcher_read_alloc(r, NGX_HTTP_MATCHER_READ_CREATORS,
                                     n * (sizeof(ngx_str_t) + 1) + bytes);
    if (rd == NULL) {
        return NULL;
    }

    /* the arena starts aligned, just after the struct */
    rd->ids = (ngx_str_t *) rd->arena;
    rd->arena += n * sizeof(ngx_str_t);

    return rd;
}


/* one more id of a CREATORS read; room was made for it */

void
ngx_http_matcher_read_add_id(ngx_http_matcher_read_t *rd, const char *id,
    size_t len)
{
    rd->ids[rd->nids].data = (u_char *) ngx_http_matcher_read_copy(rd, id,
                                                                   len);
    rd->ids[rd->nids].len = len;
    rd->nids++;
}


/* a NUL-terminated copy of the input in the read's own memory */

char *
ngx_http_matcher_read_copy(ngx_http_matcher_read_t *rd, const void *p,
    size_t len)
{
    char  *copy;

    if ((size_t) (rd->arena_end - rd->arena) < len + 1) {
        return NULL;
    }

    copy = (char *) rd->arena;
    ngx_memcpy(copy, p, len);
    copy[len] = '\0';
    rd->arena += len + 1;

    return copy;
}


/* read_alloc() gave NULL: a 503 without a store, else a 500 */

ngx_int_t
ngx_http_matcher_read_failed(ngx_http_request_t *r)
{
    return ngx_http_matcher_store() ? NGX_HTTP_INTERNAL_SERVER_ERROR
                                    : ngx_http_matcher_no_store(r);
}


/* a document read, parsed into a tree freed with the request; NULL: 500 */

mt_json_doc_t *
ngx_http_matcher_read_parse(ngx_http_request_t *r, const mt_text_t *text)
{
    mt_json_err_t        err;
    mt_json_doc_t       *doc;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    doc = mt_json_parse_stored(text->data, text->len, &err);
    if (doc == NULL) {
        return NULL;
    }

    cln->handler = (ngx_pool_cleanup_pt) mt_json_free;
    cln->data = doc;

    return doc;
}


/* rd->next(r, rd) is called with the result, now or later */

ngx_int_t
ngx_http_matcher_read(ngx_http_request_t *r, ngx_http_matcher_read_t *rd)
{
    return ngx_http_matcher_step(r, rd->job, &ngx_http_matcher_read_job);
}


/* "not found" or "unavailable" as the contract spells them */

ngx_int_t
ngx_http_matcher_read_error(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd, const char *what)
{
    return ngx_http_matcher_store_error(r, rd->rc, what, rd->error);
}


static void
ngx_http_matcher_read_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_read_t  *rd = data;

    size_t       i;
    mt_store_t  *s;

    s = rd->store;

    switch (rd->op) {

    case NGX_HTTP_MATCHER_READ_PING:
        rd->rc = s->ops->ping(s);
        break;

    case NGX_HTTP_MATCHER_READ_ASSIGNMENT:
        rd->rc = s->ops->assignment_get(s, rd->id, &rd->doc);
        break;

    case NGX_HTTP_MATCHER_READ_HISTORY:
        rd->rc = s->ops->assignment_history(s, &rd->history, &rd->docs,
                                            &rd->n, &rd->total);
        break;

    case NGX_HTTP_MATCHER_READ_CREATOR_LIST:
        rd->rc = s->ops->creator_list(s, &rd->list, &rd->docs, &rd->n,
                                      &rd->total);
        break;

    case NGX_HTTP_MATCHER_READ_CREATOR_COUNT:
        rd->rc = s->ops->creator_count(s, &rd->total);
        break;

    default: /* NGX_HTTP_MATCHER_READ_CREATORS */

        /* each of ids; a creator not found has docs[i].data NULL */

        rd->docs = calloc(rd->nids ? rd->nids : 1, sizeof(mt_text_t));
        if (rd->docs == NULL) {
            rd->rc = MT_STORE_ERROR;
            (void) ngx_cpystrn((u_char *) rd->error,
                               (u_char *) "out of memory",
                               sizeof(rd->error));
            return;
        }

        rd->n = rd->nids;
        rd->rc = MT_STORE_OK;

        for (i = 0; i < rd->nids; i++) {
            rd->rc = s->ops->creator_get(s, (const char *) rd->ids[i].data,
                                         rd->ids[i].len, &rd->docs[i],
                                         NULL);

            if (rd->rc == MT_STORE_NOT_FOUND) {
                rd->docs[i].data = NULL;
                rd->rc = MT_STORE_OK;
                continue;
            }

            if (rd->rc != MT_STORE_OK) {
                break;
            }

            rd->found++;
        }

        break;
    }

    if (rd->rc != MT_STORE_OK && rd->rc != MT_STORE_NOT_FOUND) {
        /* the reason is the thread's own: copy it while on the thread */
        (void) ngx_cpystrn((u_char *) rd->error,
                           (u_char *) mt_store_error(s), sizeof(rd->error));
    }
}


static ngx_int_t
ngx_http_matcher_read_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_read_t  *rd = data;

    return rd->next(r, rd);
}


/* what next() did not take (it sets the pointers to NULL when it does) */

static void
ngx_http_matcher_read_free(void *data)
{
    ngx_http_matcher_read_t  *rd = data;

    free(rd->doc.data);
    rd->doc.data = NULL;

    if (rd->docs) {
        mt_texts_free(rd->docs, rd->n);
        rd->docs = NULL;
    }
}

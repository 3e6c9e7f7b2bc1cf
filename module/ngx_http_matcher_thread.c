
/*
 * Jobs on the nginx thread pool: store writes, ingest, purges, and every
 * call into a library that blocks.  A job's memory comes from the heap,
 * not from a pool, because the request may be gone when the thread
 * finishes; a request cleanup marks the job orphaned, and the completion
 * handler then only frees it.  The thread touches nothing but job->data.
 */


#include "ngx_http_matcher_module.h"


static void ngx_http_matcher_job_thread(void *data, ngx_log_t *log);
static void ngx_http_matcher_job_done(ngx_event_t *ev);
static void ngx_http_matcher_job_abort(void *data);


/* the cycle whose worker started the thread pools */
static ngx_cycle_t  *ngx_http_matcher_worker_cycle;


void
ngx_http_matcher_thread_init_process(ngx_cycle_t *cycle)
{
    ngx_http_matcher_worker_cycle = cycle;
}


ngx_http_matcher_job_t *
ngx_http_matcher_job_alloc(ngx_http_request_t *r, size_t size)
{
    ngx_thread_task_t       *task;
    ngx_http_matcher_job_t  *job;

    task = ngx_calloc(sizeof(ngx_thread_task_t)
                      + sizeof(ngx_http_matcher_job_t),
                      r ? r->connection->log : ngx_cycle->log);
    if (task == NULL) {
        return NULL;
    }

    job = (ngx_http_matcher_job_t *) (task + 1);
    task->ctx = job;

    job->data = ngx_calloc(size, r ? r->connection->log : ngx_cycle->log);
    if (job->data == NULL) {
        ngx_free(task);
        return NULL;
    }

    job->request = r;

    return job;
}


/*
 * A step of a request that may block: with on_loop it will run on the
 * event loop at once, so its memory comes from the request's pool (no
 * heap allocation, nothing to orphan); otherwise it is an ordinary job.
 */

ngx_http_matcher_job_t *
ngx_http_matcher_step_alloc(ngx_http_request_t *r, size_t size,
    ngx_uint_t on_loop)
{
    ngx_http_matcher_job_t  *job;

    if (!on_loop) {
        return ngx_http_matcher_job_alloc(r, size);
    }

    job = ngx_pcalloc(r->pool, sizeof(ngx_http_matcher_job_t));
    if (job == NULL) {
        return NULL;
    }

    job->data = ngx_pcalloc(r->pool, size);
    if (job->data == NULL) {
        return NULL;
    }

    job->request = r;
    job->on_loop = 1;

    return job;
}


/*
 * Runs the step: on the loop, run() and done() now, and done()'s code is
 * returned (it may itself start the next step); on the pool, the job is
 * posted and NGX_DONE returned, done() comes from the completion event.
 * One path either way: the handler cannot tell them apart.
 */

ngx_int_t
ngx_http_matcher_step(ngx_http_request_t *r, ngx_http_matcher_job_t *job,
    const ngx_http_matcher_job_type_t *type)
{
    ngx_int_t  rc;

    if (!job->on_loop) {
        return ngx_http_matcher_job_start(r, job, type);
    }

    job->type = type;

    type->run(job->data, r->connection->log);
    rc = type->done(r, job->data);

    if (type->free) {
        type->free(job->data);
    }

    return rc;
}


void
ngx_http_matcher_job_free(ngx_http_matcher_job_t *job)
{
    if (job->type && job->type->free) {
        job->type->free(job->data);
    }

    if (job->on_loop) {
        /* the request's pool has it */
        return;
    }

    ngx_free(job->data);
    ngx_free((ngx_thread_task_t *) job - 1);
}


/*
 * Posts the job; for a request job the caller returns NGX_DONE and the
 * job's done handler produces the reply.  NGX_DECLINED: the queue is full
 * (the caller answers 503), the job is freed.
 */

ngx_int_t
ngx_http_matcher_job_post(ngx_http_matcher_job_t *job,
    const ngx_http_matcher_job_type_t *type, ngx_log_t *log)
{
    ngx_thread_task_t             *task;
    ngx_http_request_t            *r;
    ngx_http_matcher_main_conf_t  *mmcf;

    task = (ngx_thread_task_t *) job - 1;
    r = job->request;
    job->type = type;

    /*
     * Reloaded without a master process ("master_process off"), nginx
     * does not start the new cycle's thread pools: refuse, not crash.
     */

    if (ngx_cycle != ngx_http_matcher_worker_cycle) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "matcher: no thread pool after a reload without a "
                      "master process; restart nginx");
        ngx_http_matcher_job_free(job);
        return NGX_DECLINED;
    }

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_matcher_module);

    /* cannot happen: any location of ours adds the pool */

    if (mmcf->thread_pool == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0, "matcher: no thread pool");
        ngx_http_matcher_job_free(job);
        return NGX_DECLINED;
    }

    if (r) {
        job->cleanup = ngx_pool_cleanup_add(r->pool, 0);
        if (job->cleanup == NULL) {
            ngx_http_matcher_job_free(job);
            return NGX_ERROR;
        }

        job->cleanup->handler = ngx_http_matcher_job_abort;
        job->cleanup->data = job;
    }

    task->handler = ngx_http_matcher_job_thread;
    task->event.handler = ngx_http_matcher_job_done;
    task->event.data = job;

    if (ngx_thread_task_post(mmcf->thread_pool, task) != NGX_OK) {
        /* ngx_thread_task_post() has logged the queue overflow */
        if (job->cleanup) {
            job->cleanup->handler = NULL;
        }

        ngx_http_matcher_job_free(job);
        return NGX_DECLINED;
    }

    if (r) {
        r->main->count++;
    }

    return NGX_OK;
}


/*
 * For a request's job: posts it and answers what the content handler (or
 * body handler) returns: NGX_DONE while it runs, or an error reply.
 */

ngx_int_t
ngx_http_matcher_job_start(ngx_http_request_t *r, ngx_http_matcher_job_t *job,
    const ngx_http_matcher_job_type_t *type)
{
    ngx_int_t  rc;

    rc = ngx_http_matcher_job_post(job, type, r->connection->log);

    if (rc == NGX_OK) {
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_matcher_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable", "server busy",
                                      NULL, 0);
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


static void
ngx_http_matcher_job_thread(void *data, ngx_log_t *log)
{
    ngx_http_matcher_job_t  *job = data;

#if (NGX_HTTP_MATCHER_PARKED)
    {
    /*
     * The test build only: MATCHER_TEST_PARK_MS holds every job that
     * long, so that a test can make a client leave while its request is
     * parked (t/007-parked-abort.t).
     */
    char       *ms;
    ngx_int_t   n;

    ms = getenv("MATCHER_TEST_PARK_MS");

    if (ms != NULL) {
        n = ngx_atoi((u_char *) ms, ngx_strlen(ms));

        if (n > 0 && n <= 10000) {
            ngx_msleep(n);
        }
    }
    }
#endif

    job->type->run(job->data, log);
}


static void
ngx_http_matcher_job_done(ngx_event_t *ev)
{
    ngx_int_t                rc;
    ngx_connection_t        *c;
    ngx_http_request_t      *r;
    ngx_http_matcher_job_t  *job;

    job = ev->data;
    r = job->request;

    if (job->cleanup == NULL) {
        /* a background job */
        job->type->done(NULL, job->data);
        ngx_http_matcher_job_free(job);
        return;
    }

    if (r == NULL) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "matcher: job finished after its request");
        ngx_http_matcher_job_free(job);
        return;
    }

    job->cleanup->handler = NULL;
    c = r->connection;

    rc = job->type->done(r, job->data);

    ngx_http_matcher_job_free(job);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_matcher_job_abort(void *data)
{
    ngx_http_matcher_job_t  *job = data;

    job->request = NULL;
}

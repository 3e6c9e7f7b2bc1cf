
/*
 * POST /creators/embeddings/refresh and GET .../refresh/{jobId}: a job
 * that brings every creator's embedding up to date, off the event loop.
 *
 * The jobs live in a small shared-memory zone the module adds itself, so
 * that any worker answers for a job another one runs, only one job runs
 * at a time across the workers, and jobs outlive "nginx -s reload".  The
 * job is a background thread task: it goes on when the client that
 * started it disconnects.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ngx_http_matcher_remote.h"


#define NGX_HTTP_MATCHER_JOBS          16
#define NGX_HTTP_MATCHER_JOBS_VERSION  1

#define NGX_HTTP_MATCHER_JOB_RUNNING   1
#define NGX_HTTP_MATCHER_JOB_COMPLETED 2
#define NGX_HTTP_MATCHER_JOB_FAILED    3


typedef struct {
    u_char                          id[MT_OID_LEN + 1];
    ngx_uint_t                      status;
    mt_index_progress_t             progress;   /* the thread writes it */
    ngx_uint_t                      batch_size;
    ngx_uint_t                      force;
    ngx_pid_t                       pid;
    int64_t                         started_ms;
    int64_t                         finished_ms;
    u_char                          error[160];
} ngx_http_matcher_job_slot_t;

typedef struct {
    ngx_uint_t                      version;    /* first: see zone_struct */
    ngx_uint_t                      next;       /* ring of finished ones */
    ngx_http_matcher_job_slot_t     jobs[NGX_HTTP_MATCHER_JOBS];
} ngx_http_matcher_jobs_sh_t;

typedef struct {
    ngx_http_matcher_index_task_t   task;
    ngx_http_matcher_job_slot_t    *slot;
    ngx_uint_t                      force;
} ngx_http_matcher_refresh_t;


static ngx_int_t ngx_http_matcher_jobs_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_matcher_job_slot_t *ngx_http_matcher_job_running(
    ngx_http_matcher_jobs_sh_t *sh);
static void ngx_http_matcher_refresh_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_refresh_done(ngx_http_request_t *r,
    void *data);
static ngx_int_t ngx_http_matcher_job_reply(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_matcher_job_slot_t *job, const char *msg);


static const ngx_http_matcher_job_type_t  ngx_http_matcher_refresh_job = {
    ngx_http_matcher_refresh_run, ngx_http_matcher_refresh_done, NULL
};

static ngx_str_t  ngx_http_matcher_jobs_name = ngx_string("matcher_jobs");


ngx_int_t
ngx_http_matcher_refresh_init_main(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf)
{
    ngx_shm_zone_t  *zone;

    if (mmcf->store_type == NGX_HTTP_MATCHER_STORE_NONE) {
        return NGX_OK;
    }

    zone = ngx_shared_memory_add(cf, &ngx_http_matcher_jobs_name,
                                 8 * ngx_pagesize, &ngx_http_matcher_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_matcher_jobs_init_zone;
    mmcf->jobs_zone = zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_matcher_jobs_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_uint_t  fresh;

    /* a reload: the jobs and a running one's progress carry over */

    if (ngx_http_matcher_zone_struct(shm_zone, data,
                                     sizeof(ngx_http_matcher_jobs_sh_t),
                                     NGX_HTTP_MATCHER_JOBS_VERSION, &fresh)
        == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_matcher_refresh(ngx_http_request_t *r, ngx_http_matcher_ctx_t *ctx)
{
    int64_t                        batch;
    ngx_int_t                      rc;
    mt_errs_t                      errs;
    ngx_uint_t                     force;
    ngx_slab_pool_t               *shpool;
    const mt_json_t               *body, *v;
    ngx_http_matcher_job_t        *job;
    ngx_http_matcher_jobs_sh_t    *sh;
    ngx_http_matcher_refresh_t    *rf;
    ngx_http_matcher_job_slot_t   *slot;
    ngx_http_matcher_main_conf_t  *mmcf;

    batch = 10;
    force = 0;

    if (ctx->body_len) {
        rc = ngx_http_matcher_parse_body(r, ctx, &body);
        if (body == NULL) {
            return rc;
        }

        mt_errs_init(&errs);

        v = mt_json_get(body, "batchSize");
        if (v != NULL) {
            if (v->type != MT_JSON_NUMBER || !v->u.number.is_int
                || v->u.number.i < 1 || v->u.number.i > 1000)
            {
                mt_errs_add(&errs, v, "must be an integer from 1 to 1000",
                            "batchSize");

            } else {
                batch = v->u.number.i;
            }
        }

        v = mt_json_get(body, "forceRefresh");
        if (v != NULL) {
            if (v->type != MT_JSON_BOOL) {
                mt_errs_add(&errs, v, "must be a boolean", "forceRefresh");

            } else {
                force = v->u.boolean;
            }
        }

        if (errs.n || errs.oom) {
            rc = ngx_http_matcher_validation_error(r, &errs);
            mt_errs_free(&errs);
            return rc;
        }

        mt_errs_free(&errs);
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);

    if (ngx_http_matcher_store() == NULL || mmcf->jobs_zone == NULL) {
        return ngx_http_matcher_no_store(r);
    }


    shpool = (ngx_slab_pool_t *) mmcf->jobs_zone->shm.addr;
    sh = mmcf->jobs_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    slot = ngx_http_matcher_job_running(sh);

    if (slot) {
        /* one at a time: the caller gets the job that runs */
        ngx_shmtx_unlock(&shpool->mutex);
        return ngx_http_matcher_job_reply(r, NGX_HTTP_ACCEPTED, slot,
                                          "a refresh is already running");
    }

    slot = &sh->jobs[sh->next];
    sh->next = (sh->next + 1) % NGX_HTTP_MATCHER_JOBS;

    ngx_memzero(slot, sizeof(ngx_http_matcher_job_slot_t));
    *ngx_http_matcher_new_object_id(slot->id) = '\0';
    slot->status = NGX_HTTP_MATCHER_JOB_RUNNING;
    slot->batch_size = (ngx_uint_t) batch;
    slot->force = force;
    slot->pid = ngx_pid;
    slot->started_ms = ngx_http_matcher_now_ms();

    ngx_shmtx_unlock(&shpool->mutex);

    /* a background task: it is not tied to this request */

    job = ngx_http_matcher_job_alloc(NULL, sizeof(ngx_http_matcher_refresh_t));
    if (job == NULL) {
        slot->status = NGX_HTTP_MATCHER_JOB_FAILED;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rf = job->data;
    ngx_http_matcher_index_task_init(&rf->task, mmcf);
    rf->task.ix.progress = &slot->progress;
    /*
     * A background rebuild in another worker (the index missing, or the
     * corpus doubled) holds the rebuild lock: the job, on its thread,
     * waits for it rather than fail, and then rebuilds from the corpus
     * as it is by then.
     */
    rf->task.ix.wait = 1;
    rf->slot = slot;
    rf->force = force;

    if (ngx_http_matcher_job_post(job, &ngx_http_matcher_refresh_job,
                                  r->connection->log)
        != NGX_OK)
    {
        slot->status = NGX_HTTP_MATCHER_JOB_FAILED;
        ngx_cpystrn(slot->error, (u_char *) "the thread pool queue is full",
                    sizeof(slot->error));
        return ngx_http_matcher_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable",
                                      "too many jobs queued; retry shortly",
                                      NULL, 0);
    }

    return ngx_http_matcher_job_reply(r, NGX_HTTP_ACCEPTED, slot,
                                      "embedding refresh started");
}


/* the running job, if its worker is still alive; under the zone lock */

static ngx_http_matcher_job_slot_t *
ngx_http_matcher_job_running(ngx_http_matcher_jobs_sh_t *sh)
{
    ngx_uint_t                    i;
    ngx_http_matcher_job_slot_t  *slot;

    for (i = 0; i < NGX_HTTP_MATCHER_JOBS; i++) {
        slot = &sh->jobs[i];

        if (slot->status != NGX_HTTP_MATCHER_JOB_RUNNING) {
            continue;
        }

        if (slot->pid != ngx_pid && kill(slot->pid, 0) == -1
            && ngx_errno == NGX_ESRCH)
        {
            slot->status = NGX_HTTP_MATCHER_JOB_FAILED;
            slot->finished_ms = ngx_http_matcher_now_ms();
            ngx_cpystrn(slot->error,
                        (u_char *) "the worker running the job exited",
                        sizeof(slot->error));
            continue;
        }

        return slot;
    }

    return NULL;
}


static void
ngx_http_matcher_refresh_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_refresh_t  *rf = data;

    rf->task.rc = ngx_http_matcher_index_run(&rf->task, rf->force);
}


static ngx_int_t
ngx_http_matcher_refresh_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_refresh_t  *rf = data;

    ngx_uint_t                    level;
    ngx_http_matcher_job_slot_t  *slot;

    slot = rf->slot;

    /* this worker owns the slot until it says the job ended */

    slot->finished_ms = ngx_http_matcher_now_ms();

    if (rf->task.rc != NGX_OK) {
        ngx_cpystrn(slot->error, (u_char *) rf->task.ix.error,
                    sizeof(slot->error));
        /* nginx -s quit or reload gave it up: the job says so */
        level = ngx_http_matcher_exiting() ? NGX_LOG_NOTICE : NGX_LOG_ERR;

        ngx_log_error(level, ngx_cycle->log, 0,
                      "matcher: embedding refresh %s failed: %s",
                      slot->id, rf->task.ix.error);
    }

    /* the match cache keys on the remote index's generation */
    if (ngx_http_matcher_index_wrote(&rf->task)) {
        ngx_http_matcher_remote_bump_generation();
    }

    ngx_memory_barrier();

    slot->status = (rf->task.rc == NGX_OK) ? NGX_HTTP_MATCHER_JOB_COMPLETED
                                           : NGX_HTTP_MATCHER_JOB_FAILED;

    return NGX_OK;
}


ngx_int_t
ngx_http_matcher_refresh_get(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    ngx_uint_t                     i;
    ngx_slab_pool_t               *shpool;
    ngx_http_matcher_jobs_sh_t    *sh;
    ngx_http_matcher_job_slot_t    copy;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);

    if (mmcf->jobs_zone == NULL) {
        return ngx_http_matcher_no_store(r);
    }

    shpool = (ngx_slab_pool_t *) mmcf->jobs_zone->shm.addr;
    sh = mmcf->jobs_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    (void) ngx_http_matcher_job_running(sh);

    for (i = 0; i < NGX_HTTP_MATCHER_JOBS; i++) {
        if (sh->jobs[i].status != 0
            && ctx->params[0].len == MT_OID_LEN
            && ngx_strncasecmp(sh->jobs[i].id, ctx->params[0].data,
                               MT_OID_LEN) == 0)
        {
            break;
        }
    }

    if (i == NGX_HTTP_MATCHER_JOBS) {
        ngx_shmtx_unlock(&shpool->mutex);
        return ngx_http_matcher_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such refresh job", NULL, 0);
    }

    /* a copy: the reply is written after the lock is released */
    copy = sh->jobs[i];

    ngx_shmtx_unlock(&shpool->mutex);

    return ngx_http_matcher_job_reply(r, NGX_HTTP_OK, &copy, NULL);
}


/* for the metrics: the kept jobs by state, under the zone's lock */

ngx_int_t
ngx_http_matcher_refresh_jobs(ngx_uint_t jobs[3])
{
    ngx_uint_t                     i, st;
    ngx_slab_pool_t               *shpool;
    ngx_http_matcher_jobs_sh_t    *sh;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_matcher_module);

    if (mmcf == NULL || mmcf->jobs_zone == NULL) {
        return NGX_DECLINED;
    }

    shpool = (ngx_slab_pool_t *) mmcf->jobs_zone->shm.addr;
    sh = mmcf->jobs_zone->data;

    jobs[0] = 0;
    jobs[1] = 0;
    jobs[2] = 0;

    ngx_shmtx_lock(&shpool->mutex);

    /* a job whose worker died is failed, as GET .../refresh/{id} says */
    (void) ngx_http_matcher_job_running(sh);

    for (i = 0; i < NGX_HTTP_MATCHER_JOBS; i++) {
        st = sh->jobs[i].status;

        if (st >= NGX_HTTP_MATCHER_JOB_RUNNING
            && st <= NGX_HTTP_MATCHER_JOB_FAILED)
        {
            jobs[st - NGX_HTTP_MATCHER_JOB_RUNNING]++;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


static ngx_int_t
ngx_http_matcher_job_reply(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_matcher_job_slot_t *job, const char *msg)
{
    mt_jw_t     w;
    uint64_t    total, processed, errors, linked;
    ngx_uint_t  st;

    st = job->status;
    ngx_memory_barrier();

    total = __atomic_load_n(&job->progress.total, __ATOMIC_RELAXED);
    processed = __atomic_load_n(&job->progress.processed, __ATOMIC_RELAXED);
    errors = __atomic_load_n(&job->progress.errors, __ATOMIC_RELAXED);
    linked = __atomic_load_n(&job->progress.linked, __ATOMIC_RELAXED);

    mt_jw_init(&w);
    mt_jw_obj_open(&w);

    if (msg) {
        mt_jw_key(&w, "message");
        mt_jw_cstr(&w, msg);
    }

    mt_jw_key(&w, "job");
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "id");
    mt_jw_cstr(&w, (char *) job->id);
    mt_jw_key(&w, "status");
    mt_jw_cstr(&w, st == NGX_HTTP_MATCHER_JOB_RUNNING ? "running"
                   : st == NGX_HTTP_MATCHER_JOB_COMPLETED ? "completed"
                   : "failed");
    mt_jw_key(&w, "total");
    mt_jw_int(&w, (int64_t) total);
    mt_jw_key(&w, "processed");
    mt_jw_int(&w, (int64_t) processed);
    mt_jw_key(&w, "errors");
    mt_jw_int(&w, (int64_t) errors);

    /* past the contract: a rebuild's graph, linked after the embedding */
    if (linked > 0) {
        mt_jw_key(&w, "linked");
        mt_jw_int(&w, (int64_t) linked);
    }

    mt_jw_key(&w, "batchSize");
    mt_jw_int(&w, (int64_t) job->batch_size);
    mt_jw_key(&w, "forceRefresh");
    mt_jw_bool(&w, (int) job->force);
    mt_jw_key(&w, "startedAt");
    ngx_http_matcher_write_time(&w, job->started_ms);

    if (st != NGX_HTTP_MATCHER_JOB_RUNNING) {
        mt_jw_key(&w, "finishedAt");
        ngx_http_matcher_write_time(&w, job->finished_ms);
    }

    if (st == NGX_HTTP_MATCHER_JOB_FAILED) {
        mt_jw_key(&w, "error");
        mt_jw_cstr(&w, (char *) job->error);
    }

    if (st != NGX_HTTP_MATCHER_JOB_RUNNING) {
        mt_jw_key(&w, "summary");
        mt_jw_obj_open(&w);
        mt_jw_key(&w, "totalCreators");
        mt_jw_int(&w, (int64_t) total);
        mt_jw_key(&w, "processed");
        mt_jw_int(&w, (int64_t) processed);
        mt_jw_key(&w, "errors");
        mt_jw_int(&w, (int64_t) errors);
        mt_jw_key(&w, "batchSize");
        mt_jw_int(&w, (int64_t) job->batch_size);
        mt_jw_key(&w, "timestamp");
        ngx_http_matcher_write_time(&w, job->finished_ms);
        mt_jw_obj_close(&w);
    }

    mt_jw_obj_close(&w);
    mt_jw_obj_close(&w);

    return ngx_http_matcher_send(r, status, &w);
}

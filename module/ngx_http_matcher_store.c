
/*
 * The document store in the worker: "matcher_store", one handle per
 * worker process opened after fork, the assignment retention timer and
 * the start-up load of matcher_creators_file.  Writes and anything slow
 * run on the thread pool; LMDB reads stay on the loop (they are memory
 * reads of a mapped file).
 */


#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ingest.h"


typedef struct {
    int64_t                   before_ms;
    size_t                    purged;
    mt_store_rc_t             rc;
    char                      error[256];
} ngx_http_matcher_purge_t;

typedef struct {
    char                     *path;
    mt_json_limits_t          limits;
    int64_t                   now_ms;
    size_t                    existing;
    mt_store_rc_t             rc;
    char                      error[256];   /* the thread's store error */
    mt_ingest_result_t        res;
} ngx_http_matcher_load_t;


static void ngx_http_matcher_purge_handler(ngx_event_t *ev);
static void ngx_http_matcher_purge_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_purge_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_matcher_load_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_load_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_matcher_load_free(void *data);


static mt_store_t      *ngx_http_matcher_store_handle;
static ngx_event_t      ngx_http_matcher_purge_event;
static ngx_connection_t ngx_http_matcher_purge_dumb;
static ngx_uint_t       ngx_http_matcher_purge_running;
static time_t           ngx_http_matcher_store_logged;

static const ngx_http_matcher_job_type_t  ngx_http_matcher_purge_job = {
    ngx_http_matcher_purge_run, ngx_http_matcher_purge_done, NULL
};

static const ngx_http_matcher_job_type_t  ngx_http_matcher_load_job = {
    ngx_http_matcher_load_run, ngx_http_matcher_load_done,
    ngx_http_matcher_load_free
};


/*
 * matcher_store lmdb:<path> [size=<size>] [reads=loop|pool]
 *             | mongodb uri=... (ngx_http_matcher_mongo.c) | off
 */

char *
ngx_http_matcher_store_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_main_conf_t  *mmcf = conf;

    off_t        size;
    ngx_str_t   *value, path, s;
    ngx_uint_t   i;

    if (mmcf->store.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mmcf->store = value[1];

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            return "takes no parameters after \"off\"";
        }

        mmcf->store.len = 0;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "mongodb") == 0) {
        return ngx_http_matcher_mongo_directive(cf, mmcf);
    }

    if (ngx_strncmp(value[1].data, "lmdb:", 5) != 0 || value[1].len == 5) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid store \"%V\" in \"%V\": expected "
                           "\"lmdb:<path>\", \"mongodb\" or \"off\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    mmcf->store_type = NGX_HTTP_MATCHER_STORE_LMDB;

    path.data = value[1].data + 5;
    path.len = value[1].len - 5;

    if (ngx_http_matcher_conf_path(cf, &path, &mmcf->store_path)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "size=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            /* ngx_parse_offset() knows "g", ngx_parse_size() does not */
            size = ngx_parse_offset(&s);

            if (size == NGX_ERROR || size < (off_t) 1024 * 1024
                || (uint64_t) size > (uint64_t) NGX_MAX_SIZE_T_VALUE)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid size \"%V\" in \"%V\": at "
                                   "least 1m", &s, &cmd->name);
                return NGX_CONF_ERROR;
            }

            mmcf->store_size = (size_t) size;
            continue;
        }

        /*
         * "reads=pool" makes LMDB behave as a remote store would: every
         * read parked on the thread pool.  It costs a thread hop per
         * read; it is there to prove the parked path (and for a store
         * on a disk slow enough to stall the loop).
         */

        if (ngx_strcmp(value[i].data, "reads=loop") == 0
            || ngx_strcmp(value[i].data, "reads=pool") == 0)
        {
            mmcf->store_reads_pool = (value[i].data[6] == 'p');
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_matcher_store_init_main(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf)
{
    ngx_path_t  *path;

    if (ngx_http_matcher_mongo_init_main(cf, mmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (mmcf->store_path.len == 0) {
        return NGX_OK;
    }

    /*
     * The master creates the directory and gives it to the worker user,
     * as for nginx's temp paths; the workers create the LMDB files.
     */

    path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (path == NULL) {
        return NGX_ERROR;
    }

    path->name = mmcf->store_path;
    path->conf_file = cf->conf_file->file.name.data;
    path->line = cf->conf_file->line;

    if (ngx_add_path(cf, &path) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_matcher_store_init_process(ngx_cycle_t *cycle)
{
    char                           err[256];
    ngx_http_matcher_job_t        *job;
    ngx_http_matcher_load_t       *load;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_matcher_module);

    if (mmcf == NULL || mmcf->store_type == NGX_HTTP_MATCHER_STORE_NONE) {
        return NGX_OK;
    }

    if (mmcf->store_type == NGX_HTTP_MATCHER_STORE_MONGODB) {
        ngx_http_matcher_store_handle = ngx_http_matcher_mongo_open(cycle,
                                                                    mmcf);
        if (ngx_http_matcher_store_handle == NULL) {
            return NGX_OK;
        }

        goto opened;
    }

    ngx_http_matcher_store_handle = mt_store_lmdb_open(
                                        (char *) mmcf->store_path.data,
                                        mmcf->store_size, err, sizeof(err));

    if (ngx_http_matcher_store_handle == NULL) {
        /* the worker serves 503s and /health says why */
        ngx_log_error(NGX_LOG_CRIT, cycle->log, 0,
                      "matcher: cannot open store \"%V\": %s",
                      &mmcf->store_path, err);
        return NGX_OK;
    }

    if (mmcf->store_reads_pool) {
        ngx_http_matcher_store_handle->caps &= ~MT_STORE_LOOP_READS;
    }

opened:

    /* housekeeping runs in one worker only */

    if (ngx_worker != 0) {
        return NGX_OK;
    }

    if (mmcf->store_type == NGX_HTTP_MATCHER_STORE_MONGODB) {
        ngx_http_matcher_mongo_setup(cycle);
    }

    if (mmcf->assignment_ttl > 0) {
        ngx_http_matcher_purge_event.handler = ngx_http_matcher_purge_handler;
        ngx_http_matcher_purge_event.log = cycle->log;
        /* debug logging reads a timer's data as a connection */
        ngx_http_matcher_purge_dumb.fd = (ngx_socket_t) -1;
        ngx_http_matcher_purge_event.data = &ngx_http_matcher_purge_dumb;
        ngx_http_matcher_purge_event.cancelable = 1;

        ngx_add_timer(&ngx_http_matcher_purge_event, 1000);
    }

    if (mmcf->creators_file.len == 0) {
        return NGX_OK;
    }

    job = ngx_http_matcher_job_alloc(NULL, sizeof(ngx_http_matcher_load_t));
    if (job == NULL) {
        return NGX_ERROR;
    }

    load = job->data;
    load->path = (char *) mmcf->creators_file.data;
    load->now_ms = ngx_http_matcher_now_ms();
    load->limits.max_depth = 64;

    if (ngx_http_matcher_job_post(job, &ngx_http_matcher_load_job,
                                  cycle->log)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "matcher: cannot queue the load of \"%V\"",
                      &mmcf->creators_file);
    }

    return NGX_OK;
}


void
ngx_http_matcher_store_exit_process(ngx_cycle_t *cycle)
{
    /* the thread pools have drained by now: they exit before us */

    if (ngx_http_matcher_store_handle) {
        ngx_http_matcher_store_handle->ops->close(
                                              ngx_http_matcher_store_handle);
        ngx_http_matcher_store_handle = NULL;
    }
}


mt_store_t *
ngx_http_matcher_store(void)
{
    return ngx_http_matcher_store_handle;
}


ngx_int_t
ngx_http_matcher_no_store(ngx_http_request_t *r)
{
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);

    return ngx_http_matcher_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "unavailable",
                                  mmcf->store_type
                                  ? "the store is unavailable"
                                  : "no store: see matcher_store",
                                  NULL, 0);
}


/*
 * The reply for a failed store call: "what" is the client's message for
 * not found and conflict; "why" is the backend's reason, for the log.
 */

ngx_int_t
ngx_http_matcher_store_error(ngx_http_request_t *r, mt_store_rc_t rc,
    const char *what, const char *why)
{
    ngx_uint_t  level;

    switch (rc) {

    case MT_STORE_NOT_FOUND:
        return ngx_http_matcher_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      what, NULL, 0);

    case MT_STORE_CONFLICT:
        return ngx_http_matcher_error(r, NGX_HTTP_CONFLICT, "conflict",
                                      what, NULL, 0);

    default:
        break;
    }

    ngx_http_matcher_metrics_store_error(rc == MT_STORE_UNAVAILABLE);

    /*
     * An unreachable store fails every request alike: its cause is logged
     * once a minute per worker, the rest at "info", as the remotes do.
     */
    level = NGX_LOG_ERR;

    if (rc == MT_STORE_UNAVAILABLE) {
        if (ngx_time() - ngx_http_matcher_store_logged < 60) {
            level = NGX_LOG_INFO;

        } else {
            ngx_http_matcher_store_logged = ngx_time();
        }
    }

    ngx_log_error(level, r->connection->log, 0, "matcher: store: %s", why);

    if (rc == MT_STORE_FULL) {
        return ngx_http_matcher_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable", "the store is full",
                                      NULL, 0);
    }

    if (rc == MT_STORE_UNAVAILABLE) {
        return ngx_http_matcher_no_store(r);
    }

    return ngx_http_matcher_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "store error", NULL, 0);
}


static void
ngx_http_matcher_purge_handler(ngx_event_t *ev)
{
    ngx_http_matcher_job_t        *job;
    ngx_http_matcher_purge_t      *purge;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_matcher_module);

    if (ngx_http_matcher_exiting()) {
        return;
    }

    ngx_add_timer(ev, mmcf->purge_interval);

    if (ngx_http_matcher_purge_running) {
        return;
    }

    job = ngx_http_matcher_job_alloc(NULL, sizeof(ngx_http_matcher_purge_t));
    if (job == NULL) {
        return;
    }

    purge = job->data;
    purge->before_ms = ngx_http_matcher_now_ms()
                       - (int64_t) mmcf->assignment_ttl * 1000;

    if (ngx_http_matcher_job_post(job, &ngx_http_matcher_purge_job, ev->log)
        == NGX_OK)
    {
        ngx_http_matcher_purge_running = 1;
    }
}


static void
ngx_http_matcher_purge_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_purge_t  *purge = data;

    size_t       n;
    mt_store_t  *s;

    s = ngx_http_matcher_store_handle;

    /* small transactions, so that writers never wait long for the lock */

    do {
        n = 0;
        purge->rc = s->ops->assignment_purge(s, purge->before_ms, 500, &n);
        purge->purged += n;

    } while (purge->rc == MT_STORE_OK && n == 500);

    if (purge->rc != MT_STORE_OK) {
        ngx_cpystrn((u_char *) purge->error, (u_char *) mt_store_error(s),
                    sizeof(purge->error));
    }
}


static ngx_int_t
ngx_http_matcher_purge_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_purge_t  *purge = data;

    ngx_http_matcher_purge_running = 0;

    if (purge->rc != MT_STORE_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "matcher: purging old assignments failed: %s",
                      purge->error);

    } else if (purge->purged) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "matcher: purged %uz assignments past "
                      "matcher_assignment_ttl", purge->purged);
    }

    return NGX_OK;
}


/* the start-up load: only into an empty store */

static void
ngx_http_matcher_load_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_load_t  *load = data;

    mt_store_t  *s;

    s = ngx_http_matcher_store_handle;

    load->rc = s->ops->creator_count(s, &load->existing);

    if (load->rc != MT_STORE_OK) {
        ngx_cpystrn((u_char *) load->error, (u_char *) mt_store_error(s),
                    sizeof(load->error));
        return;
    }

    if (load->existing > 0) {
        return;
    }

    (void) mt_ingest_file(s, load->path, &load->limits, load->now_ms,
                          &load->res);
}


static ngx_int_t
ngx_http_matcher_load_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_load_t  *load = data;

    /* whatever the load did, the index catches up with the store now */
    ngx_http_matcher_index_kick(ngx_cycle->log);

    if (load->rc != MT_STORE_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "matcher: cannot count creators: %s", load->error);
        return NGX_OK;
    }

    if (load->existing > 0) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "matcher: store has %uz creators, \"%s\" not loaded",
                      load->existing, load->path);
        return NGX_OK;
    }

    if (load->res.status != MT_INGEST_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "matcher: loading \"%s\" failed: %s",
                      load->path, load->res.error);
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "matcher: loaded %uz creators from \"%s\" "
                  "(%uz failed validation)",
                  load->res.count, load->path, load->res.nfailed);

    return NGX_OK;
}


static void
ngx_http_matcher_load_free(void *data)
{
    ngx_http_matcher_load_t  *load = data;

    mt_ingest_result_free(&load->res);
}

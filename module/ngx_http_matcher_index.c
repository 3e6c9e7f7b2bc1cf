
/*
 * The embedded vector index and the local embedder, as the workers see
 * them.  Both live in files beside the store (vectors.mtv and
 * embedder.idf) that every worker maps shared: one copy in memory
 * whatever the worker count, and they outlive restarts.
 *
 * Searches run against the worker's read-only mapping (readers never
 * lock), on the event loop or the thread pool (ngx_http_matcher_backends.c
 * holds the mapping).  Everything that writes runs on the thread pool:
 * the start-up check, the sync after an ingest, and the refresh jobs.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ngx_http_matcher_remote.h"


#define NGX_HTTP_MATCHER_RETRY_MSEC     1000


typedef struct {
    ngx_uint_t                      force;    /* a full rebuild */
    ngx_http_matcher_index_task_t   task;
} ngx_http_matcher_sync_t;


static char *ngx_http_matcher_embedder_openai(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf);
static ngx_int_t ngx_http_matcher_vectors_mode(ngx_str_t *value,
    size_t skip, ngx_str_t *modes);
static void ngx_http_matcher_retry_handler(ngx_event_t *ev);
static void ngx_http_matcher_sync_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_sync_done(ngx_http_request_t *r,
    void *data);


static const ngx_http_matcher_job_type_t  ngx_http_matcher_sync_job = {
    ngx_http_matcher_sync_run, ngx_http_matcher_sync_done, NULL
};


/* matcher_vectors search=: in the order of the MT_VSEARCH_* values */
ngx_str_t  ngx_http_matcher_search_modes[] = {
    ngx_string("auto"),
    ngx_string("exact"),
    ngx_string("ivf"),
    ngx_string("sketch"),
    ngx_string("graph"),
    ngx_null_string
};

/* matcher_vectors run=: in the order of the NGX_HTTP_MATCHER_RUN_* values */
static ngx_str_t  ngx_http_matcher_run_modes[] = {
    ngx_string("loop"),
    ngx_string("pool"),
    ngx_string("auto"),
    ngx_null_string
};


/* a timer's data must look like a connection (debug logs print its fd) */
static ngx_connection_t ngx_http_matcher_retry_dumb;

/* a sync that found another worker rebuilding runs again after it */
static ngx_event_t      ngx_http_matcher_retry_event;

/* one background sync at a time in a worker; "again" coalesces kicks */
static ngx_uint_t       ngx_http_matcher_sync_busy;
static ngx_uint_t       ngx_http_matcher_sync_again;


char *
ngx_http_matcher_embedder_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_main_conf_t *mmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (mmcf->embed_dims != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "openai") == 0) {
        return ngx_http_matcher_embedder_openai(cf, mmcf);
    }

    if (ngx_strcmp(value[1].data, "local") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid embedder \"%V\": expected \"local\" "
                           "or \"openai\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    mmcf->embed_dims = NGX_HTTP_MATCHER_EMBED_DIMS;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "dims=", 5) == 0) {
            n = ngx_atoi(value[i].data + 5, value[i].len - 5);

            if (n < MT_EMBED_DIMS_MIN || n > MT_EMBED_DIMS_MAX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": dims must be %d to %d",
                                   &value[i], MT_EMBED_DIMS_MIN,
                                   MT_EMBED_DIMS_MAX);
                return NGX_CONF_ERROR;
            }

            mmcf->embed_dims = (ngx_uint_t) n;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * matcher_embedder openai [model=text-embedding-ada-002] [dims=1536]
 *     [encoding=base64|float];  the service is matcher_openai's.
 * dims is what the model returns: 1536 for ada-002 and 3-small, 3072
 * for 3-large; a 3-* model is asked for dims when it is set otherwise.
 */

static char *
ngx_http_matcher_embedder_openai(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf)
{
    ngx_int_t   n;
    ngx_str_t  *value;
    ngx_uint_t  i;

    value = cf->args->elts;

    mmcf->embed_remote = 1;
    mmcf->embed_base64 = 1;
    ngx_str_set(&mmcf->embed_model, "text-embedding-ada-002");
    mmcf->embed_dims = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "model=", 6) == 0
            && value[i].len > 6 && value[i].len <= 6 + 100)
        {
            mmcf->embed_model.data = value[i].data + 6;
            mmcf->embed_model.len = value[i].len - 6;
            continue;
        }

        if (ngx_strncmp(value[i].data, "dims=", 5) == 0) {
            n = ngx_atoi(value[i].data + 5, value[i].len - 5);

            if (n < 1 || n > 16384) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": dims must be 1 to 16384",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            mmcf->embed_dims = (ngx_uint_t) n;
            continue;
        }

        /* base64 is a quarter of the bytes of float JSON: the default */

        if (ngx_strcmp(value[i].data, "encoding=base64") == 0
            || ngx_strcmp(value[i].data, "encoding=float") == 0)
        {
            mmcf->embed_base64 = (value[i].data[9] == 'b');
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (mmcf->embed_dims == 0) {
        mmcf->embed_dims = ngx_strstr(mmcf->embed_model.data,
                                      "text-embedding-3-large")
                           ? 3072 : 1536;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_matcher_vectors_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_main_conf_t *mmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (mmcf->index_capacity != NGX_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* the index named by matcher_pinecone: nothing to set here */
    if (ngx_strcmp(value[1].data, "pinecone") == 0 && cf->args->nelts == 2) {
        mmcf->vectors_remote = 1;
        mmcf->index_capacity = NGX_HTTP_MATCHER_INDEX_CAPACITY;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "local") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid vector index \"%V\": expected \"local\" "
                           "or \"pinecone\" (with no parameters)",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    mmcf->index_capacity = NGX_HTTP_MATCHER_INDEX_CAPACITY;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "search=", 7) == 0) {
            n = ngx_http_matcher_vectors_mode(&value[i], 7,
                                              ngx_http_matcher_search_modes);

            if (n == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": search must be auto, "
                                   "exact, ivf, sketch or graph",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            mmcf->index_search = (ngx_uint_t) n;
            continue;
        }

        /*
         * "run=pool": each search on a pool thread, so that a scan of a
         * million creators never holds the event loop; "run=loop" saves
         * the thread hop when searches take microseconds; "run=auto"
         * (the default) takes the loop while the index is small.
         */

        if (ngx_strncmp(value[i].data, "run=", 4) == 0) {
            n = ngx_http_matcher_vectors_mode(&value[i], 4,
                                              ngx_http_matcher_run_modes);

            /* another value falls to "invalid parameter" below */
            if (n != NGX_ERROR) {
                mmcf->index_run = (ngx_uint_t) n;
                continue;
            }
        }

        if (ngx_strcmp(value[i].data, "lists=auto") == 0) {
            mmcf->index_lists = MT_INDEX_LISTS_AUTO;
            continue;
        }

        if (ngx_strcmp(value[i].data, "lists=off") == 0) {
            mmcf->index_lists = 0;
            continue;
        }

        if (ngx_strncmp(value[i].data, "lists=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n < 1 || n > 4096) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": lists must be auto, "
                                   "off or 1 to 4096", &value[i]);
                return NGX_CONF_ERROR;
            }

            mmcf->index_lists = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "nprobe=", 7) == 0) {
            n = ngx_atoi(value[i].data + 7, value[i].len - 7);

            if (n < 0 || n > 4096) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": nprobe must be 0 "
                                   "(exact) to 4096", &value[i]);
                return NGX_CONF_ERROR;
            }

            mmcf->index_nprobe = (ngx_uint_t) n;
            continue;
        }

        /* the graph: its degree is fixed by a build, ef by each search */

        if (ngx_strncmp(value[i].data, "graph_m=", 8) == 0) {
            n = ngx_atoi(value[i].data + 8, value[i].len - 8);

            if (n < 0 || n > MT_VGRAPH_M_MAX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": graph_m must be 0 "
                                   "(no graph) to %d", &value[i],
                                   MT_VGRAPH_M_MAX);
                return NGX_CONF_ERROR;
            }

            mmcf->index_graph_m = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "ef=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);

            if (n < 1 || n > MT_VGRAPH_EF_MAX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": ef must be 1 to %d",
                                   &value[i], MT_VGRAPH_EF_MAX);
                return NGX_CONF_ERROR;
            }

            mmcf->index_ef = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "capacity=", 9) == 0) {
            n = ngx_atoi(value[i].data + 9, value[i].len - 9);

            if (n < 1000 || n > 100000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": capacity must be 1000 "
                                   "to 100000000 creators", &value[i]);
                return NGX_CONF_ERROR;
            }

            mmcf->index_capacity = (size_t) n;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the files beside the store; after the store's own init_main_conf */

ngx_int_t
ngx_http_matcher_index_init_main(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf)
{
    ngx_conf_init_uint_value(mmcf->embed_dims, NGX_HTTP_MATCHER_EMBED_DIMS);
    ngx_conf_init_size_value(mmcf->index_capacity,
                             NGX_HTTP_MATCHER_INDEX_CAPACITY);
    ngx_conf_init_uint_value(mmcf->index_lists, MT_INDEX_LISTS_AUTO);
    ngx_conf_init_uint_value(mmcf->index_nprobe, MT_VINDEX_NPROBE);
    ngx_conf_init_uint_value(mmcf->index_search, MT_VSEARCH_AUTO);
    ngx_conf_init_uint_value(mmcf->index_graph_m, MT_VGRAPH_M);
    ngx_conf_init_uint_value(mmcf->index_ef, MT_VGRAPH_EF);
    ngx_conf_init_uint_value(mmcf->index_run,
                             NGX_HTTP_MATCHER_PARKED_DEFAULT
                             ? NGX_HTTP_MATCHER_RUN_POOL
                             : NGX_HTTP_MATCHER_RUN_AUTO);

    /* a remote index: no files, no syncs, no rebuilds here */
    if (mmcf->store_path.len == 0 || mmcf->vectors_remote) {
        return NGX_OK;
    }

    mmcf->index_path.len = mmcf->store_path.len + sizeof("/vectors.mtv") - 1;
    mmcf->index_path.data = ngx_pnalloc(cf->pool, mmcf->index_path.len + 1);

    mmcf->embedder_path.len = mmcf->store_path.len
                              + sizeof("/embedder.idf") - 1;
    mmcf->embedder_path.data = ngx_pnalloc(cf->pool,
                                           mmcf->embedder_path.len + 1);

    if (mmcf->index_path.data == NULL || mmcf->embedder_path.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(mmcf->index_path.data, "%V/vectors.mtv%Z",
                &mmcf->store_path);
    ngx_sprintf(mmcf->embedder_path.data, "%V/embedder.idf%Z",
                &mmcf->store_path);

    return NGX_OK;
}


/* which of modes (null-ended) "name=value" names after skip: NGX_ERROR */

static ngx_int_t
ngx_http_matcher_vectors_mode(ngx_str_t *value, size_t skip,
    ngx_str_t *modes)
{
    ngx_int_t  n;

    for (n = 0; modes[n].len; n++) {
        if (value->len - skip == modes[n].len
            && ngx_strncmp(value->data + skip, modes[n].data, modes[n].len)
               == 0)
        {
            return n;
        }
    }

    return NGX_ERROR;
}


void
ngx_http_matcher_index_task_init(ngx_http_matcher_index_task_t *t,
    ngx_http_matcher_main_conf_t *mmcf)
{
    ngx_memzero(t, sizeof(ngx_http_matcher_index_task_t));

    t->ix.store = ngx_http_matcher_store();
    t->ix.params.stop = ngx_http_matcher_exiting;

    /* a remote pair: its blocking clients, the model's name and dims */
    if (mmcf->vectors_remote) {
        t->remote = 1;
        t->ix.params.dims = (unsigned) mmcf->embed_dims;
        t->ix.params.model = (const char *) mmcf->embed_model.data;
        t->ix.now_ms = ngx_http_matcher_now_ms();
        t->ix.batch = 500;
        t->ix.progress = &t->progress;
        ngx_http_matcher_remote_bulk_setup(&t->ix);
        return;
    }

    t->ix.index_path = (const char *) mmcf->index_path.data;
    t->ix.params.dims = (unsigned) mmcf->embed_dims;
    t->ix.params.capacity = mmcf->index_capacity;
    t->ix.params.lists = (unsigned) mmcf->index_lists;
    t->ix.params.graph_m = (unsigned) mmcf->index_graph_m;
    t->ix.params.model = MT_EMB_LOCAL_MODEL;
    t->ix.now_ms = ngx_http_matcher_now_ms();
    t->ix.batch = 500;
    t->ix.progress = &t->progress;
    t->embedder_path = (const char *) mmcf->embedder_path.data;
}


/*
 * On a pool thread: brings the index up to date.  A full rebuild (a new
 * IDF from the whole corpus) when forced, when there is no index or no
 * embedder state yet, when the index was made with other dimensions or
 * another state, or when the corpus has more than doubled since the IDF
 * was learnt (so the IDF follows the corpus at an amortised linear
 * cost); otherwise the creators whose embedding is not ready are added.
 */

ngx_int_t
ngx_http_matcher_index_run(ngx_http_matcher_index_task_t *t, ngx_uint_t force)
{
    int              rc, rebuild;
    char             err[256];
    size_t           creators;
    uint64_t         epoch;
    mt_vindex_t     *vi;
    mt_embedder_t   *emb;

    if (t->ix.store == NULL) {
        ngx_cpystrn((u_char *) t->ix.error, (u_char *) "no store",
                    sizeof(t->ix.error));
        return NGX_ERROR;
    }

    /* a remote index: the pending creators (force: all), no rebuilds */
    if (t->remote) {
        if (t->ix.bvec == NULL) {
            ngx_cpystrn((u_char *) t->ix.error,
                        (u_char *) "no client for the remote services",
                        sizeof(t->ix.error));
            return NGX_ERROR;
        }

        return (mt_index_sync(&t->ix, (int) force) == 0) ? NGX_OK
                                                         : NGX_ERROR;
    }

    /*
     * A rebuild killed between its two renames left the index with its
     * state under a temporary name: renamed into place, the pair serves
     * at once, where a mismatch would cost a rebuild.  An error here
     * leaves the mismatch to the rebuild below.
     */
    t->repaired = (mt_index_repair(&t->ix, t->embedder_path) == 1);
    t->ix.error[0] = '\0';

    emb = mt_embedder_map(t->embedder_path, &epoch, err, sizeof(err));
    vi = mt_vindex_open(t->ix.index_path, NULL, 0, err, sizeof(err));

    rebuild = force || emb == NULL || vi == NULL
              || mt_embedder_dims(emb) != t->ix.params.dims
              || mt_vindex_dims(vi) != t->ix.params.dims
              || mt_vindex_model_epoch(vi) != epoch
              /* a graph_m changed in the configuration takes effect */
              || mt_vindex_graph_m(vi) != t->ix.params.graph_m;

    if (!rebuild
        && t->ix.store->ops->creator_count(t->ix.store, &creators)
           == MT_STORE_OK
        && creators > 2 * mt_embedder_ndocs(emb) + 16)
    {
        rebuild = 1;
    }

    mt_vindex_close(vi);
    t->rebuilt = rebuild;

    if (rebuild) {
        mt_embedder_free(emb);

        /* the epoch only has to differ from every earlier one */
        epoch = (uint64_t) t->ix.now_ms;

        rc = mt_index_rebuild(&t->ix, t->embedder_path,
                              NGX_HTTP_MATCHER_EMBED_SEED, epoch);

        return (rc == 0) ? NGX_OK : NGX_ERROR;
    }

    t->ix.emb = emb;
    t->ix.epoch = epoch;

    rc = mt_index_sync(&t->ix, 0);

    t->ix.emb = NULL;
    mt_embedder_free(emb);

    /*
     * Updates append: a file whose records (the dead ones of updated
     * creators too) reached its capacity takes no more until a rebuild,
     * which drops the dead.  Done now rather than at the next refresh.
     */
    if (ngx_strstr(t->ix.error, "index full") != NULL) {
        t->rebuilt = 1;
        t->ix.error[0] = '\0';

        rc = mt_index_rebuild(&t->ix, t->embedder_path,
                              NGX_HTTP_MATCHER_EMBED_SEED,
                              (uint64_t) t->ix.now_ms);
    }

    return (rc == 0) ? NGX_OK : NGX_ERROR;
}


/* a background sync, after an ingest or at start-up */

void
ngx_http_matcher_index_kick(ngx_log_t *log)
{
    ngx_http_matcher_job_t        *job;
    ngx_http_matcher_sync_t       *sync;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_matcher_module);

    if (mmcf == NULL
        || (mmcf->index_path.len == 0 && !mmcf->vectors_remote)
        || ngx_http_matcher_store() == NULL)
    {
        return;
    }

    if (ngx_http_matcher_sync_busy) {
        ngx_http_matcher_sync_again = 1;
        return;
    }

    job = ngx_http_matcher_job_alloc(NULL, sizeof(ngx_http_matcher_sync_t));
    if (job == NULL) {
        return;
    }

    sync = job->data;
    ngx_http_matcher_index_task_init(&sync->task, mmcf);

    if (ngx_http_matcher_job_post(job, &ngx_http_matcher_sync_job, log)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "matcher: cannot queue the index sync");
        return;
    }

    ngx_http_matcher_sync_busy = 1;
    ngx_http_matcher_sync_again = 0;
}


static void
ngx_http_matcher_sync_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_sync_t  *sync = data;

    sync->task.rc = ngx_http_matcher_index_run(&sync->task, sync->force);
}


static ngx_int_t
ngx_http_matcher_sync_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_sync_t  *sync = data;

    ngx_http_matcher_sync_busy = 0;

    /* what the sync changed is worth a look at once, not in a second */
    ngx_http_matcher_backends_reopen_now();

    if (ngx_http_matcher_index_wrote(&sync->task)) {
        ngx_http_matcher_remote_bump_generation();
    }

    if (sync->task.repaired) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "matcher: an interrupted rebuild's embedder state "
                      "renamed into place");
    }

    if (sync->task.rc != NGX_OK
        && ngx_strcmp(sync->task.ix.error, MT_INDEX_BUSY) == 0)
    {
        /* it may have scanned before the ingest that kicked this one */
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "matcher: another worker rebuilds the vector index, "
                      "syncing again after it");

        if (!ngx_http_matcher_retry_event.timer_set
            && ngx_http_matcher_retry_event.handler != NULL
            && !ngx_http_matcher_exiting())
        {
            ngx_add_timer(&ngx_http_matcher_retry_event,
                          NGX_HTTP_MATCHER_RETRY_MSEC);
        }

    } else if (sync->task.rc != NGX_OK
        && ngx_strcmp(sync->task.ix.error, MT_INDEX_EMBEDDER_CHANGED) == 0)
    {
        /* a rebuild (a refresh job) came in between: go again with it */
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "matcher: vector index rebuilt meanwhile, syncing "
                      "again");
        ngx_http_matcher_sync_again = 1;

    } else if (sync->task.rc != NGX_OK && ngx_http_matcher_exiting()) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "matcher: vector index update given up, the worker "
                      "is exiting: %s", sync->task.ix.error);

    } else if (sync->task.rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "matcher: vector index update failed: %s",
                      sync->task.ix.error);

    } else if (sync->task.rebuilt || sync->task.progress.processed) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "matcher: vector index %s: %uL creators embedded, "
                      "%uL errors",
                      sync->task.rebuilt ? "rebuilt" : "updated",
                      sync->task.progress.processed,
                      sync->task.progress.errors);
    }

    if (ngx_http_matcher_sync_again) {
        ngx_http_matcher_index_kick(ngx_cycle->log);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_matcher_index_init_process(ngx_cycle_t *cycle)
{
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_matcher_module);

    ngx_http_matcher_backends_init_process(cycle);

    if (mmcf != NULL && mmcf->index_path.len) {

        ngx_http_matcher_retry_dumb.fd = (ngx_socket_t) -1;
        ngx_http_matcher_retry_event.data = &ngx_http_matcher_retry_dumb;
        ngx_http_matcher_retry_event.handler = ngx_http_matcher_retry_handler;
        ngx_http_matcher_retry_event.log = cycle->log;
        ngx_http_matcher_retry_event.cancelable = 1;

        /*
         * Every worker maps the pair now, not at its first search: one
         * respawned after a worker was killed between a rebuild's two
         * renames finds the index without its state and asks for the
         * repair at once, whatever its number, with no request needed.
         * A miss here does not hold the first request back a second.
         */
        (void) ngx_http_matcher_backends_peek(cycle->log);
        ngx_http_matcher_backends_reopen_now();
    }

    /*
     * Worker 0 brings the index up to date at start-up; with a creators
     * file, the end of its load does (ngx_http_matcher_store.c).
     */

    if (mmcf != NULL && (mmcf->index_path.len || mmcf->vectors_remote)
        && ngx_worker == 0 && mmcf->creators_file.len == 0)
    {
        ngx_http_matcher_index_kick(cycle->log);
    }

    return NGX_OK;
}


static void
ngx_http_matcher_retry_handler(ngx_event_t *ev)
{
    if (!ngx_http_matcher_exiting()) {
        ngx_http_matcher_index_kick(ev->log);
    }
}

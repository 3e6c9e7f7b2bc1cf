
/*
 * The backends a worker matches with: the embedder and the vector index,
 * behind lib/backend.h's interfaces.  Either both are local (the index
 * file and the embedder state beside the store, mapped shared by every
 * worker), or both remote (OpenAI and Pinecone, "matcher_embedder
 * openai" and "matcher_vectors pinecone"): one pair for the worker's
 * life, whose calls go through ngx_http_matcher_remote.c.
 *
 * A request (or a search it parked on the thread pool) holds a reference
 * to the pair it started with.  A rebuild renames new files in; the
 * worker then swaps in a new pair, and the old one is closed when its
 * last reference goes, never under a thread still searching it.
 * References are taken and dropped on the event loop only (a job's
 * memory is freed there too), so they need no atomics.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "remote.h"


#define NGX_HTTP_MATCHER_REOPEN_MSEC    1000
#define NGX_HTTP_MATCHER_UNMAP_MSEC     5000


static ngx_http_matcher_backends_t *ngx_http_matcher_backends_new(
    mt_vindex_t *vi, mt_embedder_t *e, uint64_t epoch);
static void ngx_http_matcher_backends_cleanup(void *data);
static void ngx_http_matcher_reopen(ngx_log_t *log,
    ngx_http_matcher_main_conf_t *mmcf);
static void ngx_http_matcher_unmap_handler(ngx_event_t *ev);
static ngx_http_matcher_backends_t *ngx_http_matcher_backends_remote(
    ngx_cycle_t *cycle, ngx_http_matcher_main_conf_t *mmcf);


/* this worker's pair, and the embedder with no IDF for before an index */
static ngx_http_matcher_backends_t  *ngx_http_matcher_current;
static ngx_http_matcher_backends_t  *ngx_http_matcher_plain;
static ngx_http_matcher_backends_t  *ngx_http_matcher_remote_pair;
static ngx_msec_t                    ngx_http_matcher_reopen_at;
static ngx_msec_t                    ngx_http_matcher_stat_at;

/*
 * Drops a replaced mapping in a worker that serves no search meanwhile.
 * A timer's data must look like a connection: debug logging prints its
 * fd (as ngx_cache_manager_process_handler's events do).
 */
static ngx_event_t                   ngx_http_matcher_unmap_event;
static ngx_connection_t              ngx_http_matcher_unmap_dumb;


/* takes vi and e (closes them on failure); vi NULL: the plain embedder */

static ngx_http_matcher_backends_t *
ngx_http_matcher_backends_new(mt_vindex_t *vi, mt_embedder_t *e,
    uint64_t epoch)
{
    ngx_http_matcher_backends_t  *b;

    b = ngx_calloc(sizeof(ngx_http_matcher_backends_t), ngx_cycle->log);
    if (b == NULL) {
        mt_vindex_close(vi);
        mt_embedder_free(e);
        return NULL;
    }

    b->emb = mt_emb_local_new(e, epoch, 1);
    if (b->emb == NULL) {
        mt_vindex_close(vi);
        mt_embedder_free(e);
        ngx_free(b);
        return NULL;
    }

    if (vi != NULL) {
        b->vec = mt_vec_local_new(vi, 1);
        if (b->vec == NULL) {
            mt_vindex_close(vi);
            b->emb->ops->free(b->emb);
            ngx_free(b);
            return NULL;
        }

        b->vi = vi;
    }

    b->refs = 1;

    return b;
}


void
ngx_http_matcher_backends_ref(ngx_http_matcher_backends_t *b)
{
    b->refs++;
}


void
ngx_http_matcher_backends_unref(ngx_http_matcher_backends_t *b)
{
    if (b == NULL || --b->refs) {
        return;
    }

    if (b->vec) {
        b->vec->ops->free(b->vec);
    }

    b->emb->ops->free(b->emb);
    ngx_free(b);
}


static void
ngx_http_matcher_backends_cleanup(void *data)
{
    ngx_http_matcher_backends_unref(data);
}


/*
 * The backends for r: the worker's pair, referenced until the request
 * ends, else (no index yet) the plain embedder with vec NULL.  NULL only
 * without memory.  Every call after the first returns the same pair, so
 * one request never mixes two generations.
 */

ngx_http_matcher_backends_t *
ngx_http_matcher_backends(ngx_http_request_t *r, ngx_http_matcher_ctx_t *ctx)
{
    mt_embedder_t                 *e;
    ngx_pool_cleanup_t            *cln;
    ngx_http_matcher_backends_t   *b;
    ngx_http_matcher_main_conf_t  *mmcf;

    if (ctx->backends) {
        return ctx->backends;
    }

    b = ngx_http_matcher_backends_peek(r->connection->log);

    if (b == NULL && ngx_http_matcher_remote_pair != NULL) {
        b = ngx_http_matcher_remote_pair;
    }

    if (b == NULL) {
        if (ngx_http_matcher_plain == NULL) {
            mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);

            e = mt_embedder_new((unsigned) mmcf->embed_dims,
                                NGX_HTTP_MATCHER_EMBED_SEED);
            if (e == NULL) {
                return NULL;
            }

            mt_embedder_freeze(e);

            ngx_http_matcher_plain = ngx_http_matcher_backends_new(NULL, e,
                                                                   0);
            if (ngx_http_matcher_plain == NULL) {
                return NULL;
            }
        }

        b = ngx_http_matcher_plain;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    ngx_http_matcher_backends_ref(b);
    cln->handler = ngx_http_matcher_backends_cleanup;
    cln->data = b;
    ctx->backends = b;

    return b;
}


/*
 * The worker's pair, no reference taken (for /health and a cache key):
 * an index and the embedder state its vectors were made with, always of
 * one epoch, swapped together.  A rebuild renames the new index, then
 * the new state: between the two (or after a rebuild killed there) the
 * new index has no state yet, and the old pair serves on while a sync
 * repairs the files.  A replaced file is seen by its flag at once, or by
 * its path naming another file (a writer killed before it set the flag)
 * within a second.  Opening and mapping are cheap metadata calls on
 * local files, not reads; a missing index is retried at most once a
 * second.  NULL: no index (yet).
 */

ngx_http_matcher_backends_t *
ngx_http_matcher_backends_peek(ngx_log_t *log)
{
    ngx_msec_t                     now;
    ngx_uint_t                     due;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_matcher_module);
    if (mmcf == NULL || mmcf->index_path.len == 0) {
        return NULL;
    }

    now = ngx_current_msec;
    due = (ngx_http_matcher_reopen_at == 0
           || (ngx_msec_int_t) (now - ngx_http_matcher_reopen_at) >= 0);

    if (ngx_http_matcher_current == NULL
        || mt_vindex_replaced(ngx_http_matcher_current->vi))
    {
        if (due) {
            ngx_http_matcher_reopen(log, mmcf);
        }

    } else if ((ngx_msec_int_t) (now - ngx_http_matcher_stat_at) >= 0) {
        ngx_http_matcher_stat_at = now + NGX_HTTP_MATCHER_REOPEN_MSEC;

        if (due && mt_vindex_stale(ngx_http_matcher_current->vi)) {
            ngx_http_matcher_reopen(log, mmcf);
        }
    }

    return ngx_http_matcher_current;
}


/*
 * Opens the index at its path and swaps it in with its embedder state
 * when they are of one epoch; otherwise keeps what the worker has and
 * asks for a sync, which repairs or rebuilds.
 */

static void
ngx_http_matcher_reopen(ngx_log_t *log, ngx_http_matcher_main_conf_t *mmcf)
{
    char                          err[256];
    uint64_t                      epoch, want;
    mt_vindex_t                  *vi;
    mt_embedder_t                *e;
    ngx_http_matcher_backends_t  *b;

    /* at most once a second from here on, unless this one swaps */
    ngx_http_matcher_reopen_at = ngx_current_msec
                                 + NGX_HTTP_MATCHER_REOPEN_MSEC;
    if (ngx_http_matcher_reopen_at == 0) {
        ngx_http_matcher_reopen_at = 1;
    }

    vi = mt_vindex_open((char *) mmcf->index_path.data, NULL, 0, err,
                        sizeof(err));
    if (vi == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "matcher: no vector index: %s", err);
        return;
    }

    want = mt_vindex_model_epoch(vi);

    /* each pair maps its own state: a reference never spans two pairs */
    e = mt_embedder_map((char *) mmcf->embedder_path.data, &epoch, err,
                        sizeof(err));

    if (e == NULL || epoch != want || mt_embedder_dims(e) != mt_vindex_dims(vi))
    {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "matcher: the vector index (epoch %uL) has no "
                      "embedder state yet%s%s", want,
                      e == NULL ? ": " : "", e == NULL ? err : "");

        mt_embedder_free(e);
        mt_vindex_close(vi);

        /* a rebuild between its renames finishes alone; else repair */
        ngx_http_matcher_index_kick(log);
        return;
    }

    mt_vindex_set_mode(vi, (int) mmcf->index_search);
    mt_vindex_set_nprobe(vi, (unsigned) mmcf->index_nprobe);
    mt_vindex_set_ef(vi, (unsigned) mmcf->index_ef);

    b = ngx_http_matcher_backends_new(vi, e, want);
    if (b == NULL) {
        return;
    }

    ngx_http_matcher_backends_unref(ngx_http_matcher_current);
    ngx_http_matcher_current = b;

    ngx_http_matcher_reopen_at = 0;
}


/*
 * The next peek tries the files again, whatever the once-a-second rule
 * says: a sync of this worker's has just repaired or rebuilt them.
 */

void
ngx_http_matcher_backends_reopen_now(void)
{
    ngx_http_matcher_reopen_at = 0;
    ngx_http_matcher_stat_at = ngx_current_msec;
}


void
ngx_http_matcher_backends_init_process(ngx_cycle_t *cycle)
{
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_matcher_module);

    if (mmcf != NULL && mmcf->embed_remote) {
        ngx_http_matcher_remote_pair = ngx_http_matcher_backends_remote(cycle,
                                                                     mmcf);
    }

    if (mmcf == NULL || mmcf->index_path.len == 0) {
        return;
    }

    ngx_http_matcher_unmap_dumb.fd = (ngx_socket_t) -1;
    ngx_http_matcher_unmap_event.data = &ngx_http_matcher_unmap_dumb;
    ngx_http_matcher_unmap_event.handler = ngx_http_matcher_unmap_handler;
    ngx_http_matcher_unmap_event.log = cycle->log;
    ngx_http_matcher_unmap_event.cancelable = 1;
    ngx_add_timer(&ngx_http_matcher_unmap_event,
                  NGX_HTTP_MATCHER_UNMAP_MSEC);
}


/*
 * A rebuild renames a new file over the index; the old one's pages stay
 * in memory while a worker maps it.  Searches reopen at once; this timer
 * moves a worker that has none to serve to the new pair, so that it lets
 * go of the old file (once the searches still holding it are done).
 */

static void
ngx_http_matcher_unmap_handler(ngx_event_t *ev)
{
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_matcher_module);

    if (mmcf != NULL && ngx_http_matcher_current != NULL
        && mt_vindex_stale(ngx_http_matcher_current->vi))
    {
        ngx_http_matcher_reopen(ev->log, mmcf);
    }

    if (!ngx_http_matcher_exiting()) {
        ngx_add_timer(ev, NGX_HTTP_MATCHER_UNMAP_MSEC);
    }
}


void
ngx_http_matcher_backends_exit_process(ngx_cycle_t *cycle)
{
    /* requests still holding a pair are gone with the process */
    ngx_http_matcher_backends_unref(ngx_http_matcher_current);
    ngx_http_matcher_current = NULL;

    ngx_http_matcher_backends_unref(ngx_http_matcher_plain);
    ngx_http_matcher_plain = NULL;

    ngx_http_matcher_backends_unref(ngx_http_matcher_remote_pair);
    ngx_http_matcher_remote_pair = NULL;
}


/*
 * OpenAI and Pinecone as a pair: their wire formats, for the calls of
 * ngx_http_matcher_remote.c.  NULL without memory (requests then fail
 * with 500, and the error log says why).
 */

static ngx_http_matcher_backends_t *
ngx_http_matcher_backends_remote(ngx_cycle_t *cycle,
    ngx_http_matcher_main_conf_t *mmcf)
{
    ngx_http_matcher_service_t   *svc;
    ngx_http_matcher_backends_t  *b;

    b = ngx_calloc(sizeof(ngx_http_matcher_backends_t), cycle->log);
    if (b == NULL) {
        return NULL;
    }

    svc = &mmcf->services[NGX_HTTP_MATCHER_SERVICE_PINECONE];

    /* both strings end where their directive's argument did: NUL */
    b->emb = mt_emb_openai_new((char *) mmcf->embed_model.data,
                               (unsigned) mmcf->embed_dims,
                               (int) mmcf->embed_base64);
    b->vec = mt_vec_pinecone_new(svc->namespace_.len
                                 ? (char *) svc->namespace_.data : "",
                                 (unsigned) mmcf->embed_dims);

    if (b->emb == NULL || b->vec == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "matcher: no memory for the remote backends");

        if (b->emb) {
            b->emb->ops->free(b->emb);
        }

        if (b->vec) {
            b->vec->ops->free(b->vec);
        }

        ngx_free(b);
        return NULL;
    }

    b->refs = 1;

    return b;
}

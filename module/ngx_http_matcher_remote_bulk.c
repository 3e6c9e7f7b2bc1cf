
/*
 * The bulk jobs' side of the remote services: refreshes, the sync after
 * an ingest and POST /creators/embeddings {"creatorIds"} run the indexer
 * on the thread pool with blocking backends (lib/remote_bulk.c over
 * libcurl, lib/remote_http.c): batches within the services' limits,
 * retries with backoff that obey Retry-After, and caps on concurrency
 * and rate shared by the worker's threads.  Creators are marked ready a
 * batch at a time, so a job stopped by a restart leaves the rest pending
 * and the sync that every start runs goes on from there.
 *
 * The event loop never calls these clients.  They ask
 * ngx_http_matcher_exiting() as the index jobs do (params.stop), so once
 * the worker is told to stop, a job in a backoff or a transfer gives up
 * within a tenth of a second and nginx's thread pool can join its
 * threads.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ngx_http_matcher_remote.h"
#include "remote.h"
#include "remote_bulk.h"
#include "remote_http.h"


typedef struct {
    mt_http_t                    *openai;
    mt_http_t                    *pinecone;
    mt_emb_t                     *emb;
    mt_vec_t                     *vec;
} ngx_http_matcher_bulk_t;


static void ngx_http_matcher_bulk_observe(void *data, int failed, long ms);
static mt_http_t *ngx_http_matcher_bulk_client(ngx_cycle_t *cycle,
    ngx_http_matcher_main_conf_t *mmcf, ngx_http_matcher_service_t *svc);


static ngx_http_matcher_bulk_t   ngx_http_matcher_bulk;


/*
 * matcher_remote_bulk [concurrency=4] [rate=20] [retries=5]
 *     [max_delay=120s] [timeout=60s];
 */

char *
ngx_http_matcher_bulk_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_main_conf_t *mmcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value, s;
    ngx_uint_t   i;
    ngx_msec_t   ms;

    if (mmcf->bulk_concurrency != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    mmcf->bulk_concurrency = 4;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "concurrency=", 12) == 0) {
            n = ngx_atoi(value[i].data + 12, value[i].len - 12);
            if (n < 1 || n > 64) {
                goto invalid;
            }

            mmcf->bulk_concurrency = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {
            n = ngx_atoi(value[i].data + 5, value[i].len - 5);
            if (n < 0 || n > 10000) {
                goto invalid;
            }

            mmcf->bulk_rate = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "retries=", 8) == 0) {
            n = ngx_atoi(value[i].data + 8, value[i].len - 8);
            if (n < 0 || n > 20) {
                goto invalid;
            }

            mmcf->bulk_retries = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_delay=", 10) == 0
            || ngx_strncmp(value[i].data, "timeout=", 8) == 0)
        {
            s.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            s.len = value[i].data + value[i].len - s.data;
            ms = ngx_parse_time(&s, 0);

            /* NGX_ERROR, as an ngx_msec_t, is over 120000 too */
            if (ms > 120000
                || (value[i].data[0] == 't' && ms < 1000))
            {
                goto invalid;
            }

            if (value[i].data[0] == 'm') {
                mmcf->bulk_max_delay = ms;

            } else {
                mmcf->bulk_timeout = ms;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid \"%V\": concurrency is 1 to 64, rate 0 "
                       "(no cap) to 10000 calls a second, retries 0 to 20, "
                       "max_delay and timeout at most 120s (timeout at "
                       "least 1s)", &value[i]);
    return NGX_CONF_ERROR;
}


void
ngx_http_matcher_remote_bulk_init_process(ngx_cycle_t *cycle)
{
    ngx_http_matcher_bulk_t       *bk;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_matcher_module);
    if (mmcf == NULL || !mmcf->vectors_remote) {
        return;
    }

    bk = &ngx_http_matcher_bulk;

    if (mt_http_global_init() != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "matcher: libcurl cannot start: bulk jobs fail");
        return;
    }

    bk->openai = ngx_http_matcher_bulk_client(cycle, mmcf,
                     &mmcf->services[NGX_HTTP_MATCHER_SERVICE_OPENAI]);
    bk->pinecone = ngx_http_matcher_bulk_client(cycle, mmcf,
                       &mmcf->services[NGX_HTTP_MATCHER_SERVICE_PINECONE]);

    if (bk->openai == NULL || bk->pinecone == NULL) {
        ngx_http_matcher_remote_bulk_exit_process(cycle);
        return;
    }

    /* the strings end where their directive's argument did: NUL */

    bk->emb = mt_emb_openai_bulk_new((char *) mmcf->embed_model.data,
                                     (unsigned) mmcf->embed_dims,
                                     (int) mmcf->embed_base64, bk->openai,
                                     ngx_http_matcher_exiting);
    bk->vec = mt_vec_pinecone_bulk_new(
                  mmcf->services[NGX_HTTP_MATCHER_SERVICE_PINECONE]
                      .namespace_.len
                  ? (char *) mmcf->services[NGX_HTTP_MATCHER_SERVICE_PINECONE]
                        .namespace_.data
                  : "",
                  (unsigned) mmcf->embed_dims, bk->pinecone,
                  ngx_http_matcher_exiting);

    if (bk->emb == NULL || bk->vec == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "matcher: no memory for the bulk clients");
        ngx_http_matcher_remote_bulk_exit_process(cycle);
        return;
    }
}


static mt_http_t *
ngx_http_matcher_bulk_client(ngx_cycle_t *cycle,
    ngx_http_matcher_main_conf_t *mmcf, ngx_http_matcher_service_t *svc)
{
    char             err[256], *key, *header, *extra[4];
    mt_http_t       *h;
    ngx_uint_t       i, n;
    mt_http_conf_t   conf;
    ngx_table_elt_t *e;

    /* C strings for the client, which copies them */

    key = ngx_alloc(svc->key_value.len + 1, cycle->log);
    header = ngx_alloc(svc->key_header.len + 1, cycle->log);

    if (key == NULL || header == NULL) {
        ngx_free(key);
        ngx_free(header);
        return NULL;
    }

    ngx_cpystrn((u_char *) key, svc->key_value.data, svc->key_value.len + 1);
    ngx_cpystrn((u_char *) header, svc->key_header.data,
                svc->key_header.len + 1);

    n = 0;
    e = svc->headers->elts;

    for (i = 0; i < svc->headers->nelts && n < 2; i++) {
        extra[n] = ngx_alloc(e[i].key.len + e[i].value.len + 3, cycle->log);
        if (extra[n] == NULL) {
            break;
        }

        ngx_sprintf((u_char *) extra[n], "%V: %V%Z", &e[i].key, &e[i].value);
        n++;
    }

    if (svc->api_version.len && n < 3) {
        extra[n] = ngx_alloc(sizeof("X-Pinecone-Api-Version: ")
                             + svc->api_version.len, cycle->log);
        if (extra[n] != NULL) {
            ngx_sprintf((u_char *) extra[n], "X-Pinecone-Api-Version: %V%Z",
                        &svc->api_version);
            n++;
        }
    }

    extra[n] = NULL;

    ngx_memzero(&conf, sizeof(mt_http_conf_t));
    conf.base_url = (char *) svc->url.data;
    conf.key_header = header;
    conf.key_value = key;
    conf.headers = (const char *const *) extra;
    conf.connect_timeout_ms = 5000;
    conf.timeout_ms = (long) mmcf->bulk_timeout;
    conf.max_retries = (unsigned) mmcf->bulk_retries;
    conf.retry_cap_ms = (long) mmcf->bulk_max_delay;
    conf.max_concurrency = (unsigned) mmcf->bulk_concurrency;
    conf.max_rps = (double) mmcf->bulk_rate;
    conf.max_reply = (size_t) 64 * 1024 * 1024;

    /* the metrics: OpenAI's bulk calls are embeddings, Pinecone's vectors */
    conf.observe = ngx_http_matcher_bulk_observe;
    conf.observe_data = (void *) (uintptr_t)
        ((svc == &mmcf->services[NGX_HTTP_MATCHER_SERVICE_OPENAI])
         ? NGX_HTTP_MATCHER_REMOTE_EMBEDDINGS
         : NGX_HTTP_MATCHER_REMOTE_VECTORS);

    h = mt_http_new(&conf, err, sizeof(err));

    ngx_explicit_memzero(key, svc->key_value.len);
    ngx_free(key);
    ngx_free(header);

    for (i = 0; i < n; i++) {
        ngx_free(extra[i]);
    }

    if (h == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "matcher: bulk client for %V: %s", &svc->url, err);
    }

    return h;
}


/* on a pool thread, after each bulk call */

static void
ngx_http_matcher_bulk_observe(void *data, int failed, long ms)
{
    ngx_http_matcher_metrics_upstream((ngx_uint_t) (uintptr_t) data, 1,
                                      failed != 0, (ngx_msec_int_t) ms);
}


void
ngx_http_matcher_remote_bulk_setup(mt_indexer_t *ix)
{
    ix->bemb = ngx_http_matcher_bulk.emb;
    ix->bvec = ngx_http_matcher_bulk.vec;
}


void
ngx_http_matcher_remote_bulk_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_matcher_bulk_t  *bk;

    /*
     * nginx's thread pool, a core module, has joined the jobs' threads by
     * now: they saw the worker exiting and gave up
     */

    bk = &ngx_http_matcher_bulk;

    if (bk->emb) {
        bk->emb->ops->free(bk->emb);
    }

    if (bk->vec) {
        bk->vec->ops->free(bk->vec);
    }

    mt_http_free(bk->openai);
    mt_http_free(bk->pinecone);
    ngx_memzero(bk, sizeof(ngx_http_matcher_bulk_t));
}


/*
 * GET /health: the service name, version and one check per dependency.
 * A check a location has no backend for reports "disabled".
 */


#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ngx_http_matcher_remote.h"


static ngx_int_t ngx_http_matcher_health(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);


ngx_http_matcher_route_t  ngx_http_matcher_health_routes[] = {

    { ngx_string(""), NGX_HTTP_GET, ngx_http_matcher_health, 0, 0, 0, 0 },

    { ngx_null_string, 0, NULL, 0, 0, 0, 0 }
};


typedef struct {
    const char                   *name;
    const char                   *status;    /* up|down|degraded|disabled */
    ngx_msec_t                    latency;
    const char                   *detail;
} ngx_http_matcher_check_t;


static ngx_int_t ngx_http_matcher_health_pinged(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
static ngx_int_t ngx_http_matcher_health_reply(ngx_http_request_t *r,
    ngx_http_matcher_check_t *store);
static void ngx_http_matcher_index_check(ngx_http_request_t *r,
    ngx_http_matcher_check_t *emb, ngx_http_matcher_check_t *vec);
static void ngx_http_matcher_cache_check(ngx_http_request_t *r,
    ngx_http_matcher_check_t *check);
static void ngx_http_matcher_remote_check(ngx_http_request_t *r,
    ngx_uint_t remote, ngx_http_matcher_check_t *check);


/*
 * The store is pinged as a read: a read transaction begun and ended on
 * LMDB (cheap, and it proves the map works), on the thread pool for a
 * store whose reads may not run on the loop.
 */

static ngx_int_t
ngx_http_matcher_health(ngx_http_request_t *r, ngx_http_matcher_ctx_t *ctx)
{
    ngx_msec_t                    *start;
    ngx_http_matcher_check_t       store;
    ngx_http_matcher_read_t       *rd;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);

    store.name = "store";
    store.latency = 0;

    if (mmcf->store_type == NGX_HTTP_MATCHER_STORE_NONE) {
        store.status = "disabled";
        store.detail = "no matcher_store";
        return ngx_http_matcher_health_reply(r, &store);
    }

    if (ngx_http_matcher_store() == NULL) {
        store.status = "down";
        store.detail = "the store could not be opened: see the error log";
        return ngx_http_matcher_health_reply(r, &store);
    }

    /* first: a parked read's memory is the heap's until it is posted */

    start = ngx_palloc(r->pool, sizeof(ngx_msec_t));
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rd = ngx_http_matcher_read_alloc(r, NGX_HTTP_MATCHER_READ_PING, 0);
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_time_update();
    *start = ngx_current_msec;

    rd->data = start;
    rd->next = ngx_http_matcher_health_pinged;

    return ngx_http_matcher_read(r, rd);
}


static ngx_int_t
ngx_http_matcher_health_pinged(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    ngx_msec_t                *start = rd->data;
    ngx_http_matcher_check_t   store;

    ngx_time_update();

    store.name = "store";
    store.latency = ngx_current_msec - *start;
    store.status = (rd->rc == MT_STORE_OK) ? "up" : "down";
    store.detail = (rd->rc == MT_STORE_OK) ? rd->store->ops->name
                   : rd->error[0] ? rd->error : "ping failed";

    return ngx_http_matcher_health_reply(r, &store);
}


static ngx_int_t
ngx_http_matcher_health_reply(ngx_http_request_t *r,
    ngx_http_matcher_check_t *store)
{
    mt_jw_t                       w;
    ngx_uint_t                    i, n, down, degraded;
    ngx_http_matcher_check_t      checks[5];
    ngx_http_matcher_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_matcher_module);

    /* the backends are wired in by the store, index and cache */

    n = 0;
    checks[n++] = *store;
    ngx_http_matcher_index_check(r, &checks[n], &checks[n + 1]);
    n += 2;
    ngx_http_matcher_cache_check(r, &checks[n++]);

    /* not in the contract's four: shown only when configured */
    if (ngx_http_matcher_remote_configured(NGX_HTTP_MATCHER_REMOTE_CHAT)) {
        checks[n].name = "framing";
        ngx_http_matcher_remote_check(r, NGX_HTTP_MATCHER_REMOTE_CHAT,
                                      &checks[n++]);
    }

    down = 0;
    degraded = 0;

    for (i = 0; i < n; i++) {
        if (ngx_strcmp(checks[i].status, "down") == 0) {
            down |= (i == 0);
            degraded = 1;

        } else if (ngx_strcmp(checks[i].status, "degraded") == 0) {
            degraded = 1;
        }
    }

    mt_jw_init(&w);
    mt_jw_obj_open(&w);

    mt_jw_key(&w, "status");
    mt_jw_cstr(&w, down ? "unhealthy" : degraded ? "degraded" : "healthy");
    mt_jw_key(&w, "service");
    mt_jw_str(&w, (const char *) mlcf->service_name.data,
              mlcf->service_name.len);
    mt_jw_key(&w, "timestamp");
    ngx_http_matcher_write_time(&w, ngx_http_matcher_now_ms());
    mt_jw_key(&w, "version");
    mt_jw_cstr(&w, NGX_HTTP_MATCHER_VERSION);

    mt_jw_key(&w, "checks");
    mt_jw_obj_open(&w);

    for (i = 0; i < n; i++) {
        mt_jw_key(&w, checks[i].name);
        mt_jw_obj_open(&w);
        mt_jw_key(&w, "status");
        mt_jw_cstr(&w, checks[i].status);
        mt_jw_key(&w, "latencyMs");
        mt_jw_int(&w, (int64_t) checks[i].latency);

        if (checks[i].detail) {
            mt_jw_key(&w, "detail");
            mt_jw_cstr(&w, checks[i].detail);
        }

        mt_jw_obj_close(&w);
    }

    mt_jw_obj_close(&w);
    mt_jw_obj_close(&w);

    return ngx_http_matcher_send(r, down ? NGX_HTTP_SERVICE_UNAVAILABLE
                                         : NGX_HTTP_OK, &w);
}


/*
 * The local embedder and the index as this worker maps them; a store
 * without an index yet is "degraded": matching falls back to structured
 * signals until the background build is done.
 */

static void
ngx_http_matcher_index_check(ngx_http_request_t *r,
    ngx_http_matcher_check_t *emb, ngx_http_matcher_check_t *vec)
{
    u_char                        *p;
    mt_emb_t                      *e;
    mt_vindex_t                   *vi;
    ngx_http_matcher_backends_t   *b;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);

    *emb = (ngx_http_matcher_check_t) { "embeddings", "disabled", 0,
                                        "no matcher_store" };
    *vec = (ngx_http_matcher_check_t) { "vectors", "disabled", 0,
                                        "no matcher_store" };

    if (mmcf->embed_remote) {
        ngx_http_matcher_remote_check(r, NGX_HTTP_MATCHER_REMOTE_EMBEDDINGS,
                                      emb);
        ngx_http_matcher_remote_check(r, NGX_HTTP_MATCHER_REMOTE_VECTORS,
                                      vec);
        return;
    }

    if (mmcf->index_path.len == 0) {
        return;
    }

    b = ngx_http_matcher_backends_peek(r->connection->log);

    if (b == NULL) {
        emb->status = "degraded";
        emb->detail = "local embedder: no state yet";
        vec->status = "degraded";
        vec->detail = "the vector index is being built";
        return;
    }

    p = ngx_pnalloc(r->pool, (size_t) 2 * 160);
    if (p == NULL) {
        return;
    }

    e = b->emb;
    vi = b->vi;

    emb->status = "up";
    emb->detail = (char *) p;
    p = ngx_snprintf(p, 159, "%s %s, %ui dimensions, epoch %uL%Z",
                     e->ops->name, e->ops->model(e), e->ops->dims(e),
                     e->ops->epoch(e));

    vec->status = "up";
    vec->detail = (char *) p;
    ngx_snprintf(p, 159, "local: %uz creators, generation %uL, "
                 "%uz bytes a creator, %V search, IVF %ui lists, "
                 "nprobe %ui, graph M %ud, ef %ui%Z",
                 mt_vindex_live(vi), mt_vindex_generation(vi),
                 mt_vindex_record_size(vi),
                 &ngx_http_matcher_search_modes[mmcf->index_search],
                 mt_vindex_lists(vi), mmcf->index_nprobe,
                 mt_vindex_graph_m(vi), mmcf->index_ef);
}


/*
 * A remote as the breakers in the shared zone see it, across workers: no
 * call is made for /health (an ALB checks it every few seconds).
 */

static void
ngx_http_matcher_remote_check(ngx_http_request_t *r, ngx_uint_t remote,
    ngx_http_matcher_check_t *check)
{
    ngx_http_matcher_remote_state_t  *st;

    st = ngx_palloc(r->pool, sizeof(ngx_http_matcher_remote_state_t));
    if (st == NULL) {
        return;
    }

    ngx_http_matcher_remote_state(remote, st);

    check->status = st->status;
    check->latency = st->latency;
    check->detail = st->detail[0] ? st->detail : NULL;
}


static void
ngx_http_matcher_cache_check(ngx_http_request_t *r,
    ngx_http_matcher_check_t *check)
{
    u_char                          *p;
    ngx_http_matcher_cache_stats_t   st;

    *check = (ngx_http_matcher_check_t) { "cache", "disabled", 0,
                                          "no matcher_cache_zone" };

    if (ngx_http_matcher_cache_stats(&st) != NGX_OK) {
        return;
    }

    p = ngx_pnalloc(r->pool, 256);
    if (p == NULL) {
        return;
    }

    ngx_snprintf(p, 255, "hits %uA, misses %uA, expired %uA, evictions %uA, "
                 "bypasses %uA, entries %ui, free %uz of %uz bytes%Z",
                 st.hits, st.misses, st.expired, st.evictions, st.bypasses,
                 st.entries, st.free, st.size);

    check->status = "up";
    check->detail = (char *) p;
}

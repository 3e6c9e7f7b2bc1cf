
/*
 * Prometheus metrics (matcher_metrics): counters in a shared zone, added
 * to with atomics by every worker in the log phase, so they are exact
 * across workers and, the zone being kept, across "nginx -s reload";
 * gauges (cache, index, backlog, jobs) read when scraped.  The text
 * format is Prometheus' 0.0.4, checked with "promtool check metrics".
 *
 * Each worker adds to a slot of its own (ngx_worker's), so that workers
 * on other cores do not take each other's cache lines on every request;
 * a scrape sums the slots.  Atomics still: after a reload, an old worker
 * finishing its requests shares its slot with its successor.
 */


#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ngx_http_matcher_remote.h"
#include "vindex.h"


#define NGX_HTTP_MATCHER_METRICS_VERSION  1

/* route 0 is "other": a path no route has, a 429 from limit_req */
#define NGX_HTTP_MATCHER_METRICS_ROUTES   32
#define NGX_HTTP_MATCHER_METRICS_BUCKETS  12
#define NGX_HTTP_MATCHER_METRICS_CODES    20
#define NGX_HTTP_MATCHER_METRICS_SLOTS    16


typedef struct {
    ngx_atomic_t                  count;
    ngx_atomic_t                  sum_us;
    ngx_atomic_t                  buckets[NGX_HTTP_MATCHER_METRICS_BUCKETS];
} ngx_http_matcher_histogram_t;


/* nothing but ngx_atomic_t: a scrape sums the slots as arrays of them */
typedef struct {
    ngx_atomic_t                  requests[NGX_HTTP_MATCHER_METRICS_ROUTES]
                                          [NGX_HTTP_MATCHER_METRICS_CODES];
    ngx_http_matcher_histogram_t  latency[NGX_HTTP_MATCHER_METRICS_ROUTES];
    /* [0]: the request path's subrequests, [1]: the bulk jobs' libcurl */
    ngx_atomic_t                  upstream_calls[2]
                                                [NGX_HTTP_MATCHER_REMOTE_N];
    ngx_atomic_t                  upstream_errors[2]
                                                 [NGX_HTTP_MATCHER_REMOTE_N];
    ngx_http_matcher_histogram_t  upstream[2][NGX_HTTP_MATCHER_REMOTE_N];
    ngx_atomic_t                  store_errors[2]; /* error, unavailable */
} ngx_http_matcher_metrics_slot_t;


typedef struct {
    ngx_uint_t                    version;     /* first: see zone_struct */
    ngx_http_matcher_metrics_slot_t  slots[NGX_HTTP_MATCHER_METRICS_SLOTS];
} ngx_http_matcher_metrics_sh_t;


typedef struct {
    ngx_http_matcher_route_t     *routes;
    const char                   *prefix;
} ngx_http_matcher_route_table_t;


static ngx_int_t ngx_http_matcher_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_matcher_metrics_log(ngx_http_request_t *r);
static ngx_uint_t ngx_http_matcher_metrics_route(
    ngx_http_matcher_route_t *rt);
static void ngx_http_matcher_metrics_observe(
    ngx_http_matcher_histogram_t *h, ngx_msec_int_t ms);
static ngx_int_t ngx_http_matcher_metrics_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_matcher_metrics_counted(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
static ngx_int_t ngx_http_matcher_metrics_send(ngx_http_request_t *r,
    ngx_int_t pending);
static u_char *ngx_http_matcher_metrics_histogram(u_char *p,
    const char *name, const char *labels, ngx_http_matcher_histogram_t *h);
static u_char *ngx_http_matcher_metrics_labels(u_char *p, ngx_uint_t i);
static u_char *ngx_http_matcher_metrics_per_remote(u_char *p,
    const char *name, ngx_atomic_t n[2][NGX_HTTP_MATCHER_REMOTE_N]);


/* the upper bounds of the latency buckets, in milliseconds */
static const ngx_msec_int_t  ngx_http_matcher_bounds[] = {
    1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};

static const char  *ngx_http_matcher_bound_names[] = {
    "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
    "2.5", "5", "10"
};

/* the codes the contract has, and the client's 499 */
static const ngx_uint_t  ngx_http_matcher_codes[] = {
    0, 200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 412, 413, 415,
    429, 499, 500, 502, 503, 504
};

/* remotes in NGX_HTTP_MATCHER_REMOTE_* order */
static const char  *ngx_http_matcher_remote_labels[] = {
    "openai_embeddings", "openai_chat", "pinecone"
};

static ngx_http_matcher_route_table_t  ngx_http_matcher_route_tables[] = {
    { ngx_http_matcher_assignment_routes, "/assignments" },
    { ngx_http_matcher_creator_routes, "/creators" },
    { ngx_http_matcher_match_routes, "/matches" },
    { ngx_http_matcher_health_routes, "/health" },
    { NULL, NULL }
};

static ngx_str_t  ngx_http_matcher_metrics_name =
    ngx_string("matcher_metrics");

static ngx_str_t  ngx_http_matcher_metrics_type =
    ngx_string("text/plain; version=0.0.4; charset=utf-8");


/* matcher_metrics;  the location answering Prometheus' scrapes */

char *
ngx_http_matcher_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_matcher_main_conf_t  *mmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" conflicts with another content handler "
                           "in this location", &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf->handler = ngx_http_matcher_metrics_handler;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_matcher_module);
    mmcf->metrics++;

    return NGX_CONF_OK;
}


/*
 * The zone exists only where some location serves the metrics: without
 * one, no request pays for counting.  The log phase handler is added in
 * postconfiguration, here.
 */

ngx_int_t
ngx_http_matcher_metrics_init(ngx_conf_t *cf)
{
    ngx_shm_zone_t                *zone;
    ngx_http_handler_pt           *h;
    ngx_http_core_main_conf_t     *cmcf;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_matcher_module);

    if (mmcf->metrics == 0) {
        return NGX_OK;
    }

    zone = ngx_shared_memory_add(cf, &ngx_http_matcher_metrics_name,
                                 ngx_align(sizeof(ngx_http_matcher_metrics_sh_t)
                                           + 4 * ngx_pagesize, ngx_pagesize),
                                 &ngx_http_matcher_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_matcher_metrics_init_zone;
    mmcf->metrics_zone = zone;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_matcher_metrics_log;

    return NGX_OK;
}


static ngx_int_t
ngx_http_matcher_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_uint_t  fresh;

    /* a reload keeps the counters: Prometheus sees no reset */

    if (ngx_http_matcher_zone_struct(shm_zone, data,
                                     sizeof(ngx_http_matcher_metrics_sh_t),
                                     NGX_HTTP_MATCHER_METRICS_VERSION,
                                     &fresh)
        == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "matcher: no room for the metrics in zone \"%V\"",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the running cycle's zone, NULL without one */

static ngx_http_matcher_metrics_sh_t *
ngx_http_matcher_metrics_sh(void)
{
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_matcher_module);

    if (mmcf == NULL || mmcf->metrics_zone == NULL) {
        return NULL;
    }

    return mmcf->metrics_zone->data;
}


/* this worker's slot */

static ngx_http_matcher_metrics_slot_t *
ngx_http_matcher_metrics_slot(void)
{
    ngx_http_matcher_metrics_sh_t  *sh;

    sh = ngx_http_matcher_metrics_sh();
    if (sh == NULL) {
        return NULL;
    }

    return &sh->slots[ngx_worker % NGX_HTTP_MATCHER_METRICS_SLOTS];
}


/* the log phase of every request one of our endpoints answered */

static ngx_int_t
ngx_http_matcher_metrics_log(ngx_http_request_t *r)
{
    ngx_uint_t                      route, code, i;
    ngx_time_t                     *tp;
    ngx_msec_int_t                  ms;
    ngx_http_matcher_ctx_t           *ctx;
    ngx_http_matcher_metrics_slot_t  *sh;

    if (r != r->main) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);
    sh = ngx_http_matcher_metrics_slot();

    if (ctx == NULL || ctx->uncounted || sh == NULL) {
        return NGX_OK;
    }

    route = ngx_http_matcher_metrics_route(ctx->route);

    code = r->headers_out.status;
    if (r->err_status) {
        code = r->err_status;
    }

    for (i = 1; i < NGX_HTTP_MATCHER_METRICS_CODES; i++) {
        if (ngx_http_matcher_codes[i] == code) {
            break;
        }
    }

    if (i == NGX_HTTP_MATCHER_METRICS_CODES) {
        i = 0;
    }

    (void) ngx_atomic_fetch_add(&sh->requests[route][i], 1);

    tp = ngx_timeofday();
    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));

    ngx_http_matcher_metrics_observe(&sh->latency[route], ms);

    return NGX_OK;
}


static void
ngx_http_matcher_metrics_observe(ngx_http_matcher_histogram_t *h,
    ngx_msec_int_t ms)
{
    ngx_uint_t  b;

    ms = ngx_max(ms, 0);

    for (b = 0; b < NGX_HTTP_MATCHER_METRICS_BUCKETS; b++) {
        if (ms <= ngx_http_matcher_bounds[b]) {
            (void) ngx_atomic_fetch_add(&h->buckets[b], 1);
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&h->sum_us, (ngx_atomic_int_t) ms * 1000);
    (void) ngx_atomic_fetch_add(&h->count, 1);
}


/* a route's place among all routes, 0 for none */

static ngx_uint_t
ngx_http_matcher_metrics_route(ngx_http_matcher_route_t *rt)
{
    ngx_uint_t                       n;
    ngx_http_matcher_route_t        *r;
    ngx_http_matcher_route_table_t  *t;

    if (rt == NULL) {
        return 0;
    }

    n = 1;

    for (t = ngx_http_matcher_route_tables; t->routes; t++) {
        for (r = t->routes; r->handler; r++) {
            if (r == rt) {
                return (n < NGX_HTTP_MATCHER_METRICS_ROUTES) ? n : 0;
            }

            n++;
        }
    }

    return 0;
}


/*
 * A call to a remote service, when it ends: a subrequest's on the loop
 * (ngx_http_matcher_remote.c), a bulk job's on a pool thread (bulk 1:
 * the atomics serve both).
 */

void
ngx_http_matcher_metrics_upstream(ngx_uint_t remote, ngx_uint_t bulk,
    ngx_uint_t failed, ngx_msec_int_t ms)
{
    ngx_http_matcher_metrics_slot_t  *sh;

    sh = ngx_http_matcher_metrics_slot();

    if (sh == NULL || remote >= NGX_HTTP_MATCHER_REMOTE_N) {
        return;
    }

    bulk = bulk ? 1 : 0;

    (void) ngx_atomic_fetch_add(&sh->upstream_calls[bulk][remote], 1);

    if (failed) {
        (void) ngx_atomic_fetch_add(&sh->upstream_errors[bulk][remote], 1);
    }

    ngx_http_matcher_metrics_observe(&sh->upstream[bulk][remote], ms);
}


/* a store call that failed for the store's reasons, not the client's */

void
ngx_http_matcher_metrics_store_error(ngx_uint_t unavailable)
{
    ngx_http_matcher_metrics_slot_t  *sh;

    sh = ngx_http_matcher_metrics_slot();

    if (sh != NULL) {
        (void) ngx_atomic_fetch_add(&sh->store_errors[unavailable ? 1 : 0],
                                    1);
    }
}


/*
 * GET /metrics: the creators in the store are counted first (a store
 * read, parked where the store's reads must be) for the backlog.
 */

static ngx_int_t
ngx_http_matcher_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_matcher_ctx_t   *ctx;
    ngx_http_matcher_read_t  *rd;

    ctx = ngx_http_matcher_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the scrapes are not the API's traffic */
    ctx->uncounted = 1;

    r->expect_tested = 1;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        static ngx_str_t  allow = ngx_string("GET, HEAD");

        if (ngx_http_matcher_add_header(r, "Allow", &allow) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_matcher_error(r, NGX_HTTP_NOT_ALLOWED,
                                      "method_not_allowed",
                                      "method not allowed on this resource",
                                      NULL, 0);
    }

    if (ngx_http_matcher_store() == NULL
        || ngx_http_matcher_backends_peek(r->connection->log) == NULL)
    {
        return ngx_http_matcher_metrics_send(r, -1);
    }

    rd = ngx_http_matcher_read_alloc(r, NGX_HTTP_MATCHER_READ_CREATOR_COUNT,
                                     0);
    if (rd == NULL) {
        return ngx_http_matcher_metrics_send(r, -1);
    }

    rd->next = ngx_http_matcher_metrics_counted;

    return ngx_http_matcher_read(r, rd);
}


static ngx_int_t
ngx_http_matcher_metrics_counted(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    size_t                        live;
    ngx_http_matcher_backends_t  *b;

    if (rd->rc != MT_STORE_OK) {
        return ngx_http_matcher_metrics_send(r, -1);
    }

    b = ngx_http_matcher_backends_peek(r->connection->log);

    if (b == NULL || b->vi == NULL) {
        return ngx_http_matcher_metrics_send(r, -1);
    }

    live = mt_vindex_live(b->vi);

    return ngx_http_matcher_metrics_send(r, rd->total > live
                                            ? (ngx_int_t) (rd->total - live)
                                            : 0);
}


#define ngx_http_matcher_metric_head(p, name, type, help)                    \
    ngx_sprintf(p, "# HELP " name " " help "\n# TYPE " name " " type "\n")


/* pending: the creators not yet in the index, -1 when not known */

static ngx_int_t
ngx_http_matcher_metrics_send(ngx_http_request_t *r, ngx_int_t pending)
{
    u_char                          *p, *start, labels[160];
    size_t                           size;
    ngx_int_t                        rc;
    ngx_buf_t                       *b;
    ngx_uint_t                       i, j, jobs[3];
    ngx_chain_t                      out;
    ngx_atomic_uint_t                n;
    ngx_http_matcher_backends_t     *be;
    ngx_atomic_t                      *from, *to;
    ngx_http_matcher_cache_stats_t     st;
    ngx_http_matcher_metrics_sh_t     *all;
    ngx_http_matcher_metrics_slot_t   *sh;

    all = ngx_http_matcher_metrics_sh();
    if (all == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the slots summed into one, in the request's memory */

    sh = ngx_pcalloc(r->pool, sizeof(ngx_http_matcher_metrics_slot_t));
    if (sh == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    to = (ngx_atomic_t *) sh;

    for (i = 0; i < NGX_HTTP_MATCHER_METRICS_SLOTS; i++) {
        from = (ngx_atomic_t *) &all->slots[i];

        for (j = 0;
             j < sizeof(ngx_http_matcher_metrics_slot_t)
                 / sizeof(ngx_atomic_t);
             j++)
        {
            to[j] += from[j];
        }
    }

    /* every line that could be written, each shorter than 256 bytes */
    size = ((size_t) NGX_HTTP_MATCHER_METRICS_ROUTES
            * (NGX_HTTP_MATCHER_METRICS_CODES
               + NGX_HTTP_MATCHER_METRICS_BUCKETS + 3)
            + (size_t) 2 * NGX_HTTP_MATCHER_REMOTE_N
              * (NGX_HTTP_MATCHER_METRICS_BUCKETS + 5)
            + 100) * 256;

    start = ngx_pnalloc(r->pool, size);
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(start, "# HELP matcher_info The module's version.\n"
                    "# TYPE matcher_info gauge\n"
                    "matcher_info{version=\"%s\"} 1\n",
                    NGX_HTTP_MATCHER_VERSION);

    p = ngx_http_matcher_metric_head(p, "matcher_http_requests_total",
            "counter", "Requests the matcher endpoints answered, by "
            "endpoint and status code.");

    for (i = 0; i < NGX_HTTP_MATCHER_METRICS_ROUTES; i++) {
        for (j = 0; j < NGX_HTTP_MATCHER_METRICS_CODES; j++) {
            n = sh->requests[i][j];
            if (n == 0) {
                continue;
            }

            p = ngx_sprintf(p, "matcher_http_requests_total{");
            p = ngx_http_matcher_metrics_labels(p, i);

            if (j == 0) {
                p = ngx_sprintf(p, ",code=\"other\"} %uA\n", n);

            } else {
                p = ngx_sprintf(p, ",code=\"%ui\"} %uA\n",
                                ngx_http_matcher_codes[j], n);
            }
        }
    }

    p = ngx_http_matcher_metric_head(p,
            "matcher_http_request_duration_seconds", "histogram",
            "Time from the request's first byte to its log phase, by "
            "endpoint.");

    for (i = 0; i < NGX_HTTP_MATCHER_METRICS_ROUTES; i++) {
        if (sh->latency[i].count == 0) {
            continue;
        }

        *ngx_http_matcher_metrics_labels(labels, i) = '\0';
        p = ngx_http_matcher_metrics_histogram(p,
                "matcher_http_request_duration_seconds", (char *) labels,
                &sh->latency[i]);
    }

    p = ngx_http_matcher_metric_head(p, "matcher_upstream_calls_total",
            "counter", "Calls to the remote services, by remote and by "
            "path: request (subrequests) or bulk (the jobs' client).");

    p = ngx_http_matcher_metrics_per_remote(p,
            "matcher_upstream_calls_total", sh->upstream_calls);

    p = ngx_http_matcher_metric_head(p, "matcher_upstream_errors_total",
            "counter", "Calls to the remote services that failed (a bulk "
            "call: after its retries).");

    p = ngx_http_matcher_metrics_per_remote(p,
            "matcher_upstream_errors_total", sh->upstream_errors);

    p = ngx_http_matcher_metric_head(p,
            "matcher_upstream_duration_seconds", "histogram",
            "Time of the calls to the remote services (a bulk call's "
            "retries and waits included).");

    for (j = 0; j < 2; j++) {
        for (i = 0; i < NGX_HTTP_MATCHER_REMOTE_N; i++) {
            ngx_sprintf(labels, "remote=\"%s\",via=\"%s\"%Z",
                        ngx_http_matcher_remote_labels[i],
                        j ? "bulk" : "request");
            p = ngx_http_matcher_metrics_histogram(p,
                    "matcher_upstream_duration_seconds", (char *) labels,
                    &sh->upstream[j][i]);
        }
    }

    p = ngx_http_matcher_metric_head(p, "matcher_store_errors_total",
            "counter", "Store calls that failed: unavailable, or another "
            "error.");
    p = ngx_sprintf(p, "matcher_store_errors_total{kind=\"error\"} %uA\n"
                    "matcher_store_errors_total{kind=\"unavailable\"} "
                    "%uA\n", sh->store_errors[0], sh->store_errors[1]);

    if (ngx_http_matcher_cache_stats(&st) == NGX_OK) {
        p = ngx_http_matcher_metric_head(p, "matcher_cache_lookups_total",
                "counter", "Cache lookups, by result.");
        p = ngx_sprintf(p,
                "matcher_cache_lookups_total{result=\"hit\"} %uA\n"
                "matcher_cache_lookups_total{result=\"miss\"} %uA\n"
                "matcher_cache_lookups_total{result=\"expired\"} %uA\n"
                "matcher_cache_lookups_total{result=\"bypass\"} %uA\n",
                st.hits, st.misses, st.expired, st.bypasses);
        p = ngx_http_matcher_metric_head(p, "matcher_cache_evictions_total",
                "counter", "Entries evicted to make room.");
        p = ngx_sprintf(p, "matcher_cache_evictions_total %uA\n",
                        st.evictions);
        p = ngx_http_matcher_metric_head(p, "matcher_cache_entries",
                "gauge", "Entries in the cache.");
        p = ngx_sprintf(p, "matcher_cache_entries %ui\n", st.entries);
        p = ngx_http_matcher_metric_head(p, "matcher_cache_size_bytes",
                "gauge", "The cache zone's size.");
        p = ngx_sprintf(p, "matcher_cache_size_bytes %uz\n", st.size);
        p = ngx_http_matcher_metric_head(p, "matcher_cache_used_bytes",
                "gauge", "Bytes of the cache zone in use.");
        p = ngx_sprintf(p, "matcher_cache_used_bytes %uz\n",
                        st.size > st.free ? st.size - st.free : 0);
    }

    be = ngx_http_matcher_backends_peek(r->connection->log);

    if (be && be->vi) {
        p = ngx_http_matcher_metric_head(p, "matcher_index_creators",
                "gauge", "Creators in the local vector index.");
        p = ngx_sprintf(p, "matcher_index_creators %uz\n",
                        mt_vindex_live(be->vi));
        p = ngx_http_matcher_metric_head(p, "matcher_index_generation",
                "gauge", "The local vector index's generation.");
        p = ngx_sprintf(p, "matcher_index_generation %uL\n",
                        (uint64_t) mt_vindex_generation(be->vi));
    }

    if (pending >= 0) {
        p = ngx_http_matcher_metric_head(p,
                "matcher_embedding_backlog_creators", "gauge",
                "Creators in the store not yet in the index.");
        p = ngx_sprintf(p, "matcher_embedding_backlog_creators %i\n",
                        pending);
    }

    if (ngx_http_matcher_refresh_jobs(jobs) == NGX_OK) {
        p = ngx_http_matcher_metric_head(p, "matcher_refresh_jobs", "gauge",
                "The refresh jobs kept (the last 16), by state.");
        p = ngx_sprintf(p, "matcher_refresh_jobs{state=\"running\"} %ui\n"
                        "matcher_refresh_jobs{state=\"completed\"} %ui\n"
                        "matcher_refresh_jobs{state=\"failed\"} %ui\n",
                        jobs[0], jobs[1], jobs[2]);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = start;
    b->last = p;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = ngx_http_matcher_metrics_type;
    r->headers_out.content_type_len = ngx_http_matcher_metrics_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = p - start;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


static u_char *
ngx_http_matcher_metrics_histogram(u_char *p, const char *name,
    const char *labels, ngx_http_matcher_histogram_t *h)
{
    ngx_uint_t         b;
    ngx_atomic_uint_t  sum, count, cum;

    /*
     * Read once each: the buckets may move on while they are written,
     * so +Inf is the buckets' own total, never below the last bucket.
     */

    cum = 0;

    for (b = 0; b < NGX_HTTP_MATCHER_METRICS_BUCKETS; b++) {
        cum += h->buckets[b];
        p = ngx_sprintf(p, "%s_bucket{%s,le=\"%s\"} %uA\n", name, labels,
                        ngx_http_matcher_bound_names[b], cum);
    }

    count = h->count;
    sum = h->sum_us;

    if (count < cum) {
        count = cum;
    }

    p = ngx_sprintf(p, "%s_bucket{%s,le=\"+Inf\"} %uA\n", name, labels,
                    count);
    p = ngx_sprintf(p, "%s_sum{%s} %uA.%06uA\n", name, labels,
                    sum / 1000000, sum % 1000000);

    return ngx_sprintf(p, "%s_count{%s} %uA\n", name, labels, count);
}


/* one counter a remote and a path (request, bulk) */

static u_char *
ngx_http_matcher_metrics_per_remote(u_char *p, const char *name,
    ngx_atomic_t n[2][NGX_HTTP_MATCHER_REMOTE_N])
{
    ngx_uint_t  i, j;

    for (j = 0; j < 2; j++) {
        for (i = 0; i < NGX_HTTP_MATCHER_REMOTE_N; i++) {
            p = ngx_sprintf(p, "%s{remote=\"%s\",via=\"%s\"} %uA\n", name,
                            ngx_http_matcher_remote_labels[i],
                            j ? "bulk" : "request", n[j][i]);
        }
    }

    return p;
}


/* method="GET",endpoint="/creators/{id}" */

static u_char *
ngx_http_matcher_metrics_labels(u_char *p, ngx_uint_t i)
{
    u_char                          *s, *last;
    ngx_uint_t                       n, m;
    ngx_http_matcher_route_t        *r;
    ngx_http_matcher_route_table_t  *t;

    static const struct {
        ngx_uint_t   method;
        const char  *name;
    } methods[] = {
        { NGX_HTTP_GET, "GET" }, { NGX_HTTP_POST, "POST" },
        { NGX_HTTP_PATCH, "PATCH" }, { NGX_HTTP_PUT, "PUT" },
        { NGX_HTTP_DELETE, "DELETE" }, { 0, NULL }
    };

    n = 1;

    for (t = ngx_http_matcher_route_tables; t->routes; t++) {
        for (r = t->routes; r->handler; r++, n++) {
            if (n != i) {
                continue;
            }

            for (m = 0; methods[m].name; m++) {
                if (r->methods & methods[m].method) {
                    break;
                }
            }

            p = ngx_sprintf(p, "method=\"%s\",endpoint=\"%s",
                            methods[m].name ? methods[m].name : "other",
                            t->prefix);

            /* "history/{}" → "/history/{id}" */

            s = r->path.data;
            last = r->path.data + r->path.len;

            if (s < last) {
                *p++ = '/';
            }

            for ( /* void */ ; s < last; s++) {
                if (*s == '{' && s + 1 < last && s[1] == '}') {
                    p = ngx_cpymem(p, "{id}", 4);
                    s++;
                    continue;
                }

                *p++ = *s;
            }

            *p++ = '"';

            return p;
        }
    }

    return ngx_sprintf(p, "method=\"other\",endpoint=\"other\"");
}

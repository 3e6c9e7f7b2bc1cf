
/*
 * ngx_http_matcher_module: shared declarations of the nginx glue.
 * Everything below module/ is glue; the logic lives in lib/.
 */

#ifndef _NGX_HTTP_MATCHER_MODULE_H_INCLUDED_
#define _NGX_HTTP_MATCHER_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "json.h"
#include "store.h"
#include "oid.h"


#define NGX_HTTP_MATCHER_VERSION       "0.1.0"
#define NGX_HTTP_MATCHER_MAX_PARAMS    4

/* a success: what gets CSV, Vary: Accept, and an upstream reply's body */
#define ngx_http_matcher_2xx(status)                                        \
    ((status) >= NGX_HTTP_OK && (status) < NGX_HTTP_SPECIAL_RESPONSE)

/*
 * A test build (make test-parked) defines NGX_HTTP_MATCHER_PARKED: store
 * reads and vector searches then default to the thread pool, so the
 * whole t/ suite runs the parked path of every phase.
 */
#if (NGX_HTTP_MATCHER_PARKED)
#define NGX_HTTP_MATCHER_PARKED_DEFAULT  1
#else
#define NGX_HTTP_MATCHER_PARKED_DEFAULT  0
#endif

/* "matcher_vectors local run=": where a search runs */
#define NGX_HTTP_MATCHER_RUN_LOOP        0
#define NGX_HTTP_MATCHER_RUN_POOL        1
#define NGX_HTTP_MATCHER_RUN_AUTO        2
/*
 * run=auto: on the loop up to this many creators, on the pool above.
 * At a million a search takes about a millisecond, but one whose filter
 * admits few creators checks every record: 40-100 ms, which must not
 * hold the loop; at 100,000 that is a tenth as long.
 */
#define NGX_HTTP_MATCHER_RUN_LOOP_MAX    100000


typedef struct ngx_http_matcher_ctx_s  ngx_http_matcher_ctx_t;
typedef struct ngx_http_matcher_backends_s  ngx_http_matcher_backends_t;
typedef struct ngx_http_matcher_keys_s  ngx_http_matcher_keys_t;

typedef ngx_int_t (*ngx_http_matcher_route_pt)(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);


/*
 * A route is a path below the location, "" or segments such as
 * "history/{}" where "{}" captures one segment into ctx->params.
 */
typedef struct {
    ngx_str_t                     path;
    ngx_uint_t                    methods;     /* NGX_HTTP_GET|... */
    ngx_http_matcher_route_pt     handler;
    unsigned                      body_optional:1;
    unsigned                      ndjson:1;    /* accepts x-ndjson too */
    unsigned                      large_body:1; /* ingest limit applies */
    unsigned                      reads:1;     /* a POST that only reads:
                                                  a "read" key may call it */
} ngx_http_matcher_route_t;


/* the remote services: one location and one key each (matcher_openai...) */
#define NGX_HTTP_MATCHER_SERVICE_OPENAI     0
#define NGX_HTTP_MATCHER_SERVICE_PINECONE   1
#define NGX_HTTP_MATCHER_SERVICE_N          2

typedef struct {
    ngx_str_t                     location;  /* "/_matcher/openai/" */
    ngx_str_t                     url;       /* for bulk jobs (libcurl) */
    ngx_str_t                     key_header; /* "Authorization" */
    ngx_str_t                     key_value; /* in a page kept from dumps */
    ngx_str_t                     namespace_; /* Pinecone */
    ngx_str_t                     api_version; /* Pinecone */
    ngx_array_t                  *headers;   /* of ngx_table_elt_t */
    unsigned                      configured:1;
} ngx_http_matcher_service_t;


#define NGX_HTTP_MATCHER_STORE_NONE     0
#define NGX_HTTP_MATCHER_STORE_LMDB     1
#define NGX_HTTP_MATCHER_STORE_MONGODB  2

/* matcher_store mongodb ... */
typedef struct {
    ngx_str_t                     uri;       /* NUL-ended; a secret page */
    ngx_str_t                     db;        /* NUL-ended; "" from the URI */
    ngx_msec_t                    timeout;   /* server selection */
    ngx_msec_t                    connect_timeout;
    ngx_msec_t                    socket_timeout;
    ngx_str_t                     w;         /* "majority" or a number */
    ngx_uint_t                    clients;   /* per worker */
} ngx_http_matcher_mongo_conf_t;


typedef struct {
    ngx_uint_t                    store_type;    /* NGX_HTTP_MATCHER_STORE_* */
    ngx_http_matcher_mongo_conf_t *mongo;
    ngx_str_t                     store;         /* "lmdb:path" */
    size_t                        store_size;    /* LMDB map size */
    ngx_uint_t                    store_reads_pool; /* reads=pool */
    ngx_str_t                     store_path;    /* resolved, NUL-ended */
    ngx_str_t                     thread_pool_name;
    ngx_thread_pool_t            *thread_pool;
    ngx_uint_t                    endpoints;     /* locations using us */
    ngx_str_t                     creators_file; /* NUL-terminated */
    time_t                        assignment_ttl;
    ngx_msec_t                    purge_interval;

    ngx_shm_zone_t               *cache_zone;    /* matcher_cache_zone */
    time_t                        cache_ttl;

    ngx_uint_t                    embed_dims;    /* matcher_embedder */
    size_t                        index_capacity; /* matcher_vectors */
    ngx_uint_t                    index_lists;   /* IVF; AUTO, 0: exact */
    ngx_uint_t                    index_nprobe;  /* IVF lists probed */
    ngx_uint_t                    index_search;  /* MT_VSEARCH_* */
    ngx_uint_t                    index_graph_m; /* graph_m=, 0: none */
    ngx_uint_t                    index_ef;      /* a graph search's */
    ngx_uint_t                    index_run;  /* NGX_HTTP_MATCHER_RUN_* */
    ngx_str_t                     index_path;    /* NUL-terminated */
    ngx_str_t                     embedder_path; /* NUL-terminated */
    ngx_shm_zone_t               *jobs_zone;     /* refresh jobs */

    ngx_http_matcher_service_t    services[NGX_HTTP_MATCHER_SERVICE_N];
    ngx_uint_t                    embed_remote;  /* matcher_embedder openai */
    ngx_str_t                     embed_model;
    ngx_uint_t                    embed_base64;  /* encoding=base64 */
    ngx_uint_t                    vectors_remote; /* matcher_vectors pinecone */
    ngx_uint_t                    framing_remote; /* matcher_framing openai */
    ngx_str_t                     framing_model;
    ngx_uint_t                    breaker_failures;
    ngx_msec_t                    breaker_cooldown;
    ngx_shm_zone_t               *remote_zone;   /* the breakers */

    /* matcher_remote_bulk: the blocking clients of bulk jobs */
    ngx_uint_t                    bulk_concurrency;
    ngx_uint_t                    bulk_rate;     /* calls a second */
    ngx_uint_t                    bulk_retries;
    ngx_msec_t                    bulk_max_delay;
    ngx_msec_t                    bulk_timeout;

    ngx_array_t                  *key_files;     /* keys_t *, one a file */
    ngx_uint_t                    api_endpoints; /* endpoints but health */
    ngx_uint_t                    metrics;       /* matcher_metrics used */
    ngx_shm_zone_t               *metrics_zone;
} ngx_http_matcher_main_conf_t;


typedef struct {
    ngx_str_t                     service_name;
    size_t                        max_body_size;
    size_t                        ingest_max_body_size;
    ngx_uint_t                    json_max_depth;
    ngx_array_t                  *cors_origins;  /* of ngx_str_t */
    ngx_http_matcher_route_t     *routes;        /* NULL: no endpoint */
    ngx_str_t                     endpoint;      /* "health", for logs */
    ngx_flag_t                    cache;         /* matcher_cache */
    ngx_http_matcher_keys_t      *keys;          /* NULL: no key needed */
    time_t                        retry_after;   /* matcher_rate_limited */
    ngx_http_complex_value_t     *request_id;    /* NULL: $request_id */
} ngx_http_matcher_loc_conf_t;


struct ngx_http_matcher_ctx_s {
    ngx_str_t                     request_id;
    ngx_str_t                     params[NGX_HTTP_MATCHER_MAX_PARAMS];
    ngx_uint_t                    nparams;
    ngx_http_matcher_route_t     *route;

    size_t                        body_limit;
    u_char                       *body;        /* heap: jobs may take it */
    size_t                        body_len;
    size_t                        body_cap;    /* bytes at ctx->body */
    mt_json_doc_t                *doc;         /* freed by pool cleanup */
    const char                   *error_code;  /* $matcher_error_code */
    ngx_uint_t                    cache_status; /* NGX_HTTP_MATCHER_CACHE_* */
    ngx_http_matcher_backends_t  *backends;    /* referenced, or NULL */
    struct ngx_http_matcher_call_s  *call;     /* a remote call running */
    struct ngx_http_matcher_call_s  *failed;   /* a remote call that did */
    ngx_uint_t                    csv_kind;    /* 0, or a CSV route's */

    unsigned                      too_large:1;
    unsigned                      ndjson:1;
    unsigned                      rate_limited:1; /* the 429 location's */
    unsigned                      uncounted:1;   /* not in the metrics */
    unsigned                      csv:1;       /* 2xx replies as CSV */
};


extern ngx_module_t  ngx_http_matcher_module;


/* ngx_http_matcher_cache.c */

/* $matcher_cache_status; NONE: the request did not look in the cache */
#define NGX_HTTP_MATCHER_CACHE_NONE      0
#define NGX_HTTP_MATCHER_CACHE_BYPASS    1
#define NGX_HTTP_MATCHER_CACHE_MISS      2
#define NGX_HTTP_MATCHER_CACHE_HIT       3
#define NGX_HTTP_MATCHER_CACHE_EXPIRED   4

/* what an entry holds: part of its key */
#define NGX_HTTP_MATCHER_CACHE_EMBEDDING 1
#define NGX_HTTP_MATCHER_CACHE_MATCHES   2
#define NGX_HTTP_MATCHER_CACHE_FRAMING   3
#define NGX_HTTP_MATCHER_CACHE_SIMILAR   4

typedef struct {
    ngx_atomic_uint_t             hits;
    ngx_atomic_uint_t             misses;
    ngx_atomic_uint_t             expired;
    ngx_atomic_uint_t             evictions;
    ngx_atomic_uint_t             bypasses;   /* full zone, value too big */
    ngx_uint_t                    entries;
    size_t                        size;       /* the zone's bytes */
    size_t                        free;       /* free slab pages, bytes */
} ngx_http_matcher_cache_stats_t;

char *ngx_http_matcher_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/*
 * Looks key up in the kind's entries.  NGX_OK: *value is a copy in
 * r->pool; NGX_DECLINED: not there (MISS, EXPIRED), or no zone or
 * "matcher_cache off" here (BYPASS).  Sets ctx->cache_status either way.
 */
ngx_int_t ngx_http_matcher_cache_get(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, ngx_uint_t kind, ngx_str_t *key,
    ngx_str_t *value);
/*
 * Stores a copy, evicting the least recently used entries to make room;
 * when it still does not fit it gives up quietly (a bypass is counted):
 * a full zone never fails the request.
 */
void ngx_http_matcher_cache_put(ngx_http_request_t *r, ngx_uint_t kind,
    ngx_str_t *key, ngx_str_t *value);
/* NGX_DECLINED when no zone is configured */
ngx_int_t ngx_http_matcher_cache_stats(ngx_http_matcher_cache_stats_t *st);
ngx_int_t ngx_http_matcher_cache_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* ngx_http_matcher_handler.c */
ngx_int_t ngx_http_matcher_handler(ngx_http_request_t *r);
ngx_http_matcher_ctx_t *ngx_http_matcher_create_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_matcher_init_log(ngx_conf_t *cf);
ngx_int_t ngx_http_matcher_request_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* ngx_http_matcher_body.c */
ngx_int_t ngx_http_matcher_body_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_matcher_read_body(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
ngx_int_t ngx_http_matcher_parse_body(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const mt_json_t **root);
u_char *ngx_http_matcher_take_body(ngx_http_matcher_ctx_t *ctx,
    size_t *len);

/* ngx_http_matcher_reply.c */
int64_t ngx_http_matcher_now_ms(void);
void ngx_http_matcher_write_time(mt_jw_t *w, int64_t ms);
ngx_int_t ngx_http_matcher_send(ngx_http_request_t *r, ngx_uint_t status,
    mt_jw_t *w);
ngx_int_t ngx_http_matcher_send_body(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, char *data, size_t len);
ngx_int_t ngx_http_matcher_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message,
    const mt_json_detail_t *details, size_t n);
ngx_int_t ngx_http_matcher_validation_error(ngx_http_request_t *r,
    const mt_errs_t *errs);
void ngx_http_matcher_envelope_open(mt_jw_t *w);
ngx_int_t ngx_http_matcher_envelope_send(ngx_http_request_t *r,
    ngx_uint_t status, mt_jw_t *w);
ngx_int_t ngx_http_matcher_add_header(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
ngx_int_t ngx_http_matcher_allow_header(ngx_http_request_t *r,
    ngx_uint_t methods);
ngx_int_t ngx_http_matcher_cors_headers(ngx_http_request_t *r,
    ngx_uint_t preflight, ngx_uint_t methods);
ngx_table_elt_t *ngx_http_matcher_find_header(ngx_http_request_t *r,
    const char *name, size_t len);

/* ngx_http_matcher_csv.c */
void ngx_http_matcher_csv_negotiate(ngx_http_request_t *r,
    ngx_http_matcher_loc_conf_t *mlcf, ngx_http_matcher_ctx_t *ctx);
ngx_int_t ngx_http_matcher_csv_send(ngx_http_request_t *r, ngx_uint_t status,
    char *json, size_t len);

/* ngx_http_matcher_auth.c */
char *ngx_http_matcher_api_keys_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_matcher_rate_limited_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
void ngx_http_matcher_auth_check_conf(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf);
ngx_int_t ngx_http_matcher_authenticate(ngx_http_request_t *r,
    ngx_http_matcher_loc_conf_t *mlcf, ngx_uint_t *scopes,
    ngx_uint_t *presented);
ngx_int_t ngx_http_matcher_unauthorized(ngx_http_request_t *r,
    ngx_uint_t presented);
ngx_int_t ngx_http_matcher_forbidden(ngx_http_request_t *r);
ngx_int_t ngx_http_matcher_api_key_name_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* ngx_http_matcher_module.c */
int ngx_http_matcher_exiting(void);
char *ngx_http_matcher_conf_path(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *path);
void *ngx_http_matcher_zone_struct(ngx_shm_zone_t *shm_zone, void *data,
    size_t size, ngx_uint_t version, ngx_uint_t *fresh);

/* ngx_http_matcher_store.c */
char *ngx_http_matcher_store_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_matcher_store_init_main(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf);
ngx_int_t ngx_http_matcher_store_init_process(ngx_cycle_t *cycle);
void ngx_http_matcher_store_exit_process(ngx_cycle_t *cycle);
mt_store_t *ngx_http_matcher_store(void);
ngx_int_t ngx_http_matcher_store_error(ngx_http_request_t *r,
    mt_store_rc_t rc, const char *what, const char *why);
ngx_int_t ngx_http_matcher_no_store(ngx_http_request_t *r);

/* ngx_http_matcher_mongo.c */
char *ngx_http_matcher_mongo_directive(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf);
ngx_int_t ngx_http_matcher_mongo_init_main(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf);
mt_store_t *ngx_http_matcher_mongo_open(ngx_cycle_t *cycle,
    ngx_http_matcher_main_conf_t *mmcf);
void ngx_http_matcher_mongo_setup(ngx_cycle_t *cycle);

/* ngx_http_matcher_remote_conf.c */
char *ngx_http_matcher_secret(ngx_conf_t *cf, ngx_str_t *spec,
    const char *what, const char *scheme, ngx_str_t *out);

/* ngx_http_matcher_thread.c */
typedef void (*ngx_http_matcher_job_pt)(void *data, ngx_log_t *log);
typedef ngx_int_t (*ngx_http_matcher_done_pt)(ngx_http_request_t *r,
    void *data);
typedef void (*ngx_http_matcher_free_pt)(void *data);

typedef struct {
    ngx_http_matcher_job_pt       run;       /* on a pool thread */
    ngx_http_matcher_done_pt      done;      /* back on the loop */
    ngx_http_matcher_free_pt      free;      /* NULL, or frees results */
} ngx_http_matcher_job_type_t;

typedef struct {
    void                               *data;     /* the job's own */
    ngx_http_request_t                 *request;  /* NULL once gone */
    ngx_pool_cleanup_t                 *cleanup;
    const ngx_http_matcher_job_type_t  *type;
    unsigned                            on_loop:1; /* a step run inline */
} ngx_http_matcher_job_t;

void ngx_http_matcher_thread_init_process(ngx_cycle_t *cycle);
/* r NULL: a background job, not tied to a request */
ngx_http_matcher_job_t *ngx_http_matcher_job_alloc(ngx_http_request_t *r,
    size_t size);
void ngx_http_matcher_job_free(ngx_http_matcher_job_t *job);
ngx_int_t ngx_http_matcher_job_post(ngx_http_matcher_job_t *job,
    const ngx_http_matcher_job_type_t *type, ngx_log_t *log);
ngx_int_t ngx_http_matcher_job_start(ngx_http_request_t *r,
    ngx_http_matcher_job_t *job, const ngx_http_matcher_job_type_t *type);
ngx_http_matcher_job_t *ngx_http_matcher_step_alloc(ngx_http_request_t *r,
    size_t size, ngx_uint_t on_loop);
ngx_int_t ngx_http_matcher_step(ngx_http_request_t *r,
    ngx_http_matcher_job_t *job, const ngx_http_matcher_job_type_t *type);

/* ngx_http_matcher_read.c */

#define NGX_HTTP_MATCHER_READ_PING           0
#define NGX_HTTP_MATCHER_READ_ASSIGNMENT     1    /* id → doc */
#define NGX_HTTP_MATCHER_READ_HISTORY        2    /* history → docs */
#define NGX_HTTP_MATCHER_READ_CREATORS       3    /* ids → docs, by index */
#define NGX_HTTP_MATCHER_READ_CREATOR_LIST   4    /* list → docs */
#define NGX_HTTP_MATCHER_READ_CREATOR_COUNT  5    /* → total */

typedef struct ngx_http_matcher_read_s  ngx_http_matcher_read_t;

/* resumes the request with the read's result, on the loop */
typedef ngx_int_t (*ngx_http_matcher_read_pt)(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);

struct ngx_http_matcher_read_s {
    ngx_http_matcher_job_t       *job;
    mt_store_t                   *store;
    ngx_uint_t                    op;          /* NGX_HTTP_MATCHER_READ_* */
    ngx_http_matcher_read_pt      next;
    void                         *data;        /* the caller's, r->pool */

    /* in: strings copied with ngx_http_matcher_read_copy() */
    char                          id[MT_OID_LEN + 1];
    ngx_str_t                    *ids;         /* CREATORS */
    size_t                        nids;
    mt_history_query_t            history;
    mt_creator_query_t            list;

    /* out: next() may take doc or docs, setting them to NULL */
    mt_store_rc_t                 rc;
    mt_text_t                     doc;
    mt_text_t                    *docs;
    size_t                        n;
    size_t                        found;       /* CREATORS: docs not NULL */
    size_t                        total;
    char                          error[256];

    u_char                       *arena;
    u_char                       *arena_end;
};

/* NULL: no store, or no memory (tell them apart with store()) */
ngx_http_matcher_read_t *ngx_http_matcher_read_alloc(ngx_http_request_t *r,
    ngx_uint_t op, size_t extra);
char *ngx_http_matcher_read_copy(ngx_http_matcher_read_t *rd, const void *p,
    size_t len);
ngx_http_matcher_read_t *ngx_http_matcher_read_creators(
    ngx_http_request_t *r, size_t n, size_t bytes);
void ngx_http_matcher_read_add_id(ngx_http_matcher_read_t *rd,
    const char *id, size_t len);
/* what rd->next() returns, now, or NGX_DONE and later */
ngx_int_t ngx_http_matcher_read(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
ngx_int_t ngx_http_matcher_read_error(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd, const char *what);
ngx_int_t ngx_http_matcher_read_failed(ngx_http_request_t *r);
mt_json_doc_t *ngx_http_matcher_read_parse(ngx_http_request_t *r,
    const mt_text_t *text);

/* ngx_http_matcher_query.c */

/* the 400's detail for a value ngx_http_matcher_query_str() refused */
#define NGX_HTTP_MATCHER_QUERY_REFUSED                                       \
    "must be UTF-8 with no NUL and no malformed %-escape"

ngx_int_t ngx_http_matcher_query_int(ngx_http_request_t *r, const char *name,
    int64_t min, int64_t max, int64_t def, int64_t *out,
    mt_json_detail_t *detail);
ngx_int_t ngx_http_matcher_query_str(ngx_http_request_t *r, const char *name,
    ngx_str_t *out);

/* ngx_http_matcher_assignments.c, ngx_http_matcher_creators.c */

/* a PATCH .../matches write, shared with POST /matches */
typedef struct {
    char                          id[MT_OID_LEN + 1];
    int64_t                       expected;    /* -1: no If-Match */
    char                         *matches;     /* JSON text, malloc'd */
    size_t                        matches_len;
    int64_t                       now_ms;

    ngx_uint_t                    status;      /* 0: ok */
    mt_jw_t                       doc;
    mt_store_rc_t                 rc;
    char                          error[256];
} ngx_http_matcher_patch_t;

/* on a pool thread; data points to a ngx_http_matcher_patch_t */
void ngx_http_matcher_patch_run(void *data, ngx_log_t *log);
void ngx_http_matcher_patch_free(void *data);
/*
 * 24 hex characters, normalised into id; else a 400 reply is sent and id
 * is "" (the code returned is the send's, which may be NGX_OK)
 */
ngx_int_t ngx_http_matcher_assignment_id(ngx_http_request_t *r,
    ngx_str_t *param, char *id);

extern ngx_http_matcher_route_t  ngx_http_matcher_assignment_routes[];
extern ngx_http_matcher_route_t  ngx_http_matcher_creator_routes[];

/* the creators' embeddings and search, the refresh jobs, matching */
ngx_int_t ngx_http_matcher_embeddings(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
ngx_int_t ngx_http_matcher_search(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
ngx_int_t ngx_http_matcher_similar(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
ngx_int_t ngx_http_matcher_refresh(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
ngx_int_t ngx_http_matcher_refresh_get(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
ngx_int_t ngx_http_matcher_refresh_init_main(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf);
extern ngx_http_matcher_route_t  ngx_http_matcher_match_routes[];

/* the refresh jobs kept: running, completed, failed; NGX_DECLINED: none */
ngx_int_t ngx_http_matcher_refresh_jobs(ngx_uint_t jobs[3]);

/* ngx_http_matcher_metrics.c */
char *ngx_http_matcher_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_matcher_metrics_init(ngx_conf_t *cf);
void ngx_http_matcher_metrics_upstream(ngx_uint_t remote, ngx_uint_t bulk,
    ngx_uint_t failed, ngx_msec_int_t ms);
void ngx_http_matcher_metrics_store_error(ngx_uint_t unavailable);

/* ngx_http_matcher_health.c */
extern ngx_http_matcher_route_t  ngx_http_matcher_health_routes[];

/* ngx_http_matcher_ids.c */
u_char *ngx_http_matcher_new_object_id(u_char *out);
char *ngx_http_matcher_set_object_id(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_matcher_set_id(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_MATCHER_MODULE_H_INCLUDED_ */

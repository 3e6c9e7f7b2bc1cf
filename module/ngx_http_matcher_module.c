
/*
 * ngx_http_matcher_module: directives, configuration and module tables.
 * Endpoints are enabled per location: "matcher_health;" and friends.
 */


#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ngx_http_matcher_remote.h"
#include "ngx_http_matcher_match.h"


static ngx_int_t ngx_http_matcher_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_matcher_init(ngx_conf_t *cf);
static void *ngx_http_matcher_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_matcher_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_matcher_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_matcher_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_matcher_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_matcher_service_name(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_matcher_cors_origins(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_matcher_creators_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_matcher_init_process(ngx_cycle_t *cycle);
static void ngx_http_matcher_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_matcher_error_code_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_conf_post_t  ngx_http_matcher_service_name_post =
    { ngx_http_matcher_service_name };

static char *ngx_http_matcher_check_depth(ngx_conf_t *cf, void *post,
    void *data);

static ngx_conf_post_t  ngx_http_matcher_depth_post =
    { ngx_http_matcher_check_depth };


static ngx_command_t  ngx_http_matcher_commands[] = {

    { ngx_string("matcher_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_matcher_store_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_matcher_main_conf_t, thread_pool_name),
      NULL },

    { ngx_string("matcher_creators_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_matcher_creators_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_assignment_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_matcher_main_conf_t, assignment_ttl),
      NULL },

    { ngx_string("matcher_assignments"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_matcher_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_matcher_assignment_routes },

    { ngx_string("matcher_creators"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_matcher_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_matcher_creator_routes },

    { ngx_string("matcher_matches"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_matcher_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_matcher_match_routes },

    { ngx_string("matcher_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_matcher_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_matcher_health_routes },

    { ngx_string("matcher_service_name"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_matcher_loc_conf_t, service_name),
      &ngx_http_matcher_service_name_post },

    { ngx_string("matcher_request_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_matcher_loc_conf_t, request_id),
      NULL },

    { ngx_string("matcher_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_matcher_loc_conf_t, max_body_size),
      NULL },

    { ngx_string("matcher_ingest_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_matcher_loc_conf_t, ingest_max_body_size),
      NULL },

    { ngx_string("matcher_json_max_depth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_matcher_loc_conf_t, json_max_depth),
      &ngx_http_matcher_depth_post },

    { ngx_string("matcher_cors_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_matcher_cors_origins,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_embedder"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_matcher_embedder_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_vectors"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_matcher_vectors_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_openai"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_matcher_openai_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_pinecone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_matcher_pinecone_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_framing"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_matcher_framing_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_remote_bulk"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_matcher_bulk_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_remote_breaker"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_matcher_breaker_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_cache_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_matcher_cache_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_cache_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_matcher_main_conf_t, cache_ttl),
      NULL },

    { ngx_string("matcher_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_matcher_loc_conf_t, cache),
      NULL },

    { ngx_string("matcher_api_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_matcher_api_keys_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_rate_limited"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_matcher_rate_limited_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("matcher_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_matcher_metrics_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("set_matcher_object_id"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_SIF_CONF|NGX_HTTP_LOC_CONF
          |NGX_HTTP_LIF_CONF|NGX_CONF_TAKE1,
      ngx_http_matcher_set_object_id,
      0,
      0,
      NULL },

    { ngx_string("set_matcher_id"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_SIF_CONF|NGX_HTTP_LOC_CONF
          |NGX_HTTP_LIF_CONF|NGX_CONF_TAKE2,
      ngx_http_matcher_set_id,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_matcher_module_ctx = {
    ngx_http_matcher_add_variables,        /* preconfiguration */
    ngx_http_matcher_init,                 /* postconfiguration */

    ngx_http_matcher_create_main_conf,     /* create main configuration */
    ngx_http_matcher_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_matcher_create_loc_conf,      /* create location configuration */
    ngx_http_matcher_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_matcher_module = {
    NGX_MODULE_V1,
    &ngx_http_matcher_module_ctx,          /* module context */
    ngx_http_matcher_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_matcher_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_matcher_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_matcher_vars[] = {

    { ngx_string("matcher_error_code"), NULL,
      ngx_http_matcher_error_code_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("matcher_cache_status"), NULL,
      ngx_http_matcher_cache_status_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    /* cacheable: limit_req and the access log share one lookup */
    { ngx_string("matcher_api_key_name"), NULL,
      ngx_http_matcher_api_key_name_variable, 0, 0, 0 },

    { ngx_string("matcher_request_id"), NULL,
      ngx_http_matcher_request_id_variable, 0, 0, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_matcher_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_matcher_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_matcher_init(ngx_conf_t *cf)
{
    if (ngx_http_matcher_body_filter_init(cf) != NGX_OK
        || ngx_http_matcher_metrics_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_matcher_init_log(cf);
}


static void *
ngx_http_matcher_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_matcher_main_conf_t));
    if (mmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mmcf->store = { 0, NULL };
     *     mmcf->store_path = { 0, NULL };
     *     mmcf->thread_pool_name = { 0, NULL };
     *     mmcf->thread_pool = NULL;
     *     mmcf->endpoints = 0;
     *     mmcf->creators_file = { 0, NULL };
     */

    mmcf->store_size = NGX_CONF_UNSET_SIZE;
    mmcf->store_reads_pool = NGX_CONF_UNSET_UINT;
    mmcf->assignment_ttl = NGX_CONF_UNSET;
    mmcf->cache_ttl = NGX_CONF_UNSET;
    mmcf->embed_dims = NGX_CONF_UNSET_UINT;
    mmcf->index_capacity = NGX_CONF_UNSET_SIZE;
    mmcf->index_lists = NGX_CONF_UNSET_UINT;
    mmcf->index_nprobe = NGX_CONF_UNSET_UINT;
    mmcf->index_search = NGX_CONF_UNSET_UINT;
    mmcf->index_graph_m = NGX_CONF_UNSET_UINT;
    mmcf->index_ef = NGX_CONF_UNSET_UINT;
    mmcf->index_run = NGX_CONF_UNSET_UINT;
    mmcf->breaker_failures = NGX_CONF_UNSET_UINT;
    mmcf->framing_remote = NGX_CONF_UNSET_UINT;
    mmcf->bulk_concurrency = NGX_CONF_UNSET_UINT;
    mmcf->bulk_rate = NGX_CONF_UNSET_UINT;
    mmcf->bulk_retries = NGX_CONF_UNSET_UINT;
    mmcf->bulk_max_delay = NGX_CONF_UNSET_MSEC;
    mmcf->bulk_timeout = NGX_CONF_UNSET_MSEC;
    mmcf->breaker_cooldown = NGX_CONF_UNSET_MSEC;

    return mmcf;
}


static char *
ngx_http_matcher_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_matcher_main_conf_t  *mmcf = conf;

    ngx_conf_init_size_value(mmcf->store_size, (size_t) 1024 * 1024 * 1024);
    ngx_conf_init_uint_value(mmcf->store_reads_pool,
                             NGX_HTTP_MATCHER_PARKED_DEFAULT);
    ngx_conf_init_value(mmcf->assignment_ttl, (time_t) 30 * 24 * 60 * 60);
    ngx_conf_init_value(mmcf->cache_ttl, 600);

    if (mmcf->thread_pool_name.data == NULL) {
        ngx_str_set(&mmcf->thread_pool_name, "default");
    }

    /*
     * Every endpoint may post jobs (a store write, a big embedding batch),
     * with or without a store: any location of ours needs the pool.
     * ngx_thread_pool_add() returns the pool already added by that name.
     */

    if (mmcf->endpoints || mmcf->store.len) {
        mmcf->thread_pool = ngx_thread_pool_add(cf, &mmcf->thread_pool_name);
        if (mmcf->thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    /* often enough that nothing outlives its ttl by more than a tenth */

    mmcf->purge_interval = (ngx_msec_t) ngx_min(mmcf->assignment_ttl / 10,
                                                3600) * 1000;
    if (mmcf->purge_interval == 0) {
        mmcf->purge_interval = 1000;
    }

    if (ngx_http_matcher_store_init_main(cf, mmcf) != NGX_OK
        || ngx_http_matcher_index_init_main(cf, mmcf) != NGX_OK
        || ngx_http_matcher_refresh_init_main(cf, mmcf) != NGX_OK
        || ngx_http_matcher_remote_init_main(cf, mmcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_http_matcher_auth_check_conf(cf, mmcf);

    return NGX_CONF_OK;
}


static void *
ngx_http_matcher_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_matcher_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_matcher_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->service_name = { 0, NULL };
     *     conf->routes = NULL;
     *     conf->endpoint = { 0, NULL };
     */

    conf->max_body_size = NGX_CONF_UNSET_SIZE;
    conf->ingest_max_body_size = NGX_CONF_UNSET_SIZE;
    conf->json_max_depth = NGX_CONF_UNSET_UINT;
    conf->cors_origins = NGX_CONF_UNSET_PTR;
    conf->cache = NGX_CONF_UNSET;
    conf->keys = NGX_CONF_UNSET_PTR;
    conf->retry_after = NGX_CONF_UNSET;
    conf->request_id = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_matcher_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_matcher_loc_conf_t *prev = parent;
    ngx_http_matcher_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_str_value(conf->service_name, prev->service_name,
                             "matching-service");
    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size,
                              (size_t) 1024 * 1024);
    ngx_conf_merge_size_value(conf->ingest_max_body_size,
                              prev->ingest_max_body_size,
                              (size_t) 64 * 1024 * 1024);
    ngx_conf_merge_uint_value(conf->json_max_depth, prev->json_max_depth,
                              32);
    ngx_conf_merge_ptr_value(conf->cors_origins, prev->cors_origins, NULL);
    ngx_conf_merge_value(conf->cache, prev->cache, 1);
    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);
    ngx_conf_merge_ptr_value(conf->request_id, prev->request_id, NULL);

    if (conf->max_body_size == 0 || conf->ingest_max_body_size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"matcher_max_body_size\" and "
                           "\"matcher_ingest_max_body_size\" "
                           "must be greater than zero");
        return NGX_CONF_ERROR;
    }

    /* endpoints are not inherited: each location enables its own */

    if (conf->routes == NULL) {
        return NGX_CONF_OK;
    }

    /*
     * The module answers oversized bodies itself, with the JSON envelope
     * and the matcher_*max_body_size limits, so the core check that would
     * reply with an HTML page first is turned off in these locations.
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->client_max_body_size = 0;

    return NGX_CONF_OK;
}


static char *
ngx_http_matcher_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_matcher_loc_conf_t  *mlcf = conf;

    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_matcher_main_conf_t  *mmcf;

    if (mlcf->routes) {
        return "is duplicate";
    }

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_matcher_module);
    mmcf->endpoints++;

    if (cmd->post != ngx_http_matcher_health_routes) {
        mmcf->api_endpoints++;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" conflicts with another content handler "
                           "in this location", &cmd->name);
        return NGX_CONF_ERROR;
    }

    mlcf->routes = cmd->post;
    mlcf->endpoint = cmd->name;
    clcf->handler = ngx_http_matcher_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_matcher_service_name(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *name = data;

    u_char  *p;

    if (name->len == 0 || name->len > 100) {
        return "must be 1 to 100 characters long";
    }

    for (p = name->data; p < name->data + name->len; p++) {
        if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\') {
            return "must be printable ASCII without quotes";
        }
    }

    return NGX_CONF_OK;
}


/* deeper than the writer's stack could never be echoed back */

static char *
ngx_http_matcher_check_depth(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *depth = data;

    if (*depth < 1 || *depth > MT_JW_MAX_DEPTH - 8) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"matcher_json_max_depth\" must be from 1 "
                           "to %d", MT_JW_MAX_DEPTH - 8);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_matcher_cors_origins(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_loc_conf_t  *mlcf = conf;

    ngx_str_t   *value, *origin;
    ngx_uint_t   i;

    if (mlcf->cors_origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        mlcf->cors_origins = NULL;
        return NGX_CONF_OK;
    }

    mlcf->cors_origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                          sizeof(ngx_str_t));
    if (mlcf->cors_origins == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (!(value[i].len == 1 && value[i].data[0] == '*')
            && ngx_strncmp(value[i].data, "http://", 7) != 0
            && ngx_strncmp(value[i].data, "https://", 8) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid origin \"%V\" in \"%V\": expected "
                               "\"*\", \"off\" or an http(s):// origin",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (value[i].data[value[i].len - 1] == '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "origin \"%V\" in \"%V\" must not end "
                               "with \"/\"", &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        origin = ngx_array_push(mlcf->cors_origins);
        if (origin == NULL) {
            return NGX_CONF_ERROR;
        }

        *origin = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_matcher_creators_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_main_conf_t  *mmcf = conf;

    ngx_str_t  *value;

    if (mmcf->creators_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    return ngx_http_matcher_conf_path(cf, &value[1], &mmcf->creators_file);
}


/*
 * A path relative to the prefix, NUL-terminated for the plain C code
 * that opens it later in a worker.
 */

/*
 * Whether this worker was told to stop (nginx -s quit, stop or reload):
 * timers then stop re-arming, and jobs on the pool threads (a sync, a
 * rebuild, a refresh: params.stop) give up between two creators rather
 * than hold the worker's exit for minutes at a million.  The flags are
 * the main thread's, set by its signal handlers; a pool thread that
 * reads one late does one more creator.
 */

int
ngx_http_matcher_exiting(void)
{
    return ngx_quit || ngx_terminate || ngx_exiting;
}


char *
ngx_http_matcher_conf_path(ngx_conf_t *cf, ngx_str_t *name, ngx_str_t *path)
{
    u_char     *p;
    ngx_str_t   full;

    full = *name;

    if (ngx_conf_full_name(cf->cycle, &full, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, full.len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(p, full.data, full.len);
    p[full.len] = '\0';

    path->data = p;
    path->len = full.len;

    return NGX_CONF_OK;
}


/*
 * The one structure of a small zone, whose first field is its layout
 * version: the old cycle's when a reload keeps the zone and the version
 * matches, the one already there when the zone exists, else allocated
 * zeroed with that version (*fresh = 1: the caller sets the rest).  NULL
 * when the slab allocation fails.
 */

void *
ngx_http_matcher_zone_struct(ngx_shm_zone_t *shm_zone, void *data,
    size_t size, ngx_uint_t version, ngx_uint_t *fresh)
{
    ngx_uint_t        *sh;
    ngx_slab_pool_t   *shpool;

    *fresh = 0;

    if (data != NULL && *(ngx_uint_t *) data == version) {
        shm_zone->data = data;
        return data;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return shpool->data;
    }

    sh = ngx_slab_calloc(shpool, size);
    if (sh == NULL) {
        return NULL;
    }

    *sh = version;
    *fresh = 1;
    shpool->data = sh;
    shm_zone->data = sh;

    return sh;
}


static ngx_int_t
ngx_http_matcher_init_process(ngx_cycle_t *cycle)
{
    ngx_http_matcher_thread_init_process(cycle);

    if (ngx_http_matcher_store_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_matcher_remote_bulk_init_process(cycle);

    return ngx_http_matcher_index_init_process(cycle);
}


static void
ngx_http_matcher_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_matcher_backends_exit_process(cycle);
    ngx_http_matcher_remote_bulk_exit_process(cycle);
    ngx_http_matcher_store_exit_process(cycle);
}


static ngx_int_t
ngx_http_matcher_error_code_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_matcher_module);

    if (ctx == NULL || ctx->error_code == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) ctx->error_code;
    v->len = ngx_strlen(ctx->error_code);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * The MongoDB store in nginx: "matcher_store mongodb ...", the handle
 * each worker opens after fork, and the indexes, made by one worker on
 * the thread pool at start and again until MongoDB has answered.
 *
 * Every call of this store is made on the thread pool: libmongoc blocks.
 * The URI is a secret when it holds a password: it comes from the
 * environment or a file, as the remote services' keys do, and logs and
 * /health show it with the password masked.
 */


#include "ngx_http_matcher_module.h"


#define NGX_HTTP_MATCHER_MONGO_RETRY  5000     /* ms between setups */


typedef struct {
    int64_t                   ttl;
    mt_store_rc_t             rc;
    char                      error[256];
} ngx_http_matcher_setup_t;


static char *ngx_http_matcher_mongo_uri(ngx_conf_t *cf,
    ngx_http_matcher_mongo_conf_t *mc, ngx_str_t *spec);
static void ngx_http_matcher_setup_handler(ngx_event_t *ev);
static void ngx_http_matcher_setup_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_setup_done(ngx_http_request_t *r,
    void *data);


static ngx_event_t       ngx_http_matcher_setup_event;
static ngx_connection_t  ngx_http_matcher_setup_dumb;
static ngx_uint_t        ngx_http_matcher_setup_failed;

static const ngx_http_matcher_job_type_t  ngx_http_matcher_setup_job = {
    ngx_http_matcher_setup_run, ngx_http_matcher_setup_done, NULL
};


/*
 * matcher_store mongodb uri=env:NAME|file:PATH|mongodb://... [db=NAME]
 *     [dir=PATH] [timeout=2s] [connect_timeout=2s] [socket_timeout=10s]
 *     [w=majority|N] [clients=32]
 */

char *
ngx_http_matcher_mongo_directive(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf)
{
    ngx_int_t                       n;
    ngx_str_t                      *value, s, path, *uri;
    ngx_msec_t                     *ms;
    ngx_uint_t                      i;
    ngx_http_matcher_mongo_conf_t  *mc;

    mc = ngx_pcalloc(cf->pool, sizeof(ngx_http_matcher_mongo_conf_t));
    if (mc == NULL) {
        return NGX_CONF_ERROR;
    }

    mmcf->store_type = NGX_HTTP_MATCHER_STORE_MONGODB;
    mmcf->mongo = mc;

    mc->timeout = 2000;
    mc->connect_timeout = NGX_CONF_UNSET_MSEC;
    mc->socket_timeout = 10000;
    ngx_str_set(&mc->w, "majority");
    ngx_str_set(&mc->db, "");
    mc->clients = 32;

    value = cf->args->elts;
    uri = NULL;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "uri=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;
            uri = &value[i];

            if (ngx_http_matcher_mongo_uri(cf, mc, &s) != NGX_CONF_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            mc->db.data = value[i].data + 3;
            mc->db.len = value[i].len - 3;

            /* MongoDB's rules for database names */
            if (mc->db.len == 0 || mc->db.len > 63
                || ngx_strlchr(mc->db.data, mc->db.data + mc->db.len, '.')
                || ngx_strlchr(mc->db.data, mc->db.data + mc->db.len, '/')
                || ngx_strlchr(mc->db.data, mc->db.data + mc->db.len, '$')
                || ngx_strlchr(mc->db.data, mc->db.data + mc->db.len, '\\')
                || ngx_strlchr(mc->db.data, mc->db.data + mc->db.len, '"'))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid database name \"%V\"", &mc->db);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "dir=", 4) == 0) {
            path.data = value[i].data + 4;
            path.len = value[i].len - 4;

            if (path.len == 0
                || ngx_http_matcher_conf_path(cf, &path, &mmcf->store_path)
                   != NGX_CONF_OK)
            {
                return "has an invalid \"dir=\"";
            }

            continue;
        }

        ms = NULL;

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            ms = &mc->timeout;
            s.data = value[i].data + 8;

        } else if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0) {
            ms = &mc->connect_timeout;
            s.data = value[i].data + 16;

        } else if (ngx_strncmp(value[i].data, "socket_timeout=", 15) == 0) {
            ms = &mc->socket_timeout;
            s.data = value[i].data + 15;
        }

        if (ms) {
            s.len = value[i].data + value[i].len - s.data;
            *ms = ngx_parse_time(&s, 0);

            /* libmongoc takes int32 milliseconds */
            if (*ms == (ngx_msec_t) NGX_ERROR || *ms == 0
                || *ms > (ngx_msec_t) 24 * 60 * 60 * 1000)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid time in \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "w=", 2) == 0) {
            mc->w.data = value[i].data + 2;
            mc->w.len = value[i].len - 2;

            n = ngx_atoi(mc->w.data, mc->w.len);

            if (ngx_strcmp(mc->w.data, "majority") != 0
                && (n == NGX_ERROR || n < 1 || n > 50))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid write concern \"%V\": "
                                   "\"majority\" or 1 to 50", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "clients=", 8) == 0) {
            n = ngx_atoi(value[i].data + 8, value[i].len - 8);

            if (n == NGX_ERROR || n < 1 || n > 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": 1 to 1024", &value[i]);
                return NGX_CONF_ERROR;
            }

            mc->clients = (ngx_uint_t) n;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"matcher_store\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    if (uri == NULL) {
        return "mongodb needs uri=env:NAME, uri=file:PATH or "
               "uri=mongodb://...";
    }

    if (mc->connect_timeout == NGX_CONF_UNSET_MSEC) {
        mc->connect_timeout = mc->timeout;
    }

    return NGX_CONF_OK;
}


/*
 * A URI without a password may stand in the configuration; one with a
 * password comes from env: or file:, as keys do, so that configurations
 * can be shared and "nginx -T" shows no secret.
 */
static char *
ngx_http_matcher_mongo_uri(ngx_conf_t *cf, ngx_http_matcher_mongo_conf_t *mc,
    ngx_str_t *spec)
{
    u_char     *at, *colon, *auth;
    ngx_str_t   literal;

    if (ngx_strncmp(spec->data, "env:", 4) == 0
        || ngx_strncmp(spec->data, "file:", 5) == 0)
    {
        if (ngx_http_matcher_secret(cf, spec, "uri", "", &mc->uri)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        literal = mc->uri;

    } else {
        literal = *spec;
    }

    if (ngx_strncmp(literal.data, "mongodb://", 10) != 0
        && ngx_strncmp(literal.data, "mongodb+srv://", 14) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the MongoDB URI of \"uri=%V\" does not start "
                           "with mongodb:// or mongodb+srv://", spec);
        return NGX_CONF_ERROR;
    }

    if (literal.data == spec->data) {
        auth = (u_char *) ngx_strstr(literal.data, "://") + 3;
        at = ngx_strlchr(auth, literal.data + literal.len, '@');
        colon = at ? ngx_strlchr(auth, at, ':') : NULL;

        if (colon) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "a MongoDB URI with a password belongs in "
                               "the environment or a file: use "
                               "uri=env:NAME or uri=file:PATH");
            return NGX_CONF_ERROR;
        }

        mc->uri = literal;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_matcher_mongo_init_main(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf)
{
    if (mmcf->store_type != NGX_HTTP_MATCHER_STORE_MONGODB) {
        return NGX_OK;
    }

    if (mmcf->store_path.len == 0 && !mmcf->vectors_remote) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"matcher_store mongodb\" with the local index "
                           "needs dir=PATH for its files (or "
                           "\"matcher_vectors pinecone\")");
        return NGX_ERROR;
    }

    return NGX_OK;
}


mt_store_t *
ngx_http_matcher_mongo_open(ngx_cycle_t *cycle,
    ngx_http_matcher_main_conf_t *mmcf)
{
    char                            err[512];
    mt_store_t                     *s;
    mt_store_mongo_conf_t           conf;
    ngx_http_matcher_mongo_conf_t  *mc;

    mc = mmcf->mongo;

    ngx_memzero(&conf, sizeof(mt_store_mongo_conf_t));

    conf.uri = (const char *) mc->uri.data;
    conf.db = (const char *) mc->db.data;
    conf.server_selection_timeout_ms = (int32_t) mc->timeout;
    conf.connect_timeout_ms = (int32_t) mc->connect_timeout;
    conf.socket_timeout_ms = (int32_t) mc->socket_timeout;
    conf.write_concern = (const char *) mc->w.data;
    conf.max_clients = (uint32_t) mc->clients;
    conf.app_name = "ngx_http_matcher_module";

    s = mt_store_mongo_open(&conf, err, sizeof(err));

    if (s == NULL) {
        ngx_log_error(NGX_LOG_CRIT, cycle->log, 0,
                      "matcher: cannot open the MongoDB store: %s", err);
        return NULL;
    }

    ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                  "matcher: MongoDB store at \"%s\"",
                  mt_store_mongo_where(s));

    return s;
}


/* worker 0: the indexes now, and every few seconds until they are made */

void
ngx_http_matcher_mongo_setup(ngx_cycle_t *cycle)
{
    ngx_http_matcher_setup_event.handler = ngx_http_matcher_setup_handler;
    ngx_http_matcher_setup_event.log = cycle->log;
    ngx_http_matcher_setup_dumb.fd = (ngx_socket_t) -1;
    ngx_http_matcher_setup_event.data = &ngx_http_matcher_setup_dumb;
    ngx_http_matcher_setup_event.cancelable = 1;

    ngx_http_matcher_setup_handler(&ngx_http_matcher_setup_event);
}


static void
ngx_http_matcher_setup_handler(ngx_event_t *ev)
{
    ngx_http_matcher_job_t        *job;
    ngx_http_matcher_setup_t      *setup;
    ngx_http_matcher_main_conf_t  *mmcf;

    if (ngx_http_matcher_exiting()) {
        return;
    }

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_matcher_module);

    job = ngx_http_matcher_job_alloc(NULL, sizeof(ngx_http_matcher_setup_t));
    if (job == NULL) {
        ngx_add_timer(ev, NGX_HTTP_MATCHER_MONGO_RETRY);
        return;
    }

    setup = job->data;
    setup->ttl = mmcf->assignment_ttl;

    if (ngx_http_matcher_job_post(job, &ngx_http_matcher_setup_job, ev->log)
        != NGX_OK)
    {
        ngx_add_timer(ev, NGX_HTTP_MATCHER_MONGO_RETRY);
    }
}


static void
ngx_http_matcher_setup_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_setup_t  *setup = data;

    mt_store_t  *s;

    s = ngx_http_matcher_store();

    setup->rc = mt_store_mongo_setup(s, setup->ttl);

    if (setup->rc != MT_STORE_OK) {
        ngx_cpystrn((u_char *) setup->error, (u_char *) mt_store_error(s),
                    sizeof(setup->error));
    }
}


static ngx_int_t
ngx_http_matcher_setup_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_setup_t  *setup = data;

    if (setup->rc == MT_STORE_OK) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "matcher: MongoDB indexes are in place");
        ngx_http_matcher_setup_failed = 0;
        return NGX_OK;
    }

    /* once, not every retry: the cause is the same until it answers */
    if (!ngx_http_matcher_setup_failed) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "matcher: cannot make the MongoDB indexes, retrying "
                      "every %d s: %s", NGX_HTTP_MATCHER_MONGO_RETRY / 1000,
                      setup->error);
        ngx_http_matcher_setup_failed = 1;
    }

    if (!ngx_http_matcher_exiting()) {
        ngx_add_timer(&ngx_http_matcher_setup_event,
                      NGX_HTTP_MATCHER_MONGO_RETRY);
    }

    return NGX_OK;
}

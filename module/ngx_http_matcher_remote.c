
/*
 * Remote services on the request path.  A call is an in-memory nginx
 * subrequest to an internal location of the configuration that
 * proxy_passes to an upstream (keepalive, TLS, timeouts: all nginx's own
 * directives, see conf/matcher_remote_params); the module never opens a
 * socket on the event loop.  The subrequest gets a body and headers of
 * its own: nothing of the client's request reaches the remote, and the
 * key is added here as a header, never through a variable that a log
 * format could print.
 *
 * Each remote has a circuit breaker in a small shared zone, so that all
 * workers stop calling a remote that keeps failing, and one probe after
 * the cool-down tells whether it is back.  The zone also keeps the last
 * error and latency for /health, and the log state that makes a failure
 * logged once per cause rather than once per request.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_remote.h"
#include "remote.h"


/* the same cause is logged again after this long */
#define NGX_HTTP_MATCHER_RELOG_MSEC       60000


static ngx_int_t ngx_http_matcher_remote_allow(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call);
static ngx_int_t ngx_http_matcher_remote_start(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call, ngx_http_matcher_service_t *svc,
    const char *path, ngx_str_t *body);
static ngx_int_t ngx_http_matcher_remote_header(ngx_http_request_t *sr,
    ngx_str_t *name, ngx_str_t *value);
static ngx_int_t ngx_http_matcher_remote_post(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_matcher_remote_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_matcher_remote_finish(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call);
static void ngx_http_matcher_remote_record(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call);
static int64_t ngx_http_matcher_remote_now(void);


static const char  *ngx_http_matcher_remote_names[] = {
    "openai embeddings", "openai chat", "pinecone"
};

static const ngx_uint_t  ngx_http_matcher_remote_service[] = {
    NGX_HTTP_MATCHER_SERVICE_OPENAI, NGX_HTTP_MATCHER_SERVICE_OPENAI,
    NGX_HTTP_MATCHER_SERVICE_PINECONE
};

ngx_http_matcher_remote_sh_t *
ngx_http_matcher_remote_sh(ngx_slab_pool_t **shpool)
{
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_matcher_module);
    if (mmcf == NULL || mmcf->remote_zone == NULL) {
        return NULL;
    }

    *shpool = (ngx_slab_pool_t *) mmcf->remote_zone->shm.addr;

    return mmcf->remote_zone->data;
}


ngx_int_t
ngx_http_matcher_remote_call(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call, const char *path, ngx_str_t *body)
{
    ngx_http_matcher_service_t    *svc;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);
    svc = &mmcf->services[ngx_http_matcher_remote_service[call->remote]];

    call->pool = r->pool;
    call->done = 0;
    call->cause = NGX_HTTP_MATCHER_REMOTE_OK;
    call->status = 0;
    ngx_str_null(&call->body);
    ngx_str_null(&call->request_id);
    ngx_str_null(&call->retry_after);

    if (ngx_http_matcher_remote_allow(r, call) != NGX_OK) {
        return call->next(r, call);
    }

    ngx_time_update();
    call->start = ngx_current_msec;

    if (ngx_http_matcher_remote_start(r, call, svc, path, body) != NGX_OK) {
        call->cause = NGX_HTTP_MATCHER_REMOTE_LOCAL;
        ngx_cpystrn((u_char *) call->message,
                    (u_char *) "the subrequest could not start",
                    sizeof(call->message));
        ngx_http_matcher_remote_record(r, call);
        return call->next(r, call);
    }

    r->main->count++;

    return NGX_DONE;
}


/*
 * Closed: every call goes.  Open: none until the cool-down is over, then
 * one probe at a time (a probe that never came back is replaced after
 * another cool-down); its outcome closes or reopens the breaker.
 */

static ngx_int_t
ngx_http_matcher_remote_allow(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call)
{
    int64_t                        now, wait;
    ngx_int_t                      rc;
    ngx_uint_t                     failures;
    ngx_slab_pool_t               *shpool;
    ngx_http_matcher_breaker_t    *br;
    ngx_http_matcher_remote_sh_t  *sh;
    ngx_http_matcher_main_conf_t  *mmcf;

    sh = ngx_http_matcher_remote_sh(&shpool);
    if (sh == NULL) {
        return NGX_OK;
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);
    br = &sh->remotes[call->remote];
    now = ngx_http_matcher_remote_now();
    rc = NGX_OK;
    wait = 0;

    ngx_shmtx_lock(&shpool->mutex);

    failures = br->failures;

    if (br->open_until) {
        if (now < br->open_until) {
            wait = br->open_until - now;
            rc = NGX_DECLINED;

        } else if (br->probe_at
                   && now - br->probe_at < (int64_t) mmcf->breaker_cooldown)
        {
            wait = br->probe_at + mmcf->breaker_cooldown - now;
            rc = NGX_DECLINED;

        } else {
            br->probe_at = now;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (rc == NGX_OK) {
        return NGX_OK;
    }

    call->cause = NGX_HTTP_MATCHER_REMOTE_OPEN;
    ngx_snprintf((u_char *) call->message, sizeof(call->message) - 1,
                 "%s is not called for %L s after %ui failures in a "
                 "row%Z", ngx_http_matcher_remote_names[call->remote],
                 (wait + 999) / 1000, failures);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "matcher: %s", call->message);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_matcher_remote_start(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call, ngx_http_matcher_service_t *svc,
    const char *path, ngx_str_t *body)
{
    size_t                        plen;
    ngx_buf_t                    *b;
    ngx_str_t                     uri, name, value;
    ngx_uint_t                    i;
    ngx_chain_t                  *cl;
    ngx_table_elt_t              *h;
    ngx_http_request_t           *sr;
    ngx_http_matcher_ctx_t       *ctx;
    ngx_http_request_body_t      *rb;
    ngx_http_post_subrequest_t   *ps;
    ngx_http_core_main_conf_t    *cmcf;

    plen = ngx_strlen(path);
    uri.len = svc->location.len + plen;
    uri.data = ngx_pnalloc(r->pool, uri.len);
    if (uri.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(uri.data, svc->location.data, svc->location.len),
               path, plen);

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_matcher_remote_post;
    ps->data = call;

    if (ngx_http_subrequest(r, &uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * From here the subrequest runs whatever happens; what fails below
     * leaves it without a body or a key, and the remote refuses it.
     *
     * Nothing of the client's request goes along: not its headers (a
     * cookie, an Accept-Encoding that would gzip the reply), not its body,
     * not the variables it has evaluated.
     */

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    sr->variables = ngx_pcalloc(r->pool, cmcf->variables.nelts
                                         * sizeof(ngx_http_variable_value_t));
    if (sr->variables == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));
    sr->headers_in.content_length_n = body->len;
    sr->headers_in.keep_alive_n = -1;

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 8,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&name, "Content-Type");
    ngx_str_set(&value, "application/json");

    if (ngx_http_matcher_remote_header(sr, &name, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&name, "Accept");

    if (ngx_http_matcher_remote_header(sr, &name, &value) != NGX_OK
        || ngx_http_matcher_remote_header(sr, &svc->key_header,
                                          &svc->key_value)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (svc->api_version.len) {
        ngx_str_set(&name, "X-Pinecone-Api-Version");

        if (ngx_http_matcher_remote_header(sr, &name, &svc->api_version)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    h = svc->headers->elts;

    for (i = 0; i < svc->headers->nelts; i++) {
        if (ngx_http_matcher_remote_header(sr, &h[i].key, &h[i].value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    sr->method = NGX_HTTP_POST;
    ngx_str_set(&sr->method_name, "POST");

    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);

    if (rb == NULL || b == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->start = b->pos;
    b->end = b->last;
    b->memory = 1;
    b->last_buf = 1;

    cl->buf = b;
    cl->next = NULL;
    rb->bufs = cl;
    rb->rest = 0;
    sr->request_body = rb;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);
    ctx->call = call;
    r->write_event_handler = ngx_http_matcher_remote_resume;

    return NGX_OK;
}


static ngx_int_t
ngx_http_matcher_remote_header(ngx_http_request_t *sr, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *name;
    h->value = *value;
    h->lowcase_key = name->data;   /* no module of ours looks it up */

    if (name->len == sizeof("Content-Type") - 1
        && ngx_strncasecmp(name->data, (u_char *) "Content-Type",
                           name->len) == 0)
    {
        sr->headers_in.content_type = h;
    }

    return NGX_OK;
}


/*
 * The subrequest is over: its status, reply and the headers that matter
 * are kept for the parent, which resumes next.  An error of the proxy
 * (502, 504) or of the in-memory buffer is the call's to judge, so nginx
 * is told all went well: else it would end the client's request too.
 */

static ngx_int_t
ngx_http_matcher_remote_post(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_matcher_call_t *call = data;

    ngx_buf_t        *b;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (call->done) {
        return rc;
    }

    call->done = 1;
    call->rc = rc;
    call->status = sr->headers_out.status;
    call->expected = sr->headers_out.content_length_n;

    if (sr->out && sr->out->buf) {
        b = sr->out->buf;
        call->body.data = b->pos;
        call->body.len = b->last - b->pos;
    }

    part = &sr->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        if (h[i].key.len == sizeof("x-request-id") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "x-request-id",
                               h[i].key.len) == 0)
        {
            call->request_id = h[i].value;

        } else if (h[i].key.len == sizeof("Retry-After") - 1
                   && ngx_strncasecmp(h[i].key.data,
                                      (u_char *) "Retry-After",
                                      h[i].key.len) == 0)
        {
            call->retry_after = h[i].value;
        }
    }

    if (rc == NGX_HTTP_CLIENT_CLOSED_REQUEST
        || rc == NGX_HTTP_REQUEST_TIME_OUT)
    {
        return rc;
    }

    return NGX_OK;
}


static void
ngx_http_matcher_remote_resume(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_matcher_ctx_t   *ctx;
    ngx_http_matcher_call_t  *call;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    /* woken by something else while the subrequest runs */
    if (ctx == NULL || ctx->call == NULL || !ctx->call->done) {
        return;
    }

    call = ctx->call;
    ctx->call = NULL;
    r->write_event_handler = ngx_http_request_empty_handler;

    rc = ngx_http_matcher_remote_finish(r, call);

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_matcher_remote_finish(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call)
{
    u_char       *p, *last;
    char          err[160], msg[160];
    ngx_uint_t    status;

    status = call->status;
    err[0] = '\0';

    if (call->rc == NGX_ERROR) {
        call->cause = NGX_HTTP_MATCHER_REMOTE_REPLY;
        ngx_cpystrn((u_char *) err, (u_char *) "the reply was cut short or "
                    "larger than subrequest_output_buffer_size",
                    sizeof(err));

    } else if (status == 0 || call->rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /* the proxy's own answer: the remote gave none */
        status = call->rc > 0 ? (ngx_uint_t) call->rc : 0;

        if (status == NGX_HTTP_GATEWAY_TIME_OUT) {
            call->cause = NGX_HTTP_MATCHER_REMOTE_TIMEOUT;
            ngx_cpystrn((u_char *) err, (u_char *) "timed out", sizeof(err));

        } else if (status == NGX_HTTP_NOT_FOUND) {
            call->cause = NGX_HTTP_MATCHER_REMOTE_LOCAL;
            ngx_cpystrn((u_char *) err, (u_char *) "its location answered "
                        "404: is it configured?", sizeof(err));

        } else {
            call->cause = NGX_HTTP_MATCHER_REMOTE_CONNECT;
            ngx_cpystrn((u_char *) err, (u_char *) "no reply: connection "
                        "refused, reset or closed", sizeof(err));
        }

    } else if (ngx_http_matcher_2xx(status)) {

        if (call->expected >= 0 && (off_t) call->body.len != call->expected) {
            call->cause = NGX_HTTP_MATCHER_REMOTE_REPLY;
            ngx_snprintf((u_char *) err, sizeof(err) - 1,
                         "the reply was cut short at %uz of %O bytes%Z",
                         call->body.len, call->expected);

        } else if (call->parse(call, err, sizeof(err)) != 0) {
            call->cause = NGX_HTTP_MATCHER_REMOTE_REPLY;
        }

    } else {
        mt_remote_error_message((int) status, (char *) call->body.data,
                                call->body.len, msg, sizeof(msg));

        ngx_snprintf((u_char *) err, sizeof(err) - 1, "HTTP %ui: %s%Z",
                     status, msg);

        if (status == NGX_HTTP_UNAUTHORIZED || status == NGX_HTTP_FORBIDDEN) {
            call->cause = NGX_HTTP_MATCHER_REMOTE_AUTH;

        } else if (status == NGX_HTTP_TOO_MANY_REQUESTS) {
            call->cause = NGX_HTTP_MATCHER_REMOTE_LIMIT;

        } else if (status == NGX_HTTP_REQUEST_TIME_OUT) {
            call->cause = NGX_HTTP_MATCHER_REMOTE_TIMEOUT;

        } else if (status >= NGX_HTTP_INTERNAL_SERVER_ERROR) {
            call->cause = NGX_HTTP_MATCHER_REMOTE_SERVER;

        } else {
            call->cause = NGX_HTTP_MATCHER_REMOTE_STATUS;
        }
    }

    if (call->cause != NGX_HTTP_MATCHER_REMOTE_OK) {
        p = (u_char *) call->message;
        last = p + sizeof(call->message) - 1;
        p = ngx_slprintf(p, last, "%s: %s",
                         ngx_http_matcher_remote_names[call->remote], err);

        /* the remote's id of the request, for its support */
        if (call->request_id.len && call->request_id.len <= 64) {
            p = ngx_slprintf(p, last, " (x-request-id %V)",
                             &call->request_id);
        }

        *p = '\0';
    }

    ngx_http_matcher_remote_record(r, call);

    return call->next(r, call);
}


/*
 * The outcome into the breaker, and into the log when it is news: a
 * cause not logged in the last minute, a breaker opening, a recovery.
 */

static void
ngx_http_matcher_remote_record(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call)
{
    int64_t                        now;
    ngx_uint_t                     log, opened, recovered, failures;
    ngx_msec_t                     latency;
    ngx_slab_pool_t               *shpool;
    ngx_http_matcher_breaker_t    *br;
    ngx_http_matcher_remote_sh_t  *sh;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);
    sh = ngx_http_matcher_remote_sh(&shpool);
    now = ngx_http_matcher_remote_now();
    latency = ngx_current_msec - call->start;
    log = 0;

    /* a failure of ours (LOCAL) is no error of the remote's */
    ngx_http_matcher_metrics_upstream(call->remote, 0,
        call->cause != NGX_HTTP_MATCHER_REMOTE_OK
        && call->cause != NGX_HTTP_MATCHER_REMOTE_LOCAL,
        (ngx_msec_int_t) latency);

    opened = 0;
    recovered = 0;
    failures = 0;

    if (sh == NULL) {
        log = (call->cause != NGX_HTTP_MATCHER_REMOTE_OK);
        goto done;
    }

    br = &sh->remotes[call->remote];

    ngx_shmtx_lock(&shpool->mutex);

    br->calls++;

    if (call->cause == NGX_HTTP_MATCHER_REMOTE_OK) {
        recovered = (br->logged_cause != NGX_HTTP_MATCHER_REMOTE_OK);
        br->failures = 0;
        br->open_until = 0;
        br->probe_at = 0;
        br->last_ok = now;
        br->latency = latency;
        br->logged_cause = NGX_HTTP_MATCHER_REMOTE_OK;

    } else if (call->cause == NGX_HTTP_MATCHER_REMOTE_LOCAL) {
        /* ours, not the remote's: a probe goes again */
        br->probe_at = 0;
        log = 1;

    } else {
        br->errors++;
        br->failures++;
        br->last_fail = now;
        br->latency = latency;
        br->cause = call->cause;
        ngx_cpystrn((u_char *) br->error, (u_char *) call->message,
                    sizeof(br->error));

        if (br->probe_at || br->failures >= mmcf->breaker_failures) {
            opened = (br->open_until == 0 || br->probe_at);
            br->open_until = now + mmcf->breaker_cooldown;
            br->probe_at = 0;
        }

        if (call->cause != br->logged_cause
            || now - br->logged_at >= NGX_HTTP_MATCHER_RELOG_MSEC)
        {
            log = 1;
            br->logged_cause = call->cause;
            br->logged_at = now;
        }

        failures = br->failures;
    }

    ngx_shmtx_unlock(&shpool->mutex);

done:

    if (recovered) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "matcher: %s answers again",
                      ngx_http_matcher_remote_names[call->remote]);
    }

    if (log) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "matcher: %s", call->message);
    }

    if (opened) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "matcher: %s failed %ui times in a row: not called "
                      "for %M ms", ngx_http_matcher_remote_names[call->remote],
                      failures, mmcf->breaker_cooldown);
    }
}


/*
 * 503 while the breaker is open or the remote limits us (with its
 * Retry-After), 504 for a timeout, 502 for any other failure of the
 * remote: the message says which remote and why, never with a key.
 */

ngx_int_t
ngx_http_matcher_remote_error(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call)
{
    ngx_int_t   n;

    switch (call->cause) {

    case NGX_HTTP_MATCHER_REMOTE_OPEN:
        return ngx_http_matcher_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable", call->message, NULL, 0);

    case NGX_HTTP_MATCHER_REMOTE_LIMIT:
        n = ngx_atoi(call->retry_after.data, call->retry_after.len);

        if (n > 0 && n <= 3600
            && ngx_http_matcher_add_header(r, "Retry-After",
                                           &call->retry_after)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_matcher_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable", call->message, NULL, 0);

    case NGX_HTTP_MATCHER_REMOTE_TIMEOUT:
        return ngx_http_matcher_error(r, NGX_HTTP_GATEWAY_TIME_OUT,
                                      "upstream_timeout", call->message,
                                      NULL, 0);

    case NGX_HTTP_MATCHER_REMOTE_LOCAL:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;

    default:
        return ngx_http_matcher_error(r, NGX_HTTP_BAD_GATEWAY,
                                      "upstream_error", call->message,
                                      NULL, 0);
    }
}


uint64_t
ngx_http_matcher_remote_generation(void)
{
    uint64_t                       gen;
    ngx_slab_pool_t               *shpool;
    ngx_http_matcher_remote_sh_t  *sh;

    sh = ngx_http_matcher_remote_sh(&shpool);
    if (sh == NULL) {
        return 0;
    }

    ngx_shmtx_lock(&shpool->mutex);
    gen = sh->generation;
    ngx_shmtx_unlock(&shpool->mutex);

    return gen;
}


void
ngx_http_matcher_remote_bump_generation(void)
{
    ngx_slab_pool_t               *shpool;
    ngx_http_matcher_remote_sh_t  *sh;

    sh = ngx_http_matcher_remote_sh(&shpool);
    if (sh == NULL) {
        return;
    }

    ngx_shmtx_lock(&shpool->mutex);
    sh->generation++;
    ngx_shmtx_unlock(&shpool->mutex);
}


ngx_uint_t
ngx_http_matcher_remote_configured(ngx_uint_t remote)
{
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_matcher_module);
    if (mmcf == NULL) {
        return 0;
    }

    switch (remote) {
    case NGX_HTTP_MATCHER_REMOTE_EMBEDDINGS:
        return mmcf->embed_remote;
    case NGX_HTTP_MATCHER_REMOTE_CHAT:
        return mmcf->framing_remote;
    default:
        return mmcf->vectors_remote;
    }
}


void
ngx_http_matcher_remote_state(ngx_uint_t remote,
    ngx_http_matcher_remote_state_t *st)
{
    int64_t                        now;
    ngx_slab_pool_t               *shpool;
    ngx_http_matcher_breaker_t     br;
    ngx_http_matcher_remote_sh_t  *sh;

    st->latency = 0;
    st->detail[0] = '\0';

    if (!ngx_http_matcher_remote_configured(remote)) {
        st->status = "disabled";
        return;
    }

    sh = ngx_http_matcher_remote_sh(&shpool);
    if (sh == NULL) {
        st->status = "up";
        return;
    }

    ngx_shmtx_lock(&shpool->mutex);
    br = sh->remotes[remote];
    ngx_shmtx_unlock(&shpool->mutex);

    now = ngx_http_matcher_remote_now();
    st->latency = br.latency;

    if (br.open_until && now < br.open_until) {
        st->status = "down";
        ngx_snprintf((u_char *) st->detail, sizeof(st->detail) - 1,
                     "not called for %L s: %s%Z",
                     (br.open_until - now + 999) / 1000, br.error);

    } else if (br.failures) {
        st->status = "degraded";
        ngx_snprintf((u_char *) st->detail, sizeof(st->detail) - 1,
                     "%ui failures in a row: %s%Z", br.failures, br.error);

    } else if (br.calls == 0) {
        st->status = "up";
        ngx_cpystrn((u_char *) st->detail, (u_char *) "no call yet",
                    sizeof(st->detail));

    } else {
        st->status = "up";
    }
}


static int64_t
ngx_http_matcher_remote_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}

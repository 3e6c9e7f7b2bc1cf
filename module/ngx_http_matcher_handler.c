
/*
 * The content handler every matcher location shares: request id, route
 * lookup below the location, the API key (401, 403), method dispatch
 * (405 with Allow, OPTIONS, HEAD as GET) and, for methods with a body,
 * the media type check before the body is read.
 */


#include "ngx_http_matcher_module.h"
#include "apikey.h"
#include "util.h"


#define NGX_HTTP_MATCHER_BODY_METHODS                                       \
    (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH)


static u_char *ngx_http_matcher_log_error(ngx_http_request_t *r,
    ngx_http_request_t *sr, u_char *buf, size_t len);
static ngx_int_t ngx_http_matcher_route(ngx_http_request_t *r,
    ngx_http_matcher_loc_conf_t *mlcf, ngx_http_matcher_ctx_t *ctx,
    ngx_uint_t *allowed);
static ngx_int_t ngx_http_matcher_match(ngx_str_t *pattern, u_char *p,
    u_char *last, ngx_http_matcher_ctx_t *ctx);
static ngx_int_t ngx_http_matcher_discard_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_matcher_check_media_type(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
static void ngx_http_matcher_request_id(ngx_http_request_t *r,
    ngx_str_t *id);


static ngx_http_log_handler_pt  ngx_http_matcher_core_log_handler;
static ngx_int_t                ngx_http_matcher_request_id_index;


ngx_int_t
ngx_http_matcher_init_log(ngx_conf_t *cf)
{
    static ngx_str_t  name = ngx_string("request_id");

    ngx_http_matcher_request_id_index = ngx_http_get_variable_index(cf,
                                                                    &name);
    if (ngx_http_matcher_request_id_index == NGX_ERROR) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Every body we do not read (a 404, 405, 413 or 415, or a GET's) is
 * refused before the client sends it: nginx's discard would answer
 * "Expect: 100-continue" with "100 Continue" and then read, say, 64 MB
 * only to drop them.  nginx's own 413 for client_max_body_size does the
 * same.
 */

static ngx_int_t
ngx_http_matcher_discard_body(ngx_http_request_t *r)
{
    r->expect_tested = 1;

    return ngx_http_discard_request_body(r);
}


ngx_int_t
ngx_http_matcher_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_uint_t                    allowed, scopes, presented, need;
    ngx_http_matcher_ctx_t       *ctx;
    ngx_http_matcher_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_matcher_module);

    ctx = ngx_http_matcher_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* fail closed: only a known key's scopes open a write */
    scopes = 0;

    rc = ngx_http_matcher_route(r, mlcf, ctx, &allowed);

    /*
     * A browser's preflight never carries credentials, so OPTIONS is
     * answered without a key; anything else needs one (401 before 404:
     * no key learns which paths exist).  /health stays open for load
     * balancers.
     */

    if (!(r->method == NGX_HTTP_OPTIONS && rc != NGX_DECLINED)
        && mlcf->routes != ngx_http_matcher_health_routes
        && ngx_http_matcher_authenticate(r, mlcf, &scopes, &presented)
           != NGX_OK)
    {
        ngx_http_matcher_discard_body(r);
        return ngx_http_matcher_unauthorized(r, presented);
    }

    if (rc == NGX_DECLINED) {
        ngx_http_matcher_discard_body(r);
        return ngx_http_matcher_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such endpoint", NULL, 0);
    }

    if (r->method == NGX_HTTP_OPTIONS) {
        ngx_http_matcher_discard_body(r);

        if (ngx_http_matcher_allow_header(r, allowed) != NGX_OK
            || ngx_http_matcher_cors_headers(r, 1, allowed) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.status = NGX_HTTP_NO_CONTENT;
        r->header_only = 1;
        r->headers_out.content_length_n = 0;

        return ngx_http_send_header(r);
    }

    if (rc == NGX_HTTP_NOT_ALLOWED) {
        ngx_http_matcher_discard_body(r);

        if (ngx_http_matcher_allow_header(r, allowed) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_matcher_error(r, NGX_HTTP_NOT_ALLOWED,
                                      "method_not_allowed",
                                      "method not allowed on this resource",
                                      NULL, 0);
    }

    if (mlcf->keys && mlcf->routes != ngx_http_matcher_health_routes) {
        need = ((r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))
                || ctx->route->reads)
               ? MT_APIKEY_READ : MT_APIKEY_WRITE;

        if (!(scopes & need)) {
            ngx_http_matcher_discard_body(r);
            return ngx_http_matcher_forbidden(r);
        }
    }

    /* JSON or CSV: decided here, done where the reply is sent */
    ngx_http_matcher_csv_negotiate(r, mlcf, ctx);

    if (!(r->method & NGX_HTTP_MATCHER_BODY_METHODS)) {

        rc = ngx_http_matcher_discard_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ctx->route->handler(r, ctx);
    }

    ctx->body_limit = ctx->route->large_body ? mlcf->ingest_max_body_size
                                             : mlcf->max_body_size;

    if (r->headers_in.content_length_n > (off_t) ctx->body_limit) {
        ngx_http_matcher_discard_body(r);
        return ngx_http_matcher_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                      "payload_too_large",
                                      "request body is too large",
                                      NULL, 0);
    }

    if (ngx_http_matcher_check_media_type(r, ctx) != NGX_OK) {
        ngx_http_matcher_discard_body(r);
        return ngx_http_matcher_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                      "unsupported_media_type",
                                      ctx->route->ndjson
                                      ? "Content-Type must be "
                                        "application/json or "
                                        "application/x-ndjson, in UTF-8"
                                      : "Content-Type must be "
                                        "application/json, in UTF-8",
                                      NULL, 0);
    }

    return ngx_http_matcher_read_body(r, ctx);
}


/*
 * The id a request is known by: matcher_request_id's value when it is
 * one (behind an ALB, X-Amzn-Trace-Id, so our logs and the ALB's name
 * the same request), else nginx's $request_id.  The value comes from
 * the client, so it is taken only when short and made of the bytes a
 * trace id has: it goes into a reply header, JSON and log lines as is.
 */

#define NGX_HTTP_MATCHER_REQUEST_ID_MAX  256


static ngx_uint_t
ngx_http_matcher_valid_request_id(ngx_str_t *id)
{
    u_char  c, *p, *last;

    if (id->len == 0 || id->len > NGX_HTTP_MATCHER_REQUEST_ID_MAX) {
        return 0;
    }

    last = id->data + id->len;

    for (p = id->data; p < last; p++) {
        c = *p;

        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
            || (c >= 'A' && c <= 'Z'))
        {
            continue;
        }

        switch (c) {
        case '-': case '_': case '.': case ':':
        case ';': case '=': case '+': case '/':
            continue;
        default:
            return 0;
        }
    }

    return 1;
}


static void
ngx_http_matcher_request_id(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_http_variable_value_t    *vv;
    ngx_http_matcher_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_matcher_module);

    if (mlcf->request_id
        && ngx_http_complex_value(r, mlcf->request_id, id) == NGX_OK
        && ngx_http_matcher_valid_request_id(id))
    {
        return;
    }

    ngx_str_null(id);

    vv = ngx_http_get_indexed_variable(r, ngx_http_matcher_request_id_index);

    if (vv && !vv->not_found) {
        id->data = vv->data;
        id->len = vv->len;
    }
}


ngx_int_t
ngx_http_matcher_request_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                id;
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    if (ctx && ctx->request_id.len) {
        id = ctx->request_id;

    } else {
        ngx_http_matcher_request_id(r, &id);
    }

    if (id.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = id.data;
    v->len = id.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


ngx_http_matcher_ctx_t *
ngx_http_matcher_create_ctx(ngx_http_request_t *r)
{
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_matcher_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_matcher_module);

    ngx_http_matcher_request_id(r, &ctx->request_id);

    /*
     * Every error log line of this request names its id, the same
     * $request_id that access logs and the X-Request-Id reply header
     * carry, so a client report leads straight to the log lines.
     */

    if (r->log_handler != ngx_http_matcher_log_error) {
        ngx_http_matcher_core_log_handler = r->log_handler;
        r->log_handler = ngx_http_matcher_log_error;
    }

    return ctx;
}


static u_char *
ngx_http_matcher_log_error(ngx_http_request_t *r, ngx_http_request_t *sr,
    u_char *buf, size_t len)
{
    u_char                  *p;
    ngx_http_matcher_ctx_t  *ctx;

    p = ngx_http_matcher_core_log_handler(r, sr, buf, len);
    len -= p - buf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    if (ctx && ctx->request_id.len) {
        p = ngx_snprintf(p, len, ", request_id: \"%V\"", &ctx->request_id);
    }

    return p;
}


/*
 * Finds the route for the part of the URI below the location.  Returns
 * NGX_OK (ctx->route set), NGX_HTTP_NOT_ALLOWED (path known, method not),
 * or NGX_DECLINED; *allowed collects the methods of the path.
 */

static ngx_int_t
ngx_http_matcher_route(ngx_http_request_t *r,
    ngx_http_matcher_loc_conf_t *mlcf, ngx_http_matcher_ctx_t *ctx,
    ngx_uint_t *allowed)
{
    u_char                    *p, *last;
    ngx_uint_t                 method;
    ngx_str_t                 *found;
    ngx_http_matcher_route_t  *rt;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    p = r->uri.data;
    last = r->uri.data + r->uri.len;

    /* a prefix or exact location: match what follows its name */

    if (!clcf->named
#if (NGX_PCRE)
        && clcf->regex == NULL
#endif
        && r->uri.len >= clcf->name.len
        && ngx_strncmp(p, clcf->name.data, clcf->name.len) == 0)
    {
        p += clcf->name.len;

        /* "location /api/creators" also takes "/api/creatorsX": not ours */

        if (p < last && *p != '/'
            && clcf->name.len && clcf->name.data[clcf->name.len - 1] != '/')
        {
            return NGX_DECLINED;
        }
    }

    while (p < last && *p == '/') {
        p++;
    }

    while (last > p && last[-1] == '/') {
        last--;
    }

    /* HEAD is served wherever GET is; nginx sends the headers only */
    method = (r->method == NGX_HTTP_HEAD) ? NGX_HTTP_GET : r->method;

    found = NULL;
    *allowed = 0;

    for (rt = mlcf->routes; rt->handler; rt++) {

        if (found) {
            if (rt->path.len != found->len
                || ngx_strncmp(rt->path.data, found->data, found->len) != 0)
            {
                continue;
            }

        } else if (ngx_http_matcher_match(&rt->path, p, last, ctx)
                   != NGX_OK)
        {
            continue;
        }

        found = &rt->path;
        *allowed |= rt->methods;

        if (ctx->route == NULL && (rt->methods & method)) {
            ctx->route = rt;
        }
    }

    if (found == NULL) {
        return NGX_DECLINED;
    }

    *allowed |= NGX_HTTP_OPTIONS;

    if (*allowed & NGX_HTTP_GET) {
        *allowed |= NGX_HTTP_HEAD;
    }

    if (ctx->route == NULL) {
        return (r->method == NGX_HTTP_OPTIONS) ? NGX_OK
                                               : NGX_HTTP_NOT_ALLOWED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_matcher_match(ngx_str_t *pattern, u_char *p, u_char *last,
    ngx_http_matcher_ctx_t *ctx)
{
    u_char      *pp, *plast, *seg, *pseg;
    ngx_uint_t   n;

    pp = pattern->data;
    plast = pattern->data + pattern->len;
    n = 0;

    while (pp < plast && p < last) {

        pseg = pp;
        while (pp < plast && *pp != '/') {
            pp++;
        }

        seg = p;
        while (p < last && *p != '/') {
            p++;
        }

        if (pp - pseg == 2 && pseg[0] == '{' && pseg[1] == '}') {

            if (p == seg || n == NGX_HTTP_MATCHER_MAX_PARAMS) {
                return NGX_DECLINED;
            }

            ctx->params[n].data = seg;
            ctx->params[n].len = p - seg;
            n++;

        } else if (pp - pseg != p - seg
                   || ngx_strncmp(pseg, seg, p - seg) != 0)
        {
            return NGX_DECLINED;
        }

        /* one separator each; "a//b" is not "a/b" */

        if (pp < plast) {
            pp++;
        }

        if (p < last) {
            p++;
        }
    }

    if (pp != plast || p != last) {
        return NGX_DECLINED;
    }

    ctx->nparams = n;

    return NGX_OK;
}


/* NGX_OK, or NGX_DECLINED for a media type the route does not take */

static ngx_int_t
ngx_http_matcher_check_media_type(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    ngx_str_t  *ct;

    /*
     * Even with no body: a cross-site page can send a POST without a
     * Content-Type and without a preflight (a "simple" request), so a
     * request that changes state must say it is JSON, which no page of
     * another origin can do without the preflight CORS refuses.
     */

    if (r->headers_in.content_type == NULL) {
        return NGX_DECLINED;
    }

    ct = &r->headers_in.content_type->value;

    if (mt_media_type_is((const char *) ct->data, ct->len,
                         "application/json"))
    {
        return NGX_OK;
    }

    if (ctx->route->ndjson
        && mt_media_type_is((const char *) ct->data, ct->len,
                            "application/x-ndjson"))
    {
        ctx->ndjson = 1;
        return NGX_OK;
    }

    return NGX_DECLINED;
}

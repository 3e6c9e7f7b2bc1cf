
/*
 * JSON replies: the writer's buffer goes out without a copy, with the
 * headers every reply carries (Content-Type, X-Request-Id, CORS); or,
 * for a client that asked for it, the same reply as CSV
 * (ngx_http_matcher_csv.c).
 */


#include "ngx_http_matcher_module.h"
#include "model.h"
#include "util.h"


static ngx_int_t ngx_http_matcher_method_names(ngx_http_request_t *r,
    ngx_uint_t methods, ngx_str_t *value);
static void ngx_http_matcher_free(void *data);
static ngx_int_t ngx_http_matcher_cors_allow_headers(ngx_http_request_t *r,
    ngx_str_t *value);


static ngx_str_t  ngx_http_matcher_json_type =
    ngx_string("application/json; charset=utf-8");


static struct {
    ngx_uint_t   method;
    ngx_str_t    name;
} ngx_http_matcher_methods[] = {
    { NGX_HTTP_GET,     ngx_string("GET") },
    { NGX_HTTP_HEAD,    ngx_string("HEAD") },
    { NGX_HTTP_POST,    ngx_string("POST") },
    { NGX_HTTP_PUT,     ngx_string("PUT") },
    { NGX_HTTP_PATCH,   ngx_string("PATCH") },
    { NGX_HTTP_DELETE,  ngx_string("DELETE") },
    { NGX_HTTP_OPTIONS, ngx_string("OPTIONS") },
    { 0,                ngx_null_string }
};


int64_t
ngx_http_matcher_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + (int64_t) tp->msec;
}


ngx_int_t
ngx_http_matcher_send(ngx_http_request_t *r, ngx_uint_t status, mt_jw_t *w)
{
    char                    *data;
    size_t                   len;
    ngx_http_matcher_ctx_t  *ctx;

    data = mt_jw_take(w, &len);
    if (data == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "matcher: out of memory writing a reply");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    /* a client that asked for CSV gets the rows of this JSON as CSV */
    if (ctx && ctx->csv && ngx_http_matcher_2xx(status)) {
        return ngx_http_matcher_csv_send(r, status, data, len);
    }

    return ngx_http_matcher_send_body(r, status, &ngx_http_matcher_json_type,
                                      data, len);
}


/* data (malloc'd) is taken over: freed with the request, or now */

ngx_int_t
ngx_http_matcher_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, char *data, size_t len)
{
    ngx_int_t                rc;
    ngx_buf_t               *b;
    ngx_chain_t              out;
    ngx_pool_cleanup_t      *cln;
    ngx_http_matcher_ctx_t  *ctx;

    static ngx_str_t  accept = ngx_string("Accept");

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        free(data);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_matcher_free;
    cln->data = data;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = (u_char *) data;
    b->last = (u_char *) data + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    if (ctx && ctx->request_id.len
        && ngx_http_matcher_add_header(r, "X-Request-Id", &ctx->request_id)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* JSON or CSV by Accept: a cache in between must keep them apart */
    if (ctx && ctx->csv_kind && ngx_http_matcher_2xx(status)
        && ngx_http_matcher_add_header(r, "Vary", &accept) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_matcher_cors_headers(r, 0, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_matcher_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message, const mt_json_detail_t *details,
    size_t n)
{
    mt_jw_t                  w;
    ngx_uint_t               level;
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);
    if (ctx) {
        ctx->error_code = code;
    }

    /*
     * Client mistakes are "info", as nginx logs them; ours are errors.
     * A 502, 503 or 504 is a remote's or a resource's failure whose cause
     * is logged where it is found, once, not once per request.
     */
    level = (status >= NGX_HTTP_INTERNAL_SERVER_ERROR
             && status != NGX_HTTP_BAD_GATEWAY
             && status != NGX_HTTP_SERVICE_UNAVAILABLE
             && status != NGX_HTTP_GATEWAY_TIME_OUT)
            ? NGX_LOG_ERR : NGX_LOG_INFO;

    ngx_log_error(level, r->connection->log, 0, "matcher: %ui %s: %s",
                  status, code, message);

    if (r->header_sent) {
        return NGX_ERROR;
    }

    mt_jw_init(&w);
    mt_json_error_envelope(&w, message, code, details, n,
                           ngx_http_matcher_now_ms());

    return ngx_http_matcher_send(r, status, &w);
}


ngx_int_t
ngx_http_matcher_allow_header(ngx_http_request_t *r, ngx_uint_t methods)
{
    ngx_str_t  value;

    if (ngx_http_matcher_method_names(r, methods, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_matcher_add_header(r, "Allow", &value);
}


static ngx_int_t
ngx_http_matcher_method_names(ngx_http_request_t *r, ngx_uint_t methods,
    ngx_str_t *value)
{
    u_char     *p;
    size_t      len;
    ngx_uint_t  i;

    len = 0;

    for (i = 0; ngx_http_matcher_methods[i].method; i++) {
        if (methods & ngx_http_matcher_methods[i].method) {
            len += ngx_http_matcher_methods[i].name.len + sizeof(", ") - 1;
        }
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value->data = p;

    for (i = 0; ngx_http_matcher_methods[i].method; i++) {
        if (methods & ngx_http_matcher_methods[i].method) {
            if (p != value->data) {
                *p++ = ',';
                *p++ = ' ';
            }

            p = ngx_cpymem(p, ngx_http_matcher_methods[i].name.data,
                           ngx_http_matcher_methods[i].name.len);
        }
    }

    value->len = p - value->data;

    return NGX_OK;
}


/*
 * CORS for the React front end, which calls the API from another origin.
 * Only origins listed in matcher_cors_origins get the headers; "*" allows
 * any.  A preflight learns the methods of the resource and which of the
 * headers it asked for may be sent: only those of the list below, never
 * an echo of whatever it asked.  Every reply of such a location carries
 * "Vary: Origin", so a cache in between never hands one origin's reply
 * (with or without the headers) to another.
 */

static ngx_str_t  ngx_http_matcher_cors_allowed[] = {
    ngx_string("Content-Type"),
    ngx_string("If-Match"),
    ngx_string("Authorization"),
    ngx_string("X-Api-Key"),
    ngx_string("X-Request-Id"),
    ngx_null_string
};


ngx_int_t
ngx_http_matcher_cors_headers(ngx_http_request_t *r, ngx_uint_t preflight,
    ngx_uint_t methods)
{
    ngx_str_t                    *origins, value;
    ngx_uint_t                    i, any;
    ngx_table_elt_t              *origin;
    ngx_http_matcher_loc_conf_t  *mlcf;

    static ngx_str_t  star = ngx_string("*");
    static ngx_str_t  vary = ngx_string("Origin");
    static ngx_str_t  expose = ngx_string("Location, X-Request-Id, ETag, "
                                          "Retry-After, WWW-Authenticate");
    static ngx_str_t  max_age = ngx_string("600");

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_matcher_module);

    if (mlcf->cors_origins == NULL) {
        return NGX_OK;
    }

    if (ngx_http_matcher_add_header(r, "Vary", &vary) != NGX_OK) {
        return NGX_ERROR;
    }

    origin = ngx_http_matcher_find_header(r, "Origin", sizeof("Origin") - 1);
    if (origin == NULL) {
        return NGX_OK;
    }

    origins = mlcf->cors_origins->elts;
    any = 0;

    for (i = 0; i < mlcf->cors_origins->nelts; i++) {
        if (origins[i].len == 1 && origins[i].data[0] == '*') {
            any = 1;
            break;
        }

        if (origins[i].len == origin->value.len
            && ngx_strncasecmp(origins[i].data, origin->value.data,
                               origins[i].len) == 0)
        {
            break;
        }
    }

    if (i == mlcf->cors_origins->nelts) {
        return NGX_OK;
    }

    if (ngx_http_matcher_add_header(r, "Access-Control-Allow-Origin",
                                    any ? &star : &origin->value)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!preflight) {
        return ngx_http_matcher_add_header(r,
                                           "Access-Control-Expose-Headers",
                                           &expose);
    }

    if (ngx_http_matcher_method_names(r, methods, &value) != NGX_OK
        || ngx_http_matcher_add_header(r, "Access-Control-Allow-Methods",
                                       &value) != NGX_OK
        || ngx_http_matcher_cors_allow_headers(r, &value) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if ((value.len
         && ngx_http_matcher_add_header(r, "Access-Control-Allow-Headers",
                                        &value) != NGX_OK)
        || ngx_http_matcher_add_header(r, "Access-Control-Max-Age",
                                       &max_age) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The headers of Access-Control-Request-Headers that we take, in our
 * spelling; every one we take when the preflight names none.
 */

static ngx_int_t
ngx_http_matcher_cors_allow_headers(ngx_http_request_t *r, ngx_str_t *value)
{
    u_char           *p, *last, *start, *end, *out;
    size_t            len;
    ngx_uint_t        i, want;
    ngx_table_elt_t  *h;

    h = ngx_http_matcher_find_header(r, "Access-Control-Request-Headers",
                      sizeof("Access-Control-Request-Headers") - 1);

    len = 0;
    for (i = 0; ngx_http_matcher_cors_allowed[i].len; i++) {
        len += ngx_http_matcher_cors_allowed[i].len + sizeof(", ") - 1;
    }

    out = ngx_pnalloc(r->pool, len);
    if (out == NULL) {
        return NGX_ERROR;
    }

    value->data = out;

    for (i = 0; ngx_http_matcher_cors_allowed[i].len; i++) {

        want = (h == NULL);
        p = h ? h->value.data : NULL;
        last = h ? h->value.data + h->value.len : NULL;

        while (!want && p < last) {
            start = p;
            while (p < last && *p != ',') {
                p++;
            }

            end = p++;

            while (start < end && (*start == ' ' || *start == '\t')) {
                start++;
            }

            while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
                end--;
            }

            want = ((size_t) (end - start)
                    == ngx_http_matcher_cors_allowed[i].len
                    && ngx_strncasecmp(start,
                                       ngx_http_matcher_cors_allowed[i].data,
                                       end - start) == 0);
        }

        if (want) {
            if (out != value->data) {
                *out++ = ',';
                *out++ = ' ';
            }

            out = ngx_cpymem(out, ngx_http_matcher_cors_allowed[i].data,
                             ngx_http_matcher_cors_allowed[i].len);
        }
    }

    value->len = out - value->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_matcher_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;
    h->lowcase_key = NULL;

    return NGX_OK;
}


ngx_table_elt_t *
ngx_http_matcher_find_header(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


static void
ngx_http_matcher_free(void *data)
{
    free(data);
}


void
ngx_http_matcher_write_time(mt_jw_t *w, int64_t ms)
{
    char  buf[MT_ISO8601_LEN + 1];

    mt_jw_str(w, buf, mt_iso8601(buf, ms));
}


/* {"success":true,"data": ... the caller writes the data value next */

void
ngx_http_matcher_envelope_open(mt_jw_t *w)
{
    mt_jw_init(w);
    mt_jw_obj_open(w);
    mt_jw_key(w, "success");
    mt_jw_bool(w, 1);
    mt_jw_key(w, "data");
}


ngx_int_t
ngx_http_matcher_envelope_send(ngx_http_request_t *r, ngx_uint_t status,
    mt_jw_t *w)
{
    mt_jw_key(w, "timestamp");
    ngx_http_matcher_write_time(w, ngx_http_matcher_now_ms());
    mt_jw_obj_close(w);

    return ngx_http_matcher_send(r, status, w);
}


ngx_int_t
ngx_http_matcher_validation_error(ngx_http_request_t *r,
    const mt_errs_t *errs)
{
    size_t             i;
    mt_json_detail_t  *d;

    if (errs->oom) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    d = ngx_pcalloc(r->pool, (errs->n + 1) * sizeof(mt_json_detail_t));
    if (d == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < errs->n; i++) {
        d[i].field = errs->items[i].field;
        d[i].message = errs->items[i].message;
        d[i].value = errs->items[i].value;
    }

    return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                  "validation_failed",
                                  "request validation failed", d, errs->n);
}

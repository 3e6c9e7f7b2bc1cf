
/*
 * Request bodies: read asynchronously by nginx, gathered in memory by our
 * request body filter, bounded by the matcher_*max_body_size limits even
 * when chunked, then handed to lib/json.
 */


/* the first allocation for a body of unknown or large size */
#define NGX_HTTP_MATCHER_BODY_MIN  16384

/*
 * No body of the contract comes near these (2,048 texts, 1,000 ids and a
 * filter of 4,096 values are the largest lists), and they bound what
 * parsing a body and walking its tree costs on the event loop: a 1 MB
 * object of 100,000 keys held it for 50 ms.  The ingest's creators are
 * parsed one at a time on the thread pool, with their own caps.
 */
#define NGX_HTTP_MATCHER_JSON_MAX_MEMBERS  4096
#define NGX_HTTP_MATCHER_JSON_MAX_VALUES   16384


#include "ngx_http_matcher_module.h"


static ngx_int_t ngx_http_matcher_request_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_matcher_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_matcher_body_append(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const u_char *data, size_t size);
static void ngx_http_matcher_json_cleanup(void *data);
static void ngx_http_matcher_body_cleanup(void *data);


static ngx_http_request_body_filter_pt  ngx_http_next_request_body_filter;


ngx_int_t
ngx_http_matcher_body_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_matcher_request_body_filter;

    return NGX_OK;
}


/*
 * The filter takes every part of the body into one heap buffer as it
 * arrives and passes nothing on but the final empty buffer: nginx never
 * spools our bodies to a temp file, so nothing reads one back with a
 * blocking read on the event loop, and the body is in memory once, not
 * in nginx's buffer and then in ours.
 *
 * The buffer grows with what arrives (doubling, up to Content-Length or
 * the limit), so a client that announces 64 MB and sends nothing pins
 * nothing; a body costs at most twice its received bytes and never more
 * than its limit plus one.  Past the limit (a body without
 * Content-Length: chunked, HTTP/2) what comes is dropped, the end of the
 * body is let through so that nginx completes the read, and the handler
 * answers 413.
 */

static ngx_int_t
ngx_http_matcher_request_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                   size;
    ngx_buf_t               *b;
    ngx_uint_t               last;
    ngx_chain_t             *cl;
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    if (ctx == NULL || ctx->body_limit == 0 || r != r->main) {
        return ngx_http_next_request_body_filter(r, in);
    }

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        last |= b->last_buf;
        size = b->last - b->pos;

        if (size && !ctx->too_large) {
            if (ctx->body_len + size > ctx->body_limit) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "matcher: request body exceeds %uz bytes",
                              ctx->body_limit);

                ctx->too_large = 1;

            } else if (ngx_http_matcher_body_append(r, ctx, b->pos, size)
                       != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        b->pos = b->last;
    }

    if (!last) {
        return NGX_OK;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last_buf = 1;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    return ngx_http_next_request_body_filter(r, cl);
}


/* Appends to ctx->body, growing it; it stays NUL-terminated. */

static ngx_int_t
ngx_http_matcher_body_append(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const u_char *data, size_t size)
{
    size_t               need, cap;
    u_char              *p;
    ngx_pool_cleanup_t  *cln;

    need = ctx->body_len + size + 1;

    if (ctx->body == NULL || need > ctx->body_cap) {
        cap = ngx_max(ctx->body_cap * 2, NGX_HTTP_MATCHER_BODY_MIN);

        if (r->headers_in.content_length_n > 0) {
            cap = ngx_min(cap, (size_t) r->headers_in.content_length_n + 1);
        }

        cap = ngx_max(ngx_min(cap, ctx->body_limit + 1), need);

        if (ctx->body == NULL) {
            cln = ngx_pool_cleanup_add(r->pool, 0);
            if (cln == NULL) {
                return NGX_ERROR;
            }

            cln->handler = ngx_http_matcher_body_cleanup;
            cln->data = ctx;
        }

        /* realloc(): glibc moves a large block by remapping, not copying */

        p = realloc(ctx->body, cap);
        if (p == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, ngx_errno,
                          "matcher: realloc(%uz) for a request body failed",
                          cap);
            return NGX_ERROR;
        }

        ctx->body = p;
        ctx->body_cap = cap;
    }

    ngx_memcpy(ctx->body + ctx->body_len, data, size);
    ctx->body_len += size;
    ctx->body[ctx->body_len] = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_http_matcher_read_body(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    ngx_int_t  rc;

    rc = ngx_http_read_client_request_body(r, ngx_http_matcher_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_matcher_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    if (r->request_body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* an empty body is an empty string to the handlers, never NULL */

    if (ctx->too_large) {
        rc = NGX_DECLINED;

    } else if (ctx->body == NULL) {
        rc = ngx_http_matcher_body_append(r, ctx, (u_char *) "", 0);

    } else {
        rc = NGX_OK;
    }

    if (rc == NGX_OK) {
        rc = ctx->route->handler(r, ctx);

    } else if (rc == NGX_DECLINED) {
        rc = ngx_http_matcher_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                    "payload_too_large",
                                    "request body is too large", NULL, 0);

    } else {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_finalize_request(r, rc);
}


ngx_int_t
ngx_http_matcher_parse_body(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const mt_json_t **root)
{
    char                          errbuf[128];
    mt_json_err_t                 err;
    mt_json_doc_t                *doc;
    mt_json_limits_t              limits;
    mt_json_detail_t              detail;
    ngx_pool_cleanup_t           *cln;
    ngx_http_matcher_loc_conf_t  *mlcf;

    *root = NULL;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_matcher_module);

    if (ctx->body_len == 0) {
        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                      "request body is empty", NULL, 0);
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    limits.max_size = ctx->body_limit;
    limits.max_depth = mlcf->json_max_depth;
    limits.max_string = ctx->body_limit;
    limits.max_members = NGX_HTTP_MATCHER_JSON_MAX_MEMBERS;
    limits.max_values = NGX_HTTP_MATCHER_JSON_MAX_VALUES;

    doc = mt_json_parse((const char *) ctx->body, ctx->body_len, &limits,
                        &err, errbuf, sizeof(errbuf));

    if (doc == NULL) {
        switch (err) {

        case MT_JSON_ENOMEM:
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "matcher: out of memory parsing a %uz byte body",
                          ctx->body_len);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;

        case MT_JSON_ESIZE:
            return ngx_http_matcher_error(r,
                                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          "payload_too_large", errbuf,
                                          NULL, 0);

        default:
            return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_json", errbuf, NULL, 0);
        }
    }

    cln->handler = ngx_http_matcher_json_cleanup;
    cln->data = doc;

    ctx->doc = doc;

    /* every body of the contract is an object: [], 1, "x", null are not */

    if (mt_json_root(doc)->type != MT_JSON_OBJECT) {
        detail.field = "body";
        detail.message = "must be a JSON object";
        detail.value = NULL;
        detail.value_str = mt_json_type_name(mt_json_root(doc)->type);

        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                      "validation_failed",
                                      "request body must be a JSON object",
                                      &detail, 1);
    }

    *root = mt_json_root(doc);

    return NGX_OK;
}


static void
ngx_http_matcher_json_cleanup(void *data)
{
    mt_json_free(data);
}


/* A job takes the body over; the request no longer frees it. */

u_char *
ngx_http_matcher_take_body(ngx_http_matcher_ctx_t *ctx, size_t *len)
{
    u_char  *body;

    body = ctx->body;
    *len = ctx->body_len;

    ctx->body = NULL;
    ctx->body_len = 0;
    ctx->body_cap = 0;

    return body;
}


static void
ngx_http_matcher_body_cleanup(void *data)
{
    ngx_http_matcher_ctx_t  *ctx = data;

    if (ctx->body) {
        ngx_free(ctx->body);
        ctx->body = NULL;
    }
}


/*
 * Request bodies: read asynchronously by nginx (in memory, or in the temp
 * file it spills large bodies to), bounded by the matcher_*max_body_size
 * limits even when chunked, then handed to lib/json.
 */


#include "ngx_http_matcher_module.h"


static ngx_int_t ngx_http_matcher_request_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_matcher_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_matcher_collect_body(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
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
 * A body without Content-Length (chunked, HTTP/2) is only known to be too
 * large while it arrives.  Past the limit the filter drops what comes so
 * nothing more is buffered or spooled, lets the end of the body through
 * so that nginx completes the read, and the handler answers 413.
 */

static ngx_int_t
ngx_http_matcher_request_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t               *b;
    ngx_uint_t               last;
    ngx_chain_t             *cl;
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    if (ctx == NULL || ctx->body_limit == 0) {
        return ngx_http_next_request_body_filter(r, in);
    }

    if (!ctx->too_large) {
        for (cl = in; cl; cl = cl->next) {
            ctx->body_seen += ngx_buf_size(cl->buf);
        }

        if (ctx->body_seen <= (off_t) ctx->body_limit) {
            return ngx_http_next_request_body_filter(r, in);
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "matcher: request body exceeds %uz bytes",
                      ctx->body_limit);

        ctx->too_large = 1;
    }

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        last |= cl->buf->last_buf;
        cl->buf->pos = cl->buf->last;
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

    rc = ctx->too_large ? NGX_DECLINED
                        : ngx_http_matcher_collect_body(r, ctx);

    if (rc == NGX_OK) {
        rc = ctx->route->handler(r, ctx);

    } else if (rc == NGX_DECLINED) {
        rc = ngx_http_matcher_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                    "payload_too_large",
                                    "request body is too large", NULL, 0);
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * Joins the body into one NUL-terminated buffer; NGX_DECLINED when it is
 * over the limit.  Parts in the temp file
 * are read back with ngx_read_file(): nginx wrote that file on this same
 * loop a moment ago, so the read is served from the page cache.
 */

static ngx_int_t
ngx_http_matcher_collect_body(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    off_t                size;
    u_char              *p;
    ssize_t              n;
    ngx_buf_t           *b;
    ngx_chain_t         *cl;
    ngx_pool_cleanup_t  *cln;

    size = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        size += ngx_buf_size(cl->buf);
    }

    if (size > (off_t) ctx->body_limit) {
        ctx->too_large = 1;
        return NGX_DECLINED;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* from the heap, so that a thread job can own it past the request */

    p = ngx_alloc((size_t) size + 1, r->connection->log);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->body = p;
    cln->handler = ngx_http_matcher_body_cleanup;
    cln->data = ctx;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                          "matcher: reading request body from \"%V\" "
                          "returned %z of %O bytes", &b->file->name, n,
                          b->file_last - b->file_pos);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p += n;
    }

    *p = '\0';
    ctx->body_len = p - ctx->body;

    return NGX_OK;
}


ngx_int_t
ngx_http_matcher_parse_body(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const mt_json_t **root)
{
    char                          errbuf[128];
    mt_json_err_t                 err;
    mt_json_doc_t                *doc;
    mt_json_limits_t              limits;
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


/*
 * Query string arguments: form-decoded by lib/query.c, every byte kept
 * or the value refused, and integers parsed strictly ("limit=10abc" is
 * an error, not 10).
 */


#include "ngx_http_matcher_module.h"
#include "query.h"
#include "util.h"


/*
 * NGX_OK with out set, NGX_DECLINED when absent, NGX_ABORT when the value
 * is refused (see mt_query_decode(): a malformed escape, a NUL byte or
 * invalid UTF-8 once decoded); the caller answers 400 naming the
 * argument.  out->len is the decoded length and out->data is also
 * NUL-terminated; an accepted value has no NUL inside, so a caller that
 * reads it as a C string sees every byte.
 */

ngx_int_t
ngx_http_matcher_query_str(ngx_http_request_t *r, const char *name,
    ngx_str_t *out)
{
    u_char          *p;
    size_t           len;
    ngx_str_t        raw;
    mt_query_err_t   err;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &raw) != NGX_OK) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, raw.len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    err = mt_query_decode((const char *) raw.data, raw.len, (char *) p, &len);

    if (err != MT_QUERY_OK) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "matcher: query argument \"%s\": %s", name,
                       mt_query_strerror(err));
        return NGX_ABORT;
    }

    out->data = p;
    out->len = len;

    return NGX_OK;
}


/*
 * NGX_OK with *out (def when absent); NGX_DECLINED with *detail filled
 * when present but not an integer in [min, max]; NGX_ERROR.
 */

ngx_int_t
ngx_http_matcher_query_int(ngx_http_request_t *r, const char *name,
    int64_t min, int64_t max, int64_t def, int64_t *out,
    mt_json_detail_t *detail)
{
    u_char     *msg;
    ngx_int_t   rc;
    ngx_str_t   value;

    rc = ngx_http_matcher_query_str(r, name, &value);

    if (rc == NGX_DECLINED) {
        *out = def;
        return NGX_OK;
    }

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK
        && mt_parse_int((const char *) value.data, value.len, min, max, out)
           == 0)
    {
        return NGX_OK;
    }

    msg = ngx_pnalloc(r->pool, 64);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    ngx_snprintf(msg, 64, "must be an integer from %L to %L%Z", min, max);

    detail->field = name;
    detail->message = (const char *) msg;
    detail->value = NULL;
    detail->value_str = (rc == NGX_OK) ? (const char *) value.data : NULL;

    return NGX_DECLINED;
}


/*
 * Query string arguments: decoded ("%20" and "+"), UTF-8 checked, and
 * integers parsed strictly ("limit=10abc" is an error, not 10).
 */


#include "ngx_http_matcher_module.h"
#include "util.h"


/*
 * NGX_OK with out set (NUL-terminated), NGX_DECLINED when absent,
 * NGX_ABORT when the value is not valid UTF-8 once decoded.
 */

ngx_int_t
ngx_http_matcher_query_str(ngx_http_request_t *r, const char *name,
    ngx_str_t *out)
{
    u_char     *p, *dst, *src;
    ngx_str_t   raw;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &raw) != NGX_OK) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, raw.len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* form encoding: "+" is a space; ngx_unescape_uri() keeps it */

    for (src = raw.data, dst = p; src < raw.data + raw.len; src++) {
        *dst++ = (*src == '+') ? ' ' : *src;
    }

    src = p;
    dst = p;
    ngx_unescape_uri(&dst, &src, raw.len, 0);

    *dst = '\0';
    out->data = p;
    out->len = dst - p;

    if (!mt_utf8_valid((const char *) out->data, out->len)) {
        return NGX_ABORT;
    }

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

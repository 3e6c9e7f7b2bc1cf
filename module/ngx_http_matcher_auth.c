
/*
 * Who may call and how often: API keys with scopes (matcher_api_keys),
 * $matcher_api_key_name for access logs and limit_req_zone, and the 429
 * of limit_req in the contract's envelope (matcher_rate_limited).
 *
 * The key file holds SHA-256 digests, never keys; it is read when the
 * configuration is, so "nginx -s reload" picks up a changed file and a
 * bad line fails "nginx -t" naming the file and the line.
 */


#include "ngx_http_matcher_module.h"
#include "apikey.h"
#include "sha256.h"


/* a key longer than this is no key of ours: refused before hashing */
#define NGX_HTTP_MATCHER_API_KEY_MAX   256

/* a key file bigger than this is a mistake (a wrong path, say) */
#define NGX_HTTP_MATCHER_KEY_FILE_MAX  ((off_t) 1024 * 1024)


typedef struct {
    ngx_str_t                     name;
    ngx_uint_t                    scopes;      /* MT_APIKEY_* */
    u_char                        hash[MT_SHA256_LEN];
} ngx_http_matcher_key_t;


struct ngx_http_matcher_keys_s {
    ngx_str_t                     file;        /* full path */
    ngx_array_t                   keys;        /* ngx_http_matcher_key_t */
};


static ngx_int_t ngx_http_matcher_keys_read(ngx_conf_t *cf,
    ngx_http_matcher_keys_t *keys);
static ngx_int_t ngx_http_matcher_keys_parse(ngx_conf_t *cf,
    ngx_http_matcher_keys_t *keys, u_char *text, size_t len);
static ngx_int_t ngx_http_matcher_presented_key(ngx_http_request_t *r,
    ngx_str_t *key);
static ngx_int_t ngx_http_matcher_rate_limited_handler(
    ngx_http_request_t *r);


/* matcher_api_keys FILE | off; */

char *
ngx_http_matcher_api_keys_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_loc_conf_t  *mlcf = conf;

    ngx_str_t                     *value, path;
    ngx_uint_t                     i;
    ngx_http_matcher_keys_t      **kp, *keys;
    ngx_http_matcher_main_conf_t  *mmcf;

    if (mlcf->keys != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        mlcf->keys = NULL;
        return NGX_CONF_OK;
    }

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_matcher_module);

    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* one file named in many servers and locations is read once */

    if (mmcf->key_files == NULL) {
        mmcf->key_files = ngx_array_create(cf->pool, 2,
                                           sizeof(ngx_http_matcher_keys_t *));
        if (mmcf->key_files == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    kp = mmcf->key_files->elts;

    for (i = 0; i < mmcf->key_files->nelts; i++) {
        if (kp[i]->file.len == path.len
            && ngx_strncmp(kp[i]->file.data, path.data, path.len) == 0)
        {
            mlcf->keys = kp[i];
            return NGX_CONF_OK;
        }
    }

    keys = ngx_pcalloc(cf->pool, sizeof(ngx_http_matcher_keys_t));
    if (keys == NULL) {
        return NGX_CONF_ERROR;
    }

    keys->file = path;

    if (ngx_array_init(&keys->keys, cf->pool, 8,
                       sizeof(ngx_http_matcher_key_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_matcher_keys_read(cf, keys) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    kp = ngx_array_push(mmcf->key_files);
    if (kp == NULL) {
        return NGX_CONF_ERROR;
    }

    *kp = keys;
    mlcf->keys = keys;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_matcher_keys_read(ngx_conf_t *cf, ngx_http_matcher_keys_t *keys)
{
    u_char           *text;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_int_t         rc;
    ngx_file_info_t   fi;

    fd = ngx_open_file(keys->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &keys->file);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;
    text = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", &keys->file);
        goto done;
    }

    if (ngx_file_size(&fi) > NGX_HTTP_MATCHER_KEY_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "key file \"%V\" is over %O bytes", &keys->file,
                           NGX_HTTP_MATCHER_KEY_FILE_MAX);
        goto done;
    }

    text = ngx_pnalloc(cf->temp_pool, (size_t) ngx_file_size(&fi) + 1);
    if (text == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, text, (size_t) ngx_file_size(&fi));

    if (n < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", &keys->file);
        goto done;
    }

    rc = ngx_http_matcher_keys_parse(cf, keys, text, (size_t) n);

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &keys->file);
    }

    return rc;
}


static ngx_int_t
ngx_http_matcher_keys_parse(ngx_conf_t *cf, ngx_http_matcher_keys_t *keys,
    u_char *text, size_t len)
{
    int                      rc;
    u_char                  *p, *end, *nl;
    ngx_uint_t               line, i;
    const char              *err;
    mt_apikey_t              k;
    ngx_http_matcher_key_t  *key, *all;

    p = text;
    end = text + len;
    line = 0;

    while (p < end) {
        line++;

        nl = ngx_strlchr(p, end, '\n');
        if (nl == NULL) {
            nl = end;
        }

        err = NULL;
        rc = mt_apikey_parse((const char *) p, nl - p, &k, &err);

        if (rc < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid line %ui in key file \"%V\": %s",
                               line, &keys->file, err);
            return NGX_ERROR;
        }

        if (rc == 1) {
            all = keys->keys.elts;

            for (i = 0; i < keys->keys.nelts; i++) {
                if (all[i].name.len == k.name_len
                    && ngx_strncmp(all[i].name.data, k.name, k.name_len)
                       == 0)
                {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "duplicate name \"%*s\" on line %ui "
                                       "of key file \"%V\"", k.name_len,
                                       k.name, line, &keys->file);
                    return NGX_ERROR;
                }

                /* two names for one key: which one would it be? */

                if (ngx_memcmp(all[i].hash, k.hash, MT_SHA256_LEN) == 0) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "line %ui of key file \"%V\" has "
                                       "the key of \"%V\" again", line,
                                       &keys->file, &all[i].name);
                    return NGX_ERROR;
                }
            }

            key = ngx_array_push(&keys->keys);
            if (key == NULL) {
                return NGX_ERROR;
            }

            key->name.len = k.name_len;
            key->name.data = ngx_pnalloc(cf->pool, k.name_len);
            if (key->name.data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(key->name.data, k.name, k.name_len);
            key->scopes = k.scopes;
            ngx_memcpy(key->hash, k.hash, MT_SHA256_LEN);
        }

        p = nl + 1;
    }

    if (keys->keys.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "key file \"%V\" has no key: every request to "
                           "its locations will get 401", &keys->file);
    }

    return NGX_OK;
}


/*
 * Without any matcher_api_keys the API is open as it always was; say so
 * once a configuration, not once a location.
 */

void
ngx_http_matcher_auth_check_conf(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf)
{
    if (mmcf->api_endpoints && mmcf->key_files == NULL) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "matcher: no \"matcher_api_keys\": the API is open "
                      "to anyone who can reach it");
    }
}


/*
 * The key a request presents: "Authorization: Bearer KEY", else
 * "X-Api-Key: KEY".  NGX_OK with *key set, NGX_DECLINED when it has
 * none.
 */

static ngx_int_t
ngx_http_matcher_presented_key(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char           *p, *last;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h && h->value.len > sizeof("Bearer ") - 1
        && ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) == 0)
    {
        p = h->value.data + sizeof("Bearer ") - 1;
        last = h->value.data + h->value.len;

        while (p < last && *p == ' ') {
            p++;
        }

        while (last > p && last[-1] == ' ') {
            last--;
        }

        key->data = p;
        key->len = last - p;

        return key->len ? NGX_OK : NGX_DECLINED;
    }

    h = ngx_http_matcher_find_header(r, "X-Api-Key", sizeof("X-Api-Key") - 1);

    if (h && h->value.len) {
        *key = h->value;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * The key entry of the request's key, or NULL (none presented: *presented
 * is 0).  Every entry is compared, in constant time, whatever matches.
 */

static ngx_http_matcher_key_t *
ngx_http_matcher_auth_lookup(ngx_http_request_t *r,
    ngx_http_matcher_keys_t *keys, ngx_uint_t *presented)
{
    u_char                   hash[MT_SHA256_LEN];
    ngx_str_t                key;
    ngx_uint_t               i;
    ngx_http_matcher_key_t  *all, *found;

    *presented = 0;

    if (ngx_http_matcher_presented_key(r, &key) != NGX_OK) {
        return NULL;
    }

    *presented = 1;

    if (key.len > NGX_HTTP_MATCHER_API_KEY_MAX) {
        return NULL;
    }

    mt_sha256(key.data, key.len, hash);

    all = keys->keys.elts;
    found = NULL;

    for (i = 0; i < keys->keys.nelts; i++) {
        if (mt_sha256_equal(all[i].hash, hash)) {
            found = &all[i];
        }
    }

    ngx_explicit_memzero(hash, sizeof(hash));

    return found;
}


/*
 * NGX_OK: no keys here, or a known key (its scopes in *scopes); else
 * NGX_DECLINED, *presented telling a missing key from a wrong one.
 */

ngx_int_t
ngx_http_matcher_authenticate(ngx_http_request_t *r,
    ngx_http_matcher_loc_conf_t *mlcf, ngx_uint_t *scopes,
    ngx_uint_t *presented)
{
    ngx_http_matcher_key_t  *key;

    *scopes = MT_APIKEY_READ | MT_APIKEY_WRITE;
    *presented = 0;

    if (mlcf->keys == NULL) {
        return NGX_OK;
    }

    key = ngx_http_matcher_auth_lookup(r, mlcf->keys, presented);

    if (key == NULL) {
        return NGX_DECLINED;
    }

    *scopes = key->scopes;

    return NGX_OK;
}


ngx_int_t
ngx_http_matcher_unauthorized(ngx_http_request_t *r, ngx_uint_t presented)
{
    u_char                       *p;
    size_t                        len;
    ngx_str_t                     value;
    ngx_http_matcher_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_matcher_module);

    /* RFC 6750: a token that was sent but is not known is invalid_token */

    len = sizeof("Bearer realm=\"\", error=\"invalid_token\"") - 1
          + mlcf->service_name.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.data = p;
    p = ngx_sprintf(p, "Bearer realm=\"%V\"", &mlcf->service_name);

    if (presented) {
        p = ngx_cpymem(p, ", error=\"invalid_token\"",
                       sizeof(", error=\"invalid_token\"") - 1);
    }

    value.len = p - value.data;

    if (ngx_http_matcher_add_header(r, "WWW-Authenticate", &value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_matcher_error(r, NGX_HTTP_UNAUTHORIZED, "unauthorized",
                                  presented ? "the API key is not valid"
                                            : "an API key is required: "
                                              "Authorization: Bearer KEY "
                                              "or X-Api-Key: KEY",
                                  NULL, 0);
}


/* a read key on a write */

ngx_int_t
ngx_http_matcher_forbidden(ngx_http_request_t *r)
{
    return ngx_http_matcher_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                  "this API key may not write: its "
                                  "scope is read only", NULL, 0);
}


/*
 * $matcher_api_key_name: the name of the request's valid key, not found
 * otherwise.  limit_req runs before our content handler, so the variable
 * looks the key up itself; nginx keeps the value for the request.
 */

ngx_int_t
ngx_http_matcher_api_key_name_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_uint_t                    presented;
    ngx_http_matcher_key_t       *key;
    ngx_http_matcher_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_matcher_module);

    key = (mlcf->keys == NULL) ? NULL
          : ngx_http_matcher_auth_lookup(r, mlcf->keys, &presented);

    if (key == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = key->name.data;
    v->len = key->name.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * matcher_rate_limited [RETRY_AFTER];  in the location an error_page for
 * limit_req's status names, e.g.
 *
 *     limit_req_status 429;
 *     error_page 429 @rate_limited;
 *     location @rate_limited { matcher_rate_limited 1s; }
 */

char *
ngx_http_matcher_rate_limited_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_loc_conf_t  *mlcf = conf;

    time_t                     sec;
    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->retry_after != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    sec = 1;

    if (cf->args->nelts == 2) {
        sec = ngx_parse_time(&value[1], 1);

        /* NGX_ERROR (-1) is below 1 too */
        if (sec < 1 || sec > 86400) {
            return "takes a time from 1s to 1d";
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" conflicts with another content handler "
                           "in this location", &cmd->name);
        return NGX_CONF_ERROR;
    }

    mlcf->retry_after = sec;
    clcf->handler = ngx_http_matcher_rate_limited_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_matcher_rate_limited_handler(ngx_http_request_t *r)
{
    u_char                       *p;
    ngx_str_t                     value;
    ngx_http_matcher_ctx_t       *ctx;
    ngx_http_matcher_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_matcher_module);

    ctx = ngx_http_matcher_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->rate_limited = 1;

    r->expect_tested = 1;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.data = p;
    value.len = ngx_sprintf(p, "%T", mlcf->retry_after) - p;

    if (ngx_http_matcher_add_header(r, "Retry-After", &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_matcher_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                  "rate_limited",
                                  "too many requests: retry after the "
                                  "seconds Retry-After gives", NULL, 0);
}

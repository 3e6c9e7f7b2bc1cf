
/*
 * The configuration of the remote services (ngx_http_matcher_remote.c
 * makes the calls): matcher_openai, matcher_pinecone and their keys,
 * matcher_remote_breaker, and the shared zone of the breakers.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sys/mman.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_remote.h"
#include "remote.h"


#define NGX_HTTP_MATCHER_KEY_MAX          1024





static char *ngx_http_matcher_service(ngx_conf_t *cf,
    ngx_http_matcher_service_t *svc, const char *header,
    const char *scheme);
static void ngx_http_matcher_secret_cleanup(void *data);
static ngx_int_t ngx_http_matcher_remote_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_str_t  ngx_http_matcher_remote_zone_name =
    ngx_string("matcher_remote");


/*
 * matcher_openai location=/_matcher/openai/ key=env:OPENAI_API_KEY
 *     [url=https://api.openai.com/v1] [organization=ID] [project=ID];
 */

char *
ngx_http_matcher_openai_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_main_conf_t *mmcf = conf;

    return ngx_http_matcher_service(cf,
               &mmcf->services[NGX_HTTP_MATCHER_SERVICE_OPENAI],
               "Authorization", "Bearer ");
}


/*
 * matcher_pinecone location=/_matcher/pinecone/ key=env:PINECONE_API_KEY
 *     [url=https://INDEX-HOST] [namespace=NS] [api_version=2025-10];
 */

char *
ngx_http_matcher_pinecone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_main_conf_t *mmcf = conf;

    return ngx_http_matcher_service(cf,
               &mmcf->services[NGX_HTTP_MATCHER_SERVICE_PINECONE],
               "Api-Key", "");
}


static char *
ngx_http_matcher_service(ngx_conf_t *cf, ngx_http_matcher_service_t *svc,
    const char *header, const char *scheme)
{
    ngx_str_t         *value, key, v;
    ngx_uint_t         i;
    ngx_table_elt_t   *h;

    if (svc->configured) {
        return "is duplicate";
    }

    svc->configured = 1;
    ngx_str_null(&key);

    svc->headers = ngx_array_create(cf->pool, 2, sizeof(ngx_table_elt_t));
    if (svc->headers == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "location=", 9) == 0) {
            svc->location.data = value[i].data + 9;
            svc->location.len = value[i].len - 9;

            if (svc->location.len < 2 || svc->location.data[0] != '/'
                || svc->location.data[svc->location.len - 1] != '/')
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": the location must be a "
                                   "prefix such as /_matcher/openai/",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            key.data = value[i].data + 4;
            key.len = value[i].len - 4;
            continue;
        }

        if (ngx_strncmp(value[i].data, "url=", 4) == 0) {
            svc->url.data = value[i].data + 4;
            svc->url.len = value[i].len - 4;

            if (ngx_strncmp(svc->url.data, "http://", 7) != 0
                && ngx_strncmp(svc->url.data, "https://", 8) != 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": not an http(s) URL",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (header[0] == 'A' && header[1] == 'p'
            && ngx_strncmp(value[i].data, "namespace=", 10) == 0)
        {
            svc->namespace_.data = value[i].data + 10;
            svc->namespace_.len = value[i].len - 10;
            continue;
        }

        if (header[0] == 'A' && header[1] == 'p'
            && ngx_strncmp(value[i].data, "api_version=", 12) == 0)
        {
            svc->api_version.data = value[i].data + 12;
            svc->api_version.len = value[i].len - 12;
            continue;
        }

        if (header[0] == 'A' && header[1] == 'u'
            && (ngx_strncmp(value[i].data, "organization=", 13) == 0
                || ngx_strncmp(value[i].data, "project=", 8) == 0))
        {
            h = ngx_array_push(svc->headers);
            if (h == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memzero(h, sizeof(ngx_table_elt_t));
            v.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            v.len = value[i].data + value[i].len - v.data;

            if (value[i].data[0] == 'o') {
                ngx_str_set(&h->key, "OpenAI-Organization");
            } else {
                ngx_str_set(&h->key, "OpenAI-Project");
            }

            h->value = v;
            h->hash = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (svc->location.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs location=", &value[0]);
        return NGX_CONF_ERROR;
    }

    if (key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs key=env:NAME or key=file:PATH",
                           &value[0]);
        return NGX_CONF_ERROR;
    }

    if (svc->api_version.len == 0 && header[1] == 'p') {
        ngx_str_set(&svc->api_version, "2025-10");
    }

    svc->key_header.data = (u_char *) header;
    svc->key_header.len = ngx_strlen(header);

    return ngx_http_matcher_secret(cf, &key, "key", scheme, &svc->key_value);
}


/*
 * A secret (an API key, a URI with a password) from the environment
 * (read by the master at start and reload: no "env" directive needed,
 * the workers never see it) or from a file, stored after its prefix
 * (a header's scheme) and NUL-terminated in pages of its own that core
 * dumps leave out.  The configuration only names where the secret is;
 * "what" names the parameter in messages.
 */

char *
ngx_http_matcher_secret(ngx_conf_t *cf, ngx_str_t *spec, const char *what,
    const char *scheme, ngx_str_t *out)
{
    char                *env;
    u_char              *page, *p, buf[NGX_HTTP_MATCHER_KEY_MAX + 2];
    size_t               len, slen, size;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_str_t            name, path;
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

    if (ngx_strncmp(spec->data, "env:", 4) == 0 && spec->len > 4) {
        name.len = spec->len - 4;
        name.data = ngx_pnalloc(cf->temp_pool, name.len + 1);
        if (name.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_cpystrn(name.data, spec->data + 4, name.len + 1);

        env = getenv((char *) name.data);

        if (env == NULL || env[0] == '\0') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the environment variable \"%V\" named by "
                               "\"%s=\" is not set", &name, what);
            return NGX_CONF_ERROR;
        }

        len = ngx_strlen(env);

        if (len > NGX_HTTP_MATCHER_KEY_MAX) {
            goto invalid;
        }

        ngx_memcpy(buf, env, len);

    } else if (ngx_strncmp(spec->data, "file:", 5) == 0 && spec->len > 5) {
        path.len = spec->len - 5;
        path.data = spec->data + 5;

        if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
        if (fd == NGX_INVALID_FILE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               ngx_open_file_n " \"%s\" failed", path.data);
            return NGX_CONF_ERROR;
        }

        n = read(fd, buf, sizeof(buf));

        if (ngx_close_file(fd) == NGX_FILE_ERROR) {
            ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                               ngx_close_file_n " \"%s\" failed", path.data);
        }

        if (n < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "read() \"%s\" failed", path.data);
            return NGX_CONF_ERROR;
        }

        len = (size_t) n;

        /* a trailing newline is how editors and echo write files */
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'
                       || buf[len - 1] == ' '))
        {
            len--;
        }

        if (len == 0 || len > NGX_HTTP_MATCHER_KEY_MAX) {
            goto invalid;
        }

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%s=%V\": expected %s=env:NAME or "
                           "%s=file:PATH (never the secret itself)", what,
                           spec, what, what);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < len; i++) {
        if (buf[i] <= 0x20 || buf[i] >= 0x7f) {
            goto invalid;
        }
    }

    slen = ngx_strlen(scheme);
    size = ngx_align(slen + len + 1, ngx_pagesize);

    page = mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS,
                -1, 0);
    if (page == MAP_FAILED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno, "mmap() failed");
        ngx_explicit_memzero(buf, sizeof(buf));
        return NGX_CONF_ERROR;
    }

#ifdef MADV_DONTDUMP
    if (madvise(page, size, MADV_DONTDUMP) == -1) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, ngx_errno,
                           "madvise(MADV_DONTDUMP) failed: core dumps "
                           "may hold the secret of \"%s=\"", what);
    }
#endif

    p = ngx_cpymem(page, scheme, slen);
    ngx_memcpy(p, buf, len);
    ngx_explicit_memzero(buf, sizeof(buf));

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(ngx_str_t));
    if (cln == NULL) {
        ngx_explicit_memzero(page, size);
        munmap(page, size);
        return NGX_CONF_ERROR;
    }

    out->data = page;
    out->len = slen + len;

    ((ngx_str_t *) cln->data)->data = page;
    ((ngx_str_t *) cln->data)->len = size;
    cln->handler = ngx_http_matcher_secret_cleanup;

    return NGX_CONF_OK;

invalid:

    ngx_explicit_memzero(buf, sizeof(buf));
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "the secret named by \"%s=%V\" is empty, longer "
                       "than %d bytes or holds spaces or control characters",
                       what, spec, NGX_HTTP_MATCHER_KEY_MAX);
    return NGX_CONF_ERROR;
}


static void
ngx_http_matcher_secret_cleanup(void *data)
{
    ngx_str_t  *page = data;

    ngx_explicit_memzero(page->data, page->len);
    munmap(page->data, page->len);
}


/* matcher_remote_breaker failures=5 cooldown=30s; */

char *
ngx_http_matcher_breaker_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_main_conf_t *mmcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value, s;
    ngx_uint_t   i;
    ngx_msec_t   ms;

    if (mmcf->breaker_failures != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    mmcf->breaker_failures = 5;
    mmcf->breaker_cooldown = 30000;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "failures=", 9) == 0) {
            n = ngx_atoi(value[i].data + 9, value[i].len - 9);

            if (n < 1 || n > 1000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": failures must be 1 to "
                                   "1000", &value[i]);
                return NGX_CONF_ERROR;
            }

            mmcf->breaker_failures = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "cooldown=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;
            ms = ngx_parse_time(&s, 0);

            if (ms == (ngx_msec_t) NGX_ERROR || ms < 100 || ms > 3600000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": cooldown must be 100ms "
                                   "to 1h", &value[i]);
                return NGX_CONF_ERROR;
            }

            mmcf->breaker_cooldown = ms;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * After the other init_main_conf steps: the remote backends need their
 * service, and the breakers a zone (added once the first service is).
 */

ngx_int_t
ngx_http_matcher_remote_init_main(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf)
{
    ngx_shm_zone_t  *zone;

    ngx_conf_init_uint_value(mmcf->breaker_failures, 5);
    ngx_conf_init_uint_value(mmcf->framing_remote, 0);
    ngx_conf_init_uint_value(mmcf->bulk_concurrency, 4);
    ngx_conf_init_uint_value(mmcf->bulk_rate, 20);
    ngx_conf_init_uint_value(mmcf->bulk_retries, 5);
    ngx_conf_init_msec_value(mmcf->bulk_max_delay, 120000);
    ngx_conf_init_msec_value(mmcf->bulk_timeout, 60000);

    if (mmcf->vectors_remote
        && mmcf->services[NGX_HTTP_MATCHER_SERVICE_OPENAI].url.len == 0)
    {
        ngx_str_set(&mmcf->services[NGX_HTTP_MATCHER_SERVICE_OPENAI].url,
                    "https://api.openai.com/v1");
    }

    if (mmcf->vectors_remote
        && mmcf->services[NGX_HTTP_MATCHER_SERVICE_PINECONE].url.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"matcher_pinecone\" needs url= (the index "
                           "host) for the bulk jobs");
        return NGX_ERROR;
    }
    ngx_conf_init_msec_value(mmcf->breaker_cooldown, 30000);

    if (mmcf->embed_remote
        && !mmcf->services[NGX_HTTP_MATCHER_SERVICE_OPENAI].configured)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"matcher_embedder openai\" needs "
                           "\"matcher_openai\"");
        return NGX_ERROR;
    }

    if (mmcf->vectors_remote
        && !mmcf->services[NGX_HTTP_MATCHER_SERVICE_PINECONE].configured)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"matcher_vectors pinecone\" needs "
                           "\"matcher_pinecone\"");
        return NGX_ERROR;
    }

    /*
     * A remote embedder's vectors go to a remote index, and the local
     * index holds the local embedder's: the two pairs are the ones built.
     */

    if (mmcf->embed_remote != mmcf->vectors_remote) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"matcher_embedder openai\" and "
                           "\"matcher_vectors pinecone\" go together");
        return NGX_ERROR;
    }

    if (mmcf->framing_remote
        && !mmcf->services[NGX_HTTP_MATCHER_SERVICE_OPENAI].configured)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"matcher_framing openai\" needs "
                           "\"matcher_openai\"");
        return NGX_ERROR;
    }

    if (!mmcf->services[NGX_HTTP_MATCHER_SERVICE_OPENAI].configured
        && !mmcf->services[NGX_HTTP_MATCHER_SERVICE_PINECONE].configured)
    {
        return NGX_OK;
    }

    zone = ngx_shared_memory_add(cf, &ngx_http_matcher_remote_zone_name,
                                 8 * ngx_pagesize, &ngx_http_matcher_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_matcher_remote_init_zone;
    mmcf->remote_zone = zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_matcher_remote_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_uint_t                     fresh;
    ngx_http_matcher_remote_sh_t  *sh;

    /* a reload: open breakers stay open, the generation goes on */

    sh = ngx_http_matcher_zone_struct(shm_zone, data,
                                      sizeof(ngx_http_matcher_remote_sh_t),
                                      NGX_HTTP_MATCHER_REMOTE_VERSION,
                                      &fresh);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    if (fresh) {
        sh->generation = 1;
    }

    return NGX_OK;
}

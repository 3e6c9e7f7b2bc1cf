
/*
 * Ids: ObjectIds for new documents, and the "set_matcher_*" directives
 * that expose them to the configuration.  The directives are built on
 * ngx_devel_kit's set_var, which runs them in the rewrite phase like
 * "set" and takes variables and complex values as arguments, so this file
 * carries only the value functions.
 */


#define NDK          1
#define NDK_SET_VAR  1

#include "ngx_http_matcher_module.h"
#include <ndk.h>
#include "oid.h"


static ngx_int_t ngx_http_matcher_object_id_var(ngx_http_request_t *r,
    ngx_str_t *val);
static ngx_int_t ngx_http_matcher_id_var(ngx_http_request_t *r,
    ngx_str_t *val, ngx_http_variable_value_t *v);


static mt_oid_gen_t  ngx_http_matcher_oid_gen;
static ngx_pid_t     ngx_http_matcher_oid_pid;


u_char *
ngx_http_matcher_new_object_id(u_char *out)
{
    char  id[MT_OID_LEN + 1];

    /* each worker needs its own random part: reseed after fork */

    if (ngx_http_matcher_oid_pid != ngx_pid) {
        mt_oid_gen_init(&ngx_http_matcher_oid_gen,
                        ((uint64_t) ngx_pid << 32)
                        ^ ((uint64_t) ngx_random() << 8)
                        ^ (uint64_t) ngx_current_msec);
        ngx_http_matcher_oid_pid = ngx_pid;
    }

    mt_oid_next(&ngx_http_matcher_oid_gen, (uint32_t) ngx_time(), id);

    return ngx_cpymem(out, id, MT_OID_LEN);
}


char *
ngx_http_matcher_set_object_id(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t      *value;
    ndk_set_var_t   filter;

    value = cf->args->elts;

    filter.type = NDK_SET_VAR_BASIC;
    filter.func = (void *) ngx_http_matcher_object_id_var;
    filter.size = 0;
    filter.data = NULL;

    return ndk_set_var_core(cf, &value[1], &filter);
}


char *
ngx_http_matcher_set_id(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t      *value;
    ndk_set_var_t   filter;

    value = cf->args->elts;

    filter.type = NDK_SET_VAR_VALUE;
    filter.func = (void *) ngx_http_matcher_id_var;
    filter.size = 1;
    filter.data = NULL;

    return ndk_set_var_value_core(cf, &value[1], &value[2], &filter);
}


static ngx_int_t
ngx_http_matcher_object_id_var(ngx_http_request_t *r, ngx_str_t *val)
{
    val->data = ngx_pnalloc(r->pool, MT_OID_LEN);
    if (val->data == NULL) {
        return NGX_ERROR;
    }

    val->len = ngx_http_matcher_new_object_id(val->data) - val->data;

    return NGX_OK;
}


/* the canonical (lowercase) assignment id, or "" when it is not one */

static ngx_int_t
ngx_http_matcher_id_var(ngx_http_request_t *r, ngx_str_t *val,
    ngx_http_variable_value_t *v)
{
    char  id[MT_OID_LEN + 1];

    if (mt_oid_normalize((const char *) v->data, v->len, id) != 0) {
        val->len = 0;
        val->data = (u_char *) "";
        return NGX_OK;
    }

    val->data = ngx_pnalloc(r->pool, MT_OID_LEN);
    if (val->data == NULL) {
        return NGX_ERROR;
    }

    val->len = ngx_cpymem(val->data, id, MT_OID_LEN) - val->data;

    return NGX_OK;
}


/*
 * POST /matches/framing through a chat model ("matcher_framing openai"):
 * the brief and the creator's profile go to /chat/completions as one
 * subrequest, the answer is checked (lib/remote: JSON, lengths, no link,
 * no endorsement) and kept in the shared zone, keyed on the model, the
 * brief and the profile.  Any failure, of the call or of the check,
 * answers with the template text instead: framing never fails a request.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ngx_http_matcher_match.h"
#include "ngx_http_matcher_remote.h"
#include "remote.h"


typedef struct {
    ngx_http_matcher_call_t        call;
    const mt_json_t               *a;
    const mt_json_t               *creator;
    ngx_str_t                      key;
    ngx_str_t                      framing;  /* checked, r->pool */
} ngx_http_matcher_chat_t;


static int ngx_http_matcher_chat_parse(ngx_http_matcher_call_t *call,
    char *err, size_t errlen);
static ngx_int_t ngx_http_matcher_chat_done(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call);


/* matcher_framing openai [model=gpt-4o-mini]; needs matcher_openai */

char *
ngx_http_matcher_framing_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_matcher_main_conf_t *mmcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (mmcf->framing_remote != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "template") == 0 && cf->args->nelts == 2) {
        mmcf->framing_remote = 0;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "openai") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid framing \"%V\": expected \"template\" "
                           "or \"openai\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    mmcf->framing_remote = 1;
    ngx_str_set(&mmcf->framing_model, "gpt-4o-mini");

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "model=", 6) == 0
            && value[i].len > 6 && value[i].len <= 6 + 100)
        {
            /* NUL-terminated where the argument was */
            mmcf->framing_model.data = value[i].data + 6;
            mmcf->framing_model.len = value[i].len - 6;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The framing of a for creator, then ngx_http_matcher_framing_send():
 * from the zone, else from the model, else (any failure) NULL, which
 * sends the template's.
 */

ngx_int_t
ngx_http_matcher_chat_framing(ngx_http_request_t *r, const mt_json_t *a,
    const mt_json_t *creator)
{
    u_char                        *p;
    mt_jw_t                        w;
    ngx_str_t                      body, value;
    ngx_http_matcher_ctx_t        *ctx;
    ngx_http_matcher_chat_t       *ch;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    ch = ngx_pcalloc(r->pool, sizeof(ngx_http_matcher_chat_t));
    p = ngx_pnalloc(r->pool, NGX_HTTP_MATCHER_EMBED_KEY_LEN);

    if (ch == NULL || p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ch->a = a;
    ch->creator = creator;
    ch->call.data = ch;

    ch->key.data = p;
    ch->key.len = ngx_snprintf(p, NGX_HTTP_MATCHER_EMBED_KEY_LEN,
                               "framing/%V/%016uxL/%016uxL",
                               &mmcf->framing_model,
                               ngx_http_matcher_brief_hash(a),
                               mt_json_hash(creator))
                  - p;

    if (ngx_http_matcher_cache_get(r, ctx, NGX_HTTP_MATCHER_CACHE_FRAMING,
                                   &ch->key, &value)
        == NGX_OK)
    {
        return ngx_http_matcher_framing_send(r, a, creator, &value);
    }

    mt_jw_init(&w);

    if (mt_framing_request(&w, (char *) mmcf->framing_model.data, a, creator)
        != 0
        || ngx_http_matcher_jw_str(r, &w, &body) != NGX_OK)
    {
        /* a brief or profile a prompt cannot be made of */
        mt_jw_free(&w);
        return ngx_http_matcher_framing_send(r, a, creator, NULL);
    }

    ch->call.remote = NGX_HTTP_MATCHER_REMOTE_CHAT;
    ch->call.parse = ngx_http_matcher_chat_parse;
    ch->call.next = ngx_http_matcher_chat_done;

    return ngx_http_matcher_remote_call(r, &ch->call, "chat/completions",
                                        &body);
}


/* a reply the checks refuse counts as a failure of the remote, logged */

static int
ngx_http_matcher_chat_parse(ngx_http_matcher_call_t *call, char *err,
    size_t errlen)
{
    ngx_http_matcher_chat_t *ch = call->data;

    int      rc;
    char    *content;
    size_t   clen;
    u_char   framing[MT_FRAMING_MAX * 4 + 1], reasoning[MT_FRAMING_MAX * 4 + 1];

    if (mt_openai_chat_reply((char *) call->body.data, call->body.len,
                             &content, &clen, err, errlen)
        != 0)
    {
        return -1;
    }

    rc = mt_framing_check(content, clen, (char *) framing, sizeof(framing),
                          (char *) reasoning, sizeof(reasoning), err, errlen);
    free(content);

    if (rc != 0) {
        return -1;
    }

    ch->framing.len = ngx_strlen(framing);
    ch->framing.data = ngx_pnalloc(call->pool, ch->framing.len);

    if (ch->framing.data == NULL) {
        ngx_cpystrn((u_char *) err, (u_char *) "no memory", errlen);
        return -1;
    }

    ngx_memcpy(ch->framing.data, framing, ch->framing.len);

    return 0;
}


static ngx_int_t
ngx_http_matcher_chat_done(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call)
{
    ngx_http_matcher_chat_t *ch = call->data;

    if (call->cause != NGX_HTTP_MATCHER_REMOTE_OK) {
        return ngx_http_matcher_framing_send(r, ch->a, ch->creator, NULL);
    }

    ngx_http_matcher_cache_put(r, NGX_HTTP_MATCHER_CACHE_FRAMING, &ch->key,
                               &ch->framing);

    return ngx_http_matcher_framing_send(r, ch->a, ch->creator,
                                         &ch->framing);
}

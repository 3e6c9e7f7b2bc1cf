
/*
 * What POST /matches and POST /matches/framing share
 * (ngx_http_matcher_framing.c).
 */

#ifndef _NGX_HTTP_MATCHER_MATCH_H_INCLUDED_
#define _NGX_HTTP_MATCHER_MATCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"


/*
 * The assignment to match: the body's (validated as POST /assignments
 * does), else the stored one named by assignmentId, read as a step (now,
 * or parked).  next(r, ctx, data, adoc, id) is called with the parsed
 * assignment (freed with the request) and id "" or the normalised
 * assignmentId; on an error the reply is sent and next is not called.
 * Returns what next returned, NGX_DONE while parked, or the error
 * reply's code.
 */
typedef ngx_int_t (*ngx_http_matcher_assignment_pt)(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_json_doc_t *adoc,
    const char *id);

ngx_int_t ngx_http_matcher_get_assignment(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const mt_json_t *body,
    ngx_http_matcher_assignment_pt next, void *data);
/* the cache key of a brief: its hash without a stored one's fields */
uint64_t ngx_http_matcher_brief_hash(const mt_json_t *a);
/* the brief as a reply shows it, a copy freed with the request */
const mt_json_t *ngx_http_matcher_brief(ngx_http_request_t *r,
    const mt_json_t *a);
/* a match's "creator": who it is and what the match was made on */
void ngx_http_matcher_write_creator(mt_jw_t *w, const mt_json_t *c);
/* the reply of POST /matches/framing; framing NULL: the template's */
ngx_int_t ngx_http_matcher_framing_send(ngx_http_request_t *r,
    const mt_json_t *a, const mt_json_t *creator, ngx_str_t *framing);
/* ngx_http_matcher_remote_framing.c: by a chat model, then send */
ngx_int_t ngx_http_matcher_chat_framing(ngx_http_request_t *r,
    const mt_json_t *a, const mt_json_t *creator);
char *ngx_http_matcher_framing_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_matcher_framing(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);


#endif /* _NGX_HTTP_MATCHER_MATCH_H_INCLUDED_ */

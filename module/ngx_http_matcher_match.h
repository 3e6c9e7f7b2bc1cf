
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
 * does), else the stored one named by assignmentId.  id is "" or the
 * normalised assignmentId.  *doc stays NULL when the reply went out
 * already (an error), whatever the code returned.
 */
ngx_int_t ngx_http_matcher_get_assignment(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const mt_json_t *body, char *id,
    mt_json_doc_t **doc);
/* the cache key of a brief: its hash without a stored one's fields */
uint64_t ngx_http_matcher_brief_hash(const mt_json_t *a);
/* the brief as a reply shows it, a copy freed with the request */
const mt_json_t *ngx_http_matcher_brief(ngx_http_request_t *r,
    const mt_json_t *a);
ngx_int_t ngx_http_matcher_framing(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);


#endif /* _NGX_HTTP_MATCHER_MATCH_H_INCLUDED_ */

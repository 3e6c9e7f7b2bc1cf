
/*
 * Remote services on the request path (ngx_http_matcher_remote.c): calls
 * to OpenAI and Pinecone as in-memory nginx subrequests to internal
 * locations of the configuration that proxy_pass to upstreams, with a
 * circuit breaker per remote kept in shared memory.
 */

#ifndef _NGX_HTTP_MATCHER_REMOTE_H_INCLUDED_
#define _NGX_HTTP_MATCHER_REMOTE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"


/* the remotes, each with a breaker of its own */
#define NGX_HTTP_MATCHER_REMOTE_EMBEDDINGS  0   /* OpenAI /embeddings */
#define NGX_HTTP_MATCHER_REMOTE_CHAT        1   /* OpenAI /chat/completions */
#define NGX_HTTP_MATCHER_REMOTE_VECTORS     2   /* Pinecone */
#define NGX_HTTP_MATCHER_REMOTE_N           3


/* why a call failed: its cause is logged once, not per request */
#define NGX_HTTP_MATCHER_REMOTE_OK          0
#define NGX_HTTP_MATCHER_REMOTE_OPEN        1   /* breaker open: not sent */
#define NGX_HTTP_MATCHER_REMOTE_TIMEOUT     2
#define NGX_HTTP_MATCHER_REMOTE_CONNECT     3   /* refused, reset, closed */
#define NGX_HTTP_MATCHER_REMOTE_AUTH        4   /* 401, 403 */
#define NGX_HTTP_MATCHER_REMOTE_LIMIT       5   /* 429 */
#define NGX_HTTP_MATCHER_REMOTE_SERVER      6   /* 5xx */
#define NGX_HTTP_MATCHER_REMOTE_STATUS      7   /* another status */
#define NGX_HTTP_MATCHER_REMOTE_REPLY       8   /* not the wire format */
#define NGX_HTTP_MATCHER_REMOTE_LOCAL       9   /* no memory, no location */




/* the shared zone: a breaker per remote */
#define NGX_HTTP_MATCHER_REMOTE_VERSION     1

typedef struct {
    ngx_uint_t                    failures;  /* in a row */
    int64_t                       open_until; /* ms; 0: closed */
    int64_t                       probe_at;  /* a probe in flight since */
    int64_t                       last_ok;
    int64_t                       last_fail;
    ngx_msec_t                    latency;
    ngx_uint_t                    calls;
    ngx_uint_t                    errors;
    ngx_uint_t                    cause;     /* of the last failure */
    ngx_uint_t                    logged_cause;
    int64_t                       logged_at;
    char                          error[192];
} ngx_http_matcher_breaker_t;

typedef struct {
    ngx_uint_t                    version;   /* first: see zone_struct */
    uint64_t                      generation; /* writes to a remote index */
    ngx_http_matcher_breaker_t    remotes[NGX_HTTP_MATCHER_REMOTE_N];
} ngx_http_matcher_remote_sh_t;


typedef struct ngx_http_matcher_call_s  ngx_http_matcher_call_t;

/* the reply into results; 0, or -1 with err (the reply is not valid) */
typedef int (*ngx_http_matcher_call_parse_pt)(ngx_http_matcher_call_t *call,
    char *err, size_t errlen);
/* resumes the request, call->cause saying how the call went */
typedef ngx_int_t (*ngx_http_matcher_call_next_pt)(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call);

struct ngx_http_matcher_call_s {
    ngx_uint_t                    remote;    /* NGX_HTTP_MATCHER_REMOTE_* */
    ngx_http_matcher_call_parse_pt  parse;
    ngx_http_matcher_call_next_pt   next;
    void                         *data;      /* the caller's */
    ngx_pool_t                   *pool;      /* the request's, for parse */

    ngx_msec_t                    start;
    ngx_int_t                     rc;        /* the subrequest's */
    ngx_uint_t                    status;    /* the upstream's, 0: none */
    ngx_str_t                     body;      /* the reply, r->pool */
    ngx_str_t                     request_id; /* x-request-id */
    ngx_str_t                     retry_after;
    off_t                         expected;  /* Content-Length, or -1 */

    ngx_uint_t                    cause;     /* NGX_HTTP_MATCHER_REMOTE_* */
    char                          message[192];

    unsigned                      done:1;
};


typedef struct {
    const char                   *status;    /* up|degraded|down|disabled */
    ngx_msec_t                    latency;   /* of the last call */
    char                          detail[224];
} ngx_http_matcher_remote_state_t;


char *ngx_http_matcher_openai_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_matcher_pinecone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_matcher_breaker_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_matcher_remote_init_main(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf);
/* the zone's state and its lock; NULL: no remote configured */
ngx_http_matcher_remote_sh_t *ngx_http_matcher_remote_sh(
    ngx_slab_pool_t **shpool);

/*
 * Sends body to the remote's path below its service's location: NGX_DONE
 * while the subrequest runs, then call->next() on the loop.  A breaker
 * that is open, or a subrequest that cannot start, goes to next() now,
 * with the cause set.  body stays the caller's until next().
 */
ngx_int_t ngx_http_matcher_remote_call(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call, const char *path, ngx_str_t *body);

/* the status and code of the error reply for a failed call */
ngx_int_t ngx_http_matcher_remote_error(ngx_http_request_t *r,
    ngx_http_matcher_call_t *call);

/* the module's count of its writes to a remote index (0: no zone) */
uint64_t ngx_http_matcher_remote_generation(void);
void ngx_http_matcher_remote_bump_generation(void);

/* for /health: each remote as up, degraded or down */
void ngx_http_matcher_remote_state(ngx_uint_t remote,
    ngx_http_matcher_remote_state_t *st);
ngx_uint_t ngx_http_matcher_remote_configured(ngx_uint_t remote);


#endif /* _NGX_HTTP_MATCHER_REMOTE_H_INCLUDED_ */

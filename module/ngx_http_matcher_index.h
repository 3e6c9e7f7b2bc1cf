
/*
 * The vector index and the embedder as the workers use them (see
 * ngx_http_matcher_index.c).
 */

#ifndef _NGX_HTTP_MATCHER_INDEX_H_INCLUDED_
#define _NGX_HTTP_MATCHER_INDEX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "backend.h"
#include "embed.h"
#include "indexer.h"
#include "vindex.h"


#define NGX_HTTP_MATCHER_EMBED_DIMS       512
#define NGX_HTTP_MATCHER_EMBED_SEED       0x5eed5eed5eed5eedULL
#define NGX_HTTP_MATCHER_INDEX_CAPACITY   1000000

/* the longest text embedded for a request: a query, a text to embed */
#define NGX_HTTP_MATCHER_MAX_TEXT         ((size_t) 64 * 1024)
/* texts a POST /creators/embeddings sends to a remote embedder at most */
#define NGX_HTTP_MATCHER_REMOTE_TEXTS     32
#define NGX_HTTP_MATCHER_REMOTE_TEXTS_S   "32"
/* model (at most 100 bytes) / dims / epoch / text hash / length */
#define NGX_HTTP_MATCHER_EMBED_KEY_LEN    192


/* what an index job carries to its thread; no pointers into a request */
typedef struct {
    mt_indexer_t                  ix;
    mt_index_progress_t           progress;
    const char                   *embedder_path;
    ngx_int_t                     rc;
    ngx_uint_t                    rebuilt;
    ngx_uint_t                    repaired;  /* a state renamed in */
    ngx_uint_t                    remote;    /* a remote pair's sync */
} ngx_http_matcher_index_task_t;


extern ngx_str_t  ngx_http_matcher_search_modes[];

char *ngx_http_matcher_embedder_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_matcher_vectors_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_matcher_index_init_main(ngx_conf_t *cf,
    ngx_http_matcher_main_conf_t *mmcf);
ngx_int_t ngx_http_matcher_index_init_process(ngx_cycle_t *cycle);

void ngx_http_matcher_index_task_init(ngx_http_matcher_index_task_t *t,
    ngx_http_matcher_main_conf_t *mmcf);
/* on a pool thread: a sync, or a rebuild when forced or due */
ngx_int_t ngx_http_matcher_index_run(ngx_http_matcher_index_task_t *t,
    ngx_uint_t force);
/* a remote index got vectors from the task: its generation moves */
#define ngx_http_matcher_index_wrote(t)                                      \
    ((t)->remote && (t)->ix.progress && (t)->ix.progress->processed)

/* queues a background sync (coalesced while one runs) */
void ngx_http_matcher_index_kick(ngx_log_t *log);

/* ngx_http_matcher_remote_bulk.c */
char *ngx_http_matcher_bulk_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* the worker's blocking clients into ix (bemb, bvec); NULL when none */
void ngx_http_matcher_remote_bulk_setup(mt_indexer_t *ix);
void ngx_http_matcher_remote_bulk_init_process(ngx_cycle_t *cycle);
void ngx_http_matcher_remote_bulk_exit_process(ngx_cycle_t *cycle);

/* ngx_http_matcher_backends.c */
struct ngx_http_matcher_backends_s {
    mt_emb_t                     *emb;
    mt_vec_t                     *vec;       /* NULL: no index yet */
    mt_vindex_t                  *vi;        /* the local index under vec */
    ngx_uint_t                    refs;
};

ngx_http_matcher_backends_t *ngx_http_matcher_backends(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
ngx_http_matcher_backends_t *ngx_http_matcher_backends_peek(ngx_log_t *log);
void ngx_http_matcher_backends_ref(ngx_http_matcher_backends_t *b);
void ngx_http_matcher_backends_unref(ngx_http_matcher_backends_t *b);
void ngx_http_matcher_backends_reopen_now(void);
void ngx_http_matcher_backends_init_process(ngx_cycle_t *cycle);
void ngx_http_matcher_backends_exit_process(ngx_cycle_t *cycle);

/* ngx_http_matcher_search.c, shared with embeddings and matching */
/* resumes a request with its vector search's hits (NULL: no index) */
typedef ngx_int_t (*ngx_http_matcher_hits_pt)(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_vec_hits_t *hits);

ngx_int_t ngx_http_matcher_embed_query(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, ngx_http_matcher_backends_t *b,
    const char *text, size_t len, float *out);
ngx_int_t ngx_http_matcher_vector_search(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const char *text, size_t len,
    mt_filter_t *f, const mt_json_t *filter, size_t k,
    ngx_http_matcher_hits_pt next, void *data);
/* by a creator's own vector in the local index; *missing: it has none */
ngx_int_t ngx_http_matcher_vector_near(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const u_char *id, size_t id_len,
    mt_filter_t *f, size_t k, ngx_uint_t *missing,
    ngx_http_matcher_hits_pt next, void *data);
/* the cache key of a text's vector, into r->pool */
ngx_int_t ngx_http_matcher_embed_key(ngx_http_request_t *r, mt_emb_t *emb,
    const char *text, size_t len, ngx_str_t *key);

/* ngx_http_matcher_remote_search.c */
ngx_int_t ngx_http_matcher_remote_search(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, ngx_http_matcher_backends_t *b,
    const char *text, size_t len, const mt_json_t *filter, size_t k,
    ngx_http_matcher_hits_pt next, void *data);
ngx_int_t ngx_http_matcher_jw_str(ngx_http_request_t *r, mt_jw_t *w,
    ngx_str_t *out);
ngx_int_t ngx_http_matcher_remote_embed_texts(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, ngx_http_matcher_backends_t *be,
    const mt_json_t *texts);

/* ngx_http_matcher_embeddings.c */
void ngx_http_matcher_write_vector(mt_jw_t *w, const float *v,
    unsigned dims);
void ngx_http_matcher_write_embeddings(mt_jw_t *w, size_t n, mt_emb_t *emb);
ngx_int_t ngx_http_matcher_write_metadata(mt_jw_t *w, const char *doc,
    size_t len);
/* 503: no index yet (or no store, which it lives beside) */
ngx_int_t ngx_http_matcher_no_index(ngx_http_request_t *r);


#endif /* _NGX_HTTP_MATCHER_INDEX_H_INCLUDED_ */

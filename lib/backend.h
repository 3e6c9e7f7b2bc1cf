/*
 * The backends behind a match: an embedder and a vector index, each an
 * interface with implementations behind it (the store is the third, in
 * store.h).  No nginx types.
 *
 * Wire formats are data, not transport.  A remote backend here builds
 * the body of its request (request()) and parses the reply (reply()):
 * pure functions, unit-tested on recorded replies.  The module owns the
 * transport (an nginx subrequest to an upstream, or a thread-pool task),
 * as nginx's upstream modules split create_request and process_header.
 * A local backend answers with embed() or query() instead, and says so
 * with MT_BACKEND_SYNC; a remote one has MT_BACKEND_WIRE, and NULL for
 * embed() and query().  A remote index's writes have no hooks yet: its
 * bulk requests are pure functions of its own (remote.h), for jobs.
 *
 * Blocking: embed() and query() of a local backend wait for nothing but
 * the CPU (a query of a large index scans it: milliseconds), so the
 * module may call them on the event loop.  upsert() and remove() wait
 * for the index file's writer lock, which a rebuild in another process
 * may hold for seconds: pool threads only.
 *
 * Threads: embed() and query() of a local backend only read (a frozen
 * embedder, the mapped index), and may run on any number of threads at
 * once, also alongside a write in this or another process.  The getters
 * too.  free() with no call running.
 */

#ifndef MT_BACKEND_H
#define MT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "embed.h"
#include "filter.h"
#include "json.h"
#include "vindex.h"


/* what a backend's calls cost, for the module to place them */
#define MT_BACKEND_SYNC   0x01   /* CPU only: may run on the caller's thread */
#define MT_BACKEND_WIRE   0x02   /* answered over the network: request/reply */

/* the local embedder's model name, as replies and the index record it */
#define MT_EMB_LOCAL_MODEL  "local-tfidf-v1"


typedef struct {
    const char             *data;
    size_t                  len;
} mt_span_t;


/* --- embedder --------------------------------------------------------- */

typedef struct mt_emb_s  mt_emb_t;

typedef struct {
    const char             *name;       /* "local" */
    unsigned                flags;      /* MT_BACKEND_* */

    const char *(*model)(const mt_emb_t *e);
    unsigned (*dims)(const mt_emb_t *e);
    /* changes with the embedder's state: cache keys carry it */
    uint64_t (*epoch)(const mt_emb_t *e);

    /* n texts → n * dims floats in out; 0, or -1 with err.  NULL: wire */
    int (*embed)(const mt_emb_t *e, const mt_span_t *texts, size_t n,
        float *out, char *err, size_t errlen);

    /* the request body for n texts; 0 or -1.  NULL: local */
    int (*request)(const mt_emb_t *e, const mt_span_t *texts, size_t n,
        mt_jw_t *body);
    /* a reply for n texts → n * dims floats; 0, or -1 with err */
    int (*reply)(const mt_emb_t *e, const char *data, size_t len, size_t n,
        float *out, char *err, size_t errlen);

    void (*free)(mt_emb_t *e);
} mt_emb_ops_t;

struct mt_emb_s {
    const mt_emb_ops_t     *ops;
};

/*
 * The local embedder (embed.h) as a backend, with the epoch of its state;
 * own: free e with the backend.  NULL without memory.
 */
mt_emb_t *mt_emb_local_new(mt_embedder_t *e, uint64_t epoch, int own);


/* --- vector index ------------------------------------------------------ */

typedef struct {
    const char             *id;         /* into the hits' own block */
    size_t                  id_len;
    float                   score;      /* cosine */
} mt_vec_hit_t;

/* a query's answer: best first; owns copies of its ids */
typedef struct {
    mt_vec_hit_t           *hits;
    size_t                  n;
    size_t                  total;      /* the creators searched */
    char                   *ids;        /* the block of the ids */
} mt_vec_hits_t;

void mt_vec_hits_free(mt_vec_hits_t *h);   /* not h itself; zeroes it */

typedef struct {
    const char             *id;
    size_t                  id_len;
    uint64_t                text_hash;  /* of the text embedded */
    const mt_meta_t        *meta;       /* what filters see */
    const float            *vec;        /* dims floats, unit length */
    /*
     * The creator document, for a remote index that keeps its metadata
     * as JSON (mt_pinecone_metadata()); NULL: none.  The local index
     * reads meta only.
     */
    const mt_json_t        *doc;
} mt_vec_record_t;

typedef struct mt_vec_s  mt_vec_t;

typedef struct {
    const char             *name;       /* "local" */
    unsigned                flags;      /* MT_BACKEND_* */

    /*
     * The k best among those f admits (f NULL: all), best first; 0, or
     * -1 with err (a q of other dims than the index's is one).  NULL:
     * wire.
     */
    int (*query)(mt_vec_t *v, const float *q, unsigned dims,
        const mt_filter_t *f, size_t k, mt_vec_hits_t *out, char *err,
        size_t errlen);

    /*
     * The request body of that query; 0 or -1.  NULL: local.  The filter
     * is the contract's JSON (NULL: none), not a compiled one: a remote
     * index evaluates it itself, so it goes out unchanged (validate it
     * with mt_filter_compile() first, so that both backends refuse the
     * same filters).
     */
    int (*request)(const mt_vec_t *v, const float *q, unsigned dims,
        const mt_json_t *filter, size_t k, mt_jw_t *body);
    /* its reply → out, as query() fills it; 0, or -1 with err */
    int (*reply)(const mt_vec_t *v, const char *data, size_t len,
        mt_vec_hits_t *out, char *err, size_t errlen);

    /* each record added or replaced; blocks; 0, or -1 with err */
    int (*upsert)(mt_vec_t *v, const mt_vec_record_t *recs, size_t n,
        char *err, size_t errlen);
    /* each id's record removed when present; blocks; 0, or -1 with err */
    int (*remove)(mt_vec_t *v, const mt_span_t *ids, size_t n,
        size_t *removed, char *err, size_t errlen);
    size_t (*count)(const mt_vec_t *v);
    /*
     * A number that changes whenever the contents do: the match cache
     * keys on it.  0: the backend keeps none (a remote index); the module
     * then keeps a counter of its own, bumped on its own writes.
     */
    uint64_t (*generation)(const mt_vec_t *v);

    void (*free)(mt_vec_t *v);
} mt_vec_ops_t;

struct mt_vec_s {
    const mt_vec_ops_t     *ops;
};

/* the index file (vindex.h) as a backend; own: close vi with it */
mt_vec_t *mt_vec_local_new(mt_vindex_t *vi, int own);

#endif /* MT_BACKEND_H */

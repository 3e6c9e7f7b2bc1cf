/*
 * Internals shared by the LMDB backend's files (store_lmdb.c: the
 * environment and assignments; store_lmdb_creators.c: creators;
 * store_lmdb_embed.c: their embeddings and the indexer's scans).  Not
 * for callers: they see only store.h.
 */

#ifndef MT_STORE_LMDB_H
#define MT_STORE_LMDB_H

#include <pthread.h>
#include <string.h>
#include <sys/types.h>

#include <lmdb.h>

#include "store.h"


#define MT_LMDB_IDLE_MAX  16    /* reset read txns kept for reuse */
#define MT_LMDB_KEY_MAX   (MT_USER_ID_MAX + 1 + 12)    /* longest key */
#define MT_LMDB_GROUP_MAX 128   /* writes that share one commit, at most */

/*
 * One MDB_env per directory and process, shared by every handle on it:
 * LMDB forbids opening one environment twice in a process (the second
 * open would take the fcntl lock as "first user" and reset the lock
 * file under the first).  pid marks entries inherited through fork(),
 * which the child must neither use nor close.
 */
typedef struct mt_lmdb_env_s   mt_lmdb_env_t;
typedef struct mt_lmdb_wreq_s  mt_lmdb_wreq_t;

struct mt_lmdb_env_s {
    mt_lmdb_env_t          *next;
    dev_t                   dev;
    ino_t                   ino;
    pid_t                   pid;
    unsigned                refs;

    MDB_env                *env;
    MDB_dbi                 meta;
    MDB_dbi                 asg;            /* id12 -> header, doc */
    MDB_dbi                 asg_user;       /* user \0 id12 -> summary */
    MDB_dbi                 cr;             /* uniqueId -> header, doc */
    MDB_dbi                 cr_region;      /* REGION \0 uniqueId -> "" */
    MDB_dbi                 cr_niche;       /* niche \0 uniqueId -> REGION */
    MDB_dbi                 cr_emb;         /* uniqueId -> text hash, the
                                               model's (store_lmdb_embed.c) */

    /* MDB_NOTLS lets any thread renew a reset read txn */
    pthread_mutex_t         lock;
    MDB_txn                *idle[MT_LMDB_IDLE_MAX];
    size_t                  nidle;

    /*
     * The write queue (mt_lmdb_write), all under wlock: the writes that
     * wait for a leader, whether a leader is committing a group, and
     * counts for tests and benchmarks.  group_max is 1 to
     * MT_LMDB_GROUP_MAX; 1 gives every write a commit of its own.
     */
    pthread_mutex_t         wlock;
    mt_lmdb_wreq_t         *whead;
    mt_lmdb_wreq_t        **wtail;
    size_t                  wqueued;
    unsigned                wleader;
    unsigned                group_max;
    uint64_t                writes;
    uint64_t                commits;    /* txns committed, empty ones too */
};

typedef struct {
    mt_store_t              store;          /* first: the cast works */
    mt_lmdb_env_t          *e;
} mt_store_lmdb_t;


/* Sets the error text to "what: <mdb_strerror>", maps rc to a store code */
mt_store_rc_t mt_lmdb_fail(mt_store_lmdb_t *s, const char *what, int rc);
/* the error text from a printf format; returns rc */
mt_store_rc_t mt_lmdb_failf(mt_store_lmdb_t *s, mt_store_rc_t rc,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A read txn from the handle's cache (or a new one); end it with rend. */
mt_store_rc_t mt_lmdb_rbegin(mt_store_lmdb_t *s, MDB_txn **txn);
void mt_lmdb_rend(mt_store_lmdb_t *s, MDB_txn *txn);

/*
 * A write: op changes txn and returns OK, or fails leaving its reason
 * in the error text (its changes are then discarded).  op may run more than
 * once (on a retry, each time in a new txn) and with other writes in
 * the same commit: it must depend only on arg and what txn holds.
 * mt_lmdb_write returns once the change is durable (or not made).
 */
typedef mt_store_rc_t (*mt_lmdb_op_pt)(mt_store_lmdb_t *s, MDB_txn *txn,
    void *arg);

mt_store_rc_t mt_lmdb_write(mt_store_lmdb_t *s, mt_lmdb_op_pt op,
    void *arg);

/* a malloc'd NUL-terminated copy into t */
mt_store_rc_t mt_lmdb_text(mt_store_lmdb_t *s, const void *data,
    size_t len, mt_text_t *t);

/* growing mt_text_t arrays for the list calls */
typedef struct {
    mt_text_t              *items;
    size_t                  n;
    size_t                  cap;
} mt_lmdb_texts_t;

mt_store_rc_t mt_lmdb_texts_add(mt_store_lmdb_t *s, mt_lmdb_texts_t *a,
    const void *data, size_t len);


/* Assignments (store_lmdb_assign.c) */

mt_store_rc_t mt_lmdb_assignment_put(mt_store_t *st,
    const mt_assignment_meta_t *meta, const char *doc, size_t len,
    int64_t expected_version);
mt_store_rc_t mt_lmdb_assignment_get(mt_store_t *st, const char *id,
    mt_text_t *doc);
mt_store_rc_t mt_lmdb_assignment_history(mt_store_t *st,
    const mt_history_query_t *q, mt_text_t **docs, size_t *n,
    size_t *total);
mt_store_rc_t mt_lmdb_assignment_purge(mt_store_t *st, int64_t before_ms,
    size_t max, size_t *purged);


/* Creators (store_lmdb_creators.c) */

mt_store_rc_t mt_lmdb_creator_get(mt_store_t *st, const char *unique_id,
    size_t len, mt_text_t *doc, mt_creator_stamp_t *stamp);
mt_store_rc_t mt_lmdb_creator_list(mt_store_t *st,
    const mt_creator_query_t *q, mt_text_t **docs, size_t *n,
    size_t *total);
mt_store_rc_t mt_lmdb_creator_count(mt_store_t *st, size_t *n);
mt_store_rc_t mt_lmdb_creator_put_batch(mt_store_t *st,
    const mt_creator_put_t *items, size_t n);

/* Creator embeddings and the indexer's scans (store_lmdb_embed.c) */

mt_store_rc_t mt_lmdb_creator_scan(mt_store_t *st,
    int (*cb)(void *data, const char *unique_id, size_t id_len,
              const char *doc, size_t doc_len), void *data);

mt_store_rc_t mt_lmdb_creator_set_embedding(mt_store_t *st,
    const mt_creator_embedded_t *items, size_t n, size_t *updated);
mt_store_rc_t mt_lmdb_creator_scan_pending(mt_store_t *st, const char *model,
    unsigned dims,
    int (*cb)(void *data, const char *unique_id, size_t id_len,
              const char *doc, size_t doc_len), void *data);


/*
 * Record headers are fixed-size fields in host byte order (an LMDB file
 * is not portable across byte orders anyway), copied with memcpy because
 * LMDB only 2-byte aligns values.
 */

static inline void
mt_lmdb_put64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, sizeof(v));
}

static inline uint64_t
mt_lmdb_get64(const unsigned char *p)
{
    uint64_t  v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static inline void
mt_lmdb_put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
}

static inline uint32_t
mt_lmdb_get32(const unsigned char *p)
{
    uint32_t  v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static inline void
mt_lmdb_put16(unsigned char *p, uint16_t v)
{
    memcpy(p, &v, sizeof(v));
}

static inline uint16_t
mt_lmdb_get16(const unsigned char *p)
{
    uint16_t  v;

    memcpy(&v, p, sizeof(v));
    return v;
}


/*
 * A creator record (store_lmdb_creators.c): a header of the content hash,
 * the text hash, the region's length (1 byte) and the niches' length
 * (4 bytes), then the region, the niches and the document.  The stamp,
 * region and niches are all the indexes use: a new document behind the
 * same prefix leaves them as they are.  store_lmdb_creators.c parses the
 * same layout (MT_CR_HDR, mt_lmdb_cr_parse): the two must agree.
 */

#define MT_LMDB_CR_HDR  21

typedef struct {
    uint64_t                content_hash;
    uint64_t                text_hash;
    size_t                  prefix_len;     /* the header, region, niches */
    const unsigned char    *doc;
    size_t                  doc_len;
} mt_lmdb_cr_rec_t;

/* 0, or -1 when v is not a creator record */
static inline int
mt_lmdb_cr_rec(const MDB_val *v, mt_lmdb_cr_rec_t *c)
{
    size_t                left, region_len, niches_len;
    const unsigned char  *p;

    p = v->mv_data;

    if (v->mv_size < MT_LMDB_CR_HDR) {
        return -1;
    }

    region_len = p[16];
    niches_len = mt_lmdb_get32(p + 17);
    left = v->mv_size - MT_LMDB_CR_HDR;

    if (region_len > MT_REGION_MAX || region_len > left
        || niches_len > left - region_len)
    {
        return -1;
    }

    c->content_hash = mt_lmdb_get64(p);
    c->text_hash = mt_lmdb_get64(p + 8);
    c->prefix_len = MT_LMDB_CR_HDR + region_len + niches_len;
    c->doc = p + c->prefix_len;
    c->doc_len = v->mv_size - c->prefix_len;

    return 0;
}

#endif /* MT_STORE_LMDB_H */

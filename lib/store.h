/*
 * The document store: assignments and creators behind one interface that
 * LMDB (the embedded default) and MongoDB both implement.  Calls block:
 * the module makes them on the event loop only for LMDB reads, and from
 * an nginx thread pool for everything else.  No backend types here.
 */

#ifndef MT_STORE_H
#define MT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"


typedef enum {
    MT_STORE_OK = 0,
    MT_STORE_NOT_FOUND,
    MT_STORE_CONFLICT,      /* version changed, or id exists already */
    MT_STORE_FULL,          /* LMDB map full: raise matcher_store size */
    MT_STORE_UNAVAILABLE,   /* the backend cannot be reached */
    MT_STORE_ERROR
} mt_store_rc_t;


/* A document as JSON text, malloc'd, NUL-terminated; free with free(). */
typedef struct {
    char                   *data;
    size_t                  len;
} mt_text_t;

void mt_texts_free(mt_text_t *texts, size_t n);   /* and the array */


typedef struct {
    const char             *user_id;
    size_t                  user_id_len;
    mt_sort_t               sort;
    int                     desc;
    size_t                  skip;
    size_t                  limit;
} mt_history_query_t;

typedef struct {
    const char             *region;     /* NULL: any; case-insensitive */
    const char             *niche;      /* NULL: any; case-insensitive */
    size_t                  skip;
    size_t                  limit;
} mt_creator_query_t;


/* One creator of an upsert batch, as mt_creator_validate described it. */
typedef struct {
    const mt_creator_meta_t *meta;
    const char             *doc;        /* the document to store */
    size_t                  doc_len;
} mt_creator_put_t;

/* What a stored creator looked like, for the ingest's change check. */
typedef struct {
    uint64_t                content_hash;
    uint64_t                text_hash;
} mt_creator_stamp_t;


/* One creator the vector indexer embedded (or failed to). */
typedef struct {
    const char             *unique_id;
    size_t                  unique_id_len;
    mt_embedding_info_t     info;
} mt_creator_embedded_t;


typedef struct mt_store_s  mt_store_t;

typedef struct {
    const char             *name;       /* "lmdb", "mongodb" */
    void (*close)(mt_store_t *s);
    mt_store_rc_t (*ping)(mt_store_t *s);

    /* expected_version 0: insert, the id must be new (else CONFLICT) */
    mt_store_rc_t (*assignment_put)(mt_store_t *s,
        const mt_assignment_meta_t *meta, const char *doc, size_t len,
        int64_t expected_version);
    mt_store_rc_t (*assignment_get)(mt_store_t *s, const char *id,
        mt_text_t *doc);
    /* *docs malloc'd (mt_texts_free); *total counts the user's all */
    mt_store_rc_t (*assignment_history)(mt_store_t *s,
        const mt_history_query_t *q, mt_text_t **docs, size_t *n,
        size_t *total);
    /* deletes at most max assignments created before before_ms */
    mt_store_rc_t (*assignment_purge)(mt_store_t *s, int64_t before_ms,
        size_t max, size_t *purged);

    /* stamp may be NULL; doc may be NULL to read only the stamp */
    mt_store_rc_t (*creator_get)(mt_store_t *s, const char *unique_id,
        size_t len, mt_text_t *doc, mt_creator_stamp_t *stamp);
    mt_store_rc_t (*creator_list)(mt_store_t *s,
        const mt_creator_query_t *q, mt_text_t **docs, size_t *n,
        size_t *total);
    mt_store_rc_t (*creator_count)(mt_store_t *s, size_t *n);
    /* all or nothing, in one transaction */
    mt_store_rc_t (*creator_put_batch)(mt_store_t *s,
        const mt_creator_put_t *items, size_t n);

    /*
     * every creator's id and document, in id order, for the index; the
     * pointers are valid during the call only; cb returns non-zero to stop
     */
    mt_store_rc_t (*creator_scan)(mt_store_t *s,
        int (*cb)(void *data, const char *unique_id, size_t id_len,
                  const char *doc, size_t doc_len), void *data);

    /*
     * Sets the embedding of each creator whose stored text hash is still
     * items[i].info.text_hash (a creator changed since it was embedded
     * keeps its pending state: a later refresh embeds the new text); one
     * transaction.  *updated counts the creators changed: not those
     * missing, changed since, or whose embedding was already so.
     */
    mt_store_rc_t (*creator_set_embedding)(mt_store_t *s,
        const mt_creator_embedded_t *items, size_t n, size_t *updated);

    /*
     * As creator_scan, less the creators the store knows to be embedded
     * ("ready" through creator_set_embedding) for their current text
     * with model and dims: those are skipped without their documents
     * being read, which is what makes the sync at every start cheap.
     * What it visits may still hold creators whose documents say ready
     * (embedded before the store kept track, or by an older module): the
     * caller checks each, and may tell the store with
     * creator_set_embedding.  NULL: the store cannot tell, and the caller
     * scans them all.
     */
    mt_store_rc_t (*creator_scan_pending)(mt_store_t *s, const char *model,
        unsigned dims,
        int (*cb)(void *data, const char *unique_id, size_t id_len,
                  const char *doc, size_t doc_len), void *data);
} mt_store_ops_t;

/*
 * Capabilities.  LOOP_READS: a read answers from memory or a local
 * mapping in microseconds and may run on the event loop (LMDB); without
 * it every read is made on a thread (MongoDB: a network round trip).
 * Writes always go to a thread.
 */
#define MT_STORE_LOOP_READS   0x01

struct mt_store_s {
    const mt_store_ops_t   *ops;
    unsigned                caps;       /* MT_STORE_* */
};


/*
 * Why the calling thread's last failed store call failed, for logs.  One
 * text a thread, as errno: the pool threads of a worker share one handle,
 * so a text kept in the handle would be written by one thread's failure
 * while another thread reads its own.  Valid until the thread's next
 * store call; a backend sets it with mt_store_set_error().
 */
const char *mt_store_error(const mt_store_t *s);
void mt_store_set_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));


/*
 * LMDB: one environment in the directory "path" (created if missing),
 * map_size bytes at most.  Every nginx worker opens its own handle after
 * fork; LMDB's lock file makes them safe together.  NULL on failure with
 * the reason in err.
 */
mt_store_t *mt_store_lmdb_open(const char *path, size_t map_size,
    char *err, size_t errlen);


/*
 * MongoDB (libmongoc): documents in the collections "assignments" and
 * "creators" of one database.  Opening parses the URI only; the first
 * call connects (a mongodb+srv:// URI resolves then), on a pool thread.
 * One handle per worker, used by any number of its threads at once: each
 * call takes a client of the handle's pool.  Writes are acknowledged with
 * the write concern given.  While MongoDB is unreachable, calls fail at
 * once with MT_STORE_UNAVAILABLE until libmongoc's monitor finds a
 * server again, so that a dead server costs one timeout, not one a call.
 */
typedef struct {
    const char             *uri;        /* mongodb:// or mongodb+srv:// */
    const char             *db;
    int32_t                 server_selection_timeout_ms;
    int32_t                 connect_timeout_ms;
    int32_t                 socket_timeout_ms;
    const char             *write_concern;  /* "majority" or a number */
    uint32_t                max_clients;    /* the threads that call */
    const char             *app_name;
} mt_store_mongo_conf_t;

mt_store_t *mt_store_mongo_open(const mt_store_mongo_conf_t *conf,
    char *err, size_t errlen);

/*
 * The indexes, idempotently, every one named: assignments by user and
 * time, a TTL on createdAt of ttl seconds (0: none; a changed ttl is set
 * with collMod), creators' unique uniqueId and the GET /creators filters.
 * Blocks.  MT_STORE_OK, or why not with mt_store_error().
 */
mt_store_rc_t mt_store_mongo_setup(mt_store_t *s, int64_t ttl);

/* the URI with its password masked, for logs and /health */
const char *mt_store_mongo_where(const mt_store_t *s);

#endif /* MT_STORE_H */

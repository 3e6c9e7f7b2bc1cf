/*
 * The MongoDB store's internals, shared by store_mongo*.c only.
 */

#ifndef MT_STORE_MONGO_INT_H
#define MT_STORE_MONGO_INT_H

#include <pthread.h>

#include <mongoc/mongoc.h>

#include "store.h"
#include "mongo_doc.h"


#define MT_MONGO_ASSIGNMENTS  "assignments"
#define MT_MONGO_CREATORS     "creators"
#define MT_MONGO_CAUSE_LEN    200
#define MT_MONGO_WHERE_LEN    256

typedef struct {
    mt_store_t              store;

    mongoc_uri_t           *uri;
    mongoc_client_pool_t   *pool;       /* made by the first call */
    mongoc_write_concern_t *wc;
    char                   *db;
    uint32_t                max_clients;
    char                    where[MT_MONGO_WHERE_LEN];   /* masked URI */

    pthread_mutex_t         lock;       /* guards the pool and the state */
    int                     down;       /* the last call found no server */
    char                    cause[MT_MONGO_CAUSE_LEN];
} mt_store_mongo_t;

/* A call's client and collection; mt_mongo_end() gives them back. */
typedef struct {
    mt_store_mongo_t       *s;
    mongoc_client_t        *client;
    mongoc_collection_t    *coll;
} mt_mongo_call_t;

mt_store_rc_t mt_mongo_begin(mt_store_mongo_t *s, const char *coll,
    mt_mongo_call_t *c);
/* rc: the call's outcome, for the state kept while MongoDB is down */
void mt_mongo_end(mt_mongo_call_t *c, mt_store_rc_t rc);

/* a failed call's code, its reason set with mt_store_set_error() */
mt_store_rc_t mt_mongo_fail(mt_mongo_call_t *c, const bson_error_t *e,
    const char *what);
mt_store_rc_t mt_mongo_failf(mt_store_rc_t rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* the options of a write: the write concern */
void mt_mongo_write_opts(mt_store_mongo_t *s, bson_t *opts);

/* a document as malloc'd JSON text into out; MT_STORE_OK or ERROR */
mt_store_rc_t mt_mongo_text(const bson_t *doc, unsigned flags,
    mt_text_t *out);

/* each document of the cursor as JSON text; the array malloc'd */
mt_store_rc_t mt_mongo_texts(mt_mongo_call_t *c, mongoc_cursor_t *cur,
    unsigned flags, size_t limit, mt_text_t **docs, size_t *n);

/* an unordered bulk write of the call's collection */
mongoc_bulk_operation_t *mt_mongo_bulk(mt_mongo_call_t *c);

/* *total matched, and the page [skip, skip + limit) in sort's order */
mt_store_rc_t mt_mongo_page(mt_mongo_call_t *c, const bson_t *filter,
    const bson_t *sort, size_t skip, size_t limit, unsigned flags,
    mt_text_t **docs, size_t *n, size_t *total);

/* the documents filter matches; MT_STORE_OK or why not */
mt_store_rc_t mt_mongo_count(mt_mongo_call_t *c, const bson_t *filter,
    size_t *n);

/* the member "key" of a document as int64 (int32, int64, double) */
int64_t mt_mongo_get_int(const bson_t *doc, const char *dotkey);


/* store_mongo_assign.c, store_mongo_creators.c */
mt_store_rc_t mt_mongo_assignment_put(mt_store_t *st,
    const mt_assignment_meta_t *meta, const char *doc, size_t len,
    int64_t expected_version);
mt_store_rc_t mt_mongo_assignment_get(mt_store_t *st, const char *id,
    mt_text_t *doc);
mt_store_rc_t mt_mongo_assignment_history(mt_store_t *st,
    const mt_history_query_t *q, mt_text_t **docs, size_t *n,
    size_t *total);
mt_store_rc_t mt_mongo_assignment_purge(mt_store_t *st, int64_t before_ms,
    size_t max, size_t *purged);

mt_store_rc_t mt_mongo_creator_get(mt_store_t *st, const char *unique_id,
    size_t len, mt_text_t *doc, mt_creator_stamp_t *stamp);
mt_store_rc_t mt_mongo_creator_list(mt_store_t *st,
    const mt_creator_query_t *q, mt_text_t **docs, size_t *n,
    size_t *total);
mt_store_rc_t mt_mongo_creator_count(mt_store_t *st, size_t *n);
mt_store_rc_t mt_mongo_creator_put_batch(mt_store_t *st,
    const mt_creator_put_t *items, size_t n);
mt_store_rc_t mt_mongo_creator_scan(mt_store_t *st,
    int (*cb)(void *data, const char *unique_id, size_t id_len,
              const char *doc, size_t doc_len), void *data);
mt_store_rc_t mt_mongo_creator_set_embedding(mt_store_t *st,
    const mt_creator_embedded_t *items, size_t n, size_t *updated);

#endif /* MT_STORE_MONGO_INT_H */

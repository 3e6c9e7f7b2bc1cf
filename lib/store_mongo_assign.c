/*
 * Assignments in MongoDB: one document each in "assignments", its _id
 * the contract's id as an ObjectId, createdAt a date (the TTL index reads
 * it), and "_matcher.topicKey" the topic as the history sorts it.  Every
 * value from a client goes into a filter as a BSON value, never as JSON
 * text or a field name: a userId of {"$gt": ""} is a string to compare.
 */

#include <stdlib.h>
#include <string.h>

#include "store_mongo_int.h"


static mt_store_rc_t mt_mongo_asg_bson(const mt_assignment_meta_t *meta,
    const char *doc, size_t len, bson_t *out);
static mt_store_rc_t mt_mongo_asg_exists(mt_mongo_call_t *c,
    const bson_oid_t *oid, int *exists);
static int mt_mongo_oid(const char *id, size_t len, bson_oid_t *oid);


/* the 24 hex digits of an id, any case; -1 for anything else */
static int
mt_mongo_oid(const char *id, size_t len, bson_oid_t *oid)
{
    char  norm[MT_OID_LEN + 1];

    if (mt_oid_normalize(id, len, norm) != 0) {
        return -1;
    }

    bson_oid_init_from_string(oid, norm);
    return 0;
}


static mt_store_rc_t
mt_mongo_asg_bson(const mt_assignment_meta_t *meta, const char *doc,
    size_t len, bson_t *out)
{
    char            err[128];
    bson_t          priv;
    mt_json_doc_t  *json;
    mt_json_err_t   jerr;

    json = mt_json_parse(doc, len, NULL, &jerr, NULL, 0);
    if (json == NULL) {
        return mt_mongo_failf(MT_STORE_ERROR, "assignment %s is not JSON",
                              meta->id);
    }

    bson_init(out);

    if (mt_mdoc_from_json(mt_json_root(json), MT_MDOC_OID_ID, out, err,
                          sizeof(err))
        != 0)
    {
        mt_json_free(json);
        bson_destroy(out);
        return mt_mongo_failf(MT_STORE_ERROR, "assignment %s: %s", meta->id,
                              err);
    }

    mt_json_free(json);

    BSON_APPEND_DOCUMENT_BEGIN(out, MT_MDOC_PRIVATE, &priv);
    bson_append_utf8(&priv, "topicKey", -1, meta->topic_key,
                     (int) meta->topic_key_len);
    bson_append_document_end(out, &priv);

    return MT_STORE_OK;
}


/*
 * A new assignment is an insert (a duplicate _id: CONFLICT); a PATCH is
 * one conditional replace on {_id, version}, so that of two PATCHes of
 * one version exactly one wins, without a read-modify-write race.
 */
mt_store_rc_t
mt_mongo_assignment_put(mt_store_t *st, const mt_assignment_meta_t *meta,
    const char *doc, size_t len, int64_t expected_version)
{
    int              exists = 0;
    bson_t           d, filter, opts, reply;
    bson_oid_t       oid;
    bson_error_t     e;
    mt_store_rc_t    rc;
    mt_mongo_call_t  c;

    if (mt_mongo_oid(meta->id, strlen(meta->id), &oid) != 0) {
        return mt_mongo_failf(MT_STORE_ERROR, "invalid assignment id");
    }

    rc = mt_mongo_asg_bson(meta, doc, len, &d);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    rc = mt_mongo_begin((mt_store_mongo_t *) st, MT_MONGO_ASSIGNMENTS, &c);
    if (rc != MT_STORE_OK) {
        bson_destroy(&d);
        return rc;
    }

    bson_init(&opts);
    mt_mongo_write_opts(c.s, &opts);

    if (expected_version == 0) {
        if (!mongoc_collection_insert_one(c.coll, &d, &opts, NULL, &e)) {
            rc = mt_mongo_fail(&c, &e, "inserting an assignment");

            if (rc == MT_STORE_CONFLICT) {
                rc = mt_mongo_failf(MT_STORE_CONFLICT, "assignment %s exists",
                                    meta->id);
            }
        }

        goto done;
    }

    bson_init(&filter);
    BSON_APPEND_OID(&filter, "_id", &oid);
    BSON_APPEND_INT64(&filter, "version", expected_version);

    if (!mongoc_collection_replace_one(c.coll, &filter, &d, &opts, &reply,
                                       &e))
    {
        rc = mt_mongo_fail(&c, &e, "replacing an assignment");

    } else if (mt_mongo_get_int(&reply, "matchedCount") == 0) {
        /* not this version, or gone: a read tells the client which */
        rc = mt_mongo_asg_exists(&c, &oid, &exists);

        if (rc == MT_STORE_OK) {
            rc = exists
                 ? mt_mongo_failf(MT_STORE_CONFLICT, "assignment %s is not "
                                  "at version %lld", meta->id,
                                  (long long) expected_version)
                 : mt_mongo_failf(MT_STORE_NOT_FOUND, "no assignment %s",
                                  meta->id);
        }
    }

    bson_destroy(&reply);
    bson_destroy(&filter);

done:

    bson_destroy(&opts);
    bson_destroy(&d);
    mt_mongo_end(&c, rc);

    return rc;
}


static mt_store_rc_t
mt_mongo_asg_exists(mt_mongo_call_t *c, const bson_oid_t *oid, int *exists)
{
    bson_t        filter;
    int64_t       n;
    bson_error_t  e;

    bson_init(&filter);
    BSON_APPEND_OID(&filter, "_id", oid);

    n = mongoc_collection_count_documents(c->coll, &filter, NULL, NULL, NULL,
                                          &e);
    bson_destroy(&filter);

    if (n < 0) {
        return mt_mongo_fail(c, &e, "reading an assignment");
    }

    *exists = (n > 0);
    return MT_STORE_OK;
}


mt_store_rc_t
mt_mongo_assignment_get(mt_store_t *st, const char *id, mt_text_t *doc)
{
    bson_t            filter, opts;
    bson_oid_t        oid;
    bson_error_t      e;
    const bson_t     *found;
    mt_store_rc_t     rc;
    mt_mongo_call_t   c;
    mongoc_cursor_t  *cur;

    doc->data = NULL;
    doc->len = 0;

    if (mt_mongo_oid(id, strlen(id), &oid) != 0) {
        return mt_mongo_failf(MT_STORE_NOT_FOUND, "invalid assignment id");
    }

    rc = mt_mongo_begin((mt_store_mongo_t *) st, MT_MONGO_ASSIGNMENTS, &c);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    bson_init(&filter);
    BSON_APPEND_OID(&filter, "_id", &oid);
    bson_init(&opts);
    BSON_APPEND_INT64(&opts, "limit", 1);

    cur = mongoc_collection_find_with_opts(c.coll, &filter, &opts, NULL);

    if (mongoc_cursor_next(cur, &found)) {
        rc = mt_mongo_text(found, MT_MDOC_OID_ID, doc);

    } else if (mongoc_cursor_error(cur, &e)) {
        rc = mt_mongo_fail(&c, &e, "reading an assignment");

    } else {
        rc = mt_mongo_failf(MT_STORE_NOT_FOUND, "no assignment %s", id);
    }

    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    bson_destroy(&filter);
    mt_mongo_end(&c, rc);

    return rc;
}


/*
 * A page of a user's history: the server sorts, skips and limits on the
 * {userId, createdAt} index; ties by _id, as on LMDB, so that pages
 * never overlap.
 */
mt_store_rc_t
mt_mongo_assignment_history(mt_store_t *st, const mt_history_query_t *q,
    mt_text_t **docs, size_t *n, size_t *total)
{
    int                dir;
    bson_t             filter, sort;
    const char        *field;
    mt_store_rc_t      rc;
    mt_mongo_call_t    c;

    *docs = NULL;
    *n = 0;
    *total = 0;

    switch (q->sort) {
    case MT_SORT_CREATED_AT:
        field = "createdAt";
        break;
    case MT_SORT_UPDATED_AT:
        field = "updatedAt";
        break;
    case MT_SORT_TOPIC:
        field = MT_MDOC_PRIVATE ".topicKey";
        break;
    case MT_SORT_STATUS:
        field = "status";
        break;
    default:
        return mt_mongo_failf(MT_STORE_ERROR, "unknown sort %d",
                              (int) q->sort);
    }

    /* as on LMDB: no assignment has these */
    if (q->user_id_len == 0 || q->user_id_len > MT_USER_ID_MAX
        || memchr(q->user_id, '\0', q->user_id_len) != NULL)
    {
        return MT_STORE_OK;
    }

    rc = mt_mongo_begin((mt_store_mongo_t *) st, MT_MONGO_ASSIGNMENTS, &c);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    bson_init(&filter);
    bson_append_utf8(&filter, "userId", -1, q->user_id,
                     (int) q->user_id_len);

    dir = q->desc ? -1 : 1;

    bson_init(&sort);
    BSON_APPEND_INT32(&sort, field, dir);
    BSON_APPEND_INT32(&sort, "_id", dir);

    rc = mt_mongo_page(&c, &filter, &sort, q->skip, q->limit, MT_MDOC_OID_ID,
                       docs, n, total);

    bson_destroy(&sort);
    bson_destroy(&filter);
    mt_mongo_end(&c, rc);

    return rc;
}


/*
 * At most max assignments created before before_ms.  The TTL index does
 * the same on the server, within a minute of the TTL; this keeps
 * matcher_assignment_ttl exact to the purge interval, as on LMDB.
 */
mt_store_rc_t
mt_mongo_assignment_purge(mt_store_t *st, int64_t before_ms, size_t max,
    size_t *purged)
{
    char              key[16];
    size_t            k;
    const char       *kp;
    bson_t            filter, opts, lt, proj, del, in, reply;
    bson_iter_t       it;
    bson_error_t      e;
    const bson_t     *found;
    mt_store_rc_t     rc;
    mt_mongo_call_t   c;
    mongoc_cursor_t  *cur;

    *purged = 0;

    rc = mt_mongo_begin((mt_store_mongo_t *) st, MT_MONGO_ASSIGNMENTS, &c);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    bson_init(&filter);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "createdAt", &lt);
    BSON_APPEND_DATE_TIME(&lt, "$lt", before_ms);
    bson_append_document_end(&filter, &lt);

    bson_init(&opts);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "_id", 1);
    bson_append_document_end(&opts, &proj);
    BSON_APPEND_INT64(&opts, "limit", (int64_t) max);

    bson_init(&del);
    BSON_APPEND_DOCUMENT_BEGIN(&del, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &lt);

    cur = mongoc_collection_find_with_opts(c.coll, &filter, &opts, NULL);
    k = 0;

    while (mongoc_cursor_next(cur, &found)) {
        if (bson_iter_init_find(&it, found, "_id")) {
            (void) bson_uint32_to_string((uint32_t) k++, &kp, key,
                                         sizeof(key));
            bson_append_value(&lt, kp, -1, bson_iter_value(&it));
        }
    }

    bson_append_array_end(&in, &lt);
    bson_append_document_end(&del, &in);

    if (mongoc_cursor_error(cur, &e)) {
        rc = mt_mongo_fail(&c, &e, "finding old assignments");

    } else if (k > 0) {
        bson_destroy(&opts);
        bson_init(&opts);
        mt_mongo_write_opts(c.s, &opts);

        if (!mongoc_collection_delete_many(c.coll, &del, &opts, &reply, &e)) {
            rc = mt_mongo_fail(&c, &e, "deleting old assignments");

        } else {
            *purged = (size_t) mt_mongo_get_int(&reply, "deletedCount");
        }

        bson_destroy(&reply);
    }

    mongoc_cursor_destroy(cur);
    bson_destroy(&del);
    bson_destroy(&opts);
    bson_destroy(&filter);
    mt_mongo_end(&c, rc);

    return rc;
}

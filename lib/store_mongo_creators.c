/*
 * Creators in MongoDB: one document each in "creators", unique by
 * uniqueId, with the store's own fields in "_matcher": the region in
 * uppercase and the niches in lowercase (ASCII, as LMDB keeps them: the
 * filters of GET /creators are case-insensitive and use an index), and
 * the content and text hashes of the ingest's change check.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_mongo_int.h"


static mt_store_rc_t mt_mongo_cr_bson(const mt_creator_put_t *item,
    bson_t *out);
static void mt_mongo_ascii_case(char *dst, const char *src, size_t len,
    int upper);
static const char *mt_mongo_uid(const bson_t *doc, size_t *len);


/* the uniqueId filter: the id is a value, whatever characters it has */
static void
mt_mongo_by_uid(bson_t *filter, const char *unique_id, size_t len)
{
    bson_init(filter);
    bson_append_utf8(filter, "uniqueId", -1, unique_id, (int) len);
}


mt_store_rc_t
mt_mongo_creator_get(mt_store_t *st, const char *unique_id, size_t len,
    mt_text_t *doc, mt_creator_stamp_t *stamp)
{
    bson_t            filter, opts, proj;
    bson_error_t      e;
    const bson_t     *found;
    mt_store_rc_t     rc;
    mt_mongo_call_t   c;
    mongoc_cursor_t  *cur;

    if (doc) {
        doc->data = NULL;
        doc->len = 0;
    }

    if (len == 0 || len > MT_UNIQUE_ID_MAX || memchr(unique_id, 0, len)) {
        return mt_mongo_failf(MT_STORE_NOT_FOUND, "no creator");
    }

    rc = mt_mongo_begin((mt_store_mongo_t *) st, MT_MONGO_CREATORS, &c);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    mt_mongo_by_uid(&filter, unique_id, len);
    bson_init(&opts);
    BSON_APPEND_INT64(&opts, "limit", 1);

    /* the change check of an ingest needs the hashes only */
    if (doc == NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
        BSON_APPEND_INT32(&proj, MT_MDOC_PRIVATE, 1);
        bson_append_document_end(&opts, &proj);
    }

    cur = mongoc_collection_find_with_opts(c.coll, &filter, &opts, NULL);

    if (mongoc_cursor_next(cur, &found)) {
        if (stamp) {
            stamp->content_hash = (uint64_t) mt_mongo_get_int(found,
                                      MT_MDOC_PRIVATE ".contentHash");
            stamp->text_hash = (uint64_t) mt_mongo_get_int(found,
                                   MT_MDOC_PRIVATE ".textHash");
        }

        if (doc) {
            rc = mt_mongo_text(found, 0, doc);
        }

    } else if (mongoc_cursor_error(cur, &e)) {
        rc = mt_mongo_fail(&c, &e, "reading a creator");

    } else {
        rc = mt_mongo_failf(MT_STORE_NOT_FOUND, "no creator");
    }

    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    bson_destroy(&filter);
    mt_mongo_end(&c, rc);

    return rc;
}


/* a page in uniqueId order, on the region or niche index if filtered */
mt_store_rc_t
mt_mongo_creator_list(mt_store_t *st, const mt_creator_query_t *q,
    mt_text_t **docs, size_t *n, size_t *total)
{
    char             *niche;
    size_t            len;
    bson_t            filter, sort;
    mt_store_rc_t     rc;
    mt_mongo_call_t   c;
    char              region[MT_REGION_MAX];

    *docs = NULL;
    *n = 0;
    *total = 0;

    bson_init(&filter);
    niche = NULL;

    if (q->region) {
        len = strlen(q->region);

        /* longer than any stored region: nothing matches */
        if (len > MT_REGION_MAX) {
            bson_destroy(&filter);
            return MT_STORE_OK;
        }

        mt_mongo_ascii_case(region, q->region, len, 1);
        bson_append_utf8(&filter, MT_MDOC_PRIVATE ".region", -1, region,
                         (int) len);
    }

    if (q->niche) {
        len = strlen(q->niche);

        niche = malloc(len + 1);
        if (niche == NULL) {
            bson_destroy(&filter);
            return mt_mongo_failf(MT_STORE_ERROR, "out of memory");
        }

        mt_mongo_ascii_case(niche, q->niche, len, 0);
        bson_append_utf8(&filter, MT_MDOC_PRIVATE ".niches", -1, niche,
                         (int) len);
        free(niche);
    }

    rc = mt_mongo_begin((mt_store_mongo_t *) st, MT_MONGO_CREATORS, &c);
    if (rc != MT_STORE_OK) {
        bson_destroy(&filter);
        return rc;
    }

    bson_init(&sort);
    BSON_APPEND_INT32(&sort, "uniqueId", 1);

    rc = mt_mongo_page(&c, &filter, &sort, q->skip, q->limit, 0, docs, n,
                       total);

    bson_destroy(&sort);
    bson_destroy(&filter);
    mt_mongo_end(&c, rc);

    return rc;
}


mt_store_rc_t
mt_mongo_creator_count(mt_store_t *st, size_t *n)
{
    int64_t           count;
    bson_error_t      e;
    mt_store_rc_t     rc;
    mt_mongo_call_t   c;

    *n = 0;

    rc = mt_mongo_begin((mt_store_mongo_t *) st, MT_MONGO_CREATORS, &c);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    /* the collection's own count: no scan of a million documents */
    count = mongoc_collection_estimated_document_count(c.coll, NULL, NULL,
                                                       NULL, &e);
    if (count < 0) {
        rc = mt_mongo_fail(&c, &e, "counting creators");

    } else {
        *n = (size_t) count;
    }

    mt_mongo_end(&c, rc);

    return rc;
}


static void
mt_mongo_ascii_case(char *dst, const char *src, size_t len, int upper)
{
    size_t  i;
    char    c;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (upper && c >= 'a' && c <= 'z') {
            c = (char) (c - 'a' + 'A');

        } else if (!upper && c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');
        }

        dst[i] = c;
    }
}


static mt_store_rc_t
mt_mongo_cr_bson(const mt_creator_put_t *item, bson_t *out)
{
    char                      key[16], err[128];
    const char               *k;
    size_t                    i, off, len;
    bson_t                    priv, niches;
    mt_json_doc_t            *json;
    mt_json_err_t             jerr;
    const mt_creator_meta_t  *m = item->meta;
    char                      region[MT_REGION_MAX];

    json = mt_json_parse(item->doc, item->doc_len, NULL, &jerr, NULL, 0);
    if (json == NULL) {
        return mt_mongo_failf(MT_STORE_ERROR, "creator %s is not JSON",
                              m->unique_id);
    }

    bson_init(out);

    if (mt_mdoc_from_json(mt_json_root(json), 0, out, err, sizeof(err)) != 0) {
        mt_json_free(json);
        bson_destroy(out);
        return mt_mongo_failf(MT_STORE_ERROR, "creator %s: %s", m->unique_id,
                              err);
    }

    mt_json_free(json);

    len = strlen(m->region);
    mt_mongo_ascii_case(region, m->region, len, 1);

    BSON_APPEND_DOCUMENT_BEGIN(out, MT_MDOC_PRIVATE, &priv);
    bson_append_utf8(&priv, "region", -1, region, (int) len);
    BSON_APPEND_ARRAY_BEGIN(&priv, "niches", &niches);

    for (i = 0, off = 0; i < m->nniches && off < m->niches_len; i++) {
        len = strlen(m->niches + off);
        (void) bson_uint32_to_string((uint32_t) i, &k, key, sizeof(key));
        bson_append_utf8(&niches, k, -1, m->niches + off, (int) len);
        off += len + 1;
    }

    bson_append_array_end(&priv, &niches);
    BSON_APPEND_INT64(&priv, "contentHash", (int64_t) m->content_hash);
    BSON_APPEND_INT64(&priv, "textHash", (int64_t) m->text_hash);
    bson_append_document_end(out, &priv);

    return MT_STORE_OK;
}


/*
 * One unordered bulk write of upserts by uniqueId; libmongoc splits it
 * into messages within the server's maxWriteBatchSize (100,000) and
 * maxMessageSizeBytes (48 MB).  Unlike LMDB's one transaction, a failure
 * may leave part of the batch applied, each creator whole: an ingest is
 * idempotent, so sending it again completes it.
 */
mt_store_rc_t
mt_mongo_creator_put_batch(mt_store_t *st, const mt_creator_put_t *items,
    size_t n)
{
    size_t                      i;
    bson_t                      upsert, filter, d, reply;
    bson_error_t                e;
    mt_store_rc_t               rc;
    mt_mongo_call_t             c;
    mongoc_bulk_operation_t    *bulk;

    if (n == 0) {
        return MT_STORE_OK;
    }

    rc = mt_mongo_begin((mt_store_mongo_t *) st, MT_MONGO_CREATORS, &c);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    bulk = mt_mongo_bulk(&c);

    bson_init(&upsert);
    BSON_APPEND_BOOL(&upsert, "upsert", true);

    for (i = 0; i < n; i++) {
        rc = mt_mongo_cr_bson(&items[i], &d);
        if (rc != MT_STORE_OK) {
            break;
        }

        mt_mongo_by_uid(&filter, items[i].meta->unique_id,
                        items[i].meta->unique_id_len);

        if (!mongoc_bulk_operation_replace_one_with_opts(bulk, &filter, &d,
                                                          &upsert, &e))
        {
            rc = mt_mongo_fail(&c, &e, "writing creators");
        }

        bson_destroy(&filter);
        bson_destroy(&d);

        if (rc != MT_STORE_OK) {
            break;
        }
    }

    if (rc == MT_STORE_OK) {
        if (mongoc_bulk_operation_execute(bulk, &reply, &e) == 0) {
            rc = mt_mongo_fail(&c, &e, "writing creators");
        }

        bson_destroy(&reply);
    }

    bson_destroy(&upsert);
    mongoc_bulk_operation_destroy(bulk);
    mt_mongo_end(&c, rc);

    return rc;
}


static const char *
mt_mongo_uid(const bson_t *doc, size_t *len)
{
    uint32_t     n;
    const char  *s;
    bson_iter_t  it;

    if (!bson_iter_init_find(&it, doc, "uniqueId")
        || !BSON_ITER_HOLDS_UTF8(&it))
    {
        return NULL;
    }

    s = bson_iter_utf8(&it, &n);
    *len = n;

    return s;
}


mt_store_rc_t
mt_mongo_creator_scan(mt_store_t *st,
    int (*cb)(void *data, const char *unique_id, size_t id_len,
              const char *doc, size_t doc_len), void *data)
{
    int               stop;
    size_t            len;
    bson_t            filter, opts, sort;
    mt_text_t         text;
    const char       *uid;
    bson_error_t      e;
    const bson_t     *found;
    mt_store_rc_t     rc;
    mt_mongo_call_t   c;
    mongoc_cursor_t  *cur;

    rc = mt_mongo_begin((mt_store_mongo_t *) st, MT_MONGO_CREATORS, &c);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    bson_init(&filter);
    bson_init(&opts);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "uniqueId", 1);
    bson_append_document_end(&opts, &sort);

    cur = mongoc_collection_find_with_opts(c.coll, &filter, &opts, NULL);
    stop = 0;

    while (!stop && mongoc_cursor_next(cur, &found)) {
        uid = mt_mongo_uid(found, &len);

        /* a document some other tool wrote without one: not a creator */
        if (uid == NULL) {
            continue;
        }

        rc = mt_mongo_text(found, 0, &text);
        if (rc != MT_STORE_OK) {
            break;
        }

        stop = cb(data, uid, len, text.data, text.len);
        free(text.data);
    }

    if (rc == MT_STORE_OK && !stop && mongoc_cursor_error(cur, &e)) {
        rc = mt_mongo_fail(&c, &e, "reading creators");
    }

    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    bson_destroy(&filter);
    mt_mongo_end(&c, rc);

    return rc;
}


/*
 * One unordered bulk of conditional updates: a creator's embedding is
 * set only while its text is the one embedded ("_matcher.textHash"), and
 * only when it changes, so that nModified counts what LMDB's "updated"
 * counts.  $set on "embedding" keeps the member where it was.
 */
mt_store_rc_t
mt_mongo_creator_set_embedding(mt_store_t *st,
    const mt_creator_embedded_t *items, size_t n, size_t *updated)
{
    char                       hex[17];
    size_t                     i;
    bson_t                     filter, or, alt, ne, u, set, emb, reply;
    bson_error_t               e;
    mt_store_rc_t              rc;
    mt_mongo_call_t            c;
    mongoc_bulk_operation_t   *bulk;
    const mt_embedding_info_t *info;

    *updated = 0;

    if (n == 0) {
        return MT_STORE_OK;
    }

    rc = mt_mongo_begin((mt_store_mongo_t *) st, MT_MONGO_CREATORS, &c);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    bulk = mt_mongo_bulk(&c);

    for (i = 0; i < n && rc == MT_STORE_OK; i++) {
        info = &items[i].info;
        (void) snprintf(hex, sizeof(hex), "%016" PRIx64, info->text_hash);

        mt_mongo_by_uid(&filter, items[i].unique_id, items[i].unique_id_len);
        BSON_APPEND_INT64(&filter, MT_MDOC_PRIVATE ".textHash",
                          (int64_t) info->text_hash);

        BSON_APPEND_ARRAY_BEGIN(&filter, "$or", &or);

#define mt_mongo_ne(idx, field, append)                                     \
        BSON_APPEND_DOCUMENT_BEGIN(&or, idx, &alt);                         \
        BSON_APPEND_DOCUMENT_BEGIN(&alt, field, &ne);                       \
        append;                                                             \
        bson_append_document_end(&alt, &ne);                                \
        bson_append_document_end(&or, &alt)

        mt_mongo_ne("0", "embedding.status",
                    BSON_APPEND_UTF8(&ne, "$ne", info->status));
        mt_mongo_ne("1", "embedding.model",
                    info->model ? BSON_APPEND_UTF8(&ne, "$ne", info->model)
                                : BSON_APPEND_NULL(&ne, "$ne"));
        mt_mongo_ne("2", "embedding.dimensions",
                    BSON_APPEND_INT64(&ne, "$ne", info->dimensions));
        mt_mongo_ne("3", "embedding.textHash",
                    BSON_APPEND_UTF8(&ne, "$ne", hex));
#undef mt_mongo_ne

        bson_append_array_end(&filter, &or);

        /* as mt_creator_set_embedding() writes it */
        bson_init(&u);
        BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
        BSON_APPEND_DOCUMENT_BEGIN(&set, "embedding", &emb);

        if (info->model) {
            BSON_APPEND_UTF8(&emb, "model", info->model);

        } else {
            BSON_APPEND_NULL(&emb, "model");
        }

        BSON_APPEND_INT32(&emb, "dimensions", (int32_t) info->dimensions);
        BSON_APPEND_UTF8(&emb, "textHash", hex);
        BSON_APPEND_DATE_TIME(&emb, "updatedAt", info->updated_at_ms);
        BSON_APPEND_UTF8(&emb, "status", info->status);
        bson_append_document_end(&set, &emb);
        bson_append_document_end(&u, &set);

        if (!mongoc_bulk_operation_update_one_with_opts(bulk, &filter, &u,
                                                         NULL, &e))
        {
            rc = mt_mongo_fail(&c, &e, "setting embeddings");
        }

        bson_destroy(&u);
        bson_destroy(&filter);
    }

    if (rc == MT_STORE_OK) {
        if (mongoc_bulk_operation_execute(bulk, &reply, &e) == 0) {
            rc = mt_mongo_fail(&c, &e, "setting embeddings");

        } else {
            *updated = (size_t) mt_mongo_get_int(&reply, "nModified");
        }

        bson_destroy(&reply);
    }

    mongoc_bulk_operation_destroy(bulk);
    mt_mongo_end(&c, rc);

    return rc;
}

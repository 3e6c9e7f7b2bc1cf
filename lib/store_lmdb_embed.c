/*
 * The LMDB backend's creator embeddings: the vector indexer's results,
 * written into the stored creator documents.
 *
 * Only the document part of a record changes.  The embedding is
 * server-managed: it counts in neither the content hash nor the text
 * hash, and the region and niches stay, so the record keeps its prefix
 * (store_lmdb.h, mt_lmdb_cr_rec) and the indexes stay as they are.
 */

#include <stdlib.h>
#include <string.h>

#include "store_lmdb.h"


typedef struct {
    const mt_creator_embedded_t *items;
    size_t                  n;
    size_t                  updated;
} mt_lmdb_emb_batch_t;

/* a copy of a record's prefix, kept while the txn writes */
typedef struct {
    unsigned char          *data;
    size_t                  cap;
} mt_lmdb_emb_buf_t;


static mt_store_rc_t mt_lmdb_emb_batch_op(mt_store_lmdb_t *s, MDB_txn *txn,
    void *arg);
static mt_store_rc_t mt_lmdb_emb_one(mt_store_lmdb_t *s, MDB_txn *txn,
    const mt_creator_embedded_t *it, mt_lmdb_emb_buf_t *buf, int *changed);
static mt_store_rc_t mt_lmdb_emb_put(mt_store_lmdb_t *s, MDB_txn *txn,
    MDB_val *k, const MDB_val *old, const mt_lmdb_cr_rec_t *c,
    const char *doc, size_t doc_len, mt_lmdb_emb_buf_t *buf);


mt_store_rc_t
mt_lmdb_creator_set_embedding(mt_store_t *st,
    const mt_creator_embedded_t *items, size_t n, size_t *updated)
{
    size_t                        i;
    mt_store_rc_t                 rc;
    mt_store_lmdb_t              *s;
    mt_lmdb_emb_batch_t           b;
    const mt_embedding_info_t    *e;

    s = (mt_store_lmdb_t *) st;

    if (updated != NULL) {
        *updated = 0;
    }

    if (items == NULL && n > 0) {
        return mt_lmdb_failf(s, MT_STORE_ERROR, "no embeddings");
    }

    /*
     * All checks first: a bad item must not cost a txn, and it fails the
     * batch even when its creator would have been skipped.  The statuses
     * are mt_creator_set_embedding's.
     */
    for (i = 0; i < n; i++) {
        e = &items[i].info;

        if ((items[i].unique_id == NULL && items[i].unique_id_len > 0)
            || e->status == NULL
            || (strcmp(e->status, "ready") != 0
                && strcmp(e->status, "failed") != 0))
        {
            return mt_lmdb_failf(s, MT_STORE_ERROR, "invalid embedding #%zu",
                                 i);
        }
    }

    if (n == 0) {
        return MT_STORE_OK;
    }

    b.items = items;
    b.n = n;
    b.updated = 0;

    rc = mt_lmdb_write(s, mt_lmdb_emb_batch_op, &b);

    if (rc == MT_STORE_OK && updated != NULL) {
        *updated = b.updated;
    }

    return rc;
}


/* all or nothing: a failure aborts the txn, the group's child txn */
static mt_store_rc_t
mt_lmdb_emb_batch_op(mt_store_lmdb_t *s, MDB_txn *txn, void *arg)
{
    int                   changed;
    size_t                i;
    mt_store_rc_t         rc;
    mt_lmdb_emb_buf_t     buf;
    mt_lmdb_emb_batch_t  *b;

    b = arg;

    /* a retry runs the whole batch again, in a new txn */
    b->updated = 0;

    buf.data = NULL;
    buf.cap = 0;
    rc = MT_STORE_OK;

    for (i = 0; i < b->n && rc == MT_STORE_OK; i++) {
        changed = 0;
        rc = mt_lmdb_emb_one(s, txn, &b->items[i], &buf, &changed);

        if (changed) {
            b->updated++;
        }
    }

    free(buf.data);

    return rc;
}


/*
 * Sets *changed when the creator's document was rewritten; a creator
 * missing, re-ingested with another text since, or already so is left.
 */
static mt_store_rc_t
mt_lmdb_emb_one(mt_store_lmdb_t *s, MDB_txn *txn,
    const mt_creator_embedded_t *it, mt_lmdb_emb_buf_t *buf, int *changed)
{
    int                r, rc;
    char              *doc;
    size_t             doc_len;
    MDB_val            k, v;
    mt_jw_t            w;
    mt_json_err_t      err;
    mt_store_rc_t      src;
    mt_json_doc_t     *d;
    mt_lmdb_cr_rec_t   c;

    /* an id no creator can have: mdb_get() would reject the key */
    if (it->unique_id_len == 0 || it->unique_id_len > MT_UNIQUE_ID_MAX) {
        return MT_STORE_OK;
    }

    k.mv_data = (void *) it->unique_id;
    k.mv_size = it->unique_id_len;

    r = mdb_get(txn, s->e->cr, &k, &v);

    if (r == MDB_NOTFOUND) {
        return MT_STORE_OK;
    }

    if (r != 0) {
        return mt_lmdb_fail(s, "mdb_get", r);
    }

    if (mt_lmdb_cr_rec(&v, &c) != 0) {
        return mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt creator %.*s",
                             (int) it->unique_id_len, it->unique_id);
    }

    if (c.text_hash != it->info.text_hash) {
        return MT_STORE_OK;
    }

    d = mt_json_parse_stored((const char *) c.doc, c.doc_len, &err);
    if (d == NULL) {
        if (err == MT_JSON_ENOMEM) {
            return mt_lmdb_failf(s, MT_STORE_ERROR, "out of memory");
        }

        return mt_lmdb_failf(s, MT_STORE_ERROR, "unreadable creator %.*s",
                             (int) it->unique_id_len, it->unique_id);
    }

    /* no write at all, when nothing would change but updatedAt */
    if (mt_creator_embedding_is(mt_json_root(d), &it->info)) {
        mt_json_free(d);
        return MT_STORE_OK;
    }

    mt_jw_init(&w);
    rc = mt_creator_set_embedding(mt_json_root(d), &it->info, &w);
    mt_json_free(d);

    doc = mt_jw_take(&w, &doc_len);

    if (rc != 0 || doc == NULL) {
        free(doc);
        return mt_lmdb_failf(s, MT_STORE_ERROR, "cannot write creator %.*s",
                             (int) it->unique_id_len, it->unique_id);
    }

    src = mt_lmdb_emb_put(s, txn, &k, &v, &c, doc, doc_len, buf);
    free(doc);

    if (src == MT_STORE_OK) {
        *changed = 1;
    }

    return src;
}


/* the record again, with the old prefix and the new document */
static mt_store_rc_t
mt_lmdb_emb_put(mt_store_lmdb_t *s, MDB_txn *txn, MDB_val *k,
    const MDB_val *old, const mt_lmdb_cr_rec_t *c, const char *doc,
    size_t doc_len, mt_lmdb_emb_buf_t *buf)
{
    int             r;
    MDB_val         v;
    unsigned char  *p;

    /* copied: the put below may move or reuse the page old points into */
    if (buf->data == NULL || c->prefix_len > buf->cap) {
        p = realloc(buf->data, c->prefix_len);
        if (p == NULL) {
            return mt_lmdb_failf(s, MT_STORE_ERROR, "out of memory");
        }

        buf->data = p;
        buf->cap = c->prefix_len;
    }

    memcpy(buf->data, old->mv_data, c->prefix_len);

    v.mv_data = NULL;
    v.mv_size = c->prefix_len + doc_len;

    r = mdb_put(txn, s->e->cr, k, &v, MDB_RESERVE);
    if (r != 0) {
        return mt_lmdb_fail(s, "mdb_put", r);
    }

    p = v.mv_data;
    memcpy(p, buf->data, c->prefix_len);

    if (doc_len > 0) {
        memcpy(p + c->prefix_len, doc, doc_len);
    }

    return MT_STORE_OK;
}

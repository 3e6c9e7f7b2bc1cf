/*
 * The LMDB backend's creator embeddings: the vector indexer's results,
 * written into the stored creator documents; and the indexer's walks
 * over the creators, all of them or those pending.
 *
 * Beside the documents, creators_embedded keeps for each creator embedded
 * "ready" the text hash it was embedded for and a hash of the model and
 * dimensions: the sync at every start (mt_lmdb_creator_scan_pending)
 * walks it beside the creators, both in id order, and reads no document
 * of a creator whose entry still matches: a million creators cost a
 * merge of two cursors, not a million JSON parses.  A failed embedding
 * removes the entry; a new text changes the record's text hash, so the
 * entry stops matching.
 *
 * Only the document part of a record changes.  The embedding is
 * server-managed: it counts in neither the content hash nor the text
 * hash, and the region and niches stay, so the record keeps its prefix
 * (store_lmdb.h, mt_lmdb_cr_rec) and the indexes stay as they are.
 */

#include <stdlib.h>
#include <string.h>

#include "store_lmdb.h"


#define MT_LMDB_EMB_REC  16     /* text hash, model hash */


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
static mt_store_rc_t mt_lmdb_emb_track(mt_store_lmdb_t *s, MDB_txn *txn,
    MDB_val *k, const mt_embedding_info_t *e);
static uint64_t mt_lmdb_emb_model(const char *model, unsigned dims);
static mt_store_rc_t mt_lmdb_creator_walk(mt_store_lmdb_t *s,
    const uint64_t *model,
    int (*cb)(void *data, const char *unique_id, size_t id_len,
              const char *doc, size_t doc_len), void *data);


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

    /*
     * No write of the document when nothing would change but updatedAt;
     * the entry may still be missing (a creator embedded before the
     * store kept track), and v is not used after this
     */
    if (mt_creator_embedding_is(mt_json_root(d), &it->info)) {
        mt_json_free(d);
        return mt_lmdb_emb_track(s, txn, &k, &it->info);
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

    if (src != MT_STORE_OK) {
        return src;
    }

    *changed = 1;

    return mt_lmdb_emb_track(s, txn, &k, &it->info);
}


/*
 * The creators_embedded entry of k as e says: the text hash and model for
 * "ready" (not rewritten when it already says so), none for "failed".
 * Runs after the record's last use: a write may move the pages that
 * values read in this txn point into.
 */
static mt_store_rc_t
mt_lmdb_emb_track(mt_store_lmdb_t *s, MDB_txn *txn, MDB_val *k,
    const mt_embedding_info_t *e)
{
    int             r;
    MDB_val         v;
    unsigned char   rec[MT_LMDB_EMB_REC];

    if (strcmp(e->status, "ready") != 0) {
        r = mdb_del(txn, s->e->cr_emb, k, NULL);

        if (r != 0 && r != MDB_NOTFOUND) {
            return mt_lmdb_fail(s, "mdb_del", r);
        }

        return MT_STORE_OK;
    }

    mt_lmdb_put64(rec, e->text_hash);
    mt_lmdb_put64(rec + 8, mt_lmdb_emb_model(e->model, e->dimensions));

    r = mdb_get(txn, s->e->cr_emb, k, &v);

    if (r == 0 && v.mv_size == sizeof(rec)
        && memcmp(v.mv_data, rec, sizeof(rec)) == 0)
    {
        return MT_STORE_OK;
    }

    if (r != 0 && r != MDB_NOTFOUND) {
        return mt_lmdb_fail(s, "mdb_get", r);
    }

    v.mv_data = rec;
    v.mv_size = sizeof(rec);

    r = mdb_put(txn, s->e->cr_emb, k, &v, 0);
    if (r != 0) {
        return mt_lmdb_fail(s, "mdb_put", r);
    }

    return MT_STORE_OK;
}


/* the model and dimensions an entry was embedded with, as one hash */
static uint64_t
mt_lmdb_emb_model(const char *model, unsigned dims)
{
    if (model == NULL) {
        model = "";
    }

    return mt_hash64(model, strlen(model), 0x6d6f64656c000000ULL ^ dims);
}


mt_store_rc_t
mt_lmdb_creator_scan(mt_store_t *st,
    int (*cb)(void *data, const char *unique_id, size_t id_len,
              const char *doc, size_t doc_len), void *data)
{
    return mt_lmdb_creator_walk((mt_store_lmdb_t *) st, NULL, cb, data);
}


mt_store_rc_t
mt_lmdb_creator_scan_pending(mt_store_t *st, const char *model,
    unsigned dims,
    int (*cb)(void *data, const char *unique_id, size_t id_len,
              const char *doc, size_t doc_len), void *data)
{
    uint64_t  want;

    want = mt_lmdb_emb_model(model, dims);

    return mt_lmdb_creator_walk((mt_store_lmdb_t *) st, &want, cb, data);
}


/*
 * Every creator in id order, or with model, those less the ones whose
 * creators_embedded entry matches their text hash and *model: two
 * cursors in step, so a creator skipped costs a key comparison, not a
 * document parse.  The pointers cb gets are into the map: valid only
 * during the call.
 */
static mt_store_rc_t
mt_lmdb_creator_walk(mt_store_lmdb_t *s, const uint64_t *model,
    int (*cb)(void *data, const char *unique_id, size_t id_len,
              const char *doc, size_t doc_len), void *data)
{
    int                r, re, cmp;
    MDB_val            k, v, ek, ev;
    MDB_txn           *txn;
    MDB_cursor        *cur, *ecur;
    mt_store_rc_t      rc;
    mt_lmdb_cr_rec_t   c;

    rc = mt_lmdb_rbegin(s, &txn);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    cur = NULL;
    ecur = NULL;

    r = mdb_cursor_open(txn, s->e->cr, &cur);
    if (r == 0 && model != NULL) {
        r = mdb_cursor_open(txn, s->e->cr_emb, &ecur);
    }

    if (r != 0) {
        rc = mt_lmdb_fail(s, "mdb_cursor_open", r);
        goto done;
    }

    /* no entries at all when every creator is wanted */
    re = (ecur != NULL) ? mdb_cursor_get(ecur, &ek, &ev, MDB_FIRST)
                        : MDB_NOTFOUND;

    for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         r == 0;
         r = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (mt_lmdb_cr_rec(&v, &c) != 0) {
            rc = mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt creator");
            break;
        }

        /* the entries of creators before this one: none now, skipped */
        cmp = -1;

        while (re == 0) {
            cmp = mdb_cmp(txn, s->e->cr, &ek, &k);
            if (cmp >= 0) {
                break;
            }

            re = mdb_cursor_get(ecur, &ek, &ev, MDB_NEXT);
        }

        if (re != 0 && re != MDB_NOTFOUND) {
            rc = mt_lmdb_fail(s, "mdb_cursor_get", re);
            break;
        }

        if (re == 0 && cmp == 0 && ev.mv_size == MT_LMDB_EMB_REC
            && mt_lmdb_get64(ev.mv_data) == c.text_hash
            && mt_lmdb_get64((const unsigned char *) ev.mv_data + 8)
               == *model)
        {
            continue;
        }

        if (cb(data, k.mv_data, k.mv_size, (const char *) c.doc, c.doc_len)
            != 0)
        {
            break;
        }
    }

    if (rc == MT_STORE_OK && r != 0 && r != MDB_NOTFOUND) {
        rc = mt_lmdb_fail(s, "mdb_cursor_get", r);
    }

done:

    if (ecur != NULL) {
        mdb_cursor_close(ecur);
    }

    if (cur != NULL) {
        mdb_cursor_close(cur);
    }

    mt_lmdb_rend(s, txn);

    return rc;
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

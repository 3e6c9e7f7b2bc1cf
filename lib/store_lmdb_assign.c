/*
 * The LMDB backend's assignments.
 *
 *   assignments          12-byte binary id -> header, user id, JSON; the
 *                        id starts with its creation second, so key order
 *                        is creation order
 *   assignments_by_user  user id \0 id -> what history sorts by
 *
 * Assignments without a userId have no history entry.
 */

#include <stdlib.h>
#include <string.h>

#include "store_lmdb.h"


#define MT_OID_BIN       12
#define MT_ASG_HDR       26  /* version, created, updated, user id length */
#define MT_ASG_SUM       42  /* created, updated, version, status, topic len */
#define MT_USER_KEY_MAX  (MT_USER_ID_MAX + 1 + MT_OID_BIN)


typedef struct {
    int64_t                 version;
    int64_t                 created_at;
    int64_t                 updated_at;
    const unsigned char    *user;
    size_t                  user_len;
    const unsigned char    *doc;
    size_t                  doc_len;
} mt_lmdb_asg_t;

/* one history entry; the pointers are into the map, valid in the txn */
typedef struct {
    const unsigned char    *id;
    int64_t                 created_at;
    int64_t                 updated_at;
    const char             *status;     /* MT_STATUS_MAX bytes, NUL pad */
    const unsigned char    *topic;
    size_t                  topic_len;
} mt_lmdb_hist_t;


static int
mt_lmdb_hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}


/* the 12 bytes of a 24-hex id, any case; -1 if it is not one */
static int
mt_lmdb_oid_bin(const char *id, size_t len, unsigned char out[MT_OID_BIN])
{
    char    hex[MT_OID_LEN + 1];
    size_t  i;

    if (mt_oid_normalize(id, len, hex) != 0) {
        return -1;
    }

    for (i = 0; i < MT_OID_BIN; i++) {
        out[i] = (unsigned char) ((mt_lmdb_hexval(hex[2 * i]) << 4)
                                  | mt_lmdb_hexval(hex[2 * i + 1]));
    }

    return 0;
}


static size_t
mt_lmdb_user_key(unsigned char *key, const void *user, size_t user_len,
    const unsigned char *id)
{
    memcpy(key, user, user_len);
    key[user_len] = '\0';
    memcpy(key + user_len + 1, id, MT_OID_BIN);

    return user_len + 1 + MT_OID_BIN;
}


static int
mt_lmdb_asg_parse(const MDB_val *v, mt_lmdb_asg_t *a)
{
    const unsigned char  *p;

    p = v->mv_data;

    if (v->mv_size < MT_ASG_HDR) {
        return -1;
    }

    a->version = (int64_t) mt_lmdb_get64(p);
    a->created_at = (int64_t) mt_lmdb_get64(p + 8);
    a->updated_at = (int64_t) mt_lmdb_get64(p + 16);
    a->user_len = mt_lmdb_get16(p + 24);

    if (a->user_len > MT_USER_ID_MAX
        || v->mv_size - MT_ASG_HDR < a->user_len)
    {
        return -1;
    }

    a->user = p + MT_ASG_HDR;
    a->doc = a->user + a->user_len;
    a->doc_len = v->mv_size - MT_ASG_HDR - a->user_len;

    return 0;
}


/* the history index entry of meta under key */
static mt_store_rc_t
mt_lmdb_asg_index(mt_store_lmdb_t *s, MDB_txn *txn,
    const mt_assignment_meta_t *meta, const unsigned char *id)
{
    int            rc;
    size_t         len;
    MDB_val        k, v;
    unsigned char  key[MT_USER_KEY_MAX];
    unsigned char  sum[MT_ASG_SUM + MT_TOPIC_KEY_MAX];

    k.mv_data = key;
    k.mv_size = mt_lmdb_user_key(key, meta->user_id, meta->user_id_len, id);

    mt_lmdb_put64(sum, (uint64_t) meta->created_at);
    mt_lmdb_put64(sum + 8, (uint64_t) meta->updated_at);
    mt_lmdb_put64(sum + 16, (uint64_t) meta->version);

    /* NUL padded, so that strncmp sorts it */
    len = strnlen(meta->status, MT_STATUS_MAX);
    memset(sum + 24, 0, MT_STATUS_MAX);
    memcpy(sum + 24, meta->status, len);

    mt_lmdb_put16(sum + 40, (uint16_t) meta->topic_key_len);
    memcpy(sum + MT_ASG_SUM, meta->topic_key, meta->topic_key_len);

    v.mv_data = sum;
    v.mv_size = MT_ASG_SUM + meta->topic_key_len;

    rc = mdb_put(txn, s->e->asg_user, &k, &v, 0);
    if (rc != 0) {
        return mt_lmdb_fail(s, "mdb_put", rc);
    }

    return MT_STORE_OK;
}


mt_store_rc_t
mt_lmdb_assignment_put(mt_store_t *st, const mt_assignment_meta_t *meta,
    const char *doc, size_t len, int64_t expected_version)
{
    int               r;
    size_t            okey_len;
    MDB_val           k, v;
    MDB_txn          *txn;
    unsigned int      flags;
    mt_lmdb_asg_t     old;
    unsigned char    *p;
    mt_store_rc_t     rc;
    mt_store_lmdb_t  *s;
    unsigned char     id[MT_OID_BIN];
    unsigned char     okey[MT_USER_KEY_MAX];

    s = (mt_store_lmdb_t *) st;

    if (mt_lmdb_oid_bin(meta->id, strnlen(meta->id, sizeof(meta->id)), id)
        != 0)
    {
        return mt_lmdb_failf(s, MT_STORE_ERROR, "invalid assignment id");
    }

    if (meta->user_id_len > MT_USER_ID_MAX
        || meta->topic_key_len > MT_TOPIC_KEY_MAX
        || expected_version < 0 || (doc == NULL && len > 0))
    {
        return mt_lmdb_failf(s, MT_STORE_ERROR, "invalid assignment meta");
    }

    rc = mt_lmdb_wbegin(s, &txn);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    k.mv_data = id;
    k.mv_size = MT_OID_BIN;
    okey_len = 0;
    flags = MDB_RESERVE;

    if (expected_version == 0) {
        flags |= MDB_NOOVERWRITE;

    } else {
        r = mdb_get(txn, s->e->asg, &k, &v);

        if (r == MDB_NOTFOUND) {
            rc = mt_lmdb_failf(s, MT_STORE_NOT_FOUND, "no assignment %s",
                               meta->id);
            goto done;
        }

        if (r != 0) {
            rc = mt_lmdb_fail(s, "mdb_get", r);
            goto done;
        }

        if (mt_lmdb_asg_parse(&v, &old) != 0) {
            rc = mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt assignment %s",
                               meta->id);
            goto done;
        }

        if (old.version != expected_version) {
            rc = mt_lmdb_failf(s, MT_STORE_CONFLICT, "assignment %s is at "
                               "version %lld, not %lld", meta->id,
                               (long long) old.version,
                               (long long) expected_version);
            goto done;
        }

        /* copied: the first write may move the page v points into */
        if (old.user_len > 0) {
            okey_len = mt_lmdb_user_key(okey, old.user, old.user_len, id);
        }
    }

    v.mv_data = NULL;
    v.mv_size = MT_ASG_HDR + meta->user_id_len + len;

    r = mdb_put(txn, s->e->asg, &k, &v, flags);

    if (r == MDB_KEYEXIST) {
        rc = mt_lmdb_failf(s, MT_STORE_CONFLICT, "assignment %s exists",
                           meta->id);
        goto done;
    }

    if (r != 0) {
        rc = mt_lmdb_fail(s, "mdb_put", r);
        goto done;
    }

    p = v.mv_data;
    mt_lmdb_put64(p, (uint64_t) meta->version);
    mt_lmdb_put64(p + 8, (uint64_t) meta->created_at);
    mt_lmdb_put64(p + 16, (uint64_t) meta->updated_at);
    mt_lmdb_put16(p + 24, (uint16_t) meta->user_id_len);
    memcpy(p + MT_ASG_HDR, meta->user_id, meta->user_id_len);

    if (len > 0) {
        memcpy(p + MT_ASG_HDR + meta->user_id_len, doc, len);
    }

    if (okey_len > 0) {
        k.mv_data = okey;
        k.mv_size = okey_len;

        r = mdb_del(txn, s->e->asg_user, &k, NULL);
        if (r != 0 && r != MDB_NOTFOUND) {
            rc = mt_lmdb_fail(s, "mdb_del", r);
            goto done;
        }
    }

    if (meta->user_id_len > 0) {
        rc = mt_lmdb_asg_index(s, txn, meta, id);
    }

done:

    return mt_lmdb_wend(s, txn, rc);
}


mt_store_rc_t
mt_lmdb_assignment_get(mt_store_t *st, const char *id, mt_text_t *doc)
{
    int               r;
    MDB_val           k, v;
    MDB_txn          *txn;
    mt_lmdb_asg_t     a;
    mt_store_rc_t     rc;
    mt_store_lmdb_t  *s;
    unsigned char     key[MT_OID_BIN];

    s = (mt_store_lmdb_t *) st;

    doc->data = NULL;
    doc->len = 0;

    if (mt_lmdb_oid_bin(id, strnlen(id, MT_OID_LEN + 1), key) != 0) {
        return mt_lmdb_failf(s, MT_STORE_NOT_FOUND, "invalid assignment id");
    }

    rc = mt_lmdb_rbegin(s, &txn);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    k.mv_data = key;
    k.mv_size = MT_OID_BIN;

    r = mdb_get(txn, s->e->asg, &k, &v);

    if (r == MDB_NOTFOUND) {
        rc = mt_lmdb_failf(s, MT_STORE_NOT_FOUND, "no assignment");

    } else if (r != 0) {
        rc = mt_lmdb_fail(s, "mdb_get", r);

    } else if (mt_lmdb_asg_parse(&v, &a) != 0) {
        rc = mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt assignment");

    } else {
        rc = mt_lmdb_text(s, a.doc, a.doc_len, doc);
    }

    mt_lmdb_rend(s, txn);

    return rc;
}


/*
 * History orders: by the field, then by id, so that the order is total;
 * a descending page is the ascending order read backwards.
 */

static int
mt_lmdb_hist_id(const mt_lmdb_hist_t *a, const mt_lmdb_hist_t *b)
{
    return memcmp(a->id, b->id, MT_OID_BIN);
}


static int
mt_lmdb_hist_created(const void *pa, const void *pb)
{
    const mt_lmdb_hist_t  *a = pa, *b = pb;

    if (a->created_at != b->created_at) {
        return a->created_at < b->created_at ? -1 : 1;
    }

    return mt_lmdb_hist_id(a, b);
}


static int
mt_lmdb_hist_updated(const void *pa, const void *pb)
{
    const mt_lmdb_hist_t  *a = pa, *b = pb;

    if (a->updated_at != b->updated_at) {
        return a->updated_at < b->updated_at ? -1 : 1;
    }

    return mt_lmdb_hist_id(a, b);
}


static int
mt_lmdb_hist_topic(const void *pa, const void *pb)
{
    int                    c;
    size_t                 n;
    const mt_lmdb_hist_t  *a = pa, *b = pb;

    n = a->topic_len < b->topic_len ? a->topic_len : b->topic_len;

    c = memcmp(a->topic, b->topic, n);
    if (c != 0) {
        return c;
    }

    if (a->topic_len != b->topic_len) {
        return a->topic_len < b->topic_len ? -1 : 1;
    }

    return mt_lmdb_hist_id(a, b);
}


static int
mt_lmdb_hist_status(const void *pa, const void *pb)
{
    int                    c;
    const mt_lmdb_hist_t  *a = pa, *b = pb;

    c = strncmp(a->status, b->status, MT_STATUS_MAX);
    if (c != 0) {
        return c;
    }

    return mt_lmdb_hist_id(a, b);
}


/* every entry of the user's index, in any order */
static mt_store_rc_t
mt_lmdb_hist_gather(mt_store_lmdb_t *s, MDB_txn *txn, const unsigned char *pfx,
    size_t plen, mt_lmdb_hist_t **out, size_t *count)
{
    int                   r;
    size_t                n, cap;
    MDB_val               k, v;
    MDB_cursor           *c;
    mt_store_rc_t         rc;
    mt_lmdb_hist_t       *h, *items;
    const unsigned char  *p;

    r = mdb_cursor_open(txn, s->e->asg_user, &c);
    if (r != 0) {
        return mt_lmdb_fail(s, "mdb_cursor_open", r);
    }

    items = NULL;
    n = 0;
    cap = 0;
    rc = MT_STORE_OK;

    k.mv_data = (void *) pfx;
    k.mv_size = plen;

    for (r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
         r == 0;
         r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
    {
        if (k.mv_size < plen || memcmp(k.mv_data, pfx, plen) != 0) {
            break;
        }

        /* a longer user id with a NUL in it shares the prefix */
        if (k.mv_size != plen + MT_OID_BIN) {
            continue;
        }

        p = v.mv_data;

        if (v.mv_size < MT_ASG_SUM
            || v.mv_size - MT_ASG_SUM != mt_lmdb_get16(p + 40))
        {
            rc = mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt history entry");
            break;
        }

        if (n == cap) {
            cap = cap ? 2 * cap : 64;

            h = realloc(items, cap * sizeof(mt_lmdb_hist_t));
            if (h == NULL) {
                rc = mt_lmdb_failf(s, MT_STORE_ERROR, "out of memory");
                break;
            }

            items = h;
        }

        h = &items[n++];
        h->id = (const unsigned char *) k.mv_data + plen;
        h->created_at = (int64_t) mt_lmdb_get64(p);
        h->updated_at = (int64_t) mt_lmdb_get64(p + 8);
        h->status = (const char *) p + 24;
        h->topic = p + MT_ASG_SUM;
        h->topic_len = v.mv_size - MT_ASG_SUM;
    }

    if (rc == MT_STORE_OK && r != 0 && r != MDB_NOTFOUND) {
        rc = mt_lmdb_fail(s, "mdb_cursor_get", r);
    }

    mdb_cursor_close(c);

    if (rc != MT_STORE_OK) {
        free(items);
        return rc;
    }

    *out = items;
    *count = n;

    return MT_STORE_OK;
}


mt_store_rc_t
mt_lmdb_assignment_history(mt_store_t *st, const mt_history_query_t *q,
    mt_text_t **docs, size_t *n, size_t *total)
{
    int                r;
    size_t             i, count, end, plen;
    MDB_val            k, v;
    MDB_txn           *txn;
    mt_lmdb_asg_t      a;
    mt_store_rc_t      rc;
    mt_lmdb_hist_t    *items, *h;
    mt_store_lmdb_t   *s;
    mt_lmdb_texts_t    out;
    unsigned char      pfx[MT_USER_ID_MAX + 1];
    int              (*cmp)(const void *, const void *);

    s = (mt_store_lmdb_t *) st;

    *docs = NULL;
    *n = 0;
    *total = 0;

    switch (q->sort) {
    case MT_SORT_CREATED_AT:
        cmp = mt_lmdb_hist_created;
        break;
    case MT_SORT_UPDATED_AT:
        cmp = mt_lmdb_hist_updated;
        break;
    case MT_SORT_TOPIC:
        cmp = mt_lmdb_hist_topic;
        break;
    case MT_SORT_STATUS:
        cmp = mt_lmdb_hist_status;
        break;
    default:
        return mt_lmdb_failf(s, MT_STORE_ERROR, "unknown sort %d",
                             (int) q->sort);
    }

    /* no index entry can match these */
    if (q->user_id_len == 0 || q->user_id_len > MT_USER_ID_MAX
        || memchr(q->user_id, '\0', q->user_id_len) != NULL)
    {
        return MT_STORE_OK;
    }

    memcpy(pfx, q->user_id, q->user_id_len);
    pfx[q->user_id_len] = '\0';
    plen = q->user_id_len + 1;

    rc = mt_lmdb_rbegin(s, &txn);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    items = NULL;
    count = 0;
    out.items = NULL;
    out.n = 0;
    out.cap = 0;

    rc = mt_lmdb_hist_gather(s, txn, pfx, plen, &items, &count);
    if (rc != MT_STORE_OK) {
        goto done;
    }

    if (count > 1) {
        qsort(items, count, sizeof(mt_lmdb_hist_t), cmp);
    }

    end = q->skip < count ? count - q->skip : 0;
    end = q->skip + (q->limit < end ? q->limit : end);

    for (i = q->skip; i < end; i++) {
        h = q->desc ? &items[count - 1 - i] : &items[i];

        k.mv_data = (void *) h->id;
        k.mv_size = MT_OID_BIN;

        r = mdb_get(txn, s->e->asg, &k, &v);
        if (r != 0) {
            rc = (r == MDB_NOTFOUND)
                 ? mt_lmdb_failf(s, MT_STORE_ERROR, "history entry without "
                                 "its assignment")
                 : mt_lmdb_fail(s, "mdb_get", r);
            goto done;
        }

        if (mt_lmdb_asg_parse(&v, &a) != 0) {
            rc = mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt assignment");
            goto done;
        }

        rc = mt_lmdb_texts_add(s, &out, a.doc, a.doc_len);
        if (rc != MT_STORE_OK) {
            goto done;
        }
    }

    *docs = out.items;
    *n = out.n;
    *total = count;
    out.items = NULL;

done:

    mt_lmdb_rend(s, txn);
    free(items);
    mt_texts_free(out.items, out.n);

    return rc;
}


mt_store_rc_t
mt_lmdb_assignment_purge(mt_store_t *st, int64_t before_ms, size_t max,
    size_t *purged)
{
    int                   r;
    size_t                done, ukey_len;
    int64_t               id_ms;
    MDB_val               k, v;
    MDB_txn              *txn;
    MDB_cursor           *c;
    mt_lmdb_asg_t         a;
    mt_store_rc_t         rc;
    mt_store_lmdb_t      *s;
    const unsigned char  *id;
    unsigned char         ukey[MT_USER_KEY_MAX];

    s = (mt_store_lmdb_t *) st;

    *purged = 0;

    if (max == 0) {
        return MT_STORE_OK;
    }

    rc = mt_lmdb_wbegin(s, &txn);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    r = mdb_cursor_open(txn, s->e->asg, &c);
    if (r != 0) {
        return mt_lmdb_wend(s, txn, mt_lmdb_fail(s, "mdb_cursor_open", r));
    }

    done = 0;

    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST);
         r == 0 && done < max;
         r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != MT_OID_BIN || mt_lmdb_asg_parse(&v, &a) != 0) {
            rc = mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt assignment");
            break;
        }

        id = k.mv_data;

        if (a.created_at >= before_ms) {
            /*
             * Ids order by second only: a new one may precede an old one
             * of the same second, so stop only past before_ms's second.
             */
            id_ms = (int64_t) (((uint32_t) id[0] << 24)
                               | ((uint32_t) id[1] << 16)
                               | ((uint32_t) id[2] << 8) | id[3]) * 1000;

            if (id_ms >= before_ms) {
                break;
            }

            continue;
        }

        /* the key is built before any write can move the page */
        ukey_len = 0;

        if (a.user_len > 0) {
            ukey_len = mt_lmdb_user_key(ukey, a.user, a.user_len, id);
        }

        r = mdb_cursor_del(c, 0);
        if (r != 0) {
            rc = mt_lmdb_fail(s, "mdb_cursor_del", r);
            break;
        }

        if (ukey_len > 0) {
            k.mv_data = ukey;
            k.mv_size = ukey_len;

            r = mdb_del(txn, s->e->asg_user, &k, NULL);
            if (r != 0 && r != MDB_NOTFOUND) {
                rc = mt_lmdb_fail(s, "mdb_del", r);
                break;
            }
        }

        done++;
    }

    if (rc == MT_STORE_OK && r != 0 && r != MDB_NOTFOUND) {
        rc = mt_lmdb_fail(s, "mdb_cursor_get", r);
    }

    mdb_cursor_close(c);

    if (rc == MT_STORE_OK && done == 0) {
        /* nothing to commit: spare the fsync */
        mdb_txn_abort(txn);
        return MT_STORE_OK;
    }

    rc = mt_lmdb_wend(s, txn, rc);

    if (rc == MT_STORE_OK) {
        *purged = done;
    }

    return rc;
}

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

/*
 * One history entry while a page is sorted: small, for the sort moves
 * them; the pointers are into the map, valid in the txn.
 */
typedef struct {
    int64_t                 at;         /* the time sorted by, if any */
    const unsigned char    *id;
    const unsigned char    *sum;        /* the summary (MT_ASG_SUM) */
} mt_lmdb_hist_t;

typedef struct {
    mt_lmdb_hist_t         *items;
    size_t                  n;
    unsigned                sorted:1;   /* key order is the time order */
    unsigned                by_sec:1;   /* ... up to runs of one second */
} mt_lmdb_hist_list_t;


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


/* the creation second an id starts with */
static uint32_t
mt_lmdb_oid_sec(const unsigned char *id)
{
    return ((uint32_t) id[0] << 24) | ((uint32_t) id[1] << 16)
           | ((uint32_t) id[2] << 8) | id[3];
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


typedef struct {
    const mt_assignment_meta_t *meta;
    const char             *doc;
    size_t                  len;
    int64_t                 expected_version;
    unsigned char           id[MT_OID_BIN];
} mt_lmdb_asg_put_t;


static mt_store_rc_t
mt_lmdb_asg_put_op(mt_store_lmdb_t *s, MDB_txn *txn, void *arg)
{
    int                          r;
    size_t                       okey_len;
    MDB_val                      k, v;
    unsigned int                 flags;
    mt_lmdb_asg_t                old;
    unsigned char               *p;
    mt_store_rc_t                rc;
    mt_lmdb_asg_put_t           *a;
    const mt_assignment_meta_t  *meta;
    unsigned char                okey[MT_USER_KEY_MAX];

    a = arg;
    meta = a->meta;

    k.mv_data = a->id;
    k.mv_size = MT_OID_BIN;
    okey_len = 0;
    flags = MDB_RESERVE;

    if (a->expected_version == 0) {
        flags |= MDB_NOOVERWRITE;

    } else {
        r = mdb_get(txn, s->e->asg, &k, &v);

        if (r == MDB_NOTFOUND) {
            return mt_lmdb_failf(s, MT_STORE_NOT_FOUND, "no assignment %s",
                                 meta->id);
        }

        if (r != 0) {
            return mt_lmdb_fail(s, "mdb_get", r);
        }

        if (mt_lmdb_asg_parse(&v, &old) != 0) {
            return mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt assignment %s",
                                 meta->id);
        }

        if (old.version != a->expected_version) {
            return mt_lmdb_failf(s, MT_STORE_CONFLICT, "assignment %s is at "
                                 "version %lld, not %lld", meta->id,
                                 (long long) old.version,
                                 (long long) a->expected_version);
        }

        /* copied: the first write may move the page v points into */
        if (old.user_len > 0) {
            okey_len = mt_lmdb_user_key(okey, old.user, old.user_len, a->id);
        }
    }

    v.mv_data = NULL;
    v.mv_size = MT_ASG_HDR + meta->user_id_len + a->len;

    r = mdb_put(txn, s->e->asg, &k, &v, flags);

    if (r == MDB_KEYEXIST) {
        return mt_lmdb_failf(s, MT_STORE_CONFLICT, "assignment %s exists",
                             meta->id);
    }

    if (r != 0) {
        return mt_lmdb_fail(s, "mdb_put", r);
    }

    p = v.mv_data;
    mt_lmdb_put64(p, (uint64_t) meta->version);
    mt_lmdb_put64(p + 8, (uint64_t) meta->created_at);
    mt_lmdb_put64(p + 16, (uint64_t) meta->updated_at);
    mt_lmdb_put16(p + 24, (uint16_t) meta->user_id_len);
    memcpy(p + MT_ASG_HDR, meta->user_id, meta->user_id_len);

    if (a->len > 0) {
        memcpy(p + MT_ASG_HDR + meta->user_id_len, a->doc, a->len);
    }

    if (okey_len > 0) {
        k.mv_data = okey;
        k.mv_size = okey_len;

        r = mdb_del(txn, s->e->asg_user, &k, NULL);
        if (r != 0 && r != MDB_NOTFOUND) {
            return mt_lmdb_fail(s, "mdb_del", r);
        }
    }

    rc = MT_STORE_OK;

    if (meta->user_id_len > 0) {
        rc = mt_lmdb_asg_index(s, txn, meta, a->id);
    }

    return rc;
}


mt_store_rc_t
mt_lmdb_assignment_put(mt_store_t *st, const mt_assignment_meta_t *meta,
    const char *doc, size_t len, int64_t expected_version)
{
    mt_store_lmdb_t    *s;
    mt_lmdb_asg_put_t   a;

    s = (mt_store_lmdb_t *) st;

    if (mt_lmdb_oid_bin(meta->id, strnlen(meta->id, sizeof(meta->id)), a.id)
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

    a.meta = meta;
    a.doc = doc;
    a.len = len;
    a.expected_version = expected_version;

    return mt_lmdb_write(s, mt_lmdb_asg_put_op, &a);
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
mt_lmdb_hist_time(const void *pa, const void *pb)
{
    const mt_lmdb_hist_t  *a = pa, *b = pb;

    if (a->at != b->at) {
        return a->at < b->at ? -1 : 1;
    }

    return memcmp(a->id, b->id, MT_OID_BIN);
}


static int
mt_lmdb_hist_topic(const void *pa, const void *pb)
{
    int                    c;
    size_t                 n, alen, blen;
    const mt_lmdb_hist_t  *a = pa, *b = pb;

    alen = mt_lmdb_get16(a->sum + 40);
    blen = mt_lmdb_get16(b->sum + 40);
    n = alen < blen ? alen : blen;

    c = memcmp(a->sum + MT_ASG_SUM, b->sum + MT_ASG_SUM, n);
    if (c != 0) {
        return c;
    }

    if (alen != blen) {
        return alen < blen ? -1 : 1;
    }

    return memcmp(a->id, b->id, MT_OID_BIN);
}


static int
mt_lmdb_hist_status(const void *pa, const void *pb)
{
    int                    c;
    const mt_lmdb_hist_t  *a = pa, *b = pb;

    c = strncmp((const char *) a->sum + 24, (const char *) b->sum + 24,
                MT_STATUS_MAX);
    if (c != 0) {
        return c;
    }

    return memcmp(a->id, b->id, MT_OID_BIN);
}


/*
 * Every entry of the user's index, in key order, that is in id order.
 * For a time sort (at_off: the time's offset in the summary, else -1)
 * it notes whether that is already the order asked for (the times never
 * go down), or the order up to runs of one id second (each time is in
 * its id's second, as when an id is made with its createdAt).
 */
static mt_store_rc_t
mt_lmdb_hist_gather(mt_store_lmdb_t *s, MDB_txn *txn, const unsigned char *pfx,
    size_t plen, int at_off, mt_lmdb_hist_list_t *l)
{
    int                   r;
    size_t                cap;
    int64_t               sec_ms;
    MDB_val               k, v;
    MDB_cursor           *c;
    mt_store_rc_t         rc;
    mt_lmdb_hist_t       *h;
    const unsigned char  *p;

    l->items = NULL;
    l->n = 0;
    l->sorted = 1;
    l->by_sec = 1;

    r = mdb_cursor_open(txn, s->e->asg_user, &c);
    if (r != 0) {
        return mt_lmdb_fail(s, "mdb_cursor_open", r);
    }

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

        if (l->n == cap) {
            cap = cap ? 2 * cap : 256;

            h = realloc(l->items, cap * sizeof(mt_lmdb_hist_t));
            if (h == NULL) {
                rc = mt_lmdb_failf(s, MT_STORE_ERROR, "out of memory");
                break;
            }

            l->items = h;
        }

        h = &l->items[l->n++];
        h->id = (const unsigned char *) k.mv_data + plen;
        h->sum = p;
        h->at = at_off < 0 ? 0 : (int64_t) mt_lmdb_get64(p + at_off);

        if (at_off < 0) {
            continue;
        }

        if (l->n > 1 && h->at < h[-1].at) {
            l->sorted = 0;
        }

        sec_ms = (int64_t) mt_lmdb_oid_sec(h->id) * 1000;

        if (h->at < sec_ms || h->at - sec_ms >= 1000) {
            l->by_sec = 0;
        }
    }

    if (rc == MT_STORE_OK && r != 0 && r != MDB_NOTFOUND) {
        rc = mt_lmdb_fail(s, "mdb_cursor_get", r);
    }

    mdb_cursor_close(c);

    if (rc != MT_STORE_OK) {
        free(l->items);
        l->items = NULL;
        l->n = 0;
    }

    return rc;
}


/*
 * Sorts what the items [lo, hi) need: nothing when the key order is the
 * order; when it is up to runs of one second, those runs that overlap
 * [lo, hi), a few items each; else all.
 */
static void
mt_lmdb_hist_sort(mt_lmdb_hist_list_t *l, int at_off, size_t lo, size_t hi,
    int (*cmp)(const void *, const void *))
{
    size_t           j;
    mt_lmdb_hist_t  *h;

    h = l->items;

    if (at_off >= 0 && l->sorted) {
        return;
    }

    if (at_off < 0 || !l->by_sec) {
        qsort(h, l->n, sizeof(mt_lmdb_hist_t), cmp);
        return;
    }

    while (lo > 0 && memcmp(h[lo - 1].id, h[lo].id, 4) == 0) {
        lo--;
    }

    while (hi < l->n && memcmp(h[hi - 1].id, h[hi].id, 4) == 0) {
        hi++;
    }

    while (lo < hi) {
        for (j = lo + 1; j < hi && memcmp(h[lo].id, h[j].id, 4) == 0; j++) {
            /* the run of h[lo]'s second */
        }

        if (j - lo > 1) {
            qsort(h + lo, j - lo, sizeof(mt_lmdb_hist_t), cmp);
        }

        lo = j;
    }
}


/* the documents of items [lo, hi) into out, reversed when desc */
static mt_store_rc_t
mt_lmdb_hist_docs(mt_store_lmdb_t *s, MDB_txn *txn, const mt_lmdb_hist_t *h,
    size_t lo, size_t hi, int desc, mt_text_t *out)
{
    int                   r;
    size_t                i;
    MDB_val               k, v;
    MDB_cursor           *c;
    mt_lmdb_asg_t         a;
    mt_store_rc_t         rc;
    const unsigned char  *id;

    /* a cursor: when the next id is on its page, no search from the root */
    r = mdb_cursor_open(txn, s->e->asg, &c);
    if (r != 0) {
        free(out);
        return mt_lmdb_fail(s, "mdb_cursor_open", r);
    }

    rc = MT_STORE_OK;

    for (i = 0; i < hi - lo; i++) {
        id = h[desc ? hi - 1 - i : lo + i].id;

        k.mv_data = (void *) id;
        k.mv_size = MT_OID_BIN;

        r = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
        if (r != 0) {
            rc = (r == MDB_NOTFOUND)
                 ? mt_lmdb_failf(s, MT_STORE_ERROR, "history entry without "
                                 "its assignment")
                 : mt_lmdb_fail(s, "mdb_cursor_get", r);
            break;
        }

        if (mt_lmdb_asg_parse(&v, &a) != 0) {
            rc = mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt assignment");
            break;
        }

        rc = mt_lmdb_text(s, a.doc, a.doc_len, &out[i]);
        if (rc != MT_STORE_OK) {
            break;
        }
    }

    mdb_cursor_close(c);

    if (rc != MT_STORE_OK) {
        /* and the array */
        mt_texts_free(out, i);
    }

    return rc;
}


mt_store_rc_t
mt_lmdb_assignment_history(mt_store_t *st, const mt_history_query_t *q,
    mt_text_t **docs, size_t *n, size_t *total)
{
    int                   at_off;
    size_t                lo, hi, m, plen;
    MDB_txn              *txn;
    mt_text_t            *out;
    mt_store_rc_t         rc;
    mt_store_lmdb_t      *s;
    mt_lmdb_hist_list_t   l;
    unsigned char         pfx[MT_USER_ID_MAX + 1];
    int                 (*cmp)(const void *, const void *);

    s = (mt_store_lmdb_t *) st;

    *docs = NULL;
    *n = 0;
    *total = 0;

    /* at_off: where the summary keeps the time sorted by */
    cmp = mt_lmdb_hist_time;

    switch (q->sort) {
    case MT_SORT_CREATED_AT:
        at_off = 0;
        break;
    case MT_SORT_UPDATED_AT:
        at_off = 8;
        break;
    case MT_SORT_TOPIC:
        at_off = -1;
        cmp = mt_lmdb_hist_topic;
        break;
    case MT_SORT_STATUS:
        at_off = -1;
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

    rc = mt_lmdb_hist_gather(s, txn, pfx, plen, at_off, &l);
    if (rc != MT_STORE_OK) {
        goto done;
    }

    /* the page: items [lo, hi) of the ascending order */
    m = q->skip < l.n ? l.n - q->skip : 0;
    m = q->limit < m ? q->limit : m;

    if (m > 0) {
        lo = q->desc ? l.n - q->skip - m : q->skip;
        hi = lo + m;

        mt_lmdb_hist_sort(&l, at_off, lo, hi, cmp);

        out = malloc(m * sizeof(mt_text_t));
        if (out == NULL) {
            rc = mt_lmdb_failf(s, MT_STORE_ERROR, "out of memory");
            goto done;
        }

        rc = mt_lmdb_hist_docs(s, txn, l.items, lo, hi, q->desc, out);
        if (rc != MT_STORE_OK) {
            goto done;
        }

        *docs = out;
        *n = m;
    }

    *total = l.n;

done:

    mt_lmdb_rend(s, txn);
    free(l.items);

    return rc;
}


typedef struct {
    int64_t                 before_ms;
    size_t                  max;
    size_t                  done;
} mt_lmdb_purge_t;


static mt_store_rc_t
mt_lmdb_purge_op(mt_store_lmdb_t *s, MDB_txn *txn, void *arg)
{
    int                   r;
    size_t                ukey_len;
    int64_t               id_ms;
    MDB_val               k, v;
    MDB_cursor           *c;
    mt_lmdb_asg_t         a;
    mt_store_rc_t         rc;
    mt_lmdb_purge_t      *pg;
    const unsigned char  *id;
    unsigned char         ukey[MT_USER_KEY_MAX];

    pg = arg;
    pg->done = 0;

    r = mdb_cursor_open(txn, s->e->asg, &c);
    if (r != 0) {
        return mt_lmdb_fail(s, "mdb_cursor_open", r);
    }

    rc = MT_STORE_OK;

    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST);
         r == 0 && pg->done < pg->max;
         r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != MT_OID_BIN || mt_lmdb_asg_parse(&v, &a) != 0) {
            rc = mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt assignment");
            break;
        }

        id = k.mv_data;

        if (a.created_at >= pg->before_ms) {
            /*
             * Ids order by second only: a new one may precede an old one
             * of the same second, so stop only past before_ms's second.
             */
            id_ms = (int64_t) mt_lmdb_oid_sec(id) * 1000;

            if (id_ms >= pg->before_ms) {
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

        pg->done++;
    }

    if (rc == MT_STORE_OK && r != 0 && r != MDB_NOTFOUND) {
        rc = mt_lmdb_fail(s, "mdb_cursor_get", r);
    }

    mdb_cursor_close(c);

    return rc;
}


/* a commit without changes writes nothing: no fsync when none is old */
mt_store_rc_t
mt_lmdb_assignment_purge(mt_store_t *st, int64_t before_ms, size_t max,
    size_t *purged)
{
    mt_store_rc_t     rc;
    mt_lmdb_purge_t   pg;

    *purged = 0;

    if (max == 0) {
        return MT_STORE_OK;
    }

    pg.before_ms = before_ms;
    pg.max = max;
    pg.done = 0;

    rc = mt_lmdb_write((mt_store_lmdb_t *) st, mt_lmdb_purge_op, &pg);

    if (rc == MT_STORE_OK) {
        *purged = pg.done;
    }

    return rc;
}

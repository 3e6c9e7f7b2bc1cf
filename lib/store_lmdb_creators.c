/*
 * The LMDB backend's creators.
 *
 *   creators             uniqueId -> header, REGION, niches, JSON
 *   creators_by_region   REGION \0 uniqueId -> ""
 *   creators_by_niche    niche \0 uniqueId -> REGION
 *
 * Regions are kept uppercase and niches lowercase (ASCII), so that the
 * filters of GET /creators are case-insensitive prefix scans, and both
 * indexes list a region's or a niche's creators in uniqueId order.  The
 * niche index stores the region so that "region and niche" needs one scan.
 */

#include <stdlib.h>
#include <string.h>

#include "store_lmdb.h"


#define MT_CR_HDR        21  /* content hash, text hash, region, niches */
#define MT_NICHE_KEY     200 /* bytes of a niche kept in its index key */
#define MT_CR_KEY_MAX    (MT_NICHE_KEY + 1 + MT_UNIQUE_ID_MAX)


typedef struct {
    uint64_t                content_hash;
    uint64_t                text_hash;
    const unsigned char    *region;
    size_t                  region_len;
    const unsigned char    *niches;
    size_t                  niches_len;
    const unsigned char    *doc;
    size_t                  doc_len;
} mt_lmdb_cr_t;

/* a copy of a record's region and niches, kept while the txn writes */
typedef struct {
    unsigned char          *data;
    size_t                  cap;
} mt_lmdb_buf_t;


static int
mt_lmdb_cr_parse(const MDB_val *v, mt_lmdb_cr_t *c)
{
    size_t                left;
    const unsigned char  *p;

    p = v->mv_data;

    if (v->mv_size < MT_CR_HDR) {
        return -1;
    }

    c->content_hash = mt_lmdb_get64(p);
    c->text_hash = mt_lmdb_get64(p + 8);
    c->region_len = p[16];
    c->niches_len = mt_lmdb_get32(p + 17);

    left = v->mv_size - MT_CR_HDR;

    if (c->region_len > MT_REGION_MAX || c->region_len > left
        || c->niches_len > left - c->region_len)
    {
        return -1;
    }

    c->region = p + MT_CR_HDR;
    c->niches = c->region + c->region_len;
    c->doc = c->niches + c->niches_len;
    c->doc_len = left - c->region_len - c->niches_len;

    return 0;
}


static void
mt_lmdb_upper(unsigned char *dst, const void *src, size_t len)
{
    size_t                i;
    const unsigned char  *s;

    s = src;

    for (i = 0; i < len; i++) {
        dst[i] = (s[i] >= 'a' && s[i] <= 'z') ? s[i] - 'a' + 'A' : s[i];
    }
}


static void
mt_lmdb_lower(unsigned char *dst, const void *src, size_t len)
{
    size_t                i;
    const unsigned char  *s;

    s = src;

    for (i = 0; i < len; i++) {
        dst[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i];
    }
}


/* the niche's key prefix: lowercase, cut to MT_NICHE_KEY bytes, \0 */
static size_t
mt_lmdb_niche_prefix(unsigned char *key, const void *niche, size_t len)
{
    const unsigned char  *p;

    p = niche;

    if (len > MT_NICHE_KEY) {
        /* not inside a UTF-8 sequence: back off its continuation bytes */
        len = MT_NICHE_KEY;

        while (len > 0 && (p[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    mt_lmdb_lower(key, niche, len);
    key[len] = '\0';

    return len + 1;
}


/* puts (del 0) or deletes the key of each niche of a NUL-separated block */
static mt_store_rc_t
mt_lmdb_niches_each(mt_store_lmdb_t *s, MDB_txn *txn, const void *block,
    size_t len, const unsigned char *uid, size_t uid_len,
    const unsigned char *region, size_t region_len, int del)
{
    int                   r;
    size_t                pos, nlen, klen;
    MDB_val               k, v;
    const unsigned char  *b, *end;
    unsigned char         key[MT_CR_KEY_MAX];

    b = block;

    for (pos = 0; pos < len; pos += nlen + 1) {
        end = memchr(b + pos, '\0', len - pos);
        nlen = end ? (size_t) (end - (b + pos)) : len - pos;

        if (nlen == 0) {
            continue;
        }

        klen = mt_lmdb_niche_prefix(key, b + pos, nlen);
        memcpy(key + klen, uid, uid_len);

        k.mv_data = key;
        k.mv_size = klen + uid_len;

        if (del) {
            r = mdb_del(txn, s->e->cr_niche, &k, NULL);
            if (r != 0 && r != MDB_NOTFOUND) {
                return mt_lmdb_fail(s, "mdb_del", r);
            }

            continue;
        }

        v.mv_data = (void *) region;
        v.mv_size = region_len;

        r = mdb_put(txn, s->e->cr_niche, &k, &v, 0);
        if (r != 0) {
            return mt_lmdb_fail(s, "mdb_put", r);
        }
    }

    return MT_STORE_OK;
}


/* adds (del 0) or removes the index keys of one creator */
static mt_store_rc_t
mt_lmdb_cr_index(mt_store_lmdb_t *s, MDB_txn *txn, const unsigned char *uid,
    size_t uid_len, const unsigned char *region, size_t region_len,
    const void *niches, size_t niches_len, int del)
{
    int            r;
    MDB_val        k, v;
    unsigned char  key[MT_REGION_MAX + 1 + MT_UNIQUE_ID_MAX];

    memcpy(key, region, region_len);
    key[region_len] = '\0';
    memcpy(key + region_len + 1, uid, uid_len);

    k.mv_data = key;
    k.mv_size = region_len + 1 + uid_len;

    if (del) {
        r = mdb_del(txn, s->e->cr_region, &k, NULL);
        if (r != 0 && r != MDB_NOTFOUND) {
            return mt_lmdb_fail(s, "mdb_del", r);
        }

    } else {
        /* LMDB copies mv_size bytes from mv_data: not from NULL */
        v.mv_data = (void *) "";
        v.mv_size = 0;

        r = mdb_put(txn, s->e->cr_region, &k, &v, 0);
        if (r != 0) {
            return mt_lmdb_fail(s, "mdb_put", r);
        }
    }

    return mt_lmdb_niches_each(s, txn, niches, niches_len, uid, uid_len,
                               region, region_len, del);
}


static mt_store_rc_t
mt_lmdb_cr_put(mt_store_lmdb_t *s, MDB_txn *txn, const mt_creator_put_t *it,
    mt_lmdb_buf_t *old)
{
    int                       r, have_old, same;
    size_t                    need, region_len, old_region_len;
    size_t                    old_niches_len;
    MDB_val                   k, v;
    mt_lmdb_cr_t              c;
    unsigned char            *p, *nb;
    mt_store_rc_t             rc;
    const unsigned char      *uid;
    const mt_creator_meta_t  *m;
    unsigned char             region[MT_REGION_MAX];

    m = it->meta;
    uid = (const unsigned char *) m->unique_id;

    region_len = strnlen(m->region, sizeof(m->region));
    mt_lmdb_upper(region, m->region, region_len);

    k.mv_data = (void *) uid;
    k.mv_size = m->unique_id_len;

    have_old = 0;
    same = 0;
    old_region_len = 0;
    old_niches_len = 0;

    r = mdb_get(txn, s->e->cr, &k, &v);

    if (r == 0) {
        if (mt_lmdb_cr_parse(&v, &c) != 0) {
            return mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt creator %.*s",
                                 (int) m->unique_id_len, m->unique_id);
        }

        /* copied: the writes below may move the page v points into */
        need = c.region_len + c.niches_len;

        /* never NULL, even for an empty copy: memcmp() wants a pointer */
        if (old->data == NULL || need >= old->cap) {
            nb = realloc(old->data, need + 1);
            if (nb == NULL) {
                return mt_lmdb_failf(s, MT_STORE_ERROR, "out of memory");
            }

            old->data = nb;
            old->cap = need + 1;
        }

        if (need > 0) {
            memcpy(old->data, c.region, need);
        }

        have_old = 1;
        old_region_len = c.region_len;
        old_niches_len = c.niches_len;

        same = old_region_len == region_len
               && old_niches_len == m->niches_len
               && memcmp(old->data, region, old_region_len) == 0
               && (old_niches_len == 0
                   || memcmp(old->data + old_region_len, m->niches,
                             old_niches_len) == 0);

    } else if (r != MDB_NOTFOUND) {
        return mt_lmdb_fail(s, "mdb_get", r);
    }

    if (have_old && !same) {
        rc = mt_lmdb_cr_index(s, txn, uid, m->unique_id_len, old->data,
                              old_region_len, old->data + old_region_len,
                              old_niches_len, 1);
        if (rc != MT_STORE_OK) {
            return rc;
        }
    }

    v.mv_data = NULL;
    v.mv_size = MT_CR_HDR + region_len + m->niches_len + it->doc_len;

    r = mdb_put(txn, s->e->cr, &k, &v, MDB_RESERVE);
    if (r != 0) {
        return mt_lmdb_fail(s, "mdb_put", r);
    }

    p = v.mv_data;
    mt_lmdb_put64(p, m->content_hash);
    mt_lmdb_put64(p + 8, m->text_hash);
    p[16] = (unsigned char) region_len;
    mt_lmdb_put32(p + 17, (uint32_t) m->niches_len);
    p += MT_CR_HDR;

    memcpy(p, region, region_len);
    p += region_len;

    if (m->niches_len > 0) {
        memcpy(p, m->niches, m->niches_len);
        p += m->niches_len;
    }

    if (it->doc_len > 0) {
        memcpy(p, it->doc, it->doc_len);
    }

    if (same) {
        return MT_STORE_OK;
    }

    return mt_lmdb_cr_index(s, txn, uid, m->unique_id_len, region,
                            region_len, m->niches, m->niches_len, 0);
}


typedef struct {
    const mt_creator_put_t *items;
    size_t                  n;
} mt_lmdb_cr_batch_t;


/* all or nothing: a failure aborts the txn, the group's child txn */
static mt_store_rc_t
mt_lmdb_cr_batch_op(mt_store_lmdb_t *s, MDB_txn *txn, void *arg)
{
    size_t               i;
    mt_lmdb_buf_t        old;
    mt_store_rc_t        rc;
    mt_lmdb_cr_batch_t  *b;

    b = arg;
    old.data = NULL;
    old.cap = 0;
    rc = MT_STORE_OK;

    for (i = 0; i < b->n && rc == MT_STORE_OK; i++) {
        rc = mt_lmdb_cr_put(s, txn, &b->items[i], &old);
    }

    free(old.data);

    return rc;
}


mt_store_rc_t
mt_lmdb_creator_put_batch(mt_store_t *st, const mt_creator_put_t *items,
    size_t n)
{
    size_t                    i;
    mt_store_lmdb_t          *s;
    mt_lmdb_cr_batch_t        b;
    const mt_creator_meta_t  *m;

    s = (mt_store_lmdb_t *) st;

    /* all checks first: a bad item must not cost a txn */
    for (i = 0; i < n; i++) {
        m = items[i].meta;

        if (m == NULL || m->unique_id_len == 0
            || m->unique_id_len > MT_UNIQUE_ID_MAX
            || memchr(m->unique_id, '\0', m->unique_id_len) != NULL
            || strnlen(m->region, sizeof(m->region)) > MT_REGION_MAX
            || m->niches_len > UINT32_MAX
            || (m->niches == NULL && m->niches_len > 0)
            || (items[i].doc == NULL && items[i].doc_len > 0))
        {
            return mt_lmdb_failf(s, MT_STORE_ERROR, "invalid creator #%zu",
                                 i);
        }
    }

    if (n == 0) {
        return MT_STORE_OK;
    }

    b.items = items;
    b.n = n;

    return mt_lmdb_write(s, mt_lmdb_cr_batch_op, &b);
}


mt_store_rc_t
mt_lmdb_creator_get(mt_store_t *st, const char *unique_id, size_t len,
    mt_text_t *doc, mt_creator_stamp_t *stamp)
{
    int               r;
    MDB_val           k, v;
    MDB_txn          *txn;
    mt_lmdb_cr_t      c;
    mt_store_rc_t     rc;
    mt_store_lmdb_t  *s;

    s = (mt_store_lmdb_t *) st;

    if (doc != NULL) {
        doc->data = NULL;
        doc->len = 0;
    }

    if (len == 0 || len > MT_UNIQUE_ID_MAX) {
        return mt_lmdb_failf(s, MT_STORE_NOT_FOUND, "no such creator");
    }

    rc = mt_lmdb_rbegin(s, &txn);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    k.mv_data = (void *) unique_id;
    k.mv_size = len;

    r = mdb_get(txn, s->e->cr, &k, &v);

    if (r == MDB_NOTFOUND) {
        rc = mt_lmdb_failf(s, MT_STORE_NOT_FOUND, "no such creator");

    } else if (r != 0) {
        rc = mt_lmdb_fail(s, "mdb_get", r);

    } else if (mt_lmdb_cr_parse(&v, &c) != 0) {
        rc = mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt creator");

    } else {
        if (stamp != NULL) {
            stamp->content_hash = c.content_hash;
            stamp->text_hash = c.text_hash;
        }

        if (doc != NULL) {
            rc = mt_lmdb_text(s, c.doc, c.doc_len, doc);
        }
    }

    mt_lmdb_rend(s, txn);

    return rc;
}


mt_store_rc_t
mt_lmdb_creator_count(mt_store_t *st, size_t *n)
{
    int               r;
    MDB_txn          *txn;
    MDB_stat          ms;
    mt_store_rc_t     rc;
    mt_store_lmdb_t  *s;

    s = (mt_store_lmdb_t *) st;

    *n = 0;

    rc = mt_lmdb_rbegin(s, &txn);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    r = mdb_stat(txn, s->e->cr, &ms);
    if (r != 0) {
        rc = mt_lmdb_fail(s, "mdb_stat", r);

    } else {
        *n = ms.ms_entries;
    }

    mt_lmdb_rend(s, txn);

    return rc;
}


/* 1 when a record's niches block holds niche (lowercase) exactly */
static int
mt_lmdb_has_niche(const mt_lmdb_cr_t *c, const unsigned char *niche,
    size_t len)
{
    size_t                pos, nlen, i;
    const unsigned char  *b, *end;

    b = c->niches;

    for (pos = 0; pos < c->niches_len; pos += nlen + 1) {
        end = memchr(b + pos, '\0', c->niches_len - pos);
        nlen = end ? (size_t) (end - (b + pos)) : c->niches_len - pos;

        if (nlen != len) {
            continue;
        }

        for (i = 0; i < len; i++) {
            if ((b[pos + i] >= 'A' && b[pos + i] <= 'Z'
                 ? b[pos + i] - 'A' + 'a' : b[pos + i]) != niche[i])
            {
                break;
            }
        }

        if (i == len) {
            return 1;
        }
    }

    return 0;
}


/* a page of all creators in uniqueId order */
static mt_store_rc_t
mt_lmdb_cr_list_all(mt_store_lmdb_t *s, MDB_txn *txn,
    const mt_creator_query_t *q, mt_lmdb_texts_t *out, size_t *total)
{
    int            r;
    size_t         i;
    MDB_val        k, v;
    MDB_stat       ms;
    MDB_cursor    *cur;
    mt_lmdb_cr_t   c;
    mt_store_rc_t  rc;

    r = mdb_stat(txn, s->e->cr, &ms);
    if (r != 0) {
        return mt_lmdb_fail(s, "mdb_stat", r);
    }

    *total = ms.ms_entries;

    if (q->limit == 0 || q->skip >= ms.ms_entries) {
        return MT_STORE_OK;
    }

    r = mdb_cursor_open(txn, s->e->cr, &cur);
    if (r != 0) {
        return mt_lmdb_fail(s, "mdb_cursor_open", r);
    }

    rc = MT_STORE_OK;
    i = 0;

    for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         r == 0;
         r = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (i++ < q->skip) {
            continue;
        }

        if (mt_lmdb_cr_parse(&v, &c) != 0) {
            rc = mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt creator");
            break;
        }

        rc = mt_lmdb_texts_add(s, out, c.doc, c.doc_len);
        if (rc != MT_STORE_OK || out->n == q->limit) {
            break;
        }
    }

    if (rc == MT_STORE_OK && r != 0 && r != MDB_NOTFOUND) {
        rc = mt_lmdb_fail(s, "mdb_cursor_get", r);
    }

    mdb_cursor_close(cur);

    return rc;
}


/*
 * A page of one region's or one niche's creators.  A niche as long as
 * a cut key is checked against the record's niches.
 */
static mt_store_rc_t
mt_lmdb_cr_list_index(mt_store_lmdb_t *s, MDB_txn *txn,
    const mt_creator_query_t *q, mt_lmdb_texts_t *out, size_t *total)
{
    int             r, exact;
    size_t          plen, rlen, nlen, rest, count;
    MDB_dbi         dbi;
    MDB_val         k, v, rk, rv;
    MDB_cursor     *cur;
    mt_lmdb_cr_t    c;
    unsigned char  *nq;
    mt_store_rc_t   rc;
    unsigned char   region[MT_REGION_MAX];
    unsigned char   pfx[MT_NICHE_KEY + 1];

    rlen = 0;
    nlen = 0;
    nq = NULL;

    if (q->region != NULL) {
        rlen = strlen(q->region);

        /* longer than any stored region: nothing matches */
        if (rlen > MT_REGION_MAX) {
            return MT_STORE_OK;
        }

        mt_lmdb_upper(region, q->region, rlen);
    }

    if (q->niche != NULL) {
        nlen = strlen(q->niche);
        dbi = s->e->cr_niche;
        plen = mt_lmdb_niche_prefix(pfx, q->niche, nlen);

    } else {
        dbi = s->e->cr_region;
        memcpy(pfx, region, rlen);
        pfx[rlen] = '\0';
        plen = rlen + 1;
    }

    /* a key cut at a UTF-8 boundary keeps 197 to 200 bytes of a niche */
    exact = q->niche != NULL && nlen > MT_NICHE_KEY - 4;

    if (exact) {
        nq = malloc(nlen);
        if (nq == NULL) {
            return mt_lmdb_failf(s, MT_STORE_ERROR, "out of memory");
        }

        mt_lmdb_lower(nq, q->niche, nlen);
    }

    r = mdb_cursor_open(txn, dbi, &cur);
    if (r != 0) {
        free(nq);
        return mt_lmdb_fail(s, "mdb_cursor_open", r);
    }

    rc = MT_STORE_OK;
    count = 0;

    k.mv_data = pfx;
    k.mv_size = plen;

    for (r = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         r == 0;
         r = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size < plen || memcmp(k.mv_data, pfx, plen) != 0) {
            break;
        }

        /* a key of a niche with a NUL in it may share the prefix */
        rest = k.mv_size - plen;

        if (rest == 0 || rest > MT_UNIQUE_ID_MAX
            || memchr((unsigned char *) k.mv_data + plen, '\0', rest))
        {
            continue;
        }

        if (q->niche != NULL && q->region != NULL
            && (v.mv_size != rlen || memcmp(v.mv_data, region, rlen) != 0))
        {
            continue;
        }

        if (!exact && (count < q->skip || count - q->skip >= q->limit)) {
            count++;
            continue;
        }

        rk.mv_data = (unsigned char *) k.mv_data + plen;
        rk.mv_size = rest;

        r = mdb_get(txn, s->e->cr, &rk, &rv);
        if (r != 0) {
            rc = (r == MDB_NOTFOUND)
                 ? mt_lmdb_failf(s, MT_STORE_ERROR, "index entry without "
                                 "its creator")
                 : mt_lmdb_fail(s, "mdb_get", r);
            break;
        }

        if (mt_lmdb_cr_parse(&rv, &c) != 0) {
            rc = mt_lmdb_failf(s, MT_STORE_ERROR, "corrupt creator");
            break;
        }

        if (exact && !mt_lmdb_has_niche(&c, nq, nlen)) {
            continue;
        }

        if (count >= q->skip && count - q->skip < q->limit) {
            rc = mt_lmdb_texts_add(s, out, c.doc, c.doc_len);
            if (rc != MT_STORE_OK) {
                break;
            }
        }

        count++;
    }

    if (rc == MT_STORE_OK && r != 0 && r != MDB_NOTFOUND) {
        rc = mt_lmdb_fail(s, "mdb_cursor_get", r);
    }

    mdb_cursor_close(cur);
    free(nq);

    *total = count;

    return rc;
}


mt_store_rc_t
mt_lmdb_creator_list(mt_store_t *st, const mt_creator_query_t *q,
    mt_text_t **docs, size_t *n, size_t *total)
{
    MDB_txn          *txn;
    mt_store_rc_t     rc;
    mt_store_lmdb_t  *s;
    mt_lmdb_texts_t   out;

    s = (mt_store_lmdb_t *) st;

    *docs = NULL;
    *n = 0;
    *total = 0;

    rc = mt_lmdb_rbegin(s, &txn);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    out.items = NULL;
    out.n = 0;
    out.cap = 0;

    if (q->region == NULL && q->niche == NULL) {
        rc = mt_lmdb_cr_list_all(s, txn, q, &out, total);

    } else {
        rc = mt_lmdb_cr_list_index(s, txn, q, &out, total);
    }

    mt_lmdb_rend(s, txn);

    if (rc != MT_STORE_OK) {
        mt_texts_free(out.items, out.n);
        *total = 0;
        return rc;
    }

    *docs = out.items;
    *n = out.n;

    return MT_STORE_OK;
}

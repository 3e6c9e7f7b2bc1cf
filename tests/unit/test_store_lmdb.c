/*
 * Unit tests for the LMDB store (lib/store_lmdb*.c).  Meta structs are
 * built by hand: lib/model.c is not needed.  Every test works in its own
 * directory under /tmp, removed at the end.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"
#include "store_lmdb.h"     /* the write queue's counts, mt_lmdb_write */


#define MB  ((size_t) 1024 * 1024)


typedef struct {
    mt_creator_meta_t       meta;
    char                    niches[600];
    char                   *doc;
    mt_creator_put_t        put;
} cr_t;


/* Helpers */



static mt_store_t *
open_store(const char *dir, size_t size)
{
    mt_store_t  *s;

    s = unit_open_store(dir, size);
    assert_string_equal(s->ops->name, "lmdb");

    return s;
}


static int
fx_setup(void **state)
{
    *state = unit_fx_new("store", 64 * MB);

    return 0;
}


static void
mk_asg(mt_assignment_meta_t *m, uint32_t sec, uint32_t n, const char *user,
    int64_t created, int64_t updated, const char *status, const char *topic)
{
    memset(m, 0, sizeof(*m));
    (void) snprintf(m->id, sizeof(m->id), "%08x%016x", sec, n);
    m->user_id_len = strlen(user);
    memcpy(m->user_id, user, m->user_id_len + 1);
    m->created_at = created;
    m->updated_at = updated;
    m->version = 1;
    (void) snprintf(m->status, sizeof(m->status), "%s", status);
    m->topic_key_len = strlen(topic);
    memcpy(m->topic_key, topic, m->topic_key_len + 1);
}


static mt_store_rc_t
put_asg(mt_store_t *s, const mt_assignment_meta_t *m, int64_t expected)
{
    int   n;
    char  doc[256];

    n = snprintf(doc, sizeof(doc), "{\"id\":\"%s\",\"version\":%lld}", m->id,
                 (long long) m->version);

    return s->ops->assignment_put(s, m, doc, (size_t) n, expected);
}


/* "<id> <version>" of a stored assignment, or the rc when not OK */
static mt_store_rc_t
get_asg(mt_store_t *s, const char *id, char *out, size_t size)
{
    char          *v;
    mt_text_t      t;
    mt_store_rc_t  rc;

    rc = s->ops->assignment_get(s, id, &t);
    if (rc != MT_STORE_OK) {
        assert_null(t.data);
        return rc;
    }

    assert_int_equal(strlen(t.data), t.len);
    v = strstr(t.data, "\"version\":");

    if (v != NULL) {
        (void) snprintf(out, size, "%.24s %s", t.data + 7, v + 10);
        out[strlen(out) - 1] = '\0';    /* the closing brace */
    }

    free(t.data);

    return MT_STORE_OK;
}


/* niches given as "a|b|c" */
static void
mk_cr(cr_t *c, const char *uid, const char *region, const char *niches,
    int v, size_t pad)
{
    size_t  i, len;

    memset(c, 0, sizeof(*c));

    c->meta.unique_id_len = strlen(uid);
    memcpy(c->meta.unique_id, uid, c->meta.unique_id_len + 1);
    (void) snprintf(c->meta.region, sizeof(c->meta.region), "%s", region);
    c->meta.content_hash = 1000 + (uint64_t) v;
    c->meta.text_hash = 2000 + (uint64_t) v;

    len = strlen(niches);
    memcpy(c->niches, niches, len + 1);

    for (i = 0; i < len; i++) {
        if (c->niches[i] == '|') {
            c->niches[i] = '\0';
        }
    }

    c->meta.niches = len ? c->niches : NULL;
    c->meta.niches_len = len ? len + 1 : 0;

    c->doc = malloc(pad + 128);
    assert_non_null(c->doc);
    len = (size_t) snprintf(c->doc, 128, "{\"uniqueId\":\"%s\",\"v\":%d,"
                            "\"pad\":\"", uid, v);
    memset(c->doc + len, 'x', pad);
    memcpy(c->doc + len + pad, "\"}", 3);

    c->put.meta = &c->meta;
    c->put.doc = c->doc;
    c->put.doc_len = len + pad + 2;
}


static mt_store_rc_t
put_crs(mt_store_t *s, cr_t *c, size_t n)
{
    size_t            i;
    mt_store_rc_t     rc;
    mt_creator_put_t  items[64];

    assert_true(n <= 64);

    for (i = 0; i < n; i++) {
        items[i] = c[i].put;
    }

    rc = s->ops->creator_put_batch(s, items, n);

    for (i = 0; i < n; i++) {
        free(c[i].doc);
    }

    return rc;
}


static void
put1(mt_store_t *s, const char *uid, const char *region, const char *niches,
    int v)
{
    cr_t  c;

    mk_cr(&c, uid, region, niches, v, 0);
    assert_int_equal(put_crs(s, &c, 1), MT_STORE_OK);
}


/* checks a creator list: want is "uid uid ..." */
static void
expect_list(mt_store_t *s, const char *region, const char *niche,
    size_t skip, size_t limit, size_t want_total, const char *want)
{
    char                 got[1024];
    size_t               n, total, i, len;
    mt_text_t           *docs;
    const char          *e;
    mt_creator_query_t   q;

    q.region = region;
    q.niche = niche;
    q.skip = skip;
    q.limit = limit;

    assert_int_equal(s->ops->creator_list(s, &q, &docs, &n, &total),
                     MT_STORE_OK);

    got[0] = '\0';
    len = 0;

    for (i = 0; i < n; i++) {
        assert_int_equal(strlen(docs[i].data), docs[i].len);
        e = strchr(docs[i].data + 13, '"');
        len += (size_t) snprintf(got + len, sizeof(got) - len, "%s%.*s",
                                 i ? " " : "", (int) (e - docs[i].data - 13),
                                 docs[i].data + 13);
    }

    mt_texts_free(docs, n);

    assert_string_equal(got, want);
    assert_int_equal(total, want_total);
}


/* Opening */

static void
test_open_errors(void **state)
{
    fx_t        *fx = *state;
    char         err[256], path[128];
    FILE        *f;
    mt_store_t  *s;

    assert_null(mt_store_lmdb_open("", 0, err, sizeof(err)));
    assert_string_equal(err, "no store path");

    (void) snprintf(path, sizeof(path), "%s/file", fx->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fclose(f), 0);

    s = mt_store_lmdb_open(path, 0, err, sizeof(err));
    assert_null(s);
    assert_non_null(strstr(err, "not a directory"));

    (void) snprintf(path, sizeof(path), "%s/file/sub", fx->dir);
    assert_null(mt_store_lmdb_open(path, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "mkdir"));

    /* a missing path is created, parents too */
    (void) snprintf(path, sizeof(path), "%s/a/b//c/", fx->dir);
    s = open_store(path, 4 * MB);
    assert_int_equal(s->ops->ping(s), MT_STORE_OK);
    s->ops->close(s);
}


static void
test_reopen_and_schema(void **state)
{
    fx_t                  *fx = *state;
    int                    rc;
    char                   err[256], out[64];
    size_t                 n;
    MDB_env               *env;
    MDB_txn               *txn;
    MDB_dbi                dbi;
    MDB_val                k, v;
    uint32_t               version;
    mt_assignment_meta_t   m;

    mk_asg(&m, 100, 1, "u", 1, 1, "pending", "t");
    assert_int_equal(put_asg(fx->s, &m, 0), MT_STORE_OK);
    put1(fx->s, "alice", "US", "finance", 1);

    fx->s->ops->close(fx->s);
    fx->s = open_store(fx->dir, 64 * MB);

    assert_int_equal(get_asg(fx->s, m.id, out, sizeof(out)), MT_STORE_OK);
    assert_int_equal(fx->s->ops->creator_count(fx->s, &n), MT_STORE_OK);
    assert_int_equal(n, 1);
    expect_list(fx->s, NULL, "finance", 0, 10, 1, "alice");

    fx->s->ops->close(fx->s);
    fx->s = NULL;

    /* a newer schema, as a later module version would write it */
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, fx->dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    version = 2;
    k.mv_data = "schema";
    k.mv_size = 6;
    v.mv_data = &version;
    v.mv_size = sizeof(version);
    rc = mdb_put(txn, dbi, &k, &v, 0);
    assert_int_equal(rc, 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    assert_null(mt_store_lmdb_open(fx->dir, 64 * MB, err, sizeof(err)));
    assert_non_null(strstr(err, "schema version 2"));
}


/* Assignments */

static void
test_assignment_roundtrip(void **state)
{
    fx_t                  *fx = *state;
    char                   out[64], upper[MT_OID_LEN + 1];
    size_t                 i;
    mt_text_t              t;
    mt_store_t            *s = fx->s;
    mt_assignment_meta_t   m, m2;

    mk_asg(&m, 0x65000000, 0xabcdef, "alice", 1000, 1000, "pending", "t");
    assert_int_equal(put_asg(s, &m, 0), MT_STORE_OK);

    assert_int_equal(get_asg(s, m.id, out, sizeof(out)), MT_STORE_OK);
    assert_memory_equal(out, m.id, 24);
    assert_string_equal(out + 25, "1");

    for (i = 0; i <= MT_OID_LEN; i++) {
        upper[i] = (m.id[i] >= 'a' && m.id[i] <= 'f')
                   ? (char) (m.id[i] - 'a' + 'A') : m.id[i];
    }

    assert_int_equal(get_asg(s, upper, out, sizeof(out)), MT_STORE_OK);
    assert_memory_equal(out, m.id, 24);

    assert_int_equal(get_asg(s, "65000000000000000000ffff", out, 64),
                     MT_STORE_NOT_FOUND);
    assert_int_equal(get_asg(s, "xyz", out, 64), MT_STORE_NOT_FOUND);
    assert_int_equal(get_asg(s, "65000000000000000000ffffa", out, 64),
                     MT_STORE_NOT_FOUND);
    assert_int_equal(get_asg(s, "", out, 64), MT_STORE_NOT_FOUND);

    /* a duplicate insert, even in another case, changes nothing */
    m2 = m;
    memcpy(m2.id, upper, sizeof(upper));
    m2.version = 7;
    assert_int_equal(put_asg(s, &m2, 0), MT_STORE_CONFLICT);
    assert_int_equal(get_asg(s, m.id, out, sizeof(out)), MT_STORE_OK);
    assert_string_equal(out + 25, "1");

    /* no userId: stored, in no history */
    mk_asg(&m2, 0x65000001, 1, "", 1, 1, "pending", "t");
    assert_int_equal(put_asg(s, &m2, 0), MT_STORE_OK);
    assert_int_equal(get_asg(s, m2.id, out, sizeof(out)), MT_STORE_OK);

    /* an empty document is a document */
    mk_asg(&m2, 0x65000002, 1, "bob", 1, 1, "pending", "");
    assert_int_equal(s->ops->assignment_put(s, &m2, "", 0, 0), MT_STORE_OK);
    assert_int_equal(s->ops->assignment_get(s, m2.id, &t), MT_STORE_OK);
    assert_int_equal(t.len, 0);
    assert_string_equal(t.data, "");
    free(t.data);

    /* what no caller should send is refused, not stored */
    mk_asg(&m2, 1, 1, "bob", 1, 1, "pending", "t");
    m2.id[3] = 'g';
    assert_int_equal(put_asg(s, &m2, 0), MT_STORE_ERROR);
    mk_asg(&m2, 1, 1, "bob", 1, 1, "pending", "t");
    m2.user_id_len = MT_USER_ID_MAX + 1;
    assert_int_equal(put_asg(s, &m2, 0), MT_STORE_ERROR);
    assert_int_equal(get_asg(s, m2.id, out, 64), MT_STORE_NOT_FOUND);
}


static void
test_assignment_cas(void **state)
{
    fx_t                  *fx = *state;
    char                   out[64];
    size_t                 n, total;
    mt_text_t             *docs;
    mt_store_t            *s = fx->s;
    mt_history_query_t     q;
    mt_assignment_meta_t   m;

    mk_asg(&m, 500, 1, "alice", 1000, 1000, "pending", "t");
    assert_int_equal(put_asg(s, &m, 0), MT_STORE_OK);

    m.version = 2;
    m.updated_at = 2000;
    (void) snprintf(m.status, sizeof(m.status), "completed");
    assert_int_equal(put_asg(s, &m, 1), MT_STORE_OK);
    assert_int_equal(get_asg(s, m.id, out, sizeof(out)), MT_STORE_OK);
    assert_string_equal(out + 25, "2");

    /* stale: nothing changes */
    m.version = 3;
    assert_int_equal(put_asg(s, &m, 1), MT_STORE_CONFLICT);
    assert_non_null(strstr(mt_store_error(s), "version 2"));
    assert_int_equal(get_asg(s, m.id, out, sizeof(out)), MT_STORE_OK);
    assert_string_equal(out + 25, "2");

    /* missing */
    mk_asg(&m, 501, 1, "alice", 1000, 1000, "pending", "t");
    m.version = 2;
    assert_int_equal(put_asg(s, &m, 1), MT_STORE_NOT_FOUND);
    assert_int_equal(get_asg(s, m.id, out, 64), MT_STORE_NOT_FOUND);

    /* a new user moves the history entry */
    mk_asg(&m, 500, 1, "bob", 1000, 3000, "completed", "t");
    m.version = 3;
    assert_int_equal(put_asg(s, &m, 2), MT_STORE_OK);

    memset(&q, 0, sizeof(q));
    q.user_id = "alice";
    q.user_id_len = 5;
    q.limit = 10;
    assert_int_equal(s->ops->assignment_history(s, &q, &docs, &n, &total),
                     MT_STORE_OK);
    assert_int_equal(total, 0);
    assert_int_equal(n, 0);
    assert_null(docs);

    q.user_id = "bob";
    q.user_id_len = 3;
    assert_int_equal(s->ops->assignment_history(s, &q, &docs, &n, &total),
                     MT_STORE_OK);
    assert_int_equal(total, 1);
    assert_int_equal(n, 1);
    assert_memory_equal(docs[0].data + 7, m.id, 24);
    mt_texts_free(docs, n);

    /* and no user removes it */
    mk_asg(&m, 500, 1, "", 1000, 4000, "completed", "t");
    m.version = 4;
    assert_int_equal(put_asg(s, &m, 3), MT_STORE_OK);
    assert_int_equal(s->ops->assignment_history(s, &q, &docs, &n, &total),
                     MT_STORE_OK);
    assert_int_equal(total, 0);
}


/* the history test's reference order: field, then id; desc reversed */
static int
ref_cmp(const mt_assignment_meta_t *a, const mt_assignment_meta_t *b,
    mt_sort_t sort)
{
    int     c;
    size_t  n;

    switch (sort) {
    case MT_SORT_CREATED_AT:
        c = (a->created_at > b->created_at) - (a->created_at < b->created_at);
        break;
    case MT_SORT_UPDATED_AT:
        c = (a->updated_at > b->updated_at) - (a->updated_at < b->updated_at);
        break;
    case MT_SORT_TOPIC:
        n = a->topic_key_len < b->topic_key_len ? a->topic_key_len
                                                : b->topic_key_len;
        c = memcmp(a->topic_key, b->topic_key, n);
        if (c == 0) {
            c = (a->topic_key_len > b->topic_key_len)
                - (a->topic_key_len < b->topic_key_len);
        }
        break;
    case MT_SORT_STATUS:
    default:
        c = strcmp(a->status, b->status);
        break;
    }

    return c ? c : strcmp(a->id, b->id);
}


static void
expect_history(mt_store_t *s, const mt_assignment_meta_t *all, size_t nall,
    const char *user, mt_sort_t sort, int desc, size_t skip, size_t limit)
{
    size_t                       i, j, n, total, want, cnt;
    mt_text_t                   *docs;
    mt_history_query_t           q;
    const mt_assignment_meta_t  *ref[64], *t;

    memset(ref, 0, sizeof(ref));
    cnt = 0;

    for (i = 0; i < nall; i++) {
        if (strcmp(all[i].user_id, user) == 0) {
            ref[cnt++] = &all[i];
        }
    }

    for (i = 1; i < cnt; i++) {
        for (j = i; j > 0; j--) {
            if ((ref_cmp(ref[j - 1], ref[j], sort) > 0) == !desc) {
                t = ref[j];
                ref[j] = ref[j - 1];
                ref[j - 1] = t;
            }
        }
    }

    q.user_id = user;
    q.user_id_len = strlen(user);
    q.sort = sort;
    q.desc = desc;
    q.skip = skip;
    q.limit = limit;

    assert_int_equal(s->ops->assignment_history(s, &q, &docs, &n, &total),
                     MT_STORE_OK);

    want = skip >= cnt ? 0 : (cnt - skip < limit ? cnt - skip : limit);

    assert_int_equal(total, cnt);
    assert_int_equal(n, want);

    for (i = 0; i < n && skip + i < cnt; i++) {
        assert_memory_equal(docs[i].data + 7, ref[skip + i]->id, 24);
    }

    mt_texts_free(docs, n);
}


static void
test_history(void **state)
{
    fx_t                  *fx = *state;
    int                    desc;
    size_t                 i, p, n;
    mt_sort_t              sort;
    mt_store_t            *s = fx->s;
    mt_assignment_meta_t   all[40];

    static const char  *users[] = { "alice", "alicex", "alic", "bob" };
    static const char  *statuses[] = {
        "pending", "completed", "failed", "processing", "pending"
    };
    static const char  *topics[] = {
        "b", "a", "ab", "", "B", "\xc3\xa9t\xc3\xa9", "a", "abc\xff"
    };
    static const size_t  pages[][2] = {
        { 0, 100 }, { 0, 5 }, { 5, 5 }, { 10, 5 }, { 17, 1 }, { 18, 3 },
        { 50, 1 }, { 3, 0 }
    };

    n = 0;

    /* ids out of order with created_at, and ties on every field */
    for (i = 0; i < 30; i++) {
        mk_asg(&all[n], 3000 - (uint32_t) (i % 7), (uint32_t) i,
               i < 18 ? users[0] : users[1 + i % 3],
               5000 - (int64_t) (i % 4) * 10, 7000 + (int64_t) (i % 3),
               statuses[i % 5], topics[i % 8]);
        assert_int_equal(put_asg(s, &all[n], 0), MT_STORE_OK);
        n++;
    }

    for (sort = MT_SORT_CREATED_AT; sort <= MT_SORT_STATUS; sort++) {
        for (desc = 0; desc <= 1; desc++) {
            for (p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
                expect_history(s, all, n, "alice", sort, desc, pages[p][0],
                               pages[p][1]);
            }

            for (i = 1; i < 4; i++) {
                expect_history(s, all, n, users[i], sort, desc, 0, 100);
            }
        }
    }

    expect_history(s, all, n, "nobody", MT_SORT_CREATED_AT, 1, 0, 10);
    expect_history(s, all, n, "", MT_SORT_CREATED_AT, 1, 0, 10);
    expect_history(s, all, n, "ali", MT_SORT_CREATED_AT, 1, 0, 10);
}


/*
 * Ids as two worker processes make them: the second, each process's
 * random part, its counter.  createdAt is in the id's second, but within
 * a second the id order (random part first) is not the createdAt order.
 */
static void
mk_asg_proc(mt_assignment_meta_t *m, uint32_t sec, int proc, uint32_t cnt,
    const char *user, int64_t ms, const char *topic)
{
    static const char  *rnd[] = { "c0ffee0001", "0badf00d02" };

    mk_asg(m, sec, 0, user, (int64_t) sec * 1000 + ms,
           (int64_t) sec * 1000 + ms, "pending", topic);
    (void) snprintf(m->id, sizeof(m->id), "%08x%s%06x", sec, rnd[proc],
                    cnt & 0xffffff);
}


static void
test_history_seconds(void **state)
{
    fx_t                  *fx = *state;
    int                    desc;
    size_t                 i, n, skip, limit;
    uint32_t               c[2];
    mt_sort_t              sort;
    mt_store_t            *s = fx->s;
    mt_assignment_meta_t   all[60];

    /* runs of 1 to 5 in a second, both processes; ms ties too */
    static const int64_t  ms[] = { 999, 0, 500, 500, 1, 998, 250, 750 };

    n = 0;
    c[0] = 0xfffffe;    /* the counter wraps: it orders after the random */
    c[1] = 7;

    for (i = 0; n < 48; i++) {
        mk_asg_proc(&all[n], 2000 + (uint32_t) (i / 3), (int) (i % 2),
                    c[i % 2]++, i % 5 ? "alice" : "bob", ms[i % 8],
                    i % 3 ? "t" : "u");
        assert_int_equal(put_asg(s, &all[n], 0), MT_STORE_OK);
        n++;
    }

    for (sort = MT_SORT_CREATED_AT; sort <= MT_SORT_UPDATED_AT; sort++) {
        for (desc = 0; desc <= 1; desc++) {
            for (skip = 0; skip <= 40; skip += 3) {
                for (limit = 1; limit <= 7; limit += 3) {
                    expect_history(s, all, n, "alice", sort, desc, skip,
                                   limit);
                }
            }

            expect_history(s, all, n, "alice", sort, desc, 0, 50);
            expect_history(s, all, n, "bob", sort, desc, 0, 50);
            expect_history(s, all, n, "bob", sort, desc, 2, 3);
        }
    }

    /* a later update leaves its second: the order is still exact */
    all[4].version = 2;
    all[4].updated_at = 1;
    assert_int_equal(put_asg(s, &all[4], 1), MT_STORE_OK);
    all[9].version = 2;
    all[9].updated_at = 9999999;
    assert_int_equal(put_asg(s, &all[9], 1), MT_STORE_OK);

    for (desc = 0; desc <= 1; desc++) {
        for (skip = 0; skip <= 40; skip += 7) {
            expect_history(s, all, n, "alice", MT_SORT_UPDATED_AT, desc,
                           skip, 5);
            expect_history(s, all, n, "alice", MT_SORT_CREATED_AT, desc,
                           skip, 5);
        }
    }

    /* in the key order already: nothing to sort */
    for (i = 0; i < 10; i++) {
        mk_asg_proc(&all[n + i], 3000 + (uint32_t) i / 2, 0,
                    (uint32_t) i, "carol", (int64_t) i, "t");
        assert_int_equal(put_asg(s, &all[n + i], 0), MT_STORE_OK);
    }

    n += 10;

    for (desc = 0; desc <= 1; desc++) {
        for (skip = 0; skip <= 10; skip += 3) {
            expect_history(s, all, n, "carol", MT_SORT_CREATED_AT, desc,
                           skip, 4);
        }

        expect_history(s, all, n, "carol", MT_SORT_TOPIC, desc, 0, 50);
        expect_history(s, all, n, "alice", MT_SORT_TOPIC, desc, 3, 9);
        expect_history(s, all, n, "alice", MT_SORT_STATUS, desc, 3, 9);
    }
}


static void
test_purge(void **state)
{
    fx_t                  *fx = *state;
    char                   out[64];
    size_t                 i, purged;
    mt_store_t            *s = fx->s;
    mt_assignment_meta_t   all[12];

    static const char  *users[] = { "u1", "u2", "" };

    for (i = 0; i < 10; i++) {
        mk_asg(&all[i], 1000 + (uint32_t) i, 1, users[i % 3],
               (int64_t) (1000 + i) * 1000 + 500, 0, "pending", "t");
        assert_int_equal(put_asg(s, &all[i], 0), MT_STORE_OK);
    }

    /* same second, ids in the other order than created_at */
    mk_asg(&all[10], 1005, 0, "u1", 1005900, 0, "pending", "t");
    mk_asg(&all[11], 1005, 2, "u2", 1005100, 0, "pending", "t");
    assert_int_equal(put_asg(s, &all[10], 0), MT_STORE_OK);
    assert_int_equal(put_asg(s, &all[11], 0), MT_STORE_OK);

    assert_int_equal(s->ops->assignment_purge(s, 1005500, 0, &purged),
                     MT_STORE_OK);
    assert_int_equal(purged, 0);

    assert_int_equal(s->ops->assignment_purge(s, 1005500, 3, &purged),
                     MT_STORE_OK);
    assert_int_equal(purged, 3);

    /* 1003, 1004, then 1005:2 past two newer ones of its second */
    assert_int_equal(s->ops->assignment_purge(s, 1005500, 100, &purged),
                     MT_STORE_OK);
    assert_int_equal(purged, 3);

    assert_int_equal(s->ops->assignment_purge(s, 1005500, 100, &purged),
                     MT_STORE_OK);
    assert_int_equal(purged, 0);

    for (i = 0; i < 12; i++) {
        assert_int_equal(get_asg(s, all[i].id, out, sizeof(out)),
                         (i < 5 || i == 11) ? MT_STORE_NOT_FOUND
                                            : MT_STORE_OK);
    }

    /* the index entries went with them */
    expect_history(s, all + 5, 6, "u1", MT_SORT_CREATED_AT, 0, 0, 100);
    expect_history(s, all + 5, 6, "u2", MT_SORT_CREATED_AT, 0, 0, 100);

    assert_int_equal(s->ops->assignment_purge(s, INT64_MAX, 100, &purged),
                     MT_STORE_OK);
    assert_int_equal(purged, 6);
    expect_history(s, all, 0, "u1", MT_SORT_CREATED_AT, 0, 0, 100);
}


/* Creators */

static void
test_creators_put_get(void **state)
{
    fx_t                *fx = *state;
    size_t               n;
    cr_t                 c[3];
    mt_text_t            t;
    mt_store_t          *s = fx->s;
    mt_creator_stamp_t   st;

    mk_cr(&c[0], "alice", "US", "finance|tech", 1, 0);
    mk_cr(&c[1], "bob", "us", "Finance", 2, 0);
    mk_cr(&c[2], "carol", "UK", "", 3, 0);
    assert_int_equal(put_crs(s, c, 3), MT_STORE_OK);

    assert_int_equal(s->ops->creator_count(s, &n), MT_STORE_OK);
    assert_int_equal(n, 3);

    assert_int_equal(s->ops->creator_get(s, "bob", 3, &t, &st), MT_STORE_OK);
    assert_string_equal(t.data, "{\"uniqueId\":\"bob\",\"v\":2,\"pad\":\"\"}");
    assert_int_equal(t.len, strlen(t.data));
    assert_int_equal(st.content_hash, 1002);
    assert_int_equal(st.text_hash, 2002);
    free(t.data);

    memset(&st, 0, sizeof(st));
    assert_int_equal(s->ops->creator_get(s, "carolX", 5, NULL, &st),
                     MT_STORE_OK);
    assert_int_equal(st.text_hash, 2003);

    assert_int_equal(s->ops->creator_get(s, "alice", 5, &t, NULL),
                     MT_STORE_OK);
    free(t.data);

    assert_int_equal(s->ops->creator_get(s, "Alice", 5, &t, &st),
                     MT_STORE_NOT_FOUND);
    assert_null(t.data);
    assert_int_equal(s->ops->creator_get(s, "alice", 0, &t, &st),
                     MT_STORE_NOT_FOUND);

    /* a bad item: refused, the batch not written */
    mk_cr(&c[0], "dave", "US", "x", 4, 0);
    mk_cr(&c[1], "", "US", "x", 5, 0);
    assert_int_equal(put_crs(s, c, 2), MT_STORE_ERROR);
    assert_int_equal(s->ops->creator_count(s, &n), MT_STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(s->ops->creator_put_batch(s, NULL, 0), MT_STORE_OK);
}


static void
test_creators_update(void **state)
{
    fx_t                *fx = *state;
    cr_t                 c[2];
    mt_text_t            t;
    mt_store_t          *s = fx->s;
    mt_creator_stamp_t   st;

    put1(s, "alice", "US", "finance|tech", 1);
    put1(s, "bob", "US", "finance", 2);
    expect_list(s, "US", NULL, 0, 10, 2, "alice bob");

    put1(s, "alice", "UK", "cooking", 3);
    expect_list(s, "US", NULL, 0, 10, 1, "bob");
    expect_list(s, "UK", NULL, 0, 10, 1, "alice");
    expect_list(s, NULL, "finance", 0, 10, 1, "bob");
    expect_list(s, NULL, "tech", 0, 10, 0, "");
    expect_list(s, NULL, "cooking", 0, 10, 1, "alice");
    expect_list(s, "US", "cooking", 0, 10, 0, "");

    assert_int_equal(s->ops->creator_get(s, "alice", 5, &t, &st),
                     MT_STORE_OK);
    assert_non_null(strstr(t.data, "\"v\":3"));
    assert_int_equal(st.content_hash, 1003);
    free(t.data);

    /* same index keys, new document */
    put1(s, "alice", "uk", "cooking", 4);
    expect_list(s, "UK", "COOKING", 0, 10, 1, "alice");
    assert_int_equal(s->ops->creator_get(s, "alice", 5, &t, NULL),
                     MT_STORE_OK);
    assert_non_null(strstr(t.data, "\"v\":4"));
    free(t.data);

    /* one creator twice in a batch: the last wins, wholly */
    mk_cr(&c[0], "zed", "US", "a|b", 5, 0);
    mk_cr(&c[1], "zed", "EU", "c", 6, 0);
    assert_int_equal(put_crs(s, c, 2), MT_STORE_OK);
    expect_list(s, "US", NULL, 0, 10, 1, "bob");
    expect_list(s, "EU", NULL, 0, 10, 1, "zed");
    expect_list(s, NULL, "a", 0, 10, 0, "");
    expect_list(s, NULL, "c", 0, 10, 1, "zed");

    /* the niches gone */
    put1(s, "zed", "EU", "", 7);
    expect_list(s, NULL, "c", 0, 10, 0, "");
    expect_list(s, "eu", NULL, 0, 10, 1, "zed");
}


static void
test_creators_list(void **state)
{
    fx_t        *fx = *state;
    char         a200[256], q[256];
    mt_store_t  *s = fx->s;

    put1(s, "frank", "US", "tech|finance", 6);
    put1(s, "alice", "US", "finance|tech", 1);
    put1(s, "bob", "us", "Finance|finance", 2);
    put1(s, "carol", "UK", "finance|cooking", 3);
    put1(s, "dave", "US", "cooking", 4);
    put1(s, "eve", "EU", "", 5);

    expect_list(s, NULL, NULL, 0, 100, 6, "alice bob carol dave eve frank");
    expect_list(s, NULL, NULL, 2, 2, 6, "carol dave");
    expect_list(s, NULL, NULL, 5, 2, 6, "frank");
    expect_list(s, NULL, NULL, 6, 2, 6, "");
    expect_list(s, NULL, NULL, 0, 0, 6, "");

    expect_list(s, "US", NULL, 0, 20, 4, "alice bob dave frank");
    expect_list(s, "us", NULL, 1, 2, 4, "bob dave");
    expect_list(s, "Us", NULL, 4, 2, 4, "");
    expect_list(s, "EU", NULL, 0, 20, 1, "eve");
    expect_list(s, "XX", NULL, 0, 20, 0, "");
    expect_list(s, "U", NULL, 0, 20, 0, "");
    expect_list(s, "USAUSAUSAUSA", NULL, 0, 20, 0, "");

    expect_list(s, NULL, "FINANCE", 0, 20, 4, "alice bob carol frank");
    expect_list(s, NULL, "finance", 3, 20, 4, "frank");
    expect_list(s, NULL, "cooking", 0, 1, 2, "carol");
    expect_list(s, NULL, "cook", 0, 20, 0, "");
    expect_list(s, NULL, "", 0, 20, 0, "");

    expect_list(s, "us", "Finance", 0, 20, 3, "alice bob frank");
    expect_list(s, "US", "finance", 1, 1, 3, "bob");
    expect_list(s, "UK", "finance", 0, 20, 1, "carol");
    expect_list(s, "EU", "finance", 0, 20, 0, "");

    /* niches past the key's 200 bytes: exact matches all the same */
    memset(a200, 'a', 200);
    memcpy(a200 + 200, "bbb", 4);
    put1(s, "long1", "US", a200, 7);
    memcpy(a200 + 200, "ccc", 4);
    put1(s, "long2", "US", a200, 8);
    a200[200] = '\0';
    put1(s, "long3", "US", a200, 9);

    memset(q, 'A', 200);
    memcpy(q + 200, "BBB", 4);
    expect_list(s, NULL, q, 0, 20, 1, "long1");
    expect_list(s, "us", q, 0, 20, 1, "long1");
    expect_list(s, "uk", q, 0, 20, 0, "");
    q[200] = '\0';
    expect_list(s, NULL, q, 0, 20, 1, "long3");
    q[199] = '\0';
    expect_list(s, NULL, q, 0, 20, 0, "");

    /* a UTF-8 character across byte 200 is not cut in two */
    memset(a200, 'a', 199);
    memcpy(a200 + 199, "\xc3\xa9z", 4);
    put1(s, "utf1", "EU", a200, 10);
    expect_list(s, NULL, a200, 0, 20, 1, "utf1");
    a200[199] = '\0';
    expect_list(s, NULL, a200, 0, 20, 0, "");
}


static int
scan_cb(void *data, const char *uid, size_t len, const char *doc,
    size_t doc_len)
{
    char  *out = data;
    size_t n;

    assert_true(doc_len > 13);
    assert_memory_equal(doc + 13, uid, len);

    n = strlen(out);
    (void) snprintf(out + n, 256 - n, "%s%.*s", n ? " " : "", (int) len, uid);

    return strstr(out, "stop") != NULL;
}


static void
test_creators_scan(void **state)
{
    fx_t        *fx = *state;
    char         out[256];
    mt_store_t  *s = fx->s;

    out[0] = '\0';
    assert_int_equal(s->ops->creator_scan(s, scan_cb, out), MT_STORE_OK);
    assert_string_equal(out, "");

    put1(s, "m", "US", "x", 1);
    put1(s, "b", "US", "x", 1);
    put1(s, "stop", "US", "x", 1);
    put1(s, "a.b", "US", "x", 1);
    put1(s, "z", "US", "x", 1);

    assert_int_equal(s->ops->creator_scan(s, scan_cb, out), MT_STORE_OK);
    assert_string_equal(out, "a.b b m stop");
}


/* Limits */

static void
test_map_full(void **state)
{
    fx_t                  *fx = *state;
    int                    i;
    char                   dir[128], out[64], *big;
    size_t                 n, puts;
    cr_t                   c[8];
    mt_store_t            *s;
    mt_store_rc_t          rc;
    mt_assignment_meta_t   m[64];

    (void) snprintf(dir, sizeof(dir), "%s/tiny", fx->dir);
    s = open_store(dir, (size_t) 256 * 1024);

    for (i = 0; i < 2; i++) {
        mk_cr(&c[i], i ? "b0" : "a0", "US", "n", i, 4000);
    }

    assert_int_equal(put_crs(s, c, 2), MT_STORE_OK);

    /* too big as a whole: nothing of it is written */
    mk_cr(&c[0], "a0", "EU", "m", 99, 100);

    for (i = 1; i < 8; i++) {
        (void) snprintf(out, sizeof(out), "c%d", i);
        mk_cr(&c[i], out, "US", "n", 10 + i, 40000);
    }

    assert_int_equal(put_crs(s, c, 8), MT_STORE_FULL);
    assert_non_null(strstr(mt_store_error(s), "MDB_MAP_FULL"));

    assert_int_equal(s->ops->creator_count(s, &n), MT_STORE_OK);
    assert_int_equal(n, 2);
    expect_list(s, "US", NULL, 0, 10, 2, "a0 b0");
    expect_list(s, "EU", NULL, 0, 10, 0, "");
    expect_list(s, NULL, "n", 0, 10, 2, "a0 b0");

    /* assignments until full; the earlier ones stay readable */
    big = malloc(8192);
    assert_non_null(big);
    memset(big, ' ', 8192);

    rc = MT_STORE_OK;

    for (puts = 0; puts < 63; puts++) {
        mk_asg(&m[puts], 100, (uint32_t) puts, "u", 1, 1, "pending", "t");
        memcpy(big, "{\"id\":\"", 7);
        memcpy(big + 7, m[puts].id, 24);
        rc = s->ops->assignment_put(s, &m[puts], big, 8192, 0);
        if (rc != MT_STORE_OK) {
            break;
        }
    }

    free(big);

    assert_int_equal(rc, MT_STORE_FULL);
    assert_true(puts > 0 && puts < 63);
    assert_int_equal(s->ops->ping(s), MT_STORE_OK);
    assert_int_equal(get_asg(s, m[0].id, out, sizeof(out)), MT_STORE_OK);
    assert_int_equal(get_asg(s, m[puts].id, out, sizeof(out)),
                     MT_STORE_NOT_FOUND);
    expect_history(s, m, puts, "u", MT_SORT_CREATED_AT, 0, 0, 100);

    /* freeing space makes writes work again */
    assert_int_equal(s->ops->assignment_purge(s, 2, 100, &n), MT_STORE_OK);
    assert_int_equal(n, puts);
    put1(s, "c0", "US", "n", 1);
    expect_list(s, NULL, "n", 0, 10, 3, "a0 b0 c0");

    s->ops->close(s);
}


static void
test_two_handles(void **state)
{
    fx_t                  *fx = *state;
    char                   out[64], alias[128];
    size_t                 n;
    mt_store_t            *s2, *s3;
    mt_assignment_meta_t   m;

    (void) snprintf(alias, sizeof(alias), "%s/./", fx->dir);
    s2 = open_store(fx->dir, 64 * MB);
    s3 = open_store(alias, 64 * MB);

    mk_asg(&m, 100, 1, "u", 1, 1, "pending", "t");
    assert_int_equal(put_asg(fx->s, &m, 0), MT_STORE_OK);
    assert_int_equal(get_asg(s2, m.id, out, sizeof(out)), MT_STORE_OK);
    assert_int_equal(get_asg(s3, m.id, out, sizeof(out)), MT_STORE_OK);

    put1(s2, "alice", "US", "x", 1);
    assert_int_equal(fx->s->ops->creator_count(fx->s, &n), MT_STORE_OK);
    assert_int_equal(n, 1);

    s2->ops->close(s2);
    s3->ops->close(s3);

    assert_int_equal(fx->s->ops->creator_count(fx->s, &n), MT_STORE_OK);
    assert_int_equal(n, 1);
    put1(fx->s, "bob", "US", "x", 2);
    expect_list(fx->s, "US", "X", 0, 10, 2, "alice bob");
}


/* in a forked child: no cmocka asserts, a result character instead */
static char
fork_child(fx_t *fx, const mt_assignment_meta_t *m)
{
    char         err[256];
    cr_t         c;
    mt_store_t  *s;

    s = mt_store_lmdb_open(fx->dir, 64 * MB, err, sizeof(err));
    if (s == NULL) {
        return '1';
    }

    if (put_asg(s, m, 0) != MT_STORE_OK) {
        return '2';
    }

    mk_cr(&c, "child", "US", "x", 1, 0);
    if (put_crs(s, &c, 1) != MT_STORE_OK) {
        return '3';
    }

    s->ops->close(s);

    /* the inherited handle is the parent's: closing it is harmless */
    fx->s->ops->close(fx->s);

    return '0';
}


static void
test_fork(void **state)
{
    fx_t                  *fx = *state;
    int                    status, fds[2];
    char                   out[64], result;
    pid_t                  pid;
    mt_assignment_meta_t   m;

    /* the parent's handle holds a cached read txn */
    assert_int_equal(fx->s->ops->ping(fx->s), MT_STORE_OK);

    mk_asg(&m, 200, 1, "child", 1, 1, "pending", "t");

    /*
     * The child reports through a pipe, not its exit status: under
     * valgrind, what it inherited and leaves alone (the parent's
     * environment) counts as a leak in its exit status.
     */
    assert_int_equal(pipe(fds), 0);

    pid = fork();
    assert_true(pid >= 0);

    if (pid == 0) {
        result = fork_child(fx, &m);
        _exit(write(fds[1], &result, 1) == 1 ? 0 : 1);
    }

    assert_int_equal(close(fds[1]), 0);
    assert_int_equal(read(fds[0], &result, 1), 1);
    assert_int_equal(close(fds[0]), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(result, '0');

    assert_int_equal(get_asg(fx->s, m.id, out, sizeof(out)), MT_STORE_OK);
    expect_list(fx->s, "US", NULL, 0, 10, 1, "child");
    put1(fx->s, "parent", "US", "x", 2);
    expect_list(fx->s, NULL, "x", 0, 10, 2, "child parent");
}


typedef struct {
    mt_store_t             *s;
    const char             *id;
    int                     failures;
} reader_t;


static void *
reader(void *data)
{
    int                  i;
    size_t               n, total;
    reader_t            *r = data;
    mt_text_t            t, *docs;
    mt_creator_query_t   q;

    memset(&q, 0, sizeof(q));
    q.niche = "x";
    q.limit = 10;

    for (i = 0; i < 2000; i++) {
        if (r->s->ops->assignment_get(r->s, r->id, &t) != MT_STORE_OK) {
            r->failures++;
        } else {
            free(t.data);
        }

        if (r->s->ops->creator_list(r->s, &q, &docs, &n, &total)
            != MT_STORE_OK || total < 1 || n != (total < 10 ? total : 10))
        {
            r->failures++;
        }

        mt_texts_free(docs, n);
    }

    return NULL;
}


static void
test_threads(void **state)
{
    fx_t                  *fx = *state;
    int                    i;
    char                   uid[16];
    size_t                 n;
    pthread_t              th[4];
    reader_t               rd[4];
    mt_assignment_meta_t   m;

    mk_asg(&m, 300, 1, "u", 1, 1, "pending", "t");
    assert_int_equal(put_asg(fx->s, &m, 0), MT_STORE_OK);
    put1(fx->s, "c0", "US", "x", 0);

    for (i = 0; i < 4; i++) {
        rd[i].s = fx->s;
        rd[i].id = m.id;
        rd[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, reader, &rd[i]), 0);
    }

    for (i = 1; i < 50; i++) {
        (void) snprintf(uid, sizeof(uid), "c%d", i);
        put1(fx->s, uid, "US", "x", i);
    }

    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(rd[i].failures, 0);
    }

    assert_int_equal(fx->s->ops->creator_count(fx->s, &n), MT_STORE_OK);
    assert_int_equal(n, 50);
}


static double
now_ms(void)
{
    struct timespec  ts;

    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);

    return (double) ts.tv_sec * 1000 + (double) ts.tv_nsec / 1e6;
}


static void
test_big_batch(void **state)
{
    fx_t              *fx = *state;
    char              *docs, *niches;
    size_t             i, j, n, total, len;
    double             t0, t1, t2;
    char               dir[128];
    double             t3;
    mt_text_t         *got, got1;
    mt_store_t        *s;
    mt_creator_meta_t *metas;
    mt_creator_put_t  *items;
    mt_creator_query_t q;

    /* the size of the real creators (shared/data), an overflow page each */
    enum { N = 10000, DOC = 2300 };

    metas = calloc(N, sizeof(mt_creator_meta_t));
    items = calloc(N, sizeof(mt_creator_put_t));
    docs = malloc((size_t) N * DOC);
    niches = malloc((size_t) N * 64);
    assert_non_null(metas);
    assert_non_null(items);
    assert_non_null(docs);
    assert_non_null(niches);

    memset(docs, 'd', (size_t) N * DOC);

    for (i = 0; i < N; i++) {
        metas[i].unique_id_len = (size_t) snprintf(metas[i].unique_id,
                                                   sizeof(metas[i].unique_id),
                                                   "creator_%05zu", i);
        (void) snprintf(metas[i].region, sizeof(metas[i].region), "%s",
                        i % 3 ? "US" : "UK");
        metas[i].niches = niches + i * 64;
        len = (size_t) snprintf(metas[i].niches, 64, "niche%zu|n%zu|all",
                                i % 10, i % 7);
        metas[i].niches_len = len + 1;

        for (j = 0; j < len; j++) {
            if (metas[i].niches[j] == '|') {
                metas[i].niches[j] = '\0';
            }
        }

        metas[i].content_hash = i;
        items[i].meta = &metas[i];
        items[i].doc = docs + i * DOC;
        items[i].doc_len = DOC;
    }

    /* an update rewrites every page: the map holds both copies */
    (void) snprintf(dir, sizeof(dir), "%s/big", fx->dir);
    s = open_store(dir, 512 * MB);

    t0 = now_ms();
    assert_int_equal(s->ops->creator_put_batch(s, items, N), MT_STORE_OK);
    t1 = now_ms();
    assert_int_equal(s->ops->creator_put_batch(s, items, N), MT_STORE_OK);
    t2 = now_ms();

    for (i = 0; i < N; i++) {
        assert_int_equal(s->ops->creator_get(s, metas[i].unique_id,
                                             metas[i].unique_id_len,
                                             &got1, NULL),
                         MT_STORE_OK);
        free(got1.data);
    }

    t3 = now_ms();

    print_message("    %d creators of %d bytes: batch insert %.0f ms, "
                  "batch update %.0f ms, %d gets %.0f ms\n", N, DOC,
                  t1 - t0, t2 - t1, N, t3 - t2);

    assert_int_equal(s->ops->creator_count(s, &n), MT_STORE_OK);
    assert_int_equal(n, N);

    memset(&q, 0, sizeof(q));
    q.niche = "all";
    q.region = "uk";
    q.skip = 3330;
    q.limit = 100;
    assert_int_equal(s->ops->creator_list(s, &q, &got, &n, &total),
                     MT_STORE_OK);
    assert_int_equal(total, (N + 2) / 3);
    assert_int_equal(n, 4);
    mt_texts_free(got, n);

    s->ops->close(s);
    free(metas);
    free(items);
    free(docs);
    free(niches);
}


/* Group commit */

#define WR_THREADS  16
#define WR_PUTS     100

typedef struct {
    mt_store_t             *s;
    int                     t;
    int                     failures;
    pthread_barrier_t      *barrier;
    int                     rounds;
    int                     won[64];
    mt_assignment_meta_t   *m;
} writer_t;


static void
mk_asg_thread(mt_assignment_meta_t *m, int t, int i)
{
    char  user[16];

    (void) snprintf(user, sizeof(user), "user%02d", t);
    mk_asg(m, 4000 + (uint32_t) i / 50, (uint32_t) (t << 16 | i), user,
           (int64_t) (4000 + i / 50) * 1000 + i % 50, 0, "pending", "t");
}


/* inserts its puts, and updates every other one to version 2 */
static void *
writer(void *data)
{
    int                    i;
    writer_t              *w = data;
    mt_assignment_meta_t   m;

    for (i = 0; i < WR_PUTS; i++) {
        mk_asg_thread(&m, w->t, i);

        if (put_asg(w->s, &m, 0) != MT_STORE_OK) {
            w->failures++;
        }

        if (i % 2 == 1) {
            mk_asg_thread(&m, w->t, i - 1);
            m.version = 2;

            if (put_asg(w->s, &m, 1) != MT_STORE_OK) {
                w->failures++;
            }
        }
    }

    return NULL;
}


static void
run_writers(mt_store_t **handles, size_t nhandles, const char *what)
{
    int                    t, i;
    char                   out[64], want[64];
    double                 t0, t1;
    uint64_t               writes, commits;
    pthread_t              th[WR_THREADS];
    writer_t               w[WR_THREADS];
    mt_lmdb_env_t         *e;
    mt_assignment_meta_t   m;

    e = ((mt_store_lmdb_t *) handles[0])->e;
    writes = e->writes;
    commits = e->commits;

    t0 = now_ms();

    for (t = 0; t < WR_THREADS; t++) {
        memset(&w[t], 0, sizeof(w[t]));
        w[t].s = handles[(size_t) t % nhandles];
        w[t].t = t;
        assert_int_equal(pthread_create(&th[t], NULL, writer, &w[t]), 0);
    }

    for (t = 0; t < WR_THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(w[t].failures, 0);
    }

    t1 = now_ms();

    writes = e->writes - writes;
    commits = e->commits - commits;

    print_message("    %s: %d threads x %d puts + %d updates: %.0f ms, "
                  "%llu writes in %llu commits\n", what, WR_THREADS,
                  WR_PUTS, WR_PUTS / 2, t1 - t0, (unsigned long long) writes,
                  (unsigned long long) commits);

    assert_int_equal(writes, WR_THREADS * (WR_PUTS + WR_PUTS / 2));
    assert_true(commits >= 1 && commits <= writes);

    for (t = 0; t < WR_THREADS; t++) {
        for (i = 0; i < WR_PUTS; i++) {
            mk_asg_thread(&m, t, i);
            assert_int_equal(get_asg(handles[0], m.id, out, sizeof(out)),
                             MT_STORE_OK);
            (void) snprintf(want, sizeof(want), "%s %d", m.id,
                            i % 2 ? 1 : 2);
            assert_string_equal(out, want);
        }
    }
}


static void
test_group_puts(void **state)
{
    fx_t                *fx = *state;
    int                  t;
    char                 dir[128], user[16];
    size_t               n, total;
    mt_text_t           *docs;
    mt_store_t          *h[2];
    mt_history_query_t   q;

    h[0] = fx->s;
    run_writers(h, 1, "one handle");

    /* every user's history is whole */
    for (t = 0; t < WR_THREADS; t++) {
        (void) snprintf(user, sizeof(user), "user%02d", t);
        memset(&q, 0, sizeof(q));
        q.user_id = user;
        q.user_id_len = strlen(user);
        q.desc = 1;
        q.limit = 3;
        assert_int_equal(fx->s->ops->assignment_history(fx->s, &q, &docs,
                                                        &n, &total),
                         MT_STORE_OK);
        assert_int_equal(total, WR_PUTS);
        assert_int_equal(n, 3);
        mt_texts_free(docs, n);
    }

    (void) snprintf(dir, sizeof(dir), "%s/two", fx->dir);
    h[0] = open_store(dir, 64 * MB);
    h[1] = open_store(dir, 64 * MB);
    assert_ptr_equal(((mt_store_lmdb_t *) h[0])->e,
                     ((mt_store_lmdb_t *) h[1])->e);

    run_writers(h, 2, "two handles");

    h[0]->ops->close(h[0]);
    h[1]->ops->close(h[1]);
}


/* rounds of CAS updates of one assignment, all with the same version */
static void *
cas_writer(void *data)
{
    int                    r;
    writer_t              *w = data;
    mt_store_rc_t          rc;
    mt_assignment_meta_t   m;

    for (r = 0; r < w->rounds; r++) {
        (void) pthread_barrier_wait(w->barrier);

        m = *w->m;
        m.version = r + 2;
        m.updated_at = w->t;

        rc = put_asg(w->s, &m, r + 1);

        if (rc == MT_STORE_OK) {
            w->won[r] = 1;

        } else if (rc != MT_STORE_CONFLICT
                   || strstr(mt_store_error(w->s), "is at version") == NULL)
        {
            w->failures++;
        }

        (void) pthread_barrier_wait(w->barrier);
    }

    return NULL;
}


static void
test_group_cas(void **state)
{
    fx_t                  *fx = *state;
    int                    t, r, wins;
    char                   out[64];
    pthread_t              th[8];
    writer_t               w[8];
    pthread_barrier_t      barrier;
    mt_assignment_meta_t   m;

    mk_asg(&m, 5000, 1, "u", 1, 1, "pending", "t");
    assert_int_equal(put_asg(fx->s, &m, 0), MT_STORE_OK);

    assert_int_equal(pthread_barrier_init(&barrier, NULL, 8), 0);

    /* a handle each: each CONFLICT's message is checked on its own */
    for (t = 0; t < 8; t++) {
        memset(&w[t], 0, sizeof(w[t]));
        w[t].s = open_store(fx->dir, 64 * MB);
        w[t].t = t;
        w[t].barrier = &barrier;
        w[t].rounds = 40;
        w[t].m = &m;
        assert_int_equal(pthread_create(&th[t], NULL, cas_writer, &w[t]), 0);
    }

    for (t = 0; t < 8; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(w[t].failures, 0);
    }

    for (r = 0; r < 40; r++) {
        wins = 0;

        for (t = 0; t < 8; t++) {
            wins += w[t].won[r];
        }

        assert_int_equal(wins, 1);
    }

    for (t = 0; t < 8; t++) {
        w[t].s->ops->close(w[t].s);
    }

    assert_int_equal(pthread_barrier_destroy(&barrier), 0);
    assert_int_equal(get_asg(fx->s, m.id, out, sizeof(out)), MT_STORE_OK);
    assert_string_equal(out + 25, "41");
}


/* creator batches, assignment puts and purges, all at once */
typedef struct {
    mt_store_t             *s;
    int                     kind;       /* 0 creators, 1 puts, 2 purges */
    int                     t;
    size_t                  purged;
    int                     failures;
} mixed_t;


static void *
mixed(void *data)
{
    int                    i, j;
    char                   uid[32];
    cr_t                   c[20];
    size_t                 n;
    mixed_t               *w = data;
    mt_assignment_meta_t   m;

    for (i = 0; i < 10; i++) {
        switch (w->kind) {

        case 0:
            for (j = 0; j < 20; j++) {
                (void) snprintf(uid, sizeof(uid), "c%d_%02d_%02d", w->t, i,
                                j);
                mk_cr(&c[j], uid, j % 2 ? "US" : "UK", "x|y", j, 100);
            }

            if (put_crs(w->s, c, 20) != MT_STORE_OK) {
                w->failures++;
            }

            break;

        case 1:
            for (j = 0; j < 10; j++) {
                mk_asg(&m, 9000, (uint32_t) (w->t << 16 | i << 8 | j), "new",
                       9000000, 9000000, "pending", "t");

                if (put_asg(w->s, &m, 0) != MT_STORE_OK) {
                    w->failures++;
                }
            }

            break;

        default:
            if (w->s->ops->assignment_purge(w->s, 8000000, 7, &n)
                != MT_STORE_OK)
            {
                w->failures++;
            }

            w->purged += n;
        }
    }

    return NULL;
}


static void
test_group_mixed(void **state)
{
    fx_t                  *fx = *state;
    int                    t;
    size_t                 n, total, purged;
    pthread_t              th[12];
    mixed_t                w[12];
    mt_text_t             *docs;
    mt_history_query_t     q;
    mt_assignment_meta_t   m;

    /* the old ones that the purges remove */
    for (t = 0; t < 60; t++) {
        mk_asg(&m, 7000, (uint32_t) t, t % 2 ? "old" : "", 7000000,
               7000000, "pending", "t");
        assert_int_equal(put_asg(fx->s, &m, 0), MT_STORE_OK);
    }

    for (t = 0; t < 12; t++) {
        memset(&w[t], 0, sizeof(w[t]));
        w[t].s = open_store(fx->dir, 64 * MB);
        w[t].kind = t % 3;
        w[t].t = t;
        assert_int_equal(pthread_create(&th[t], NULL, mixed, &w[t]), 0);
    }

    purged = 0;

    for (t = 0; t < 12; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(w[t].failures, 0);
        purged += w[t].purged;
        w[t].s->ops->close(w[t].s);
    }

    /* 4 purgers x 10 x 7 could take 280: all 60 went, once each */
    assert_int_equal(purged, 60);
    assert_int_equal(fx->s->ops->creator_count(fx->s, &n), MT_STORE_OK);
    /* 4 threads of each kind, 10 rounds, 20 creators or 10 puts each */
    assert_int_equal(n, 800);
    expect_list(fx->s, "UK", "Y", 0, 0, 400, "");
    expect_list(fx->s, NULL, "x", 0, 0, 800, "");
    expect_history(fx->s, &m, 0, "old", MT_SORT_CREATED_AT, 0, 0, 10);

    memset(&q, 0, sizeof(q));
    q.user_id = "new";
    q.user_id_len = 3;
    assert_int_equal(fx->s->ops->assignment_history(fx->s, &q, &docs, &n,
                                                    &total),
                     MT_STORE_OK);
    assert_int_equal(total, 400);
    assert_int_equal(n, 0);
}


/*
 * A group made on purpose: a first write holds the lead until the
 * others have queued behind it; they then share the next commit.
 */
typedef struct {
    mt_store_t             *s;
    mt_assignment_meta_t    m;
    const char             *doc;
    size_t                  len;
    int64_t                 expected;
    mt_store_rc_t           rc;
    char                    error[256];
} gput_t;

typedef struct {
    mt_store_lmdb_t        *s;
    size_t                  want;
    mt_store_rc_t           rc;
} gate_t;


static void
wait_ms(long ms)
{
    struct timespec  ts;

    ts.tv_sec = 0;
    ts.tv_nsec = ms * 1000000;
    (void) nanosleep(&ts, NULL);
}


static size_t
queued(mt_lmdb_env_t *e, unsigned *leader)
{
    size_t  n;

    if (pthread_mutex_lock(&e->wlock) != 0) {
        abort();
    }

    n = e->wqueued;
    *leader = e->wleader;

    if (pthread_mutex_unlock(&e->wlock) != 0) {
        abort();
    }

    return n;
}


static mt_store_rc_t
gate_op(mt_store_lmdb_t *s, MDB_txn *txn, void *arg)
{
    gate_t    *g = arg;
    unsigned   leader;

    (void) s;
    (void) txn;

    while (queued(g->s->e, &leader) < g->want) {
        wait_ms(1);
    }

    return MT_STORE_OK;
}


static void *
gate(void *data)
{
    gate_t  *g = data;

    g->rc = mt_lmdb_write(g->s, gate_op, g);

    return NULL;
}


static void *
gput(void *data)
{
    gput_t  *g = data;

    g->rc = g->s->ops->assignment_put(g->s, &g->m, g->doc, g->len,
                                      g->expected);
    (void) snprintf(g->error, sizeof(g->error), "%s", mt_store_error(g->s));

    return NULL;
}


/* runs the puts as one group; returns the commits it took */
static uint64_t
run_group(gput_t *g, size_t n)
{
    size_t            i;
    uint64_t          commits;
    unsigned          leader;
    gate_t            gt;
    pthread_t         gth, th[64];
    mt_lmdb_env_t    *e;

    assert_true(n <= 64);

    e = ((mt_store_lmdb_t *) g[0].s)->e;
    commits = e->commits;

    gt.s = (mt_store_lmdb_t *) g[0].s;
    gt.want = n;
    gt.rc = MT_STORE_ERROR;
    assert_int_equal(pthread_create(&gth, NULL, gate, &gt), 0);

    while (queued(e, &leader), !leader) {
        wait_ms(1);
    }

    for (i = 0; i < n; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, gput, &g[i]), 0);
    }

    assert_int_equal(pthread_join(gth, NULL), 0);
    assert_int_equal(gt.rc, MT_STORE_OK);

    for (i = 0; i < n; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
    }

    /* the gate's commit and the group's */
    return e->commits - commits - 1;
}


static void
mk_gput(gput_t *g, mt_store_t *s, uint32_t sec, uint32_t n, char *doc,
    size_t len, int64_t expected)
{
    memset(g, 0, sizeof(*g));
    g->s = s;
    mk_asg(&g->m, sec, n, "u", 1, 1, "pending", "t");
    g->m.version = expected + 1;
    g->doc = doc;
    g->len = (size_t) snprintf(doc, len, "{\"id\":\"%s\",\"version\":%lld}",
                               g->m.id, (long long) g->m.version);
    g->expected = expected;
}


#define BIG  ((size_t) 300 * 1024)     /* more than the map's 256 KB */

static void
test_group_failures(void **state)
{
    fx_t            *fx = *state;
    char             dir[128], out[64], docs[22][64], *big;
    size_t           i, r, ok;
    gput_t           g[22];
    mt_text_t        t;
    uint64_t         commits;
    mt_store_t      *h[22];

    (void) snprintf(dir, sizeof(dir), "%s/tiny", fx->dir);

    for (i = 0; i < 12; i++) {
        h[i] = open_store(dir, (size_t) 256 * 1024);
    }

    /* what the CAS and the duplicate meet */
    mk_gput(&g[0], h[0], 6000, 100, docs[0], 64, 0);
    assert_int_equal(put_asg(h[0], &g[0].m, 0), MT_STORE_OK);
    mk_gput(&g[0], h[0], 6000, 101, docs[0], 64, 0);
    assert_int_equal(put_asg(h[0], &g[0].m, 0), MT_STORE_OK);

    big = malloc(BIG);
    assert_non_null(big);

    for (i = 0; i < 12; i++) {
        mk_gput(&g[i], h[i], 6000, (uint32_t) i, docs[i], 64, 0);
    }

    /* too big for the map, among small ones */
    mk_gput(&g[3], h[3], 6000, 3, big, BIG, 0);
    memset(big + g[3].len, ' ', BIG - g[3].len);
    g[3].len = BIG;

    /* exists; stale; missing */
    mk_gput(&g[5], h[5], 6000, 100, docs[5], 64, 0);
    mk_gput(&g[7], h[7], 6000, 101, docs[7], 64, 3);
    mk_gput(&g[9], h[9], 6000, 102, docs[9], 64, 1);

    commits = run_group(g, 12);
    assert_int_equal(commits, 1);

    for (i = 0; i < 12; i++) {
        switch (i) {
        case 3:
            assert_int_equal(g[i].rc, MT_STORE_FULL);
            assert_non_null(strstr(g[i].error, "MDB_MAP_FULL"));
            break;
        case 5:
            assert_int_equal(g[i].rc, MT_STORE_CONFLICT);
            assert_non_null(strstr(g[i].error, "exists"));
            break;
        case 7:
            assert_int_equal(g[i].rc, MT_STORE_CONFLICT);
            assert_non_null(strstr(g[i].error, "version 1, not 3"));
            break;
        case 9:
            assert_int_equal(g[i].rc, MT_STORE_NOT_FOUND);
            break;
        default:
            assert_int_equal(g[i].rc, MT_STORE_OK);
            assert_int_equal(get_asg(h[0], g[i].m.id, out, sizeof(out)),
                             MT_STORE_OK);
            assert_string_equal(out + 25, "1");
        }
    }

    assert_int_equal(get_asg(h[0], g[3].m.id, out, sizeof(out)),
                     MT_STORE_NOT_FOUND);
    assert_int_equal(get_asg(h[0], g[7].m.id, out, sizeof(out)),
                     MT_STORE_OK);
    assert_string_equal(out + 25, "1");

    for (i = 0; i < 12; i++) {
        h[i]->ops->close(h[i]);
    }

    /*
     * Into a filling map: the writes of a group may each fit where their
     * commit does not; each is then retried alone.  What was answered
     * OK is there, and what was not is not.
     */
    (void) snprintf(dir, sizeof(dir), "%s/fill", fx->dir);

    for (i = 0; i < 22; i++) {
        h[i] = open_store(dir, (size_t) 256 * 1024);
    }

    memset(big, ' ', BIG);

    for (r = 0, ok = 1; ok > 0; r++) {
        for (i = 0; i < 22; i++) {
            mk_gput(&g[i], h[i], 6001 + (uint32_t) r, (uint32_t) i,
                    docs[i], 64, 0);
            g[i].doc = big;
            g[i].len = 8900;
        }

        commits = run_group(g, 22);
        ok = 0;

        for (i = 0; i < 22; i++) {
            assert_true(g[i].rc == MT_STORE_OK || g[i].rc == MT_STORE_FULL);
            assert_int_equal(h[0]->ops->assignment_get(h[0], g[i].m.id, &t),
                             g[i].rc == MT_STORE_OK ? MT_STORE_OK
                                                    : MT_STORE_NOT_FOUND);
            ok += g[i].rc == MT_STORE_OK;
            free(t.data);
        }

        print_message("    22 writes of 8900 bytes into a filling map: "
                      "%zu stored in %llu commits\n", ok,
                      (unsigned long long) commits);

        assert_true(commits == (ok > 0) || commits == ok);
        assert_true(r < 10);
    }

    assert_true(r > 1);
    free(big);

    for (i = 0; i < 22; i++) {
        h[i]->ops->close(h[i]);
    }
}


/*
 * The workers' pool threads share one handle: each failed write of a
 * group still gets its own reason, not the one of the last failure.
 */
static void
test_group_errors_one_handle(void **state)
{
    fx_t        *fx = *state;
    char         dir[128], docs[6][64];
    size_t       i;
    gput_t       g[6];
    mt_store_t  *h;

    (void) snprintf(dir, sizeof(dir), "%s/one", fx->dir);
    h = open_store(dir, (size_t) 1024 * 1024);

    mk_gput(&g[0], h, 7000, 100, docs[0], 64, 0);
    assert_int_equal(put_asg(h, &g[0].m, 0), MT_STORE_OK);

    for (i = 0; i < 6; i++) {
        mk_gput(&g[i], h, 7000, (uint32_t) i, docs[i], 64, 0);
    }

    /* exists; stale; missing, in one group */
    mk_gput(&g[1], h, 7000, 100, docs[1], 64, 0);
    mk_gput(&g[3], h, 7000, 100, docs[3], 64, 4);
    mk_gput(&g[5], h, 7000, 102, docs[5], 64, 1);

    assert_int_equal(run_group(g, 6), 1);

    assert_int_equal(g[1].rc, MT_STORE_CONFLICT);
    assert_non_null(strstr(g[1].error, "exists"));
    assert_int_equal(g[3].rc, MT_STORE_CONFLICT);
    assert_non_null(strstr(g[3].error, "version 1, not 4"));
    assert_int_equal(g[5].rc, MT_STORE_NOT_FOUND);
    assert_null(strstr(g[5].error, "exists"));
    assert_null(strstr(g[5].error, "version 1, not 4"));

    h->ops->close(h);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
#define T(f)  cmocka_unit_test_setup_teardown(f, fx_setup, unit_fx_teardown)
        T(test_open_errors),
        T(test_reopen_and_schema),
        T(test_assignment_roundtrip),
        T(test_assignment_cas),
        T(test_history),
        T(test_history_seconds),
        T(test_purge),
        T(test_creators_put_get),
        T(test_creators_update),
        T(test_creators_list),
        T(test_creators_scan),
        T(test_map_full),
        T(test_two_handles),
        T(test_fork),
        T(test_threads),
        T(test_big_batch),
        T(test_group_puts),
        T(test_group_cas),
        T(test_group_mixed),
        T(test_group_failures),
        T(test_group_errors_one_handle),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

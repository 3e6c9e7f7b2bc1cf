/*
 * Unit tests for lib/vindex.c, lib/vindex_search.c and lib/vindex_ivf.c:
 * the file and its reopening, upserts, the exactness of the search
 * against brute-force cosine, filters, duplicates, rebuilds, corrupt
 * files, the writer lock, a reader running while a writer appends, and
 * the inverted file: its recall against exact search on embedded texts,
 * its lists after upserts and rebuilds; the sketch search's recall,
 * its filters, upserts, dead records and reopening.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"
#include "gen_text.h"

#include "embed.h"
#include "filter.h"
#include "json.h"
#include "model.h"
#include "vindex.h"


#define S(lit)      (lit), (sizeof(lit) - 1)
#define DIMS        128
#define MAXD        256


/* v plus noise of weight w, normalised */
static void
near_vec(float *out, const float *v, float w, unsigned dims, uint64_t *s)
{
    float     noise[MAXD];
    unsigned  i;
    double    n;

    unit_vec(noise, dims, s);

    n = 0.0;
    for (i = 0; i < dims; i++) {
        out[i] = v[i] + w * noise[i];
        n += (double) out[i] * out[i];
    }

    n = sqrt(n);
    for (i = 0; i < dims; i++) {
        out[i] = (float) (out[i] / n);
    }
}


static double
cosine(const float *a, const float *b, unsigned dims)
{
    unsigned  i;
    double    d;

    d = 0.0;
    for (i = 0; i < dims; i++) {
        d += (double) a[i] * b[i];
    }

    return d;
}


static int
meta_want(size_t i)
{
    return i % 3 == 0 && i * 10 >= 1000;
}


static mt_vindex_t *
open_w(const char *path, unsigned dims, size_t capacity)
{
    char                 err[256];
    mt_vindex_t         *vi;
    mt_vindex_params_t   p;

    memset(&p, 0, sizeof(p));
    p.dims = dims;
    p.capacity = capacity;
    p.model = "test-model";
    p.model_epoch = 7;
    p.lists = 0;

    vi = mt_vindex_open(path, &p, 1, err, sizeof(err));
    if (vi == NULL) {
        print_error("open %s: %s\n", path, err);
    }

    assert_non_null(vi);
    return vi;
}


static int
put(mt_vindex_t *vi, const char *id, uint64_t th, const float *v)
{
    char       err[256];
    int        rc;
    mt_meta_t  m;

    memset(&m, 0, sizeof(mt_meta_t));
    rc = mt_vindex_upsert(vi, id, strlen(id), th, &m, v, err, sizeof(err));
    if (rc != 0) {
        print_message("upsert %s: %s\n", id, err);
    }

    return rc;
}


/* fills a writer with n creators (vectors from seed); returns them */
static float *
fill(mt_vindex_t *vi, size_t n, unsigned dims, uint64_t seed)
{
    char       id[32], err[256];
    float     *vecs;
    size_t     i, len;
    uint64_t   s;
    mt_meta_t  m;

    vecs = malloc(n * dims * sizeof(float));
    assert_non_null(vecs);
    s = seed;

    assert_int_equal(mt_vindex_lock(vi), 0);

    for (i = 0; i < n; i++) {
        unit_vec(&vecs[i * dims], dims, &s);
        unit_vid(i, id, &len);
        unit_vmeta(i, &m);
        assert_int_equal(mt_vindex_upsert(vi, id, len, i, &m,
                                          &vecs[i * dims], err,
                                          sizeof(err)), 0);
    }

    mt_vindex_unlock(vi);

    return vecs;
}


static void
test_open_missing(void **state)
{
    vfx_t               *fx = *state;
    char                 err[256];
    mt_vindex_params_t   p;

    err[0] = '\0';
    assert_null(mt_vindex_open(fx->path, NULL, 0, err, sizeof(err)));
    assert_string_equal(err, "no index yet");

    err[0] = '\0';
    assert_null(mt_vindex_open(fx->path, NULL, 1, err, sizeof(err)));
    assert_string_equal(err, "no index yet");

    memset(&p, 0, sizeof(p));
    p.dims = 0;
    p.capacity = 10;
    p.model = "m";
    p.model_epoch = 1;
    p.lists = 0;
    err[0] = '\0';
    assert_null(mt_vindex_open(fx->path, &p, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "dims"));

    p.dims = 16;
    p.model = "a model name of sixty-four bytes, "
              "one more than a file keeps....";
    assert_int_equal(strlen(p.model), 64);
    assert_null(mt_vindex_open(fx->path, &p, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "model"));

    /* nothing was left behind */
    assert_int_equal(access(fx->path, F_OK), -1);
}


static void
test_create_reopen(void **state)
{
    vfx_t        *fx = *state;
    float        *vecs, got[DIMS];
    size_t        i, j, len;
    uint64_t      th;
    char          id[32];
    mt_vindex_t  *w, *r;

    w = open_w(fx->path, DIMS, 100);
    assert_int_equal(mt_vindex_dims(w), DIMS);
    assert_int_equal(mt_vindex_capacity(w), 100);
    assert_string_equal(mt_vindex_model(w), "test-model");
    assert_int_equal(mt_vindex_model_epoch(w), 7);
    assert_int_equal(mt_vindex_records(w), 0);
    assert_int_equal(mt_vindex_live(w), 0);
    assert_int_equal(mt_vindex_replaced(w), 0);
    /* slot 16, vector 128, sketch 32, record 520 */
    assert_int_equal(mt_vindex_record_size(w), 16 + DIMS + 32 + 520);

    vecs = fill(w, 3, DIMS, 1);
    mt_vindex_close(w);

    r = unit_vopen_r(fx->path);
    assert_int_equal(mt_vindex_dims(r), DIMS);
    assert_int_equal(mt_vindex_capacity(r), 100);
    assert_string_equal(mt_vindex_model(r), "test-model");
    assert_int_equal(mt_vindex_model_epoch(r), 7);
    assert_int_equal(mt_vindex_records(r), 3);
    assert_int_equal(mt_vindex_live(r), 3);

    for (i = 0; i < 3; i++) {
        unit_vid(i, id, &len);
        assert_int_equal(mt_vindex_get(r, id, len, &th, got), 0);
        assert_int_equal(th, i);

        /* within half a quantisation step of the largest component */
        for (j = 0; j < DIMS; j++) {
            assert_true(fabsf(got[j] - vecs[i * DIMS + j]) < 0.5f / 127.0f);
        }
    }

    assert_int_equal(mt_vindex_get(r, S("nobody"), NULL, NULL), -1);
    assert_int_equal(mt_vindex_get(r, S("creator-0000"), NULL, NULL), -1);
    assert_null(mt_vindex_id(r, 3, &len));
    assert_null(mt_vindex_meta(r, 3));
    assert_non_null(mt_vindex_id(r, 2, &len));
    assert_memory_equal(mt_vindex_id(r, 2, &len), "creator-00002", 13);
    assert_int_equal(len, 13);
    assert_int_equal(mt_vindex_meta(r, 0)->follower_count, 0);
    assert_int_equal(mt_vindex_meta(r, 2)->follower_count, 20);
    mt_vindex_close(r);

    /* an existing file keeps its own parameters */
    w = open_w(fx->path, 64, 5);
    assert_int_equal(mt_vindex_dims(w), DIMS);
    assert_int_equal(mt_vindex_capacity(w), 100);
    assert_int_equal(mt_vindex_records(w), 3);
    mt_vindex_close(w);

    free(vecs);
}


static void
test_upsert(void **state)
{
    vfx_t        *fx = *state;
    char          err[256];
    float         v1[DIMS], v2[DIMS], got[DIMS], nan[DIMS];
    uint64_t      s, g, th;
    mt_meta_t     m;
    mt_vindex_t  *w, *r;

    s = 42;
    unit_vec(v1, DIMS, &s);
    unit_vec(v2, DIMS, &s);
    memset(&m, 0, sizeof(mt_meta_t));

    w = open_w(fx->path, DIMS, 100);
    r = unit_vopen_r(fx->path);

    /* not locked: refused */
    err[0] = '\0';
    assert_int_equal(mt_vindex_upsert(w, S("a"), 1, &m, v1, err,
                                      sizeof(err)), -1);
    assert_non_null(strstr(err, "locked"));
    assert_int_equal(mt_vindex_lock(r), -1);

    assert_int_equal(mt_vindex_lock(w), 0);
    /* a second lock by the holder fails instead of hanging */
    assert_int_equal(mt_vindex_lock(w), -1);

    g = mt_vindex_generation(r);
    assert_int_equal(put(w, "a", 1, v1), 0);
    assert_true(mt_vindex_generation(r) > g);
    assert_int_equal(mt_vindex_records(r), 1);
    assert_int_equal(mt_vindex_live(r), 1);

    /* the same again: nothing happens */
    g = mt_vindex_generation(r);
    assert_int_equal(put(w, "a", 1, v1), 0);
    assert_int_equal(mt_vindex_generation(r), g);
    assert_int_equal(mt_vindex_records(r), 1);

    /* a new text hash: a new record, the old one dead */
    assert_int_equal(put(w, "a", 2, v1), 0);
    assert_true(mt_vindex_generation(r) > g);
    assert_int_equal(mt_vindex_records(r), 2);
    assert_int_equal(mt_vindex_live(r), 1);
    assert_int_equal(mt_vindex_get(r, S("a"), &th, NULL), 0);
    assert_int_equal(th, 2);

    /* a new vector, same text hash */
    assert_int_equal(put(w, "a", 2, v2), 0);
    assert_int_equal(mt_vindex_records(r), 3);
    assert_int_equal(mt_vindex_get(r, S("a"), &th, got), 0);
    assert_true(cosine(got, v2, DIMS) > 0.999);

    /* new metadata alone is a change too */
    g = mt_vindex_generation(r);
    m.follower_count = 5;
    assert_int_equal(mt_vindex_upsert(w, S("a"), 2, &m, v2, err,
                                      sizeof(err)), 0);
    assert_true(mt_vindex_generation(r) > g);
    assert_int_equal(mt_vindex_records(r), 4);
    assert_int_equal(mt_vindex_live(r), 1);

    /* a second id */
    assert_int_equal(put(w, "b", 1, v1), 0);
    assert_int_equal(mt_vindex_live(r), 2);

    /* bad input */
    assert_int_equal(mt_vindex_upsert(w, "", 0, 1, &m, v1, err,
                                      sizeof(err)), -1);
    assert_int_equal(mt_vindex_upsert(w, "x", MT_VINDEX_ID_MAX + 1, 1, &m,
                                      v1, err, sizeof(err)), -1);
    memcpy(nan, v1, sizeof(nan));
    nan[3] = NAN;
    assert_int_equal(mt_vindex_upsert(w, S("c"), 1, &m, nan, err,
                                      sizeof(err)), -1);
    assert_non_null(strstr(err, "finite"));

    /* no direction to store: a zero vector, or one whose scale underflows */
    memset(nan, 0, sizeof(nan));
    assert_int_equal(mt_vindex_upsert(w, S("c"), 1, &m, nan, err,
                                      sizeof(err)), -1);
    assert_non_null(strstr(err, "zero"));
    nan[5] = 1e-37f;
    assert_int_equal(mt_vindex_upsert(w, S("c"), 1, &m, nan, err,
                                      sizeof(err)), -1);
    assert_int_equal(mt_vindex_records(r), 5);

    mt_vindex_unlock(w);

    /* a second writer handle sees what the first wrote (its map scans) */
    mt_vindex_close(w);
    w = open_w(fx->path, DIMS, 100);
    assert_int_equal(mt_vindex_lock(w), 0);
    g = mt_vindex_generation(r);
    assert_int_equal(mt_vindex_upsert(w, S("a"), 2, &m, v2, err,
                                      sizeof(err)), 0);
    assert_int_equal(mt_vindex_generation(r), g);
    assert_int_equal(put(w, "b", 3, v1), 0);
    assert_int_equal(mt_vindex_live(r), 2);
    assert_int_equal(mt_vindex_records(r), 6);
    mt_vindex_unlock(w);

    mt_vindex_close(w);
    mt_vindex_close(r);
}


/* brute force: the k best of vecs[0..n) by cosine with q among want */
static size_t
brute(const float *vecs, size_t n, const float *q, size_t k, int filtered,
    size_t *best, double *score)
{
    size_t  i, j, m;
    double  c;

    m = 0;
    for (i = 0; i < n; i++) {
        if (filtered && !meta_want(i)) {
            continue;
        }

        c = cosine(&vecs[i * DIMS], q, DIMS);

        if (m < k) {
            j = m++;

        } else if (c <= score[k - 1]) {
            continue;

        } else {
            j = k - 1;
        }

        for ( /* void */ ; j > 0 && score[j - 1] < c; j--) {
            score[j] = score[j - 1];
            best[j] = best[j - 1];
        }

        score[j] = c;
        best[j] = i;
    }

    return m;
}


/* the real filter of lib/filter.c; *doc must outlive it */


static void
check_search(const char *path, const float *vecs, size_t n, int filtered)
{
    char            id[32];
    float           q[DIMS];
    size_t          t, i, j, got, want, len, found, total, best[10];
    double          score[10], c;
    uint64_t        s;
    mt_vhit_t       hits[10];
    mt_filter_t    *f;
    mt_vindex_t    *r;
    const char     *hid;
    mt_json_doc_t  *doc;

    f = NULL;
    doc = NULL;

    if (filtered) {
        f = unit_compile("{\"region\":\"EU\","
                    "\"followerCount\":{\"$gte\":1000}}", &doc);
    }

    r = unit_vopen_r(path);
    s = 99;
    found = 0;
    total = 0;

    for (t = 0; t < 40; t++) {
        /* half random, half near a record: close and far neighbours */
        if (t % 2 == 0) {
            unit_vec(q, DIMS, &s);

        } else {
            near_vec(q, &vecs[(unit_rnd(&s) % n) * DIMS], 0.5f, DIMS, &s);
        }

        want = brute(vecs, n, q, 10, filtered, best, score);
        if (want > 10) {
            want = 10;
        }

        got = mt_vindex_search(r, q, f, 10, hits);
        assert_int_equal(got, want);
        total += want;

        for (i = 0; i < got; i++) {
            hid = mt_vindex_id(r, hits[i].slot, &len);
            assert_non_null(hid);
            assert_true(i == 0 || hits[i].score <= hits[i - 1].score);

            /* the score is the record's cosine, up to quantisation */
            assert_true(len > 8 && len < sizeof(id));
            memcpy(id, hid, len);
            id[len] = '\0';
            j = (size_t) strtoul(id + 8, NULL, 10);
            c = cosine(&vecs[j * DIMS], q, DIMS);
            assert_true(fabs(c - hits[i].score) < 0.01);

            if (filtered) {
                assert_true(meta_want(j));
                assert_true(mt_filter_match(f, mt_vindex_meta(r,
                                                              hits[i].slot)));
            }

            for (j = 0; j < want; j++) {
                unit_vid(best[j], id, &len);
                if (memcmp(id, hid, len) == 0) {
                    found++;
                    break;
                }
            }
        }
    }

    /* recall@10 */
    print_message("recall@10 %s: %.4f\n", filtered ? "filtered" : "all",
                  (double) found / (double) total);
    assert_true((double) found / (double) total >= 0.95);

    mt_vindex_close(r);
    mt_filter_free(f);
    mt_json_free(doc);
}


static void
test_search_exact(void **state)
{
    vfx_t        *fx = *state;
    float        *vecs, q[DIMS];
    mt_vhit_t     hits[100];
    mt_vindex_t  *w, *r;

    w = open_w(fx->path, DIMS, 4000);
    vecs = fill(w, 3000, DIMS, 5);
    mt_vindex_close(w);

    check_search(fx->path, vecs, 3000, 0);

    /* k above 100 is 100; k 0 is nothing; a NaN query finds nothing */
    r = unit_vopen_r(fx->path);
    memcpy(q, vecs, sizeof(q));
    assert_int_equal(mt_vindex_search(r, q, NULL, 1000, hits), 100);
    assert_true(hits[0].score > 0.99f && hits[0].score <= 1.0f);
    assert_int_equal(hits[0].slot, 0);
    assert_int_equal(mt_vindex_search(r, q, NULL, 0, hits), 0);
    q[0] = NAN;
    assert_int_equal(mt_vindex_search(r, q, NULL, 10, hits), 0);
    mt_vindex_close(r);

    free(vecs);
}


static void
test_search_filter(void **state)
{
    vfx_t          *fx = *state;
    float          *vecs;
    mt_vhit_t       hits[10];
    mt_filter_t    *f;
    mt_vindex_t    *w, *r;
    mt_json_doc_t  *doc;

    w = open_w(fx->path, DIMS, 4000);
    vecs = fill(w, 3000, DIMS, 6);
    mt_vindex_close(w);

    check_search(fx->path, vecs, 3000, 1);

    /* fewer matches than k, and none */
    r = unit_vopen_r(fx->path);
    f = unit_compile("{\"followerCount\":{\"$lt\":30}}", &doc);
    assert_int_equal(mt_vindex_search(r, vecs, f, 10, hits), 3);
    assert_int_equal(hits[0].slot, 0);
    assert_true(hits[1].slot == 1 || hits[1].slot == 2);
    mt_filter_free(f);
    mt_json_free(doc);

    f = unit_compile("{\"region\":\"XX\"}", &doc);
    assert_int_equal(mt_vindex_search(r, vecs, f, 10, hits), 0);
    mt_filter_free(f);
    mt_json_free(doc);
    mt_vindex_close(r);

    free(vecs);
}


static void
test_search_ties(void **state)
{
    vfx_t        *fx = *state;
    float         v[DIMS], o[DIMS];
    size_t        len, i;
    uint64_t      s;
    mt_vhit_t     hits[10];
    mt_vindex_t  *w;
    const char   *id;
    static const char  *ids[] = { "e", "b", "d", "a", "ab", "c" };

    s = 3;
    unit_vec(v, DIMS, &s);

    w = open_w(fx->path, DIMS, 100);
    assert_int_equal(mt_vindex_lock(w), 0);

    for (i = 0; i < 6; i++) {
        unit_vec(o, DIMS, &s);
        assert_int_equal(put(w, "other", i, o), 0);
        assert_int_equal(put(w, ids[i], 1, v), 0);
    }

    mt_vindex_unlock(w);

    /* equal scores: by id, a shorter one first */
    assert_int_equal(mt_vindex_search(w, v, NULL, 4, hits), 4);

    for (i = 0; i < 4; i++) {
        id = mt_vindex_id(w, hits[i].slot, &len);
        assert_memory_equal(id, i == 0 ? "a" : i == 1 ? "ab" : i == 2 ? "b"
                                                                      : "c",
                            len);
        assert_true(hits[i].score == hits[0].score);
    }

    assert_int_equal(mt_vindex_search(w, v, NULL, 10, hits), 7);
    id = mt_vindex_id(w, hits[6].slot, &len);
    assert_memory_equal(id, "other", len);

    mt_vindex_close(w);
}


static void
test_dedupe(void **state)
{
    vfx_t               *fx = *state;
    char                 err[256];
    float                v1[DIMS], v2[DIMS], o[DIMS], got[DIMS];
    size_t               n, i, len, seen;
    uint64_t             s, th;
    mt_meta_t            m;
    mt_vhit_t            hits[10];
    mt_vindex_t         *b, *w;
    const char          *id;
    mt_vindex_params_t   p;

    s = 11;
    unit_vec(v1, DIMS, &s);
    near_vec(v2, v1, 0.4f, DIMS, &s);
    memset(&m, 0, sizeof(mt_meta_t));

    memset(&p, 0, sizeof(p));
    p.dims = DIMS;
    p.capacity = 100;
    p.model = "test-model";
    p.model_epoch = 7;
    p.lists = 0;

    /* a build takes doubles as they come: the transient of an update */
    b = mt_vindex_build_begin(fx->path, &p, err, sizeof(err));
    assert_non_null(b);
    assert_int_equal(mt_vindex_build_add(b, S("dup"), 1, &m, v1), 0);

    for (i = 0; i < 5; i++) {
        unit_vec(o, DIMS, &s);
        assert_int_equal(mt_vindex_build_add(b, S("x"), i, &m, o), 0);
    }

    assert_int_equal(mt_vindex_build_add(b, S("dup"), 2, &m, v2), 0);
    assert_int_equal(mt_vindex_build_add(b, S(""), 2, &m, v2), -1);
    assert_int_equal(mt_vindex_build_commit(b, err, sizeof(err)), 0);
    assert_int_equal(mt_vindex_live(b), 7);

    /* once each, the newer record of each */
    n = mt_vindex_search(b, v1, NULL, 10, hits);
    assert_int_equal(n, 2);
    id = mt_vindex_id(b, hits[0].slot, &len);
    assert_memory_equal(id, "dup", len);
    assert_int_equal(hits[0].slot, 6);
    assert_true(fabs(hits[0].score - cosine(v1, v2, DIMS)) < 0.01);
    assert_int_equal(hits[1].slot, 5);

    assert_int_equal(mt_vindex_get(b, S("dup"), &th, got), 0);
    assert_int_equal(th, 2);
    mt_vindex_close(b);

    /* a writer's first upsert clears the older ones */
    w = open_w(fx->path, DIMS, 100);
    assert_int_equal(mt_vindex_lock(w), 0);
    assert_int_equal(put(w, "new", 1, o), 0);
    mt_vindex_unlock(w);
    assert_int_equal(mt_vindex_live(w), 3);

    n = mt_vindex_search(w, v1, NULL, 10, hits);
    assert_int_equal(n, 3);

    for (i = 0, seen = 0; i < n; i++) {
        id = mt_vindex_id(w, hits[i].slot, &len);
        seen += len == 3 && memcmp(id, "dup", 3) == 0;
    }

    assert_int_equal(seen, 1);
    mt_vindex_close(w);
}


static void
test_full(void **state)
{
    vfx_t        *fx = *state;
    char          err[256];
    float         v[DIMS];
    uint64_t      s;
    mt_meta_t     m;
    mt_vindex_t  *w;

    s = 5;
    unit_vec(v, DIMS, &s);
    memset(&m, 0, sizeof(mt_meta_t));

    w = open_w(fx->path, DIMS, 3);
    assert_int_equal(mt_vindex_lock(w), 0);
    assert_int_equal(put(w, "a", 1, v), 0);
    assert_int_equal(put(w, "b", 1, v), 0);
    assert_int_equal(put(w, "c", 1, v), 0);

    err[0] = '\0';
    assert_int_equal(mt_vindex_upsert(w, S("d"), 1, &m, v, err,
                                      sizeof(err)), -1);
    assert_string_equal(err, "index full");

    /* an update needs a record too; a no-op does not */
    assert_int_equal(mt_vindex_upsert(w, S("a"), 2, &m, v, err,
                                      sizeof(err)), -1);
    assert_string_equal(err, "index full");
    assert_int_equal(put(w, "a", 1, v), 0);

    mt_vindex_unlock(w);
    assert_int_equal(mt_vindex_records(w), 3);
    assert_int_equal(mt_vindex_live(w), 3);
    mt_vindex_close(w);
}


static void
test_rebuild(void **state)
{
    vfx_t               *fx = *state;
    char                 err[256], tmp[128];
    float                v[DIMS];
    uint64_t             s, g;
    mt_meta_t            m;
    mt_vhit_t            hits[10];
    mt_vindex_t         *w, *r, *b, *r2;
    mt_vindex_params_t   p;

    s = 8;
    unit_vec(v, DIMS, &s);
    memset(&m, 0, sizeof(mt_meta_t));

    w = open_w(fx->path, DIMS, 100);
    assert_int_equal(mt_vindex_lock(w), 0);
    assert_int_equal(put(w, "a", 1, v), 0);
    assert_int_equal(put(w, "b", 1, v), 0);
    mt_vindex_unlock(w);

    r = unit_vopen_r(fx->path);
    g = mt_vindex_generation(r);

    memset(&p, 0, sizeof(p));
    p.dims = 64;
    p.capacity = 50;
    p.model = "other-model";
    p.model_epoch = 9;
    p.lists = 0;

    b = mt_vindex_build_begin(fx->path, &p, err, sizeof(err));
    assert_non_null(b);
    (void) snprintf(tmp, sizeof(tmp), "%s.tmp", fx->path);
    assert_int_equal(access(tmp, F_OK), 0);

    /* the build holds the writer lock until the commit */
    assert_int_equal(mt_vindex_build_add(b, S("a"), 2, &m, v), 0);
    assert_int_equal(mt_vindex_build_add(b, S("c"), 2, &m, v), 0);
    assert_int_equal(mt_vindex_replaced(r), 0);
    assert_int_equal(mt_vindex_build_commit(b, err, sizeof(err)), 0);
    assert_int_equal(access(tmp, F_OK), -1);

    /* the old readers see it and keep working until they reopen */
    assert_int_equal(mt_vindex_replaced(r), 1);
    assert_int_equal(mt_vindex_generation(r), g + 1);
    assert_int_equal(mt_vindex_search(r, v, NULL, 10, hits), 2);
    assert_int_equal(mt_vindex_get(r, S("b"), NULL, NULL), 0);

    r2 = unit_vopen_r(fx->path);
    assert_int_equal(mt_vindex_replaced(r2), 0);
    assert_int_equal(mt_vindex_generation(r2), g + 2);
    assert_int_equal(mt_vindex_generation(b), g + 2);
    assert_int_equal(mt_vindex_dims(r2), 64);
    assert_string_equal(mt_vindex_model(r2), "other-model");
    assert_int_equal(mt_vindex_model_epoch(r2), 9);
    assert_int_equal(mt_vindex_records(r2), 2);
    assert_int_equal(mt_vindex_get(r2, S("b"), NULL, NULL), -1);
    assert_int_equal(mt_vindex_get(r2, S("c"), NULL, NULL), 0);

    /* the old writer must reopen too */
    assert_int_equal(mt_vindex_lock(w), 0);
    assert_int_equal(mt_vindex_upsert(w, S("d"), 1, &m, v, err,
                                      sizeof(err)), -1);
    assert_non_null(strstr(err, "replaced"));
    mt_vindex_unlock(w);

    /* the build's handle is the new index, open for writing */
    assert_int_equal(mt_vindex_lock(b), 0);
    assert_int_equal(put(b, "d", 1, v), 0);
    mt_vindex_unlock(b);
    assert_int_equal(mt_vindex_live(r2), 3);
    assert_int_equal(mt_vindex_generation(r2), g + 3);

    mt_vindex_close(b);
    mt_vindex_close(r2);
    mt_vindex_close(r);
    mt_vindex_close(w);
}


static void
test_build_abort(void **state)
{
    vfx_t               *fx = *state;
    char                 err[256], tmp[128];
    float                v[DIMS];
    uint64_t             s, g;
    mt_meta_t            m;
    mt_vindex_t         *w, *b;
    mt_vindex_params_t   p;

    s = 9;
    unit_vec(v, DIMS, &s);
    memset(&m, 0, sizeof(mt_meta_t));

    w = open_w(fx->path, DIMS, 100);
    assert_int_equal(mt_vindex_lock(w), 0);
    assert_int_equal(put(w, "a", 1, v), 0);
    mt_vindex_unlock(w);
    g = mt_vindex_generation(w);

    memset(&p, 0, sizeof(p));
    p.dims = DIMS;
    p.capacity = 10;
    p.model = NULL;
    p.model_epoch = 0;
    p.lists = 0;

    b = mt_vindex_build_begin(fx->path, &p, err, sizeof(err));
    assert_non_null(b);
    assert_string_equal(mt_vindex_model(b), "");
    assert_int_equal(mt_vindex_build_add(b, S("z"), 1, &m, v), 0);
    mt_vindex_build_abort(b);

    (void) snprintf(tmp, sizeof(tmp), "%s.tmp", fx->path);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(mt_vindex_replaced(w), 0);
    assert_int_equal(mt_vindex_generation(w), g);

    /* the lock was given back */
    assert_int_equal(mt_vindex_lock(w), 0);
    assert_int_equal(put(w, "b", 1, v), 0);
    mt_vindex_unlock(w);
    assert_int_equal(mt_vindex_live(w), 2);

    /* upserts need a committed index, adds a build */
    assert_int_equal(mt_vindex_build_add(w, S("c"), 1, &m, v), -1);
    mt_vindex_close(w);
}


static void
patch(const char *path, off_t off, const void *data, size_t len)
{
    int  fd;

    fd = open(path, O_RDWR);
    assert_true(fd != -1);
    assert_int_equal(pwrite(fd, data, len, off), (ssize_t) len);
    assert_int_equal(close(fd), 0);
}


static void
corrupt(const char *path, off_t off, const void *data, size_t len,
    const char *want)
{
    char          err[256];
    mt_vindex_t  *vi;

    patch(path, off, data, len);

    err[0] = '\0';
    vi = mt_vindex_open(path, NULL, 0, err, sizeof(err));
    assert_null(vi);
    if (strstr(err, want) == NULL) {
        print_error("error \"%s\", want \"%s\"\n", err, want);
    }

    assert_non_null(strstr(err, want));

    /* a writer refuses it too, and leaves it alone */
    assert_null(mt_vindex_open(path, NULL, 1, err, sizeof(err)));
}


/* offsets in the header: magic 0, version 8, dims 16, rec_size 28 */

static void
test_corrupt(void **state)
{
    vfx_t        *fx = *state;
    uint32_t      u;
    mt_vindex_t  *w;

    w = open_w(fx->path, DIMS, 100);
    mt_vindex_close(w);

    corrupt(fx->path, 0, "XTVINDX", 8, "bad magic");
    patch(fx->path, 0, "MTVINDX", 8);
    w = unit_vopen_r(fx->path);
    mt_vindex_close(w);

    /* a file of the layout before the sketches */
    u = 2;
    corrupt(fx->path, 8, &u, sizeof(u), "version 2, want 4");
    u = 4;
    patch(fx->path, 8, &u, sizeof(u));

    /* what another build with another mt_meta_t would have written */
    u = 999;
    corrupt(fx->path, 28, &u, sizeof(u), "record size 999");
    u = 520;
    patch(fx->path, 28, &u, sizeof(u));

    u = DIMS * 2;
    corrupt(fx->path, 16, &u, sizeof(u), "corrupt vector index header");
    u = DIMS;
    patch(fx->path, 16, &u, sizeof(u));

    w = unit_vopen_r(fx->path);
    mt_vindex_close(w);
}


static void
test_short(void **state)
{
    vfx_t        *fx = *state;
    int           fd;
    char          err[256];
    mt_vindex_t  *w;

    w = open_w(fx->path, DIMS, 100);
    mt_vindex_close(w);

    /* cut short: a crash in a copy, a full disk */
    assert_int_equal(truncate(fx->path, 8192), 0);
    assert_null(mt_vindex_open(fx->path, NULL, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "bytes, want"));

    assert_int_equal(truncate(fx->path, 10), 0);
    assert_null(mt_vindex_open(fx->path, NULL, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "short"));

    fd = open(fx->path, O_WRONLY | O_TRUNC);
    assert_true(fd != -1);
    assert_int_equal(close(fd), 0);
    assert_null(mt_vindex_open(fx->path, NULL, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "short"));
}


typedef struct {
    mt_vindex_t            *vi;
    int                     got;
} locker_t;


static void *
locker(void *arg)
{
    locker_t  *l = arg;

    if (mt_vindex_lock(l->vi) == 0) {
        __atomic_store_n(&l->got, 1, __ATOMIC_SEQ_CST);
        mt_vindex_unlock(l->vi);
    }

    return NULL;
}


static void
test_lock(void **state)
{
    vfx_t            *fx = *state;
    pthread_t         t;
    locker_t          l;
    mt_vindex_t      *w1, *w2;
    struct timespec   ts;

    w1 = open_w(fx->path, DIMS, 10);
    w2 = open_w(fx->path, DIMS, 10);

    assert_int_equal(mt_vindex_lock(w1), 0);

    /* another handle, in this process: waits */
    l.vi = w2;
    l.got = 0;
    assert_int_equal(pthread_create(&t, NULL, locker, &l), 0);
    ts.tv_sec = 0;
    ts.tv_nsec = 100000000L;
    (void) nanosleep(&ts, NULL);
    assert_int_equal(__atomic_load_n(&l.got, __ATOMIC_SEQ_CST), 0);
    mt_vindex_unlock(w1);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(l.got, 1);

    /* the same handle, another thread: waits too */
    assert_int_equal(mt_vindex_lock(w1), 0);
    l.vi = w1;
    l.got = 0;
    assert_int_equal(pthread_create(&t, NULL, locker, &l), 0);
    (void) nanosleep(&ts, NULL);
    assert_int_equal(__atomic_load_n(&l.got, __ATOMIC_SEQ_CST), 0);
    mt_vindex_unlock(w1);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(l.got, 1);

    mt_vindex_close(w2);
    mt_vindex_close(w1);
}


typedef struct {
    const char             *path;
    int                     done;
    int                     failed;
} writer_t;


static void *
writer(void *arg)
{
    writer_t     *wt = arg;
    char          id[32], err[256];
    float         v[DIMS];
    size_t        i, len;
    uint64_t      s;
    mt_meta_t     m;
    mt_vindex_t  *w;
    mt_vindex_params_t  p;

    memset(&p, 0, sizeof(p));
    p.dims = DIMS;
    p.capacity = 10000;
    p.model = "test-model";
    p.model_epoch = 7;
    p.lists = 0;

    w = mt_vindex_open(wt->path, &p, 1, err, sizeof(err));
    s = 77;

    for (i = 0; w != NULL && i < 3000 && !wt->failed; i++) {
        if (i % 50 == 0 && mt_vindex_lock(w) != 0) {
            wt->failed = 1;
            break;
        }

        unit_vec(v, DIMS, &s);
        unit_vid(i % 700, id, &len);
        unit_vmeta(i, &m);

        if (mt_vindex_upsert(w, id, len, i, &m, v, err, sizeof(err)) != 0
            || mt_vindex_upsert(w, S("stable"), i, &m, v, err,
                                sizeof(err)) != 0)
        {
            wt->failed = 1;
        }

        if (i % 50 == 49) {
            mt_vindex_unlock(w);
        }
    }

    if (w == NULL) {
        wt->failed = 1;
    }

    mt_vindex_close(w);
    __atomic_store_n(&wt->done, 1, __ATOMIC_SEQ_CST);

    return NULL;
}


static void
test_concurrent(void **state)
{
    vfx_t        *fx = *state;
    char          id[32];
    float         q[DIMS];
    size_t        n, i, j, len, la, lb, searches, gets;
    uint64_t      s;
    pthread_t     t;
    writer_t      wt;
    mt_vhit_t     hits[10];
    mt_vindex_t  *w, *r;
    const char   *a, *b;

    w = open_w(fx->path, DIMS, 10000);
    s = 1;
    unit_vec(q, DIMS, &s);
    assert_int_equal(mt_vindex_lock(w), 0);
    assert_int_equal(put(w, "stable", 0, q), 0);
    mt_vindex_unlock(w);
    mt_vindex_close(w);

    r = unit_vopen_r(fx->path);

    wt.path = fx->path;
    wt.done = 0;
    wt.failed = 0;
    assert_int_equal(pthread_create(&t, NULL, writer, &wt), 0);

    searches = 0;
    gets = 0;

    while (!__atomic_load_n(&wt.done, __ATOMIC_SEQ_CST)) {
        /* the sketch search too, once past 4000 records (dead or not) */
        mt_vindex_set_mode(r, searches % 2 ? MT_VSEARCH_SKETCH
                                           : MT_VSEARCH_AUTO);
        unit_vec(q, DIMS, &s);
        n = mt_vindex_search(r, q, NULL, 10, hits);
        searches++;

        for (i = 0; i < n; i++) {
            assert_true(hits[i].score >= -1.0f && hits[i].score <= 1.0f);
            a = mt_vindex_id(r, hits[i].slot, &la);
            assert_non_null(a);

            for (j = 0; j < i; j++) {
                b = mt_vindex_id(r, hits[j].slot, &lb);
                assert_false(la == lb && memcmp(a, b, la) == 0);
            }
        }

        /* an id always present is always found, updates or not */
        for (i = 0; i < 20; i++) {
            assert_int_equal(mt_vindex_get(r, S("stable"), NULL, NULL), 0);
            gets++;
        }
    }

    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(wt.failed, 0);
    print_message("%zu searches, %zu gets during 6000 upserts\n", searches,
                  gets);

    assert_int_equal(mt_vindex_records(r), 6001);
    assert_int_equal(mt_vindex_live(r), 701);
    unit_vid(699, id, &len);
    assert_int_equal(mt_vindex_get(r, id, len, NULL, NULL), 0);
    mt_vindex_close(r);
}


/* made-up creator bios and briefs: tests/unit/gen_text.c */
static uint64_t  gen_seed = 0x9e3779b97f4a7c15ULL;


/* The inverted file */

#define IVF_DIMS     512
#define IVF_N        5000
#define IVF_QUERIES  200
#define IVF_TEXT     512


/* n embedded texts, bios (their IDF learnt) or briefs (2: module's) */
static float *
ivf_vecs(mt_embedder_t *e, size_t n, int brief)
{
    char    *t;
    float   *v;
    size_t   i;

    t = malloc(n * IVF_TEXT);
    v = malloc(n * IVF_DIMS * sizeof(float));
    assert_non_null(t);
    assert_non_null(v);

    for (i = 0; i < n; i++) {
        if (brief == 2) {
            (void) gen_brief(&gen_seed, &t[i * IVF_TEXT], IVF_TEXT);

        } else {
            (void) gen_text(&gen_seed, &t[i * IVF_TEXT], IVF_TEXT, brief);
        }

        if (!brief) {
            assert_int_equal(mt_embedder_add_doc(e, &t[i * IVF_TEXT],
                                                 strlen(&t[i * IVF_TEXT])),
                             0);
        }
    }

    if (!brief) {
        mt_embedder_freeze(e);
    }

    for (i = 0; i < n; i++) {
        assert_int_equal(mt_embed(e, &t[i * IVF_TEXT],
                                  strlen(&t[i * IVF_TEXT]),
                                  &v[i * IVF_DIMS]), 0);
    }

    free(t);

    return v;
}


/* a rebuild of path with n records of vecs, dims each, in lists */
static void
ivf_build(const char *path, const float *vecs, size_t n, unsigned dims,
    unsigned lists)
{
    char                 err[256], id[32];
    size_t               i, len;
    mt_meta_t            m;
    mt_vindex_t         *b;
    mt_vindex_params_t   p;

    memset(&p, 0, sizeof(p));
    p.dims = dims;
    p.capacity = n + 100;
    p.model = "test-model";
    p.model_epoch = 7;
    p.lists = lists;

    b = mt_vindex_build_begin(path, &p, err, sizeof(err));
    assert_non_null(b);

    for (i = 0; i < n; i++) {
        unit_vid(i, id, &len);
        unit_vmeta(i, &m);
        assert_int_equal(mt_vindex_build_add(b, id, len, i, &m,
                                             &vecs[i * dims]), 0);
    }

    assert_int_equal(mt_vindex_build_commit(b, err, sizeof(err)), 0);
    mt_vindex_close(b);
}


static double
ivf_recall(mt_vindex_t *r, const float *qs, size_t nq, unsigned dims,
    unsigned nprobe, const mt_filter_t *f)
{
    return unit_vrecall(r, qs, nq, dims, MT_VSEARCH_IVF, nprobe, f);
}


/*
 * recall@10 against exact search on embedded made-up bios and briefs
 * (uniform random vectors have no clusters: their recall says nothing).
 */
static void
test_ivf_recall(void **state)
{
    vfx_t          *fx = *state;
    float          *vecs, *qs;
    double          rec;
    unsigned        np;
    mt_filter_t    *eu;
    mt_vindex_t    *r;
    mt_embedder_t  *e;
    mt_json_doc_t  *doc;

    e = mt_embedder_new(IVF_DIMS, 7);
    assert_non_null(e);
    vecs = ivf_vecs(e, IVF_N, 0);
    qs = ivf_vecs(e, IVF_QUERIES, 1);

    ivf_build(fx->path, vecs, IVF_N, IVF_DIMS, 64);

    r = unit_vopen_r(fx->path);
    assert_int_equal(mt_vindex_lists(r), 64);

    for (np = 1; np <= 64; np *= 2) {
        rec = ivf_recall(r, qs, IVF_QUERIES, IVF_DIMS, np, NULL);
        print_message("ivf 5k, 64 lists: nprobe %u recall@10 %.4f\n", np,
                      rec);

        if (np == 64) {
            /* every list: exact */
            assert_true(rec == 1.0);
        }
    }

    rec = ivf_recall(r, qs, IVF_QUERIES, IVF_DIMS, MT_VINDEX_NPROBE, NULL);
    assert_true(rec >= 0.95);

    eu = unit_compile("{\"region\":\"EU\"}", &doc);
    rec = ivf_recall(r, qs, IVF_QUERIES, IVF_DIMS, MT_VINDEX_NPROBE, eu);
    print_message("ivf 5k, 64 lists, region EU: recall@10 %.4f\n", rec);
    assert_true(rec >= 0.95);
    mt_filter_free(eu);
    mt_json_free(doc);

    mt_vindex_close(r);
    mt_embedder_free(e);
    free(vecs);
    free(qs);
}


/*
 * Few records: no lists.  Upserts go to their nearest list, a selective
 * filter falls back to exact, a rebuild brings new centroids while a
 * reader of the old file keeps its own.
 */
static void
test_ivf_lists(void **state)
{
    vfx_t          *fx = *state;
    char            err[256];
    float          *vecs, *centres, q[DIMS];
    size_t          i, n, len;
    uint64_t        s;
    mt_meta_t       m;
    mt_vhit_t       hits[10];
    mt_filter_t    *rare;
    mt_vindex_t    *r, *w, *old;
    mt_json_doc_t  *doc;
    const char     *id;

    n = 2000;
    s = 3;
    centres = malloc((size_t) 16 * DIMS * sizeof(float));
    vecs = malloc(n * DIMS * sizeof(float));
    assert_non_null(centres);
    assert_non_null(vecs);

    for (i = 0; i < 16; i++) {
        unit_vec(&centres[i * DIMS], DIMS, &s);
    }

    for (i = 0; i < n; i++) {
        near_vec(&vecs[i * DIMS], &centres[(i % 16) * DIMS], 0.3f, DIMS,
                 &s);
    }

    /* 100 records, 4 a list needs 256: searched exactly */
    ivf_build(fx->path, vecs, 100, DIMS, 64);
    r = unit_vopen_r(fx->path);
    assert_int_equal(mt_vindex_lists(r), 0);
    assert_int_equal(mt_vindex_search(r, vecs, NULL, 10, hits), 10);
    id = mt_vindex_id(r, hits[0].slot, &len);
    assert_true(len == 13 && memcmp(id, "creator-00000", 13) == 0);
    mt_vindex_close(r);

    ivf_build(fx->path, vecs, n, DIMS, 16);
    old = unit_vopen_r(fx->path);
    assert_int_equal(mt_vindex_lists(old), 16);

    /* a new record, far from its neighbours: one list is enough */
    w = open_w(fx->path, DIMS, 1);
    assert_int_equal(mt_vindex_lists(w), 16);
    unit_vec(q, DIMS, &s);
    assert_int_equal(mt_vindex_lock(w), 0);
    memset(&m, 0, sizeof(mt_meta_t));
    assert_int_equal(mt_vindex_upsert(w, S("new"), 1, &m, q, err,
                                      sizeof(err)), 0);
    mt_vindex_unlock(w);
    mt_vindex_close(w);

    mt_vindex_set_mode(old, MT_VSEARCH_IVF);
    mt_vindex_set_nprobe(old, 1);
    assert_true(mt_vindex_search(old, q, NULL, 1, hits) == 1);
    id = mt_vindex_id(old, hits[0].slot, &len);
    assert_true(len == 3 && memcmp(id, "new", 3) == 0);
    assert_true(hits[0].score > 0.99f);

    /* 3 matches (followers 10 * i), far fewer than 10 in one list */
    rare = unit_compile("{\"followerCount\":{\"$gte\":19970}}", &doc);
    assert_int_equal(mt_vindex_search(old, q, rare, 10, hits), 3);
    assert_true(ivf_recall(old, vecs, 50, DIMS, 1, rare) == 1.0);
    assert_true(ivf_recall(old, vecs, 50, DIMS, 2, NULL) >= 0.95);

    /* a rebuild with other lists; the old file's reader is unaffected */
    ivf_build(fx->path, vecs, n / 2, DIMS, 8);
    r = unit_vopen_r(fx->path);
    assert_int_equal(mt_vindex_lists(r), 8);
    assert_true(mt_vindex_replaced(old));
    assert_int_equal(mt_vindex_lists(old), 16);
    assert_true(mt_vindex_search(old, q, NULL, 1, hits) == 1);
    id = mt_vindex_id(old, hits[0].slot, &len);
    assert_true(len == 3 && memcmp(id, "new", 3) == 0);

    /* the new file has no "new"; exact and every-list agree */
    assert_true(ivf_recall(r, vecs, 50, DIMS, 8, NULL) == 1.0);
    assert_true(ivf_recall(r, vecs, 50, DIMS, 2, rare) == 1.0);

    mt_vindex_close(r);
    mt_vindex_close(old);
    mt_filter_free(rare);
    mt_json_free(doc);
    free(vecs);
    free(centres);
}


/* The sketch */

#define SK_N        12000
#define SK_QUERIES  100


/* the hits of one search of r in mode */
static size_t
mode_search(mt_vindex_t *r, int mode, const float *q, const mt_filter_t *f,
    size_t k, mt_vhit_t *hits)
{
    mt_vindex_set_mode(r, mode);
    return mt_vindex_search(r, q, f, k, hits);
}


/*
 * recall@10 against exact search on embedded made-up bios with
 * brief-like queries (a topic sentence, niche words, brand values);
 * then a selective filter (the fallback to exact), an upsert, a dead
 * record and a reopen.  Above MT_VSEARCH_AUTO_MIN live records the
 * default is the sketch search.
 */
static void
test_sketch(void **state)
{
    vfx_t          *fx = *state;
    char            err[256];
    float          *vecs, *qs, *nq;
    double          rec;
    size_t          i, j, n, ne, len;
    mt_meta_t       m;
    mt_vhit_t       ex[10], sk[10], hits[10];
    mt_filter_t    *rare, *eu;
    mt_vindex_t    *r, *w;
    mt_embedder_t  *e;
    mt_json_doc_t  *doc;
    const char     *id;

    e = mt_embedder_new(IVF_DIMS, 7);
    assert_non_null(e);
    vecs = ivf_vecs(e, SK_N, 0);
    qs = ivf_vecs(e, SK_QUERIES, 2);

    ivf_build(fx->path, vecs, SK_N, IVF_DIMS, 0);
    r = unit_vopen_r(fx->path);
    assert_int_equal(mt_vindex_record_size(r), 16 + 512 + 128 + 520);

    rec = unit_vrecall(r, qs, SK_QUERIES, IVF_DIMS, MT_VSEARCH_SKETCH, 0,
                        NULL);
    print_message("sketch %d, briefs: recall@10 %.4f\n", SK_N, rec);
    assert_true(rec >= 0.95);

    /* a third match: still the sketch */
    eu = unit_compile("{\"region\":\"EU\"}", &doc);
    rec = unit_vrecall(r, qs, SK_QUERIES, IVF_DIMS, MT_VSEARCH_SKETCH, 0,
                        eu);
    print_message("sketch %d, briefs, region EU: recall@10 %.4f\n", SK_N,
                  rec);
    assert_true(rec >= 0.95);
    mt_filter_free(eu);
    mt_json_free(doc);

    /* the default (no mode set) is the sketch: the same hits */
    for (i = 0; i < 10; i++) {
        n = mode_search(r, MT_VSEARCH_SKETCH, &qs[i * IVF_DIMS], NULL, 10,
                        sk);
        assert_int_equal(mode_search(r, MT_VSEARCH_AUTO, &qs[i * IVF_DIMS],
                                     NULL, 10, hits), n);
        assert_memory_equal(hits, sk, n * sizeof(mt_vhit_t));
    }

    /* 3 matches (followers 10 * i): found by the exact fallback */
    rare = unit_compile("{\"followerCount\":{\"$gte\":119970}}", &doc);

    for (i = 0; i < 20; i++) {
        ne = mode_search(r, MT_VSEARCH_EXACT, &qs[i * IVF_DIMS], rare, 10,
                         ex);
        assert_int_equal(ne, 3);
        assert_int_equal(mode_search(r, MT_VSEARCH_SKETCH,
                                     &qs[i * IVF_DIMS], rare, 10, sk), 3);
        assert_memory_equal(ex, sk, ne * sizeof(mt_vhit_t));
    }

    /*
     * An upsert: a new creator with a brief's vector is its best hit; an
     * update of creator-00000 to it leaves slot 0 dead: never a hit.
     */
    nq = &qs[(size_t) (SK_QUERIES - 1) * IVF_DIMS];
    w = open_w(fx->path, IVF_DIMS, 1);
    memset(&m, 0, sizeof(mt_meta_t));
    assert_int_equal(mt_vindex_lock(w), 0);
    assert_int_equal(mt_vindex_upsert(w, S("new"), 1, &m, nq, err,
                                      sizeof(err)), 0);
    assert_int_equal(mt_vindex_upsert(w, S("creator-00000"), 2, &m,
                                      &qs[IVF_DIMS], err, sizeof(err)), 0);
    mt_vindex_unlock(w);
    mt_vindex_close(w);

    for (j = 0; j < 2; j++) {
        assert_int_equal(mode_search(r, MT_VSEARCH_SKETCH, nq, NULL, 10,
                                     hits), 10);
        id = mt_vindex_id(r, hits[0].slot, &len);
        assert_true(len == 3 && memcmp(id, "new", 3) == 0);
        assert_true(hits[0].score > 0.99f);

        assert_int_equal(mode_search(r, MT_VSEARCH_SKETCH, vecs, NULL, 10,
                                     hits), 10);

        for (i = 0; i < 10; i++) {
            assert_true(hits[i].slot != 0);
        }

        assert_int_equal(mode_search(r, MT_VSEARCH_SKETCH, &qs[IVF_DIMS],
                                     NULL, 1, hits), 1);
        assert_int_equal(hits[0].slot, SK_N + 1);

        /* the same after a reopen */
        mt_vindex_close(r);
        r = unit_vopen_r(fx->path);
    }

    mt_vindex_close(r);
    mt_filter_free(rare);
    mt_json_free(doc);
    mt_embedder_free(e);
    free(vecs);
    free(qs);
}

/*
 * Selective filters in every mode, over enough records for the sketch
 * search (issue 8): one that matches nothing, one creator, and twenty;
 * the sketch search gives exactly the exact search's hits, as it now
 * scores every match of a selective filter and nothing else.
 */
#define SEL_N  6000

static void
test_search_selective(void **state)
{
    vfx_t          *fx = *state;
    int             mode;
    float          *vecs, q[DIMS];
    size_t          i, j, n, ne, len;
    uint64_t        s;
    mt_vhit_t       ex[10], hits[10];
    mt_filter_t    *none, *one, *few;
    mt_vindex_t    *w, *r;
    mt_json_doc_t  *d1, *d2, *d3;
    const char     *id;

    static const int  modes[] = { MT_VSEARCH_AUTO, MT_VSEARCH_SKETCH,
                                  MT_VSEARCH_IVF, MT_VSEARCH_EXACT };

    w = open_w(fx->path, DIMS, SEL_N);
    vecs = fill(w, SEL_N, DIMS, 4242);
    r = unit_vopen_r(fx->path);

    none = unit_compile("{\"region\":\"nowhere\"}", &d1);
    one = unit_compile("{\"followerCount\":12340}", &d2);
    few = unit_compile("{\"$or\":[{\"followerCount\":{\"$lt\":200}},"
                  "{\"region\":\"nowhere\"}]}", &d3);

    s = 99;

    for (i = 0; i < 4; i++) {
        unit_vec(q, DIMS, &s);

        for (j = 0; j < sizeof(modes) / sizeof(modes[0]); j++) {
            mode = modes[j];

            assert_int_equal(mode_search(r, mode, q, none, 10, hits), 0);

            n = mode_search(r, mode, q, one, 10, hits);
            assert_int_equal(n, 1);
            id = mt_vindex_id(r, hits[0].slot, &len);
            assert_non_null(id);
            assert_int_equal(len, 13);
            assert_memory_equal(id, "creator-01234", 13);
            assert_true(fabs((double) hits[0].score
                              - cosine(q, &vecs[(size_t) 1234 * DIMS], DIMS))
                        < 0.01f);

            /* followers i * 10 < 200: creators 0..19, the best 10 */
            ne = mode_search(r, MT_VSEARCH_EXACT, q, few, 10, ex);
            assert_int_equal(ne, 10);
            n = mode_search(r, mode, q, few, 10, hits);
            assert_int_equal(n, ne);

            while (n-- > 0) {
                assert_int_equal(hits[n].slot, ex[n].slot);
                assert_true(hits[n].slot < 20);
            }
        }
    }

    mt_filter_free(none);
    mt_filter_free(one);
    mt_filter_free(few);
    mt_json_free(d1);
    mt_json_free(d2);
    mt_json_free(d3);
    mt_vindex_close(r);
    mt_vindex_close(w);
    free(vecs);
}


/* a test with its own index file */
#define VT(f)  cmocka_unit_test_setup_teardown(f, unit_vfx_setup, \
                                               unit_vfx_teardown)


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        VT(test_open_missing),
        VT(test_create_reopen),
        VT(test_upsert),
        VT(test_search_exact),
        VT(test_search_filter),
        VT(test_search_ties),
        VT(test_dedupe),
        VT(test_full),
        VT(test_rebuild),
        VT(test_build_abort),
        VT(test_corrupt),
        VT(test_short),
        VT(test_lock),
        VT(test_concurrent),
        VT(test_ivf_recall),
        VT(test_ivf_lists),
        VT(test_sketch),
        VT(test_search_selective),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

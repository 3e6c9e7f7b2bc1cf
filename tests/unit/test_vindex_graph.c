/*
 * Unit tests for lib/vindex_graph.c: the graph search's recall against
 * exact search on embedded texts, with and without filters, a selective
 * filter's fallback to exact, records upserted and deleted after the
 * build, a graph made by upserts alone (no build, no lists), a reader
 * walking while a writer links, corrupt neighbour lists, and the
 * parameters a build refuses.
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
#include <sys/stat.h>
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
#define GDIMS       512
#define GN          4000
#define GQ          100
#define GTEXT       512
#define RDIMS       64


static uint64_t  gen_seed = 0x51ed270b27a3c1f5ULL;


/* n embedded texts: bios (the embedder learns from them) or briefs */
static float *
texts(mt_embedder_t *e, size_t n, int brief)
{
    char    *t;
    float   *v;
    size_t   i;

    t = malloc(n * GTEXT);
    v = malloc(n * GDIMS * sizeof(float));
    assert_non_null(t);
    assert_non_null(v);

    for (i = 0; i < n; i++) {
        if (brief) {
            (void) gen_brief(&gen_seed, &t[i * GTEXT], GTEXT);

        } else {
            (void) gen_text(&gen_seed, &t[i * GTEXT], GTEXT, 0);
            assert_int_equal(mt_embedder_add_doc(e, &t[i * GTEXT],
                                                 strlen(&t[i * GTEXT])),
                             0);
        }
    }

    if (!brief) {
        mt_embedder_freeze(e);
    }

    for (i = 0; i < n; i++) {
        assert_int_equal(mt_embed(e, &t[i * GTEXT], strlen(&t[i * GTEXT]),
                                  &v[i * GDIMS]), 0);
    }

    free(t);

    return v;
}


static void
build(const char *path, const float *vecs, size_t n, unsigned dims,
    unsigned lists, unsigned m)
{
    char                 err[256], id[32];
    size_t               i, len;
    mt_meta_t            meta;
    mt_vindex_t         *b;
    mt_vindex_params_t   p;

    memset(&p, 0, sizeof(p));
    p.dims = dims;
    p.capacity = n + 1000;
    p.model = "test-model";
    p.lists = lists;
    p.graph_m = m;

    b = mt_vindex_build_begin(path, &p, err, sizeof(err));
    assert_non_null(b);

    for (i = 0; i < n; i++) {
        unit_vid(i, id, &len);
        unit_vmeta(i, &meta);
        assert_int_equal(mt_vindex_build_add(b, id, len, i, &meta,
                                             &vecs[i * dims]), 0);
    }

    assert_int_equal(mt_vindex_build_commit(b, err, sizeof(err)), 0);
    assert_int_equal(mt_vindex_graph_m(b), m);
    mt_vindex_close(b);
}


static mt_vindex_t *
open_w(const char *path, unsigned dims, size_t capacity, unsigned m)
{
    char                 err[256];
    mt_vindex_t         *vi;
    mt_vindex_params_t   p;

    memset(&p, 0, sizeof(p));
    p.dims = dims;
    p.capacity = capacity;
    p.model = "test-model";
    p.graph_m = m;

    vi = mt_vindex_open(path, &p, 1, err, sizeof(err));
    assert_non_null(vi);
    return vi;
}


static double
graph_recall(mt_vindex_t *r, const float *qs, size_t nq, unsigned dims,
    unsigned ef, const mt_filter_t *f)
{
    return unit_vrecall(r, qs, nq, dims, MT_VSEARCH_GRAPH, ef, f);
}


/* a wider walk finds more; the default width finds nearly all */
static void
test_graph_recall(void **state)
{
    vfx_t          *fx = *state;
    float          *vecs, *qs;
    double          r16, r64, r256;
    mt_filter_t    *eu, *rare;
    mt_vindex_t    *r;
    mt_embedder_t  *e;
    mt_json_doc_t  *d1, *d2;

    e = mt_embedder_new(GDIMS, 7);
    assert_non_null(e);
    vecs = texts(e, GN, 0);
    qs = texts(e, GQ, 1);

    build(fx->path, vecs, GN, GDIMS, 64, MT_VGRAPH_M);
    r = unit_vopen_r(fx->path);

    r16 = graph_recall(r, qs, GQ, GDIMS, 16, NULL);
    r64 = graph_recall(r, qs, GQ, GDIMS, 64, NULL);
    r256 = graph_recall(r, qs, GQ, GDIMS, 256, NULL);
    print_message("graph 4k, M 16: recall@10 ef 16 %.4f, 64 %.4f, "
                  "256 %.4f\n", r16, r64, r256);
    assert_true(r16 <= r64 && r64 <= r256);
    assert_true(r64 >= 0.95);
    assert_true(r256 >= 0.99);

    /*
     * A third of the creators, 1,333, at ef 16 (a walk from 64 ef = 1,024
     * matches); 100 of them: the exact scan.
     */
    eu = unit_compile("{\"region\":\"EU\"}", &d1);
    rare = unit_compile("{\"region\":\"EU\",\"followerCount\":"
                        "{\"$gte\":37000}}", &d2);

    r16 = graph_recall(r, qs, GQ, GDIMS, 16, eu);
    print_message("graph 4k, region EU, ef 16: recall@10 %.4f\n", r16);
    assert_true(r16 >= 0.9 && r16 < 1.0);

    assert_true(graph_recall(r, qs, GQ, GDIMS, 64, rare) == 1.0);

    mt_filter_free(eu);
    mt_filter_free(rare);
    mt_json_free(d1);
    mt_json_free(d2);
    mt_vindex_close(r);
    mt_embedder_free(e);
    free(vecs);
    free(qs);
}


/*
 * After the build: an upserted record is found by its own vector, an
 * updated one by its new vector and not its old one, a deleted one
 * never; the file reopened keeps it all.
 */
static void
test_graph_upsert(void **state)
{
    vfx_t          *fx = *state;
    char            err[256], id[32];
    float          *vecs, *qs;
    size_t          i, n, len, lid;
    double          rec;
    mt_meta_t       m;
    mt_vhit_t       hits[10];
    mt_vindex_t    *w, *r;
    mt_embedder_t  *e;
    const char     *hid;

    e = mt_embedder_new(GDIMS, 7);
    assert_non_null(e);
    vecs = texts(e, GN + 500, 0);
    qs = texts(e, GQ, 1);

    build(fx->path, vecs, GN, GDIMS, 64, 8);

    w = open_w(fx->path, GDIMS, 0, 0);
    assert_int_equal(mt_vindex_graph_m(w), 8);
    assert_int_equal(mt_vindex_lock(w), 0);

    /* 500 new creators, then 100 updates: creator i takes a new text */
    for (i = GN; i < GN + 500; i++) {
        unit_vid(i, id, &len);
        unit_vmeta(i, &m);
        assert_int_equal(mt_vindex_upsert(w, id, len, i, &m,
                                          &vecs[i * GDIMS], err,
                                          sizeof(err)), 0);
    }

    for (i = 0; i < 100; i++) {
        unit_vid(i, id, &len);
        unit_vmeta(i, &m);
        assert_int_equal(mt_vindex_upsert(w, id, len, GN + 1000 + i, &m,
                                          &vecs[(GN + 499 - i) * GDIMS],
                                          err, sizeof(err)), 0);
    }

    for (i = 100; i < 150; i++) {
        unit_vid(i, id, &len);
        assert_int_equal(mt_vindex_delete(w, id, len, err, sizeof(err)), 1);
    }

    mt_vindex_unlock(w);
    mt_vindex_close(w);

    r = unit_vopen_r(fx->path);
    assert_int_equal(mt_vindex_live(r), GN + 500 - 50);
    mt_vindex_set_mode(r, MT_VSEARCH_GRAPH);

    for (i = GN; i < GN + 500; i += 7) {
        n = mt_vindex_search(r, &vecs[i * GDIMS], NULL, 3, hits);
        assert_true(n >= 1);
        assert_true(hits[0].score > 0.99f);

        /* the new creator, or creator GN+499-i's update, same vector */
        hid = mt_vindex_id(r, hits[0].slot, &lid);
        unit_vid(i, id, &len);

        assert_true((lid == len && memcmp(hid, id, len) == 0)
                    || (i >= GN + 400 && lid == 13
                        && memcmp(hid, "creator-000", 11) == 0));
    }

    /* deleted and replaced records never come back */
    for (i = 0; i < 150; i++) {
        n = mt_vindex_search(r, &vecs[i * GDIMS], NULL, 10, hits);

        while (n-- > 0) {
            hid = mt_vindex_id(r, hits[n].slot, &lid);
            unit_vid(i, id, &len);

            if (i >= 100) {
                assert_false(lid == len && memcmp(hid, id, len) == 0);
            }
        }
    }

    rec = graph_recall(r, qs, GQ, GDIMS, 64, NULL);
    print_message("graph 4k + 500 upserts, M 8: recall@10 %.4f\n", rec);
    assert_true(rec >= 0.9);

    mt_vindex_close(r);
    mt_embedder_free(e);
    free(vecs);
    free(qs);
}


/* no build: a file created empty, with no lists, linked upsert by upsert */
static void
test_graph_upserts_only(void **state)
{
    vfx_t        *fx = *state;
    char          err[256], id[32];
    float        *vecs, *qs;
    size_t        i, len;
    double        rec;
    uint64_t      s;
    mt_meta_t     m;
    mt_vindex_t  *w;

    vecs = malloc((size_t) 3000 * RDIMS * sizeof(float));
    qs = malloc((size_t) 100 * RDIMS * sizeof(float));
    assert_non_null(vecs);
    assert_non_null(qs);

    s = 12345;
    w = open_w(fx->path, RDIMS, 4000, 12);
    assert_int_equal(mt_vindex_graph_m(w), 12);
    assert_int_equal(mt_vindex_lock(w), 0);

    for (i = 0; i < 3000; i++) {
        unit_vec(&vecs[i * RDIMS], RDIMS, &s);
        unit_vid(i, id, &len);
        unit_vmeta(i, &m);
        assert_int_equal(mt_vindex_upsert(w, id, len, i, &m,
                                          &vecs[i * RDIMS], err,
                                          sizeof(err)), 0);
    }

    mt_vindex_unlock(w);

    for (i = 0; i < 100; i++) {
        unit_vec(&qs[i * RDIMS], RDIMS, &s);
    }

    /* random vectors in 64 dims: the hardest case for a graph */
    rec = graph_recall(w, qs, 100, RDIMS, 128, NULL);
    print_message("graph of 3000 upserts, 64 random dims: recall@10 "
                  "%.4f\n", rec);
    assert_true(rec >= 0.9);

    mt_vindex_close(w);
    free(vecs);
    free(qs);
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
    float         v[RDIMS];
    size_t        i, len;
    uint64_t      s;
    mt_meta_t     m;
    mt_vindex_t  *w;

    w = mt_vindex_open(wt->path, NULL, 1, err, sizeof(err));
    s = 77;

    for (i = 0; w != NULL && i < 4000 && !wt->failed; i++) {
        if (i % 50 == 0 && mt_vindex_lock(w) != 0) {
            wt->failed = 1;
            break;
        }

        unit_vec(v, RDIMS, &s);
        unit_vid(i % 900, id, &len);
        unit_vmeta(i, &m);

        if (mt_vindex_upsert(w, id, len, i, &m, v, err, sizeof(err)) != 0) {
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


/* walks never lock: a reader searches while a writer links and updates */
static void
test_graph_concurrent(void **state)
{
    vfx_t        *fx = *state;
    float         q[RDIMS];
    size_t        n, i, j, la, lb, searches;
    uint64_t      s;
    pthread_t     t;
    writer_t      wt;
    mt_vhit_t     hits[10];
    mt_vindex_t  *w, *r;
    const char   *a, *b;

    w = open_w(fx->path, RDIMS, 10000, 8);
    mt_vindex_close(w);

    r = unit_vopen_r(fx->path);
    mt_vindex_set_mode(r, MT_VSEARCH_GRAPH);
    mt_vindex_set_ef(r, 32);

    wt.path = fx->path;
    wt.done = 0;
    wt.failed = 0;
    assert_int_equal(pthread_create(&t, NULL, writer, &wt), 0);

    s = 5;
    searches = 0;

    while (!__atomic_load_n(&wt.done, __ATOMIC_SEQ_CST)) {
        unit_vec(q, RDIMS, &s);
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
    }

    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(wt.failed, 0);
    print_message("%zu graph searches during 4000 upserts\n", searches);

    assert_int_equal(mt_vindex_live(r), 900);
    unit_vec(q, RDIMS, &s);
    assert_int_equal(mt_vindex_search(r, q, NULL, 10, hits), 10);

    mt_vindex_close(r);
}


/*
 * Neighbour lists overwritten with garbage (slots past the end, the
 * record itself, zeros): searches stay within the file and still give
 * k hits (the exact fallback), the file is still served.
 */
static void
test_graph_corrupt(void **state)
{
    vfx_t        *fx = *state;
    int           fd;
    float        *vecs, q[RDIMS];
    size_t        i, n;
    uint32_t      junk[1024];
    uint64_t      s;
    mt_vhit_t     hits[10];
    mt_vindex_t  *r;
    struct stat   st;

    s = 9;
    vecs = malloc((size_t) 2000 * RDIMS * sizeof(float));
    assert_non_null(vecs);

    for (i = 0; i < 2000; i++) {
        unit_vec(&vecs[i * RDIMS], RDIMS, &s);
    }

    build(fx->path, vecs, 2000, RDIMS, 8, 4);

    for (i = 0; i < 1024; i++) {
        junk[i] = (uint32_t) (i % 3 == 0 ? 0xffffffffu - i
                              : i % 3 == 1 ? 1 : unit_rnd(&s));
    }

    /*
     * The graph is the last region but the entries' page: 3000 records
     * of 8 neighbours, 24 pages.  Written all over, the entries too.
     */
    fd = open(fx->path, O_RDWR);
    assert_true(fd != -1);
    assert_int_equal(fstat(fd, &st), 0);

    for (i = 0; i < 25; i++) {
        assert_int_equal(pwrite(fd, junk, sizeof(junk),
                                st.st_size - (off_t) ((i + 1)
                                                      * sizeof(junk))),
                         (ssize_t) sizeof(junk));
    }

    assert_int_equal(close(fd), 0);

    r = unit_vopen_r(fx->path);
    mt_vindex_set_mode(r, MT_VSEARCH_GRAPH);

    for (i = 0; i < 200; i++) {
        unit_vec(q, RDIMS, &s);
        n = mt_vindex_search(r, q, NULL, 10, hits);
        assert_int_equal(n, 10);

        while (n-- > 0) {
            assert_true(hits[n].slot < 2000);
        }
    }

    mt_vindex_close(r);
    free(vecs);
}


static void
test_graph_params(void **state)
{
    vfx_t               *fx = *state;
    char                 err[256];
    mt_vindex_t         *b;
    mt_vindex_params_t   p;

    memset(&p, 0, sizeof(p));
    p.dims = 16;
    p.capacity = 100;
    p.model = "m";
    p.graph_m = MT_VGRAPH_M_MAX + 1;

    err[0] = '\0';
    assert_null(mt_vindex_build_begin(fx->path, &p, err, sizeof(err)));
    assert_non_null(strstr(err, "graph_m"));

    p.graph_m = 4;
    p.graph_efc = MT_VGRAPH_EF_MAX + 1;
    assert_null(mt_vindex_build_begin(fx->path, &p, err, sizeof(err)));

    /* 8 bytes a creator for each unit of M */
    p.graph_efc = 0;
    p.capacity = 1000;
    b = mt_vindex_build_begin(fx->path, &p, err, sizeof(err));
    assert_non_null(b);
    assert_int_equal(mt_vindex_graph_m(b), 4);
    /*
     * slot 16, vector 64 (16 dims padded to a 64-byte stride), sketch
     * 16, record 520, and the graph's 2 x 4 neighbours of 4 bytes
     */
    assert_int_equal(mt_vindex_record_size(b), 16 + 64 + 16 + 520 + 32);
    assert_int_equal(mt_vindex_build_commit(b, err, sizeof(err)), 0);
    mt_vindex_close(b);

    /* an empty graph: a search finds nothing, and does not crash */
    b = unit_vopen_r(fx->path);
    mt_vindex_set_mode(b, MT_VSEARCH_GRAPH);
    {
        float      q[16] = { 1.0f };
        mt_vhit_t  hits[4];

        assert_int_equal(mt_vindex_search(b, q, NULL, 4, hits), 0);
    }
    mt_vindex_close(b);
}


/* a test with its own index file */
#define VT(f)  cmocka_unit_test_setup_teardown(f, unit_vfx_setup, \
                                               unit_vfx_teardown)


static int
stop_now(void)
{
    return 1;
}


/* a build told to stop gives its graph up: no file, the old one serves */

static void
test_graph_stop(void **state)
{
    vfx_t               *fx = *state;
    char                 err[256], id[32];
    float               *vecs;
    size_t               i, len;
    uint64_t             seed;
    mt_meta_t            meta;
    mt_vindex_t         *b, *r;
    mt_vindex_params_t   p;

    seed = 3;
    vecs = malloc((size_t) 2000 * 16 * sizeof(float));
    assert_non_null(vecs);

    for (i = 0; i < 2000; i++) {
        unit_vec(&vecs[i * 16], 16, &seed);
    }

    build(fx->path, vecs, 100, 16, 0, 4);

    memset(&p, 0, sizeof(p));
    p.dims = 16;
    p.capacity = 3000;
    p.model = "test-model";
    p.graph_m = 4;
    p.stop = stop_now;

    b = mt_vindex_build_begin(fx->path, &p, err, sizeof(err));
    assert_non_null(b);

    for (i = 0; i < 2000; i++) {
        unit_vid(i, id, &len);
        unit_vmeta(i, &meta);
        assert_int_equal(mt_vindex_build_add(b, id, len, i, &meta,
                                             &vecs[i * 16]), 0);
    }

    assert_int_equal(mt_vindex_build_commit(b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "stopped"));
    mt_vindex_close(b);

    r = unit_vopen_r(fx->path);
    assert_int_equal(mt_vindex_live(r), 100);
    mt_vindex_close(r);

    free(vecs);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        VT(test_graph_recall),
        VT(test_graph_upsert),
        VT(test_graph_upserts_only),
        VT(test_graph_concurrent),
        VT(test_graph_corrupt),
        VT(test_graph_params),
        VT(test_graph_stop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

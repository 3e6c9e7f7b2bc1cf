/*
 * Unit tests for the indexer's backend batches (lib/indexer_backends.c):
 * mt_index_sync and mt_index_ids through an embedder and an index given
 * as backends (indexer.h bemb, bvec), as a remote pair is, on the 17
 * sample creators in an LMDB store.  The backends here are fakes that
 * count their calls and can be told to fail.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "indexer.h"
#include "ingest.h"
#include "json.h"
#include "store.h"


#define MB        ((size_t) 1024 * 1024)
#define T1        1709210096789LL
#define DIMS      8
#define NFILE     17
#define CREATORS  "t/data/creators.json"


typedef struct {
    mt_emb_t                emb;
    size_t                  calls;
    size_t                  texts;
    int                     fail;
} fake_emb_t;

typedef struct {
    mt_vec_t                vec;
    size_t                  calls;
    size_t                  records;
    size_t                  with_doc;
    size_t                  with_region;
    int                     fail;
} fake_vec_t;

typedef struct {
    fx_t                   *fx;
    fake_emb_t              fe;
    fake_vec_t              fv;
    mt_indexer_t            ix;
    mt_index_progress_t     prog;
} ctx_t;


static int
fake_embed(const mt_emb_t *e, const mt_span_t *texts, size_t n, float *out,
    char *err, size_t errlen)
{
    fake_emb_t  *fe = (fake_emb_t *) e;
    size_t       i, d;

    fe->calls++;

    if (fe->fail) {
        (void) snprintf(err, errlen, "openai: HTTP 401: bad key");
        return -1;
    }

    for (i = 0; i < n; i++) {
        assert_true(texts[i].len > 0);

        for (d = 0; d < DIMS; d++) {
            out[i * DIMS + d] = (d == i % DIMS) ? 1.0f : 0.0f;
        }
    }

    fe->texts += n;

    return 0;
}


static int
fake_upsert(mt_vec_t *v, const mt_vec_record_t *recs, size_t n, char *err,
    size_t errlen)
{
    fake_vec_t  *fv = (fake_vec_t *) v;
    size_t       i;

    fv->calls++;

    if (fv->fail) {
        (void) snprintf(err, errlen, "pinecone: HTTP 503");
        return -1;
    }

    for (i = 0; i < n; i++) {
        assert_true(recs[i].id_len > 0);
        assert_non_null(recs[i].vec);
        assert_true(recs[i].vec[i % DIMS] == 1.0f);

        if (recs[i].doc != NULL) {
            fv->with_doc++;

            if (mt_json_get(recs[i].doc, "region") != NULL) {
                fv->with_region++;
            }
        }
    }

    fv->records += n;

    return 0;
}


static const mt_emb_ops_t  fake_emb_ops = {
    .name = "fake", .flags = MT_BACKEND_WIRE, .embed = fake_embed
};

static const mt_vec_ops_t  fake_vec_ops = {
    .name = "fake", .flags = MT_BACKEND_WIRE, .upsert = fake_upsert
};


static int
ctx_setup(void **state)
{
    ctx_t               *c;
    mt_ingest_result_t   res;
    mt_json_limits_t     limits = { .max_size = 64 * MB, .max_depth = 32,
                                    .max_string = MB };

    c = calloc(1, sizeof(ctx_t));
    assert_non_null(c);

    c->fx = unit_fx_new("ixb", 64 * MB);
    c->fe.emb.ops = &fake_emb_ops;
    c->fv.vec.ops = &fake_vec_ops;

    c->ix.store = c->fx->s;
    c->ix.params.dims = DIMS;
    c->ix.params.model = "text-embedding-test";
    c->ix.now_ms = T1;
    c->ix.batch = 5;                    /* 4 batches for 17 */
    c->ix.progress = &c->prog;
    c->ix.bemb = &c->fe.emb;
    c->ix.bvec = &c->fv.vec;

    assert_int_equal(mt_ingest_file(c->fx->s, CREATORS, &limits, T1, &res),
                     0);
    assert_int_equal(res.inserted, NFILE);
    mt_ingest_result_free(&res);

    *state = c;

    return 0;
}


static int
ctx_teardown(void **state)
{
    ctx_t  *c = *state;
    void   *fx = c->fx;

    free(c);

    return unit_fx_teardown(&fx);
}


static void
test_sync(void **state)
{
    ctx_t  *c = *state;

    assert_int_equal(mt_index_sync(&c->ix, 0), 0);
    assert_int_equal(c->fe.texts, NFILE);
    assert_int_equal(c->fe.calls, 4);
    assert_int_equal(c->fv.records, NFILE);
    assert_int_equal(c->fv.with_doc, NFILE);
    assert_int_equal(c->fv.with_region, NFILE);
    assert_int_equal(c->prog.total, NFILE);
    assert_int_equal(c->prog.processed, NFILE);
    assert_int_equal(c->prog.errors, 0);

    /* marked ready for this model: nothing left to send */
    memset(&c->prog, 0, sizeof(c->prog));
    assert_int_equal(mt_index_sync(&c->ix, 0), 0);
    assert_int_equal(c->fe.texts, NFILE);
    assert_int_equal(c->prog.total, 0);

    /* forced: everything again */
    assert_int_equal(mt_index_sync(&c->ix, 1), 0);
    assert_int_equal(c->fe.texts, 2 * NFILE);

    /* another model: not ready for it */
    c->ix.params.model = "text-embedding-other";
    assert_int_equal(mt_index_sync(&c->ix, 0), 0);
    assert_int_equal(c->fe.texts, 3 * NFILE);
}


static void
test_embed_fails(void **state)
{
    ctx_t  *c = *state;

    c->fe.fail = 1;
    assert_int_equal(mt_index_sync(&c->ix, 0), -1);
    assert_non_null(strstr(c->ix.error, "HTTP 401"));
    assert_int_equal(c->fv.calls, 0);

    /* nothing was marked: a later sync sends every creator */
    c->fe.fail = 0;
    memset(&c->prog, 0, sizeof(c->prog));
    assert_int_equal(mt_index_sync(&c->ix, 0), 0);
    assert_int_equal(c->prog.total, NFILE);
    assert_int_equal(c->fv.records, NFILE);
}


static void
test_upsert_fails(void **state)
{
    ctx_t  *c = *state;

    /* embedded, but not written: nothing is marked ready */
    c->fv.fail = 1;
    assert_int_equal(mt_index_sync(&c->ix, 0), -1);
    assert_non_null(strstr(c->ix.error, "HTTP 503"));

    c->fv.fail = 0;
    memset(&c->prog, 0, sizeof(c->prog));
    assert_int_equal(mt_index_sync(&c->ix, 0), 0);
    assert_int_equal(c->prog.total, NFILE);
}


static void
test_ids(void **state)
{
    ctx_t       *c = *state;
    int          status[3];
    const char  *ids[3] = { "mindsovermoney", "nobody", "greenroutes" };
    size_t       lens[3] = { 14, 6, 11 };

    assert_int_equal(mt_index_ids(&c->ix, ids, lens, 3, status), 0);
    assert_int_equal(status[0], MT_INDEX_DONE);
    assert_int_equal(status[1], MT_INDEX_NOT_FOUND);
    assert_int_equal(status[2], MT_INDEX_DONE);
    assert_int_equal(c->fv.records, 2);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
#define T(f)  cmocka_unit_test_setup_teardown(f, ctx_setup, ctx_teardown)
        T(test_sync),
        T(test_embed_fails),
        T(test_upsert_fails),
        T(test_ids),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

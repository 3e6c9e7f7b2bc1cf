/*
 * Unit tests for lib/backend_local.c: the local embedder and the index
 * file behind lib/backend.h's interfaces give what the concrete types
 * give, hits own their ids, writes move the count and the generation,
 * a delete is undone by an upsert of the same id, and two writer
 * handles (each with its own map of ids, as two processes) agree on
 * what is live whatever the other removed or replaced.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"

#include "backend.h"
#include "embed.h"
#include "filter.h"
#include "json.h"
#include "vindex.h"


#define S(lit)      (lit), (sizeof(lit) - 1)
#define DIMS        128
#define N           60


typedef struct {
    char                    dir[64];
    char                    path[96];
    mt_embedder_t          *e;
    float                   vecs[N][DIMS];
} bfx_t;


static const char  *texts[] = {
    "budgeting apps and saving money for students",
    "vegan recipes, plant based meals on a budget",
    "marathon training plans and running shoes",
    "climate change, solar power and recycling at home",
    "indie video games and speedrunning",
    "skincare routines for sensitive skin",
};


static void
id_for(size_t i, char *id, size_t *len)
{
    *len = (size_t) snprintf(id, 32, "creator-%03zu", i);
}


/* the EU ones are every third */
static void
meta_for(size_t i, mt_meta_t *m)
{
    memset(m, 0, sizeof(mt_meta_t));
    m->tags[m->ntags++] = mt_meta_tag(MT_F_REGION,
                                      (i % 3 == 0) ? "EU" : "US", 2);
    m->present = 1u << MT_F_REGION;
}


static int
setup(void **state)
{
    char      text[160];
    size_t    i;
    bfx_t    *fx;

    fx = calloc(1, sizeof(bfx_t));
    assert_non_null(fx);

    (void) snprintf(fx->dir, sizeof(fx->dir), "/tmp/mt_backend_XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    (void) snprintf(fx->path, sizeof(fx->path), "%s/v.mtv", fx->dir);

    fx->e = mt_embedder_new(DIMS, 42);
    assert_non_null(fx->e);
    mt_embedder_freeze(fx->e);

    /* each creator a sample text with its own number, so all differ */
    for (i = 0; i < N; i++) {
        (void) snprintf(text, sizeof(text), "%s code%zuz",
                        texts[i % 6], i);
        assert_int_equal(mt_embed(fx->e, text, strlen(text), fx->vecs[i]),
                         0);
    }

    *state = fx;
    return 0;
}


static int
teardown(void **state)
{
    bfx_t  *fx = *state;

    mt_embedder_free(fx->e);
    unit_rm_rf(fx->dir);
    free(fx);
    return 0;
}


/* an index of the N creators, written through the interface */
static mt_vec_t *
vec_new(bfx_t *fx)
{
    char                 err[256], ids[N][32];
    size_t               i, len;
    mt_vec_t            *v;
    mt_meta_t            metas[N];
    mt_vindex_t         *vi;
    mt_vec_record_t      recs[N];
    mt_vindex_params_t   p;

    memset(&p, 0, sizeof(p));
    p.dims = DIMS;
    p.capacity = 1000;
    p.model = MT_EMB_LOCAL_MODEL;
    p.model_epoch = 3;

    vi = mt_vindex_open(fx->path, &p, 1, err, sizeof(err));
    assert_non_null(vi);

    v = mt_vec_local_new(vi, 1);
    assert_non_null(v);
    assert_string_equal(v->ops->name, "local");
    assert_true(v->ops->flags & MT_BACKEND_SYNC);
    assert_false(v->ops->flags & MT_BACKEND_WIRE);
    assert_null(v->ops->request);
    assert_null(v->ops->reply);

    for (i = 0; i < N; i++) {
        id_for(i, ids[i], &len);
        meta_for(i, &metas[i]);
        recs[i].id = ids[i];
        recs[i].id_len = len;
        recs[i].text_hash = i + 1;
        recs[i].meta = &metas[i];
        recs[i].vec = fx->vecs[i];
    }

    assert_int_equal(v->ops->upsert(v, recs, N, err, sizeof(err)), 0);
    assert_int_equal(v->ops->count(v), N);

    return v;
}


/* 1 when id is among the k best for q */
static int
has_id(mt_vec_t *v, const float *q, size_t k, const char *id)
{
    int             found;
    char            err[256];
    size_t          i, len;
    mt_vec_hits_t   hits;

    assert_int_equal(v->ops->query(v, q, DIMS, NULL, k, &hits, err,
                                   sizeof(err)),
                     0);

    len = strlen(id);
    found = 0;

    for (i = 0; i < hits.n; i++) {
        found |= hits.hits[i].id_len == len
                 && memcmp(hits.hits[i].id, id, len) == 0;
    }

    mt_vec_hits_free(&hits);

    return found;
}


static void
test_emb_local(void **state)
{
    bfx_t  *fx = *state;

    char        err[128];
    float      *out, one[DIMS];
    size_t      i;
    mt_emb_t   *emb;
    mt_span_t   spans[6];

    emb = mt_emb_local_new(fx->e, 99, 0);
    assert_non_null(emb);

    assert_string_equal(emb->ops->name, "local");
    assert_string_equal(emb->ops->model(emb), MT_EMB_LOCAL_MODEL);
    assert_int_equal(emb->ops->dims(emb), DIMS);
    assert_int_equal(emb->ops->epoch(emb), 99);
    assert_true(emb->ops->flags & MT_BACKEND_SYNC);
    assert_non_null(emb->ops->embed);
    assert_null(emb->ops->request);
    assert_null(emb->ops->reply);
    assert_false(emb->ops->flags & MT_BACKEND_WIRE);

    for (i = 0; i < 6; i++) {
        spans[i].data = texts[i];
        spans[i].len = strlen(texts[i]);
    }

    out = calloc((size_t) 6 * DIMS, sizeof(float));
    assert_non_null(out);

    /* a batch is each text embedded alone, in order */
    assert_int_equal(emb->ops->embed(emb, spans, 6, out, err, sizeof(err)),
                     0);

    for (i = 0; i < 6; i++) {
        assert_int_equal(mt_embed(fx->e, texts[i], strlen(texts[i]), one),
                         0);
        assert_memory_equal(out + i * DIMS, one, sizeof(one));
    }

    free(out);

    /* nothing to embed: nothing written, no error */
    assert_int_equal(emb->ops->embed(emb, spans, 0, NULL, err, sizeof(err)),
                     0);

    /* not its own: the embedder survives the backend */
    emb->ops->free(emb);
    assert_int_equal(mt_embedder_dims(fx->e), DIMS);
}


/* its own: freed with the backend (LeakSanitizer would see it if not) */
static void
test_emb_local_own(void **state)
{
    char            err[128];
    float           out[2 * 64], one[64];
    mt_emb_t       *emb;
    mt_span_t       spans[2];
    mt_embedder_t  *e;

    (void) state;

    assert_null(mt_emb_local_new(NULL, 1, 1));

    e = mt_embedder_new(64, 7);
    assert_non_null(e);
    emb = mt_emb_local_new(e, 5, 1);
    assert_non_null(emb);
    assert_int_equal(emb->ops->dims(emb), 64);
    assert_int_equal(emb->ops->epoch(emb), 5);

    /* the empty text embeds as zeros, next to a real one */
    spans[0].data = texts[2];
    spans[0].len = strlen(texts[2]);
    spans[1].data = "";
    spans[1].len = 0;

    memset(out, 0xff, sizeof(out));
    assert_int_equal(emb->ops->embed(emb, spans, 2, out, err, sizeof(err)),
                     0);
    assert_int_equal(mt_embed(e, texts[2], strlen(texts[2]), one), 0);
    assert_memory_equal(out, one, sizeof(one));
    assert_true(out[64] == 0.0f && out[127] == 0.0f);

    emb->ops->free(emb);
}


static void
test_vec_query(void **state)
{
    bfx_t  *fx = *state;

    char              err[256];
    size_t            i, n, len;
    mt_vec_t         *v;
    mt_vhit_t         slots[10];
    const char       *id;
    mt_vec_hits_t     hits;
    mt_vindex_t      *vi;

    v = vec_new(fx);

    assert_int_equal(v->ops->query(v, fx->vecs[7], DIMS, NULL, 10, &hits,
                                   err, sizeof(err)),
                     0);
    assert_int_equal(hits.n, 10);
    assert_int_equal(hits.total, N);
    assert_int_equal(hits.hits[0].id_len, 11);
    assert_memory_equal(hits.hits[0].id, "creator-007", 11);

    /* what the index itself answers, slot for id */
    vi = mt_vindex_open(fx->path, NULL, 0, err, sizeof(err));
    assert_non_null(vi);
    n = mt_vindex_search(vi, fx->vecs[7], NULL, 10, slots);
    assert_int_equal(n, hits.n);

    for (i = 0; i < n; i++) {
        id = mt_vindex_id(vi, slots[i].slot, &len);
        assert_int_equal(len, hits.hits[i].id_len);
        assert_memory_equal(id, hits.hits[i].id, len);
        assert_true(slots[i].score == hits.hits[i].score);
    }

    mt_vindex_close(vi);

    /* the hits own their ids: still there with the index closed */
    v->ops->free(v);
    assert_memory_equal(hits.hits[0].id, "creator-007", 11);
    assert_int_equal(hits.hits[0].id[11], '\0');

    mt_vec_hits_free(&hits);
    assert_null(hits.hits);
    assert_int_equal(hits.n, 0);
}


static void
test_vec_filter(void **state)
{
    bfx_t  *fx = *state;

    char            err[256];
    size_t          i;
    unsigned long   num;
    mt_vec_t       *v;
    mt_errs_t       errs;
    mt_filter_t    *f;
    mt_vec_hits_t   hits;
    mt_json_err_t   jerr;
    mt_json_doc_t  *doc;

    v = vec_new(fx);

    doc = mt_json_parse(S("{\"region\":\"EU\"}"), NULL, &jerr, err,
                        sizeof(err));
    assert_non_null(doc);
    mt_errs_init(&errs);
    f = mt_filter_compile(mt_json_root(doc), &errs);
    assert_non_null(f);
    mt_errs_free(&errs);

    assert_int_equal(v->ops->query(v, fx->vecs[1], DIMS, f, 50, &hits, err,
                                   sizeof(err)),
                     0);
    assert_int_equal(hits.n, N / 3);

    for (i = 0; i < hits.n; i++) {
        num = strtoul(hits.hits[i].id + 8, NULL, 10);
        assert_int_equal(num % 3, 0);
    }

    mt_vec_hits_free(&hits);
    mt_filter_free(f);
    mt_json_free(doc);
    v->ops->free(v);
}


static void
test_vec_writes(void **state)
{
    bfx_t  *fx = *state;

    char              err[256];
    size_t            removed;
    uint64_t          g0, g1, g2;
    mt_vec_t         *v;
    mt_meta_t         m;
    mt_span_t         ids[2];
    mt_vec_hits_t     hits;
    mt_vec_record_t   rec;

    v = vec_new(fx);
    g0 = v->ops->generation(v);

    /* a new creator with creator-005's vector: found first */
    meta_for(0, &m);
    rec.id = "new-one";
    rec.id_len = 7;
    rec.text_hash = 1000;
    rec.meta = &m;
    rec.vec = fx->vecs[5];

    assert_int_equal(v->ops->upsert(v, &rec, 1, err, sizeof(err)), 0);
    assert_int_equal(v->ops->count(v), N + 1);
    g1 = v->ops->generation(v);
    assert_true(g1 != g0);

    assert_int_equal(v->ops->query(v, fx->vecs[5], DIMS, NULL, 2, &hits,
                                   err, sizeof(err)),
                     0);
    assert_int_equal(hits.n, 2);
    assert_true((hits.hits[0].id_len == 7
                 && memcmp(hits.hits[0].id, "new-one", 7) == 0)
                || (hits.hits[1].id_len == 7
                    && memcmp(hits.hits[1].id, "new-one", 7) == 0));
    mt_vec_hits_free(&hits);

    /* removed, and a missing id counts nothing */
    ids[0].data = "new-one";
    ids[0].len = 7;
    ids[1].data = "never-there";
    ids[1].len = 11;

    assert_int_equal(v->ops->remove(v, ids, 2, &removed, err, sizeof(err)),
                     0);
    assert_int_equal(removed, 1);
    assert_int_equal(v->ops->count(v), N);
    g2 = v->ops->generation(v);
    assert_true(g2 != g1);

    assert_false(has_id(v, fx->vecs[5], N, "new-one"));

    /* removed again: nothing, and the generation stays */
    assert_int_equal(v->ops->remove(v, ids, 1, &removed, err, sizeof(err)),
                     0);
    assert_int_equal(removed, 0);
    assert_true(v->ops->generation(v) == g2);

    /*
     * The same record upserted again comes back, counted once: its dead
     * record, same hash and vector, is no reason to skip the write.
     */
    assert_int_equal(v->ops->upsert(v, &rec, 1, err, sizeof(err)), 0);
    assert_int_equal(v->ops->count(v), N + 1);
    assert_true(v->ops->generation(v) != g2);
    assert_true(has_id(v, fx->vecs[5], 2, "new-one"));

    /* and again: a no-op now, the generation stays */
    g2 = v->ops->generation(v);
    assert_int_equal(v->ops->upsert(v, &rec, 1, err, sizeof(err)), 0);
    assert_int_equal(v->ops->count(v), N + 1);
    assert_true(v->ops->generation(v) == g2);

    /* nothing to remove: nothing removed */
    removed = 7;
    assert_int_equal(v->ops->remove(v, ids, 0, &removed, err, sizeof(err)),
                     0);
    assert_int_equal(removed, 0);

    v->ops->free(v);
}


/*
 * Two writer handles on one file, each with its own map of ids: what two
 * nginx workers have.  A handle's map may point at a record the other
 * removed, or miss the record that replaced it.
 */
static void
test_vec_two_writers(void **state)
{
    bfx_t  *fx = *state;

    char              err[256];
    size_t            removed;
    mt_vec_t         *a, *b;
    mt_meta_t         m;
    mt_span_t         id10, id11;
    mt_vindex_t      *vb;
    mt_vec_record_t   rec;

    a = vec_new(fx);

    vb = mt_vindex_open(fx->path, NULL, 1, err, sizeof(err));
    assert_non_null(vb);
    b = mt_vec_local_new(vb, 1);
    assert_non_null(b);

    /* not under the lock: refused */
    assert_int_equal(mt_vindex_delete(vb, S("creator-010"), err,
                                      sizeof(err)),
                     -1);

    id10.data = "creator-010";
    id10.len = 11;
    id11.data = "creator-011";
    id11.len = 11;

    /* b removes: a's map still points at the record, now dead */
    assert_int_equal(b->ops->remove(b, &id10, 1, &removed, err,
                                    sizeof(err)),
                     0);
    assert_int_equal(removed, 1);
    assert_int_equal(a->ops->count(a), N - 1);

    assert_int_equal(a->ops->remove(a, &id10, 1, &removed, err,
                                    sizeof(err)),
                     0);
    assert_int_equal(removed, 0);
    assert_int_equal(a->ops->count(a), N - 1);

    /* a writes it back, unchanged: a new record all the same */
    meta_for(10, &m);
    rec.id = id10.data;
    rec.id_len = id10.len;
    rec.text_hash = 11;
    rec.meta = &m;
    rec.vec = fx->vecs[10];

    assert_int_equal(a->ops->upsert(a, &rec, 1, err, sizeof(err)), 0);
    assert_int_equal(a->ops->count(a), N);
    assert_true(has_id(b, fx->vecs[10], 1, "creator-010"));

    /* b catches up with a's record and removes that one */
    assert_int_equal(b->ops->remove(b, &id10, 1, &removed, err,
                                    sizeof(err)),
                     0);
    assert_int_equal(removed, 1);
    assert_int_equal(b->ops->count(b), N - 1);
    assert_false(has_id(a, fx->vecs[10], 5, "creator-010"));

    /* b replaces 11; a, catching up, must not count its old one twice */
    meta_for(11, &m);
    rec.id = id11.data;
    rec.id_len = id11.len;
    rec.text_hash = 1011;
    rec.vec = fx->vecs[11];

    assert_int_equal(b->ops->upsert(b, &rec, 1, err, sizeof(err)), 0);
    assert_int_equal(b->ops->count(b), N - 1);

    assert_int_equal(a->ops->remove(a, &id11, 1, &removed, err,
                                    sizeof(err)),
                     0);
    assert_int_equal(removed, 1);
    assert_int_equal(a->ops->count(a), N - 2);
    assert_false(has_id(b, fx->vecs[11], 5, "creator-011"));

    b->ops->free(b);
    a->ops->free(a);

    /* a fresh handle, its map built from the file, agrees */
    vb = mt_vindex_open(fx->path, NULL, 1, err, sizeof(err));
    assert_non_null(vb);
    assert_int_equal(mt_vindex_live(vb), N - 2);
    assert_int_equal(mt_vindex_get(vb, S("creator-010"), NULL, NULL), -1);
    assert_int_equal(mt_vindex_get(vb, S("creator-011"), NULL, NULL), -1);
    assert_int_equal(mt_vindex_get(vb, S("creator-012"), NULL, NULL), 0);
    assert_int_equal(mt_vindex_lock(vb), 0);
    assert_int_equal(mt_vindex_delete(vb, S("creator-011"), err,
                                      sizeof(err)),
                     0);
    assert_int_equal(mt_vindex_delete(vb, S("creator-012"), err,
                                      sizeof(err)),
                     1);
    mt_vindex_unlock(vb);
    assert_int_equal(mt_vindex_live(vb), N - 3);
    mt_vindex_close(vb);
}


/*
 * A removed record is skipped by every search: exact, the lists of an
 * inverted file (a rebuilt index, trained), the sketches.
 */
static void
test_vec_remove_modes(void **state)
{
    bfx_t  *fx = *state;

    int                  modes[3];
    char                 err[256], id[32];
    size_t               i, len, removed;
    mt_vec_t            *v;
    mt_meta_t            m;
    mt_span_t            span;
    mt_vindex_t         *b, *vi;
    mt_vindex_params_t   p;

    memset(&p, 0, sizeof(p));
    p.dims = DIMS;
    p.capacity = 1000;
    p.model = MT_EMB_LOCAL_MODEL;
    p.lists = 4;

    b = mt_vindex_build_begin(fx->path, &p, err, sizeof(err));
    assert_non_null(b);

    for (i = 0; i < N; i++) {
        id_for(i, id, &len);
        meta_for(i, &m);
        assert_int_equal(mt_vindex_build_add(b, id, len, i + 1, &m,
                                             fx->vecs[i]),
                         0);
    }

    assert_int_equal(mt_vindex_build_commit(b, err, sizeof(err)), 0);
    mt_vindex_close(b);

    vi = mt_vindex_open(fx->path, NULL, 1, err, sizeof(err));
    assert_non_null(vi);
    assert_int_equal(mt_vindex_lists(vi), 4);
    v = mt_vec_local_new(vi, 1);
    assert_non_null(v);

    modes[0] = MT_VSEARCH_EXACT;
    modes[1] = MT_VSEARCH_IVF;
    modes[2] = MT_VSEARCH_SKETCH;

    for (i = 0; i < 3; i++) {
        mt_vindex_set_mode(vi, modes[i]);
        mt_vindex_set_nprobe(vi, 1);
        assert_true(has_id(v, fx->vecs[20], 1, "creator-020"));
    }

    span.data = "creator-020";
    span.len = 11;
    assert_int_equal(v->ops->remove(v, &span, 1, &removed, err,
                                    sizeof(err)),
                     0);
    assert_int_equal(removed, 1);
    assert_int_equal(v->ops->count(v), N - 1);

    for (i = 0; i < 3; i++) {
        mt_vindex_set_mode(vi, modes[i]);
        assert_false(has_id(v, fx->vecs[20], N, "creator-020"));
    }

    v->ops->free(v);
}


static void
test_vec_dims(void **state)
{
    bfx_t  *fx = *state;

    char            err[256];
    float           q[64];
    mt_vec_t       *v;
    mt_vec_hits_t   hits;

    v = vec_new(fx);

    memset(q, 0, sizeof(q));
    q[0] = 1.0f;

    assert_int_equal(v->ops->query(v, q, 64, NULL, 5, &hits, err,
                                   sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "64 dimensions"));
    assert_null(hits.hits);

    v->ops->free(v);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_emb_local, setup, teardown),
        cmocka_unit_test(test_emb_local_own),
        cmocka_unit_test_setup_teardown(test_vec_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vec_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vec_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vec_two_writers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vec_remove_modes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vec_dims, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for lib/embed.c: determinism, normalisation, bounds, and
 * rankings over the sample creators (t/data, read from the repo root).
 */

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"

#include "embed.h"
#include "json.h"
#include "model.h"


#define S(lit)      (lit), (sizeof(lit) - 1)
#ifndef DIMS
#define DIMS        384
#endif
#ifndef SEED
#define SEED        0x5eed5eed5eed5eedULL
#endif
#define NCREATORS   17
#define GUARD       16
#define SENTINEL    12345.0f


typedef struct {
    char           *id;
    char           *text;
    size_t          len;
    float           vec[DIMS];
} creator_t;

typedef struct {
    mt_embedder_t  *e;
    creator_t       c[NCREATORS];
    size_t          n;
} corpus_t;

static corpus_t  corpus;


static mt_json_doc_t *
parse_file(const char *path)
{
    char            *data, errbuf[128];
    size_t           len;
    mt_json_err_t    err;
    mt_json_doc_t   *doc;
    mt_json_limits_t lim;

    data = unit_read_file(path, &len);

    memset(&lim, 0, sizeof(lim));
    doc = mt_json_parse(data, len, &lim, &err, errbuf, sizeof(errbuf));
    free(data);

    return doc;
}


/* Appends s and a newline to a heap buffer; aborts without memory. */

static void
append(char **buf, size_t *len, const char *s, size_t n)
{
    char  *p;

    p = realloc(*buf, *len + n + 2);
    if (p == NULL) {
        abort();
    }

    memcpy(p + *len, s, n);
    p[*len + n] = '\n';
    p[*len + n + 1] = '\0';
    *buf = p;
    *len += n + 1;
}


static void
append_field(char **buf, size_t *len, const mt_json_t *obj, const char *key)
{
    size_t            i;
    const mt_json_t  *v;

    v = mt_json_get(obj, key);
    if (v == NULL) {
        return;
    }

    if (v->type == MT_JSON_STRING) {
        append(buf, len, v->u.string.s, v->u.string.len);
        return;
    }

    for (i = 0; v->type == MT_JSON_ARRAY && i < v->u.array.n; i++) {
        if (v->u.array.items[i]->type == MT_JSON_STRING) {
            append(buf, len, v->u.array.items[i]->u.string.s,
                   v->u.array.items[i]->u.string.len);
        }
    }
}


static double
cosine(const float *a, const float *b, unsigned n)
{
    unsigned  i;
    double    d;

    /* both are unit vectors */
    d = 0.0;
    for (i = 0; i < n; i++) {
        d += (double) a[i] * b[i];
    }

    return d;
}


static int
group_setup(void **state)
{
    char              *text;
    size_t             i, len;
    mt_json_doc_t     *doc;
    const mt_json_t   *root, *c;

    (void) state;

    doc = parse_file("t/data/creators.json");
    if (doc == NULL) {
        return -1;
    }

    root = mt_json_root(doc);
    corpus.e = mt_embedder_new(DIMS, SEED);

    if (corpus.e == NULL || root->type != MT_JSON_OBJECT
        || root->u.object.n != NCREATORS)
    {
        mt_json_free(doc);
        return -1;
    }

    /* bio, niches, values (what the module embeds), summary, interests */
    for (i = 0; i < root->u.object.n; i++) {
        c = root->u.object.pairs[i].value;
        text = mt_creator_text(c, &len);
        if (text == NULL) {
            abort();
        }

        append_field(&text, &len, mt_json_get(c, "analysis"), "summary");
        append_field(&text, &len, mt_json_get(c, "analysis"),
                     "audienceInterests");

        corpus.c[i].id = strdup(root->u.object.pairs[i].key);
        corpus.c[i].text = text;
        corpus.c[i].len = len;

        if (corpus.c[i].id == NULL
            || mt_embedder_add_doc(corpus.e, text, len) != 0)
        {
            abort();
        }
    }

    corpus.n = i;
    mt_embedder_freeze(corpus.e);

    for (i = 0; i < corpus.n; i++) {
        if (mt_embed(corpus.e, corpus.c[i].text, corpus.c[i].len,
                     corpus.c[i].vec) != 0)
        {
            abort();
        }
    }

    mt_json_free(doc);
    return 0;
}


static int
group_teardown(void **state)
{
    size_t  i;

    (void) state;

    for (i = 0; i < corpus.n; i++) {
        free(corpus.c[i].id);
        free(corpus.c[i].text);
    }

    mt_embedder_free(corpus.e);
    return 0;
}


/* The creators' rank (0 best) by cosine to the text's vector. */

static void
rank(const char *text, size_t len, size_t ranks[NCREATORS], int verbose)
{
    float   q[DIMS];
    double  sim[NCREATORS];
    size_t  i, j;

    assert_int_equal(mt_embed(corpus.e, text, len, q), 0);

    for (i = 0; i < corpus.n; i++) {
        sim[i] = cosine(q, corpus.c[i].vec, DIMS);
    }

    for (i = 0; i < corpus.n; i++) {
        ranks[i] = 0;
        for (j = 0; j < corpus.n; j++) {
            if (sim[j] > sim[i] || (j < i && sim[j] == sim[i])) {
                ranks[i]++;
            }
        }
    }

    for (i = 0; verbose && i < corpus.n; i++) {
        for (j = 0; j < corpus.n; j++) {
            if (ranks[j] == i) {
                print_message("  %2zu %-20s %.3f\n", i, corpus.c[j].id,
                              sim[j]);
            }
        }
    }
}


static size_t
find(const char *id)
{
    size_t  i;

    for (i = 0; i < corpus.n; i++) {
        if (strcmp(corpus.c[i].id, id) == 0) {
            return i;
        }
    }

    fail_msg("no creator %s", id);
    return 0;
}


static void
test_deterministic(void **state)
{
    float           a[DIMS], b[DIMS], c[DIMS];
    mt_embedder_t  *e1, *e2, *e3;

    (void) state;

    e1 = mt_embedder_new(DIMS, SEED);
    e2 = mt_embedder_new(DIMS, SEED);
    e3 = mt_embedder_new(DIMS, SEED + 1);
    assert_non_null(e1);
    assert_non_null(e2);
    assert_non_null(e3);

    assert_int_equal(mt_embed(e1, S("Budget travel by tram, cheaply!"), a),
                     0);
    assert_int_equal(mt_embed(e1, S("Budget travel by tram, cheaply!"), b),
                     0);
    assert_int_equal(mt_embed(e2, S("Budget travel by tram, cheaply!"), c),
                     0);
    assert_memory_equal(a, b, sizeof(a));
    assert_memory_equal(a, c, sizeof(a));

    /* case and punctuation do not count */
    assert_int_equal(mt_embed(e1, S("budget TRAVEL by tram cheaply"), b), 0);
    assert_memory_equal(a, b, sizeof(a));

    /* another seed, other hashes */
    assert_int_equal(mt_embed(e3, S("Budget travel by tram, cheaply!"), c),
                     0);
    assert_memory_not_equal(a, c, sizeof(a));

    /* the corpus embedder too: same text, same bytes */
    assert_int_equal(mt_embed(corpus.e, corpus.c[0].text, corpus.c[0].len,
                              a), 0);
    assert_memory_equal(a, corpus.c[0].vec, sizeof(a));

    /* frozen: no more documents */
    assert_int_equal(mt_embedder_add_doc(corpus.e, S("late")), -1);

    mt_embedder_free(e1);
    mt_embedder_free(e2);
    mt_embedder_free(e3);
}


static void
test_norm_and_empty(void **state)
{
    float     v[DIMS];
    size_t    i;
    unsigned  j;

    (void) state;

    for (i = 0; i < corpus.n; i++) {
        assert_float_equal(cosine(corpus.c[i].vec, corpus.c[i].vec, DIMS),
                           1.0, 1e-5);
    }

    assert_int_equal(mt_embed(corpus.e, S("x"), v), 0);
    assert_int_equal(mt_embed(corpus.e, S("Ünïcödé wörds ⬇️"), v), 0);
    assert_float_equal(cosine(v, v, DIMS), 1.0, 1e-5);

    /* nothing to embed: zeros, not NaN, and still success */
    assert_int_equal(mt_embed(corpus.e, "", 0, v), 0);
    for (j = 0; j < DIMS; j++) {
        assert_true(v[j] == 0.0f);
    }
}


/*
 * Every non-empty text has a unit vector, the same each time, whatever
 * the embedder state: texts without a word kept (issue 8, item 7) once
 * embedded as all zeros.
 */

static const char *const  junk[] = {
    "a", "x", "I", "7", "-", "?", ".", " ", "   ", "\t\n", "\xff", "\x01",
    "the", "the and of to", "... !!! -- the and of a", "!!!", "!!!!",
    "???", "1 2 3", "a b c d e", "A", "a.", "\xf0\x9f\x99\x82",
    "\xe2\xac\x87", "$", "%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%", NULL
};


static void
assert_unit(const float *v, unsigned dims, const char *text)
{
    double    n;
    unsigned  j;

    n = 0.0;
    for (j = 0; j < dims; j++) {
        if (!isfinite(v[j])) {
            fail_msg("\"%s\": component %u not finite", text, j);
        }

        n += (double) v[j] * v[j];
    }

    if (fabs(n - 1.0) > 1e-4) {
        fail_msg("\"%s\": squared norm %g, want 1", text, n);
    }
}


static void
test_never_zero(void **state)
{
    float           a[DIMS], b[DIMS], c[DIMS];
    size_t          i, len;
    mt_embedder_t  *plain, *other;

    (void) state;

    /* a state with no IDF yet (as before any index), and a learnt one */
    plain = mt_embedder_new(DIMS, SEED);
    other = mt_embedder_new(DIMS, SEED);
    assert_non_null(plain);
    assert_non_null(other);
    mt_embedder_freeze(plain);
    mt_embedder_freeze(other);

    for (i = 0; junk[i] != NULL; i++) {
        len = strlen(junk[i]);

        assert_int_equal(mt_embed(corpus.e, junk[i], len, a), 0);
        assert_unit(a, DIMS, junk[i]);

        /* deterministic: the same text and state, the same vector */
        assert_int_equal(mt_embed(corpus.e, junk[i], len, b), 0);
        assert_memory_equal(a, b, sizeof(a));

        assert_int_equal(mt_embed(plain, junk[i], len, b), 0);
        assert_unit(b, DIMS, junk[i]);
        assert_int_equal(mt_embed(other, junk[i], len, c), 0);
        assert_memory_equal(b, c, sizeof(b));
    }

    /* junk lands near similar junk, far from other junk */
    assert_int_equal(mt_embed(corpus.e, S("!!!"), a), 0);
    assert_int_equal(mt_embed(corpus.e, S("!!!!"), b), 0);
    assert_int_equal(mt_embed(corpus.e, S("???"), c), 0);
    assert_true(cosine(a, b, DIMS) > 0.5);
    assert_true(cosine(a, b, DIMS) > cosine(a, c, DIMS) + 0.3);

    /* a case difference alone does not move it */
    assert_int_equal(mt_embed(corpus.e, S("A"), a), 0);
    assert_int_equal(mt_embed(corpus.e, S("a"), b), 0);
    assert_memory_equal(a, b, sizeof(a));

    /* a text with words embeds as it always did: no fallback mixed in */
    assert_int_equal(mt_embed(corpus.e, S("budget travel"), a), 0);
    assert_int_equal(mt_embed(corpus.e, S("budget travel !!!"), b), 0);
    assert_memory_equal(a, b, sizeof(a));

    mt_embedder_free(plain);
    mt_embedder_free(other);
}


/*
 * A saved state whose IDFs are all zero, or NaN (a file that is not
 * ours, or damaged): the features of every word weigh nothing, yet the
 * vector is a finite unit vector.
 */

static void
test_bad_idf(void **state)
{
    int             fd, k;
    char            dir[] = "/tmp/mt-embed-XXXXXX", path[64], err[256];
    float           v[DIMS], bad;
    off_t           size, off;
    uint64_t        epoch;
    mt_embedder_t  *e, *m;

    (void) state;

    assert_non_null(mkdtemp(dir));
    (void) snprintf(path, sizeof(path), "%s/embedder", dir);

    e = mt_embedder_new(DIMS, SEED);
    assert_non_null(e);
    assert_int_equal(mt_embedder_add_doc(e, S("budget travel tips")), 0);
    assert_int_equal(mt_embedder_add_doc(e, S("budget cooking")), 0);
    mt_embedder_freeze(e);
    assert_int_equal(mt_embedder_save(e, path, 9, err, sizeof(err)), 0);
    mt_embedder_free(e);

    for (k = 0; k < 2; k++) {
        bad = (k == 0) ? 0.0f : NAN;

        /* the IDFs are the last third past the 40-byte header */
        fd = open(path, O_RDWR);
        assert_true(fd >= 0);
        size = lseek(fd, 0, SEEK_END);
        assert_true(size > 40);
        for (off = 40 + (size - 40) / 3 * 2; off + 4 <= size; off += 4) {
            assert_int_equal(pwrite(fd, &bad, 4, off), 4);
        }
        (void) close(fd);

        m = mt_embedder_map(path, &epoch, err, sizeof(err));
        assert_non_null(m);

        assert_int_equal(mt_embed(m, S("budget travel"), v), 0);
        assert_unit(v, DIMS, "budget travel");
        assert_int_equal(mt_embed(m, S("budget"), v), 0);
        assert_unit(v, DIMS, "budget");

        mt_embedder_free(m);
    }

    (void) unlink(path);
    (void) rmdir(dir);
}


static void
test_dims(void **state)
{
    float          *v;
    size_t          k;
    unsigned        d, j, nz;
    mt_embedder_t  *e;

    static const unsigned  dims[] = { 64, 100, 384, 1000, 4096 };

    (void) state;

    assert_null(mt_embedder_new(63, SEED));
    assert_null(mt_embedder_new(4097, SEED));
    assert_null(mt_embedder_new(0, SEED));

    for (k = 0; k < sizeof(dims) / sizeof(dims[0]); k++) {
        d = dims[k];
        e = mt_embedder_new(d, SEED);
        assert_non_null(e);
        assert_int_equal(mt_embedder_dims(e), d);

        v = malloc((d + 2 * GUARD) * sizeof(float));
        assert_non_null(v);

        for (j = 0; j < d + 2 * GUARD; j++) {
            v[j] = SENTINEL;
        }

        assert_int_equal(mt_embed(e, corpus.c[0].text, corpus.c[0].len,
                                  v + GUARD), 0);

        nz = 0;
        for (j = 0; j < GUARD; j++) {
            assert_true(v[j] == SENTINEL);
            assert_true(v[GUARD + d + j] == SENTINEL);
        }

        for (j = 0; j < d; j++) {
            nz += v[GUARD + j] != 0.0f;
        }

        /* the features spread over the vector, the last index included */
        assert_true(nz > d / 8 || nz > 40);
        assert_float_equal(cosine(v + GUARD, v + GUARD, d), 1.0, 1e-5);

        free(v);
        mt_embedder_free(e);
    }
}


static void
test_morphology(void **state)
{
    float   a[DIMS], b[DIMS], c[DIMS];

    (void) state;

    /* shared stems and n-grams beat an unrelated phrase */
    assert_int_equal(mt_embed(corpus.e, S("financial planning"), a), 0);
    assert_int_equal(mt_embed(corpus.e, S("personal finances, a plan"), b),
                     0);
    assert_int_equal(mt_embed(corpus.e, S("cozy indie games"), c), 0);

    print_message("  financial planning ~ finances %.3f, ~ games %.3f\n",
                  cosine(a, b, DIMS), cosine(a, c, DIMS));
    assert_true(cosine(a, b, DIMS) > 0.3);
    assert_true(cosine(a, b, DIMS) > cosine(a, c, DIMS) + 0.2);
}


static void
test_example_assignment(void **state)
{
    char              *text;
    size_t             i, j, len, sa, sb, ranks[NCREATORS];
    mt_json_doc_t     *doc;
    const mt_json_t   *a;

    static const char  *above[] = {
        "mindsovermoney", "laughingledger", "marketdecoded", "civicbriefs"
    };
    static const char  *below[] = {
        "pixelsandpatches", "travelbytram", "fitforminutes"
    };

    (void) state;

    doc = parse_file("t/data/example-assignment.json");
    assert_non_null(doc);
    a = mt_json_root(doc);

    text = NULL;
    len = 0;
    append_field(&text, &len, a, "topic");
    append_field(&text, &len, a, "keyTakeaway");
    append_field(&text, &len, a, "additionalContext");
    append_field(&text, &len, a, "creatorNiches");
    append_field(&text, &len, a, "creatorValues");
    assert_non_null(text);

    rank(text, len, ranks, 1);
    free(text);
    mt_json_free(doc);

    /*
     * The two whose niches name personal finance come before each of the
     * three; as groups, the four come before the three.  marketdecoded and
     * civicbriefs share hardly a word with the brief ("financial",
     * "consumer"): pairwise, their order against fitforminutes (which
     * shares "lifestyle") is within the hashing noise and changes with the
     * seed, so it is printed, not asserted.
     */
    for (i = 0; i < 2; i++) {
        for (j = 0; j < sizeof(below) / sizeof(below[0]); j++) {
            assert_true(ranks[find(above[i])] < ranks[find(below[j])]);
        }
    }

    sa = 0;
    sb = 0;
    for (i = 0; i < sizeof(above) / sizeof(above[0]); i++) {
        sa += ranks[find(above[i])];
    }

    for (j = 0; j < sizeof(below) / sizeof(below[0]); j++) {
        sb += ranks[find(below[j])];
    }

    /* mean ranks: sa / 4 < sb / 3 */
    assert_true(sa * 3 < sb * 4);

    for (i = 0; i < sizeof(above) / sizeof(above[0]); i++) {
        for (j = 0; j < sizeof(below) / sizeof(below[0]); j++) {
            if (ranks[find(above[i])] > ranks[find(below[j])]) {
                print_message("  (noise: %s after %s)\n", above[i],
                              below[j]);
            }
        }
    }
}


static void
check_first(const char *brief, const char *want)
{
    size_t  ranks[NCREATORS] = { 0 };

    print_message("brief: %s\n", brief);
    rank(brief, strlen(brief), ranks, 0);

    if (ranks[find(want)] != 0) {
        rank(brief, strlen(brief), ranks, 1);
    }

    assert_int_equal(ranks[find(want)], 0);
}


static void
test_obvious(void **state)
{
    (void) state;

    check_first("Show how to explore a city on a budget by riding trains "
                "and trams: cheap day trips, photos of the neighbourhoods "
                "you discover on the way.", "travelbytram");
    check_first("Review our new video game: honest first impressions, "
                "what makes it cozy, and whether gamers should stream it.",
                "pixelsandpatches");
    check_first("A ten minute workout routine to stay fit without a gym: "
                "quick exercises for busy people.", "fitforminutes");
    check_first("Explain a new recipe for leftovers: cooking without "
                "food waste and meal prep for the week.", "foodlabnotes");
    check_first("Fix a leaky faucet yourself: a simple home repair with "
                "basic tools, no plumber needed.", "homefixhacks");
}


static void
test_save_map(void **state)
{
    int             fd;
    char            dir[] = "/tmp/mt-embed-XXXXXX", path[64], tmp[80];
    float           a[DIMS], b[DIMS];
    size_t          i;
    uint64_t        epoch;
    mt_embedder_t  *m, *u;
    char            err[256];

    (void) state;

    assert_non_null(mkdtemp(dir));
    (void) snprintf(path, sizeof(path), "%s/embedder", dir);

    assert_int_equal(mt_embedder_save(corpus.e, path, 42, err, sizeof(err)),
                     0);

    m = mt_embedder_map(path, &epoch, err, sizeof(err));
    assert_non_null(m);
    assert_int_equal(epoch, 42);
    assert_int_equal(mt_embedder_dims(m), DIMS);

    /* the mapped state embeds exactly as the one it was saved from */
    for (i = 0; i < corpus.n; i++) {
        assert_int_equal(mt_embed(corpus.e, corpus.c[i].text,
                                  corpus.c[i].len, a), 0);
        assert_int_equal(mt_embed(m, corpus.c[i].text, corpus.c[i].len, b),
                         0);
        assert_memory_equal(a, b, sizeof(a));
    }

    /* frozen: a mapped state learns nothing more */
    assert_int_equal(mt_embedder_add_doc(m, S("more text")), -1);
    mt_embedder_free(m);

    /* an unfrozen embedder has nothing to save */
    u = mt_embedder_new(DIMS, SEED);
    assert_non_null(u);
    assert_int_equal(mt_embedder_save(u, path, 1, err, sizeof(err)), -1);
    mt_embedder_free(u);

    /* a cut file is refused, not mapped short */
    (void) snprintf(tmp, sizeof(tmp), "%s/cut", dir);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "MTEMBED1", 8), 8);
    (void) close(fd);
    assert_null(mt_embedder_map(tmp, &epoch, err, sizeof(err)));
    assert_null(mt_embedder_map("/nonexistent/x", &epoch, err, sizeof(err)));

    (void) unlink(tmp);
    (void) unlink(path);
    (void) rmdir(dir);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_norm_and_empty),
        cmocka_unit_test(test_dims),
        cmocka_unit_test(test_morphology),
        cmocka_unit_test(test_example_assignment),
        cmocka_unit_test(test_obvious),
        cmocka_unit_test(test_save_map),
        cmocka_unit_test(test_never_zero),
        cmocka_unit_test(test_bad_idf),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

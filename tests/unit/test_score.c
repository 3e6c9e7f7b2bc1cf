/*
 * Unit tests for lib/score.c and lib/score_text.c: the components, the
 * matchScore, the texts.  The embedder is not here: cosines are chosen
 * by the tests.  Run from the repository root (reads t/data/).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "unit.h"

#include "json.h"
#include "score.h"
#include "util.h"


#define EXAMPLE   "t/data/example-assignment.json"
#define CREATORS  "t/data/creators.json"

#define E_ACUTE   "\xc3\xa9"            /* é: 2 bytes */
#define EMOJI     "\xf0\x9f\x98\x80"    /* U+1F600: 4 bytes */

/* the creators a shrinkflation brief should find first */
#define FITS      " mindsovermoney laughingledger civicbriefs marketdecoded "

#define NCREATORS 17


typedef struct {
    mt_json_doc_t          *adoc;
    mt_json_doc_t          *cdoc;
    char                   *atext;
    char                   *ctext;
    const mt_json_t        *a;
    const mt_json_t        *cs;        /* uniqueId: creator */
} data_t;

typedef struct {
    const char             *id;
    mt_breakdown_t          b;
} row_t;


/* ----------------------------------------------------------------------
 * helpers
 */

static mt_json_doc_t *
parse_n(const char *text, size_t len)
{
    char            errbuf[128];
    mt_json_err_t   err;
    mt_json_doc_t  *doc;

    doc = mt_json_parse(text, len, NULL, &err, errbuf, sizeof(errbuf));
    if (doc == NULL) {
        print_error("parse failed: %s\n", errbuf);
    }

    assert_non_null(doc);
    return doc;
}


static mt_json_doc_t *
parse(const char *text)
{
    return parse_n(text, strlen(text));
}


static void
data_load(data_t *d)
{
    size_t  len;

    d->atext = unit_read_file(EXAMPLE, &len);
    d->adoc = parse_n(d->atext, len);
    d->a = mt_json_root(d->adoc);

    d->ctext = unit_read_file(CREATORS, &len);
    d->cdoc = parse_n(d->ctext, len);
    d->cs = mt_json_root(d->cdoc);

    assert_int_equal(d->cs->type, MT_JSON_OBJECT);
    assert_int_equal(d->cs->u.object.n, NCREATORS);
}


static void
data_free(data_t *d)
{
    mt_json_free(d->adoc);
    mt_json_free(d->cdoc);
    free(d->atext);
    free(d->ctext);
}


static const mt_json_t *
creator(const data_t *d, const char *id)
{
    const mt_json_t  *c;

    c = mt_json_get(d->cs, id);
    assert_non_null(c);
    return c;
}


/* best first, ties by id: as the module sorts */
static int
row_cmp(const void *x, const void *y)
{
    const row_t  *a = x, *b = y;

    if (a->b.score != b->b.score) {
        return a->b.score > b->b.score ? -1 : 1;
    }

    return strcmp(a->id, b->id);
}


static void
rank(const data_t *d, const mt_json_t *a, double cosine, int semantic_ok,
    row_t *rows)
{
    size_t  i;

    for (i = 0; i < d->cs->u.object.n; i++) {
        rows[i].id = d->cs->u.object.pairs[i].key;
        mt_score(a, d->cs->u.object.pairs[i].value, cosine, cosine,
                 semantic_ok, &rows[i].b);
    }

    qsort(rows, d->cs->u.object.n, sizeof(row_t), row_cmp);
}


static int
is_fit(const char *id)
{
    char  key[128];

    (void) snprintf(key, sizeof(key), " %s ", id);
    return strstr(FITS, key) != NULL;
}


static void
assert_unit(double v)
{
    assert_false(isnan(v));
    assert_true(v >= 0.0);
    assert_true(v <= 1.0);
}


static void
assert_breakdown(const mt_breakdown_t *b)
{
    assert_unit(b->semantic);
    assert_unit(b->niche);
    assert_unit(b->audience);
    assert_unit(b->value);
    assert_unit(b->engagement);
    assert_unit(b->tone);
    assert_unit(b->score);
}


/* what a writer call produced: one JSON string, decoded; caller frees */
typedef enum {
    TEXT_REASONING,
    TEXT_FRAMING,
    TEXT_SUMMARY
} text_kind_t;

static char *
text_of(text_kind_t kind, const mt_json_t *a, const mt_json_t *c,
    const mt_breakdown_t *b, size_t nmatches, size_t ncreators,
    int fallback)
{
    char            *out, *s;
    size_t           len;
    mt_jw_t          w;
    mt_json_doc_t   *doc;
    const mt_json_t *v;

    mt_jw_init(&w);

    switch (kind) {
    case TEXT_REASONING:
        mt_reasoning(a, c, b, &w);
        break;
    case TEXT_FRAMING:
        mt_framing(a, c, &w);
        break;
    default:
        mt_summary(a, b, nmatches, ncreators, fallback, &w);
        break;
    }

    assert_false(mt_jw_failed(&w));
    out = mt_jw_take(&w, &len);
    assert_non_null(out);
    assert_true(mt_utf8_valid(out, len));

    /* the writer's output parses back: escaping is right */
    doc = parse_n(out, len);
    v = mt_json_root(doc);
    assert_int_equal(v->type, MT_JSON_STRING);
    assert_true(v->u.string.len > 0);
    assert_true(mt_utf8_valid(v->u.string.s, v->u.string.len));

    s = strdup(v->u.string.s);
    assert_non_null(s);

    mt_json_free(doc);
    free(out);

    return s;
}


static char *
reasoning(const mt_json_t *a, const mt_json_t *c, double cosine)
{
    mt_breakdown_t  b;

    mt_score(a, c, cosine, cosine, 1, &b);
    return text_of(TEXT_REASONING, a, c, &b, 0, 0, 0);
}


static char *
framing(const mt_json_t *a, const mt_json_t *c)
{
    return text_of(TEXT_FRAMING, a, c, NULL, 0, 0, 0);
}


/*
 * The sentences: "." before a capital or the end.  The nickname is left
 * out first: "Dr. Noor A." is not three sentences.
 */
static size_t
sentences(const char *text, const mt_json_t *c)
{
    char             *t, *p;
    size_t            n, len;
    const mt_json_t  *nick;

    t = strdup(text);
    assert_non_null(t);

    nick = mt_json_get(c, "nickname");
    len = (nick != NULL && nick->type == MT_JSON_STRING) ? nick->u.string.len
                                                         : 0;

    while (len > 0 && (p = strstr(t, nick->u.string.s)) != NULL) {
        memset(p, 'X', len);
    }

    n = 0;

    for (p = t; *p != '\0'; p++) {
        if (*p == '.' && (p[1] == '\0' || (p[1] == ' ' && p[2] >= 'A'
                                           && p[2] <= 'Z')))
        {
            n++;
        }
    }

    free(t);
    return n;
}


static mt_breakdown_t
score_of(const char *assignment, const char *creator_json, double cosine,
    double best, int semantic_ok)
{
    mt_breakdown_t   b;
    mt_json_doc_t   *a, *c;

    a = parse(assignment);
    c = parse(creator_json);

    mt_score(mt_json_root(a), mt_json_root(c), cosine, best, semantic_ok,
             &b);
    assert_breakdown(&b);

    mt_json_free(a);
    mt_json_free(c);

    return b;
}


static double
niche_of(const char *want, const char *primary, const char *secondary)
{
    char             a[512], c[512];
    mt_breakdown_t   b;

    (void) snprintf(a, sizeof(a), "{\"creatorNiches\":[%s]}", want);
    (void) snprintf(c, sizeof(c),
                    "{\"analysis\":{\"primaryNiches\":[%s],"
                    "\"secondaryNiches\":[%s]}}", primary, secondary);

    b = score_of(a, c, 0.0, 0.0, 0);
    return b.niche;
}


static double
value_of(const char *want, const char *have)
{
    char             a[512], c[512];
    mt_breakdown_t   b;

    (void) snprintf(a, sizeof(a), "{\"creatorValues\":[%s]}", want);
    (void) snprintf(c, sizeof(c), "{\"analysis\":{\"apparentValues\":[%s]}}",
                    have);

    b = score_of(a, c, 0.0, 0.0, 0);
    return b.value;
}


static double
tone_of(const char *want, const char *tones)
{
    char             a[512], c[512];
    mt_breakdown_t   b;

    (void) snprintf(a, sizeof(a), "{\"toneStyle\":\"%s\"}", want);
    (void) snprintf(c, sizeof(c),
                    "{\"analysis\":{\"engagementStyle\":{\"tone\":[%s]}}}",
                    tones);

    b = score_of(a, c, 0.0, 0.0, 0);
    return b.tone;
}


static double
audience_of(const char *target, const char *region)
{
    char             a[512], c[512];
    mt_breakdown_t   b;

    (void) snprintf(a, sizeof(a), "{\"targetAudience\":{%s}}", target);
    (void) snprintf(c, sizeof(c), "{\"region\":\"%s\"}", region);

    b = score_of(a, c, 0.0, 0.0, 0);
    return b.audience;
}


static double
engagement_of(const char *counts)
{
    char             c[512];
    mt_breakdown_t   b;

    (void) snprintf(c, sizeof(c), "{%s}", counts);

    b = score_of("{}", c, 0.0, 0.0, 0);
    return b.engagement;
}


/* ----------------------------------------------------------------------
 * ranking the example
 */

static void
print_top(const char *what, const row_t *rows, size_t n)
{
    size_t  i;

    print_message("%s:\n", what);

    for (i = 0; i < n; i++) {
        print_message("  %zu. %-18s %.3f  niche %.2f value %.2f "
                      "audience %.2f tone %.2f engagement %.2f\n",
                      i + 1, rows[i].id, rows[i].b.score, rows[i].b.niche,
                      rows[i].b.value, rows[i].b.audience, rows[i].b.tone,
                      rows[i].b.engagement);
    }
}


/*
 * With every cosine equal, the structured signals alone rank: the top 3
 * are about money, consumer psychology or rights, or lifestyle and money,
 * the most obvious one first, the humour-and-money one among them.
 */
static void
test_example_structured(void **state)
{
    size_t  i, k;
    data_t  d;
    row_t   rows[NCREATORS], alone[NCREATORS];

    (void) state;

    data_load(&d);
    memset(rows, 0, sizeof(rows));
    memset(alone, 0, sizeof(alone));

    rank(&d, d.a, 0.2, 1, rows);
    rank(&d, d.a, 0.0, 0, alone);
    print_top("example, all cosines 0.2", rows, 5);

    for (i = 0; i < 3; i++) {
        assert_true(is_fit(rows[i].id));
        assert_true(is_fit(alone[i].id));
    }

    assert_string_equal(rows[0].id, "mindsovermoney");

    for (k = 0; k < 3; k++) {
        if (strcmp(rows[k].id, "laughingledger") == 0) {
            break;
        }
    }

    assert_true(k < 3);

    /* equal cosines add the same to every creator: the same order */
    for (i = 0; i < NCREATORS; i++) {
        assert_string_equal(rows[i].id, alone[i].id);
        assert_breakdown(&rows[i].b);
    }

    /* no saturation: distinct scores, the top one below 1 */
    assert_true(rows[0].b.score < 1.0);
    assert_true(rows[0].b.score > rows[1].b.score);
    assert_true(rows[2].b.score > rows[3].b.score);

    /* the weak fits are well below */
    assert_true(rows[0].b.score - rows[NCREATORS - 1].b.score > 0.3);

    data_free(&d);
}


/* a cosine that says more lifts a creator; fallback ignores cosines */
static void
test_semantic(void **state)
{
    data_t          d;
    mt_breakdown_t  lo, hi, b1, b2;
    const mt_json_t *c;

    (void) state;

    data_load(&d);
    c = creator(&d, "pixelsandpatches");

    mt_score(d.a, c, 0.1, 0.4, 1, &lo);
    mt_score(d.a, c, 0.4, 0.4, 1, &hi);
    assert_true(hi.score > lo.score);
    assert_true(fabs(lo.semantic - 0.1) < 1e-9);
    assert_true(fabs(hi.semantic - 0.4) < 1e-9);

    /* the best candidate sets the scale: ada's 0.85 of 0.9 is near top */
    mt_score(d.a, c, 0.85, 0.9, 1, &b1);
    mt_score(d.a, c, 0.20, 0.9, 1, &b2);
    assert_true(b1.score > b2.score);

    /* no embedding: semantic 0, the cosine does not count */
    mt_score(d.a, c, 0.9, 0.9, 0, &b1);
    mt_score(d.a, c, -0.3, 0.1, 0, &b2);
    assert_true(b1.semantic == 0.0);
    assert_true(b1.score == b2.score);

    /* odd cosines stay in range */
    mt_score(d.a, c, -1.0, -0.5, 1, &b1);
    assert_breakdown(&b1);
    assert_true(b1.semantic == 0.0);
    mt_score(d.a, c, 2.0, 0.5, 1, &b1);
    assert_breakdown(&b1);
    mt_score(d.a, c, NAN, NAN, 1, &b1);
    assert_breakdown(&b1);
    mt_score(d.a, c, INFINITY, 0.0, 1, &b1);
    assert_breakdown(&b1);

    data_free(&d);
}


/* every creator, many cosines: all in [0, 1], the same twice */
static void
test_bounds_deterministic(void **state)
{
    size_t           i, k;
    data_t           d;
    char            *t1, *t2;
    mt_breakdown_t   b1, b2;
    const mt_json_t *c;

    static const double  cos[] = { -1.0, 0.0, 0.05, 0.3, 0.7, 0.9, 1.0 };

    (void) state;

    data_load(&d);

    for (i = 0; i < d.cs->u.object.n; i++) {
        c = d.cs->u.object.pairs[i].value;

        for (k = 0; k < sizeof(cos) / sizeof(cos[0]); k++) {
            mt_score(d.a, c, cos[k], 0.9, 1, &b1);
            mt_score(d.a, c, cos[k], 0.9, 1, &b2);
            assert_breakdown(&b1);
            assert_memory_equal(&b1, &b2, sizeof(b1));
        }

        t1 = reasoning(d.a, c, 0.3);
        t2 = reasoning(d.a, c, 0.3);
        assert_string_equal(t1, t2);
        free(t1);
        free(t2);

        t1 = framing(d.a, c);
        t2 = framing(d.a, c);
        assert_string_equal(t1, t2);
        free(t1);
        free(t2);
    }

    data_free(&d);
}


/* ----------------------------------------------------------------------
 * the components
 */

static void
test_niche_words(void **state)
{
    double  full, part;

    (void) state;

    full = niche_of("\"personal finance\"", "\"Personal Finance\"", "");
    assert_true(full > 0.99);

    /* case and plurals */
    assert_true(niche_of("\"Personal Finances\"", "\"personal finance\"", "")
                > 0.99);
    assert_true(niche_of("\"PERSONAL FINANCE\"", "\"Personal finances\"", "")
                > 0.99);
    assert_true(niche_of("\"Game Reviews\"", "\"game review\"", "") > 0.99);
    assert_true(niche_of("\"Study Strategies\"", "\"study strategy\"", "")
                > 0.99);
    assert_true(niche_of("\"Niches\"", "\"niche\"", "") > 0.99);
    assert_true(niche_of("\"Budgeting\"", "\"Budget\"", "") > 0.99);

    /* partial overlap: some, not all */
    part = niche_of("\"personal finance\"", "\"Finance\"", "");
    assert_true(part > 0.3 && part < full);
    part = niche_of("\"money tips\"", "\"Personal Finance & Money\"", "");
    assert_true(part > 0.2 && part < full);
    assert_true(niche_of("\"Consumer Awareness\"", "\"Consumer Rights\"", "")
                > niche_of("\"Consumer Awareness\"", "\"Gaming\"", ""));

    /* nothing in common */
    assert_true(niche_of("\"personal finance\"", "\"Gaming\", \"Streaming\"",
                         "")
                == 0.0);

    /* a secondary niche counts less than a primary one */
    assert_true(niche_of("\"Personal Finance\"", "\"Humor\"",
                         "\"Personal Finance\"")
                < niche_of("\"Personal Finance\"", "\"Personal Finance\"",
                           "\"Humor\""));

    /* one strong hit counts, covering every wanted niche counts more */
    part = niche_of("\"Personal Finance\", \"Gardening\"",
                    "\"Personal Finance\"", "");
    assert_true(part > 0.5 && part < full);

    /* an umbrella niche alone says less than a specific one */
    assert_true(niche_of("\"Lifestyle\", \"Personal Finance\"",
                         "\"Lifestyle\"", "")
                < niche_of("\"Lifestyle\", \"Personal Finance\"",
                           "\"Personal Finance\"", ""));

    /* no niches asked: neutral; a creator without any: none */
    assert_true(niche_of("", "\"Gaming\"", "") == 0.5);
    assert_true(niche_of("\"Gaming\"", "", "") == 0.0);
}


static void
test_value_tone(void **state)
{
    (void) state;

    assert_true(value_of("\"Honesty\", \"Transparency\"",
                         "\"transparency\", \"honesty\"")
                > 0.99);
    assert_true(value_of("\"Honest\"", "\"Honesty\"") > 0.99);

    /* close words count partly */
    assert_true(value_of("\"Honesty\"", "\"Integrity\"") > 0.3);
    assert_true(value_of("\"Honesty\"", "\"Integrity\"")
                < value_of("\"Honesty\"", "\"Honesty\""));
    assert_true(value_of("\"Honesty\"", "\"Wonder\"") == 0.0);
    assert_true(value_of("", "\"Wonder\"") == 0.5);

    assert_true(tone_of("funny", "\"Humorous\"") > 0.5);
    assert_true(tone_of("funny", "\"Humorous\"")
                > tone_of("serious", "\"Humorous\""));
    assert_true(tone_of("educational", "\"Informative\"") > 0.5);
    assert_true(tone_of("Conversational, relatable, honest",
                        "\"Relatable\"")
                > tone_of("Conversational, relatable, honest",
                          "\"Serious\""));
    assert_true(tone_of("", "\"Serious\"") == 0.5);
}


static void
test_audience(void **state)
{
    (void) state;

    assert_true(audience_of("\"locale\":\"US\"", "US") == 1.0);
    assert_true(audience_of("\"locale\":\"en-US\"", "US") == 1.0);
    assert_true(audience_of("\"locale\":\"en_us\"", "us") == 1.0);
    assert_true(audience_of("\"locale\":\"UK\"", "GB") == 1.0);
    assert_true(audience_of("\"locale\":\"EU\"", "FR") == 0.5);
    assert_true(audience_of("\"locale\":\"UK\"", "EU") == 0.5);
    assert_true(audience_of("\"locale\":\"US\"", "UK") == 0.0);
    assert_true(audience_of("\"locale\":\"US\"", "CA") == 0.0);

    /* no locale, no demographic: neutral */
    assert_true(audience_of("", "US") == 0.5);
}


static void
test_audience_demographic(void **state)
{
    data_t          d;
    mt_breakdown_t  money, games;

    (void) state;

    data_load(&d);

    /* both US: the demographic words tell them apart */
    mt_score(d.a, creator(&d, "mindsovermoney"), 0.0, 0.0, 0, &money);
    mt_score(d.a, creator(&d, "pixelsandpatches"), 0.0, 0.0, 0, &games);
    assert_true(money.audience > games.audience);

    data_free(&d);
}


static void
test_engagement(void **state)
{
    double  none, small, big, rate;

    (void) state;

    none = engagement_of("\"nickname\":\"x\"");
    assert_true(none > 0.2 && none < 0.4);

    small = engagement_of("\"followerCount\":10000");
    big = engagement_of("\"followerCount\":1000000");
    assert_true(big > small);
    assert_true(engagement_of("\"followerCount\":1e12") <= 1.0);

    /* likes per video per follower: the more, the better */
    rate = engagement_of("\"followerCount\":100000,\"heartCount\":50000000,"
                         "\"videoCount\":500");
    assert_true(rate > engagement_of("\"followerCount\":100000,"
                                     "\"heartCount\":500000,"
                                     "\"videoCount\":500"));

    /* nonsense counts are missing ones */
    assert_true(engagement_of("\"followerCount\":-5,\"heartCount\":\"many\","
                              "\"videoCount\":0")
                == none);
}


/* nothing to go on: no crash, neutral values */
static void
test_missing_fields(void **state)
{
    char            *t;
    mt_breakdown_t   b;
    mt_json_doc_t   *a, *c;

    (void) state;

    b = score_of("{}", "{}", 0.5, 0.5, 1);
    assert_true(b.niche == 0.5);
    assert_true(b.value == 0.5);
    assert_true(b.tone == 0.5);
    assert_true(b.audience == 0.5);

    b = score_of("{\"topic\":\"T\",\"creatorNiches\":[1,null,\"\"],"
                 "\"targetAudience\":\"US\",\"toneStyle\":7}",
                 "{\"analysis\":{\"primaryNiches\":\"Gaming\","
                 "\"engagementStyle\":[]},\"region\":12}", 0.1, 0.2, 1);
    assert_true(b.niche == 0.5);

    b = score_of("[]", "null", 0.0, 0.0, 0);
    assert_true(b.score > 0.0);

    a = parse("{}");
    c = parse("{}");

    t = text_of(TEXT_REASONING, mt_json_root(a), mt_json_root(c), &b, 0, 0,
                0);
    assert_non_null(strstr(t, "This creator"));
    free(t);

    t = framing(mt_json_root(a), mt_json_root(c));
    assert_non_null(strstr(t, "this creator"));
    free(t);

    /* no breakdown at hand: the texts still come */
    t = text_of(TEXT_REASONING, mt_json_root(a), mt_json_root(c), NULL, 0, 0,
                0);
    free(t);

    t = text_of(TEXT_SUMMARY, mt_json_root(a), NULL, NULL, 0, 3, 0);
    free(t);

    mt_json_free(a);
    mt_json_free(c);
}


/* ----------------------------------------------------------------------
 * the texts
 */

static void
test_reasoning(void **state)
{
    size_t  i, k;
    char   *t[NCREATORS];
    data_t  d;

    (void) state;

    data_load(&d);

    /* a good fit: its nickname, the niches and values found, the region */
    t[0] = reasoning(d.a, creator(&d, "mindsovermoney"), 0.3);
    print_message("mindsovermoney: %s\n", t[0]);
    assert_non_null(strstr(t[0], "Alex R."));
    assert_non_null(strstr(t[0], "Personal Finance"));
    assert_non_null(strstr(t[0], "Transparency"));
    assert_non_null(strstr(t[0], "US"));
    assert_null(strstr(t[0], "No overlap"));
    assert_int_equal(sentences(t[0], creator(&d, "mindsovermoney")), 3);
    free(t[0]);

    t[0] = reasoning(d.a, creator(&d, "laughingledger"), 0.3);
    assert_non_null(strstr(t[0], "Casey J."));
    assert_non_null(strstr(t[0], "Lifestyle"));
    assert_non_null(strstr(t[0], "Honesty"));
    free(t[0]);

    /* a weak fit says what is missing */
    t[0] = reasoning(d.a, creator(&d, "pixelsandpatches"), 0.1);
    print_message("pixelsandpatches: %s\n", t[0]);
    assert_non_null(strstr(t[0], "No overlap"));
    assert_non_null(strstr(t[0], "Lifestyle"));
    assert_non_null(strstr(t[0], "Personal Finance"));
    assert_non_null(strstr(t[0], "Consumer Awareness"));
    assert_non_null(strstr(t[0], "Gaming"));
    assert_non_null(strstr(t[0], "None of the requested values"));
    assert_int_equal(sentences(t[0], creator(&d, "pixelsandpatches")), 3);
    free(t[0]);

    /* the wrong country is named as such */
    t[0] = reasoning(d.a, creator(&d, "greenroutes"), 0.1);
    assert_non_null(strstr(t[0], "outside the requested US locale"));
    free(t[0]);

    /* no two creators get the same words */
    for (i = 0; i < NCREATORS; i++) {
        t[i] = reasoning(d.a, d.cs->u.object.pairs[i].value, 0.2);
        assert_true(sentences(t[i], d.cs->u.object.pairs[i].value) <= 3);

        for (k = 0; k < i; k++) {
            assert_string_not_equal(t[i], t[k]);
        }
    }

    for (i = 0; i < NCREATORS; i++) {
        free(t[i]);
    }

    data_free(&d);
}


static void
test_reasoning_no_niches(void **state)
{
    char           *t;
    mt_json_doc_t  *a, *c;

    (void) state;

    a = parse("{\"topic\":\"Saving on groceries\"}");
    c = parse("{\"nickname\":\"Ana\",\"analysis\":{\"primaryNiches\":"
              "[\"Cooking\"]}}");

    t = reasoning(mt_json_root(a), mt_json_root(c), 0.4);
    assert_non_null(strstr(t, "Ana covers Cooking"));
    assert_non_null(strstr(t, "names no niches"));
    free(t);

    mt_json_free(a);
    mt_json_free(c);
}


static void
test_framing(void **state)
{
    size_t  i, k;
    char   *t[NCREATORS];
    data_t  d;

    (void) state;

    data_load(&d);

    t[0] = framing(d.a, creator(&d, "laughingledger"));
    print_message("laughingledger: %s\n", t[0]);
    assert_non_null(strstr(t[0], "Casey J."));
    assert_non_null(strstr(t[0], "Help people spot shrinkflation"));
    assert_non_null(strstr(t[0], "humorous"));
    assert_non_null(strstr(t[0], "budget hacks"));
    free(t[0]);

    for (i = 0; i < NCREATORS; i++) {
        t[i] = framing(d.a, d.cs->u.object.pairs[i].value);
        assert_non_null(strstr(t[i], "shrinkflation"));

        for (k = 0; k < i; k++) {
            assert_string_not_equal(t[i], t[k]);
        }
    }

    for (i = 0; i < NCREATORS; i++) {
        free(t[i]);
    }

    data_free(&d);
}


static void
test_summary(void **state)
{
    char            *t;
    data_t           d;
    mt_breakdown_t   b;

    (void) state;

    data_load(&d);
    mt_score(d.a, creator(&d, "mindsovermoney"), 0.3, 0.3, 1, &b);

    t = text_of(TEXT_SUMMARY, d.a, NULL, &b, 3, 17, 0);
    assert_non_null(strstr(t, "Ranked 17 creators"));
    assert_non_null(strstr(t, "Shrinkflation"));
    assert_null(strstr(t, "unavailable"));
    free(t);

    t = text_of(TEXT_SUMMARY, d.a, NULL, &b, 3, 17, 1);
    assert_non_null(strstr(t, "Semantic search was unavailable"));
    assert_null(strstr(t, "topic similarity ("));
    free(t);

    t = text_of(TEXT_SUMMARY, d.a, NULL, NULL, 0, 0, 0);
    assert_non_null(strstr(t, "creator set is empty"));
    free(t);

    t = text_of(TEXT_SUMMARY, d.a, NULL, NULL, 0, 0, 1);
    assert_non_null(strstr(t, "creator set is empty"));
    free(t);

    data_free(&d);
}


static void
test_assignment_text(void **state)
{
    char            *t;
    size_t           len;
    mt_json_doc_t   *a;

    (void) state;

    a = parse("{\"topic\":\"T\",\"keyTakeaway\":\"K\","
              "\"additionalContext\":\"C\","
              "\"creatorNiches\":[\"Lifestyle\",\"Personal Finance\"],"
              "\"creatorValues\":[\"Honesty\"],\"toneStyle\":\"calm\"}");
    t = mt_assignment_text(mt_json_root(a), &len);
    assert_non_null(t);
    assert_string_equal(t, "T\nK\nC\nNiches: Lifestyle, Personal Finance\n"
                           "Values: Honesty");
    assert_int_equal(len, strlen(t));
    free(t);
    mt_json_free(a);

    /* the labels stay, as in the creator text */
    a = parse("{\"topic\":\"T\",\"keyTakeaway\":\"K\","
              "\"additionalContext\":\"C\"}");
    t = mt_assignment_text(mt_json_root(a), NULL);
    assert_non_null(t);
    assert_string_equal(t, "T\nK\nC\nNiches: \nValues: ");
    free(t);
    mt_json_free(a);

    a = parse("{}");
    t = mt_assignment_text(mt_json_root(a), &len);
    assert_non_null(t);
    assert_string_equal(t, "\n\n\nNiches: \nValues: ");
    free(t);
    mt_json_free(a);
}


/* long multibyte input: every text valid UTF-8, cut with "..." */
static void
test_utf8(void **state)
{
    int              i;
    char            *a, *c, *t, *p;
    size_t           na, nc;
    mt_breakdown_t   b;
    mt_json_doc_t   *ad, *cd;

    (void) state;

    a = malloc(16384);
    c = malloc(16384);
    assert_non_null(a);
    assert_non_null(c);

    /* a takeaway of 3-byte, 2-byte and 4-byte characters, no spaces */
    na = (size_t) snprintf(a, 16384, "{\"topic\":\"");
    for (i = 0; i < 200; i++) {
        na += (size_t) snprintf(a + na, 16384 - na, E_ACUTE "\\u2026");
    }
    na += (size_t) snprintf(a + na, 16384 - na, "\",\"keyTakeaway\":\"");
    for (i = 0; i < 300; i++) {
        na += (size_t) snprintf(a + na, 16384 - na, EMOJI E_ACUTE);
    }
    na += (size_t) snprintf(a + na, 16384 - na,
                            "\",\"toneStyle\":\"" E_ACUTE E_ACUTE "\","
                            "\"creatorNiches\":[\"caf" E_ACUTE "s\","
                            "\"\\u0000\\n\\t\"],"
                            "\"targetAudience\":{\"locale\":\""
                            E_ACUTE E_ACUTE "\",\"demographic\":\"");
    for (i = 0; i < 60; i++) {
        na += (size_t) snprintf(a + na, 16384 - na, EMOJI " ");
    }
    na += (size_t) snprintf(a + na, 16384 - na, "\"}}");

    nc = (size_t) snprintf(c, 16384, "{\"nickname\":\"");
    for (i = 0; i < 100; i++) {
        nc += (size_t) snprintf(c + nc, 16384 - nc, EMOJI);
    }
    nc += (size_t) snprintf(c + nc, 16384 - nc,
                            "\",\"region\":\"" E_ACUTE "\",\"analysis\":{"
                            "\"primaryNiches\":[\"Caf" E_ACUTE "\",\"");
    for (i = 0; i < 100; i++) {
        nc += (size_t) snprintf(c + nc, 16384 - nc, E_ACUTE " ");
    }
    nc += (size_t) snprintf(c + nc, 16384 - nc,
                            "\"],\"engagementStyle\":{\"tone\":[\""
                            EMOJI "\"],\"contentStyle\":\"");
    for (i = 0; i < 100; i++) {
        nc += (size_t) snprintf(c + nc, 16384 - nc, "x" EMOJI);
    }
    nc += (size_t) snprintf(c + nc, 16384 - nc, "\"}}}");

    ad = parse_n(a, na);
    cd = parse_n(c, nc);

    mt_score(mt_json_root(ad), mt_json_root(cd), 0.3, 0.3, 1, &b);
    assert_breakdown(&b);

    /* "cafés" and "Café" meet */
    assert_true(b.niche > 0.3);

    t = text_of(TEXT_REASONING, mt_json_root(ad), mt_json_root(cd), &b, 0,
                0, 0);
    assert_non_null(strstr(t, "..."));
    assert_true(strlen(t) < 4096);
    assert_null(strchr(t, '\n'));
    free(t);

    t = text_of(TEXT_FRAMING, mt_json_root(ad), mt_json_root(cd), NULL, 0,
                0, 0);
    p = strstr(t, "key point: \"");
    assert_non_null(p);
    assert_non_null(strstr(p, "...\""));
    assert_true(strlen(t) < 4096);
    free(t);

    t = text_of(TEXT_SUMMARY, mt_json_root(ad), NULL, &b, 1, 1, 1);
    assert_non_null(strstr(t, "Ranked 1 creator for"));
    free(t);

    t = mt_assignment_text(mt_json_root(ad), &na);
    assert_non_null(t);
    assert_true(mt_utf8_valid(t, na));
    free(t);

    mt_json_free(ad);
    mt_json_free(cd);
    free(a);
    free(c);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_example_structured),
        cmocka_unit_test(test_semantic),
        cmocka_unit_test(test_bounds_deterministic),
        cmocka_unit_test(test_niche_words),
        cmocka_unit_test(test_value_tone),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_audience_demographic),
        cmocka_unit_test(test_engagement),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_reasoning),
        cmocka_unit_test(test_reasoning_no_niches),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_assignment_text),
        cmocka_unit_test(test_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

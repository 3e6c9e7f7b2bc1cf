/*
 * Unit tests for lib/score_concepts.c: the topic fit through the concept
 * map, and what it does to the matchScore (lib/score.c).  Cosines are
 * chosen by the tests.  Run from the repository root (reads t/data/).
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
#include "score_int.h"


#define CREATORS  "t/data/creators.json"

/* a brief in everyday words that no profile uses */
#define EGGS  "{\"topic\":\"The price of eggs keeps going up\"," \
              "\"keyTakeaway\":\"Why a carton costs more at the grocery " \
              "store, and what you can do about it.\"}"


static mt_json_doc_t *
parse(const char *text)
{
    char            errbuf[128];
    mt_json_err_t   err;
    mt_json_doc_t  *doc;

    doc = mt_json_parse(text, strlen(text), NULL, &err, errbuf,
                        sizeof(errbuf));
    if (doc == NULL) {
        print_error("parse failed: %s\n", errbuf);
    }

    assert_non_null(doc);
    return doc;
}


static double
fit_of(const char *assignment, const char *creator_json)
{
    double          fit;
    mt_brief_t      br;
    mt_json_doc_t  *a, *c;

    a = parse(assignment);
    c = parse(creator_json);
    mt_brief_init(&br, mt_json_root(a));
    fit = mt_topic_fit(&br, mt_json_root(c));
    mt_json_free(a);
    mt_json_free(c);

    return fit;
}


/* a creator with these primary niches and nothing else */
static double
fit_niches(const char *assignment, const char *niches)
{
    char  c[512];

    (void) snprintf(c, sizeof(c), "{\"analysis\":{\"primaryNiches\":[%s]}}",
                    niches);
    return fit_of(assignment, c);
}


static void
test_everyday_words(void **state)
{
    double  money, games;

    (void) state;

    /* "price" and "grocery" meet "Personal Finance" and "Budgeting" */
    money = fit_niches(EGGS, "\"Personal Finance\", \"Budgeting\"");
    games = fit_niches(EGGS, "\"Gaming\", \"Indie Games\"");
    assert_true(money > 0.3);
    assert_true(games == 0.0);

    /* words are stemmed as the map is: plurals and -ing forms count */
    assert_true(fit_niches("{\"topic\":\"Pricing\"}", "\"Prices\"") > 0.99);
    assert_true(fit_niches("{\"topic\":\"workouts at the gym\"}",
                           "\"Fitness\"")
                > 0.99);

    /* a word of two concepts points to both, the brief's mix decides */
    assert_true(fit_niches("{\"topic\":\"groceries\"}", "\"Cooking\"")
                > 0.5);
    assert_true(fit_niches("{\"topic\":\"groceries\"}", "\"Budgeting\"")
                > 0.5);
}


static void
test_focus_and_unknown(void **state)
{
    double  one, many;

    (void) state;

    /* a creator spread over many concepts fits each of them less */
    one = fit_niches(EGGS, "\"Personal Finance\"");
    many = fit_niches(EGGS, "\"Personal Finance\", \"Gaming\", \"Travel\","
                            " \"Art\", \"Parenting\"");
    assert_true(many > 0.0 && many < one);

    /* the other fields of the profile count too */
    assert_true(fit_of(EGGS, "{\"bio\":\"Cheap dinners every night\"}")
                > 0.0);
    assert_true(fit_of(EGGS, "{\"analysis\":{\"audienceInterests\":"
                             "[\"Spending habits\"]}}")
                > 0.0);

    /* nothing the map knows in the brief: unknown; in the creator: 0 */
    assert_true(fit_of("{\"topic\":\"zzz qqq\"}", "{}") < 0.0);
    assert_true(fit_of("{}", "{}") < 0.0);
    assert_true(fit_of(EGGS, "{}") == 0.0);
    assert_true(fit_of(EGGS, "null") == 0.0);
}


/*
 * A creator that shares no topic with the brief scores clearly below one
 * that does, whatever its size and engagement, at the same cosine.
 */
static void
test_off_topic(void **state)
{
    mt_breakdown_t   big, small;
    mt_json_doc_t   *a, *cb, *cs;

    (void) state;

    a = parse(EGGS);
    cb = parse("{\"followerCount\":9000000,\"heartCount\":900000000,"
               "\"videoCount\":500,\"analysis\":{\"primaryNiches\":"
               "[\"Gaming\"],\"engagementStyle\":{\"tone\":[\"Funny\"]}}}");
    cs = parse("{\"followerCount\":1200,\"heartCount\":2000,"
               "\"videoCount\":40,\"analysis\":{\"primaryNiches\":"
               "[\"Personal Finance\"]}}");

    mt_score(mt_json_root(a), mt_json_root(cb), 0.3, 0.3, 1, &big);
    mt_score(mt_json_root(a), mt_json_root(cs), 0.3, 0.3, 1, &small);
    assert_true(big.engagement > small.engagement);
    assert_true(small.score > big.score + 0.1);
    assert_true(small.niche > big.niche);

    /* without an embedding as well */
    mt_score(mt_json_root(a), mt_json_root(cb), 0.0, 0.0, 0, &big);
    mt_score(mt_json_root(a), mt_json_root(cs), 0.0, 0.0, 0, &small);
    assert_true(small.score > big.score + 0.1);

    mt_json_free(a);
    mt_json_free(cb);
    mt_json_free(cs);
}


/*
 * What each field of the brief counts for, and a brief prepared once
 * (mt_brief_init) scoring as the one-pair call does.
 */
static void
test_brief_fields(void **state)
{
    double           topic, context;
    mt_brief_t       br;
    mt_breakdown_t   once, each;
    mt_json_doc_t   *a, *c;

    (void) state;

    assert_true(fit_niches("{\"topic\":\"indie games\"}",
                           "\"Personal Finance\"")
                == 0.0);

    /* the topic weighs more than the context: a different bag */
    topic = fit_niches("{\"topic\":\"groceries\","
                       "\"additionalContext\":\"indie games\"}",
                       "\"Gaming\"");
    context = fit_niches("{\"topic\":\"indie games\","
                         "\"additionalContext\":\"groceries\"}",
                         "\"Gaming\"");
    assert_true(topic > 0.0 && topic < context);

    /* a niche list that differs only in its order: the same fit */
    assert_true(fit_niches("{\"creatorNiches\":[\"Budget\",\"Travel\"]}",
                           "\"Travel\"")
                == fit_niches("{\"creatorNiches\":[\"Travel\","
                              "\"Budget\"]}", "\"Travel\""));

    a = parse(EGGS);
    c = parse("{\"followerCount\":5000,\"analysis\":{\"primaryNiches\":"
              "[\"Personal Finance\"],\"apparentValues\":[\"Clarity\"]}}");
    mt_brief_init(&br, mt_json_root(a));
    mt_score_brief(&br, mt_json_root(c), 0.25, 0.4, 1, &once);
    mt_score(mt_json_root(a), mt_json_root(c), 0.25, 0.4, 1, &each);
    assert_true(once.score == each.score);
    assert_true(once.niche == each.niche);
    assert_true(once.score > 0.0);
    mt_json_free(a);
    mt_json_free(c);
}


/*
 * Expressions count as a whole, for their own concepts, and their words
 * no longer count alone: "game plan" is no game, "farmers' market" no
 * stock market, "running a business" no run.
 */
static void
test_idioms(void **state)
{
    (void) state;

    assert_true(fit_niches("{\"topic\":\"Your retirement game plan\"}",
                           "\"Gaming\"")
                == 0.0);
    assert_true(fit_niches("{\"topic\":\"Your retirement game plan\"}",
                           "\"Investing\", \"Personal Finance\"")
                > 0.9);
    assert_true(fit_niches("{\"topic\":\"A new game for the Switch\"}",
                           "\"Gaming\"")
                > 0.9);

    assert_true(fit_niches("{\"topic\":\"What to buy at the farmers' "
                           "market\"}", "\"Investing\"")
                == 0.0);
    assert_true(fit_niches("{\"topic\":\"What to buy at the farmers' "
                           "market\"}", "\"Cooking\"")
                > 0.5);
    assert_true(fit_niches("{\"topic\":\"The stock market this week\"}",
                           "\"Investing\"")
                > 0.9);

    /* "a" is no word: "running a business" is "running business" */
    assert_true(fit_niches("{\"topic\":\"Running a business\"}",
                           "\"Fitness\"")
                == 0.0);
    assert_true(fit_niches("{\"topic\":\"Running a business\"}",
                           "\"Recruiting\", \"Careers\"")
                > 0.5);
    assert_true(fit_niches("{\"topic\":\"Running shoes for a first 5k\"}",
                           "\"Fitness\"")
                > 0.9);

    /* stopwords belong to an expression: "deal with", "the rest of" */
    assert_true(fit_of("{\"topic\":\"How to deal with a tough boss\"}",
                       "{\"analysis\":{\"primaryNiches\":[\"Money\"]}}")
                == 0.0);
    assert_true(fit_of("{\"topic\":\"A good deal on a used car\"}",
                       "{\"analysis\":{\"primaryNiches\":[\"Money\"]}}")
                > 0.0);

    /* the literal sense some single words miss */
    assert_true(fit_niches("{\"topic\":\"Lower back pain at a desk\"}",
                           "\"Health\"")
                > 0.9);
    assert_true(fit_niches("{\"topic\":\"Come back next week\"}",
                           "\"Health\"")
                < 0.0);

    /* at the end of a text, and the longest expression wins */
    assert_true(fit_niches("{\"topic\":\"think about the long game\"}",
                           "\"Gaming\"")
                < 0.0);
    assert_true(fit_niches("{\"topic\":\"retirement planning\"}",
                           "\"Productivity\"")
                == 0.0);
    assert_true(fit_niches("{\"topic\":\"retirement planning\"}",
                           "\"Investing\", \"Personal Finance\"")
                > 0.9);

    /* whole words: a training is no train, marketing no market */
    assert_true(fit_niches("{\"topic\":\"strength training\"}",
                           "\"Travel\"")
                == 0.0);
    assert_true(fit_niches("{\"topic\":\"marketing on a budget\"}",
                           "\"Investing\"")
                == 0.0);
}


/* the sample creators: the everyday brief finds the money creators */
static void
test_sample_creators(void **state)
{
    size_t            i, len, best;
    char             *text;
    double            fit, top;
    mt_brief_t        br;
    mt_json_doc_t    *a, *cdoc;
    const mt_json_t  *cs;

    (void) state;

    text = unit_read_file(CREATORS, &len);
    cdoc = mt_json_parse(text, len, NULL, NULL, NULL, 0);
    assert_non_null(cdoc);
    cs = mt_json_root(cdoc);
    a = parse(EGGS);
    mt_brief_init(&br, mt_json_root(a));

    best = cs->u.object.n;
    top = -1.0;

    for (i = 0; i < cs->u.object.n; i++) {
        fit = mt_topic_fit(&br, cs->u.object.pairs[i].value);
        assert_true(fit >= 0.0 && fit <= 1.0);

        if (fit > top) {
            top = fit;
            best = i;
        }
    }

    assert_true(best < cs->u.object.n);
    assert_string_equal(cs->u.object.pairs[best].key, "mindsovermoney");

    mt_json_free(a);
    mt_json_free(cdoc);
    free(text);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_everyday_words),
        cmocka_unit_test(test_focus_and_unknown),
        cmocka_unit_test(test_off_topic),
        cmocka_unit_test(test_brief_fields),
        cmocka_unit_test(test_idioms),
        cmocka_unit_test(test_sample_creators),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

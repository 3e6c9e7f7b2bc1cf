/*
 * Unit tests for lib/similar.c: the signals two creators share, the
 * human string, and the minScore note.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "similar.h"


static mt_json_doc_t *
parse(const char *text)
{
    mt_json_err_t   err;
    mt_json_doc_t  *d;

    d = mt_json_parse(text, strlen(text), NULL, &err, NULL, 0);
    assert_non_null(d);

    return d;
}


/* two of t/data/creators.json, cut to the fields that count */
#define LEDGER                                                              \
    "{\"uniqueId\":\"laughingledger\",\"region\":\"US\",\"analysis\":{"     \
    "\"primaryNiches\":[\"Humor\",\"Lifestyle\"],"                          \
    "\"secondaryNiches\":[\"Personal Finance\",\"Pop Culture\"],"           \
    "\"apparentValues\":[\"Relatability\",\"Lightness\",\"Honesty\"],"      \
    "\"engagementStyle\":{\"tone\":[\"Informative\",\"Relatable\","         \
    "\"Humorous\"]}}}"

#define PARENTING                                                           \
    "{\"uniqueId\":\"parentingafterdark\",\"region\":\"us\",\"analysis\":{" \
    "\"primaryNiches\":[\"Parenting\",\"Humor\"],"                          \
    "\"secondaryNiches\":[\"Mental Health\",\"lifestyle\"],"                \
    "\"apparentValues\":[\"Honesty\",\"Empathy\",\"Community\"],"           \
    "\"engagementStyle\":{\"tone\":[\"Informative\",\"Relatable\","         \
    "\"Humorous\"]}}}"


static void
test_shared_pair(void **state)
{
    char            text[MT_SHARED_TEXT_MAX];
    size_t          len;
    mt_shared_t     s;
    mt_json_doc_t  *a, *b;

    (void) state;

    a = parse(LEDGER);
    b = parse(PARENTING);

    mt_shared(mt_json_root(a), mt_json_root(b), &s);

    /* a's spelling, a's order; case does not count */
    assert_int_equal(s.nniches, 2);
    assert_string_equal(s.niches[0]->u.string.s, "Humor");
    assert_string_equal(s.niches[1]->u.string.s, "Lifestyle");
    assert_non_null(s.region);
    assert_string_equal(s.region->u.string.s, "US");
    assert_int_equal(s.ntones, 3);
    assert_int_equal(s.nvalues, 1);
    assert_string_equal(s.values[0]->u.string.s, "Honesty");

    len = mt_shared_text(&s, text, sizeof(text));
    assert_string_equal(text, "both post about humor and lifestyle, both US, "
                              "both informative, relatable and humorous, "
                              "both value honesty");
    assert_int_equal(len, strlen(text));

    mt_json_free(a);
    mt_json_free(b);
}


static void
test_shared_nothing(void **state)
{
    char            text[MT_SHARED_TEXT_MAX];
    mt_shared_t     s;
    mt_json_doc_t  *a, *b;

    (void) state;

    a = parse("{\"region\":\"UK\",\"analysis\":{\"primaryNiches\":[\"A\"],"
              "\"engagementStyle\":{\"tone\":[\"Calm\"]}}}");
    b = parse("{\"region\":\"US\",\"analysis\":{\"primaryNiches\":[\"B\"],"
              "\"engagementStyle\":\"not an object\"}}");

    mt_shared(mt_json_root(a), mt_json_root(b), &s);

    assert_int_equal(s.nniches, 0);
    assert_null(s.region);
    assert_int_equal(s.ntones, 0);
    assert_int_equal(s.nvalues, 0);

    mt_shared_text(&s, text, sizeof(text));
    assert_string_equal(text,
                        "nothing in common beyond their content's wording");

    /* not objects at all */
    mt_shared(NULL, mt_json_root(b), &s);
    assert_int_equal(s.nniches + s.ntones + s.nvalues, 0);

    mt_json_free(a);
    mt_json_free(b);
}


/* a niche listed twice, and as primary and secondary: named once */

static void
test_shared_dedup_and_bounds(void **state)
{
    int             i;
    char           *p, *big;
    mt_shared_t     s;
    mt_json_doc_t  *a, *b;

    (void) state;

    a = parse("{\"analysis\":{\"primaryNiches\":[\"X\",\"x\"],"
              "\"secondaryNiches\":[\"X\",\"Y\",5]}}");
    b = parse("{\"analysis\":{\"primaryNiches\":[\"y\"],"
              "\"secondaryNiches\":[\"X\"]}}");

    mt_shared(mt_json_root(a), mt_json_root(b), &s);

    assert_int_equal(s.nniches, 2);
    assert_string_equal(s.niches[0]->u.string.s, "X");
    assert_string_equal(s.niches[1]->u.string.s, "Y");

    mt_json_free(a);
    mt_json_free(b);

    /* 100 shared niches: MT_SHARED_MAX named */
    big = malloc(4096);
    assert_non_null(big);
    p = big + sprintf(big, "{\"analysis\":{\"primaryNiches\":[");

    for (i = 0; i < 100; i++) {
        p += sprintf(p, "%s\"n%d\"", i ? "," : "", i);
    }

    sprintf(p, "]}}");

    a = parse(big);
    b = parse(big);

    mt_shared(mt_json_root(a), mt_json_root(b), &s);
    assert_int_equal(s.nniches, MT_SHARED_MAX);

    mt_json_free(a);
    mt_json_free(b);
    free(big);
}


/* a short buffer: whole items or none, always NUL-terminated */

static void
test_shared_text_short(void **state)
{
    char            text[40];
    size_t          len;
    mt_shared_t     s;
    mt_json_doc_t  *a, *b;

    (void) state;

    a = parse(LEDGER);
    b = parse(PARENTING);

    mt_shared(mt_json_root(a), mt_json_root(b), &s);

    len = mt_shared_text(&s, text, sizeof(text));
    assert_string_equal(text, "both post about humor and lifestyle");
    assert_int_equal(len, strlen(text));

    len = mt_shared_text(&s, text, 10);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");

    mt_json_free(a);
    mt_json_free(b);
}


static void
test_shared_write(void **state)
{
    char           *out;
    size_t          len;
    mt_jw_t         w;
    mt_shared_t     s;
    mt_json_doc_t  *a, *b;

    (void) state;

    a = parse(LEDGER);
    b = parse("{\"region\":\"UK\",\"analysis\":{"
              "\"primaryNiches\":[\"Personal Finance\"]}}");

    mt_shared(mt_json_root(a), mt_json_root(b), &s);

    mt_jw_init(&w);
    mt_shared_write(&s, &w);
    out = mt_jw_take(&w, &len);
    assert_non_null(out);

    assert_string_equal(out, "{\"summary\":\"both post about personal "
                             "finance\",\"niches\":[\"Personal Finance\"],"
                             "\"region\":null,\"tone\":[],\"values\":[]}");

    free(out);
    mt_json_free(a);
    mt_json_free(b);
}


static void
test_min_score_note(void **state)
{
    char    buf[128];
    size_t  len;

    (void) state;

    len = mt_min_score_note(2, 1, 17, 0.5, buf, sizeof(buf));
    assert_string_equal(buf, "2 weaker matches (below minScore 0.5) left out.");
    assert_int_equal(len, strlen(buf));

    mt_min_score_note(1, 2, 17, 0.99, buf, sizeof(buf));
    assert_string_equal(buf, "1 weaker match (below minScore 0.99) left out.");

    mt_min_score_note(3, 0, 17, 0.99, buf, sizeof(buf));
    assert_string_equal(buf, "None of the 17 creators reaches minScore 0.99: "
                             "3 weaker matches (below minScore 0.99) left "
                             "out.");

    mt_min_score_note(1, 0, 1, 0.75, buf, sizeof(buf));
    assert_string_equal(buf, "None of the 1 creator reaches minScore 0.75: "
                             "1 weaker match (below minScore 0.75) left "
                             "out.");

    assert_int_equal(mt_min_score_note(0, 3, 17, 0.5, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");

    len = mt_min_score_note(3, 1, 17, 0.25, buf, 8);
    assert_int_equal(len, 7);
    assert_int_equal(strlen(buf), 7);
}


static void
test_summary_append(void **state)
{
    char        *out;
    size_t       len;
    mt_jw_t      w;
    const char  *sum;

    (void) state;

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "reasoning");
    sum = "\"Ranked \\\"3\\\".\"";
    assert_int_equal(mt_summary_append(&w, sum, strlen(sum), "1 left out.",
                                       11), 0);
    mt_jw_obj_close(&w);

    out = mt_jw_take(&w, &len);
    assert_non_null(out);
    assert_string_equal(out,
                        "{\"reasoning\":\"Ranked \\\"3\\\". 1 left out.\"}");
    free(out);

    mt_jw_init(&w);
    assert_int_equal(mt_summary_append(&w, "{}", 2, "x", 1), -1);
    assert_int_equal(mt_summary_append(&w, "\"", 1, "x", 1), -1);
    assert_int_equal(w.len, 0);
    mt_jw_free(&w);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_shared_pair),
        cmocka_unit_test(test_shared_nothing),
        cmocka_unit_test(test_shared_dedup_and_bounds),
        cmocka_unit_test(test_shared_text_short),
        cmocka_unit_test(test_shared_write),
        cmocka_unit_test(test_min_score_note),
        cmocka_unit_test(test_summary_append),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for lib/remote_pinecone_read.c: describe_index_stats per
 * namespace, the query strings of fetch and list, which asked ids a
 * fetch found (and their vectors), and list pages with their tokens.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "backend.h"
#include "remote.h"


#define S(lit)      (lit), (sizeof(lit) - 1)


static void
test_stats_reply(void **state)
{
    char          err[256];
    uint64_t      count;
    unsigned      dims;

    static const char  ok[] =
        "{\"namespaces\":{\"\":{\"vectorCount\":17},"
        "\"creators\":{\"vectorCount\":100000}},\"dimension\":1536,"
        "\"indexFullness\":0.1,\"totalVectorCount\":100017,"
        "\"metric\":\"cosine\",\"vectorType\":\"dense\"}";

    (void) state;

    assert_int_equal(mt_pinecone_stats_reply(S(ok), "", &count, &dims, err,
                                             sizeof(err)), 0);
    assert_int_equal(count, 17);
    assert_int_equal(dims, 1536);

    assert_int_equal(mt_pinecone_stats_reply(S(ok), "creators", &count,
                                             &dims, err, sizeof(err)), 0);
    assert_int_equal(count, 100000);

    assert_int_equal(mt_pinecone_stats_reply(S(ok), "other", &count, &dims,
                                             err, sizeof(err)), 0);
    assert_int_equal(count, 0);
    assert_int_equal(dims, 1536);

    assert_int_equal(mt_pinecone_stats_reply(S("{\"namespaces\":{}}"), "",
                                             &count, &dims, err,
                                             sizeof(err)), 0);
    assert_int_equal(dims, 0);

    assert_int_equal(mt_pinecone_stats_reply(S("{\"namespaces\":{\"\":"
        "{\"vectorCount\":-1}},\"dimension\":4}"), "", &count, &dims, err,
        sizeof(err)), -1);
    assert_non_null(strstr(err, "vectorCount"));
    assert_int_equal(mt_pinecone_stats_reply(S("{\"dimension\":\"4\"}"), "",
                                             &count, &dims, err,
                                             sizeof(err)), -1);
    assert_non_null(strstr(err, "dimension"));
    assert_int_equal(mt_pinecone_stats_reply(S("{\"namespaces\":[]}"), "",
                                             &count, &dims, err,
                                             sizeof(err)), -1);
    assert_int_equal(mt_pinecone_stats_reply(S("Unauthorized"), "", &count,
                                             &dims, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not JSON"));
}


static void
test_fetch(void **state)
{
    char            *args, err[256];
    float            vecs[4 * 3];
    size_t           len;
    unsigned char    found[4];
    mt_span_t        ids[4] = { { "b", 1 }, { "a b&c", 5 }, { "zz", 2 },
                                { "b", 1 } };

    static const char  ok[] =
        "{\"vectors\":{\"a b&c\":{\"id\":\"a b&c\",\"values\":[1,2,3],"
        "\"metadata\":{\"region\":\"US\"}},"
        "\"b\":{\"id\":\"b\",\"values\":[0.5,-0.5,0.25]},"
        "\"not-asked\":{\"id\":\"not-asked\",\"values\":[1,1,1]}},"
        "\"namespace\":\"ns\",\"usage\":{\"readUnits\":1}}";

    (void) state;

    args = mt_pinecone_fetch_args(ids, 3, "my ns", &len);
    assert_non_null(args);
    assert_string_equal(args, "ids=b&ids=a%20b%26c&ids=zz&namespace=my%20ns");
    assert_int_equal(len, strlen(args));
    free(args);

    args = mt_pinecone_fetch_args(ids, 1, NULL, NULL);
    assert_string_equal(args, "ids=b");
    free(args);

    assert_null(mt_pinecone_fetch_args(ids, 0, "", NULL));
    assert_null(mt_pinecone_fetch_args(ids, 1001, "", NULL));

    memset(vecs, 0, sizeof(vecs));
    assert_int_equal(mt_pinecone_fetch_reply(S(ok), ids, 4, 3, found, vecs,
                                             err, sizeof(err)), 0);
    assert_int_equal(found[0], 1);
    assert_int_equal(found[1], 1);
    assert_int_equal(found[2], 0);
    assert_int_equal(found[3], 1);
    assert_true(vecs[0] == 0.5f && vecs[1] == -0.5f && vecs[2] == 0.25f);
    assert_true(vecs[3] == 1 && vecs[4] == 2 && vecs[5] == 3);
    assert_true(vecs[6] == 0 && vecs[7] == 0);
    assert_true(vecs[9] == 0.5f && vecs[11] == 0.25f);

    /* without vectors: which exist */
    assert_int_equal(mt_pinecone_fetch_reply(S(ok), ids + 2, 1, 3, found,
                                             NULL, err, sizeof(err)), 0);
    assert_int_equal(found[0], 0);

    assert_int_equal(mt_pinecone_fetch_reply(S(ok), ids, 4, 4, found, vecs,
                                             err, sizeof(err)), -1);
    assert_non_null(strstr(err, "has no 4 values"));
    assert_int_equal(found[0], 0);
    assert_int_equal(mt_pinecone_fetch_reply(S("{\"vectors\":{\"b\":"
        "{\"values\":[1,\"x\",3]}}}"), ids, 1, 3, found, vecs, err,
        sizeof(err)), -1);
    assert_non_null(strstr(err, "value 1 is not a float"));
    assert_int_equal(mt_pinecone_fetch_reply(S("{\"vectors\":[]}"), ids, 1,
                                             3, found, vecs, err,
                                             sizeof(err)), -1);
    assert_non_null(strstr(err, "no \"vectors\" object"));
}


static void
test_list(void **state)
{
    char           *args, *next, err[256];
    mt_vec_hits_t   ids;

    (void) state;

    args = mt_pinecone_list_args("creator-", 100, "Tm90aGluZw==", "ns",
                                 NULL);
    assert_non_null(args);
    assert_string_equal(args, "limit=100&prefix=creator-&"
                        "paginationToken=Tm90aGluZw%3D%3D&namespace=ns");
    free(args);

    args = mt_pinecone_list_args(NULL, 0, NULL, "", NULL);
    assert_non_null(args);
    assert_string_equal(args, "");
    free(args);

    assert_int_equal(mt_pinecone_list_reply(S("{\"vectors\":[{\"id\":\"a\"},"
        "{\"id\":\"bb\"}],\"pagination\":{\"next\":\"dG9rZW4=\"},"
        "\"namespace\":\"ns\",\"usage\":{\"readUnits\":1}}"), &ids, &next,
        err, sizeof(err)), 0);
    assert_int_equal(ids.n, 2);
    assert_string_equal(ids.hits[0].id, "a");
    assert_string_equal(ids.hits[1].id, "bb");
    assert_string_equal(next, "dG9rZW4=");
    free(next);
    mt_vec_hits_free(&ids);

    /* the last page: no pagination, or an empty token */
    assert_int_equal(mt_pinecone_list_reply(S("{\"vectors\":[{\"id\":\"c\"}],"
        "\"namespace\":\"ns\"}"), &ids, &next, err, sizeof(err)), 0);
    assert_int_equal(ids.n, 1);
    assert_null(next);
    mt_vec_hits_free(&ids);

    assert_int_equal(mt_pinecone_list_reply(S("{\"vectors\":[],"
        "\"pagination\":{\"next\":\"\"}}"), &ids, &next, err, sizeof(err)),
        0);
    assert_int_equal(ids.n, 0);
    assert_null(next);
    mt_vec_hits_free(&ids);

    assert_int_equal(mt_pinecone_list_reply(S("{\"namespace\":\"ns\"}"), &ids,
                                            &next, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no \"vectors\" array"));
    assert_int_equal(mt_pinecone_list_reply(S("{\"vectors\":[{\"id\":1}],"
        "\"pagination\":{\"next\":\"x\"}}"), &ids, &next, err, sizeof(err)),
        -1);
    assert_null(next);
    assert_null(ids.hits);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_stats_reply),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_list),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for lib/mongo_doc.c: the contract's JSON documents become
 * MongoDB documents of the right types (an ObjectId _id, dates, int32,
 * int64 and doubles) and read back as the same JSON text; field names
 * MongoDB cannot hold as data are refused; dates are only what
 * mt_iso8601() writes; URIs lose their passwords in logs.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "mongo_doc.h"
#include "util.h"


#define S(lit)  (lit), (sizeof(lit) - 1)


/* JSON -> BSON -> JSON */
static char *
round_trip(const char *json, unsigned flags, bson_t *b)
{
    char            err[128], *out;
    size_t          len;
    mt_jw_t         w;
    mt_json_doc_t  *doc;
    mt_json_err_t   jerr;

    doc = mt_json_parse(json, strlen(json), NULL, &jerr, NULL, 0);
    assert_non_null(doc);

    bson_init(b);
    assert_int_equal(mt_mdoc_from_json(mt_json_root(doc), flags, b, err,
                                       sizeof(err)), 0);
    mt_json_free(doc);

    mt_jw_init(&w);
    assert_int_equal(mt_mdoc_to_json(b, flags, &w, err, sizeof(err)), 0);
    out = mt_jw_take(&w, &len);
    assert_non_null(out);

    return out;
}


static bson_type_t
type_of(const bson_t *b, const char *dotkey)
{
    bson_iter_t  it, child;

    assert_true(bson_iter_init(&it, b));
    assert_true(bson_iter_find_descendant(&it, dotkey, &child));

    return bson_iter_type(&child);
}


static void
test_assignment_round_trip(void **state)
{
    char        *out;
    bson_t       b;
    const char  *in =
        "{\"id\":\"65a1b2c3d4e5f60718293a4b\",\"topic\":\"Budget apps\","
        "\"targetAudience\":{\"demographic\":\"Students\",\"locale\":\"US\"},"
        "\"creatorNiches\":[\"finance\",\"education\"],"
        "\"userId\":\"demo-user\",\"status\":\"completed\","
        "\"matchResults\":[{\"creatorId\":\"a\",\"matchScore\":0.91,"
        "\"big\":9007199254740993,\"neg\":-3,\"ok\":true,\"none\":null}],"
        "\"createdAt\":\"2026-11-25T16:07:04.123Z\","
        "\"updatedAt\":\"2026-11-25T16:07:05.000Z\",\"version\":2}";

    (void) state;

    out = round_trip(in, MT_MDOC_OID_ID, &b);
    assert_string_equal(out, in);

    assert_int_equal(type_of(&b, "_id"), BSON_TYPE_OID);
    assert_int_equal(type_of(&b, "createdAt"), BSON_TYPE_DATE_TIME);
    assert_int_equal(type_of(&b, "updatedAt"), BSON_TYPE_DATE_TIME);
    assert_int_equal(type_of(&b, "version"), BSON_TYPE_INT32);
    assert_int_equal(type_of(&b, "matchResults.0.matchScore"),
                     BSON_TYPE_DOUBLE);
    assert_int_equal(type_of(&b, "matchResults.0.big"), BSON_TYPE_INT64);
    assert_int_equal(type_of(&b, "creatorNiches.1"), BSON_TYPE_UTF8);

    free(out);
    bson_destroy(&b);
}


static void
test_dates(void **state)
{
    char     *out;
    bson_t    b;
    int64_t   ms;

    (void) state;

    assert_int_equal(mt_mdoc_parse_date(S("1970-01-01T00:00:00.000Z"), &ms),
                     0);
    assert_int_equal(ms, 0);
    assert_int_equal(mt_mdoc_parse_date(S("2024-02-29T23:59:59.999Z"), &ms),
                     0);
    assert_int_equal(ms, 1709251199999LL);

    /* not what mt_iso8601() writes: kept as strings */
    assert_int_equal(mt_mdoc_parse_date(S("2026-02-30T00:00:00.000Z"), &ms),
                     -1);
    assert_int_equal(mt_mdoc_parse_date(S("2026-11-25T16:07:04Z"), &ms), -1);
    assert_int_equal(mt_mdoc_parse_date(S("2026-11-25 16:07:04.123Z"), &ms),
                     -1);
    assert_int_equal(mt_mdoc_parse_date(S("2026-13-25T16:07:04.123Z"), &ms),
                     -1);

    out = round_trip("{\"createdAt\":\"yesterday\",\"note\":"
                     "\"2026-11-25T16:07:04.123Z\",\"embedding\":{"
                     "\"updatedAt\":\"2026-11-25T16:07:04.123Z\"}}", 0, &b);

    assert_int_equal(type_of(&b, "createdAt"), BSON_TYPE_UTF8);
    assert_int_equal(type_of(&b, "note"), BSON_TYPE_UTF8);
    assert_int_equal(type_of(&b, "embedding.updatedAt"),
                     BSON_TYPE_DATE_TIME);
    assert_string_equal(out, "{\"createdAt\":\"yesterday\",\"note\":"
                        "\"2026-11-25T16:07:04.123Z\",\"embedding\":{"
                        "\"updatedAt\":\"2026-11-25T16:07:04.123Z\"}}");
    free(out);
    bson_destroy(&b);
}


static void
test_refused_names(void **state)
{
    size_t          i;
    char            err[128];
    bson_t          b;
    mt_json_doc_t  *doc;
    mt_json_err_t   jerr;
    const char     *bad[] = {
        "{\"$where\":1}",
        "{\"a\":{\"$gt\":\"\"}}",
        "{\"a.b\":1}",
        "{\"x\":[{\"c.d\":1}]}",
        "{\"a\\u0000b\":1}",
        "{\"_matcher\":{}}",
        "{\"id\":\"not-an-oid\"}",
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        doc = mt_json_parse(bad[i], strlen(bad[i]), NULL, &jerr, NULL, 0);
        assert_non_null(doc);

        bson_init(&b);
        err[0] = '\0';
        assert_int_equal(mt_mdoc_from_json(mt_json_root(doc), MT_MDOC_OID_ID,
                                           &b, err, sizeof(err)), -1);
        assert_true(err[0] != '\0');

        bson_destroy(&b);
        mt_json_free(doc);
    }
}


/* what another tool wrote: _id and the store's fields are not shown */
static void
test_read_foreign(void **state)
{
    char        *out;
    size_t       len;
    bson_t       b, sub;
    mt_jw_t      w;
    bson_oid_t   oid;
    char         err[64];

    (void) state;

    bson_init(&b);
    bson_oid_init_from_string(&oid, "65a1b2c3d4e5f60718293a4b");
    BSON_APPEND_OID(&b, "_id", &oid);
    BSON_APPEND_UTF8(&b, "uniqueId", "x");
    BSON_APPEND_DOCUMENT_BEGIN(&b, "_matcher", &sub);
    BSON_APPEND_INT64(&sub, "textHash", 5);
    bson_append_document_end(&b, &sub);
    BSON_APPEND_OID(&b, "ref", &oid);
    BSON_APPEND_BINARY(&b, "blob", BSON_SUBTYPE_BINARY,
                       (const uint8_t *) "ab", 2);
    BSON_APPEND_INT32(&b, "__v", 0);

    mt_jw_init(&w);
    assert_int_equal(mt_mdoc_to_json(&b, 0, &w, err, sizeof(err)), 0);
    out = mt_jw_take(&w, &len);
    assert_string_equal(out, "{\"uniqueId\":\"x\",\"ref\":"
                        "\"65a1b2c3d4e5f60718293a4b\",\"blob\":null,"
                        "\"__v\":0}");
    free(out);
    bson_destroy(&b);
}


static void
test_uri_mask(void **state)
{
    char  out[128];

    (void) state;

    mt_mongo_uri_mask("mongodb://app:s3cr%40t@db1:27017,db2/matcher?tls=1",
                      out, sizeof(out));
    assert_string_equal(out, "mongodb://app:***@db1:27017,db2/matcher?tls=1");

    mt_mongo_uri_mask("mongodb+srv://u:p@cluster0.x.mongodb.net/", out,
                      sizeof(out));
    assert_string_equal(out, "mongodb+srv://u:***@cluster0.x.mongodb.net/");

    /* no password, or an '@' only in the path or options */
    mt_mongo_uri_mask("mongodb://127.0.0.1:27017/db", out, sizeof(out));
    assert_string_equal(out, "mongodb://127.0.0.1:27017/db");
    mt_mongo_uri_mask("mongodb://user@h/db?appname=a@b", out, sizeof(out));
    assert_string_equal(out, "mongodb://user@h/db?appname=a@b");

    /* a password with '@' and ':' in it: the last '@' ends it */
    mt_mongo_uri_mask("mongodb://u:a:b@c@h/", out, sizeof(out));
    assert_string_equal(out, "mongodb://u:***@h/");

    /* truncated, still no password */
    mt_mongo_uri_mask("mongodb://u:secret@host/", out, 16);
    assert_null(strstr(out, "secret"));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_assignment_round_trip),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_refused_names),
        cmocka_unit_test(test_read_foreign),
        cmocka_unit_test(test_uri_mask),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for lib/model.c, lib/model_check.c and lib/creator.c:
 * assignment and creator validation, the stored documents, index fields,
 * hashes.  Run from the repository root (reads t/data/).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "json.h"
#include "model.h"
#include "util.h"


#define TS        1709210096789LL       /* 2024-02-29T12:34:56.789Z */
#define TS_STR    "2024-02-29T12:34:56.789Z"
#define TS2       1795622824123LL       /* 2026-11-25T16:07:04.123Z */
#define TS2_STR   "2026-11-25T16:07:04.123Z"
#define ID        "65a1b2c3d4e5f60718293a4b"

#define E_ACUTE   "\xc3\xa9"            /* é: 2 bytes, 1 character */
#define EMOJI     "\xf0\x9f\x98\x80"    /* U+1F600: 4 bytes */

#define BASE      "\"topic\":\"T\",\"keyTakeaway\":\"K\"," \
                  "\"additionalContext\":\"C\""


/* ----------------------------------------------------------------------
 * helpers
 */

static char *
fmt(const char *f, ...)
{
    int      n;
    char    *s;
    va_list  args;

    /* gcc 12 with -fsanitize=undefined warns of a NULL f without this */
    if (f == NULL) {
        abort();
    }

    /* clang-tidy 14 sees va_start only in the first file of a run */
    va_start(args, f);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    n = vsnprintf(NULL, 0, f, args);
    va_end(args);
    assert_true(n >= 0);

    s = malloc((size_t) n + 1);
    assert_non_null(s);

    va_start(args, f);
    (void) vsnprintf(s, (size_t) n + 1, f, args);
    va_end(args);

    return s;
}


static char *
rep(const char *unit, size_t n)
{
    char    *s;
    size_t   i, len;

    len = strlen(unit);
    s = malloc(len * n + 1);
    assert_non_null(s);

    for (i = 0; i < n; i++) {
        memcpy(s + i * len, unit, len);
    }

    s[len * n] = '\0';
    return s;
}


static mt_json_doc_t *
parse_n(const char *text, size_t len)
{
    char            errbuf[128];
    mt_json_err_t   err;
    mt_json_doc_t  *doc;

    doc = mt_json_parse(text, len, NULL, &err, errbuf, sizeof(errbuf));
    if (doc == NULL) {
        print_error("parse failed: %s: %.*s\n", errbuf,
                    (int) (len > 300 ? 300 : len), text);
    }

    assert_non_null(doc);
    return doc;
}


static mt_json_doc_t *
parse(const char *text)
{
    return parse_n(text, strlen(text));
}


static const char *
sget(const mt_json_t *obj, const char *key)
{
    const mt_json_t  *v;

    v = mt_json_get(obj, key);
    assert_non_null(v);
    assert_int_equal(v->type, MT_JSON_STRING);
    return v->u.string.s;
}


static int64_t
iget(const mt_json_t *obj, const char *key)
{
    const mt_json_t  *v;

    v = mt_json_get(obj, key);
    assert_non_null(v);
    assert_int_equal(v->type, MT_JSON_NUMBER);
    assert_true(v->u.number.is_int);
    return v->u.number.i;
}


/* the object's keys, in order, are exactly the list */
#define assert_keys(obj, ...)                                               \
    assert_key_list(obj, (const char *const []) { __VA_ARGS__ },           \
                    sizeof((const char *const []) { __VA_ARGS__ })         \
                    / sizeof(const char *))

static void
assert_key_list(const mt_json_t *obj, const char *const *keys, size_t n)
{
    size_t  i;

    assert_int_equal(obj->type, MT_JSON_OBJECT);
    assert_int_equal(obj->u.object.n, n);

    for (i = 0; i < n; i++) {
        assert_string_equal(obj->u.object.pairs[i].key, keys[i]);
    }
}


/* the written document, or NULL with errs filled */
static mt_json_doc_t *
create(const char *body, mt_assignment_meta_t *meta, mt_errs_t *errs)
{
    int             rc;
    char           *out;
    size_t          len;
    mt_jw_t         w;
    mt_json_doc_t  *in, *doc;

    in = parse(body);
    mt_jw_init(&w);

    rc = mt_assignment_create(mt_json_root(in), ID, TS, &w, meta, errs);

    doc = NULL;

    if (rc == 0) {
        assert_int_equal(errs->n, 0);
        out = mt_jw_take(&w, &len);
        assert_non_null(out);
        doc = parse_n(out, len);
        free(out);

    } else {
        assert_true(errs->n > 0);
    }

    mt_jw_free(&w);
    mt_json_free(in);
    return doc;
}


static void
expect_ok(const char *body)
{
    mt_errs_t             errs;
    mt_json_doc_t        *doc;
    mt_assignment_meta_t  meta;

    mt_errs_init(&errs);
    doc = create(body, &meta, &errs);

    if (doc == NULL) {
        print_error("unexpected error %s: %s\n", errs.items[0].field,
                    errs.items[0].message);
    }

    assert_non_null(doc);
    mt_json_free(doc);
    mt_errs_free(&errs);
}


static void
expect_err(const char *body, const char *field, const char *message)
{
    mt_errs_t             errs;
    mt_json_doc_t        *doc;
    mt_assignment_meta_t  meta;

    mt_errs_init(&errs);
    doc = create(body, &meta, &errs);

    assert_null(doc);
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.items[0].field, field);
    assert_string_equal(errs.items[0].message, message);
    mt_errs_free(&errs);
}


/* BASE plus extra members; a repeated key overrides (the last wins) */
static void
expect_ok_extra(const char *extra)
{
    char  *body = fmt("{" BASE "%s}", extra);

    expect_ok(body);
    free(body);
}


static void
expect_err_extra(const char *extra, const char *field, const char *message)
{
    char  *body = fmt("{" BASE "%s}", extra);

    expect_err(body, field, message);
    free(body);
}


/* pre + limit characters of unit + post passes, one more fails */
static void
check_limit(const char *pre, const char *unit, size_t limit,
    const char *post, const char *field, const char *message)
{
    char  *s, *extra;

    s = rep(unit, limit);
    extra = fmt("%s%s%s", pre, s, post);
    expect_ok_extra(extra);
    free(extra);
    free(s);

    s = rep(unit, limit + 1);
    extra = fmt("%s%s%s", pre, s, post);
    expect_err_extra(extra, field, message);
    free(extra);
    free(s);
}


/* ----------------------------------------------------------------------
 * errors, hash, sort
 */

static void
test_errs(void **state)
{
    char       buf[128];
    size_t     n;
    mt_errs_t  e;

    (void) state;

    mt_errs_init(&e);
    assert_int_equal(mt_errs_summary(&e, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");

    mt_errs_add(&e, NULL, "is required", "topic");
    mt_errs_add(&e, NULL, "must be a string", "creatorNiches[%zu]",
                (size_t) 3);
    mt_errs_add(&e, NULL, "must be a JSON object", "");
    assert_int_equal(e.n, 3);
    assert_string_equal(e.items[1].field, "creatorNiches[3]");

    n = mt_errs_summary(&e, buf, sizeof(buf));
    assert_string_equal(buf, "topic: is required; creatorNiches[3]: must be"
                        " a string; must be a JSON object");
    assert_int_equal(n, strlen(buf));

    /* truncation keeps a NUL and reports what was written */
    n = mt_errs_summary(&e, buf, 10);
    assert_int_equal(n, 9);
    assert_string_equal(buf, "topic: is");
    assert_int_equal(mt_errs_summary(&e, buf, 0), 0);

    mt_errs_free(&e);
    assert_null(e.items);
    assert_int_equal(e.n, 0);
}


static void
test_hash64(void **state)
{
    (void) state;

    /* published FNV-1a 64 vectors */
    assert_true(mt_hash64("", 0, MT_HASH_SEED) == 0xcbf29ce484222325ULL);
    assert_true(mt_hash64("a", 1, MT_HASH_SEED) == 0xaf63dc4c8601ec8cULL);
    assert_true(mt_hash64("foobar", 6, MT_HASH_SEED)
                == 0x85944171f73967e8ULL);
    assert_true(mt_hash64("a", 1, 1) != mt_hash64("a", 1, MT_HASH_SEED));
}


static void
test_sort_parse(void **state)
{
    (void) state;

    assert_int_equal(mt_sort_parse("createdAt", 9), MT_SORT_CREATED_AT);
    assert_int_equal(mt_sort_parse("updatedAt", 9), MT_SORT_UPDATED_AT);
    assert_int_equal(mt_sort_parse("topic", 5), MT_SORT_TOPIC);
    assert_int_equal(mt_sort_parse("status", 6), MT_SORT_STATUS);
    assert_int_equal(mt_sort_parse("createdat", 9), -1);
    assert_int_equal(mt_sort_parse("topics", 6), -1);
    assert_int_equal(mt_sort_parse("topic", 4), -1);
    assert_int_equal(mt_sort_parse("", 0), -1);
    assert_int_equal(mt_sort_parse(NULL, 0), -1);
}


/* ----------------------------------------------------------------------
 * assignments
 */

static void
test_assignment_example(void **state)
{
    char                 *text;
    size_t                len;
    mt_errs_t             errs;
    mt_json_doc_t        *in, *doc;
    const mt_json_t      *d, *src, *v;
    mt_assignment_meta_t  meta, meta2;

    (void) state;

    text = unit_read_file("t/data/example-assignment.json", &len);
    in = parse_n(text, len);
    src = mt_json_root(in);

    mt_errs_init(&errs);
    doc = create(text, &meta, &errs);
    assert_non_null(doc);
    d = mt_json_root(doc);

    assert_keys(d, "id", "topic", "keyTakeaway", "additionalContext",
                "targetAudience", "creatorValues", "creatorNiches",
                "toneStyle", "userId", "status", "matchResults",
                "createdAt", "updatedAt", "version");

    assert_string_equal(sget(d, "id"), ID);
    assert_string_equal(sget(d, "topic"), sget(src, "topic"));
    assert_string_equal(sget(d, "keyTakeaway"), sget(src, "keyTakeaway"));
    assert_string_equal(sget(d, "additionalContext"),
                        sget(src, "additionalContext"));
    assert_string_equal(sget(d, "toneStyle"), sget(src, "toneStyle"));
    assert_string_equal(sget(d, "userId"), "demo-user");
    assert_string_equal(sget(d, "status"), "pending");
    assert_string_equal(sget(d, "createdAt"), TS_STR);
    assert_string_equal(sget(d, "updatedAt"), TS_STR);
    assert_int_equal(iget(d, "version"), 1);

    v = mt_json_get(d, "matchResults");
    assert_int_equal(v->type, MT_JSON_ARRAY);
    assert_int_equal(v->u.array.n, 0);

    v = mt_json_get(d, "targetAudience");
    assert_keys(v, "demographic", "locale");
    assert_string_equal(sget(v, "locale"), "US");

    v = mt_json_get(d, "creatorNiches");
    assert_int_equal(v->u.array.n, 3);
    assert_string_equal(v->u.array.items[1]->u.string.s, "Personal Finance");
    v = mt_json_get(d, "creatorValues");
    assert_int_equal(v->u.array.n, 2);

    assert_string_equal(meta.id, ID);
    assert_string_equal(meta.user_id, "demo-user");
    assert_int_equal(meta.user_id_len, 9);
    assert_int_equal(meta.created_at, TS);
    assert_int_equal(meta.updated_at, TS);
    assert_int_equal(meta.version, 1);
    assert_string_equal(meta.status, "pending");
    assert_string_equal(meta.topic_key, sget(src, "topic"));
    assert_int_equal(meta.topic_key_len, strlen(sget(src, "topic")));

    /* the stored document gives the same index fields back */
    assert_int_equal(mt_assignment_meta(d, &meta2), 0);
    assert_memory_equal(&meta, &meta2, sizeof(meta));

    mt_json_free(doc);
    mt_json_free(in);
    mt_errs_free(&errs);
    free(text);
}


static void
test_assignment_minimal(void **state)
{
    mt_errs_t             errs;
    mt_json_doc_t        *doc;
    mt_assignment_meta_t  meta;

    (void) state;

    /* null optionals are absent: not written, no error */
    mt_errs_init(&errs);
    doc = create("{" BASE ",\"targetAudience\":null,\"creatorValues\":null,"
                 "\"creatorNiches\":null,\"toneStyle\":null,\"userId\":null}",
                 &meta, &errs);
    assert_non_null(doc);
    assert_keys(mt_json_root(doc), "id", "topic", "keyTakeaway",
                "additionalContext", "status", "matchResults", "createdAt",
                "updatedAt", "version");
    assert_string_equal(meta.user_id, "");
    assert_int_equal(meta.user_id_len, 0);
    mt_json_free(doc);

    mt_errs_free(&errs);
    expect_ok("{" BASE ",\"targetAudience\":{}}");
}


static void
test_assignment_id(void **state)
{
    char                 *out;
    size_t                len;
    mt_jw_t               w;
    mt_errs_t             errs;
    mt_json_doc_t        *in, *doc;
    mt_assignment_meta_t  meta;

    (void) state;

    /* the caller's id is stored lower-case */
    in = parse("{" BASE "}");
    mt_errs_init(&errs);
    mt_jw_init(&w);
    assert_int_equal(mt_assignment_create(mt_json_root(in),
                                          "65A1B2C3D4E5F60718293A4B", TS, &w,
                                          &meta, &errs), 0);
    assert_string_equal(meta.id, ID);
    out = mt_jw_take(&w, &len);
    doc = parse_n(out, len);
    assert_string_equal(sget(mt_json_root(doc), "id"), ID);
    mt_json_free(doc);
    free(out);
    mt_jw_free(&w);

    /* not an id: refused, nothing written */
    mt_jw_init(&w);
    assert_int_equal(mt_assignment_create(mt_json_root(in), "65a1", TS, &w,
                                          &meta, &errs), -1);
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.items[0].field, "id");
    assert_int_equal(w.len, 0);
    mt_jw_free(&w);

    mt_errs_free(&errs);
    mt_json_free(in);
}


static void
test_assignment_not_object(void **state)
{
    (void) state;

    expect_err("[]", "", "must be a JSON object");
    expect_err("\"topic\"", "", "must be a JSON object");
    expect_err("null", "", "must be a JSON object");
    expect_err("42", "", "must be a JSON object");
}


static void
test_assignment_required(void **state)
{
    (void) state;

    expect_err("{\"keyTakeaway\":\"K\",\"additionalContext\":\"C\"}",
               "topic", "is required");
    expect_err("{\"topic\":\"T\",\"additionalContext\":\"C\"}",
               "keyTakeaway", "is required");
    expect_err("{\"topic\":\"T\",\"keyTakeaway\":\"K\"}",
               "additionalContext", "is required");
    expect_err_extra(",\"topic\":null", "topic", "is required");
    expect_err_extra(",\"keyTakeaway\":\"\"", "keyTakeaway",
                     "must not be empty");
    expect_err_extra(",\"additionalContext\":\" \\t\\r\\n \"",
                     "additionalContext", "must not be empty");
    expect_err_extra(",\"userId\":\"  \"", "userId", "must not be empty");
}


static void
test_assignment_types(void **state)
{
    mt_errs_t             errs;
    mt_assignment_meta_t  meta;

    (void) state;

    expect_err_extra(",\"topic\":5", "topic", "must be a string");
    expect_err_extra(",\"keyTakeaway\":[\"K\"]", "keyTakeaway",
                     "must be a string");
    expect_err_extra(",\"additionalContext\":{}", "additionalContext",
                     "must be a string");
    expect_err_extra(",\"targetAudience\":\"US\"", "targetAudience",
                     "must be an object");
    expect_err_extra(",\"targetAudience\":{\"locale\":1}",
                     "targetAudience.locale", "must be a string");
    expect_err_extra(",\"creatorValues\":\"Honesty\"", "creatorValues",
                     "must be an array");
    expect_err_extra(",\"toneStyle\":true", "toneStyle", "must be a string");
    expect_err_extra(",\"userId\":12", "userId", "must be a string");

    /* every bad item is reported with its index */
    mt_errs_init(&errs);
    assert_null(create("{" BASE ",\"creatorNiches\":[\"ok\",1,null,\" \"]}",
                       &meta, &errs));
    assert_int_equal(errs.n, 3);
    assert_string_equal(errs.items[0].field, "creatorNiches[1]");
    assert_string_equal(errs.items[0].message, "must be a string");
    assert_non_null(errs.items[0].value);
    assert_string_equal(errs.items[1].field, "creatorNiches[2]");
    assert_string_equal(errs.items[1].message, "must be a string");
    assert_string_equal(errs.items[2].field, "creatorNiches[3]");
    assert_string_equal(errs.items[2].message, "must not be empty");
    mt_errs_free(&errs);
}


static void
test_assignment_limits(void **state)
{
    char  *items, *extra;

    (void) state;

    check_limit(",\"topic\":\"", E_ACUTE, 500, "\"", "topic",
                "must be at most 500 characters");
    check_limit(",\"topic\":\"", EMOJI, 500, "\"", "topic",
                "must be at most 500 characters");
    check_limit(",\"topic\":\"", "a", 500, "\"", "topic",
                "must be at most 500 characters");
    check_limit(",\"keyTakeaway\":\"", E_ACUTE, 1000, "\"", "keyTakeaway",
                "must be at most 1000 characters");
    check_limit(",\"additionalContext\":\"", E_ACUTE, 2000, "\"",
                "additionalContext", "must be at most 2000 characters");
    check_limit(",\"targetAudience\":{\"demographic\":\"", E_ACUTE, 200,
                "\"}", "targetAudience.demographic",
                "must be at most 200 characters");
    check_limit(",\"targetAudience\":{\"locale\":\"", E_ACUTE, 10, "\"}",
                "targetAudience.locale", "must be 2 to 10 characters");
    check_limit(",\"creatorValues\":[\"x\",\"", E_ACUTE, 100, "\"]",
                "creatorValues[1]", "must be at most 100 characters");
    check_limit(",\"creatorNiches\":[\"", E_ACUTE, 100, "\"]",
                "creatorNiches[0]", "must be at most 100 characters");
    check_limit(",\"toneStyle\":\"", E_ACUTE, 100, "\"", "toneStyle",
                "must be at most 100 characters");
    check_limit(",\"userId\":\"", E_ACUTE, 100, "\"", "userId",
                "must be at most 100 characters");

    /* locale's lower bound */
    expect_err_extra(",\"targetAudience\":{\"locale\":\"" E_ACUTE "\"}",
                     "targetAudience.locale", "must be 2 to 10 characters");
    expect_ok_extra(",\"targetAudience\":{\"locale\":\"" E_ACUTE "s\"}");

    /* item counts */
    items = rep("\"v\",", 20);
    items[strlen(items) - 1] = '\0';
    extra = fmt(",\"creatorValues\":[%s]", items);
    expect_ok_extra(extra);
    free(extra);
    extra = fmt(",\"creatorNiches\":[%s,\"w\"]", items);
    expect_err_extra(extra, "creatorNiches", "must have at most 20 items");
    free(extra);
    free(items);
}


static void
test_assignment_trim(void **state)
{
    char                 *pad, *body;
    mt_errs_t             errs;
    mt_json_doc_t        *doc;
    const mt_json_t      *d, *v;
    mt_assignment_meta_t  meta;

    (void) state;

    mt_errs_init(&errs);
    doc = create("{\"topic\":\" \\t Rent \\r\\n\","
                 "\"keyTakeaway\":\"\\u00a0Save\\u3000\","
                 "\"additionalContext\":\"\\ufeffCtx\\u2028\","
                 "\"targetAudience\":{\"demographic\":\"  \",\"locale\":"
                 "\" en-US \"},"
                 "\"creatorValues\":[\" Honesty \"],"
                 "\"toneStyle\":\" calm \",\"userId\":\" u1 \"}",
                 &meta, &errs);
    assert_non_null(doc);
    d = mt_json_root(doc);

    assert_string_equal(sget(d, "topic"), "Rent");
    assert_string_equal(sget(d, "keyTakeaway"), "Save");
    assert_string_equal(sget(d, "additionalContext"), "Ctx");
    assert_string_equal(sget(d, "toneStyle"), "calm");
    assert_string_equal(sget(d, "userId"), "u1");
    v = mt_json_get(d, "targetAudience");
    assert_string_equal(sget(v, "demographic"), "");
    assert_string_equal(sget(v, "locale"), "en-US");
    v = mt_json_get(d, "creatorValues");
    assert_string_equal(v->u.array.items[0]->u.string.s, "Honesty");
    assert_string_equal(meta.user_id, "u1");
    assert_string_equal(meta.topic_key, "Rent");
    mt_json_free(doc);
    mt_errs_free(&errs);

    /* only what is left after trimming counts toward the limit */
    pad = rep(E_ACUTE, 500);
    body = fmt("{" BASE ",\"topic\":\"  %s\\n\"}", pad);
    expect_ok(body);
    free(body);
    free(pad);

    /* a non-breaking space inside is text */
    expect_err_extra(",\"topic\":\"\\u00a0\\u2003\"", "topic",
                     "must not be empty");
}


static void
test_assignment_unknown_dropped(void **state)
{
    mt_errs_t             errs;
    mt_json_doc_t        *doc;
    const mt_json_t      *d;
    mt_assignment_meta_t  meta;

    (void) state;

    mt_errs_init(&errs);
    doc = create("{\"id\":\"ffffffffffffffffffffffff\",\"foo\":1," BASE
                 ",\"status\":\"completed\",\"version\":7,"
                 "\"matchResults\":[{\"x\":1}],\"createdAt\":\"x\","
                 "\"targetAudience\":{\"locale\":\"US\",\"extra\":true}}",
                 &meta, &errs);
    assert_non_null(doc);
    d = mt_json_root(doc);

    assert_keys(d, "id", "topic", "keyTakeaway", "additionalContext",
                "targetAudience", "status", "matchResults", "createdAt",
                "updatedAt", "version");
    assert_keys(mt_json_get(d, "targetAudience"), "locale");
    assert_string_equal(sget(d, "id"), ID);
    assert_string_equal(sget(d, "status"), "pending");
    assert_string_equal(sget(d, "createdAt"), TS_STR);
    assert_int_equal(iget(d, "version"), 1);
    assert_int_equal(mt_json_get(d, "matchResults")->u.array.n, 0);

    mt_json_free(doc);
    mt_errs_free(&errs);
}


static void
test_assignment_all_errors(void **state)
{
    size_t                i;
    mt_errs_t             errs;
    mt_assignment_meta_t  meta;

    static const char  *want[][2] = {
        { "topic", "is required" },
        { "keyTakeaway", "must be a string" },
        { "additionalContext", "must not be empty" },
        { "targetAudience.demographic", "must be a string" },
        { "targetAudience.locale", "must be 2 to 10 characters" },
        { "creatorValues", "must be an array" },
        { "creatorNiches[1]", "must not be empty" },
        { "toneStyle", "must be a string" },
        { "userId", "must not be empty" }
    };

    (void) state;

    mt_errs_init(&errs);
    assert_null(create("{\"keyTakeaway\":1,\"additionalContext\":\"\","
                       "\"targetAudience\":{\"demographic\":[],"
                       "\"locale\":\"x\"},\"creatorValues\":{},"
                       "\"creatorNiches\":[\"a\",\"\"],\"toneStyle\":0,"
                       "\"userId\":\"\"}", &meta, &errs));

    assert_int_equal(errs.n, sizeof(want) / sizeof(want[0]));

    for (i = 0; i < errs.n; i++) {
        assert_string_equal(errs.items[i].field, want[i][0]);
        assert_string_equal(errs.items[i].message, want[i][1]);
    }

    /* values point into the input, which create() has freed by now */
    assert_null(errs.items[0].value);
    assert_non_null(errs.items[1].value);
    assert_int_equal(errs.oom, 0);
    mt_errs_free(&errs);
}


/* ----------------------------------------------------------------------
 * matches
 */

#define MATCH  "{\"creatorId\":\"c1\",\"matchScore\":0.5," \
               "\"reasoning\":\"Fits.\"}"


static void
check_matches(const char *body, const char *field, const char *message)
{
    mt_errs_t       errs;
    mt_json_doc_t  *doc;

    doc = parse(body);
    mt_errs_init(&errs);

    if (field == NULL) {
        assert_int_equal(mt_assignment_check_matches(mt_json_root(doc),
                                                     &errs), 0);
        assert_int_equal(errs.n, 0);

    } else {
        assert_int_equal(mt_assignment_check_matches(mt_json_root(doc),
                                                     &errs), -1);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.items[0].field, field);
        assert_string_equal(errs.items[0].message, message);
    }

    mt_errs_free(&errs);
    mt_json_free(doc);
}


static void
test_matches_check(void **state)
{
    char  *ten, *body;

    (void) state;

    check_matches("{\"matchResults\":[" MATCH "]}", NULL, NULL);
    check_matches("{\"matchResults\":[{\"creatorId\":\"c1\",\"matchScore\":1,"
                  "\"reasoning\":\"r\",\"framingSuggestion\":\"f\","
                  "\"creator\":{\"uniqueId\":\"c1\"},\"extra\":[1],"
                  "\"scoreBreakdown\":{\"semanticSimilarity\":0,"
                  "\"nicheAlignment\":1,\"audienceMatch\":0.25,"
                  "\"valueAlignment\":1e-3,\"engagementFit\":0.5,"
                  "\"other\":7}}]}", NULL, NULL);

    ten = rep(MATCH ",", 10);
    ten[strlen(ten) - 1] = '\0';
    body = fmt("{\"matchResults\":[%s]}", ten);
    check_matches(body, NULL, NULL);
    free(body);
    body = fmt("{\"matchResults\":[%s," MATCH "]}", ten);
    check_matches(body, "matchResults", "must have 1 to 10 items");
    free(body);
    free(ten);

    check_matches("{\"matchResults\":[{\"creatorId\":\"c1\",\"matchScore\":1,"
                  "\"reasoning\":\"r\",\"extra\":{\"$gt\":\"\"}}]}",
                  "matchResults[0].extra",
                  "field names may not be empty, start with '$' or "
                  "contain '.'");

    check_matches("{\"matchResults\":[]}", "matchResults",
                  "must have 1 to 10 items");
    check_matches("{}", "matchResults", "is required");
    check_matches("{\"matchResults\":{}}", "matchResults",
                  "must be an array");
    check_matches("[]", "", "must be a JSON object");
    check_matches("{\"matchResults\":[" MATCH ",7]}", "matchResults[1]",
                  "must be an object");
    check_matches("{\"matchResults\":[" MATCH ",{\"creatorId\":\"c\","
                  "\"matchScore\":1.01,\"reasoning\":\"r\"}]}",
                  "matchResults[1].matchScore", "must be between 0 and 1");
    check_matches("{\"matchResults\":[{\"creatorId\":\"c\","
                  "\"matchScore\":-0.01,\"reasoning\":\"r\"}]}",
                  "matchResults[0].matchScore", "must be between 0 and 1");
    check_matches("{\"matchResults\":[{\"creatorId\":\"c\","
                  "\"matchScore\":\"0.5\",\"reasoning\":\"r\"}]}",
                  "matchResults[0].matchScore", "must be a number");
    check_matches("{\"matchResults\":[{\"creatorId\":\"c\","
                  "\"reasoning\":\"r\"}]}",
                  "matchResults[0].matchScore", "is required");
    check_matches("{\"matchResults\":[{\"creatorId\":\"c\","
                  "\"matchScore\":0,\"reasoning\":\"\"}]}",
                  "matchResults[0].reasoning", "must not be empty");
    check_matches("{\"matchResults\":[{\"creatorId\":\"c\","
                  "\"matchScore\":0,\"reasoning\":\" \\n\"}]}",
                  "matchResults[0].reasoning", "must not be empty");
    check_matches("{\"matchResults\":[{\"creatorId\":\"\","
                  "\"matchScore\":0,\"reasoning\":\"r\"}]}",
                  "matchResults[0].creatorId", "must not be empty");
    check_matches("{\"matchResults\":[{\"matchScore\":0,"
                  "\"reasoning\":\"r\"}]}",
                  "matchResults[0].creatorId", "is required");
    check_matches("{\"matchResults\":[{\"creatorId\":\"c\",\"matchScore\":0,"
                  "\"reasoning\":\"r\",\"framingSuggestion\":3}]}",
                  "matchResults[0].framingSuggestion", "must be a string");
    check_matches("{\"matchResults\":[{\"creatorId\":\"c\",\"matchScore\":0,"
                  "\"reasoning\":\"r\",\"scoreBreakdown\":[]}]}",
                  "matchResults[0].scoreBreakdown", "must be an object");
    check_matches("{\"matchResults\":[{\"creatorId\":\"c\",\"matchScore\":0,"
                  "\"reasoning\":\"r\",\"scoreBreakdown\":"
                  "{\"nicheAlignment\":2}}]}",
                  "matchResults[0].scoreBreakdown.nicheAlignment",
                  "must be between 0 and 1");
    check_matches("{\"matchResults\":[{\"creatorId\":\"c\",\"matchScore\":0,"
                  "\"reasoning\":\"r\",\"scoreBreakdown\":"
                  "{\"engagementFit\":\"high\"}}]}",
                  "matchResults[0].scoreBreakdown.engagementFit",
                  "must be a number");
    check_matches("{\"matchResults\":[{\"creatorId\":\"c\",\"matchScore\":0,"
                  "\"reasoning\":\"r\",\"creator\":\"c\"}]}",
                  "matchResults[0].creator", "must be an object");
}


static void
test_matches_all_errors(void **state)
{
    mt_errs_t       errs;
    mt_json_doc_t  *doc;

    (void) state;

    doc = parse("{\"matchResults\":[{\"matchScore\":2},"
                "{\"creatorId\":\"c\",\"matchScore\":0.1,\"reasoning\":\"r\","
                "\"scoreBreakdown\":{\"semanticSimilarity\":-1,"
                "\"valueAlignment\":1.5}}]}");
    mt_errs_init(&errs);
    assert_int_equal(mt_assignment_check_matches(mt_json_root(doc), &errs),
                     -1);
    assert_int_equal(errs.n, 5);
    assert_string_equal(errs.items[0].field, "matchResults[0].creatorId");
    assert_string_equal(errs.items[1].field, "matchResults[0].matchScore");
    assert_string_equal(errs.items[2].field, "matchResults[0].reasoning");
    assert_string_equal(errs.items[3].field,
                        "matchResults[1].scoreBreakdown.semanticSimilarity");
    assert_string_equal(errs.items[4].field,
                        "matchResults[1].scoreBreakdown.valueAlignment");
    mt_errs_free(&errs);
    mt_json_free(doc);
}


static mt_json_doc_t *
set_matches(const mt_json_t *stored, const mt_json_t *matches, int64_t now,
    mt_assignment_meta_t *meta)
{
    char     *out;
    size_t    len;
    mt_jw_t   w;
    mt_json_doc_t  *doc;

    mt_jw_init(&w);
    assert_int_equal(mt_assignment_set_matches(stored, matches, now, &w,
                                               meta), 0);
    out = mt_jw_take(&w, &len);
    assert_non_null(out);
    doc = parse_n(out, len);
    free(out);
    mt_jw_free(&w);

    return doc;
}


static void
test_set_matches(void **state)
{
    char                 *text;
    size_t                len;
    mt_jw_t               w;
    mt_errs_t             errs;
    mt_json_doc_t        *doc, *body, *doc2, *doc3;
    const mt_json_t      *d, *m, *list;
    mt_assignment_meta_t  meta, meta2;

    (void) state;

    mt_errs_init(&errs);
    doc = create("{" BASE ",\"userId\":\"u\"}", &meta, &errs);
    assert_non_null(doc);

    body = parse("{\"matchResults\":[{\"creatorId\":\"c1\",\"matchScore\":"
                 "0.875,\"reasoning\":\"Fits.\",\"extra\":{\"k\":[1,2]}}]}");
    assert_int_equal(mt_assignment_check_matches(mt_json_root(body), &errs),
                     0);
    list = mt_json_get(mt_json_root(body), "matchResults");

    doc2 = set_matches(mt_json_root(doc), list, TS2, &meta2);
    d = mt_json_root(doc2);

    /* the same fields in the same order, four of them changed */
    assert_keys(d, "id", "topic", "keyTakeaway", "additionalContext",
                "userId", "status", "matchResults", "createdAt",
                "updatedAt", "version");
    assert_string_equal(sget(d, "status"), "completed");
    assert_string_equal(sget(d, "createdAt"), TS_STR);
    assert_string_equal(sget(d, "updatedAt"), TS2_STR);
    assert_string_equal(sget(d, "topic"), "T");
    assert_int_equal(iget(d, "version"), 2);

    m = mt_json_get(d, "matchResults");
    assert_int_equal(m->u.array.n, 1);
    m = m->u.array.items[0];
    assert_string_equal(sget(m, "creatorId"), "c1");
    assert_string_equal(mt_json_get(m, "matchScore")->u.number.raw, "0.875");
    assert_keys(m, "creatorId", "matchScore", "reasoning", "extra");

    assert_string_equal(meta2.id, ID);
    assert_string_equal(meta2.user_id, "u");
    assert_int_equal(meta2.created_at, TS);
    assert_int_equal(meta2.updated_at, TS2);
    assert_int_equal(meta2.version, 2);
    assert_string_equal(meta2.status, "completed");

    /* again: version 3 */
    doc3 = set_matches(d, list, TS2 + 1, &meta2);
    assert_int_equal(iget(mt_json_root(doc3), "version"), 3);
    assert_int_equal(meta2.version, 3);
    assert_int_equal(meta2.updated_at, TS2 + 1);

    /* not a stored assignment, or not an array */
    mt_jw_init(&w);
    assert_int_equal(mt_assignment_set_matches(mt_json_root(body), list,
                                               TS2, &w, &meta2), -1);
    assert_int_equal(mt_assignment_set_matches(d, mt_json_root(body), TS2,
                                               &w, &meta2), -1);
    text = mt_jw_take(&w, &len);
    free(text);
    mt_jw_free(&w);

    mt_json_free(doc3);
    mt_json_free(doc2);
    mt_json_free(body);
    mt_json_free(doc);
    mt_errs_free(&errs);
}


/* ----------------------------------------------------------------------
 * meta from stored documents
 */

static int
meta_of(const char *fields, mt_assignment_meta_t *meta)
{
    int             rc;
    char           *text;
    mt_json_doc_t  *doc;

    text = fmt("{\"id\":\"65A1B2C3D4E5F60718293A4B\",\"topic\":\"T\","
               "\"status\":\"pending\",\"createdAt\":\"" TS_STR "\","
               "\"updatedAt\":\"" TS_STR "\",\"version\":1%s}", fields);
    doc = parse(text);
    rc = mt_assignment_meta(mt_json_root(doc), meta);
    mt_json_free(doc);
    free(text);

    return rc;
}


static int64_t
created_at(const char *iso)
{
    char                 *f;
    mt_assignment_meta_t  meta;

    f = fmt(",\"createdAt\":\"%s\"", iso);

    if (meta_of(f, &meta) != 0) {
        free(f);
        return INT64_MIN;
    }

    free(f);
    return meta.created_at;
}


static void
test_assignment_meta(void **state)
{
    int                   i;
    char                  iso[MT_ISO8601_LEN + 1];
    int64_t               ms;
    mt_assignment_meta_t  meta;

    (void) state;

    assert_int_equal(meta_of("", &meta), 0);
    assert_string_equal(meta.id, ID);
    assert_string_equal(meta.user_id, "");
    assert_int_equal(meta.created_at, TS);
    assert_int_equal(meta.version, 1);
    assert_string_equal(meta.status, "pending");
    assert_string_equal(meta.topic_key, "T");

    assert_int_equal(meta_of(",\"userId\":\"u9\",\"version\":4", &meta), 0);
    assert_string_equal(meta.user_id, "u9");
    assert_int_equal(meta.user_id_len, 2);
    assert_int_equal(meta.version, 4);

    /* the ISO-8601 reader: what mt_iso8601 writes, and without millis */
    assert_int_equal(created_at("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(created_at("1970-01-01T00:00:00.001Z"), 1);
    assert_int_equal(created_at("2025-12-31T03:27:00Z"), 1767151620000LL);
    assert_int_equal(created_at("1969-12-31T23:59:59.999Z"), -1);
    assert_int_equal(created_at("0000-01-01T00:00:00.000Z"),
                     -62167219200000LL);
    assert_int_equal(created_at("9999-12-31T23:59:59.999Z"),
                     253402300799999LL);

    for (i = 0, ms = -62167219200000LL; i < 2000; i++) {
        mt_iso8601(iso, ms);
        assert_int_equal(created_at(iso), ms);
        /* 2000 odd steps across years 0000 to 9999 */
        ms += 157784759993LL;
    }

    assert_int_equal(created_at("2024-02-29T00:00:00Z"), 1709164800000LL);
    assert_int_equal(created_at("2023-02-29T00:00:00Z"), INT64_MIN);
    assert_int_equal(created_at("1900-02-29T00:00:00Z"), INT64_MIN);
    assert_int_equal(created_at("2000-02-29T00:00:00Z"), 951782400000LL);
    assert_int_equal(created_at("2024-04-31T00:00:00Z"), INT64_MIN);
    assert_int_equal(created_at("2024-13-01T00:00:00Z"), INT64_MIN);
    assert_int_equal(created_at("2024-00-01T00:00:00Z"), INT64_MIN);
    assert_int_equal(created_at("2024-01-01T24:00:00Z"), INT64_MIN);
    assert_int_equal(created_at("2024-01-01T00:60:00Z"), INT64_MIN);
    assert_int_equal(created_at("2024-01-01T00:00:60Z"), INT64_MIN);
    assert_int_equal(created_at("2024-01-01T00:00:00"), INT64_MIN);
    assert_int_equal(created_at("2024-01-01 00:00:00Z"), INT64_MIN);
    assert_int_equal(created_at("2024-01-01T00:00:00.1Z"), INT64_MIN);
    assert_int_equal(created_at("2024-01-01T00:00:00,123Z"), INT64_MIN);
    assert_int_equal(created_at("2024-01-01T00:00:00+00:00"), INT64_MIN);
    assert_int_equal(created_at("+2024-01-01T00:00:00Z"), INT64_MIN);
    assert_int_equal(created_at("2024-1-01T00:00:00.000Z"), INT64_MIN);
    assert_int_equal(created_at(""), INT64_MIN);

    /* malformed documents */
    assert_int_equal(meta_of(",\"id\":\"xyz\"", &meta), -1);
    assert_int_equal(meta_of(",\"id\":5", &meta), -1);
    assert_int_equal(meta_of(",\"version\":1.5", &meta), -1);
    assert_int_equal(meta_of(",\"version\":-1", &meta), -1);
    assert_int_equal(meta_of(",\"version\":\"1\"", &meta), -1);
    assert_int_equal(meta_of(",\"status\":\"much-too-long-status\"", &meta),
                     -1);
    assert_int_equal(meta_of(",\"status\":null", &meta), -1);
    assert_int_equal(meta_of(",\"topic\":1", &meta), -1);
    assert_int_equal(meta_of(",\"userId\":1", &meta), -1);
    assert_int_equal(meta_of(",\"updatedAt\":\"yesterday\"", &meta), -1);
    assert_int_equal(mt_assignment_meta(NULL, &meta), -1);
}


static void
test_topic_key(void **state)
{
    char                 *topic, *body;
    mt_errs_t             errs;
    mt_json_doc_t        *doc;
    mt_assignment_meta_t  meta;

    (void) state;

    /* 150 é: 300 bytes, the key keeps 200 of them: 100 é */
    topic = rep(E_ACUTE, 150);
    body = fmt("{" BASE ",\"topic\":\"%s\"}", topic);
    mt_errs_init(&errs);
    doc = create(body, &meta, &errs);
    assert_non_null(doc);
    assert_int_equal(meta.topic_key_len, 200);
    assert_int_equal(strlen(meta.topic_key), 200);
    assert_memory_equal(meta.topic_key, topic, 200);
    mt_json_free(doc);
    free(body);
    free(topic);

    /* "a" then é: byte 200 is inside a character, the key stops at 199 */
    topic = rep(E_ACUTE, 150);
    body = fmt("{" BASE ",\"topic\":\"a%s\"}", topic);
    doc = create(body, &meta, &errs);
    assert_non_null(doc);
    assert_int_equal(meta.topic_key_len, 199);
    assert_int_equal(strlen(meta.topic_key), 199);
    assert_true(mt_utf8_valid(meta.topic_key, meta.topic_key_len));
    mt_json_free(doc);
    free(body);
    free(topic);

    /* a 4-byte character across the cut */
    topic = rep(EMOJI, 60);
    body = fmt("{" BASE ",\"topic\":\"ab%s\"}", topic);
    doc = create(body, &meta, &errs);
    assert_non_null(doc);
    assert_int_equal(meta.topic_key_len, 198);
    assert_true(mt_utf8_valid(meta.topic_key, meta.topic_key_len));
    mt_json_free(doc);
    free(body);
    free(topic);

    mt_errs_free(&errs);
}


/* ----------------------------------------------------------------------
 * creators
 */

#define CREATOR \
    "\"uniqueId\":\"abc\",\"nickname\":\"A\",\"bio\":\"Bio.\"," \
    "\"followerCount\":10,\"region\":\"US\",\"analysis\":{" \
    "\"summary\":\"S\",\"primaryNiches\":[\"Personal Finance\"," \
    "\"Budgeting\"],\"secondaryNiches\":[\"Travel\"]," \
    "\"apparentValues\":[\"Honesty\",\"Thrift\"]," \
    "\"engagementStyle\":{\"tone\":[\"Calm\"]}}"


typedef struct {
    mt_json_doc_t          *in;
    mt_creator_meta_t       meta;
    mt_errs_t               errs;
    int                     rc;
} creator_t;


static void
creator_check(creator_t *c, const char *text)
{
    c->in = parse(text);
    mt_errs_init(&c->errs);
    c->rc = mt_creator_validate(mt_json_root(c->in), &c->meta, &c->errs);
}


static void
creator_done(creator_t *c)
{
    mt_creator_meta_free(&c->meta);
    mt_errs_free(&c->errs);
    mt_json_free(c->in);
}


/* CREATOR plus extra members (repeated keys override) */
static void
creator_ok(const char *extra)
{
    char       *text;
    creator_t   c;

    text = fmt("{" CREATOR "%s}", extra);
    creator_check(&c, text);

    if (c.rc != 0 && c.errs.n > 0) {
        print_error("unexpected error %s: %s\n", c.errs.items[0].field,
                    c.errs.items[0].message);
    }

    assert_int_equal(c.rc, 0);
    assert_int_equal(c.errs.n, 0);
    creator_done(&c);
    free(text);
}


static void
creator_err(const char *body, const char *field, const char *message)
{
    creator_t  c;

    creator_check(&c, body);
    assert_int_equal(c.rc, -1);
    assert_int_equal(c.errs.n, 1);
    assert_string_equal(c.errs.items[0].field, field);
    assert_string_equal(c.errs.items[0].message, message);
    assert_null(c.meta.niches);
    creator_done(&c);
}


static void
creator_err_extra(const char *extra, const char *field, const char *message)
{
    char  *text = fmt("{" CREATOR "%s}", extra);

    creator_err(text, field, message);
    free(text);
}


/* the stored document for in (and stored), parsed */
static mt_json_doc_t *
creator_doc(const mt_json_t *in, const mt_creator_meta_t *meta,
    const mt_json_t *stored, uint64_t stored_hash, int64_t now)
{
    char           *out;
    size_t          len;
    mt_jw_t         w;
    mt_json_doc_t  *doc;

    mt_jw_init(&w);
    assert_int_equal(mt_creator_write(in, meta, stored, stored_hash, now,
                                      &w), 0);
    out = mt_jw_take(&w, &len);
    assert_non_null(out);
    doc = parse_n(out, len);
    free(out);
    mt_jw_free(&w);

    return doc;
}


static void
test_creators_file(void **state)
{
    char                   *text, hex[17];
    size_t                  i, j, len, nn;
    mt_errs_t               errs;
    mt_json_doc_t          *all, *doc;
    const mt_json_t        *root, *in, *d, *a, *v, *e;
    mt_creator_meta_t       meta;
    const mt_json_pair_t   *p;

    (void) state;

    text = unit_read_file("t/data/creators.json", &len);
    all = parse_n(text, len);
    root = mt_json_root(all);
    assert_int_equal(root->type, MT_JSON_OBJECT);
    assert_int_equal(root->u.object.n, 17);

    for (i = 0; i < root->u.object.n; i++) {
        p = &root->u.object.pairs[i];
        in = p->value;

        mt_errs_init(&errs);
        if (mt_creator_validate(in, &meta, &errs) != 0) {
            print_error("%s: %s: %s\n", p->key, errs.items[0].field,
                        errs.items[0].message);
            fail();
        }

        assert_string_equal(meta.unique_id, p->key);
        assert_int_equal(meta.unique_id_len, strlen(p->key));
        assert_string_equal(meta.region, sget(in, "region"));
        assert_int_equal(meta.follower_count, iget(in, "followerCount"));
        assert_int_equal(meta.verified,
                         mt_json_get(in, "verified")->u.boolean);

        /* niches: primary then secondary, lowercased, NUL after each */
        a = mt_json_get(in, "analysis");
        nn = mt_json_get(a, "primaryNiches")->u.array.n;
        v = mt_json_get(a, "secondaryNiches");
        nn += v ? v->u.array.n : 0;
        assert_int_equal(meta.nniches, nn);
        assert_non_null(meta.niches);
        assert_int_equal(meta.niches[meta.niches_len - 1], '\0');

        for (j = 0; j < meta.niches_len; j++) {
            assert_false(meta.niches[j] >= 'A' && meta.niches[j] <= 'Z');
        }

        doc = creator_doc(in, &meta, NULL, 0, TS);
        d = mt_json_root(doc);

        /* the input as it came, server-managed fields last and new */
        assert_int_equal(d->u.object.n, in->u.object.n + 1);
        assert_string_equal(sget(d, "secUid"), sget(in, "secUid"));
        assert_non_null(mt_json_get(d, "sourceHashtags"));
        assert_string_equal(sget(d, "createdAt"), TS_STR);
        assert_string_equal(sget(d, "updatedAt"), TS_STR);
        assert_string_equal(d->u.object.pairs[d->u.object.n - 1].key,
                            "embedding");

        e = mt_json_get(d, "embedding");
        assert_keys(e, "model", "dimensions", "textHash", "updatedAt",
                    "status");
        assert_string_equal(sget(e, "status"), "pending");
        assert_int_equal(iget(e, "dimensions"), 0);
        (void) snprintf(hex, sizeof(hex), "%016" PRIx64, meta.text_hash);
        assert_string_equal(sget(e, "textHash"), hex);

        /* the stored document validates to the same index fields */
        {
            mt_creator_meta_t  meta2;

            assert_int_equal(mt_creator_validate(d, &meta2, &errs), 0);
            assert_true(meta2.content_hash == meta.content_hash);
            assert_true(meta2.text_hash == meta.text_hash);
            assert_int_equal(meta2.niches_len, meta.niches_len);
            assert_memory_equal(meta2.niches, meta.niches, meta.niches_len);
            mt_creator_meta_free(&meta2);
        }

        mt_json_free(doc);
        mt_creator_meta_free(&meta);
        assert_null(meta.niches);
        mt_errs_free(&errs);
    }

    mt_json_free(all);
    free(text);
}


static void
test_creator_meta(void **state)
{
    creator_t  c;

    (void) state;

    creator_check(&c, "{" CREATOR ",\"verified\":true,\"region\":\"UK\","
                  "\"followerCount\":9007199254740993}");
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.meta.unique_id, "abc");
    assert_string_equal(c.meta.region, "UK");
    assert_int_equal(c.meta.follower_count, 9007199254740993LL);
    assert_int_equal(c.meta.verified, 1);
    assert_int_equal(c.meta.nniches, 3);
    assert_int_equal(c.meta.niches_len, sizeof("personal finance\0budgeting"
                                               "\0travel"));
    assert_memory_equal(c.meta.niches, "personal finance\0budgeting\0travel",
                        c.meta.niches_len);
    creator_done(&c);

    /* verified absent is 0; an empty secondary niche is left out */
    creator_check(&c, "{" CREATOR ",\"analysis\":{\"summary\":\"S\","
                  "\"primaryNiches\":[\"ÉCO Tech\"],\"secondaryNiches\":"
                  "[\"\"],\"engagementStyle\":{\"tone\":[\"t\"]}}}");
    assert_int_equal(c.rc, 0);
    assert_int_equal(c.meta.verified, 0);
    assert_int_equal(c.meta.nniches, 1);
    assert_string_equal(c.meta.niches, "Éco tech");
    creator_done(&c);
}


static void
test_creator_required(void **state)
{
    (void) state;

    creator_ok("");
    creator_err("{\"nickname\":\"A\",\"bio\":\"\",\"followerCount\":0,"
                "\"region\":\"US\",\"analysis\":{\"summary\":\"S\","
                "\"primaryNiches\":[\"n\"],\"engagementStyle\":"
                "{\"tone\":[\"t\"]}}}", "uniqueId", "is required");
    creator_err_extra(",\"nickname\":null", "nickname", "is required");
    creator_err_extra(",\"nickname\":\" \"", "nickname", "must not be empty");
    creator_err_extra(",\"bio\":null", "bio", "is required");
    creator_ok(",\"bio\":\"\"");
    creator_err_extra(",\"followerCount\":null", "followerCount",
                      "is required");
    creator_err_extra(",\"region\":null", "region", "is required");
    creator_err_extra(",\"analysis\":null", "analysis", "is required");
    creator_err_extra(",\"analysis\":{\"primaryNiches\":[\"n\"],"
                      "\"engagementStyle\":{\"tone\":[\"t\"]}}",
                      "analysis.summary", "is required");
    creator_err_extra(",\"analysis\":{\"summary\":\"S\","
                      "\"engagementStyle\":{\"tone\":[\"t\"]}}",
                      "analysis.primaryNiches", "is required");
    creator_err_extra(",\"analysis\":{\"summary\":\"S\",\"primaryNiches\":[],"
                      "\"engagementStyle\":{\"tone\":[\"t\"]}}",
                      "analysis.primaryNiches", "must have at least 1 item");
    creator_err_extra(",\"analysis\":{\"summary\":\"S\",\"primaryNiches\":"
                      "[\"\"],\"engagementStyle\":{\"tone\":[\"t\"]}}",
                      "analysis.primaryNiches[0]", "must not be empty");
    creator_err_extra(",\"analysis\":{\"summary\":\"S\",\"primaryNiches\":"
                      "[\"n\"]}", "analysis.engagementStyle", "is required");
    creator_err_extra(",\"analysis\":{\"summary\":\"S\",\"primaryNiches\":"
                      "[\"n\"],\"engagementStyle\":{}}",
                      "analysis.engagementStyle.tone", "is required");
    creator_err_extra(",\"analysis\":{\"summary\":\"S\",\"primaryNiches\":"
                      "[\"n\"],\"engagementStyle\":{\"tone\":[]}}",
                      "analysis.engagementStyle.tone",
                      "must have at least 1 item");
    creator_err("[1]", "", "must be a JSON object");
}


static void
test_creator_fields(void **state)
{
    char  *s, *extra;

    (void) state;

    creator_err_extra(",\"followerCount\":-1", "followerCount",
                      "must be a non-negative integer");
    creator_err_extra(",\"followerCount\":1.5", "followerCount",
                      "must be a non-negative integer");
    creator_err_extra(",\"followerCount\":\"10\"", "followerCount",
                      "must be a non-negative integer");
    creator_err_extra(",\"heartCount\":-3", "heartCount",
                      "must be a non-negative integer");
    creator_ok(",\"followingCount\":0,\"heartCount\":null,\"videoCount\":5");

    /* names a store cannot hold as data (MongoDB reads them as paths) */
    creator_err_extra(",\"$where\":\"1\"", "(root)",
                      "field names may not be empty, start with '$' or "
                      "contain '.'");
    creator_err_extra(",\"extra\":{\"a.b\":1}", "extra",
                      "field names may not be empty, start with '$' or "
                      "contain '.'");
    creator_err_extra(",\"extra\":[{\"\":1}]", "extra[0]",
                      "field names may not be empty, start with '$' or "
                      "contain '.'");
    creator_ok(",\"extra\":{\"a$b\":\"$gt\",\"c\":[\"x.y\"]}");
    creator_err_extra(",\"verified\":\"yes\"", "verified",
                      "must be a boolean");
    creator_err_extra(",\"region\":\"U\"", "region",
                      "must be 2 to 10 characters");
    creator_err_extra(",\"region\":\"ABCDEFGHIJK\"", "region",
                      "must be 2 to 10 characters");
    creator_ok(",\"region\":\"ABCDEFGHIJ\"");
    creator_ok(",\"region\":\"" E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE
               "\"");
    creator_err_extra(",\"region\":\"" E_ACUTE E_ACUTE E_ACUTE E_ACUTE
                      E_ACUTE E_ACUTE "\"", "region",
                      "must be at most 10 bytes");
    creator_err_extra(",\"topHashtags\":[\"#a\",3]", "topHashtags[1]",
                      "must be a string");
    creator_err_extra(",\"profileUrl\":[]", "profileUrl", "must be a string");

    /* lengths in characters */
    s = rep(E_ACUTE, 200);
    extra = fmt(",\"nickname\":\"%s\"", s);
    creator_ok(extra);
    free(extra);
    extra = fmt(",\"nickname\":\"%s" E_ACUTE "\"", s);
    creator_err_extra(extra, "nickname", "must be at most 200 characters");
    free(extra);
    free(s);

    s = rep(E_ACUTE, 1000);
    extra = fmt(",\"bio\":\"%s\"", s);
    creator_ok(extra);
    free(extra);
    extra = fmt(",\"bio\":\"x%s\"", s);
    creator_err_extra(extra, "bio", "must be at most 1000 characters");
    free(extra);
    free(s);

    s = rep(E_ACUTE, 2001);
    extra = fmt(",\"analysis\":{\"summary\":\"%s\",\"primaryNiches\":[\"n\"],"
                "\"engagementStyle\":{\"tone\":[\"t\"]}}", s);
    creator_err_extra(extra, "analysis.summary",
                      "must be at most 2000 characters");
    free(extra);
    free(s);

    /* nested optional members are checked too */
    creator_err_extra(",\"analysis\":{\"summary\":\"S\",\"primaryNiches\":"
                      "[\"n\"],\"engagementStyle\":{\"tone\":[\"t\"],"
                      "\"contentStyle\":1}}",
                      "analysis.engagementStyle.contentStyle",
                      "must be a string");
    creator_err_extra(",\"analysis\":{\"summary\":\"S\",\"primaryNiches\":"
                      "[\"n\"],\"engagementStyle\":{\"tone\":[\"t\"]},"
                      "\"partnershipPotential\":{\"contentStrengths\":\"x\"}}",
                      "analysis.partnershipPotential.contentStrengths",
                      "must be an array");
}


static void
test_creator_all_errors(void **state)
{
    creator_t  c;

    (void) state;

    creator_check(&c, "{\"uniqueId\":\"a b\",\"bio\":1,\"followerCount\":-1,"
                  "\"region\":\"U\",\"avatarUrl\":\"ftp://x\","
                  "\"analysis\":{\"primaryNiches\":\"n\","
                  "\"engagementStyle\":{\"tone\":[\"t\"],\"contentStyle\":1,"
                  "\"callsToAction\":\"x\"},\"partnershipPotential\":"
                  "{\"considerations\":[2]},\"socialStances\":{},"
                  "\"evidenceNotes\":false}}");
    assert_int_equal(c.rc, -1);
    assert_int_equal(c.errs.n, 13);
    assert_string_equal(c.errs.items[0].field, "uniqueId");
    assert_string_equal(c.errs.items[1].field, "nickname");
    assert_string_equal(c.errs.items[2].field, "bio");
    assert_string_equal(c.errs.items[3].field, "followerCount");
    assert_string_equal(c.errs.items[4].field, "region");
    assert_string_equal(c.errs.items[5].field, "avatarUrl");
    assert_string_equal(c.errs.items[6].field, "analysis.summary");
    assert_string_equal(c.errs.items[7].field, "analysis.primaryNiches");
    assert_string_equal(c.errs.items[8].field, "analysis.socialStances");
    assert_string_equal(c.errs.items[9].field,
                        "analysis.engagementStyle.contentStyle");
    assert_string_equal(c.errs.items[10].field,
                        "analysis.engagementStyle.callsToAction");
    assert_string_equal(c.errs.items[11].field,
                        "analysis.partnershipPotential.considerations[0]");
    assert_string_equal(c.errs.items[12].field, "analysis.evidenceNotes");
    creator_done(&c);
}


static void
test_creator_ids(void **state)
{
    size_t   i;
    char    *s, *extra;

    static const char  *reserved[] = {
        ".", "..", "search", "ingest", "embeddings"
    };

    static const char  *good[] = {
        "a", "A.b_c-9", "...", ".hidden", "Search", "searchx", "_"
    };

    static const char  *bad[] = {
        "a b", "a/b", "caf\xc3\xa9", "a%2e", "a\\u0000b", "x?y", "@me"
    };

    (void) state;

    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        extra = fmt(",\"uniqueId\":\"%s\"", reserved[i]);
        creator_err_extra(extra, "uniqueId", "is reserved");
        free(extra);
    }

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        extra = fmt(",\"uniqueId\":\"%s\"", good[i]);
        creator_ok(extra);
        free(extra);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        extra = fmt(",\"uniqueId\":\"%s\"", bad[i]);
        creator_err_extra(extra, "uniqueId",
                          "must contain only A-Z, a-z, 0-9, '.', '_', '-'");
        free(extra);
    }

    creator_err_extra(",\"uniqueId\":\"\"", "uniqueId",
                      "must be 1 to 100 characters");
    creator_err_extra(",\"uniqueId\":7", "uniqueId", "must be a string");

    s = rep("x", 100);
    extra = fmt(",\"uniqueId\":\"%s\"", s);
    creator_ok(extra);
    free(extra);
    extra = fmt(",\"uniqueId\":\"%sy\"", s);
    creator_err_extra(extra, "uniqueId", "must be 1 to 100 characters");
    free(extra);
    free(s);
}


static void
test_creator_avatar(void **state)
{
    size_t   i;
    char    *extra;

    static const char  *good[] = {
        "https://example.com/a.jpg", "http://example.com", "HTTPS://X.IO/",
        "http://user@host:8080/p?q#f", "https://[::1]/a", "http://h?x",
        "https://h:443"
    };

    static const char  *bad[] = {
        "ftp://example.com/a.jpg", "https://", "http:///path", "https://:80",
        "javascript:alert(1)", "https://a b.com/", "//example.com/a.jpg",
        "example.com", "", "https://user@/x", "https://[]/", "https://[::1",
        "http:/example.com", "https://exa\\tmple.com"
    };

    (void) state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        extra = fmt(",\"avatarUrl\":\"%s\"", good[i]);
        creator_ok(extra);
        free(extra);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        extra = fmt(",\"avatarUrl\":\"%s\"", bad[i]);
        creator_err_extra(extra, "avatarUrl", "must be an http(s) URL");
        free(extra);
    }

    creator_ok(",\"avatarUrl\":null");
    creator_err_extra(",\"avatarUrl\":5", "avatarUrl", "must be a string");
}


static void
test_creator_unknown_kept(void **state)
{
    creator_t         c;
    mt_json_doc_t    *doc;
    const mt_json_t  *d, *a;

    (void) state;

    creator_check(&c, "{\"x-first\":{\"deep\":[1,{\"k\":null}]},"
                  "\"createdAt\":\"2020-01-01T00:00:00Z\"," CREATOR
                  ",\"embedding\":{\"status\":\"ready\"},"
                  "\"analysis\":{\"summary\":\"S\",\"primaryNiches\":[\"n\"],"
                  "\"engagementStyle\":{\"tone\":[\"t\"],\"mood\":\"up\"},"
                  "\"novel\":1.50},\"updatedAt\":\"x\",\"crawlCount\":3}");
    assert_int_equal(c.rc, 0);

    doc = creator_doc(mt_json_root(c.in), &c.meta, NULL, 0, TS);
    d = mt_json_root(doc);

    /* input order; duplicates kept (read back, the last one wins) */
    assert_keys(d, "x-first", "uniqueId", "nickname", "bio", "followerCount",
                "region", "analysis", "analysis", "crawlCount", "createdAt",
                "updatedAt", "embedding");
    a = mt_json_get(d, "analysis");
    assert_string_equal(mt_json_get(a, "novel")->u.number.raw, "1.50");
    assert_string_equal(sget(mt_json_get(a, "engagementStyle"), "mood"),
                        "up");
    assert_int_equal(iget(d, "crawlCount"), 3);
    assert_int_equal(mt_json_get(d, "x-first")->type, MT_JSON_OBJECT);
    assert_string_equal(sget(d, "createdAt"), TS_STR);
    assert_string_equal(sget(mt_json_get(d, "embedding"), "status"),
                        "pending");

    mt_json_free(doc);
    creator_done(&c);
}


static void
test_creator_text(void **state)
{
    char             *t;
    size_t            len;
    mt_json_doc_t    *doc;

    (void) state;

    doc = parse("{" CREATOR "}");
    t = mt_creator_text(mt_json_root(doc), &len);
    assert_non_null(t);
    assert_string_equal(t, "Bio.\nNiches: Personal Finance, Budgeting, "
                        "Travel\nValues: Honesty, Thrift");
    assert_int_equal(len, strlen(t));
    free(t);
    mt_json_free(doc);

    doc = parse("{\"analysis\":{\"primaryNiches\":[\"A\"]}}");
    t = mt_creator_text(mt_json_root(doc), NULL);
    assert_string_equal(t, "\nNiches: A\nValues: ");
    free(t);
    mt_json_free(doc);

    doc = parse("{\"bio\":\"b\",\"analysis\":{\"secondaryNiches\":[\"S\"],"
                "\"apparentValues\":[\"V\"]}}");
    t = mt_creator_text(mt_json_root(doc), &len);
    assert_string_equal(t, "b\nNiches: S\nValues: V");
    free(t);
    mt_json_free(doc);
}


static void
creator_hashes(const char *text, uint64_t *content, uint64_t *th)
{
    creator_t  c;

    creator_check(&c, text);
    assert_int_equal(c.rc, 0);
    *content = c.meta.content_hash;
    *th = c.meta.text_hash;
    creator_done(&c);
}


static void
test_creator_hash(void **state)
{
    char      *t;
    size_t     len;
    uint64_t   c1, t1, c2, t2;

    (void) state;

    creator_hashes("{" CREATOR "}", &c1, &t1);
    creator_hashes("{" CREATOR "}", &c2, &t2);
    assert_true(c1 == c2 && t1 == t2);

    /* the text hash is the hash of the text */
    {
        mt_json_doc_t  *doc = parse("{" CREATOR "}");

        t = mt_creator_text(mt_json_root(doc), &len);
        assert_true(mt_hash64(t, len, MT_HASH_SEED) == t1);
        free(t);
        mt_json_free(doc);
    }

    /* server-managed fields do not count */
    creator_hashes("{\"createdAt\":\"a\"," CREATOR ",\"updatedAt\":\"b\","
                   "\"embedding\":{\"status\":\"ready\"}}", &c2, &t2);
    assert_true(c1 == c2 && t1 == t2);

    /* the bio is in both */
    creator_hashes("{" CREATOR ",\"bio\":\"Other.\"}", &c2, &t2);
    assert_true(c1 != c2 && t1 != t2);

    /* a count is content, not text */
    creator_hashes("{" CREATOR ",\"followerCount\":11}", &c2, &t2);
    assert_true(c1 != c2 && t1 == t2);

    /* unknown fields are content */
    creator_hashes("{" CREATOR ",\"secUid\":\"x\"}", &c2, &t2);
    assert_true(c1 != c2 && t1 == t2);

    /* values are text */
    creator_hashes("{" CREATOR ",\"analysis\":{\"summary\":\"S\","
                   "\"primaryNiches\":[\"Personal Finance\",\"Budgeting\"],"
                   "\"secondaryNiches\":[\"Travel\"],\"apparentValues\":"
                   "[\"Honesty\"],\"engagementStyle\":{\"tone\":[\"Calm\"]}}}",
                   &c2, &t2);
    assert_true(c1 != c2 && t1 != t2);
}


static void
test_creator_embedding(void **state)
{
    char              hex[17];
    creator_t         c, c2;
    uint64_t          old_hash;
    mt_json_doc_t    *stored, *doc;
    const mt_json_t  *d, *e;

    static const char  emb[] = "{\"model\":\"m-1\",\"dimensions\":384,"
        "\"textHash\":\"0123456789abcdef\",\"updatedAt\":\"" TS_STR "\","
        "\"status\":\"ready\",\"note\":[1.0]}";

    (void) state;

    creator_check(&c, "{" CREATOR "}");
    assert_int_equal(c.rc, 0);
    old_hash = c.meta.text_hash;

    {
        char  *text = fmt("{" CREATOR ",\"createdAt\":"
                          "\"2020-01-01T00:00:00Z\",\"updatedAt\":\"x\","
                          "\"embedding\":%s}", emb);

        stored = parse(text);
        free(text);
    }

    /* same text: the stored embedding and createdAt are kept as they are */
    creator_check(&c2, "{" CREATOR ",\"followerCount\":99}");
    assert_int_equal(c2.rc, 0);
    assert_true(c2.meta.text_hash == old_hash);

    doc = creator_doc(mt_json_root(c2.in), &c2.meta, mt_json_root(stored),
                      old_hash, TS2);
    d = mt_json_root(doc);
    assert_string_equal(sget(d, "createdAt"), "2020-01-01T00:00:00Z");
    assert_string_equal(sget(d, "updatedAt"), TS2_STR);
    assert_int_equal(iget(d, "followerCount"), 99);
    e = mt_json_get(d, "embedding");
    assert_keys(e, "model", "dimensions", "textHash", "updatedAt", "status",
                "note");
    assert_string_equal(sget(e, "status"), "ready");
    assert_string_equal(sget(e, "model"), "m-1");
    assert_string_equal(mt_json_get(e, "note")->u.array.items[0]
                        ->u.number.raw, "1.0");
    mt_json_free(doc);
    creator_done(&c2);

    /* changed text: pending, with the new hash; createdAt still kept */
    creator_check(&c2, "{" CREATOR ",\"bio\":\"New bio.\"}");
    assert_int_equal(c2.rc, 0);
    assert_true(c2.meta.text_hash != old_hash);

    doc = creator_doc(mt_json_root(c2.in), &c2.meta, mt_json_root(stored),
                      old_hash, TS2);
    d = mt_json_root(doc);
    assert_string_equal(sget(d, "createdAt"), "2020-01-01T00:00:00Z");
    e = mt_json_get(d, "embedding");
    assert_string_equal(sget(e, "status"), "pending");
    assert_int_equal(mt_json_get(e, "model")->type, MT_JSON_NULL);
    assert_int_equal(mt_json_get(e, "updatedAt")->type, MT_JSON_NULL);
    (void) snprintf(hex, sizeof(hex), "%016" PRIx64, c2.meta.text_hash);
    assert_string_equal(sget(e, "textHash"), hex);
    mt_json_free(doc);
    creator_done(&c2);

    /* a stored creator without an embedding gets a pending one */
    mt_json_free(stored);
    stored = parse("{" CREATOR ",\"createdAt\":5}");
    doc = creator_doc(mt_json_root(c.in), &c.meta, mt_json_root(stored),
                      old_hash, TS2);
    d = mt_json_root(doc);
    assert_string_equal(sget(d, "createdAt"), TS2_STR);
    assert_string_equal(sget(mt_json_get(d, "embedding"), "status"),
                        "pending");
    mt_json_free(doc);

    mt_json_free(stored);
    creator_done(&c);
}


/* n strings item, comma separated: the inside of a JSON array */
static char *
str_list(const char *item, size_t n)
{
    char  *one, *all, *s;

    one = fmt("\"%s\",", item);
    all = rep(one, n);
    free(one);

    /* drop the last comma */
    if (n > 0) {
        all[strlen(all) - 1] = '\0';
    }

    s = all;
    return s;
}


#define ANALYSIS \
    "\"summary\":\"S\",\"primaryNiches\":[\"P\"]," \
    "\"engagementStyle\":{\"tone\":[\"Calm\"]}"


/* one list at n items of item: accepted at the cap, refused past it */
static void
caps_list(const char *fmt_extra, const char *field)
{
    char  *at, *over, *extra, *item, *item_over, *path;

    at = str_list("x", MT_CREATOR_LIST_MAX);
    over = str_list("x", MT_CREATOR_LIST_MAX + 1);

    extra = fmt(fmt_extra, at);
    creator_ok(extra);
    free(extra);

    extra = fmt(fmt_extra, over);
    creator_err_extra(extra, field, "must have at most 50 items");
    free(extra);

    /* items: characters, not bytes */
    item = rep(E_ACUTE, MT_CREATOR_ITEM_MAX);
    item_over = rep("a", MT_CREATOR_ITEM_MAX + 1);

    free(at);
    at = fmt("\"%s\"", item);
    extra = fmt(fmt_extra, at);
    creator_ok(extra);
    free(extra);

    free(over);
    over = fmt("\"a\",\"%s\"", item_over);
    extra = fmt(fmt_extra, over);
    path = fmt("%s[1]", field);
    creator_err_extra(extra, path, "must be at most 200 characters");
    free(extra);
    free(path);

    free(item);
    free(item_over);
    free(at);
    free(over);
}


/* one string field: max characters accepted, one more refused */
static void
caps_string(const char *fmt_extra, const char *prefix, size_t max,
    const char *field, const char *message)
{
    char  *at, *over, *extra;

    at = rep("a", max - strlen(prefix));
    over = rep("a", max + 1 - strlen(prefix));

    extra = fmt(fmt_extra, prefix, at);
    creator_ok(extra);
    free(extra);

    extra = fmt(fmt_extra, prefix, over);
    creator_err_extra(extra, field, message);
    free(extra);

    free(at);
    free(over);
}


static void
test_creator_caps(void **state)
{
    char    *text, *keys, *extra;
    size_t   i, len, base;

    (void) state;

    /* every list of strings of the model */
    caps_list(",\"topHashtags\":[%s]", "topHashtags");
    caps_list(",\"analysis\":{" ANALYSIS ",\"secondaryNiches\":[%s]}",
              "analysis.secondaryNiches");
    caps_list(",\"analysis\":{\"summary\":\"S\",\"primaryNiches\":[%s],"
              "\"engagementStyle\":{\"tone\":[\"Calm\"]}}",
              "analysis.primaryNiches");
    caps_list(",\"analysis\":{" ANALYSIS ",\"apparentValues\":[%s]}",
              "analysis.apparentValues");
    caps_list(",\"analysis\":{" ANALYSIS ",\"audienceInterests\":[%s]}",
              "analysis.audienceInterests");
    caps_list(",\"analysis\":{" ANALYSIS ",\"identifiedCauses\":[%s]}",
              "analysis.identifiedCauses");
    caps_list(",\"analysis\":{" ANALYSIS ",\"socialStances\":[%s]}",
              "analysis.socialStances");
    caps_list(",\"analysis\":{" ANALYSIS ",\"topHashtags\":[%s]}",
              "analysis.topHashtags");
    caps_list(",\"analysis\":{\"summary\":\"S\",\"primaryNiches\":[\"P\"],"
              "\"engagementStyle\":{\"tone\":[%s]}}",
              "analysis.engagementStyle.tone");
    caps_list(",\"analysis\":{\"summary\":\"S\",\"primaryNiches\":[\"P\"],"
              "\"engagementStyle\":{\"tone\":[\"C\"],"
              "\"callsToAction\":[%s]}}",
              "analysis.engagementStyle.callsToAction");
    caps_list(",\"analysis\":{" ANALYSIS ",\"partnershipPotential\":{"
              "\"alignedOrganizationTypes\":[%s]}}",
              "analysis.partnershipPotential.alignedOrganizationTypes");
    caps_list(",\"analysis\":{" ANALYSIS ",\"partnershipPotential\":{"
              "\"contentStrengths\":[%s]}}",
              "analysis.partnershipPotential.contentStrengths");
    caps_list(",\"analysis\":{" ANALYSIS ",\"partnershipPotential\":{"
              "\"considerations\":[%s]}}",
              "analysis.partnershipPotential.considerations");

    /* the strings that had no cap */
    caps_string(",\"avatarUrl\":\"%s%s\"", "https://e.com/", 2048,
                "avatarUrl", "must be at most 2048 characters");
    caps_string(",\"profileUrl\":\"%s%s\"", "https://e.com/", 2048,
                "profileUrl", "must be at most 2048 characters");
    caps_string(",\"analysis\":{\"summary\":\"S\",\"primaryNiches\":[\"P\"],"
                "\"engagementStyle\":{\"tone\":[\"C\"],"
                "\"contentStyle\":\"%s%s\"}}", "", 500,
                "analysis.engagementStyle.contentStyle",
                "must be at most 500 characters");
    caps_string(",\"analysis\":{" ANALYSIS ",\"evidenceNotes\":\"%s%s\"}",
                "", 2000, "analysis.evidenceNotes",
                "must be at most 2000 characters");

    /* members: CREATOR has 6, so 94 more are the cap */
    keys = rep("", 0);

    for (i = 0; i < MT_CREATOR_MEMBERS_MAX - 6; i++) {
        extra = fmt("%s,\"u%zu\":%zu", keys, i, i);
        free(keys);
        keys = extra;
    }

    creator_ok(keys);

    extra = fmt("%s,\"u-over\":0", keys);
    creator_err_extra(extra, "", "must have at most 100 members (keys)");
    free(extra);

    /* in unknown fields too, named by their path; duplicates count */
    extra = fmt(",\"x\":[1,{\"y\":{%s}}]", keys + 1);
    creator_ok(extra);
    free(extra);

    extra = fmt(",\"x\":[1,{\"y\":{%s,\"a\":1,\"a\":2,\"a\":3,"
                "\"a\":4,\"a\":5,\"a\":6,\"a\":7}}]", keys + 1);
    creator_err_extra(extra, "x[1].y", "must have at most 100 members (keys)");
    free(extra);
    free(keys);

    /* 100,000 keys: refused by their count, not hashed */
    keys = malloc((size_t) 100000 * 16);
    assert_non_null(keys);
    len = 0;

    for (i = 0; i < 100000; i++) {
        len += (size_t) sprintf(keys + len, ",\"k%zu\":%zu", i, i);
    }

    creator_err_extra(keys, "", "must have at most 100 members (keys)");
    free(keys);

    /* the size as compact JSON: this text is compact, with no escapes */
    text = fmt("{" CREATOR ",\"notes\":\"\"}");
    base = strlen(text);
    free(text);

    keys = rep("n", MT_CREATOR_SIZE_MAX - base);
    text = fmt("{" CREATOR ",\"notes\":\"%s\"}", keys);
    assert_int_equal(strlen(text), MT_CREATOR_SIZE_MAX);
    free(text);

    extra = fmt(",\"notes\":\"%s\"", keys);
    creator_ok(extra);
    free(extra);

    extra = fmt(",\"notes\":\"%sn\"", keys);
    creator_err_extra(extra, "", "must be at most 65536 bytes of JSON");
    free(extra);

    /* in many small values: the walk stops at the cap */
    free(keys);
    keys = str_list("abcdefghijklmnopqrstuvwxyz", 5000);
    extra = fmt(",\"many\":[%s]", keys);
    creator_err_extra(extra, "", "must be at most 65536 bytes of JSON");
    free(extra);
    free(keys);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_errs),
        cmocka_unit_test(test_hash64),
        cmocka_unit_test(test_sort_parse),
        cmocka_unit_test(test_assignment_example),
        cmocka_unit_test(test_assignment_minimal),
        cmocka_unit_test(test_assignment_id),
        cmocka_unit_test(test_assignment_not_object),
        cmocka_unit_test(test_assignment_required),
        cmocka_unit_test(test_assignment_types),
        cmocka_unit_test(test_assignment_limits),
        cmocka_unit_test(test_assignment_trim),
        cmocka_unit_test(test_assignment_unknown_dropped),
        cmocka_unit_test(test_assignment_all_errors),
        cmocka_unit_test(test_matches_check),
        cmocka_unit_test(test_matches_all_errors),
        cmocka_unit_test(test_set_matches),
        cmocka_unit_test(test_assignment_meta),
        cmocka_unit_test(test_topic_key),
        cmocka_unit_test(test_creators_file),
        cmocka_unit_test(test_creator_meta),
        cmocka_unit_test(test_creator_required),
        cmocka_unit_test(test_creator_fields),
        cmocka_unit_test(test_creator_all_errors),
        cmocka_unit_test(test_creator_ids),
        cmocka_unit_test(test_creator_avatar),
        cmocka_unit_test(test_creator_unknown_kept),
        cmocka_unit_test(test_creator_text),
        cmocka_unit_test(test_creator_hash),
        cmocka_unit_test(test_creator_embedding),
        cmocka_unit_test(test_creator_caps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

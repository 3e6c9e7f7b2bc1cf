/*
 * Unit tests for lib/remote_pinecone.c:
 * the query request carries the contract's filter unchanged and the
 * vector exactly, replies as the spec gives them become hits (malformed
 * ones refused with a reason), metadata has no nulls and the local
 * index's tags, upsert and delete bodies, the upsert planner at 1000
 * vectors and 2 MB.  The reads: test_remote_pinecone_read.c.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "backend.h"
#include "json.h"
#include "remote.h"


#define S(lit)      (lit), (sizeof(lit) - 1)
#define DIMS        8


static mt_json_doc_t *
parse_ok(const char *text, size_t len)
{
    char            msg[128];
    mt_json_err_t   code;
    mt_json_doc_t  *doc;

    doc = mt_json_parse(text, len, NULL, &code, msg, sizeof(msg));
    if (doc == NULL) {
        fail_msg("not JSON: %s: %.200s", msg, text);
    }

    return doc;
}


static char *
take(mt_jw_t *w, size_t *len)
{
    char  *s;

    s = mt_jw_take(w, len);
    assert_non_null(s);

    return s;
}


/* v as compact JSON, for comparing two values */
static char *
dump(const mt_json_t *v)
{
    mt_jw_t  w;

    mt_jw_init(&w);
    mt_jw_value(&w, v);

    return take(&w, NULL);
}


/* a vector that needs all nine digits in most of its values */
static void
vec_for(size_t i, float *v, unsigned dims)
{
    unsigned  d;

    for (d = 0; d < dims; d++) {
        v[d] = (float) sin((double) (i * 131 + d) * 0.7311) / 3.0f;
    }
}


/* the backend */

static void
test_vec_pinecone_new(void **state)
{
    mt_vec_t  *v;

    (void) state;

    v = mt_vec_pinecone_new("creators", 1536);
    assert_non_null(v);

    assert_string_equal(v->ops->name, "pinecone");
    assert_int_equal(v->ops->flags, MT_BACKEND_WIRE);
    assert_null(v->ops->query);
    assert_null(v->ops->upsert);
    assert_null(v->ops->remove);
    assert_non_null(v->ops->request);
    assert_non_null(v->ops->reply);
    assert_int_equal(v->ops->count(v), 0);
    assert_int_equal(v->ops->generation(v), 0);
    v->ops->free(v);

    v = mt_vec_pinecone_new(NULL, 3);
    assert_non_null(v);
    v->ops->free(v);

    assert_null(mt_vec_pinecone_new("x", 0));
    assert_null(mt_vec_pinecone_new("x", MT_PINECONE_DIMS_MAX + 1));
}


/*
 * The filter parsed, the request written, the request parsed back: its
 * "filter" is the same JSON, text for text (numbers as written).
 */
static void
test_vec_request_filter(void **state)
{
    char              *body, *a, *b;
    float              q[DIMS];
    size_t             len, i;
    mt_jw_t            w;
    mt_vec_t          *v;
    mt_json_doc_t     *f, *doc;
    const mt_json_t   *root, *vec;

    static const char  filter[] =
        "{\"$and\":[{\"region\":{\"$in\":[\"US\",\"UK\"]}},"
        "{\"$or\":[{\"followerCount\":{\"$gte\":1e4}},"
        "{\"verified\":true}]},"
        "{\"primaryNiches\":\"vegan cooking \\\"\\u00e9\\\"\"},"
        "{\"apparentValues\":{\"$nin\":[\"x\",\"y\"],\"$exists\":true}},"
        "{\"followerCount\":{\"$lt\":10.50}}]}";

    (void) state;

    vec_for(1, q, DIMS);

    v = mt_vec_pinecone_new("creators", DIMS);
    assert_non_null(v);

    f = parse_ok(filter, sizeof(filter) - 1);

    mt_jw_init(&w);
    assert_int_equal(v->ops->request(v, q, DIMS, mt_json_root(f), 5, &w), 0);
    body = take(&w, &len);

    doc = parse_ok(body, len);
    root = mt_json_root(doc);

    a = dump(mt_json_root(f));
    b = dump(mt_json_get(root, "filter"));
    assert_string_equal(a, b);
    assert_non_null(strstr(body, "1e4"));
    assert_non_null(strstr(body, "10.50"));
    assert_true(mt_json_hash(mt_json_root(f))
                == mt_json_hash(mt_json_get(root, "filter")));
    free(a);
    free(b);

    assert_int_equal(mt_json_get(root, "topK")->u.number.i, 5);
    assert_int_equal(mt_json_get(root, "includeValues")->type,
                     MT_JSON_BOOL);
    assert_false(mt_json_get(root, "includeValues")->u.boolean);
    assert_false(mt_json_get(root, "includeMetadata")->u.boolean);
    assert_string_equal(mt_json_get(root, "namespace")->u.string.s,
                        "creators");

    /* the vector reads back as the same floats */
    vec = mt_json_get(root, "vector");
    assert_int_equal(vec->u.array.n, DIMS);

    for (i = 0; i < DIMS; i++) {
        assert_true((float) vec->u.array.items[i]->u.number.d == q[i]);
        assert_true(vec->u.array.items[i]->u.number.raw_len <= 15);
    }

    mt_json_free(doc);
    free(body);
    mt_json_free(f);
    v->ops->free(v);
}


static void
test_vec_request_forms(void **state)
{
    char            *body;
    float            q[4] = { 0.5f, 0.1f, 0, -0.25f }, z[4] = { 0 };
    mt_jw_t          w;
    mt_vec_t        *v;
    mt_json_doc_t   *f;

    (void) state;

    v = mt_vec_pinecone_new("", 4);
    assert_non_null(v);

    /* no filter, the default namespace: neither is sent */
    mt_jw_init(&w);
    assert_int_equal(v->ops->request(v, q, 4, NULL, 3, &w), 0);
    body = take(&w, NULL);
    assert_string_equal(body, "{\"vector\":[0.5,0.1,0,-0.25],\"topK\":3,"
                        "\"includeValues\":false,\"includeMetadata\":false}");
    free(body);

    /* {} is no filter */
    f = parse_ok(S("{}"));
    mt_jw_init(&w);
    assert_int_equal(v->ops->request(v, q, 4, mt_json_root(f), 3, &w), 0);
    body = take(&w, NULL);
    assert_null(strstr(body, "filter"));
    free(body);
    mt_json_free(f);

    /* what Pinecone would refuse is not written */
    f = parse_ok(S("[1]"));
    mt_jw_init(&w);
    assert_int_equal(v->ops->request(v, q, 4, mt_json_root(f), 3, &w), -1);
    assert_int_equal(v->ops->request(v, q, 3, NULL, 3, &w), -1);
    assert_int_equal(v->ops->request(v, q, 4, NULL, 0, &w), -1);
    assert_int_equal(v->ops->request(v, q, 4, NULL,
                                     MT_PINECONE_TOP_K_MAX + 1, &w), -1);
    assert_int_equal(v->ops->request(v, z, 4, NULL, 3, &w), -1);
    q[2] = NAN;
    assert_int_equal(v->ops->request(v, q, 4, NULL, 3, &w), -1);
    mt_jw_free(&w);
    mt_json_free(f);

    v->ops->free(v);
}


static void
reply_err(const mt_vec_t *v, const char *text, size_t len, const char *want)
{
    char           err[256];
    mt_vec_hits_t  hits;

    err[0] = '\0';

    if (v->ops->reply(v, text, len, &hits, err, sizeof(err)) != -1) {
        fail_msg("accepted: %.200s", text);
    }

    assert_null(hits.hits);
    assert_null(hits.ids);

    if (strstr(err, want) == NULL) {
        fail_msg("\"%s\", not \"%s\"", err, want);
    }
}


static void
test_vec_reply(void **state)
{
    char           err[256], text[1024], id[601], *huge;
    size_t         n;
    mt_vec_t      *v;
    mt_vec_hits_t  hits;

    static const char  ok[] =
        "{\"matches\":[{\"id\":\"creator-b\",\"score\":0.91,\"values\":[]},"
        "{\"id\":\"creator-a\",\"score\":1.0000002,\"values\":[],"
        "\"metadata\":{\"region\":\"US\"}},"
        "{\"id\":\"c\",\"score\":-1.5,\"values\":[]}],"
        "\"namespace\":\"creators\",\"usage\":{\"readUnits\":6}}";

    (void) state;

    v = mt_vec_pinecone_new("creators", 4);
    assert_non_null(v);

    assert_int_equal(v->ops->reply(v, ok, sizeof(ok) - 1, &hits, err,
                                   sizeof(err)), 0);
    assert_int_equal(hits.n, 3);
    assert_int_equal(hits.total, 0);
    assert_string_equal(hits.hits[0].id, "creator-b");
    assert_int_equal(hits.hits[0].id_len, 9);
    assert_true(fabsf(hits.hits[0].score - 0.91f) < 1e-6f);
    /* as given, clamped to [-1, 1] */
    assert_string_equal(hits.hits[1].id, "creator-a");
    assert_true(hits.hits[1].score == 1.0f);
    assert_string_equal(hits.hits[2].id, "c");
    assert_true(hits.hits[2].score == -1.0f);
    mt_vec_hits_free(&hits);
    assert_null(hits.hits);

    assert_int_equal(v->ops->reply(v, S("{\"matches\":[],\"namespace\":\"\"}"),
                                   &hits, err, sizeof(err)), 0);
    assert_int_equal(hits.n, 0);
    mt_vec_hits_free(&hits);

    reply_err(v, S("{\"namespace\":\"creators\",\"usage\":{}}"),
              "no \"matches\" array");
    reply_err(v, S("{\"matches\":{}}"), "no \"matches\" array");
    reply_err(v, S("{\"matches\":[{\"id\":\"a\",\"score\":0.5},"
                   "{\"score\":0.4}]}"), "item 1 has no id");
    reply_err(v, S("{\"matches\":[{\"id\":7,\"score\":0.5}]}"),
              "item 0 has no id");
    reply_err(v, S("{\"matches\":[{\"id\":\"\",\"score\":0.5}]}"),
              "item 0 has no id");
    reply_err(v, S("{\"matches\":[{\"id\":\"a\",\"score\":\"0.5\"}]}"),
              "match 0 has no numeric score");
    reply_err(v, S("{\"matches\":[{\"id\":\"a\"}]}"),
              "match 0 has no numeric score");
    reply_err(v, S("{\"matches\":[{\"id\":\"a\",\"score\":0.5}"),
              "not JSON");
    reply_err(v, S("Unauthorized"), "not JSON");
    reply_err(v, S("<html><body>503</body></html>"), "not JSON");

    /* an id of 600 bytes, and of 512 (the most Pinecone allows) */
    memset(id, 'x', 600);
    id[600] = '\0';
    n = (size_t) snprintf(text, sizeof(text),
                          "{\"matches\":[{\"id\":\"%s\",\"score\":0.5}]}", id);
    reply_err(v, text, n, "item 0 has no id of 1 to 512 bytes");

    id[512] = '\0';
    n = (size_t) snprintf(text, sizeof(text),
                          "{\"matches\":[{\"id\":\"%s\",\"score\":0.5}]}", id);
    assert_int_equal(v->ops->reply(v, text, n, &hits, err, sizeof(err)), 0);
    assert_int_equal(hits.hits[0].id_len, 512);
    mt_vec_hits_free(&hits);

    /* over 4 MB: refused unread */
    n = MT_PINECONE_REPLY_MAX + 1;
    huge = malloc(n);
    assert_non_null(huge);
    memset(huge, ' ', n);
    memcpy(huge, "{\"matches\":[]}", 14);
    reply_err(v, huge, n, "reply over 4194304 bytes");
    free(huge);

    v->ops->free(v);
}


/* metadata */

static char *
meta_of(const char *creator, size_t len)
{
    char           *out;
    mt_jw_t         w;
    mt_json_doc_t  *doc;

    doc = parse_ok(creator, len);

    mt_jw_init(&w);
    assert_int_equal(mt_pinecone_metadata(&w, mt_json_root(doc)), 0);
    out = take(&w, NULL);

    mt_json_free(doc);

    return out;
}


static void
test_metadata(void **state)
{
    char            *m, *creator, *p;
    size_t           i, n;
    mt_json_doc_t   *doc;
    const mt_json_t *root;

    (void) state;

    /* nulls and non-strings dropped, other fields left out */
    m = meta_of(S("{\"uniqueId\":\"a\",\"region\":\"US\","
                  "\"followerCount\":125000,\"verified\":true,"
                  "\"bio\":\"hi\",\"analysis\":{\"summary\":\"s\","
                  "\"primaryNiches\":[\"vegan cooking\",null,\"budget\"],"
                  "\"secondaryNiches\":[1,{\"a\":1},\"travel\",[\"x\"]],"
                  "\"apparentValues\":[],\"socialStances\":[\"z\"]}}"));
    assert_string_equal(m, "{\"region\":\"US\",\"followerCount\":125000,"
                        "\"verified\":true,"
                        "\"primaryNiches\":[\"vegan cooking\",\"budget\"],"
                        "\"secondaryNiches\":[\"travel\"],"
                        "\"apparentValues\":[]}");
    free(m);

    /* absent or null fields: not written at all */
    m = meta_of(S("{\"region\":null,\"followerCount\":null,"
                  "\"verified\":null,\"analysis\":{\"primaryNiches\":null}}"));
    assert_string_equal(m, "{}");
    free(m);

    m = meta_of(S("{\"followerCount\":12.5,\"verified\":false}"));
    assert_string_equal(m, "{\"followerCount\":12.5,\"verified\":false}");
    free(m);

    /* as the local index: region and 47 niches make MT_META_TAGS */
    creator = malloc(8192);
    assert_non_null(creator);
    p = creator;
    p += sprintf(p, "{\"region\":\"EU\",\"analysis\":{\"primaryNiches\":[");

    for (i = 0; i < 60; i++) {
        p += sprintf(p, "%s\"niche %zu\"", i ? "," : "", i);
    }

    p += sprintf(p, "],\"apparentValues\":[\"honesty\"]}}");

    m = meta_of(creator, (size_t) (p - creator));
    doc = parse_ok(m, strlen(m));
    root = mt_json_root(doc);
    assert_int_equal(mt_json_get(root, "primaryNiches")->u.array.n,
                     MT_META_TAGS - 1);
    assert_int_equal(mt_json_get(root, "apparentValues")->u.array.n, 0);
    mt_json_free(doc);
    free(m);
    free(creator);

    /* and at most MT_PINECONE_META_MAX bytes whatever the strings */
    n = 40 * 1100 + 200;
    creator = malloc(n);
    assert_non_null(creator);
    p = creator;
    p += sprintf(p, "{\"analysis\":{\"primaryNiches\":[");

    for (i = 0; i < 40; i++) {
        *p++ = i ? ',' : '"';
        if (i) {
            *p++ = '"';
        }
        memset(p, 'a' + (char) (i % 26), 1000);
        p += 1000;
        *p++ = '"';
    }

    p += sprintf(p, "]}}");

    m = meta_of(creator, (size_t) (p - creator));
    assert_true(strlen(m) <= MT_PINECONE_META_MAX);
    assert_true(strlen(m) > MT_PINECONE_META_MAX / 2);
    doc = parse_ok(m, strlen(m));
    mt_json_free(doc);
    free(m);
    free(creator);
}


/* upsert */

static void
test_upsert_request(void **state)
{
    char              *body, err[256], longid[600];
    float              vecs[2][DIMS], zero[DIMS];
    size_t             len, i;
    mt_jw_t            w;
    mt_json_doc_t     *c, *doc;
    mt_vec_record_t    recs[2];
    const mt_json_t   *root, *vs, *r;

    (void) state;

    c = parse_ok(S("{\"uniqueId\":\"creator-a\",\"region\":\"UK\","
                   "\"analysis\":{\"primaryNiches\":[\"fitness\"]}}"));

    vec_for(1, vecs[0], DIMS);
    vec_for(2, vecs[1], DIMS);
    memset(recs, 0, sizeof(recs));

    recs[0].id = "creator-a";
    recs[0].id_len = 9;
    recs[0].vec = vecs[0];
    recs[0].doc = mt_json_root(c);
    recs[1].id = "creator-b";
    recs[1].id_len = 9;
    recs[1].vec = vecs[1];

    mt_jw_init(&w);
    assert_int_equal(mt_pinecone_upsert_request(&w, recs, 2, DIMS, "ns1",
                                                err, sizeof(err)), 0);
    body = take(&w, &len);

    doc = parse_ok(body, len);
    root = mt_json_root(doc);
    vs = mt_json_get(root, "vectors");
    assert_int_equal(vs->u.array.n, 2);
    assert_string_equal(mt_json_get(root, "namespace")->u.string.s, "ns1");

    r = vs->u.array.items[0];
    assert_string_equal(mt_json_get(r, "id")->u.string.s, "creator-a");
    assert_string_equal(mt_json_get(mt_json_get(r, "metadata"),
                                    "region")->u.string.s, "UK");

    for (i = 0; i < DIMS; i++) {
        assert_true((float) mt_json_get(r, "values")->u.array.items[i]
                    ->u.number.d == vecs[0][i]);
    }

    r = vs->u.array.items[1];
    assert_string_equal(mt_json_get(r, "id")->u.string.s, "creator-b");
    assert_null(mt_json_get(r, "metadata"));

    mt_json_free(doc);
    free(body);

    /* records Pinecone refuses: named */
    memset(longid, 'x', sizeof(longid));
    recs[1].id = longid;
    recs[1].id_len = 513;
    mt_jw_init(&w);
    assert_int_equal(mt_pinecone_upsert_request(&w, recs, 2, DIMS, "", err,
                                                sizeof(err)), -1);
    assert_non_null(strstr(err, "record 1: the id"));
    mt_jw_free(&w);

    recs[1].id = "caf\xc3\xa9";
    recs[1].id_len = 5;
    assert_int_equal(mt_pinecone_upsert_request(&w, recs, 2, DIMS, "", err,
                                                sizeof(err)), -1);
    mt_jw_free(&w);

    memset(zero, 0, sizeof(zero));
    zero[3] = 1e-9f;
    recs[1].id = "b";
    recs[1].id_len = 1;
    recs[1].vec = zero;
    assert_int_equal(mt_pinecone_upsert_request(&w, recs, 2, DIMS, "", err,
                                                sizeof(err)), -1);
    assert_non_null(strstr(err, "record 1: the vector"));
    mt_jw_free(&w);

    assert_int_equal(mt_pinecone_upsert_request(&w, recs, 0, DIMS, "", err,
                                                sizeof(err)), -1);
    assert_int_equal(mt_pinecone_upsert_request(&w, recs, 1001, DIMS, "",
                                                err, sizeof(err)), -1);
    mt_jw_free(&w);

    mt_json_free(c);
}


/* the size of the upsert body of recs[0..n) */
static size_t
upsert_size(const mt_vec_record_t *recs, size_t n, unsigned dims)
{
    char     err[256];
    size_t   len;
    mt_jw_t  w;

    mt_jw_init(&w);
    assert_int_equal(mt_pinecone_upsert_request(&w, recs, n, dims, "ns",
                                                err, sizeof(err)), 0);
    len = w.len;
    mt_jw_free(&w);

    return len;
}


static void
test_upsert_batch(void **state)
{
    char             (*ids)[320], head[32];
    float            *vecs;
    size_t            i, k, n, len, excess, cut;
    unsigned          dims;
    mt_json_doc_t    *c;
    mt_vec_record_t  *recs;

    (void) state;

    n = 1500;
    dims = 1024;

    ids = malloc(n * sizeof(*ids));
    vecs = malloc(n * dims * sizeof(float));
    recs = calloc(n, sizeof(mt_vec_record_t));
    assert_non_null(ids);
    assert_non_null(vecs);
    assert_non_null(recs);

    c = parse_ok(S("{\"region\":\"US\",\"analysis\":{\"primaryNiches\":"
                   "[\"vegan cooking\",\"budget meals\"]}}"));

    /* ids of 300 bytes, to be shortened to the byte below */
    for (i = 0; i < n; i++) {
        len = (size_t) snprintf(head, sizeof(head), "creator-%zu-", i);
        memset(ids[i], 'x', 300);
        memcpy(ids[i], head, len);
        recs[i].id_len = 300;
        recs[i].id = ids[i];
        recs[i].vec = vecs + i * dims;
        recs[i].doc = mt_json_root(c);
        vec_for(i, vecs + i * dims, 4);
    }

    /* small records: 1000 vectors */
    assert_int_equal(mt_pinecone_upsert_batch(recs, n, 4, "ns"), 1000);
    assert_int_equal(mt_pinecone_upsert_batch(recs, 999, 4, "ns"), 999);
    assert_int_equal(mt_pinecone_upsert_batch(recs, 0, 4, "ns"), 0);

    /* large ones: as many as 2 MB hold */
    for (i = 0; i < n; i++) {
        vec_for(i, vecs + i * dims, dims);
    }

    k = mt_pinecone_upsert_batch(recs, n, dims, "ns");
    assert_true(k > 10 && k < 1000);
    assert_true(upsert_size(recs, k, dims) <= MT_PINECONE_BODY_MAX);
    assert_true(upsert_size(recs, k + 1, dims) > MT_PINECONE_BODY_MAX);

    /* exactly: ids shortened until k + 1 make 2,000,000 bytes, then one */
    excess = upsert_size(recs, k + 1, dims) - MT_PINECONE_BODY_MAX;

    for (i = 0; i <= k && excess > 0; i++) {
        cut = (excess < 250) ? excess : 250;
        recs[i].id_len -= cut;
        excess -= cut;
    }

    assert_int_equal(excess, 0);
    assert_int_equal(upsert_size(recs, k + 1, dims), MT_PINECONE_BODY_MAX);
    assert_int_equal(mt_pinecone_upsert_batch(recs, n, dims, "ns"), k + 1);

    recs[0].id_len++;
    assert_int_equal(mt_pinecone_upsert_batch(recs, n, dims, "ns"), k);

    /* a refused record ends a batch before it, and goes alone first */
    recs[5].id_len = 0;
    assert_int_equal(mt_pinecone_upsert_batch(recs, n, dims, "ns"), 5);
    assert_int_equal(mt_pinecone_upsert_batch(recs + 5, n - 5, dims, "ns"),
                     1);

    mt_json_free(c);
    free(recs);
    free(vecs);
    free(ids);
}


/* delete */

static void
test_delete_request(void **state)
{
    char       *body;
    mt_jw_t     w;
    mt_span_t   ids[2] = { { "a\"b", 3 }, { "creator-2", 9 } };

    (void) state;

    mt_jw_init(&w);
    assert_int_equal(mt_pinecone_delete_request(&w, ids, 2, "ns"), 0);
    body = take(&w, NULL);
    assert_string_equal(body, "{\"ids\":[\"a\\\"b\",\"creator-2\"],"
                        "\"namespace\":\"ns\"}");
    free(body);

    assert_int_equal(mt_pinecone_delete_request(&w, ids, 1, NULL), 0);
    body = take(&w, NULL);
    assert_string_equal(body, "{\"ids\":[\"a\\\"b\"]}");
    free(body);

    assert_int_equal(mt_pinecone_delete_request(&w, ids, 0, ""), -1);
    assert_int_equal(mt_pinecone_delete_request(&w, ids, 1001, ""), -1);
    mt_jw_free(&w);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_vec_pinecone_new),
        cmocka_unit_test(test_vec_request_filter),
        cmocka_unit_test(test_vec_request_forms),
        cmocka_unit_test(test_vec_reply),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_upsert_request),
        cmocka_unit_test(test_upsert_batch),
        cmocka_unit_test(test_delete_request),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for lib/ingest.c on the LMDB store: batch counts and
 * failures, change detection by content hash, the server-managed fields
 * across updates, NDJSON lines, the file shapes, whole-batch errors,
 * chunking and a full store.  Every test works in its own directory under
 * /tmp, removed at the end.  Run from the repository root (reads t/data/).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest.h"
#include "json.h"
#include "model.h"
#include "store.h"
#include "util.h"


#define MB        ((size_t) 1024 * 1024)

#define T1        1709210096789LL       /* 2024-02-29T12:34:56.789Z */
#define T1_STR    "2024-02-29T12:34:56.789Z"
#define T2        1795622824123LL       /* 2026-11-25T16:07:04.123Z */
#define T2_STR    "2026-11-25T16:07:04.123Z"
#define T3        (T2 + 1000)
#define T4        (T2 + 2000)

#define E_ACUTE   "\xc3\xa9"            /* é, raw UTF-8 */

#define READY     "{\"model\":\"test-model\",\"dimensions\":3," \
                  "\"textHash\":\"%s\",\"updatedAt\":\"" T1_STR "\"," \
                  "\"status\":\"ready\"}"

#define assert_counts(res, ins, upd, same, nf)                              \
    do {                                                                    \
        assert_int_equal((res)->inserted, (ins));                           \
        assert_int_equal((res)->updated, (upd));                            \
        assert_int_equal((res)->unchanged, (same));                         \
        assert_int_equal((res)->nfailed, (nf));                             \
        assert_int_equal((res)->count, (ins) + (upd) + (same));             \
    } while (0)


typedef struct {
    char                   *data;
    size_t                  len;
    size_t                  cap;
} sb_t;

/* one generated creator; strings are JSON string contents, escaped */
typedef struct {
    const char             *uid;
    const char             *bio;
    long long               followers;
    const char             *niche;
    const char             *summary;
    size_t                  pad;        /* bytes of an unknown "notes" */
    int                     reorder;    /* other member order, spaced */
    const char             *extra;      /* raw members, appended */
} cr_t;


static const mt_json_limits_t  limits = {
    .max_size = 64 * MB, .max_depth = 32, .max_string = 1 * MB
};


/* Helpers */





static int
fx_setup(void **state)
{
    *state = unit_fx_new("ingest", 256 * MB);

    return 0;
}


static void sb_add(sb_t *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void
sb_add(sb_t *b, const char *fmt, ...)
{
    int      n;
    char    *p;
    size_t   cap;
    va_list  args;

    if (fmt == NULL) {
        abort();
    }

    va_start(args, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    n = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    assert_true(n >= 0);

    if (b->len + (size_t) n + 1 > b->cap) {
        cap = b->cap ? b->cap : 256;

        while (cap < b->len + (size_t) n + 1) {
            cap *= 2;
        }

        p = realloc(b->data, cap);
        assert_non_null(p);
        b->data = p;
        b->cap = cap;
    }

    va_start(args, fmt);
    (void) vsnprintf(b->data + b->len, (size_t) n + 1, fmt, args);
    va_end(args);

    b->len += (size_t) n;
}


static void
sb_pad(sb_t *b, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        sb_add(b, "%c", (char) ('a' + i % 26));
    }
}


static char *
sb_take(sb_t *b)
{
    char  *s;

    if (b->data == NULL) {
        sb_add(b, "%s", "");
    }

    s = b->data;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;

    return s;
}


static cr_t
cr(const char *uid)
{
    cr_t  c;

    memset(&c, 0, sizeof(c));
    c.uid = uid;
    c.bio = "Caf" E_ACUTE " money talk.\\nWeekly \\\"tips\\\"";
    c.followers = 1000;
    c.niche = "Personal Finance";
    c.summary = "Explains budgets.";

    return c;
}


/* A valid creator as one line of JSON. */
static void
cr_add(sb_t *b, const cr_t *c)
{
    if (!c->reorder) {
        sb_add(b, "{\"uniqueId\":\"%s\",\"nickname\":\"Nick %s\","
               "\"bio\":\"%s\",\"followerCount\":%lld,\"region\":\"US\","
               "\"avatarUrl\":\"https://example.com/a/%s.jpg\","
               "\"verified\":false,\"analysis\":{\"summary\":\"%s\","
               "\"primaryNiches\":[\"%s\"],\"secondaryNiches\":[\"Cooking\"],"
               "\"apparentValues\":[\"Honesty\",\"Thrift\"],"
               "\"engagementStyle\":{\"tone\":[\"Calm\"],"
               "\"contentStyle\":\"short\"}},\"futureField\":[1,{\"x\":2}]",
               c->uid, c->uid, c->bio, c->followers, c->uid, c->summary,
               c->niche);

        if (c->pad) {
            sb_add(b, ",\"notes\":\"");
            sb_pad(b, c->pad);
            sb_add(b, "\"");
        }

    } else {
        /* the same creator as another client would write it */
        sb_add(b, "{ ");

        if (c->pad) {
            sb_add(b, "\"notes\" : \"");
            sb_pad(b, c->pad);
            sb_add(b, "\", ");
        }

        sb_add(b, "\"futureField\" : [1, {\"x\" : 2}], \"analysis\" : { "
               "\"engagementStyle\" : {\"contentStyle\" : \"short\", "
               "\"tone\" : [\"Calm\"]}, "
               "\"apparentValues\" : [\"Honesty\", \"Thrift\"], "
               "\"secondaryNiches\" : [\"Cooking\"], "
               "\"primaryNiches\" : [\"%s\"], \"summary\" : \"%s\" }, "
               "\"verified\" : false, "
               "\"avatarUrl\" : \"https:\\/\\/example.com\\/a\\/%s.jpg\", "
               "\"region\" : \"US\", \"followerCount\" : %lld, "
               "\"bio\" : \"%s\", \"nickname\" : \"Nick %s\", "
               "\"uniqueId\" : \"%s\"",
               c->niche, c->summary, c->uid, c->followers, c->bio, c->uid,
               c->uid);
    }

    if (c->extra) {
        sb_add(b, ",%s", c->extra);
    }

    sb_add(b, "}");
}


static char *
cr_json(const cr_t *c)
{
    sb_t  b;

    memset(&b, 0, sizeof(b));
    cr_add(&b, c);

    return sb_take(&b);
}


/* {"creators":[...]} of raw items */
static char *
batch(const char *const *items, size_t n)
{
    size_t  i;
    sb_t    b;

    memset(&b, 0, sizeof(b));
    sb_add(&b, "{\"creators\":[");

    for (i = 0; i < n; i++) {
        sb_add(&b, "%s%s", i ? "," : "", items[i]);
    }

    sb_add(&b, "]}");

    return sb_take(&b);
}


static int
ingest(mt_store_t *s, const char *data, mt_ingest_format_t format,
    int64_t now, mt_ingest_result_t *res)
{
    return mt_ingest(s, data, strlen(data), format, &limits, now, res);
}


/* ingests a JSON batch that must succeed */
static void
ingest_ok(mt_store_t *s, const char *data, mt_ingest_format_t format,
    int64_t now, mt_ingest_result_t *res)
{
    int  rc;

    rc = ingest(s, data, format, now, res);

    if (rc != 0) {
        print_error("ingest: status %d: %s\n", (int) res->status, res->error);
    }

    assert_int_equal(rc, 0);
    assert_int_equal(res->status, MT_INGEST_OK);
    assert_string_equal(res->error, "");
}


static size_t
stored(mt_store_t *s)
{
    size_t  n;

    assert_int_equal(s->ops->creator_count(s, &n), MT_STORE_OK);

    return n;
}


/* the stored document, malloc'd, or NULL when there is none */
static char *
get_doc(mt_store_t *s, const char *uid)
{
    mt_text_t      t;
    mt_store_rc_t  rc;

    rc = s->ops->creator_get(s, uid, strlen(uid), &t, NULL);

    if (rc == MT_STORE_NOT_FOUND) {
        assert_null(t.data);
        return NULL;
    }

    assert_int_equal(rc, MT_STORE_OK);
    assert_int_equal(strlen(t.data), t.len);

    return t.data;
}


static mt_creator_stamp_t
get_stamp(mt_store_t *s, const char *uid)
{
    mt_creator_stamp_t  st;

    memset(&st, 0, sizeof(st));
    assert_int_equal(s->ops->creator_get(s, uid, strlen(uid), NULL, &st),
                     MT_STORE_OK);

    return st;
}


/*
 * A member of a document by dotted path, malloc'd: a string's contents,
 * anything else as JSON; NULL when missing.
 */
static char *
field(const char *doc, const char *path)
{
    char              key[64], *out;
    size_t            len;
    mt_jw_t           w;
    const char       *p, *dot;
    mt_json_err_t     err;
    mt_json_doc_t    *d;
    const mt_json_t  *v;

    d = mt_json_parse(doc, strlen(doc), NULL, &err, NULL, 0);
    assert_non_null(d);

    v = mt_json_root(d);

    for (p = path; v != NULL; p = dot + 1) {
        dot = strchr(p, '.');
        len = dot ? (size_t) (dot - p) : strlen(p);
        assert_true(len < sizeof(key));
        memcpy(key, p, len);
        key[len] = '\0';

        v = mt_json_get(v, key);

        if (dot == NULL) {
            break;
        }
    }

    out = NULL;

    if (v != NULL && v->type == MT_JSON_STRING) {
        out = strdup(v->u.string.s);
        assert_non_null(out);

    } else if (v != NULL) {
        mt_jw_init(&w);
        mt_jw_value(&w, v);
        out = mt_jw_take(&w, &len);
        assert_non_null(out);
    }

    mt_json_free(d);

    return out;
}


/* a member of a stored creator, as field() */
static char *
sfield(mt_store_t *s, const char *uid, const char *path)
{
    char  *doc, *v;

    doc = get_doc(s, uid);
    assert_non_null(doc);
    v = field(doc, path);
    free(doc);

    return v;
}


static void
assert_field(mt_store_t *s, const char *uid, const char *path,
    const char *want)
{
    char  *v;

    v = sfield(s, uid, path);

    if (want == NULL) {
        assert_null(v);
        return;
    }

    assert_non_null(v);
    assert_string_equal(v, want);
    free(v);
}


static void
assert_failure(const mt_ingest_result_t *res, size_t i, size_t index,
    const char *uid, const char *error_part)
{
    assert_true(i < res->nfailed);
    assert_int_equal(res->failed[i].index, index);
    assert_string_equal(res->failed[i].unique_id, uid);

    if (strstr(res->failed[i].error, error_part) == NULL) {
        print_error("failure %zu: \"%s\" lacks \"%s\"\n", i,
                    res->failed[i].error, error_part);
        fail();
    }
}


static void
write_file(const char *path, const char *data)
{
    FILE  *f;

    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
    assert_int_equal(fclose(f), 0);
}


/*
 * Stores a creator as the embeddings refresh would leave it: the ingested
 * document with a "ready" embedding for its current text.
 */
static void
set_ready(mt_store_t *s, const char *input)
{
    char                 *doc, *emb, hex[17];
    sb_t                  b;
    mt_errs_t             errs;
    mt_json_err_t         err;
    mt_json_doc_t        *in;
    mt_creator_put_t      put;
    mt_creator_meta_t     meta;
    mt_creator_stamp_t    st;

    in = mt_json_parse(input, strlen(input), NULL, &err, NULL, 0);
    assert_non_null(in);

    mt_errs_init(&errs);
    assert_int_equal(mt_creator_validate(mt_json_root(in), &meta, &errs), 0);
    mt_errs_free(&errs);

    doc = get_doc(s, meta.unique_id);
    assert_non_null(doc);
    st = get_stamp(s, meta.unique_id);
    assert_true(st.text_hash == meta.text_hash);

    /* the embedding is the document's last member */
    emb = strstr(doc, ",\"embedding\":{");
    assert_non_null(emb);
    assert_null(strstr(emb + 1, ",\"embedding\":{"));

    (void) snprintf(hex, sizeof(hex), "%016" PRIx64, meta.text_hash);

    memset(&b, 0, sizeof(b));
    sb_add(&b, "%.*s,\"embedding\":" READY "}", (int) (emb - doc), doc, hex);

    put.meta = &meta;
    put.doc = b.data;
    put.doc_len = b.len;

    assert_int_equal(s->ops->creator_put_batch(s, &put, 1), MT_STORE_OK);

    free(b.data);
    free(doc);
    mt_creator_meta_free(&meta);
    mt_json_free(in);
}


/* Tests */

static void
test_json_counts(void **state)
{
    fx_t                *fx = *state;
    char                *items[8], *data, *v;
    sb_t                 b;
    size_t               i;
    cr_t                 c;
    mt_ingest_result_t   res;

    c = cr("alpha");
    items[0] = cr_json(&c);
    c = cr("beta");
    items[1] = cr_json(&c);
    c = cr("search");
    items[2] = cr_json(&c);
    items[3] = strdup("{\"nickname\":\"no id\",\"bio\":\"b\"}");
    items[4] = strdup("42");
    c = cr("gamma");
    items[5] = cr_json(&c);
    items[6] = strdup("{\"uniqueId\":7}");
    items[7] = strdup("{\"uniqueId\":\"x\",\"nickname\":\"\"}");

    data = batch((const char *const *) items, 8);
    ingest_ok(fx->s, data, MT_INGEST_JSON, T1, &res);

    assert_counts(&res, 3, 0, 0, 5);
    assert_failure(&res, 0, 2, "search", "uniqueId");
    assert_failure(&res, 1, 3, "", "uniqueId: is required");
    assert_failure(&res, 2, 4, "", "must be a JSON object");
    assert_failure(&res, 3, 6, "", "uniqueId");
    assert_failure(&res, 4, 7, "x", "nickname");
    assert_int_equal(stored(fx->s), 3);

    /* every failing field, and the uniqueId even of an invalid creator */
    assert_true(strstr(res.failed[1].error, "followerCount") != NULL);
    assert_null(get_doc(fx->s, "search"));

    mt_ingest_result_free(&res);
    assert_null(res.failed);
    assert_int_equal(res.nfailed, 0);
    free(data);

    for (i = 0; i < 8; i++) {
        free(items[i]);
    }

    /* unchanged, updated, inserted and failed in one batch */
    c = cr("alpha");
    items[0] = cr_json(&c);
    c = cr("beta");
    c.followers = 2000;
    items[1] = cr_json(&c);
    c = cr("delta");
    items[2] = cr_json(&c);
    c = cr("bad id!");
    items[3] = cr_json(&c);

    memset(&b, 0, sizeof(b));
    sb_pad(&b, 150);
    c = cr(b.data);
    items[4] = cr_json(&c);
    free(b.data);

    data = batch((const char *const *) items, 5);
    ingest_ok(fx->s, data, MT_INGEST_JSON, T2, &res);

    assert_counts(&res, 1, 1, 1, 2);
    assert_failure(&res, 0, 3, "bad id!", "uniqueId");
    assert_int_equal(strlen(res.failed[1].unique_id), MT_UNIQUE_ID_MAX);
    assert_int_equal(res.failed[1].index, 4);
    assert_int_equal(stored(fx->s), 4);

    v = sfield(fx->s, "beta", "followerCount");
    assert_string_equal(v, "2000");
    free(v);

    mt_ingest_result_free(&res);
    free(data);

    for (i = 0; i < 5; i++) {
        free(items[i]);
    }

    /* an empty batch */
    ingest_ok(fx->s, "{\"creators\":[]}", MT_INGEST_JSON, T3, &res);
    assert_counts(&res, 0, 0, 0, 0);
    mt_ingest_result_free(&res);
}


static void
test_same_batch_twice(void **state)
{
    fx_t                *fx = *state;
    char                *items[5], *docs[5], *data, *doc, uid[16];
    size_t               i;
    sb_t                 nd;
    cr_t                 c;
    mt_ingest_result_t   res;

    memset(&nd, 0, sizeof(nd));

    for (i = 0; i < 5; i++) {
        (void) snprintf(uid, sizeof(uid), "twice-%zu", i);
        c = cr(uid);
        c.followers = (long long) i;
        c.pad = i * 100;
        items[i] = cr_json(&c);
        sb_add(&nd, "%s\n", items[i]);
    }

    data = batch((const char *const *) items, 5);

    ingest_ok(fx->s, data, MT_INGEST_JSON, T1, &res);
    assert_counts(&res, 5, 0, 0, 0);
    mt_ingest_result_free(&res);

    for (i = 0; i < 5; i++) {
        (void) snprintf(uid, sizeof(uid), "twice-%zu", i);
        docs[i] = get_doc(fx->s, uid);
        assert_non_null(docs[i]);
    }

    /* later, as JSON and as NDJSON: nothing is written */
    ingest_ok(fx->s, data, MT_INGEST_JSON, T2, &res);
    assert_counts(&res, 0, 0, 5, 0);
    mt_ingest_result_free(&res);

    ingest_ok(fx->s, nd.data, MT_INGEST_NDJSON, T3, &res);
    assert_counts(&res, 0, 0, 5, 0);
    mt_ingest_result_free(&res);

    for (i = 0; i < 5; i++) {
        (void) snprintf(uid, sizeof(uid), "twice-%zu", i);
        doc = get_doc(fx->s, uid);
        assert_string_equal(doc, docs[i]);
        assert_null(strstr(doc, T2_STR));
        free(doc);
        free(docs[i]);
        free(items[i]);
    }

    assert_int_equal(stored(fx->s), 5);

    free(nd.data);
    free(data);
}


static void
test_key_order(void **state)
{
    fx_t                *fx = *state;
    char                *a, *b, *doc1, *doc2, *data;
    cr_t                 c;
    mt_ingest_result_t   res;

    c = cr("ordered");
    c.pad = 300;
    a = cr_json(&c);

    /* other order at every level, spaces, "\/" and "\u00e9" escapes */
    c.reorder = 1;
    c.bio = "Caf\\u00e9 money talk.\\nWeekly \\\"tips\\\"";
    b = cr_json(&c);
    assert_string_not_equal(a, b);

    data = batch((const char *const *) &a, 1);
    ingest_ok(fx->s, data, MT_INGEST_JSON, T1, &res);
    assert_counts(&res, 1, 0, 0, 0);
    mt_ingest_result_free(&res);
    free(data);

    doc1 = get_doc(fx->s, "ordered");

    data = batch((const char *const *) &b, 1);
    ingest_ok(fx->s, data, MT_INGEST_JSON, T2, &res);
    assert_counts(&res, 0, 0, 1, 0);
    mt_ingest_result_free(&res);
    free(data);

    ingest_ok(fx->s, b, MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 0, 0, 1, 0);
    mt_ingest_result_free(&res);

    doc2 = get_doc(fx->s, "ordered");
    assert_string_equal(doc1, doc2);

    free(doc1);
    free(doc2);
    free(a);
    free(b);
}


static void
test_text_change(void **state)
{
    fx_t                *fx = *state;
    char                *a, *hash1, *hash2, *hash3, *hash4, hex[17];
    cr_t                 c;
    mt_ingest_result_t   res;
    mt_creator_stamp_t   st;

    c = cr("texty");
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T1, &res);
    assert_counts(&res, 1, 0, 0, 0);
    mt_ingest_result_free(&res);
    free(a);

    assert_field(fx->s, "texty", "embedding.status", "pending");
    assert_field(fx->s, "texty", "embedding.model", "null");
    assert_field(fx->s, "texty", "embedding.dimensions", "0");
    assert_field(fx->s, "texty", "embedding.updatedAt", "null");

    hash1 = sfield(fx->s, "texty", "embedding.textHash");
    st = get_stamp(fx->s, "texty");
    (void) snprintf(hex, sizeof(hex), "%016" PRIx64, st.text_hash);
    assert_string_equal(hash1, hex);

    /* the bio is embedded */
    c.bio = "A new bio";
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 0, 1, 0, 0);
    mt_ingest_result_free(&res);
    free(a);

    assert_field(fx->s, "texty", "bio", "A new bio");
    assert_field(fx->s, "texty", "embedding.status", "pending");
    hash2 = sfield(fx->s, "texty", "embedding.textHash");
    assert_string_not_equal(hash1, hash2);
    st = get_stamp(fx->s, "texty");
    (void) snprintf(hex, sizeof(hex), "%016" PRIx64, st.text_hash);
    assert_string_equal(hash2, hex);

    /* so are the niches */
    c.niche = "Gardening";
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T3, &res);
    assert_counts(&res, 0, 1, 0, 0);
    mt_ingest_result_free(&res);
    free(a);

    hash3 = sfield(fx->s, "texty", "embedding.textHash");
    assert_string_not_equal(hash2, hash3);

    /* the summary is not (lib/model.h: bio, niches, values) */
    c.summary = "Another summary.";
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T4, &res);
    assert_counts(&res, 0, 1, 0, 0);
    mt_ingest_result_free(&res);
    free(a);

    assert_field(fx->s, "texty", "analysis.summary", "Another summary.");
    hash4 = sfield(fx->s, "texty", "embedding.textHash");
    assert_string_equal(hash3, hash4);

    free(hash1);
    free(hash2);
    free(hash3);
    free(hash4);
}


static void
test_embedding_kept(void **state)
{
    fx_t                *fx = *state;
    char                *a, *emb1, *emb2, *hash, *hash2, *doc1, *doc2;
    char                 want[256], hex[17];
    cr_t                 c;
    mt_ingest_result_t   res;

    c = cr("keeper");
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T1, &res);
    mt_ingest_result_free(&res);
    free(a);

    emb1 = sfield(fx->s, "keeper", "embedding");
    hash = sfield(fx->s, "keeper", "embedding.textHash");

    /* followerCount is not embedded: the embedding stays as it was */
    c.followers = 5000;
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 0, 1, 0, 0);
    mt_ingest_result_free(&res);

    assert_field(fx->s, "keeper", "followerCount", "5000");
    assert_field(fx->s, "keeper", "updatedAt", T2_STR);
    emb2 = sfield(fx->s, "keeper", "embedding");
    assert_string_equal(emb1, emb2);
    free(emb2);

    /* the embeddings refresh made it ready; ingest keeps it ready */
    set_ready(fx->s, a);
    free(a);

    (void) snprintf(want, sizeof(want), READY, hash);
    assert_field(fx->s, "keeper", "embedding", want);

    doc1 = get_doc(fx->s, "keeper");

    c.followers = 5000;
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T3, &res);
    assert_counts(&res, 0, 0, 1, 0);
    mt_ingest_result_free(&res);
    free(a);

    doc2 = get_doc(fx->s, "keeper");
    assert_string_equal(doc1, doc2);
    free(doc1);
    free(doc2);

    c.followers = 6000;
    c.pad = 10;
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T3, &res);
    assert_counts(&res, 0, 1, 0, 0);
    mt_ingest_result_free(&res);
    free(a);

    assert_field(fx->s, "keeper", "followerCount", "6000");
    assert_field(fx->s, "keeper", "embedding", want);

    /* the text changed: pending again, for the new text */
    c.bio = "Changed";
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T4, &res);
    assert_counts(&res, 0, 1, 0, 0);
    mt_ingest_result_free(&res);
    free(a);

    assert_field(fx->s, "keeper", "embedding.status", "pending");
    assert_field(fx->s, "keeper", "embedding.model", "null");
    hash2 = sfield(fx->s, "keeper", "embedding.textHash");
    assert_string_not_equal(hash, hash2);
    (void) snprintf(hex, sizeof(hex), "%016" PRIx64,
                    get_stamp(fx->s, "keeper").text_hash);
    assert_string_equal(hash2, hex);

    free(hash);
    free(hash2);
    free(emb1);
}


static void
test_created_at(void **state)
{
    fx_t                *fx = *state;
    char                *a, *doc;
    cr_t                 c;
    mt_ingest_result_t   res;

    c = cr("timely");
    c.extra = "\"createdAt\":\"1999-01-01T00:00:00.000Z\","
              "\"updatedAt\":\"1999-01-02T00:00:00.000Z\","
              "\"embedding\":{\"status\":\"ready\",\"model\":\"sent\"}";
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T1, &res);
    assert_counts(&res, 1, 0, 0, 0);
    mt_ingest_result_free(&res);
    free(a);

    assert_field(fx->s, "timely", "createdAt", T1_STR);
    assert_field(fx->s, "timely", "updatedAt", T1_STR);
    assert_field(fx->s, "timely", "embedding.status", "pending");
    assert_field(fx->s, "timely", "embedding.model", "null");

    doc = get_doc(fx->s, "timely");
    assert_null(strstr(doc, "1999"));
    assert_null(strstr(doc, "sent"));
    free(doc);

    /* other server fields alone are no change */
    c.extra = "\"createdAt\":\"2001-01-01T00:00:00.000Z\"";
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 0, 0, 1, 0);
    mt_ingest_result_free(&res);
    free(a);

    assert_field(fx->s, "timely", "updatedAt", T1_STR);

    c.followers = 1;
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 0, 1, 0, 0);
    mt_ingest_result_free(&res);
    free(a);

    assert_field(fx->s, "timely", "createdAt", T1_STR);
    assert_field(fx->s, "timely", "updatedAt", T2_STR);

    doc = get_doc(fx->s, "timely");
    assert_null(strstr(doc, "2001"));
    free(doc);

    /* unchanged: updatedAt stays */
    c.extra = NULL;
    a = cr_json(&c);
    ingest_ok(fx->s, a, MT_INGEST_NDJSON, T3, &res);
    assert_counts(&res, 0, 0, 1, 0);
    mt_ingest_result_free(&res);
    free(a);

    assert_field(fx->s, "timely", "createdAt", T1_STR);
    assert_field(fx->s, "timely", "updatedAt", T2_STR);
}


static void
test_duplicate_in_batch(void **state)
{
    fx_t                *fx = *state;
    char                *items[3], *data;
    size_t               i;
    cr_t                 c;
    mt_ingest_result_t   res;

    /* the last one wins */
    c = cr("twin");
    c.followers = 1;
    items[0] = cr_json(&c);
    c.followers = 2;
    c.bio = "Second";
    items[1] = cr_json(&c);

    data = batch((const char *const *) items, 2);
    ingest_ok(fx->s, data, MT_INGEST_JSON, T1, &res);
    assert_counts(&res, 1, 1, 0, 0);
    mt_ingest_result_free(&res);
    free(data);

    assert_int_equal(stored(fx->s), 1);
    assert_field(fx->s, "twin", "followerCount", "2");
    assert_field(fx->s, "twin", "bio", "Second");
    assert_field(fx->s, "twin", "createdAt", T1_STR);

    /* both again, later: the first is a change, the second one back */
    data = batch((const char *const *) items, 2);
    ingest_ok(fx->s, data, MT_INGEST_JSON, T2, &res);
    assert_counts(&res, 0, 2, 0, 0);
    mt_ingest_result_free(&res);
    free(data);

    assert_field(fx->s, "twin", "followerCount", "2");
    assert_field(fx->s, "twin", "createdAt", T1_STR);

    for (i = 0; i < 2; i++) {
        free(items[i]);
    }

    /* the same twice: the second sees the first */
    c = cr("copy");
    items[0] = cr_json(&c);
    c = cr("other");
    items[1] = cr_json(&c);
    c = cr("copy");
    items[2] = cr_json(&c);

    data = batch((const char *const *) items, 3);
    ingest_ok(fx->s, data, MT_INGEST_JSON, T1, &res);
    assert_counts(&res, 2, 0, 1, 0);
    mt_ingest_result_free(&res);
    free(data);

    for (i = 0; i < 3; i++) {
        free(items[i]);
    }

    /* an invalid first one does not count */
    items[0] = strdup("{\"uniqueId\":\"late\",\"nickname\":\"x\"}");
    c = cr("late");
    items[1] = cr_json(&c);

    data = batch((const char *const *) items, 2);
    ingest_ok(fx->s, data, MT_INGEST_JSON, T1, &res);
    assert_counts(&res, 1, 0, 0, 1);
    assert_failure(&res, 0, 0, "late", "bio");
    mt_ingest_result_free(&res);
    free(data);

    for (i = 0; i < 2; i++) {
        free(items[i]);
    }

    assert_int_equal(stored(fx->s), 4);
}


static void
test_ndjson(void **state)
{
    fx_t                *fx = *state;
    char                *data;
    sb_t                 b;
    cr_t                 c;
    mt_ingest_result_t   res;

    memset(&b, 0, sizeof(b));

    c = cr("nd-a");
    cr_add(&b, &c);                         /* 0 */
    sb_add(&b, "\n\n   \t\r\n");
    c = cr("nd-b");
    cr_add(&b, &c);                         /* 1 */
    sb_add(&b, "\r\n{not json\r\n\r\n");    /* 2 */
    sb_add(&b, "  [1,2]\n");                /* 3 */
    c = cr("nd-c");
    c.followers = -1;
    cr_add(&b, &c);                         /* 4 */
    sb_add(&b, "\n\t");
    c = cr("nd-d");
    c.reorder = 1;
    cr_add(&b, &c);                         /* 5, no newline */

    data = sb_take(&b);
    ingest_ok(fx->s, data, MT_INGEST_NDJSON, T1, &res);
    assert_counts(&res, 3, 0, 0, 3);
    assert_failure(&res, 0, 2, "", "invalid JSON");
    assert_failure(&res, 1, 3, "", "must be a JSON object");
    assert_failure(&res, 2, 4, "nd-c", "followerCount");
    mt_ingest_result_free(&res);

    assert_int_equal(stored(fx->s), 3);
    assert_null(get_doc(fx->s, "nd-c"));
    assert_field(fx->s, "nd-b", "bio",
                 "Caf" E_ACUTE " money talk.\nWeekly \"tips\"");
    assert_field(fx->s, "nd-d", "nickname", "Nick nd-d");

    /* the same lines with CRLF everywhere and a final CR: unchanged */
    memset(&b, 0, sizeof(b));
    c = cr("nd-a");
    cr_add(&b, &c);
    sb_add(&b, "\r\n");
    c = cr("nd-b");
    cr_add(&b, &c);
    sb_add(&b, "\r\n");
    c = cr("nd-d");
    cr_add(&b, &c);
    sb_add(&b, "\r");

    free(data);
    data = sb_take(&b);
    ingest_ok(fx->s, data, MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 0, 0, 3, 0);
    mt_ingest_result_free(&res);
    free(data);

    /* nothing but blank lines, or nothing at all */
    ingest_ok(fx->s, "\n\r\n \t \n\n", MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 0, 0, 0, 0);
    mt_ingest_result_free(&res);

    ingest_ok(fx->s, "", MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 0, 0, 0, 0);
    mt_ingest_result_free(&res);

    /* a line past the limits fails alone; a body {"creators"} is a line */
    memset(&b, 0, sizeof(b));
    sb_add(&b, "{\"a\":%s1%s}\n", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
           "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    sb_add(&b, "{\"creators\":[]}\n");
    c = cr("nd-e");
    cr_add(&b, &c);
    sb_add(&b, "\n\"just a string\"\nnull\n");

    data = sb_take(&b);
    ingest_ok(fx->s, data, MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 1, 0, 0, 4);
    assert_failure(&res, 0, 0, "", "nesting");
    assert_failure(&res, 1, 1, "", "uniqueId");
    assert_failure(&res, 2, 3, "", "must be a JSON object");
    assert_failure(&res, 3, 4, "", "must be a JSON object");
    mt_ingest_result_free(&res);
    free(data);

    assert_int_equal(stored(fx->s), 4);
}


static void
test_file_shapes(void **state)
{
    fx_t                *fx = *state;
    char                *a[3], *data, path[128];
    size_t               i, shape;
    cr_t                 c;
    sb_t                 b;
    mt_ingest_result_t   res;

    static const char  *ids[3][3] = {
        { "wrap-a", "wrap-b", "wrap-c" },
        { "arr-a", "arr-b", "arr-c" },
        { "key-a", "key-b", "key-c" }
    };

    for (shape = 0; shape < 3; shape++) {
        for (i = 0; i < 3; i++) {
            c = cr(ids[shape][i]);
            a[i] = cr_json(&c);
        }

        memset(&b, 0, sizeof(b));

        switch (shape) {

        case 0:
            data = batch((const char *const *) a, 3);
            break;

        case 1:
            sb_add(&b, "[%s,\n%s,\n%s]\n", a[0], a[1], a[2]);
            data = sb_take(&b);
            break;

        default:
            sb_add(&b, "{\"%s\": %s,\n\"%s\": %s,\n\"%s\": %s}", ids[2][0],
                   a[0], ids[2][1], a[1], ids[2][2], a[2]);
            data = sb_take(&b);
            break;
        }

        ingest_ok(fx->s, data, MT_INGEST_FILE, T1, &res);
        assert_counts(&res, 3, 0, 0, 0);
        mt_ingest_result_free(&res);

        assert_field(fx->s, ids[shape][2], "uniqueId", ids[shape][2]);

        /* the same from a file: unchanged */
        (void) snprintf(path, sizeof(path), "%s/shape%zu.json", fx->dir,
                        shape);
        write_file(path, data);

        assert_int_equal(mt_ingest_file(fx->s, path, &limits, T2, &res), 0);
        assert_int_equal(res.status, MT_INGEST_OK);
        assert_counts(&res, 0, 0, 3, 0);
        mt_ingest_result_free(&res);

        free(data);

        for (i = 0; i < 3; i++) {
            free(a[i]);
        }
    }

    assert_int_equal(stored(fx->s), 9);

    /* empty ones, and one invalid creator among valid ones */
    ingest_ok(fx->s, "[]", MT_INGEST_FILE, T2, &res);
    assert_counts(&res, 0, 0, 0, 0);
    mt_ingest_result_free(&res);

    ingest_ok(fx->s, "{}", MT_INGEST_FILE, T2, &res);
    assert_counts(&res, 0, 0, 0, 0);
    mt_ingest_result_free(&res);

    ingest_ok(fx->s, " {\"creators\": []} ", MT_INGEST_FILE, T2, &res);
    assert_counts(&res, 0, 0, 0, 0);
    mt_ingest_result_free(&res);

    c = cr("key-d");
    a[0] = cr_json(&c);
    memset(&b, 0, sizeof(b));
    sb_add(&b, "{\"key-e\":{\"uniqueId\":\"key-e\"},\"key-d\":%s}", a[0]);
    data = sb_take(&b);

    ingest_ok(fx->s, data, MT_INGEST_FILE, T2, &res);
    assert_counts(&res, 1, 0, 0, 1);
    assert_failure(&res, 0, 0, "key-e", "nickname");
    mt_ingest_result_free(&res);
    free(data);

    memset(&b, 0, sizeof(b));
    sb_add(&b, "[7,%s]", a[0]);
    data = sb_take(&b);

    ingest_ok(fx->s, data, MT_INGEST_FILE, T2, &res);
    assert_counts(&res, 0, 0, 1, 1);
    assert_failure(&res, 0, 0, "", "must be a JSON object");
    mt_ingest_result_free(&res);
    free(data);
    free(a[0]);

    /* the sample creators, keyed by uniqueId */
    if (access("t/data/creators.json", R_OK) != 0) {
        print_message("t/data/creators.json: not found, skipped\n");
        return;
    }

    assert_int_equal(mt_ingest_file(fx->s, "t/data/creators.json", &limits,
                                    T1, &res), 0);
    assert_counts(&res, 17, 0, 0, 0);
    mt_ingest_result_free(&res);

    assert_int_equal(mt_ingest_file(fx->s, "t/data/creators.json", &limits,
                                    T2, &res), 0);
    assert_counts(&res, 0, 0, 17, 0);
    mt_ingest_result_free(&res);

    assert_int_equal(stored(fx->s), 27);
    assert_field(fx->s, "mindsovermoney", "nickname", "Alex R.");
    assert_field(fx->s, "mindsovermoney", "createdAt", T1_STR);
}


static void
test_bad_shape(void **state)
{
    fx_t                *fx = *state;
    char                *a, *data;
    size_t               i;
    cr_t                 c;
    sb_t                 b;
    mt_ingest_result_t   res;

    static const char  *json[] = {
        "[]", "{}", "{\"people\":[]}", "{\"creators\":{}}",
        "{\"creators\":null}", "{\"creators\":\"[]\"}", "42", "\"x\"",
        "null", "true", NULL   /* [creator] */
    };

    static const char  *file[] = {
        "42", "\"x\"", "null", "false",
        "{\"creators\":7}", "{\"a\":[]}", "{\"a\":{},\"b\":1}"
    };

    c = cr("shape");
    a = cr_json(&c);

    for (i = 0; i < sizeof(json) / sizeof(json[0]); i++) {
        memset(&b, 0, sizeof(b));
        sb_add(&b, "%s", json[i] ? json[i] : "[");

        if (json[i] == NULL) {
            sb_add(&b, "%s]", a);
        }

        data = sb_take(&b);

        assert_int_equal(ingest(fx->s, data, MT_INGEST_JSON, T1, &res), -1);
        assert_int_equal(res.status, MT_INGEST_BAD_SHAPE);
        assert_true(strstr(res.error, "creators") != NULL);
        assert_counts(&res, 0, 0, 0, 0);
        assert_null(res.failed);
        mt_ingest_result_free(&res);
        free(data);
    }

    for (i = 0; i < sizeof(file) / sizeof(file[0]); i++) {
        assert_int_equal(ingest(fx->s, file[i], MT_INGEST_FILE, T1, &res),
                         -1);
        assert_int_equal(res.status, MT_INGEST_BAD_SHAPE);
        assert_string_not_equal(res.error, "");
        assert_counts(&res, 0, 0, 0, 0);
        mt_ingest_result_free(&res);
    }

    /* keyed by uniqueId, a creator may be called "creators" */
    assert_int_equal(ingest(fx->s, "{\"creators\":{}}", MT_INGEST_FILE, T1,
                            &res), 0);
    assert_int_equal(res.nfailed, 1);
    mt_ingest_result_free(&res);

    assert_int_equal(stored(fx->s), 0);
    free(a);
}


static void
test_bad_json(void **state)
{
    fx_t                *fx = *state;
    char                *a, *data;
    size_t               i, f;
    cr_t                 c;
    sb_t                 b;
    mt_ingest_result_t   res;

    static const char  *bad[] = {
        "", "   ", "{", "{\"creators\":[", "{\"creators\":[]} x",
        "{\"creators\":[]}{}", "{'creators':[]}", "{\"creators\":[\"\xff\"]}",
        "{\"creators\":[01]}", "{\"creators\":[]} \"abc",
        "{\"creators\":[{\"a\":\"\\udc00\"}]}", "{\"creators\":\f[]}",
        NULL   /* a valid creator, then a cut */
    };

    static const mt_ingest_format_t  formats[] = {
        MT_INGEST_JSON, MT_INGEST_FILE
    };

    c = cr("broken");
    a = cr_json(&c);

    for (f = 0; f < 2; f++) {
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            memset(&b, 0, sizeof(b));

            if (bad[i] == NULL) {
                sb_add(&b, "{\"creators\":[%s,{\"uniqueId\":", a);

            } else {
                sb_add(&b, "%s", bad[i]);
            }

            data = sb_take(&b);

            assert_int_equal(ingest(fx->s, data, formats[f], T1, &res), -1);
            assert_int_equal(res.status, MT_INGEST_BAD_JSON);
            assert_string_not_equal(res.error, "");
            assert_counts(&res, 0, 0, 0, 0);
            assert_null(res.failed);
            mt_ingest_result_free(&res);
            free(data);
        }
    }

    /* nothing of a batch that does not parse is written */
    assert_int_equal(stored(fx->s), 0);
    free(a);
}


static void
test_file_io(void **state)
{
    fx_t                *fx = *state;
    char                 path[128];
    mt_ingest_result_t   res;

    (void) snprintf(path, sizeof(path), "%s/no/such.json", fx->dir);

    assert_int_equal(mt_ingest_file(fx->s, path, &limits, T1, &res), -1);
    assert_int_equal(res.status, MT_INGEST_IO);
    assert_true(strstr(res.error, path) != NULL);
    assert_true(strstr(res.error, "No such file") != NULL);
    assert_counts(&res, 0, 0, 0, 0);
    assert_null(res.failed);
    mt_ingest_result_free(&res);

    /* an empty file is read, and is not JSON */
    (void) snprintf(path, sizeof(path), "%s/empty.json", fx->dir);
    write_file(path, "");

    assert_int_equal(mt_ingest_file(fx->s, path, &limits, T1, &res), -1);
    assert_int_equal(res.status, MT_INGEST_BAD_JSON);
    mt_ingest_result_free(&res);

    assert_int_equal(stored(fx->s), 0);
}


#define BIG  2500

static char *
big_batch(int ndjson, long long base, int dups)
{
    char    uid[32];
    size_t  i, n;
    sb_t    b;
    cr_t    c;

    memset(&b, 0, sizeof(b));

    if (!ndjson) {
        sb_add(&b, "{\"creators\":[");
    }

    for (i = 0; i < BIG; i++) {
        n = i;

        /* 1500 repeats 1200 (one chunk); 2100 repeats 10 (chunk 1) */
        if (dups && i == 1500) {
            n = 1200;

        } else if (dups && i == 2100) {
            n = 10;
        }

        (void) snprintf(uid, sizeof(uid), "gen-%05zu", n);
        c = cr(uid);
        c.followers = base + (long long) i;
        c.pad = 100 + i % 200;

        if (!ndjson && i > 0) {
            sb_add(&b, ",");
        }

        cr_add(&b, &c);

        if (ndjson) {
            sb_add(&b, "\n");
        }
    }

    if (!ndjson) {
        sb_add(&b, "]}");
    }

    return sb_take(&b);
}


static void
test_big_batch(void **state)
{
    fx_t                *fx = *state;
    char                *data;
    mt_ingest_result_t   res;

    data = big_batch(0, 0, 0);
    ingest_ok(fx->s, data, MT_INGEST_JSON, T1, &res);
    assert_counts(&res, BIG, 0, 0, 0);
    mt_ingest_result_free(&res);
    free(data);

    assert_int_equal(stored(fx->s), BIG);
    assert_field(fx->s, "gen-00000", "followerCount", "0");
    assert_field(fx->s, "gen-00999", "followerCount", "999");
    assert_field(fx->s, "gen-01000", "followerCount", "1000");
    assert_field(fx->s, "gen-02499", "followerCount", "2499");

    data = big_batch(1, 0, 0);
    ingest_ok(fx->s, data, MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 0, 0, BIG, 0);
    mt_ingest_result_free(&res);
    free(data);

    /* all changed, two of them twice: the last one wins */
    data = big_batch(1, 10000, 1);
    ingest_ok(fx->s, data, MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 0, BIG, 0, 0);
    mt_ingest_result_free(&res);
    free(data);

    assert_int_equal(stored(fx->s), BIG);
    assert_field(fx->s, "gen-01200", "followerCount", "11500");
    assert_field(fx->s, "gen-00010", "followerCount", "12100");
    assert_field(fx->s, "gen-01500", "followerCount", "1500");
    assert_field(fx->s, "gen-02100", "followerCount", "2100");
    assert_field(fx->s, "gen-02499", "followerCount", "12499");
    assert_field(fx->s, "gen-02499", "createdAt", T1_STR);
    assert_field(fx->s, "gen-02499", "updatedAt", T2_STR);
}


/* 1 MB, creators of ~30 KB: the first chunk does not fit */
static void
test_store_full(void **state)
{
    fx_t                *fx = *state;
    char                 dir[128], uid[32], *data;
    size_t               i;
    sb_t                 b;
    cr_t                 c;
    mt_store_t          *s;
    mt_ingest_result_t   res;

    (void) snprintf(dir, sizeof(dir), "%s/small", fx->dir);
    s = unit_open_store(dir, 1 * MB);

    memset(&b, 0, sizeof(b));
    sb_add(&b, "{\"creators\":[");

    for (i = 0; i < 60; i++) {
        (void) snprintf(uid, sizeof(uid), "huge-%02zu", i);
        c = cr(uid);
        c.pad = 30000;
        sb_add(&b, "%s", i ? "," : "");
        cr_add(&b, &c);
    }

    /* an invalid one too: its failure is reported with the store's */
    sb_add(&b, ",{\"uniqueId\":\"huge-bad\"}]}");
    data = sb_take(&b);

    assert_int_equal(ingest(s, data, MT_INGEST_JSON, T1, &res), -1);
    assert_int_equal(res.status, MT_INGEST_STORE);
    assert_int_equal(res.rc, MT_STORE_FULL);
    assert_true(strstr(res.error, "MDB_MAP_FULL") != NULL);
    assert_counts(&res, 0, 0, 0, 1);
    assert_failure(&res, 0, 60, "huge-bad", "nickname");
    mt_ingest_result_free(&res);
    free(data);

    /* nothing of the chunk, and the store still works */
    assert_int_equal(stored(s), 0);
    assert_null(get_doc(s, "huge-00"));

    c = cr("small-one");
    data = cr_json(&c);
    ingest_ok(s, data, MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 1, 0, 0, 0);
    mt_ingest_result_free(&res);
    free(data);

    assert_int_equal(stored(s), 1);

    s->ops->close(s);
}


/* 8 MB, creators of ~3 KB: one chunk fits, the second does not */
static void
test_store_full_later_chunk(void **state)
{
    fx_t                *fx = *state;
    char                 dir[128], uid[32], *data;
    size_t               i, n;
    sb_t                 b;
    cr_t                 c;
    mt_store_t          *s;
    mt_ingest_result_t   res;

    (void) snprintf(dir, sizeof(dir), "%s/medium", fx->dir);
    s = unit_open_store(dir, 8 * MB);

    n = 3 * (size_t) MT_INGEST_CHUNK;
    memset(&b, 0, sizeof(b));

    for (i = 0; i < n; i++) {
        (void) snprintf(uid, sizeof(uid), "mid-%05zu", i);
        c = cr(uid);
        c.pad = 1800;
        cr_add(&b, &c);
        sb_add(&b, "\n");
    }

    data = sb_take(&b);

    assert_int_equal(ingest(s, data, MT_INGEST_NDJSON, T1, &res), -1);
    assert_int_equal(res.status, MT_INGEST_STORE);
    assert_int_equal(res.rc, MT_STORE_FULL);

    /* whole chunks only, and some */
    assert_true(res.inserted > 0 && res.inserted < n);
    assert_int_equal(res.inserted % MT_INGEST_CHUNK, 0);
    assert_counts(&res, res.inserted, 0, 0, 0);
    assert_int_equal(stored(s), res.inserted);

    (void) snprintf(uid, sizeof(uid), "mid-%05zu", res.inserted - 1);
    assert_field(s, uid, "createdAt", T1_STR);
    (void) snprintf(uid, sizeof(uid), "mid-%05zu", res.inserted);
    assert_null(get_doc(s, uid));

    n = res.inserted;
    mt_ingest_result_free(&res);

    /* again: the stored chunks are unchanged, the next one still fails */
    assert_int_equal(ingest(s, data, MT_INGEST_NDJSON, T2, &res), -1);
    assert_int_equal(res.status, MT_INGEST_STORE);
    assert_int_equal(res.rc, MT_STORE_FULL);
    assert_counts(&res, 0, 0, n, 0);
    assert_int_equal(stored(s), n);
    mt_ingest_result_free(&res);

    free(data);
    s->ops->close(s);
}

/* 1,000 bad items: the first 100 are kept, all are counted */
static void
test_failed_cap(void **state)
{
    fx_t                *fx = *state;
    char                *data, *one;
    size_t               i, form;
    sb_t                 b;
    cr_t                 c;
    mt_ingest_result_t   res;

    c = cr("cap-ok");
    one = cr_json(&c);

    for (form = 0; form < 2; form++) {
        memset(&b, 0, sizeof(b));

        if (form == 1) {
            sb_add(&b, "{\"creators\":[");
        }

        for (i = 0; i < 1000; i++) {
            /* NDJSON: lines "1"; JSON: "1" and invalid creators */
            sb_add(&b, "%s%s", form == 1 && i ? "," : "",
                   form == 0 || i % 2 ? "1" : "{\"uniqueId\":\"cap-bad\"}");
            sb_add(&b, "%s", form == 0 ? "\n" : "");
        }

        sb_add(&b, "%s%s%s", form == 1 ? "," : "", one,
               form == 1 ? "]}" : "\n");
        data = sb_take(&b);

        ingest_ok(fx->s, data, form == 0 ? MT_INGEST_NDJSON : MT_INGEST_JSON,
                  T1 + (int64_t) form, &res);

        assert_int_equal(res.nfailed, MT_INGEST_FAILED_MAX);
        assert_int_equal(res.nfailed_total, 1000);
        assert_int_equal(res.count, 1);
        assert_true(res.failed_cap <= MT_INGEST_FAILED_MAX);

        for (i = 0; i < res.nfailed; i++) {
            assert_int_equal(res.failed[i].index, i);
        }

        assert_true(strstr(res.failed[1].error, "must be a JSON object")
                    != NULL);
        assert_string_equal(res.failed[0].unique_id,
                            form == 0 ? "" : "cap-bad");
        mt_ingest_result_free(&res);
        free(data);
    }

    /* under the cap: every failure, and the total is the same */
    ingest_ok(fx->s, "1\n2\n", MT_INGEST_NDJSON, T2, &res);
    assert_int_equal(res.nfailed, 2);
    assert_int_equal(res.nfailed_total, 2);
    mt_ingest_result_free(&res);

    free(one);
}


/* A creator of exactly MT_INGEST_ITEM_MAX bytes, padded with "notes". */
static char *
cr_sized(const char *uid, size_t size)
{
    char    *s;
    size_t   len;
    cr_t     c;

    c = cr(uid);
    c.pad = 1;
    s = cr_json(&c);
    len = strlen(s);
    free(s);

    assert_true(size > len);
    c.pad = 1 + size - len;
    s = cr_json(&c);
    assert_int_equal(strlen(s), size);

    return s;
}


/* An item over MT_INGEST_ITEM_MAX fails alone, without being parsed. */
static void
test_item_size(void **state)
{
    fx_t                *fx = *state;
    char                *at, *over, *data, *items[3];
    size_t               i;
    sb_t                 b;
    mt_ingest_result_t   res;

    at = cr_sized("size-at", MT_INGEST_ITEM_MAX);
    over = cr_sized("size-over", MT_INGEST_ITEM_MAX + 1);

    memset(&b, 0, sizeof(b));
    sb_add(&b, "%s\n%s\n", at, over);
    data = sb_take(&b);

    ingest_ok(fx->s, data, MT_INGEST_NDJSON, T1, &res);
    assert_counts(&res, 1, 0, 0, 1);
    assert_failure(&res, 0, 1, "", "must be at most 65536 bytes of JSON");
    mt_ingest_result_free(&res);
    free(data);

    items[0] = over;
    items[1] = at;
    items[2] = over;
    data = batch((const char *const *) items, 3);

    ingest_ok(fx->s, data, MT_INGEST_JSON, T2, &res);
    assert_counts(&res, 0, 0, 1, 2);
    assert_failure(&res, 0, 0, "", "65536 bytes");
    assert_failure(&res, 1, 2, "", "65536 bytes");
    mt_ingest_result_free(&res);
    free(data);

    assert_null(get_doc(fx->s, "size-over"));
    data = get_doc(fx->s, "size-at");
    assert_non_null(data);
    free(data);

    /* 100,000 keys (1.3 MB): refused by its size, in no time */
    memset(&b, 0, sizeof(b));
    sb_add(&b, "{\"uniqueId\":\"many-keys\"");

    for (i = 0; i < 100000; i++) {
        sb_add(&b, ",\"k%zu\":%zu", i, i);
    }

    sb_add(&b, "}\n");
    data = sb_take(&b);

    ingest_ok(fx->s, data, MT_INGEST_NDJSON, T2, &res);
    assert_counts(&res, 0, 0, 0, 1);
    assert_failure(&res, 0, 0, "", "65536 bytes");
    mt_ingest_result_free(&res);
    free(data);

    free(at);
    free(over);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
#define T(f)  cmocka_unit_test_setup_teardown(f, fx_setup, unit_fx_teardown)
        T(test_json_counts),
        T(test_same_batch_twice),
        T(test_key_order),
        T(test_text_change),
        T(test_embedding_kept),
        T(test_created_at),
        T(test_duplicate_in_batch),
        T(test_ndjson),
        T(test_file_shapes),
        T(test_bad_shape),
        T(test_bad_json),
        T(test_file_io),
        T(test_big_batch),
        T(test_store_full),
        T(test_store_full_later_chunk),
        T(test_failed_cap),
        T(test_item_size),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for creator embeddings: mt_creator_set_embedding and
 * mt_creator_embedding_is (lib/creator.c), and the LMDB store's
 * creator_set_embedding (lib/store_lmdb_embed.c) on creators ingested
 * with mt_ingest.  Every test works in its own directory under /tmp,
 * removed at the end.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "json.h"
#include "model.h"
#include "store.h"
#include "util.h"


#define MB        ((size_t) 1024 * 1024)

#define T1        1709210096789LL       /* 2024-02-29T12:34:56.789Z */
#define T2        1795622824123LL       /* 2026-11-25T16:07:04.123Z */
#define T2_STR    "2026-11-25T16:07:04.123Z"
#define T3        (T2 + 1000)
#define T4        (T2 + 2000)

#define MODEL     "local-tfidf-512"


static const mt_json_limits_t  limits = {
    .max_size = 64 * MB, .max_depth = 32, .max_string = 1 * MB
};


/* Helpers */

static int
fx_setup(void **state)
{
    *state = unit_fx_new("embed", 64 * MB);

    return 0;
}


/* one valid creator as a line of JSON, malloc'd */
static char *
cr_json(const char *uid, const char *bio, long long followers)
{
    int    n;
    char  *s;

    static const char  fmt[] =
        "{\"uniqueId\":\"%s\",\"nickname\":\"Nick %s\",\"bio\":\"%s\","
        "\"followerCount\":%lld,\"region\":\"us\","
        "\"avatarUrl\":\"https://example.com/%s.jpg\",\"verified\":true,"
        "\"analysis\":{\"summary\":\"Explains budgets.\","
        "\"primaryNiches\":[\"Finance\"],\"secondaryNiches\":[\"Cooking\"],"
        "\"apparentValues\":[\"Thrift\"],"
        "\"engagementStyle\":{\"tone\":[\"Calm\"]}},"
        "\"futureField\":[1.50,{\"x\":2e3}],\"notes\":\"caf\\u00e9\"}";

    n = snprintf(NULL, 0, fmt, uid, uid, bio, followers, uid);
    assert_true(n > 0);

    s = malloc((size_t) n + 1);
    assert_non_null(s);
    (void) snprintf(s, (size_t) n + 1, fmt, uid, uid, bio, followers, uid);

    return s;
}


/* ingests one creator, as NDJSON: returns how it counted (i/u/=) */
static int
ingest1(mt_store_t *s, const char *uid, const char *bio, long long followers,
    int64_t now)
{
    int                  rc, how;
    char                *data;
    mt_ingest_result_t   res;

    data = cr_json(uid, bio, followers);
    rc = mt_ingest(s, data, strlen(data), MT_INGEST_NDJSON, &limits, now,
                   &res);
    free(data);

    if (rc != 0) {
        print_error("ingest: status %d: %s\n", (int) res.status, res.error);
    }

    assert_int_equal(rc, 0);
    assert_int_equal(res.nfailed, 0);
    assert_int_equal(res.count, 1);

    how = res.inserted ? 'i' : res.updated ? 'u' : '=';
    mt_ingest_result_free(&res);

    return how;
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


static mt_json_doc_t *
parse(const char *text)
{
    mt_json_err_t   err;
    mt_json_doc_t  *d;

    d = mt_json_parse(text, strlen(text), NULL, &err, NULL, 0);
    assert_non_null(d);

    return d;
}


/*
 * A member of a stored creator by dotted path, malloc'd: a string's
 * contents, anything else as JSON; NULL when missing.
 */
static char *
sfield(mt_store_t *s, const char *uid, const char *path)
{
    char              key[64], *doc, *out;
    size_t            len;
    mt_jw_t           w;
    const char       *p, *dot;
    mt_json_doc_t    *d;
    const mt_json_t  *v;

    doc = get_doc(s, uid);
    assert_non_null(doc);
    d = parse(doc);
    free(doc);

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


static void
assert_field(mt_store_t *s, const char *uid, const char *path,
    const char *want)
{
    char  *v;

    v = sfield(s, uid, path);
    assert_non_null(v);
    assert_string_equal(v, want);
    free(v);
}


static void
hex16(char hex[17], uint64_t h)
{
    (void) snprintf(hex, 17, "%016" PRIx64, h);
}


static mt_creator_embedded_t
emb(const char *uid, uint64_t text_hash, const char *status,
    const char *model, unsigned dims, int64_t at)
{
    mt_creator_embedded_t  it;

    memset(&it, 0, sizeof(it));
    it.unique_id = uid;
    it.unique_id_len = strlen(uid);
    it.info.model = model;
    it.info.dimensions = dims;
    it.info.text_hash = text_hash;
    it.info.updated_at_ms = at;
    it.info.status = status;

    return it;
}


/* a ready embedding for the creator's current text */
static mt_creator_embedded_t
ready(mt_store_t *s, const char *uid, int64_t at)
{
    return emb(uid, get_stamp(s, uid).text_hash, "ready", MODEL, 512, at);
}


static size_t
set(mt_store_t *s, const mt_creator_embedded_t *items, size_t n)
{
    size_t         updated;
    mt_store_rc_t  rc;

    updated = 12345;
    rc = s->ops->creator_set_embedding(s, items, n, &updated);

    if (rc != MT_STORE_OK) {
        print_error("creator_set_embedding: %d: %s\n", (int) rc,
                    mt_store_error(s));
    }

    assert_int_equal(rc, MT_STORE_OK);

    return updated;
}


/*
 * Two versions of a stored creator are the same but for the embedding:
 * byte for byte up to it (mt_creator_write puts it last), and member by
 * member, in order, by content.
 */
static void
assert_same_but_embedding(const char *a, const char *b)
{
    size_t                 i, na, nb;
    const char            *ea, *eb;
    mt_json_doc_t         *da, *db;
    const mt_json_t       *ra, *rb;
    const mt_json_pair_t  *pa, *pb;

    ea = strstr(a, ",\"embedding\":{");
    eb = strstr(b, ",\"embedding\":{");
    assert_non_null(ea);
    assert_non_null(eb);
    assert_int_equal(ea - a, eb - b);
    assert_memory_equal(a, b, (size_t) (ea - a));

    da = parse(a);
    db = parse(b);
    ra = mt_json_root(da);
    rb = mt_json_root(db);
    na = ra->u.object.n;
    nb = rb->u.object.n;
    assert_int_equal(na, nb);

    for (i = 0; i < na; i++) {
        pa = &ra->u.object.pairs[i];
        pb = &rb->u.object.pairs[i];
        assert_string_equal(pa->key, pb->key);

        if (strcmp(pa->key, "embedding") != 0) {
            assert_true(mt_json_hash(pa->value) == mt_json_hash(pb->value));
        }
    }

    mt_json_free(da);
    mt_json_free(db);
}


/* creators_by_region and creators_by_niche still list uid */
static void
assert_listed(mt_store_t *s, const char *region, const char *niche,
    size_t want)
{
    size_t              n, total;
    mt_text_t          *docs;
    mt_creator_query_t  q;

    memset(&q, 0, sizeof(q));
    q.region = region;
    q.niche = niche;
    q.limit = 100;

    assert_int_equal(s->ops->creator_list(s, &q, &docs, &n, &total),
                     MT_STORE_OK);
    assert_int_equal(n, want);
    assert_int_equal(total, want);
    mt_texts_free(docs, n);
}


/* mt_creator_set_embedding() on a document, as text */
static char *
set_text(const char *stored, const mt_embedding_info_t *e, int *rc)
{
    char           *out;
    size_t          len;
    mt_jw_t         w;
    mt_json_doc_t  *d;

    d = parse(stored);
    mt_jw_init(&w);
    *rc = mt_creator_set_embedding(mt_json_root(d), e, &w);
    mt_json_free(d);

    if (*rc != 0) {
        mt_jw_free(&w);
        return NULL;
    }

    out = mt_jw_take(&w, &len);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);

    return out;
}


/* Tests */

static void
test_set_embedding_doc(void **state)
{
    int                   rc;
    char                 *out;
    mt_json_doc_t        *d;
    mt_embedding_info_t   e;

    (void) state;

    memset(&e, 0, sizeof(e));
    e.model = "m";
    e.dimensions = 3;
    e.text_hash = 0xff;
    e.updated_at_ms = T2;
    e.status = "ready";

#define EMB(model, st)                                                      \
    "\"embedding\":{\"model\":" model ",\"dimensions\":3,"                  \
    "\"textHash\":\"00000000000000ff\",\"updatedAt\":\"" T2_STR "\","       \
    "\"status\":\"" st "\"}"

    /* in place, every other member as it was: raw numbers, escapes */
    out = set_text("{\"a\":1.50,\"embedding\":{\"status\":\"pending\"},"
                   "\"z\":[2e3,\"\\u00e9\\n\"],\"n\":null}", &e, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "{\"a\":1.50," EMB("\"m\"", "ready")
                        ",\"z\":[2e3,\"\xc3\xa9\\n\"],\"n\":null}");
    free(out);

    /* none yet: appended */
    e.status = "failed";
    e.model = NULL;
    out = set_text("{\"a\":true}", &e, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "{\"a\":true," EMB("null", "failed") "}");
    free(out);

    /* duplicates: one, where the first was */
    out = set_text("{\"embedding\":1,\"a\":2,\"embedding\":3}", &e, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "{" EMB("null", "failed") ",\"a\":2}");
    free(out);

#undef EMB

    /* not a status the indexer sets, or not a document */
    e.status = "pending";
    assert_null(set_text("{\"a\":1}", &e, &rc));
    assert_int_equal(rc, -1);
    e.status = NULL;
    assert_null(set_text("{\"a\":1}", &e, &rc));
    assert_int_equal(rc, -1);
    e.status = "ready";
    assert_null(set_text("[1]", &e, &rc));
    assert_int_equal(rc, -1);

    /* mt_creator_embedding_is: updatedAt does not count */
    e.model = "m";
    d = parse("{\"embedding\":{\"model\":\"m\",\"dimensions\":3,"
              "\"textHash\":\"00000000000000ff\",\"updatedAt\":\"x\","
              "\"status\":\"ready\"}}");
    assert_int_equal(mt_creator_embedding_is(mt_json_root(d), &e), 1);

    e.status = "failed";
    assert_int_equal(mt_creator_embedding_is(mt_json_root(d), &e), 0);
    e.status = "ready";
    e.model = "mm";
    assert_int_equal(mt_creator_embedding_is(mt_json_root(d), &e), 0);
    e.model = NULL;
    assert_int_equal(mt_creator_embedding_is(mt_json_root(d), &e), 0);
    e.model = "m";
    e.dimensions = 4;
    assert_int_equal(mt_creator_embedding_is(mt_json_root(d), &e), 0);
    e.dimensions = 3;
    e.text_hash = 0xfe;
    assert_int_equal(mt_creator_embedding_is(mt_json_root(d), &e), 0);
    e.text_hash = 0xff;
    assert_int_equal(mt_creator_embedding_is(mt_json_root(d), &e), 1);
    mt_json_free(d);

    d = parse("{\"embedding\":{\"model\":null,\"dimensions\":0,"
              "\"textHash\":\"00000000000000ff\",\"updatedAt\":null,"
              "\"status\":\"pending\"}}");
    e.model = NULL;
    e.dimensions = 0;
    e.status = "pending";
    assert_int_equal(mt_creator_embedding_is(mt_json_root(d), &e), 1);
    e.status = "ready";
    assert_int_equal(mt_creator_embedding_is(mt_json_root(d), &e), 0);
    mt_json_free(d);

    d = parse("{\"a\":1}");
    assert_int_equal(mt_creator_embedding_is(mt_json_root(d), &e), 0);
    mt_json_free(d);
}


static void
test_ready(void **state)
{
    fx_t                   *fx = *state;
    char                   *a0, *a1, *c0, *c1, hex[17];
    mt_creator_stamp_t      st0, st1;
    mt_creator_embedded_t   items[2];

    assert_int_equal(ingest1(fx->s, "ann", "Budgets", 10, T1), 'i');
    assert_int_equal(ingest1(fx->s, "bob", "Recipes", 20, T1), 'i');
    assert_int_equal(ingest1(fx->s, "cat", "Travel", 30, T1), 'i');

    assert_field(fx->s, "ann", "embedding.status", "pending");
    assert_field(fx->s, "bob", "embedding.status", "pending");

    a0 = get_doc(fx->s, "ann");
    c0 = get_doc(fx->s, "cat");
    st0 = get_stamp(fx->s, "ann");

    items[0] = ready(fx->s, "ann", T2);
    items[1] = emb("bob", get_stamp(fx->s, "bob").text_hash, "failed",
                   MODEL, 0, T2);

    assert_int_equal(set(fx->s, items, 2), 2);

    assert_field(fx->s, "ann", "embedding.status", "ready");
    assert_field(fx->s, "ann", "embedding.model", MODEL);
    assert_field(fx->s, "ann", "embedding.dimensions", "512");
    hex16(hex, st0.text_hash);
    assert_field(fx->s, "ann", "embedding.textHash", hex);
    assert_field(fx->s, "ann", "embedding.updatedAt", T2_STR);

    assert_field(fx->s, "bob", "embedding.status", "failed");
    assert_field(fx->s, "bob", "embedding.dimensions", "0");

    /* the rest of the document, the stamp and the indexes: as they were */
    a1 = get_doc(fx->s, "ann");
    assert_same_but_embedding(a0, a1);

    st1 = get_stamp(fx->s, "ann");
    assert_true(st0.content_hash == st1.content_hash);
    assert_true(st0.text_hash == st1.text_hash);

    assert_listed(fx->s, "US", NULL, 3);
    assert_listed(fx->s, NULL, "finance", 3);
    assert_listed(fx->s, "us", "cooking", 3);

    /* cat was not in the batch */
    c1 = get_doc(fx->s, "cat");
    assert_string_equal(c0, c1);

    free(a0);
    free(a1);
    free(c0);
    free(c1);
}


static void
test_already_so(void **state)
{
    fx_t                   *fx = *state;
    char                   *a0, *a1;
    mt_creator_embedded_t   it, two[2];

    assert_int_equal(ingest1(fx->s, "ann", "Budgets", 10, T1), 'i');

    it = ready(fx->s, "ann", T2);
    assert_int_equal(set(fx->s, &it, 1), 1);
    a0 = get_doc(fx->s, "ann");

    /* the same embedding later: not a change, updatedAt stays */
    it.info.updated_at_ms = T3;
    assert_int_equal(set(fx->s, &it, 1), 0);
    a1 = get_doc(fx->s, "ann");
    assert_string_equal(a0, a1);
    free(a1);

    /* each of status, model and dimensions is */
    it.info.status = "failed";
    assert_int_equal(set(fx->s, &it, 1), 1);
    assert_field(fx->s, "ann", "embedding.status", "failed");

    it.info.status = "ready";
    assert_int_equal(set(fx->s, &it, 1), 1);
    it.info.model = "other-model";
    assert_int_equal(set(fx->s, &it, 1), 1);
    assert_field(fx->s, "ann", "embedding.model", "other-model");
    it.info.dimensions = 384;
    assert_int_equal(set(fx->s, &it, 1), 1);
    assert_field(fx->s, "ann", "embedding.dimensions", "384");

    a1 = get_doc(fx->s, "ann");
    assert_same_but_embedding(a0, a1);

    /* twice in one batch: the second sees the first */
    it.info.dimensions = 256;
    two[0] = it;
    two[1] = it;
    assert_int_equal(set(fx->s, two, 2), 1);

    assert_field(fx->s, "ann", "embedding.dimensions", "256");

    free(a0);
    free(a1);
}


static void
test_stale(void **state)
{
    fx_t                   *fx = *state;
    char                    hex[17];
    uint64_t                h1, h2;
    mt_creator_embedded_t   it;

    assert_int_equal(ingest1(fx->s, "ann", "Budgets", 10, T1), 'i');
    h1 = get_stamp(fx->s, "ann").text_hash;

    /* the indexer embedded the old text; the bio changed meanwhile */
    assert_int_equal(ingest1(fx->s, "ann", "A new bio", 10, T2), 'u');
    h2 = get_stamp(fx->s, "ann").text_hash;
    assert_true(h1 != h2);

    it = emb("ann", h1, "ready", MODEL, 512, T3);
    assert_int_equal(set(fx->s, &it, 1), 0);

    hex16(hex, h2);
    assert_field(fx->s, "ann", "embedding.status", "pending");
    assert_field(fx->s, "ann", "embedding.model", "null");
    assert_field(fx->s, "ann", "embedding.textHash", hex);

    /* the next refresh embeds the new text */
    it.info.text_hash = h2;
    assert_int_equal(set(fx->s, &it, 1), 1);
    assert_field(fx->s, "ann", "embedding.status", "ready");
    assert_field(fx->s, "ann", "embedding.textHash", hex);
}


static void
test_reingest(void **state)
{
    fx_t                   *fx = *state;
    char                   *a0, *a1, *e0, *e1, hex[17];
    mt_creator_embedded_t   it;

    assert_int_equal(ingest1(fx->s, "ann", "Budgets", 10, T1), 'i');
    it = ready(fx->s, "ann", T2);
    assert_int_equal(set(fx->s, &it, 1), 1);

    a0 = get_doc(fx->s, "ann");
    e0 = sfield(fx->s, "ann", "embedding");

    /* the same creator again: unchanged, not even written */
    assert_int_equal(ingest1(fx->s, "ann", "Budgets", 10, T3), '=');
    a1 = get_doc(fx->s, "ann");
    assert_string_equal(a0, a1);
    free(a1);

    /* a change the embedding does not see: the ready one is kept */
    assert_int_equal(ingest1(fx->s, "ann", "Budgets", 11, T3), 'u');
    assert_field(fx->s, "ann", "followerCount", "11");
    e1 = sfield(fx->s, "ann", "embedding");
    assert_string_equal(e0, e1);
    free(e1);

    /* so is a set for the same text afterwards: nothing to do */
    assert_int_equal(set(fx->s, &it, 1), 0);

    /* a new bio is a new text: pending again */
    assert_int_equal(ingest1(fx->s, "ann", "Changed", 11, T4), 'u');
    assert_field(fx->s, "ann", "embedding.status", "pending");
    assert_field(fx->s, "ann", "embedding.model", "null");
    assert_field(fx->s, "ann", "embedding.dimensions", "0");
    assert_field(fx->s, "ann", "embedding.updatedAt", "null");
    hex16(hex, get_stamp(fx->s, "ann").text_hash);
    assert_field(fx->s, "ann", "embedding.textHash", hex);
    assert_true(get_stamp(fx->s, "ann").text_hash != it.info.text_hash);

    free(a0);
    free(e0);
}


#define PENDING_MAX  256

/* creator_scan_pending's visits, as "id,id," in a PENDING_MAX buffer */
static int
pending_cb(void *data, const char *unique_id, size_t id_len, const char *doc,
    size_t doc_len)
{
    char    *out = data;
    size_t   used;

    assert_true(doc_len > 0 && doc[0] == '{');
    used = strlen(out);
    assert_true(used + id_len + 2 <= PENDING_MAX);
    (void) snprintf(out + used, PENDING_MAX - used, "%.*s,", (int) id_len,
                    unique_id);

    return 0;
}


static void
assert_pending(mt_store_t *s, const char *model, unsigned dims,
    const char *want)
{
    char  out[PENDING_MAX];

    out[0] = '\0';
    assert_int_equal(s->ops->creator_scan_pending(s, model, dims, pending_cb,
                                                  out),
                     MT_STORE_OK);
    assert_string_equal(out, want);
}


/*
 * The pending scan leaves out exactly the creators embedded "ready" for
 * their current text with that model and those dimensions.
 */
static void
test_scan_pending(void **state)
{
    fx_t                   *fx = *state;
    mt_creator_embedded_t   it[3];

    assert_int_equal(ingest1(fx->s, "ann", "Budgets", 10, T1), 'i');
    assert_int_equal(ingest1(fx->s, "bob", "Recipes", 20, T1), 'i');
    assert_int_equal(ingest1(fx->s, "cat", "Travel", 30, T1), 'i');
    assert_int_equal(ingest1(fx->s, "dan", "Gardens", 40, T1), 'i');

    assert_pending(fx->s, MODEL, 512, "ann,bob,cat,dan,");

    it[0] = ready(fx->s, "ann", T2);
    it[1] = emb("bob", get_stamp(fx->s, "bob").text_hash, "failed", MODEL,
                0, T2);
    it[2] = ready(fx->s, "cat", T2);
    it[2].info.model = "other-model";
    assert_int_equal(set(fx->s, it, 3), 3);

    assert_pending(fx->s, MODEL, 512, "bob,cat,dan,");
    assert_pending(fx->s, "other-model", 512, "ann,bob,dan,");
    assert_pending(fx->s, MODEL, 256, "ann,bob,cat,dan,");
    assert_pending(fx->s, NULL, 512, "ann,bob,cat,dan,");

    /* a change the text does not see keeps it; a new text does not */
    assert_int_equal(ingest1(fx->s, "ann", "Budgets", 11, T3), 'u');
    assert_pending(fx->s, MODEL, 512, "bob,cat,dan,");
    assert_int_equal(ingest1(fx->s, "ann", "Savings", 11, T4), 'u');
    assert_pending(fx->s, MODEL, 512, "ann,bob,cat,dan,");

    /* ready for the new text, then failed: pending again */
    it[0] = ready(fx->s, "ann", T4);
    assert_int_equal(set(fx->s, it, 1), 1);
    assert_pending(fx->s, MODEL, 512, "bob,cat,dan,");
    it[0].info.status = "failed";
    assert_int_equal(set(fx->s, it, 1), 1);
    assert_pending(fx->s, MODEL, 512, "ann,bob,cat,dan,");

    /* an embedding for an older text is no entry either */
    it[0] = emb("dan", get_stamp(fx->s, "dan").text_hash + 1, "ready", MODEL,
                512, T4);
    assert_int_equal(set(fx->s, it, 1), 0);
    assert_pending(fx->s, MODEL, 512, "ann,bob,cat,dan,");
}


static void
test_missing(void **state)
{
    fx_t                   *fx = *state;
    char                    long_id[MT_UNIQUE_ID_MAX + 2];
    size_t                  updated;
    mt_store_rc_t           rc;
    mt_creator_embedded_t   items[5];

    assert_int_equal(ingest1(fx->s, "ann", "Budgets", 10, T1), 'i');

    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';

    items[0] = emb("nobody", 1, "ready", MODEL, 512, T2);
    items[1] = ready(fx->s, "ann", T2);
    items[2] = emb("", 1, "ready", MODEL, 512, T2);
    items[3] = emb(long_id, 1, "ready", MODEL, 512, T2);
    items[4] = emb("an", get_stamp(fx->s, "ann").text_hash, "ready", MODEL,
                   512, T2);

    assert_int_equal(set(fx->s, items, 5), 1);
    assert_field(fx->s, "ann", "embedding.status", "ready");
    assert_null(get_doc(fx->s, "nobody"));

    /* nothing to do, and no count wanted */
    assert_int_equal(set(fx->s, NULL, 0), 0);
    assert_int_equal(fx->s->ops->creator_set_embedding(fx->s, items, 1,
                                                       NULL),
                     MT_STORE_OK);

    /* a status the indexer does not set fails the batch, before a txn */
    items[1].info.status = "failed";
    items[0].info.status = "pending";
    updated = 7;
    rc = fx->s->ops->creator_set_embedding(fx->s, items, 2, &updated);
    assert_int_equal(rc, MT_STORE_ERROR);
    assert_int_equal(updated, 0);
    assert_non_null(strstr(mt_store_error(fx->s), "#0"));
    assert_field(fx->s, "ann", "embedding.status", "ready");
}


/* a document that cannot be read fails the batch: all or nothing */
static void
test_all_or_nothing(void **state)
{
    fx_t                   *fx = *state;
    size_t                  updated;
    mt_store_rc_t           rc;
    mt_creator_put_t        put;
    mt_creator_meta_t       meta;
    mt_creator_embedded_t   items[2];

    assert_int_equal(ingest1(fx->s, "ann", "Budgets", 10, T1), 'i');

    memset(&meta, 0, sizeof(meta));
    (void) snprintf(meta.unique_id, sizeof(meta.unique_id), "broken");
    meta.unique_id_len = strlen(meta.unique_id);
    (void) snprintf(meta.region, sizeof(meta.region), "US");
    meta.content_hash = 1;
    meta.text_hash = 42;

    put.meta = &meta;
    put.doc = "{not json";
    put.doc_len = strlen(put.doc);
    assert_int_equal(fx->s->ops->creator_put_batch(fx->s, &put, 1),
                     MT_STORE_OK);

    items[0] = ready(fx->s, "ann", T2);
    items[1] = emb("broken", 42, "ready", MODEL, 512, T2);

    updated = 7;
    rc = fx->s->ops->creator_set_embedding(fx->s, items, 2, &updated);
    assert_int_equal(rc, MT_STORE_ERROR);
    assert_int_equal(updated, 0);
    assert_non_null(strstr(mt_store_error(fx->s), "broken"));
    assert_field(fx->s, "ann", "embedding.status", "pending");

    /* a stale hash skips it before its document is read */
    items[1].info.text_hash = 41;
    assert_int_equal(set(fx->s, items, 2), 1);
    assert_field(fx->s, "ann", "embedding.status", "ready");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_set_embedding_doc),
#define T(f)  cmocka_unit_test_setup_teardown(f, fx_setup, unit_fx_teardown)
        T(test_ready),
        T(test_already_so),
        T(test_stale),
        T(test_reingest),
        T(test_scan_pending),
        T(test_missing),
        T(test_all_or_nothing),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

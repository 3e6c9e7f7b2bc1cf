/*
 * Unit tests for the indexer (lib/indexer.c): mt_index_rebuild,
 * mt_index_sync and mt_index_ids on creators ingested into an LMDB store
 * (t/data/creators.json: 17 creators), with the local embedder and the
 * vector index.  Every test works in its own directory under /tmp,
 * removed at the end; run from the repository root.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <lmdb.h>

#include "embed.h"
#include "indexer.h"
#include "ingest.h"
#include "json.h"
#include "model.h"
#include "store.h"
#include "vindex.h"


#define MB        ((size_t) 1024 * 1024)

#define T1        1709210096789LL       /* 2024-02-29T12:34:56.789Z */
#define T2        (T1 + 60000)

#define DIMS      256
#define SEED      7
#define EPOCH     1234
#define NFILE     17
#define NBIG      4096

#define CREATORS  "t/data/creators.json"


static const mt_json_limits_t  limits = {
    .max_size = 64 * MB, .max_depth = 32, .max_string = 1 * MB
};

static const char *const  ids17[NFILE] = {
    "mindsovermoney", "marketdecoded", "careercompass", "civicbriefs",
    "laughingledger", "greenroutes", "pixelsandpatches", "healthexplained",
    "homefixhacks", "climatebytes", "foodlabnotes", "fitforminutes",
    "studywithsera", "artsyalmanac", "parentingafterdark", "techtruths",
    "travelbytram"
};


/* a store, the paths of its embedder and index files, an indexer */
typedef struct {
    fx_t                   *fx;
    char                    emb_path[128];
    char                    vec_path[128];
    mt_indexer_t            ix;
    mt_index_progress_t     prog;
    mt_embedder_t          *emb;        /* mapped, or NULL */
} ctx_t;


/* Helpers */

static int
ctx_setup(void **state)
{
    ctx_t  *c;

    c = calloc(1, sizeof(ctx_t));
    assert_non_null(c);

    c->fx = unit_fx_new("ix", 64 * MB);
    (void) snprintf(c->emb_path, sizeof(c->emb_path), "%s/embedder",
                    c->fx->dir);
    (void) snprintf(c->vec_path, sizeof(c->vec_path), "%s/vectors",
                    c->fx->dir);

    c->ix.store = c->fx->s;
    c->ix.index_path = c->vec_path;
    c->ix.params.dims = DIMS;
    c->ix.params.capacity = (size_t) 2 * NBIG;
    /* not MT_EMB_LOCAL_MODEL: a name of its own shows where it is from */
    c->ix.params.model = "local-tfidf-256";
    c->ix.now_ms = T2;
    c->ix.batch = 4;                    /* several batches for 17 */
    c->ix.progress = &c->prog;

    *state = c;

    return 0;
}


static int
ctx_teardown(void **state)
{
    ctx_t  *c = *state;
    void   *fx = c->fx;

    mt_embedder_free(c->emb);
    free(c);

    return unit_fx_teardown(&fx);
}


/* data NULL: the creators of CREATORS, as a file */
static void
ingest_ok(mt_store_t *s, const char *data, mt_ingest_format_t format,
    size_t inserted, size_t updated)
{
    int                  rc;
    mt_ingest_result_t   res;

    rc = (data == NULL)
         ? mt_ingest_file(s, CREATORS, &limits, T1, &res)
         : mt_ingest(s, data, strlen(data), format, &limits, T2, &res);

    if (rc != 0 || res.nfailed > 0) {
        print_error("ingest: %s %s\n", res.error,
                    res.nfailed ? res.failed[0].error : "");
    }

    assert_int_equal(rc, 0);
    assert_int_equal(res.nfailed, 0);
    assert_int_equal(res.inserted, inserted);
    assert_int_equal(res.updated, updated);
    mt_ingest_result_free(&res);
}


/* one valid creator as JSON, malloc'd */
static char *
cr_json(const char *uid, const char *bio)
{
    int    n;
    char  *s;

    static const char  fmt[] =
        "{\"uniqueId\":\"%s\",\"nickname\":\"Nick %s\",\"bio\":\"%s\","
        "\"followerCount\":1000,\"region\":\"us\","
        "\"avatarUrl\":\"https://example.com/%s.jpg\",\"verified\":true,"
        "\"analysis\":{\"summary\":\"Talks.\","
        "\"primaryNiches\":[\"Careers\"],\"secondaryNiches\":[\"Study\"],"
        "\"apparentValues\":[\"Growth\"],"
        "\"engagementStyle\":{\"tone\":[\"Calm\"]}}}";

    n = snprintf(NULL, 0, fmt, uid, uid, bio, uid);
    assert_true(n > 0);

    s = malloc((size_t) n + 1);
    assert_non_null(s);
    (void) snprintf(s, (size_t) n + 1, fmt, uid, uid, bio, uid);

    return s;
}


/* ingests a new version of one creator */
static void
reingest(mt_store_t *s, const char *uid, const char *bio)
{
    char  *data;

    data = cr_json(uid, bio);
    ingest_ok(s, data, MT_INGEST_NDJSON, 0, 1);
    free(data);
}


static mt_json_doc_t *
get_doc(mt_store_t *s, const char *uid)
{
    mt_text_t       t;
    mt_json_err_t   err;
    mt_json_doc_t  *d;

    assert_int_equal(s->ops->creator_get(s, uid, strlen(uid), &t, NULL),
                     MT_STORE_OK);
    d = mt_json_parse(t.data, t.len, NULL, &err, NULL, 0);
    free(t.data);
    assert_non_null(d);

    return d;
}


/* the hash of the text mt_creator_text() gives for the stored creator */
static uint64_t
text_hash(mt_store_t *s, const char *uid)
{
    char           *text;
    size_t          len;
    uint64_t        h;
    mt_json_doc_t  *d;

    d = get_doc(s, uid);
    text = mt_creator_text(mt_json_root(d), &len);
    assert_non_null(text);
    h = mt_index_text_hash(text, len);
    free(text);
    mt_json_free(d);

    return h;
}


/* a member of the stored embedding: a string, or an integer as text */
static void
assert_emb(mt_store_t *s, const char *uid, const char *key, const char *want)
{
    char              num[32];
    mt_json_doc_t    *d;
    const mt_json_t  *v;

    d = get_doc(s, uid);
    v = mt_json_get(mt_json_get(mt_json_root(d), "embedding"), key);
    assert_non_null(v);

    if (v->type == MT_JSON_NUMBER && v->u.number.is_int) {
        (void) snprintf(num, sizeof(num), "%lld", (long long) v->u.number.i);
        assert_string_equal(num, want);

    } else {
        assert_int_equal(v->type, MT_JSON_STRING);
        assert_string_equal(v->u.string.s, want);
    }

    mt_json_free(d);
}


/* ready for its current text, by this indexer's model and dims */
static void
assert_ready(mt_store_t *s, const char *uid)
{
    char  hex[17], dims[16];

    (void) snprintf(hex, sizeof(hex), "%016" PRIx64, text_hash(s, uid));
    (void) snprintf(dims, sizeof(dims), "%u", (unsigned) DIMS);

    assert_emb(s, uid, "status", "ready");
    assert_emb(s, uid, "model", "local-tfidf-256");
    assert_emb(s, uid, "dimensions", dims);
    assert_emb(s, uid, "textHash", hex);
}


static mt_vindex_t *
open_index(const ctx_t *c)
{
    char          err[256];
    mt_vindex_t  *vi;

    vi = mt_vindex_open(c->vec_path, NULL, 0, err, sizeof(err));
    if (vi == NULL) {
        print_error("open %s: %s\n", c->vec_path, err);
    }

    assert_non_null(vi);

    return vi;
}


static void
rebuild_ok(ctx_t *c, uint64_t epoch)
{
    int  rc;

    rc = mt_index_rebuild(&c->ix, c->emb_path, SEED, epoch);
    if (rc != 0) {
        print_error("rebuild: %s\n", c->ix.error);
    }

    assert_int_equal(rc, 0);
}


/* maps the saved embedder into the indexer, as the module does */
static void
use_embedder(ctx_t *c, uint64_t want_epoch)
{
    char      err[256];
    uint64_t  epoch;

    mt_embedder_free(c->emb);
    c->emb = mt_embedder_map(c->emb_path, &epoch, err, sizeof(err));
    if (c->emb == NULL) {
        print_error("map: %s\n", err);
    }

    assert_non_null(c->emb);
    assert_int_equal(epoch, want_epoch);

    c->ix.emb = c->emb;
    c->ix.epoch = epoch;
}


static void
sync_ok(ctx_t *c, int force, uint64_t want)
{
    int  rc;

    memset(&c->prog, 0, sizeof(c->prog));

    rc = mt_index_sync(&c->ix, force);
    if (rc != 0) {
        print_error("sync: %s\n", c->ix.error);
    }

    assert_int_equal(rc, 0);
    assert_int_equal(c->prog.total, want);
    assert_int_equal(c->prog.processed, want);
    assert_int_equal(c->prog.errors, 0);
}


/* the index file as the module's readers see it */
static void
check_index(const ctx_t *c, size_t live, uint64_t epoch, unsigned lists)
{
    mt_vindex_t  *vi;

    vi = open_index(c);
    assert_int_equal(mt_vindex_live(vi), live);
    assert_int_equal(mt_vindex_records(vi), live);   /* a rebuild's */
    assert_int_equal(mt_vindex_dims(vi), DIMS);
    assert_int_equal(mt_vindex_model_epoch(vi), epoch);
    assert_int_equal(mt_vindex_lists(vi), lists);
    mt_vindex_close(vi);
}


/* the index's text hash for uid (0: no record), and its generation */
static uint64_t
index_hash(const ctx_t *c, const char *uid, uint64_t *gen)
{
    uint64_t      h;
    mt_vindex_t  *vi;

    vi = open_index(c);
    if (mt_vindex_get(vi, uid, strlen(uid), &h, NULL) != 0) {
        h = 0;
    }

    if (gen != NULL) {
        *gen = mt_vindex_generation(vi);
    }

    mt_vindex_close(vi);

    return h;
}


/* the 17 creators, rebuilt, and the saved embedder in the indexer */
static void
setup17(ctx_t *c)
{
    ingest_ok(c->fx->s, NULL, MT_INGEST_FILE, NFILE, 0);
    rebuild_ok(c, EPOCH);
    use_embedder(c, EPOCH);
    memset(&c->prog, 0, sizeof(c->prog));
}


/* Tests */

static void
test_rebuild(void **state)
{
    ctx_t        *c = *state;
    size_t        i;
    struct stat   st;

    ingest_ok(c->fx->s, NULL, MT_INGEST_FILE, NFILE, 0);
    rebuild_ok(c, EPOCH);

    assert_int_equal(stat(c->emb_path, &st), 0);
    assert_int_equal(stat(c->vec_path, &st), 0);
    assert_int_equal(c->prog.total, NFILE);
    assert_int_equal(c->prog.processed, NFILE);
    assert_int_equal(c->prog.errors, 0);

    check_index(c, NFILE, EPOCH, 0);
    use_embedder(c, EPOCH);
    assert_int_equal(mt_embedder_ndocs(c->emb), NFILE);
    assert_int_equal(mt_embedder_dims(c->emb), DIMS);

    /* every document ready, the index holding each for the same text */
    for (i = 0; i < NFILE; i++) {
        assert_ready(c->fx->s, ids17[i]);
        assert_int_equal(index_hash(c, ids17[i], NULL),
                         text_hash(c->fx->s, ids17[i]));
    }

    assert_int_equal(index_hash(c, "nobody", NULL), 0);

    /* again: a new epoch in both files, nothing doubled */
    memset(&c->prog, 0, sizeof(c->prog));
    rebuild_ok(c, EPOCH + 1);
    assert_int_equal(c->prog.processed, NFILE);
    check_index(c, NFILE, EPOCH + 1, 0);
    use_embedder(c, EPOCH + 1);
}


static void
test_search(void **state)
{
    ctx_t        *c = *state;
    float         q[DIMS];
    size_t        len;
    mt_vhit_t     hits[3];
    const char   *id;
    mt_vindex_t  *vi;

    static const char  query[] = "personal finance budgeting and saving money";

    setup17(c);
    assert_int_equal(mt_embed(c->emb, query, strlen(query), q), 0);

    vi = open_index(c);
    assert_int_equal(mt_vindex_search(vi, q, NULL, 3, hits), 3);
    assert_true(hits[0].score >= hits[1].score);
    assert_true(hits[1].score >= hits[2].score);
    assert_true(hits[0].score > 0.1f);

    id = mt_vindex_id(vi, hits[0].slot, &len);
    assert_non_null(id);

    if (strcmp(id, "mindsovermoney") != 0 && strcmp(id, "marketdecoded") != 0
        && strcmp(id, "laughingledger") != 0)
    {
        fail_msg("top hit %s is no finance creator", id);
    }

    mt_vindex_close(vi);
}


static void
test_sync(void **state)
{
    ctx_t     *c = *state;
    uint64_t   gen, g2, want;

    static const char  uid[] = "careercompass";

    setup17(c);

    /* everything is ready: nothing to do */
    sync_ok(c, 0, 0);
    (void) index_hash(c, uid, &gen);

    /* a new bio: that creator alone is pending, then ready again */
    reingest(c->fx->s, uid, "Interview drills and salary negotiation");
    assert_emb(c->fx->s, uid, "status", "pending");
    want = text_hash(c->fx->s, uid);
    assert_true(index_hash(c, uid, NULL) != want);   /* the old text */

    sync_ok(c, 0, 1);
    assert_ready(c->fx->s, uid);
    assert_int_equal(index_hash(c, uid, &g2), want);
    assert_true(g2 > gen);

    /* done for good; force does them all again, in place */
    sync_ok(c, 0, 0);
    sync_ok(c, 1, NFILE);
    assert_int_equal(index_hash(c, uid, NULL), want);
}


/*
 * The store's pending scan, counted: how many documents the sync was
 * handed (it reads and parses each).
 */
static mt_store_ops_t        counting_ops;
static const mt_store_ops_t *real_ops;
static size_t                visited;
static void                 *real_data;
static int                 (*real_cb)(void *data, const char *unique_id,
                                      size_t id_len, const char *doc,
                                      size_t doc_len);

static int
count_cb(void *data, const char *unique_id, size_t id_len, const char *doc,
    size_t doc_len)
{
    (void) data;
    visited++;

    return real_cb(real_data, unique_id, id_len, doc, doc_len);
}


static mt_store_rc_t
count_scan_pending(mt_store_t *s, const char *model, unsigned dims,
    int (*cb)(void *data, const char *unique_id, size_t id_len,
              const char *doc, size_t doc_len), void *data)
{
    real_cb = cb;
    real_data = data;

    return real_ops->creator_scan_pending(s, model, dims, count_cb, NULL);
}


static void
count_visits(mt_store_t *s)
{
    real_ops = s->ops;
    counting_ops = *s->ops;
    counting_ops.creator_scan_pending = count_scan_pending;
    s->ops = &counting_ops;
}


/* the store as an older module left it: documents ready, no entries */
static void
forget_embedded(ctx_t *c)
{
    MDB_env  *env;
    MDB_txn  *txn;
    MDB_dbi   dbi;

    c->fx->s->ops->close(c->fx->s);

    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_set_mapsize(env, 64 * MB), 0);
    assert_int_equal(mdb_env_open(env, c->fx->dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "creators_embedded", 0, &dbi), 0);
    assert_int_equal(mdb_drop(txn, dbi, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    c->fx->s = unit_open_store(c->fx->dir, 64 * MB);
    c->ix.store = c->fx->s;
    count_visits(c->fx->s);
}


/*
 * A sync reads only the documents of creators not embedded for their
 * text and model: none once all are, the changed one after an ingest;
 * a store written before it kept track is read once, then not again.
 */
static void
test_sync_pending(void **state)
{
    ctx_t  *c = *state;

    static const char  uid[] = "greenroutes";

    setup17(c);
    count_visits(c->fx->s);

    visited = 0;
    sync_ok(c, 0, 0);
    assert_int_equal(visited, 0);

    reingest(c->fx->s, uid, "Bike commuting and rail passes, city by city");
    visited = 0;
    sync_ok(c, 0, 1);
    assert_int_equal(visited, 1);
    assert_ready(c->fx->s, uid);

    visited = 0;
    sync_ok(c, 0, 0);
    assert_int_equal(visited, 0);

    /* another model: every creator is pending for it */
    c->ix.params.model = "local-tfidf-256b";
    visited = 0;
    sync_ok(c, 0, NFILE);
    assert_int_equal(visited, NFILE);
    c->ix.params.model = "local-tfidf-256";
    sync_ok(c, 0, NFILE);

    /* no entries: each document read once, found ready, none embedded */
    forget_embedded(c);
    visited = 0;
    sync_ok(c, 0, 0);
    assert_int_equal(visited, NFILE);

    visited = 0;
    sync_ok(c, 0, 0);
    assert_int_equal(visited, 0);

    /* force reads every creator, through the full scan */
    visited = 0;
    sync_ok(c, 1, NFILE);
    assert_int_equal(visited, 0);
}


static void
test_ids(void **state)
{
    ctx_t  *c = *state;
    int     status[3] = { -1, -1, -1 };
    size_t  lens[3];

    static const char *const  ids[3] = { "mindsovermoney", "nobody",
                                         "techtruths" };

    setup17(c);
    reingest(c->fx->s, ids[0], "Money habits, budgets and saving");
    assert_emb(c->fx->s, ids[0], "status", "pending");

    lens[0] = strlen(ids[0]);
    lens[1] = strlen(ids[1]);
    lens[2] = strlen(ids[2]);
    c->ix.batch = 2;                    /* a second batch for techtruths */

    assert_int_equal(mt_index_ids(&c->ix, ids, lens, 3, status), 0);
    assert_int_equal(status[0], MT_INDEX_DONE);
    assert_int_equal(status[1], MT_INDEX_NOT_FOUND);
    assert_int_equal(status[2], MT_INDEX_DONE);
    assert_int_equal(c->prog.processed, 2);
    assert_int_equal(c->prog.errors, 1);

    assert_ready(c->fx->s, ids[0]);
    assert_ready(c->fx->s, ids[2]);
    assert_int_equal(index_hash(c, ids[0], NULL),
                     text_hash(c->fx->s, ids[0]));
    assert_int_equal(index_hash(c, ids[1], NULL), 0);

    /* the sync finds nothing left */
    sync_ok(c, 0, 0);

    /*
     * With the index file gone and lists left to the rebuild (AUTO), the
     * ids still go in: a new file, exact, made for this embedder; and a
     * batch of 0 means one at a time, not a loop that never ends.
     */
    assert_int_equal(unlink(c->vec_path), 0);
    c->ix.params.lists = MT_INDEX_LISTS_AUTO;
    c->ix.batch = 0;
    status[0] = status[2] = -1;

    assert_int_equal(mt_index_ids(&c->ix, ids, lens, 3, status), 0);
    assert_int_equal(status[0], MT_INDEX_DONE);
    assert_int_equal(status[2], MT_INDEX_DONE);
    assert_int_equal(index_hash(c, ids[2], NULL),
                     text_hash(c->fx->s, ids[2]));
}


static void
test_epoch_mismatch(void **state)
{
    ctx_t     *c = *state;
    int        status;
    size_t     len;
    uint64_t   old, gen, g2;

    static const char *const  uid = "greenroutes";

    setup17(c);
    old = index_hash(c, uid, &gen);
    reingest(c->fx->s, uid, "Bike lanes and night trains");
    assert_emb(c->fx->s, uid, "status", "pending");

    /* the embedder this indexer holds is not the index's */
    c->ix.epoch = EPOCH + 99;
    assert_int_equal(mt_index_sync(&c->ix, 0), -1);
    assert_string_equal(c->ix.error, MT_INDEX_EMBEDDER_CHANGED);

    c->ix.error[0] = '\0';
    len = strlen(uid);
    assert_int_equal(mt_index_ids(&c->ix, &uid, &len, 1, &status), -1);
    assert_string_equal(c->ix.error, MT_INDEX_EMBEDDER_CHANGED);

    /* nothing was written: the document pending, the index as it was */
    assert_emb(c->fx->s, uid, "status", "pending");
    assert_int_equal(index_hash(c, uid, &g2), old);
    assert_int_equal(g2, gen);
    assert_int_equal(c->prog.processed, 0);

    /* the right epoch again: the sync goes through */
    c->ix.epoch = EPOCH;
    sync_ok(c, 0, 1);
    assert_ready(c->fx->s, uid);
}


/* n synthetic creators with varied bios, as {"creators":[...]} */
static char *
big_batch(size_t n)
{
    char    *buf, *one, uid[32], bio[96];
    size_t   i, len, cap;

    static const char *const  topics[8] = {
        "budgeting", "cooking", "running", "painting", "coding", "gardening",
        "chess", "guitar"
    };

    cap = n * 512 + 64;
    buf = malloc(cap);
    assert_non_null(buf);
    len = (size_t) sprintf(buf, "{\"creators\":[");

    for (i = 0; i < n; i++) {
        (void) snprintf(uid, sizeof(uid), "syn%05zu", i);
        (void) snprintf(bio, sizeof(bio), "Daily %s and %s tips w%zu",
                        topics[i % 8], topics[(i / 8) % 8], i % 97);
        one = cr_json(uid, bio);
        assert_true(len + strlen(one) + 4 < cap);
        len += (size_t) sprintf(buf + len, "%s%s", i ? "," : "", one);
        free(one);
    }

    memcpy(buf + len, "]}", sizeof("]}"));

    return buf;
}


static void
test_auto_lists(void **state)
{
    ctx_t        *c = *state;
    char         *data;
    mt_vindex_t  *vi;

    c->ix.params.lists = MT_INDEX_LISTS_AUTO;
    c->ix.batch = 256;

    /* 17 creators: an exact index */
    ingest_ok(c->fx->s, NULL, MT_INGEST_FILE, NFILE, 0);
    rebuild_ok(c, EPOCH);
    assert_int_equal(c->ix.params.lists, MT_INDEX_LISTS_AUTO);
    check_index(c, NFILE, EPOCH, 0);

    /* 17 + 4096 (under 4 * 128 * 128): 64 lists */
    data = big_batch(NBIG);
    ingest_ok(c->fx->s, data, MT_INGEST_JSON, NBIG, 0);
    free(data);

    memset(&c->prog, 0, sizeof(c->prog));
    rebuild_ok(c, EPOCH + 1);
    assert_int_equal(c->prog.total, NFILE + NBIG);
    assert_int_equal(c->prog.processed, NFILE + NBIG);
    check_index(c, NFILE + NBIG, EPOCH + 1, 64);
    assert_ready(c->fx->s, "syn04095");
    assert_ready(c->fx->s, "mindsovermoney");

    /* a sync into that file keeps its lists */
    use_embedder(c, EPOCH + 1);
    reingest(c->fx->s, "syn00001", "Now about sourdough only");
    sync_ok(c, 0, 1);
    assert_int_equal(index_hash(c, "syn00001", NULL),
                     text_hash(c->fx->s, "syn00001"));

    vi = open_index(c);
    assert_int_equal(mt_vindex_lists(vi), 64);
    assert_int_equal(mt_vindex_live(vi), NFILE + NBIG);
    mt_vindex_close(vi);
}


static void
test_empty(void **state)
{
    ctx_t  *c = *state;

    rebuild_ok(c, EPOCH);
    assert_int_equal(c->prog.total, 0);
    assert_int_equal(c->prog.processed, 0);
    assert_int_equal(c->prog.errors, 0);

    check_index(c, 0, EPOCH, 0);
    use_embedder(c, EPOCH);
    assert_int_equal(mt_embedder_ndocs(c->emb), 0);

    sync_ok(c, 0, 0);
    sync_ok(c, 1, 0);
    check_index(c, 0, EPOCH, 0);
}


/* Crashes and concurrency (issue 8, item 8) */

#define DO_REBUILD  0
#define DO_SYNC     1

/* the exit status of a child's run: 0 done, 2 busy, 1 failed, 3 no store */
#define EXIT_BUSY   2

static const char *const  rebuild_steps[] = {
    "rebuild-locked", "idf-written", "index-built", "index-synced",
    "index-renamed", "pair-renamed", "committed", NULL
};


/*
 * A rebuild or a sync in a child process with its own store handle, as
 * another nginx worker would run it; step set: it kills itself there
 * (MT_TEST_CRASH_AT).  go: a pipe whose closing starts it, or NULL.
 */
static pid_t
child_run(ctx_t *c, int what, const char *step, uint64_t epoch, int wait,
    const int *go)
{
    int          rc;
    char         b;
    pid_t        pid;
    mt_store_t  *s;

    pid = fork();
    assert_true(pid != -1);

    if (pid != 0) {
        return pid;
    }

    s = mt_store_lmdb_open(c->fx->dir, 64 * MB, c->ix.error,
                           sizeof(c->ix.error));
    if (s == NULL) {
        _exit(3);
    }

    /* the write end closed here too, or the read never sees the end */
    if (go != NULL && (close(go[1]) != 0 || read(go[0], &b, 1) < 0)) {
        _exit(3);
    }

    if (step != NULL && setenv("MT_TEST_CRASH_AT", step, 1) != 0) {
        _exit(3);
    }

    c->ix.store = s;
    c->ix.wait = wait;
    c->ix.progress = NULL;

    rc = (what == DO_REBUILD)
         ? mt_index_rebuild(&c->ix, c->emb_path, SEED, epoch)
         : mt_index_sync(&c->ix, 0);

    _exit(rc == 0 ? 0
          : strcmp(c->ix.error, MT_INDEX_BUSY) == 0 ? EXIT_BUSY : 1);
}


static int
child_wait(pid_t pid)
{
    int  st;

    while (waitpid(pid, &st, 0) == -1) {
        assert_int_equal(errno, EINTR);
    }

    return st;
}


static void
assert_killed(pid_t pid, const char *step)
{
    int  st;

    st = child_wait(pid);

    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
        fail_msg("step %s: the child was not killed there (status 0x%x)",
                 step, (unsigned) st);
    }
}


/* "<path>.tmp" or "<path>.tmp.*" in the directory */
static int
tmp_left(const char *path)
{
    int     n;
    char    cmd[512];
    FILE   *f;

    (void) snprintf(cmd, sizeof(cmd), "ls -d '%s'.tmp* 2>/dev/null | wc -l",
                    path);
    f = popen(cmd, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &n), 1);
    (void) pclose(f);

    return n;
}


/*
 * What a started module would serve: the index and the embedder state
 * open, of the same epoch and dims; a search finds creators; the vector
 * of a stored creator is its text embedded with that very state (two
 * states learnt from different corpora give different vectors).
 * Returns the epoch.
 */
static uint64_t
assert_consistent(ctx_t *c, const char *uid)
{
    char           *text, err[256];
    float           q[DIMS], v[DIMS];
    double          d;
    size_t          len, n;
    unsigned        i;
    uint64_t        epoch, h;
    mt_vhit_t       hits[5];
    mt_vindex_t    *vi;
    mt_json_doc_t  *doc;
    mt_embedder_t  *e;

    vi = open_index(c);
    e = mt_embedder_map(c->emb_path, &epoch, err, sizeof(err));
    if (e == NULL) {
        fail_msg("map %s: %s", c->emb_path, err);
    }

    assert_int_equal(epoch, mt_vindex_model_epoch(vi));
    assert_int_equal(mt_embedder_dims(e), mt_vindex_dims(vi));

    assert_int_equal(mt_embed(e, "personal finance and budgeting",
                              sizeof("personal finance and budgeting") - 1,
                              q), 0);
    n = mt_vindex_search(vi, q, NULL, 5, hits);
    assert_true(n >= 1);

    doc = get_doc(c->fx->s, uid);
    text = mt_creator_text(mt_json_root(doc), &len);
    assert_non_null(text);
    assert_int_equal(mt_embed(e, text, len, q), 0);
    free(text);
    mt_json_free(doc);

    assert_int_equal(mt_vindex_get(vi, uid, strlen(uid), &h, v), 0);

    d = 0.0;
    for (i = 0; i < DIMS; i++) {
        d += (double) q[i] * v[i];
    }

    if (d < 0.99) {
        fail_msg("%s: cosine %.4f between its indexed vector and its text "
                 "embedded with the state of epoch %" PRIu64, uid, d, epoch);
    }

    mt_embedder_free(e);
    mt_vindex_close(vi);

    return epoch;
}


static void
test_rebuild_busy(void **state)
{
    ctx_t     *c = *state;
    int        fd, st[2], p[2], busy, done, i;
    char       lock[160];
    pid_t      pid[2];
    uint64_t   epoch;

    setup17(c);

    /* another process (or thread) rebuilds: this one says so at once */
    (void) snprintf(lock, sizeof(lock), "%s.rebuild", c->vec_path);
    fd = open(lock, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);

    reingest(c->fx->s, "greenroutes", "Bike lanes, trains and ferries");
    assert_int_equal(mt_index_rebuild(&c->ix, c->emb_path, SEED, EPOCH + 1),
                     -1);
    assert_string_equal(c->ix.error, MT_INDEX_BUSY);
    assert_int_equal(tmp_left(c->emb_path), 0);
    assert_int_equal(tmp_left(c->vec_path), 0);
    assert_int_equal(assert_consistent(c, "mindsovermoney"), EPOCH);

    /* one that waits: it runs once the other is done */
    pid[0] = child_run(c, DO_REBUILD, NULL, EPOCH + 2, 1, NULL);
    (void) nanosleep(&(struct timespec) { 0, 300 * 1000000L }, NULL);
    assert_int_equal(waitpid(pid[0], &st[0], WNOHANG), 0);
    assert_int_equal(flock(fd, LOCK_UN), 0);
    (void) close(fd);
    st[0] = child_wait(pid[0]);
    assert_true(WIFEXITED(st[0]) && WEXITSTATUS(st[0]) == 0);
    assert_int_equal(assert_consistent(c, "greenroutes"), EPOCH + 2);

    /* two at once on 4,113 creators: one builds, the other is turned away */
    {
        char  *data = big_batch(NBIG);
        ingest_ok(c->fx->s, data, MT_INGEST_JSON, NBIG, 0);
        free(data);
    }

    assert_int_equal(pipe(p), 0);
    for (i = 0; i < 2; i++) {
        pid[i] = child_run(c, DO_REBUILD, NULL, EPOCH + 10 + i, 0, p);
    }
    (void) close(p[0]);
    (void) nanosleep(&(struct timespec) { 0, 200 * 1000000L }, NULL);
    (void) close(p[1]);

    busy = done = 0;
    for (i = 0; i < 2; i++) {
        st[i] = child_wait(pid[i]);
        assert_true(WIFEXITED(st[i]));
        done += WEXITSTATUS(st[i]) == 0;
        busy += WEXITSTATUS(st[i]) == EXIT_BUSY;
    }

    assert_int_equal(done, 1);
    assert_int_equal(busy, 1);

    epoch = assert_consistent(c, "syn04095");
    assert_true(epoch == EPOCH + 10 || epoch == EPOCH + 11);
    assert_int_equal(assert_consistent(c, "greenroutes"), epoch);
    check_index(c, NFILE + NBIG, epoch, 0);
    assert_int_equal(tmp_left(c->emb_path), 0);
    assert_int_equal(tmp_left(c->vec_path), 0);
}


/*
 * A rebuild killed at each of its steps (kill -9, in a child): what the
 * next start finds, once mt_index_repair() ran, is a consistent pair,
 * the old one until the index is renamed, the new one from then on, and
 * no temporary file.  Each round changes the corpus, so that the IDF and
 * the vectors of two epochs differ.
 */
static void
test_rebuild_crash(void **state)
{
    ctx_t        *c = *state;
    int           i, rc;
    char          uid[32], bio[64], *data;
    pid_t         pid;
    uint64_t      epoch, want, before;

    setup17(c);
    before = EPOCH;

    for (i = 0; rebuild_steps[i] != NULL; i++) {
        (void) snprintf(uid, sizeof(uid), "crash%02d", i);
        (void) snprintf(bio, sizeof(bio), "Round %d of sourdough and %s", i,
                        i % 2 ? "kayaks" : "violins");
        data = cr_json(uid, bio);
        ingest_ok(c->fx->s, data, MT_INGEST_NDJSON, 1, 0);
        free(data);

        epoch = EPOCH + 10 * (uint64_t) (i + 1);
        pid = child_run(c, DO_REBUILD, rebuild_steps[i], epoch, 0, NULL);
        assert_killed(pid, rebuild_steps[i]);

        /* the next start */
        rc = mt_index_repair(&c->ix, c->emb_path);
        if (rc < 0) {
            fail_msg("repair after %s: %s", rebuild_steps[i], c->ix.error);
        }

        want = (i >= 4) ? epoch : before;
        assert_int_equal(rc, strcmp(rebuild_steps[i], "index-renamed") == 0);
        assert_int_equal(assert_consistent(c, "mindsovermoney"), want);
        assert_int_equal(tmp_left(c->emb_path), 0);
        assert_int_equal(tmp_left(c->vec_path), 0);

        /* and it brings the documents up to date with that state */
        use_embedder(c, want);
        assert_int_equal(mt_index_sync(&c->ix, 0), 0);
        assert_ready(c->fx->s, uid);
        assert_int_equal(assert_consistent(c, uid), want);
        before = want;
    }

    /* a rebuild after all that */
    rebuild_ok(c, EPOCH + 1000);
    assert_int_equal(assert_consistent(c, "crash00"), EPOCH + 1000);
}


/*
 * A sync killed after its upserts, before or after their msync: the
 * documents stay pending (the store is marked after the sync), the
 * index opens, and the next sync makes them ready.
 */
static void
test_sync_crash(void **state)
{
    ctx_t        *c = *state;
    int           i;
    char          bio[64];
    pid_t         pid;

    static const char *const  steps[] = { "sync-upserted", "sync-synced" };

    setup17(c);

    for (i = 0; i < 2; i++) {
        (void) snprintf(bio, sizeof(bio), "Night trains, take %d", i);
        reingest(c->fx->s, "greenroutes", bio);

        pid = child_run(c, DO_SYNC, steps[i], 0, 0, NULL);
        assert_killed(pid, steps[i]);

        assert_int_equal(mt_index_repair(&c->ix, c->emb_path), 0);
        assert_emb(c->fx->s, "greenroutes", "status", "pending");
        assert_int_equal(assert_consistent(c, "mindsovermoney"), EPOCH);

        sync_ok(c, 0, 1);
        assert_ready(c->fx->s, "greenroutes");
        assert_int_equal(assert_consistent(c, "greenroutes"), EPOCH);
        assert_int_equal(index_hash(c, "greenroutes", NULL),
                         text_hash(c->fx->s, "greenroutes"));
    }
}


/* a stop that says so from its STOP_AFTER-th call on */

static unsigned  stop_calls;
static unsigned  stop_after;

static int
stop_later(void)
{
    return ++stop_calls >= stop_after;
}


static void
test_stop(void **state)
{
    ctx_t         *c = *state;
    size_t         i;
    uint64_t       gen;
    mt_vindex_t   *vi;

    setup17(c);
    (void) index_hash(c, ids17[0], &gen);

    /* a forced sync told to stop on its fifth creator gives up there */
    stop_calls = 0;
    stop_after = 5;
    c->ix.params.stop = stop_later;
    memset(&c->prog, 0, sizeof(c->prog));
    assert_int_equal(mt_index_sync(&c->ix, 1), -1);
    assert_string_equal(c->ix.error, MT_INDEX_STOPPED);
    assert_int_equal(c->prog.processed, 0);
    assert_int_equal(stop_calls, 5);

    /* a rebuild too, in either pass; the old pair serves on */
    stop_calls = 0;
    stop_after = NFILE + 3;     /* pass 1 done, pass 2's third */
    assert_int_equal(mt_index_rebuild(&c->ix, c->emb_path, SEED, EPOCH + 1),
                     -1);
    assert_string_equal(c->ix.error, MT_INDEX_STOPPED);
    check_index(c, NFILE, EPOCH, 0);
    use_embedder(c, EPOCH);

    vi = open_index(c);
    assert_int_equal(mt_vindex_generation(vi), gen);
    mt_vindex_close(vi);

    /* without the stop the next ones do it all */
    c->ix.params.stop = NULL;
    c->ix.error[0] = '\0';
    sync_ok(c, 1, NFILE);

    for (i = 0; i < NFILE; i++) {
        assert_ready(c->fx->s, ids17[i]);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
#define T(f)  cmocka_unit_test_setup_teardown(f, ctx_setup, ctx_teardown)
        T(test_rebuild),
        T(test_search),
        T(test_sync),
        T(test_sync_pending),
        T(test_ids),
        T(test_epoch_mismatch),
        T(test_auto_lists),
        T(test_empty),
        T(test_rebuild_busy),
        T(test_rebuild_crash),
        T(test_sync_crash),
        T(test_stop),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

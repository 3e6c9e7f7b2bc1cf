/*
 * The indexer (see indexer.h).  Creators are read from the store, their
 * text embedded and written to the vector index in batches; each batch
 * ends with one store transaction that marks the batch's documents
 * ready.  Store reads that scan hold a read transaction, so the writes
 * come after the scan: the scan only collects ids.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter.h"
#include "indexer.h"
#include "indexer_int.h"


typedef struct {
    mt_ix_item_t           *items;
    size_t                  n;
    size_t                  cap;
} mt_ix_list_t;

/* what a scan callback needs */
typedef struct {
    mt_indexer_t           *ix;
    mt_embedder_t          *learn;      /* rebuild, pass 1 */
    mt_vindex_t            *build;      /* rebuild, pass 2 */
    float                  *vec;
    mt_ix_list_t           *list;
    mt_ix_list_t           *known;      /* sync: ready, the store unaware */
    size_t                  counted;
    int                     force;
    int                     failed;
    int                     stopped;    /* params.stop() said so */
} mt_ix_scan_t;


static int mt_ix_batch(mt_indexer_t *ix, mt_ix_item_t *items, size_t n,
    int *status);
static int mt_ix_add(mt_ix_list_t *l, const char *id, size_t len,
    uint64_t hash);
static void mt_ix_list_free(mt_ix_list_t *l);
static int mt_ix_collect(void *data, const char *id, size_t id_len,
    const char *doc, size_t doc_len);
static int mt_ix_learn(void *data, const char *id, size_t id_len,
    const char *doc, size_t doc_len);
static int mt_ix_build(void *data, const char *id, size_t id_len,
    const char *doc, size_t doc_len);
static int mt_ix_stopping(mt_ix_scan_t *sc);
static int mt_ix_tell_store(mt_indexer_t *ix, mt_ix_scan_t *sc,
    mt_ix_list_t *known);
static const char *mt_ix_why(const mt_ix_scan_t *sc, mt_store_rc_t src,
    const char *what);
static unsigned mt_index_auto_lists(size_t n, unsigned graph_m);
static size_t mt_ix_step(const mt_indexer_t *ix, size_t left);


uint64_t
mt_index_text_hash(const char *text, size_t len)
{
    /* as mt_creator_validate() computes meta->text_hash */
    return mt_hash64(text, len, MT_HASH_SEED);
}


int
mt_index_ids(mt_indexer_t *ix, const char *const *ids, const size_t *lens,
    size_t n, int *status)
{
    int            rc;
    size_t         i, b, m;
    mt_ix_item_t  *items;

    items = calloc(n ? n : 1, sizeof(mt_ix_item_t));
    if (items == NULL) {
        mt_ix_fail(ix, "no memory");
        return -1;
    }

    for (i = 0; i < n; i++) {
        items[i].id = (char *) ids[i];
        items[i].len = lens[i];
    }

    rc = 0;

    for (b = 0; b < n && rc == 0; b += m) {
        m = mt_ix_step(ix, n - b);
        rc = mt_ix_batch(ix, items + b, m, status + b);
    }

    free(items);

    return rc;
}


int
mt_index_sync(mt_indexer_t *ix, int force)
{
    int            rc, *status;
    size_t         b, n;
    mt_ix_list_t   list, known;
    mt_ix_scan_t   sc;
    mt_store_rc_t  src;

    memset(&list, 0, sizeof(list));
    memset(&known, 0, sizeof(known));
    memset(&sc, 0, sizeof(sc));
    sc.ix = ix;
    sc.list = &list;
    sc.force = force;

    /*
     * A store that keeps track of what is embedded hands over only the
     * rest (at a million creators: no document read at all once every
     * one is embedded); a forced sync reads every creator
     */

    if (!force && ix->store->ops->creator_scan_pending != NULL) {
        sc.known = &known;
        src = ix->store->ops->creator_scan_pending(ix->store,
                                                   ix->params.model,
                                                   ix->params.dims,
                                                   mt_ix_collect, &sc);
    } else {
        src = ix->store->ops->creator_scan(ix->store, mt_ix_collect, &sc);
    }

    if (src == MT_STORE_OK && !sc.failed && known.n > 0
        && mt_ix_tell_store(ix, &sc, &known) != 0)
    {
        mt_ix_list_free(&known);
        mt_ix_list_free(&list);
        return -1;
    }

    mt_ix_list_free(&known);

    if (src != MT_STORE_OK || sc.failed) {
        mt_ix_fail(ix, mt_ix_why(&sc, src, "no memory"));
        mt_ix_list_free(&list);
        return -1;
    }

    mt_ix_progress(ix, MT_IX_TOTAL, list.n);

    status = calloc(list.n ? list.n : 1, sizeof(int));
    if (status == NULL) {
        mt_ix_fail(ix, "no memory");
        mt_ix_list_free(&list);
        return -1;
    }

    rc = 0;

    for (b = 0; b < list.n && rc == 0; b += n) {
        if (mt_ix_stopping(&sc)) {
            mt_ix_fail(ix, MT_INDEX_STOPPED);
            rc = -1;
            break;
        }

        n = mt_ix_step(ix, list.n - b);
        rc = mt_ix_batch(ix, list.items + b, n, status + b);
    }

    free(status);
    mt_ix_list_free(&list);

    return rc;
}


int
mt_index_rebuild(mt_indexer_t *ix, const char *embedder_path, uint64_t seed,
    uint64_t epoch)
{
    int                  rc, lock, *status;
    char                 tmp[4096];
    size_t               b, n;
    mt_ix_list_t         list;
    mt_ix_scan_t         sc;
    mt_store_rc_t        src;
    mt_vindex_params_t   p;

    memset(&list, 0, sizeof(list));
    memset(&sc, 0, sizeof(sc));
    sc.ix = ix;
    sc.list = &list;
    tmp[0] = '\0';

    lock = mt_vindex_rebuild_lock(ix->index_path, ix->wait, ix->error,
                                  sizeof(ix->error));
    if (lock == -1) {
        if (errno == EWOULDBLOCK) {
            mt_ix_fail(ix, MT_INDEX_BUSY);
        }

        return -1;
    }

    mt_vindex_crash_point("rebuild-locked");

    /* no other rebuild runs: what a killed one left is of no use */
    (void) mt_vindex_remove_tmp(embedder_path);
    (void) mt_vindex_clean_tmp(ix->index_path);

    /*
     * Above the epochs on disk: a sync that holds the old state must
     * never take the new index for its own, even when two rebuilds start
     * within one millisecond.
     */
    epoch = mt_ix_next_epoch(ix, embedder_path, epoch);

    if (mt_ix_state_tmp(ix, embedder_path, epoch, tmp, sizeof(tmp)) != 0) {
        tmp[0] = '\0';
        rc = -1;
        goto done;
    }

    /* pass 1: the document frequencies of the whole corpus */

    sc.learn = mt_embedder_new(ix->params.dims, seed);
    sc.vec = malloc(ix->params.dims * sizeof(float));

    if (sc.learn == NULL || sc.vec == NULL) {
        mt_ix_fail(ix, "no memory");
        rc = -1;
        goto done;
    }

    src = ix->store->ops->creator_scan(ix->store, mt_ix_learn, &sc);
    if (src != MT_STORE_OK || sc.failed) {
        mt_ix_fail(ix, mt_ix_why(&sc, src, "no memory"));
        rc = -1;
        goto done;
    }

    mt_ix_progress(ix, MT_IX_TOTAL, sc.counted);
    mt_embedder_freeze(sc.learn);

    /* not published yet: the index is renamed first (mt_vcommit()) */
    if (mt_embedder_write(sc.learn, tmp, epoch, ix->error,
                          sizeof(ix->error))
        != 0)
    {
        rc = -1;
        goto done;
    }

    mt_vindex_crash_point("idf-written");

    /* pass 2: every vector, into a new file renamed over the old one */

    p = ix->params;
    p.model_epoch = epoch;

    if (p.lists == MT_INDEX_LISTS_AUTO) {
        p.lists = mt_index_auto_lists(sc.counted, p.graph_m);
    }

    /* the graph is linked at the commit: minutes for a million */
    p.graph_progress = ix->progress ? &ix->progress->linked : NULL;

    sc.build = mt_vindex_build_begin(ix->index_path, &p, ix->error,
                                     sizeof(ix->error));
    if (sc.build == NULL) {
        rc = -1;
        goto done;
    }

    src = ix->store->ops->creator_scan(ix->store, mt_ix_build, &sc);
    if (src != MT_STORE_OK || sc.failed) {
        mt_ix_fail(ix, mt_ix_why(&sc, src, "indexing failed"));
        mt_vindex_build_abort(sc.build);
        rc = -1;
        goto done;
    }

    mt_vindex_crash_point("index-built");

    rc = mt_vindex_build_commit_pair(sc.build, tmp, embedder_path, ix->error,
                                     sizeof(ix->error));
    mt_vindex_close(sc.build);

    /*
     * A failed commit may have renamed the index already: the state's
     * temporary file is then what a repair needs, and the next rebuild
     * or repair removes it otherwise.
     */
    tmp[0] = '\0';

    if (rc != 0) {
        goto done;
    }

    mt_vindex_crash_point("committed");

    /* then the documents: ready, for the text each was embedded from */

    status = calloc(list.n ? list.n : 1, sizeof(int));
    if (status == NULL) {
        mt_ix_fail(ix, "no memory");
        rc = -1;
        goto done;
    }

    for (b = 0; b < list.n && rc == 0; b += n) {
        n = mt_ix_step(ix, list.n - b);
        rc = mt_ix_mark(ix, list.items + b, n, status + b);
    }

    free(status);

done:

    if (tmp[0] != '\0') {
        (void) unlink(tmp);
    }

    mt_vindex_rebuild_unlock(lock);
    mt_embedder_free(sc.learn);
    free(sc.vec);
    mt_ix_list_free(&list);

    return rc;
}


/* one batch: read, embed, write the vectors, then mark the documents */

static int
mt_ix_batch(mt_indexer_t *ix, mt_ix_item_t *items, size_t n, int *status)
{
    int                  rc, ready;
    char                *text;
    float               *vec;
    size_t               i, tlen;
    mt_meta_t            meta;
    mt_text_t            doc;
    mt_vindex_t         *vi;
    mt_store_rc_t        src;
    mt_vindex_params_t   p;

    if (ix->bvec != NULL) {
        return mt_ix_batch_backends(ix, items, n, status);
    }

    vec = malloc(ix->params.dims * sizeof(float));
    if (vec == NULL) {
        mt_ix_fail(ix, "no memory");
        return -1;
    }

    /* should the file be missing, it is made for this embedder, exact */
    p = ix->params;
    p.model_epoch = ix->epoch;

    if (p.lists == MT_INDEX_LISTS_AUTO) {
        p.lists = 0;
    }

    vi = mt_vindex_open(ix->index_path, &p, 1, ix->error, sizeof(ix->error));
    if (vi == NULL) {
        free(vec);
        return -1;
    }

    if (mt_vindex_lock(vi) != 0) {
        mt_ix_fail(ix, "cannot lock the index");
        mt_vindex_close(vi);
        free(vec);
        return -1;
    }

    /* a rebuild renamed a new file in while this one waited for the lock */

    if (mt_vindex_replaced(vi)) {
        mt_vindex_unlock(vi);
        mt_vindex_close(vi);

        vi = mt_vindex_open(ix->index_path, &p, 1, ix->error,
                            sizeof(ix->error));
        if (vi == NULL || mt_vindex_lock(vi) != 0) {
            mt_vindex_close(vi);
            free(vec);
            return -1;
        }
    }

    if (mt_vindex_model_epoch(vi) != ix->epoch
        || mt_vindex_dims(vi) != ix->params.dims)
    {
        mt_ix_fail(ix, MT_INDEX_EMBEDDER_CHANGED);
        mt_vindex_unlock(vi);
        mt_vindex_close(vi);
        free(vec);
        return -1;
    }

    rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        status[i] = MT_INDEX_FAILED;

        src = ix->store->ops->creator_get(ix->store, items[i].id,
                                          items[i].len, &doc, NULL);
        if (src == MT_STORE_NOT_FOUND) {
            status[i] = MT_INDEX_NOT_FOUND;
            mt_ix_progress(ix, MT_IX_ERRORS, 1);
            continue;
        }

        if (src != MT_STORE_OK) {
            mt_ix_fail(ix, mt_store_error(ix->store));
            rc = -1;
            break;
        }

        text = NULL;

        if (mt_ix_prepare(ix, doc.data, doc.len, &text, &tlen,
                          &items[i].text_hash, &meta, &ready)
                == 0
            && mt_embed(ix->emb, text, tlen, vec) == 0
            && mt_vindex_upsert(vi, items[i].id, items[i].len,
                                items[i].text_hash, &meta, vec, ix->error,
                                sizeof(ix->error))
               == 0)
        {
            status[i] = MT_INDEX_DONE;
            mt_ix_progress(ix, MT_IX_PROCESSED, 1);

        } else {
            mt_ix_progress(ix, MT_IX_ERRORS, 1);
        }

        free(text);
        free(doc.data);
    }

    /* the vectors reach the disk before the store says they are there */

    if (rc == 0) {
        mt_vindex_crash_point("sync-upserted");

        rc = mt_vindex_sync(vi, ix->error, sizeof(ix->error));

        if (rc == 0) {
            mt_vindex_crash_point("sync-synced");
        }
    }

    mt_vindex_unlock(vi);
    mt_vindex_close(vi);
    free(vec);

    if (rc != 0) {
        return rc;
    }

    return mt_ix_mark(ix, items, n, status);
}


static int
mt_ix_collect(void *data, const char *id, size_t id_len, const char *doc,
    size_t doc_len)
{
    mt_ix_scan_t  *sc = data;
    int            ready;
    char          *text;
    size_t         tlen;
    uint64_t       hash;

    if (mt_ix_stopping(sc)) {
        return 1;
    }

    if (mt_ix_prepare(sc->ix, doc, doc_len, &text, &tlen, &hash, NULL, &ready)
        != 0)
    {
        /* a document that does not parse stays out; the scan goes on */
        mt_ix_progress(sc->ix, MT_IX_ERRORS, 1);
        return 0;
    }

    free(text);

    if (ready && !sc->force) {
        if (sc->known != NULL && mt_ix_add(sc->known, id, id_len, hash) != 0)
        {
            sc->failed = 1;
            return 1;
        }

        return 0;
    }

    if (mt_ix_add(sc->list, id, id_len, hash) != 0) {
        sc->failed = 1;
        return 1;
    }

    return 0;
}


static int
mt_ix_learn(void *data, const char *id, size_t id_len, const char *doc,
    size_t doc_len)
{
    mt_ix_scan_t  *sc = data;
    int            ready;
    char          *text;
    size_t         tlen;
    uint64_t       hash;

    if (mt_ix_stopping(sc)) {
        return 1;
    }

    if (mt_ix_prepare(sc->ix, doc, doc_len, &text, &tlen, &hash, NULL, &ready)
        != 0)
    {
        return 0;
    }

    if (mt_embedder_add_doc(sc->learn, text, tlen) != 0) {
        free(text);
        sc->failed = 1;
        return 1;
    }

    free(text);

    (void) id;
    (void) id_len;
    sc->counted++;

    return 0;
}


static int
mt_ix_build(void *data, const char *id, size_t id_len, const char *doc,
    size_t doc_len)
{
    mt_ix_scan_t  *sc = data;
    int            ready;
    char          *text;
    size_t         tlen;
    uint64_t       hash;
    mt_meta_t      meta;
    mt_indexer_t  *ix = sc->ix;

    if (mt_ix_stopping(sc)) {
        return 1;
    }

    if (mt_ix_prepare(ix, doc, doc_len, &text, &tlen, &hash, &meta, &ready)
        != 0)
    {
        mt_ix_progress(ix, MT_IX_ERRORS, 1);
        return 0;
    }

    if (mt_embed(sc->learn, text, tlen, sc->vec) != 0
        || mt_vindex_build_add(sc->build, id, id_len, hash, &meta, sc->vec)
           != 0
        || mt_ix_add(sc->list, id, id_len, hash) != 0)
    {
        free(text);
        sc->failed = 1;
        return 1;
    }

    free(text);
    mt_ix_progress(ix, MT_IX_PROCESSED, 1);

    return 0;
}


static int
mt_ix_add(mt_ix_list_t *l, const char *id, size_t len, uint64_t hash)
{
    size_t         cap;
    mt_ix_item_t  *items;

    if (l->n == l->cap) {
        cap = l->cap ? l->cap * 2 : 256;
        items = realloc(l->items, cap * sizeof(mt_ix_item_t));
        if (items == NULL) {
            return -1;
        }

        l->items = items;
        l->cap = cap;
    }

    l->items[l->n].id = malloc(len + 1);
    if (l->items[l->n].id == NULL) {
        return -1;
    }

    memcpy(l->items[l->n].id, id, len);
    l->items[l->n].id[len] = '\0';
    l->items[l->n].len = len;
    l->items[l->n].text_hash = hash;
    l->n++;

    return 0;
}


static void
mt_ix_list_free(mt_ix_list_t *l)
{
    size_t  i;

    for (i = 0; i < l->n; i++) {
        free(l->items[i].id);
    }

    free(l->items);
    memset(l, 0, sizeof(*l));
}


void
mt_ix_progress(const mt_indexer_t *ix, int which, uint64_t n)
{
    uint64_t  *field;

    if (ix->progress == NULL) {
        return;
    }

    field = (which == MT_IX_TOTAL) ? &ix->progress->total
            : (which == MT_IX_PROCESSED) ? &ix->progress->processed
            : &ix->progress->errors;

    (void) __atomic_add_fetch(field, n, __ATOMIC_RELAXED);
}


void
mt_ix_fail(mt_indexer_t *ix, const char *what)
{
    (void) snprintf(ix->error, sizeof(ix->error), "%s", what);
}


/*
 * IVF lists for n creators: the power of two at or below sqrt(n), so a
 * list holds about sqrt(n) creators (256 lists for 100,000); under 4,096
 * creators an exact scan is cheap enough and no lists are trained, but
 * for a graph: its walks start from the lists' entries, and without them
 * a query far from the records' usual words can end in the wrong part of
 * the graph (from 256 creators, 8 lists and up, a list's about sqrt(n)).
 */

static unsigned
mt_index_auto_lists(size_t n, unsigned graph_m)
{
    unsigned  lists;

    if (n < 4096) {
        if (graph_m == 0 || n < 256) {
            return 0;
        }

        for (lists = 8; (size_t) lists * lists * 4 <= n; lists *= 2) {
            /* void */
        }

        return lists;
    }

    for (lists = 64; (size_t) lists * lists * 4 <= n && lists < 4096;
         lists *= 2)
    {
        /* void */
    }

    return lists;
}


/* the next batch: ix->batch creators (at least one), or what is left */

static size_t
mt_ix_step(const mt_indexer_t *ix, size_t left)
{
    size_t  batch;

    batch = ix->batch ? ix->batch : 1;

    return (left < batch) ? left : batch;
}


/*
 * Creators whose documents say ready, visited by a pending scan: the
 * store is told (their documents stay as they are), so that the next
 * sync skips them.  In batches, each its own transaction: a store
 * written by an older module tells it once, a batch at a time.  -1 has
 * said why (mt_ix_fail).
 */

static int
mt_ix_tell_store(mt_indexer_t *ix, mt_ix_scan_t *sc, mt_ix_list_t *known)
{
    int     *status;
    size_t   b, i, n;

    n = mt_ix_step(ix, known->n);

    status = malloc(n * sizeof(int));
    if (status == NULL) {
        mt_ix_fail(ix, "no memory");
        return -1;
    }

    for (i = 0; i < n; i++) {
        status[i] = MT_INDEX_DONE;
    }

    for (b = 0; b < known->n; b += n) {
        if (mt_ix_stopping(sc)) {
            break;
        }

        n = mt_ix_step(ix, known->n - b);

        if (mt_ix_mark(ix, known->items + b, n, status) != 0) {
            free(status);
            return -1;
        }
    }

    free(status);

    return 0;
}


/* params.stop() asked between creators; once it said so, failed too */

static int
mt_ix_stopping(mt_ix_scan_t *sc)
{
    if (!sc->stopped && sc->ix->params.stop != NULL
        && sc->ix->params.stop())
    {
        sc->stopped = 1;
        sc->failed = 1;
    }

    return sc->stopped;
}


/* why a scan failed: the store, a stop, or what the caller says */

static const char *
mt_ix_why(const mt_ix_scan_t *sc, mt_store_rc_t src, const char *what)
{
    if (src != MT_STORE_OK) {
        return mt_store_error(sc->ix->store);
    }

    return sc->stopped ? MT_INDEX_STOPPED : what;
}

/*
 * The indexer: turns stored creators into vectors in the embedded index
 * and marks their documents' embedding ready.  Every call blocks (store
 * reads and writes, file I/O): the module runs them on its thread pool.
 * No nginx types.
 */

#ifndef MT_INDEXER_H
#define MT_INDEXER_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "embed.h"
#include "store.h"
#include "vindex.h"


/* mt_index_sync()'s error when a rebuild brought another embedder state */
#define MT_INDEX_EMBEDDER_CHANGED  "embedder changed"

/* mt_index_rebuild()'s error when another one runs (ix->wait 0) */
#define MT_INDEX_BUSY  "another rebuild is running"
/*
 * params.stop() said to stop (the process is exiting): a scan, a sync
 * or a rebuild gives up with this error between two creators, leaving
 * what it had written as consistent as a failure does.
 */
#define MT_INDEX_STOPPED  "stopped: the process is exiting"

/* params.lists: as many IVF lists as suit the corpus a rebuild finds */
#define MT_INDEX_LISTS_AUTO  0xffffffffu

/*
 * Progress, written with atomic stores so that another thread (or
 * another process, when it lives in shared memory) may read it while a
 * job runs.
 */
typedef struct {
    uint64_t                total;
    uint64_t                processed;
    uint64_t                errors;
    uint64_t                linked;     /* a rebuild's graph, of total */
} mt_index_progress_t;

typedef struct {
    mt_store_t             *store;
    const mt_embedder_t    *emb;        /* frozen */
    uint64_t                epoch;      /* of emb */
    const char             *index_path;
    mt_vindex_params_t      params;     /* for a new index file */
    int64_t                 now_ms;
    size_t                  batch;      /* creators per store write */
    mt_index_progress_t    *progress;   /* may be NULL */
    int                     wait;       /* rebuild: wait for another */

    /*
     * Backends in place of emb and the index file (index_path unused,
     * sync and ids only): a batch's texts go to bemb->embed() and its
     * vectors, with their documents, to bvec->upsert(), both blocking;
     * a failure of either fails the batch (the creators stay pending).
     * NULL: the local embedder and index file.
     */
    mt_emb_t               *bemb;
    mt_vec_t               *bvec;
    char                    error[256];
} mt_indexer_t;

/* the outcome for each id of mt_index_ids() */
#define MT_INDEX_DONE       0
#define MT_INDEX_NOT_FOUND  1
#define MT_INDEX_FAILED     2

/*
 * Embeds and indexes the creators named, now; status[i] tells each one.
 * Returns 0, or -1 when the store or the index failed as a whole (error).
 */
int mt_index_ids(mt_indexer_t *ix, const char *const *ids,
    const size_t *lens, size_t n, int *status);

/*
 * Indexes every creator whose embedding is not ready for its current
 * text (force: every creator), with the embedder it was given.  Each
 * batch opens the index afresh and takes its writer lock, so a rebuild
 * by another process in between is seen; when that rebuild brought a new
 * embedder state the sync stops (-1, MT_INDEX_EMBEDDER_CHANGED): the
 * vectors of two states do not compare.
 */
int mt_index_sync(mt_indexer_t *ix, int force);

/*
 * The full refresh: a new IDF from every stored creator's text and a new
 * index made with it, published together.  One at a time across every
 * process (mt_vindex_rebuild_lock()): when another runs it waits
 * (ix->wait) or fails at once with MT_INDEX_BUSY.  The state is written
 * to "<embedder_path>.tmp.<epoch>" and the index to its temporary file,
 * both synced, then the index and the state are renamed in that order
 * under the index's writer lock.  A kill at any point leaves the old
 * pair, or the new index with its state still under the temporary name,
 * which mt_index_repair() renames into place.  The epoch used is at
 * least epoch and above the epochs of the files it replaces.  ix->emb
 * and ix->epoch are ignored and left alone.
 */
int mt_index_rebuild(mt_indexer_t *ix, const char *embedder_path,
    uint64_t seed, uint64_t epoch);

/*
 * After a crash: when the index records an epoch that the embedder state
 * at embedder_path does not have, and "<embedder_path>.tmp.<epoch>" has
 * it (a rebuild killed between its two renames), renames that into
 * place; removes the temporary files of killed writers.  Nothing when a
 * rebuild runs (it leaves a consistent pair).  Returns 1 when it renamed
 * a state, 0 when it had nothing to repair (or a rebuild runs), -1 on an
 * error (ix->error).  A mismatch it cannot repair is left for a rebuild.
 */
int mt_index_repair(mt_indexer_t *ix, const char *embedder_path);

/* the text hash the documents and the index both use */
uint64_t mt_index_text_hash(const char *text, size_t len);

#endif /* MT_INDEXER_H */

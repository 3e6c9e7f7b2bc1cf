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

#include "embed.h"
#include "store.h"
#include "vindex.h"


#define MT_INDEX_MODEL       "local-tfidf-v1"

/* mt_index_sync()'s error when a rebuild brought another embedder state */
#define MT_INDEX_EMBEDDER_CHANGED  "embedder changed"

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
 * The full refresh: a new IDF from every stored creator's text, saved to
 * embedder_path under a new epoch, and a new index file built beside the
 * old one and renamed over ix->index_path.  ix->emb and ix->epoch are
 * ignored and left alone.
 */
int mt_index_rebuild(mt_indexer_t *ix, const char *embedder_path,
    uint64_t seed, uint64_t epoch);

/* the text hash the documents and the index both use */
uint64_t mt_index_text_hash(const char *text, size_t len);

#endif /* MT_INDEXER_H */

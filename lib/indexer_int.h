/*
 * Inside the indexer (indexer.c, indexer_backends.c): the items of a
 * batch and the steps the local and the backend batches share.
 */

#ifndef MT_INDEXER_INT_H
#define MT_INDEXER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "indexer.h"


/* the counters of mt_index_progress_t */
#define MT_IX_TOTAL      0
#define MT_IX_PROCESSED  1
#define MT_IX_ERRORS     2

typedef struct {
    char                   *id;
    size_t                  len;
    uint64_t                text_hash;
} mt_ix_item_t;


/*
 * A stored creator's text (malloc'd), its hash, what filters see (meta
 * may be NULL), and whether its embedding is ready for that text with
 * this model; -1 when the document does not parse.
 */
int mt_ix_prepare(const mt_indexer_t *ix, const char *doc, size_t len,
    char **text, size_t *text_len, uint64_t *hash, mt_meta_t *meta,
    int *ready);
/* the documents of the items done marked ready, in one transaction */
int mt_ix_mark(mt_indexer_t *ix, const mt_ix_item_t *items, size_t n,
    const int *status);
void mt_ix_progress(const mt_indexer_t *ix, int which, uint64_t n);
void mt_ix_fail(mt_indexer_t *ix, const char *what);

/*
 * The embedder state (indexer_state.c): the next epoch, at least epoch
 * and above those of the files on disk; the temporary name of epoch's
 * state, which one rebuild writes.
 */
uint64_t mt_ix_next_epoch(const mt_indexer_t *ix, const char *embedder_path,
    uint64_t epoch);
int mt_ix_state_tmp(mt_indexer_t *ix, const char *embedder_path,
    uint64_t epoch, char *tmp, size_t len);

/* a batch through ix->bemb and ix->bvec (indexer_backends.c) */
int mt_ix_batch_backends(mt_indexer_t *ix, mt_ix_item_t *items, size_t n,
    int *status);

#endif /* MT_INDEXER_INT_H */

/*
 * The embedder state beside the index file (indexer.h): a rebuild's
 * epoch and the temporary name it writes the state under, and the
 * repair of a rebuild killed between its two renames.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "indexer.h"
#include "indexer_int.h"


int
mt_index_repair(mt_indexer_t *ix, const char *embedder_path)
{
    int             rc, lock, ok;
    char            tmp[4096], err[256];
    unsigned        dims;
    uint64_t        iepoch, epoch;
    mt_vindex_t    *vi;
    mt_embedder_t  *emb;

    lock = mt_vindex_rebuild_lock(ix->index_path, 0, ix->error,
                                  sizeof(ix->error));
    if (lock == -1) {
        /* a rebuild runs: it publishes a consistent pair itself */
        return (errno == EWOULDBLOCK) ? 0 : -1;
    }

    rc = 0;

    vi = mt_vindex_open(ix->index_path, NULL, 0, err, sizeof(err));

    if (vi != NULL) {
        iepoch = mt_vindex_model_epoch(vi);
        dims = mt_vindex_dims(vi);
        mt_vindex_close(vi);

        emb = mt_embedder_map(embedder_path, &epoch, err, sizeof(err));
        ok = emb != NULL && epoch == iepoch && mt_embedder_dims(emb) == dims;
        mt_embedder_free(emb);

        /* killed between the renames: the index's state is still "tmp" */

        if (!ok
            && mt_ix_state_tmp(ix, embedder_path, iepoch, tmp, sizeof(tmp))
               == 0)
        {
            emb = mt_embedder_map(tmp, &epoch, err, sizeof(err));

            if (emb != NULL && epoch == iepoch
                && mt_embedder_dims(emb) == dims)
            {
                if (rename(tmp, embedder_path) == 0) {
                    rc = 1;

                } else {
                    (void) snprintf(ix->error, sizeof(ix->error),
                                    "rename %.160s: %s", tmp,
                                    strerror(errno));
                    rc = -1;
                }
            }

            mt_embedder_free(emb);
        }
    }

    (void) mt_vindex_remove_tmp(embedder_path);
    (void) mt_vindex_clean_tmp(ix->index_path);

    mt_vindex_rebuild_unlock(lock);

    return rc;
}


/* the next epoch: at least epoch, above those of the files on disk */

uint64_t
mt_ix_next_epoch(const mt_indexer_t *ix, const char *embedder_path,
    uint64_t epoch)
{
    char            err[256];
    uint64_t        e;
    mt_vindex_t    *vi;
    mt_embedder_t  *emb;

    vi = mt_vindex_open(ix->index_path, NULL, 0, err, sizeof(err));
    if (vi != NULL) {
        e = mt_vindex_model_epoch(vi);
        epoch = (e >= epoch && e < UINT64_MAX) ? e + 1 : epoch;
        mt_vindex_close(vi);
    }

    emb = mt_embedder_map(embedder_path, &e, err, sizeof(err));
    if (emb != NULL) {
        epoch = (e >= epoch && e < UINT64_MAX) ? e + 1 : epoch;
        mt_embedder_free(emb);
    }

    return epoch;
}


/* the temporary name of the state of epoch: one rebuild writes it */

int
mt_ix_state_tmp(mt_indexer_t *ix, const char *embedder_path, uint64_t epoch,
    char *tmp, size_t len)
{
    if ((size_t) snprintf(tmp, len, "%s.tmp.%" PRIu64, embedder_path, epoch)
        >= len)
    {
        mt_ix_fail(ix, "embedder path too long");
        return -1;
    }

    return 0;
}

/*
 * A batch of the indexer through backends (indexer.h: bemb, bvec), as a
 * remote index needs: every text of the batch embedded in one call of
 * the embedder (which splits it as its service's limits say), every
 * vector written in one call of the index with its document (a remote
 * index keeps the metadata filters read), then the documents marked.
 */

#include <stdlib.h>
#include <string.h>

#include "indexer_int.h"
#include "json.h"


int
mt_ix_batch_backends(mt_indexer_t *ix, mt_ix_item_t *items, size_t n,
    int *status)
{
    int                rc, ready;
    char             **texts;
    float             *vecs;
    size_t             i, j, m, tlen, *idx;
    unsigned           dims;
    mt_meta_t         *metas;
    mt_span_t         *spans;
    mt_text_t          doc;
    mt_json_err_t      err;
    mt_json_doc_t    **jdocs;
    mt_store_rc_t      src;
    mt_vec_record_t   *recs;

    dims = ix->params.dims;
    rc = 0;
    m = 0;

    texts = calloc(n, sizeof(char *));
    jdocs = calloc(n, sizeof(mt_json_doc_t *));
    spans = calloc(n, sizeof(mt_span_t));
    metas = calloc(n, sizeof(mt_meta_t));
    recs = calloc(n, sizeof(mt_vec_record_t));
    idx = calloc(n, sizeof(size_t));
    vecs = malloc(n * dims * sizeof(float));

    if (n == 0 || texts == NULL || jdocs == NULL || spans == NULL
        || metas == NULL || recs == NULL || idx == NULL || vecs == NULL)
    {
        mt_ix_fail(ix, n ? "no memory" : "an empty batch");
        rc = -1;
        goto done;
    }

    for (i = 0; i < n; i++) {
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
            goto done;
        }

        if (mt_ix_prepare(ix, doc.data, doc.len, &texts[m], &tlen,
                          &items[i].text_hash, &metas[m], &ready)
            != 0)
        {
            free(doc.data);
            mt_ix_progress(ix, MT_IX_ERRORS, 1);
            continue;
        }

        /* the document itself: a remote index keeps its metadata */
        jdocs[m] = mt_json_parse_stored(doc.data, doc.len, &err);
        free(doc.data);

        if (jdocs[m] == NULL) {
            free(texts[m]);
            texts[m] = NULL;
            mt_ix_progress(ix, MT_IX_ERRORS, 1);
            continue;
        }

        spans[m].data = texts[m];
        spans[m].len = tlen;
        idx[m] = i;
        m++;
    }

    if (m == 0) {
        goto done;
    }

    if (ix->bemb->ops->embed(ix->bemb, spans, m, vecs, ix->error,
                             sizeof(ix->error))
        != 0)
    {
        rc = -1;
        goto done;
    }

    for (j = 0; j < m; j++) {
        i = idx[j];
        recs[j].id = items[i].id;
        recs[j].id_len = items[i].len;
        recs[j].text_hash = items[i].text_hash;
        recs[j].meta = &metas[j];
        recs[j].vec = vecs + j * dims;
        recs[j].doc = mt_json_root(jdocs[j]);
    }

    if (ix->bvec->ops->upsert(ix->bvec, recs, m, ix->error,
                              sizeof(ix->error))
        != 0)
    {
        rc = -1;
        goto done;
    }

    for (j = 0; j < m; j++) {
        status[idx[j]] = MT_INDEX_DONE;
    }

    mt_ix_progress(ix, MT_IX_PROCESSED, m);

done:

    for (j = 0; j < m; j++) {
        free(texts[j]);
        mt_json_free(jdocs[j]);
    }

    free(texts);
    free(jdocs);
    free(spans);
    free(metas);
    free(recs);
    free(idx);
    free(vecs);

    if (rc != 0) {
        return rc;
    }

    return mt_ix_mark(ix, items, n, status);
}

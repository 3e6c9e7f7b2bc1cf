/*
 * A stored creator as the indexer sees it (indexer_int.h): its text, the
 * text's hash and whether its embedding is ready for them, read from the
 * document; and the documents of a batch marked ready, which also tells
 * a store that keeps track (store.h, creator_scan_pending) that the next
 * sync may skip them.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indexer.h"
#include "indexer_int.h"
#include "json.h"


/*
 * Parses a stored creator: its embedded text, the text's hash, its filter
 * metadata, and whether its embedding is ready for that text already.
 */

int
mt_ix_prepare(const mt_indexer_t *ix, const char *doc, size_t len,
    char **text, size_t *text_len, uint64_t *hash, mt_meta_t *meta,
    int *ready)
{
    char              hex[17];
    mt_json_err_t     err;
    mt_json_doc_t    *d;
    const mt_json_t  *root, *emb, *v;

    d = mt_json_parse_stored(doc, len, &err);
    if (d == NULL) {
        return -1;
    }

    root = mt_json_root(d);

    *text = mt_creator_text(root, text_len);
    if (*text == NULL) {
        mt_json_free(d);
        return -1;
    }

    *hash = mt_index_text_hash(*text, *text_len);

    if (meta != NULL) {
        mt_meta_from_creator(root, meta);
    }

    *ready = 0;
    emb = mt_json_get(root, "embedding");

    if (emb != NULL && emb->type == MT_JSON_OBJECT) {
        (void) snprintf(hex, sizeof(hex), "%016" PRIx64, *hash);

        v = mt_json_get(emb, "status");
        *ready = (v != NULL && v->type == MT_JSON_STRING
                  && strcmp(v->u.string.s, "ready") == 0);

        v = mt_json_get(emb, "textHash");
        *ready = *ready && v != NULL && v->type == MT_JSON_STRING
                 && strcmp(v->u.string.s, hex) == 0;

        v = mt_json_get(emb, "model");
        *ready = *ready && v != NULL && v->type == MT_JSON_STRING
                 && strcmp(v->u.string.s, ix->params.model) == 0;

        v = mt_json_get(emb, "dimensions");
        *ready = *ready && v != NULL && v->type == MT_JSON_NUMBER
                 && v->u.number.is_int
                 && v->u.number.i == (int64_t) ix->params.dims;
    }

    mt_json_free(d);

    return 0;
}


int
mt_ix_mark(mt_indexer_t *ix, const mt_ix_item_t *items, size_t n,
    const int *status)
{
    size_t                  i, m, updated;
    mt_store_rc_t           src;
    mt_creator_embedded_t  *emb;

    emb = calloc(n ? n : 1, sizeof(mt_creator_embedded_t));
    if (emb == NULL) {
        mt_ix_fail(ix, "no memory");
        return -1;
    }

    m = 0;

    for (i = 0; i < n; i++) {
        if (status[i] != MT_INDEX_DONE) {
            continue;
        }

        emb[m].unique_id = items[i].id;
        emb[m].unique_id_len = items[i].len;
        emb[m].info.model = ix->params.model;
        emb[m].info.dimensions = ix->params.dims;
        emb[m].info.text_hash = items[i].text_hash;
        emb[m].info.updated_at_ms = ix->now_ms;
        emb[m].info.status = "ready";
        m++;
    }

    src = (m == 0) ? MT_STORE_OK
                   : ix->store->ops->creator_set_embedding(ix->store, emb, m,
                                                           &updated);
    free(emb);

    if (src != MT_STORE_OK) {
        mt_ix_fail(ix, mt_store_error(ix->store));
        return -1;
    }

    return 0;
}

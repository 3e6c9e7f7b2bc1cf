/*
 * The local backends (backend.h): the embedder of embed.h and the index
 * file of vindex.h behind the interfaces.  Thin on purpose: they add
 * what the interfaces promise (hits that own their ids, errors as text)
 * and nothing else, so the embedded default costs what it did.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"


typedef struct {
    mt_emb_t                emb;        /* first: the interface */
    mt_embedder_t          *e;
    uint64_t                epoch;
    int                     own;
} mt_emb_local_t;

typedef struct {
    mt_vec_t                vec;        /* first: the interface */
    mt_vindex_t            *vi;
    int                     own;
} mt_vec_local_t;


static const char *mt_emb_local_model(const mt_emb_t *e);
static unsigned mt_emb_local_dims(const mt_emb_t *e);
static uint64_t mt_emb_local_epoch(const mt_emb_t *e);
static int mt_emb_local_embed(const mt_emb_t *e, const mt_span_t *texts,
    size_t n, float *out, char *err, size_t errlen);
static void mt_emb_local_free(mt_emb_t *e);

static int mt_vec_local_query(mt_vec_t *v, const float *q, unsigned dims,
    const mt_filter_t *f, size_t k, mt_vec_hits_t *out, char *err,
    size_t errlen);
static int mt_vec_local_upsert(mt_vec_t *v, const mt_vec_record_t *recs,
    size_t n, char *err, size_t errlen);
static int mt_vec_local_remove(mt_vec_t *v, const mt_span_t *ids, size_t n,
    size_t *removed, char *err, size_t errlen);
static size_t mt_vec_local_count(const mt_vec_t *v);
static uint64_t mt_vec_local_generation(const mt_vec_t *v);
static void mt_vec_local_free(mt_vec_t *v);


static const mt_emb_ops_t  mt_emb_local_ops = {
    "local", MT_BACKEND_SYNC,
    mt_emb_local_model, mt_emb_local_dims, mt_emb_local_epoch,
    mt_emb_local_embed, NULL, NULL, mt_emb_local_free
};

static const mt_vec_ops_t  mt_vec_local_ops = {
    "local", MT_BACKEND_SYNC,
    mt_vec_local_query, NULL, NULL, mt_vec_local_upsert,
    mt_vec_local_remove, mt_vec_local_count, mt_vec_local_generation,
    mt_vec_local_free
};


/* The embedder */

mt_emb_t *
mt_emb_local_new(mt_embedder_t *e, uint64_t epoch, int own)
{
    mt_emb_local_t  *l;

    if (e == NULL) {
        return NULL;
    }

    l = calloc(1, sizeof(mt_emb_local_t));
    if (l == NULL) {
        return NULL;
    }

    l->emb.ops = &mt_emb_local_ops;
    l->e = e;
    l->epoch = epoch;
    l->own = own;

    return &l->emb;
}


static const char *
mt_emb_local_model(const mt_emb_t *e)
{
    (void) e;

    return MT_EMB_LOCAL_MODEL;
}


static unsigned
mt_emb_local_dims(const mt_emb_t *e)
{
    return mt_embedder_dims(((const mt_emb_local_t *) e)->e);
}


static uint64_t
mt_emb_local_epoch(const mt_emb_t *e)
{
    return ((const mt_emb_local_t *) e)->epoch;
}


static int
mt_emb_local_embed(const mt_emb_t *e, const mt_span_t *texts, size_t n,
    float *out, char *err, size_t errlen)
{
    size_t                 i;
    unsigned               dims;
    const mt_emb_local_t  *l = (const mt_emb_local_t *) e;

    dims = mt_embedder_dims(l->e);

    for (i = 0; i < n; i++) {
        if (mt_embed(l->e, texts[i].data, texts[i].len, out + i * dims)
            != 0)
        {
            (void) snprintf(err, errlen, "out of memory");
            return -1;
        }
    }

    return 0;
}


static void
mt_emb_local_free(mt_emb_t *e)
{
    mt_emb_local_t  *l = (mt_emb_local_t *) e;

    if (l->own) {
        mt_embedder_free(l->e);
    }

    free(l);
}


/* The vector index */

mt_vec_t *
mt_vec_local_new(mt_vindex_t *vi, int own)
{
    mt_vec_local_t  *l;

    if (vi == NULL) {
        return NULL;
    }

    l = calloc(1, sizeof(mt_vec_local_t));
    if (l == NULL) {
        return NULL;
    }

    l->vec.ops = &mt_vec_local_ops;
    l->vi = vi;
    l->own = own;

    return &l->vec;
}


void
mt_vec_hits_free(mt_vec_hits_t *h)
{
    if (h == NULL) {
        return;
    }

    free(h->hits);
    free(h->ids);
    memset(h, 0, sizeof(mt_vec_hits_t));
}


/*
 * The search, then the ids copied out of the mapping: the hits outlive
 * the handle (a rebuild may close it while they are being used).
 */

static int
mt_vec_local_query(mt_vec_t *v, const float *q, unsigned dims,
    const mt_filter_t *f, size_t k, mt_vec_hits_t *out, char *err,
    size_t errlen)
{
    char            *p;
    size_t           i, n, bytes, len;
    mt_vhit_t       *slots;
    const char      *id;
    mt_vec_local_t  *l = (mt_vec_local_t *) v;

    memset(out, 0, sizeof(mt_vec_hits_t));

    if (dims != mt_vindex_dims(l->vi)) {
        (void) snprintf(err, errlen, "a query of %u dimensions for an "
                        "index of %u", dims, mt_vindex_dims(l->vi));
        return -1;
    }

    out->total = mt_vindex_live(l->vi);

    if (k == 0) {
        return 0;
    }

    slots = malloc(k * sizeof(mt_vhit_t));
    if (slots == NULL) {
        (void) snprintf(err, errlen, "out of memory");
        return -1;
    }

    n = mt_vindex_search(l->vi, q, f, k, slots);
    bytes = 0;

    for (i = 0; i < n; i++) {
        (void) mt_vindex_id(l->vi, slots[i].slot, &len);
        bytes += len + 1;
    }

    out->hits = malloc((n ? n : 1) * sizeof(mt_vec_hit_t));
    out->ids = malloc(bytes ? bytes : 1);

    if (out->hits == NULL || out->ids == NULL) {
        free(slots);
        mt_vec_hits_free(out);
        (void) snprintf(err, errlen, "out of memory");
        return -1;
    }

    p = out->ids;

    for (i = 0; i < n; i++) {
        id = mt_vindex_id(l->vi, slots[i].slot, &len);

        memcpy(p, id, len);
        p[len] = '\0';

        out->hits[i].id = p;
        out->hits[i].id_len = len;
        out->hits[i].score = slots[i].score;
        p += len + 1;
    }

    out->n = n;
    free(slots);

    return 0;
}


static int
mt_vec_local_upsert(mt_vec_t *v, const mt_vec_record_t *recs, size_t n,
    char *err, size_t errlen)
{
    int              rc;
    size_t           i;
    mt_vec_local_t  *l = (mt_vec_local_t *) v;

    if (mt_vindex_lock(l->vi) != 0) {
        (void) snprintf(err, errlen, "vector index lock: %s",
                        strerror(errno));
        return -1;
    }

    rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        rc = mt_vindex_upsert(l->vi, recs[i].id, recs[i].id_len,
                              recs[i].text_hash, recs[i].meta, recs[i].vec,
                              err, errlen);
    }

    mt_vindex_unlock(l->vi);

    return rc;
}


static int
mt_vec_local_remove(mt_vec_t *v, const mt_span_t *ids, size_t n,
    size_t *removed, char *err, size_t errlen)
{
    int              rc;
    size_t           i;
    mt_vec_local_t  *l = (mt_vec_local_t *) v;

    *removed = 0;

    if (mt_vindex_lock(l->vi) != 0) {
        (void) snprintf(err, errlen, "vector index lock: %s",
                        strerror(errno));
        return -1;
    }

    rc = 0;

    for (i = 0; i < n; i++) {
        rc = mt_vindex_delete(l->vi, ids[i].data, ids[i].len, err, errlen);
        if (rc < 0) {
            break;
        }

        *removed += (size_t) rc;
        rc = 0;
    }

    mt_vindex_unlock(l->vi);

    return rc;
}


static size_t
mt_vec_local_count(const mt_vec_t *v)
{
    return mt_vindex_live(((const mt_vec_local_t *) v)->vi);
}


static uint64_t
mt_vec_local_generation(const mt_vec_t *v)
{
    return mt_vindex_generation(((const mt_vec_local_t *) v)->vi);
}


static void
mt_vec_local_free(mt_vec_t *v)
{
    mt_vec_local_t  *l = (mt_vec_local_t *) v;

    if (l->own) {
        mt_vindex_close(l->vi);
    }

    free(l);
}

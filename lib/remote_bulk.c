/*
 * Blocking backends over the remote services (remote_bulk.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "remote_bulk.h"


typedef struct {
    mt_emb_t                emb;
    mt_emb_t               *wire;
    mt_http_t              *http;
    int                   (*stop)(void);
} mt_emb_bulk_t;

typedef struct {
    mt_vec_t                vec;
    mt_http_t              *http;
    char                   *ns;
    unsigned                dims;
    int                   (*stop)(void);
} mt_vec_bulk_t;


/*
 * The writer's document sent to path (the writer is emptied either way);
 * a failure in err as "<service>: <why>".  0: *rep holds the reply.
 */
static int
mt_bulk_send(mt_http_t *http, const char *service, const char *path,
    mt_jw_t *w, int (*stop)(void), mt_http_reply_t *rep, char *err,
    size_t errlen)
{
    int      rc;
    char    *body;
    size_t   len;

    memset(rep, 0, sizeof(mt_http_reply_t));

    body = mt_jw_take(w, &len);
    if (body == NULL) {
        (void) snprintf(err, errlen, "no memory for a request");
        return -1;
    }

    rc = mt_http_call(http, path, NULL, body, len, stop, rep);
    free(body);

    if (rc != 0) {
        (void) snprintf(err, errlen, "%s: %s", service, rep->error);
        mt_http_reply_free(rep);
        return -1;
    }

    return 0;
}


/* --- embedder --------------------------------------------------------- */

static const char *
mt_emb_bulk_model(const mt_emb_t *e)
{
    const mt_emb_bulk_t  *b = (const mt_emb_bulk_t *) e;

    return b->wire->ops->model(b->wire);
}


static unsigned
mt_emb_bulk_dims(const mt_emb_t *e)
{
    const mt_emb_bulk_t  *b = (const mt_emb_bulk_t *) e;

    return b->wire->ops->dims(b->wire);
}


static uint64_t
mt_emb_bulk_epoch(const mt_emb_t *e)
{
    const mt_emb_bulk_t  *b = (const mt_emb_bulk_t *) e;

    return b->wire->ops->epoch(b->wire);
}


static int
mt_emb_bulk_embed(const mt_emb_t *e, const mt_span_t *texts, size_t n,
    float *out, char *err, size_t errlen)
{
    const mt_emb_bulk_t  *b = (const mt_emb_bulk_t *) e;

    int               rc;
    size_t            i, k;
    mt_jw_t           w;
    unsigned          dims;
    mt_http_reply_t   rep;

    dims = b->wire->ops->dims(b->wire);

    for (i = 0; i < n; i += k) {
        k = mt_openai_embed_batch(texts + i, n - i, MT_OPENAI_MAX_INPUTS,
                                  MT_OPENAI_MAX_TOKENS);

        mt_jw_init(&w);

        if (b->wire->ops->request(b->wire, texts + i, k, &w) != 0) {
            mt_jw_free(&w);
            (void) snprintf(err, errlen, "no memory for a request");
            return -1;
        }

        if (mt_bulk_send(b->http, "openai embeddings", "/embeddings", &w,
                         b->stop, &rep, err, errlen)
            != 0)
        {
            return -1;
        }

        rc = b->wire->ops->reply(b->wire, rep.body, rep.len, k,
                                 out + i * dims, err, errlen);
        mt_http_reply_free(&rep);

        if (rc != 0) {
            return -1;
        }
    }

    return 0;
}


static void
mt_emb_bulk_free(mt_emb_t *e)
{
    mt_emb_bulk_t  *b = (mt_emb_bulk_t *) e;

    b->wire->ops->free(b->wire);
    free(b);
}


static const mt_emb_ops_t  mt_emb_bulk_ops = {
    "openai", MT_BACKEND_WIRE,
    mt_emb_bulk_model, mt_emb_bulk_dims, mt_emb_bulk_epoch,
    mt_emb_bulk_embed, NULL, NULL, mt_emb_bulk_free
};


mt_emb_t *
mt_emb_openai_bulk_new(const char *model, unsigned dims, int base64,
    mt_http_t *http, int (*stop)(void))
{
    mt_emb_bulk_t  *b;

    b = calloc(1, sizeof(mt_emb_bulk_t));
    if (b == NULL) {
        return NULL;
    }

    b->wire = mt_emb_openai_new(model, dims, base64);
    if (b->wire == NULL) {
        free(b);
        return NULL;
    }

    b->emb.ops = &mt_emb_bulk_ops;
    b->http = http;
    b->stop = stop;

    return &b->emb;
}


/* --- index -------------------------------------------------------------- */

static int
mt_vec_bulk_upsert(mt_vec_t *v, const mt_vec_record_t *recs, size_t n,
    char *err, size_t errlen)
{
    mt_vec_bulk_t  *b = (mt_vec_bulk_t *) v;

    size_t            i, k;
    mt_jw_t           w;
    mt_http_reply_t   rep;

    for (i = 0; i < n; i += k) {
        k = mt_pinecone_upsert_batch(recs + i, n - i, b->dims, b->ns);

        mt_jw_init(&w);

        if (mt_pinecone_upsert_request(&w, recs + i, k, b->dims, b->ns, err,
                                       errlen)
            != 0)
        {
            mt_jw_free(&w);
            return -1;
        }

        if (mt_bulk_send(b->http, "pinecone", "/vectors/upsert", &w, b->stop,
                         &rep, err, errlen)
            != 0)
        {
            return -1;
        }

        mt_http_reply_free(&rep);
    }

    return 0;
}


static int
mt_vec_bulk_remove(mt_vec_t *v, const mt_span_t *ids, size_t n,
    size_t *removed, char *err, size_t errlen)
{
    mt_vec_bulk_t  *b = (mt_vec_bulk_t *) v;

    size_t            i, k;
    mt_jw_t           w;
    mt_http_reply_t   rep;

    *removed = 0;

    for (i = 0; i < n; i += k) {
        k = (n - i < MT_PINECONE_MAX_VECTORS) ? n - i
                                               : MT_PINECONE_MAX_VECTORS;

        mt_jw_init(&w);

        if (mt_pinecone_delete_request(&w, ids + i, k, b->ns) != 0) {
            mt_jw_free(&w);
            (void) snprintf(err, errlen, "no memory for a request");
            return -1;
        }

        if (mt_bulk_send(b->http, "pinecone", "/vectors/delete", &w, b->stop,
                         &rep, err, errlen)
            != 0)
        {
            return -1;
        }

        /* Pinecone does not say which ids it had: those asked */
        *removed += k;
        mt_http_reply_free(&rep);
    }

    return 0;
}


static size_t
mt_vec_bulk_count(const mt_vec_t *v)
{
    const mt_vec_bulk_t  *b = (const mt_vec_bulk_t *) v;

    char              err[256];
    mt_jw_t           w;
    uint64_t          count;
    unsigned          dims;
    mt_http_reply_t   rep;

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_obj_close(&w);

    if (mt_bulk_send(b->http, "pinecone", "/describe_index_stats", &w,
                     b->stop, &rep, err, sizeof(err))
        != 0)
    {
        return 0;
    }

    if (mt_pinecone_stats_reply(rep.body, rep.len, b->ns, &count, &dims, err,
                                sizeof(err))
        != 0)
    {
        count = 0;
    }

    mt_http_reply_free(&rep);

    return (size_t) count;
}


static uint64_t
mt_vec_bulk_generation(const mt_vec_t *v)
{
    (void) v;

    /* Pinecone keeps none: the module counts its own writes */
    return 0;
}


static void
mt_vec_bulk_free(mt_vec_t *v)
{
    mt_vec_bulk_t  *b = (mt_vec_bulk_t *) v;

    free(b->ns);
    free(b);
}


static const mt_vec_ops_t  mt_vec_bulk_ops = {
    "pinecone", MT_BACKEND_WIRE,
    NULL, NULL, NULL,
    mt_vec_bulk_upsert, mt_vec_bulk_remove, mt_vec_bulk_count,
    mt_vec_bulk_generation, mt_vec_bulk_free
};


mt_vec_t *
mt_vec_pinecone_bulk_new(const char *namespace_, unsigned dims,
    mt_http_t *http, int (*stop)(void))
{
    mt_vec_bulk_t  *b;

    b = calloc(1, sizeof(mt_vec_bulk_t));
    if (b == NULL) {
        return NULL;
    }

    b->ns = strdup(namespace_ ? namespace_ : "");
    if (b->ns == NULL) {
        free(b);
        return NULL;
    }

    b->vec.ops = &mt_vec_bulk_ops;
    b->http = http;
    b->dims = dims;
    b->stop = stop;

    return &b->vec;
}

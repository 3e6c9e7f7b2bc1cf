/*
 * OpenAI's wire formats: the embedder backend "openai" (POST
 * /v1/embeddings) and chat completions (POST /v1/chat/completions), as
 * request bodies and reply parsers only.
 */

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "remote_int.h"
#include "util.h"


#define MT_EMB_NUMBER_MAX   32      /* bytes of one float as text, generous */
#define MT_EMB_ITEM_MAX     1024    /* bytes of an item besides its numbers */
#define MT_EMB_SLACK        65536   /* "model", "usage", white space */
#define MT_CHAT_REPLY_MAX   ((size_t) 1024 * 1024)

/* text-embedding-3-* take "dimensions"; ada-002 refuses it */
#define MT_EMB_V3_PREFIX    "text-embedding-3"


typedef struct {
    mt_emb_t                emb;        /* first: the interface */
    char                   *model;
    unsigned                dims;
    int                     base64;
    uint64_t                epoch;
} mt_emb_openai_t;


static const char *mt_emb_openai_model(const mt_emb_t *e);
static unsigned mt_emb_openai_dims(const mt_emb_t *e);
static uint64_t mt_emb_openai_epoch(const mt_emb_t *e);
static int mt_emb_openai_request(const mt_emb_t *e, const mt_span_t *texts,
    size_t n, mt_jw_t *body);
static int mt_emb_openai_reply(const mt_emb_t *e, const char *data,
    size_t len, size_t n, float *out, char *err, size_t errlen);
static void mt_emb_openai_free(mt_emb_t *e);


static const mt_emb_ops_t  mt_emb_openai_ops = {
    "openai", MT_BACKEND_WIRE,
    mt_emb_openai_model, mt_emb_openai_dims, mt_emb_openai_epoch,
    NULL, mt_emb_openai_request, mt_emb_openai_reply, mt_emb_openai_free
};


mt_emb_t *
mt_emb_openai_new(const char *model, unsigned dims, int base64)
{
    size_t            len;
    uint64_t          h;
    mt_emb_openai_t  *o;

    if (model == NULL || model[0] == '\0' || dims == 0
        || dims > MT_OPENAI_DIMS_MAX)
    {
        return NULL;
    }

    o = calloc(1, sizeof(mt_emb_openai_t));
    if (o == NULL) {
        return NULL;
    }

    len = strlen(model);

    o->model = malloc(len + 1);
    if (o->model == NULL) {
        free(o);
        return NULL;
    }

    memcpy(o->model, model, len + 1);

    o->emb.ops = &mt_emb_openai_ops;
    o->dims = dims;
    o->base64 = base64 ? 1 : 0;

    /*
     * Vectors of another model, or of the same one cut to other
     * dimensions, are other vectors: cached ones must not be found.  The
     * encoding is the same vectors and does not count.
     */
    h = mt_hash64(model, len, mt_hash_mix(MT_HASH_SEED ^ dims));
    h = mt_hash_mix(h);
    o->epoch = (h != 0) ? h : 1;

    return &o->emb;
}


static const char *
mt_emb_openai_model(const mt_emb_t *e)
{
    return ((const mt_emb_openai_t *) e)->model;
}


static unsigned
mt_emb_openai_dims(const mt_emb_t *e)
{
    return ((const mt_emb_openai_t *) e)->dims;
}


static uint64_t
mt_emb_openai_epoch(const mt_emb_t *e)
{
    return ((const mt_emb_openai_t *) e)->epoch;
}


static void
mt_emb_openai_free(mt_emb_t *e)
{
    mt_emb_openai_t  *o = (mt_emb_openai_t *) e;

    free(o->model);
    free(o);
}


static int
mt_emb_openai_request(const mt_emb_t *e, const mt_span_t *texts, size_t n,
    mt_jw_t *body)
{
    size_t                  i, keep;
    const mt_emb_openai_t  *o = (const mt_emb_openai_t *) e;

    if (n == 0 || n > MT_OPENAI_MAX_INPUTS) {
        return -1;
    }

    mt_jw_obj_open(body);
    mt_jw_key(body, "model");
    mt_jw_cstr(body, o->model);

    /* always an array: a lone string would be one input whatever n says */
    mt_jw_key(body, "input");
    mt_jw_arr_open(body);

    for (i = 0; i < n; i++) {
        keep = mt_remote_utf8_cut(texts[i].data, texts[i].len,
                                  MT_OPENAI_INPUT_MAX, NULL);

        if (keep == 0) {
            mt_jw_str(body, " ", 1);

        } else {
            mt_jw_str(body, texts[i].data, keep);
        }
    }

    mt_jw_arr_close(body);

    mt_jw_key(body, "encoding_format");
    mt_jw_cstr(body, o->base64 ? "base64" : "float");

    if (strncmp(o->model, MT_EMB_V3_PREFIX, sizeof(MT_EMB_V3_PREFIX) - 1)
        == 0)
    {
        mt_jw_key(body, "dimensions");
        mt_jw_int(body, o->dims);
    }

    mt_jw_obj_close(body);

    return mt_jw_failed(body) ? -1 : 0;
}


/* little-endian float32, whatever this machine's order */
static float
mt_le_float(const unsigned char *p)
{
    float     f;
    uint32_t  u;

    u = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
        | (uint32_t) p[3] << 24;

    memcpy(&f, &u, sizeof(f));

    return f;
}


/* one item's vector into v; 0, or -1 with err */
static int
mt_emb_vector(const mt_json_t *emb, size_t idx, unsigned dims, float *v,
    unsigned char *raw, char *err, size_t errlen)
{
    size_t   i, got;
    double   d, norm;

    if (emb == NULL) {
        return mt_remote_fail(err, errlen, "embedding %zu missing", idx);
    }

    if (emb->type == MT_JSON_ARRAY) {
        if (emb->u.array.n != dims) {
            return mt_remote_fail(err, errlen, "embedding %zu has %zu "
                                  "dimensions, not %u", idx, emb->u.array.n,
                                  dims);
        }

        for (i = 0; i < dims; i++) {
            if (mt_remote_number(emb->u.array.items[i], &d) != 0
                || fabs(d) > FLT_MAX)
            {
                return mt_remote_fail(err, errlen, "embedding %zu: value "
                                      "%zu is not a float", idx, i);
            }

            v[i] = (float) d;
        }

    } else if (emb->type == MT_JSON_STRING) {
        if (mt_remote_base64_decode(emb->u.string.s, emb->u.string.len, raw,
                                    (size_t) dims * 4)
            != 0)
        {
            /* base64 of 4 bytes a dimension: 4 characters per 3 bytes */
            got = emb->u.string.len / 4 * 3 / 4;

            return mt_remote_fail(err, errlen, "embedding %zu is not base64 "
                                  "of %u floats (about %zu)", idx, dims,
                                  got);
        }

        for (i = 0; i < dims; i++) {
            v[i] = mt_le_float(raw + i * 4);

            if (!isfinite(v[i])) {
                return mt_remote_fail(err, errlen, "embedding %zu: value "
                                      "%zu is not finite", idx, i);
            }
        }

    } else {
        return mt_remote_fail(err, errlen, "embedding %zu is a %s", idx,
                              mt_json_type_name(emb->type));
    }

    norm = 0;

    for (i = 0; i < dims; i++) {
        norm += (double) v[i] * v[i];
    }

    if (norm == 0 || !isfinite(norm)) {
        return mt_remote_fail(err, errlen, "embedding %zu is a zero vector",
                              idx);
    }

    norm = 1.0 / sqrt(norm);

    for (i = 0; i < dims; i++) {
        v[i] = (float) (v[i] * norm);
    }

    return 0;
}


static int
mt_emb_openai_reply(const mt_emb_t *e, const char *data, size_t len,
    size_t n, float *out, char *err, size_t errlen)
{
    int                     rc;
    size_t                  i, idx;
    unsigned char          *seen, *raw;
    mt_json_doc_t          *doc;
    const mt_json_t        *root, *items, *item, *index;
    mt_json_limits_t        lim;
    const mt_emb_openai_t  *o = (const mt_emb_openai_t *) e;

    if (n == 0 || n > MT_OPENAI_MAX_INPUTS) {
        return mt_remote_fail(err, errlen, "%zu texts", n);
    }

    /*
     * What n vectors can take as text, floats or base64, and no more: a
     * reply is read whole, and a huge one is refused before it is.
     */
    lim.max_size = mt_remote_mul_add(n,
                                     mt_remote_mul_add(o->dims,
                                                       MT_EMB_NUMBER_MAX,
                                                       MT_EMB_ITEM_MAX),
                                     MT_EMB_SLACK);
    lim.max_depth = 16;
    lim.max_string = (size_t) o->dims * 6 + 1024;
    lim.max_members = (n > o->dims ? n : o->dims) + 64;
    lim.max_values = mt_remote_mul_add(n, (size_t) o->dims + 16, 1024);

    doc = mt_remote_parse(data, len, &lim, err, errlen);
    if (doc == NULL) {
        return -1;
    }

    root = mt_json_root(doc);
    items = mt_json_get(root, "data");

    if (items == NULL || items->type != MT_JSON_ARRAY) {
        mt_json_free(doc);
        return mt_remote_fail(err, errlen, "reply has no \"data\" array");
    }

    if (items->u.array.n != n) {
        (void) mt_remote_fail(err, errlen, "reply has %zu embeddings for %zu "
                              "texts", items->u.array.n, n);
        mt_json_free(doc);
        return -1;
    }

    seen = calloc(n, 1);
    raw = malloc((size_t) o->dims * 4);

    if (seen == NULL || raw == NULL) {
        free(seen);
        free(raw);
        mt_json_free(doc);
        return mt_remote_fail(err, errlen, "out of memory");
    }

    rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        item = items->u.array.items[i];
        index = mt_json_get(item, "index");

        /* matched on index: the order of "data" is not promised */
        if (index == NULL || index->type != MT_JSON_NUMBER
            || !index->u.number.is_int || index->u.number.i < 0
            || (uint64_t) index->u.number.i >= n)
        {
            rc = mt_remote_fail(err, errlen, "item %zu has no index below "
                                "%zu", i, n);
            break;
        }

        idx = (size_t) index->u.number.i;

        if (seen[idx]) {
            rc = mt_remote_fail(err, errlen, "embedding %zu twice", idx);
            break;
        }

        seen[idx] = 1;

        rc = mt_emb_vector(mt_json_get(item, "embedding"), idx, o->dims,
                           out + idx * o->dims, raw, err, errlen);
    }

    free(seen);
    free(raw);
    mt_json_free(doc);

    return rc;
}


size_t
mt_openai_embed_batch(const mt_span_t *texts, size_t n, size_t max_inputs,
    size_t max_tokens)
{
    size_t  i, sent, total;

    if (max_inputs == 0 || max_inputs > MT_OPENAI_MAX_INPUTS) {
        max_inputs = MT_OPENAI_MAX_INPUTS;
    }

    if (max_tokens == 0 || max_tokens > MT_OPENAI_MAX_TOKENS) {
        max_tokens = MT_OPENAI_MAX_TOKENS;
    }

    total = 0;

    for (i = 0; i < n && i < max_inputs; i++) {
        (void) mt_remote_utf8_cut(texts[i].data, texts[i].len,
                                  MT_OPENAI_INPUT_MAX, &sent);

        /* an empty text goes as " " */
        sent = (sent != 0) ? sent : 1;

        if (sent > max_tokens - total) {
            break;
        }

        total += sent;
    }

    return (i == 0 && n > 0) ? 1 : i;
}


/* Chat completions */

int
mt_openai_chat_request(mt_jw_t *body, const char *model, const char *system,
    const char *user, unsigned max_tokens)
{
    if (model == NULL || model[0] == '\0' || user == NULL || max_tokens == 0)
    {
        return -1;
    }

    mt_jw_obj_open(body);
    mt_jw_key(body, "model");
    mt_jw_cstr(body, model);

    mt_jw_key(body, "messages");
    mt_jw_arr_open(body);

    if (system != NULL) {
        mt_jw_obj_open(body);
        mt_jw_key(body, "role");
        mt_jw_cstr(body, "system");
        mt_jw_key(body, "content");
        mt_jw_cstr(body, system);
        mt_jw_obj_close(body);
    }

    mt_jw_obj_open(body);
    mt_jw_key(body, "role");
    mt_jw_cstr(body, "user");
    mt_jw_key(body, "content");
    mt_jw_cstr(body, user);
    mt_jw_obj_close(body);

    mt_jw_arr_close(body);

    mt_jw_key(body, "response_format");
    mt_jw_obj_open(body);
    mt_jw_key(body, "type");
    mt_jw_cstr(body, "json_object");
    mt_jw_obj_close(body);

    mt_jw_key(body, "temperature");
    mt_jw_double(body, 0.2);
    mt_jw_key(body, "max_tokens");
    mt_jw_int(body, max_tokens);

    mt_jw_obj_close(body);

    return mt_jw_failed(body) ? -1 : 0;
}


int
mt_openai_chat_reply(const char *data, size_t len, char **content,
    size_t *clen, char *err, size_t errlen)
{
    int                rc;
    char              *s;
    mt_json_doc_t     *doc;
    const mt_json_t   *choices, *choice, *msg, *c, *finish;
    mt_json_limits_t   lim = { MT_CHAT_REPLY_MAX, 32, 0, 10000, 100000 };

    *content = NULL;
    *clen = 0;

    doc = mt_remote_parse(data, len, &lim, err, errlen);
    if (doc == NULL) {
        return -1;
    }

    choices = mt_json_get(mt_json_root(doc), "choices");

    if (choices == NULL || choices->type != MT_JSON_ARRAY
        || choices->u.array.n == 0)
    {
        mt_json_free(doc);
        return mt_remote_fail(err, errlen, "reply has no choices");
    }

    choice = choices->u.array.items[0];
    finish = mt_json_get(choice, "finish_reason");
    msg = mt_json_get(choice, "message");
    c = mt_json_get(msg, "content");

    rc = 0;

    if (finish != NULL && finish->type == MT_JSON_STRING
        && strcmp(finish->u.string.s, "length") == 0)
    {
        /* a cut JSON answer is no answer */
        rc = mt_remote_fail(err, errlen, "reply cut at max_tokens");

    } else if (finish != NULL && finish->type == MT_JSON_STRING
               && strcmp(finish->u.string.s, "content_filter") == 0)
    {
        rc = mt_remote_fail(err, errlen, "reply withheld by the content "
                            "filter");

    } else if (msg == NULL || msg->type != MT_JSON_OBJECT) {
        rc = mt_remote_fail(err, errlen, "choice has no message");

    } else if (c == NULL || c->type == MT_JSON_NULL) {
        rc = mt_remote_fail(err, errlen, "the model refused");

    } else if (c->type != MT_JSON_STRING) {
        rc = mt_remote_fail(err, errlen, "message content is a %s",
                            mt_json_type_name(c->type));

    } else {
        s = malloc(c->u.string.len + 1);

        if (s == NULL) {
            rc = mt_remote_fail(err, errlen, "out of memory");

        } else {
            memcpy(s, c->u.string.s, c->u.string.len + 1);
            *content = s;
            *clen = c->u.string.len;
        }
    }

    mt_json_free(doc);

    return rc;
}

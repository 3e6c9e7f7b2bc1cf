/*
 * Creator ingest.  Each creator is validated and compared with the stored
 * one by content hash, so that sending the same batch twice writes
 * nothing; what changed is written in transactions of MT_INGEST_CHUNK
 * creators.  A chunk is atomic; the batch as a whole is not, and a store
 * failure stops it with the chunks before it written.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest.h"


typedef struct {
    mt_creator_meta_t       meta;
    mt_jw_t                 doc;
    uint64_t                id_hash;
    int                     inserted;
} mt_ingest_item_t;

typedef struct {
    mt_store_t             *store;
    int64_t                 now_ms;
    mt_ingest_result_t     *res;
    mt_ingest_item_t        items[MT_INGEST_CHUNK];
    size_t                  n;
} mt_ingest_batch_t;


static int mt_ingest_one(mt_ingest_batch_t *b, const mt_json_t *in,
    size_t index);
static int mt_ingest_flush(mt_ingest_batch_t *b);
static int mt_ingest_fail(mt_ingest_result_t *res, size_t index,
    const mt_json_t *in, const char *error);
static int mt_ingest_store_fail(mt_ingest_batch_t *b, mt_store_rc_t rc);
static const mt_json_t *mt_ingest_items(const mt_json_t *root,
    mt_ingest_format_t format, size_t *n, int *keyed);


int
mt_ingest(mt_store_t *s, const char *data, size_t len,
    mt_ingest_format_t format, const mt_json_limits_t *limits,
    int64_t now_ms, mt_ingest_result_t *res)
{
    int                 keyed, rc;
    char                errbuf[128];
    size_t              i, n, index;
    const char         *p, *last, *eol;
    mt_json_err_t       err;
    mt_json_doc_t      *doc;
    const mt_json_t    *items;
    mt_ingest_batch_t  *b;

    memset(res, 0, sizeof(*res));

    b = calloc(1, sizeof(mt_ingest_batch_t));
    if (b == NULL) {
        res->status = MT_INGEST_NOMEM;
        snprintf(res->error, sizeof(res->error), "out of memory");
        return -1;
    }

    b->store = s;
    b->now_ms = now_ms;
    b->res = res;
    rc = 0;

    if (format == MT_INGEST_NDJSON) {
        p = data;
        last = data + len;
        index = 0;

        while (rc == 0 && p < last) {
            eol = memchr(p, '\n', (size_t) (last - p));
            if (eol == NULL) {
                eol = last;
            }

            /* blank lines do not count as items */
            while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r')) {
                p++;
            }

            if (p < eol) {
                doc = mt_json_parse(p, (size_t) (eol - p), limits, &err,
                                    errbuf, sizeof(errbuf));

                if (doc == NULL) {
                    rc = (err == MT_JSON_ENOMEM)
                         ? -1 : mt_ingest_fail(res, index, NULL, errbuf);

                } else {
                    rc = mt_ingest_one(b, mt_json_root(doc), index);
                    mt_json_free(doc);
                }

                index++;
            }

            if (eol == last) {
                break;
            }

            p = eol + 1;
        }

        goto done;
    }

    doc = mt_json_parse(data, len, limits, &err, errbuf, sizeof(errbuf));
    if (doc == NULL) {
        res->status = (err == MT_JSON_ENOMEM) ? MT_INGEST_NOMEM
                                              : MT_INGEST_BAD_JSON;
        snprintf(res->error, sizeof(res->error), "%s", errbuf);
        free(b);
        return -1;
    }

    items = mt_ingest_items(mt_json_root(doc), format, &n, &keyed);

    if (items == NULL) {
        res->status = MT_INGEST_BAD_SHAPE;
        snprintf(res->error, sizeof(res->error),
                 format == MT_INGEST_FILE
                 ? "the file must hold {\"creators\": [...]}, an array of "
                   "creators or an object of creators by uniqueId"
                 : "the body must be {\"creators\": [creator, ...]}");
        mt_json_free(doc);
        free(b);
        return -1;
    }

    for (i = 0; rc == 0 && i < n; i++) {
        rc = mt_ingest_one(b, keyed ? items->u.object.pairs[i].value
                                    : items->u.array.items[i], i);
    }

    mt_json_free(doc);

done:

    if (rc == 0) {
        rc = mt_ingest_flush(b);
    }

    for (i = 0; i < b->n; i++) {
        mt_creator_meta_free(&b->items[i].meta);
        mt_jw_free(&b->items[i].doc);
    }

    free(b);

    if (rc != 0 && res->status == MT_INGEST_OK) {
        res->status = MT_INGEST_NOMEM;
        snprintf(res->error, sizeof(res->error), "out of memory");
    }

    res->count = res->inserted + res->updated + res->unchanged;

    return rc;
}


int
mt_ingest_file(mt_store_t *s, const char *path,
    const mt_json_limits_t *limits, int64_t now_ms, mt_ingest_result_t *res)
{
    int          fd, rc;
    char        *data;
    size_t       len;
    ssize_t      n;
    struct stat  st;

    memset(res, 0, sizeof(*res));

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1 || fstat(fd, &st) == -1) {
        res->status = MT_INGEST_IO;
        snprintf(res->error, sizeof(res->error), "%s: %s", path,
                 strerror(errno));
        if (fd != -1) {
            close(fd);
        }
        return -1;
    }

    data = malloc((size_t) st.st_size + 1);
    if (data == NULL) {
        close(fd);
        res->status = MT_INGEST_NOMEM;
        snprintf(res->error, sizeof(res->error), "out of memory");
        return -1;
    }

    len = 0;

    while (len < (size_t) st.st_size) {
        n = read(fd, data + len, (size_t) st.st_size - len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        len += (size_t) n;
    }

    close(fd);

    if (len != (size_t) st.st_size) {
        free(data);
        res->status = MT_INGEST_IO;
        snprintf(res->error, sizeof(res->error), "%s: short read", path);
        return -1;
    }

    data[len] = '\0';

    rc = mt_ingest(s, data, len, MT_INGEST_FILE, limits, now_ms, res);
    free(data);

    return rc;
}


void
mt_ingest_result_free(mt_ingest_result_t *res)
{
    free(res->failed);
    res->failed = NULL;
    res->nfailed = 0;
    res->failed_cap = 0;
}


/* The array (or, for a file keyed by uniqueId, the object) of creators. */

static const mt_json_t *
mt_ingest_items(const mt_json_t *root, mt_ingest_format_t format, size_t *n,
    int *keyed)
{
    size_t            i;
    const mt_json_t  *v;

    *keyed = 0;

    v = mt_json_get(root, "creators");

    if (v && v->type == MT_JSON_ARRAY) {
        *n = v->u.array.n;
        return v;
    }

    /* a file keyed by uniqueId may well hold a creator called "creators" */

    if (format != MT_INGEST_FILE) {
        return NULL;
    }

    if (root->type == MT_JSON_ARRAY) {
        *n = root->u.array.n;
        return root;
    }

    if (root->type != MT_JSON_OBJECT) {
        return NULL;
    }

    for (i = 0; i < root->u.object.n; i++) {
        if (root->u.object.pairs[i].value->type != MT_JSON_OBJECT) {
            return NULL;
        }
    }

    *keyed = 1;
    *n = root->u.object.n;

    return root;
}


/* 0, or -1 when the batch must stop (res->status says why) */

static int
mt_ingest_one(mt_ingest_batch_t *b, const mt_json_t *in, size_t index)
{
    int                  rc;
    char                 summary[256];
    size_t               i;
    uint64_t             h;
    mt_text_t            text;
    mt_errs_t            errs;
    mt_store_t          *s;
    mt_json_err_t        err;
    mt_json_doc_t       *stored;
    mt_store_rc_t        src;
    mt_ingest_item_t    *item;
    mt_creator_stamp_t   stamp;

    s = b->store;
    item = &b->items[b->n];
    memset(item, 0, sizeof(*item));

    mt_errs_init(&errs);

    if (mt_creator_validate(in, &item->meta, &errs) != 0) {
        if (errs.oom) {
            mt_errs_free(&errs);
            return -1;
        }

        mt_errs_summary(&errs, summary, sizeof(summary));
        mt_errs_free(&errs);
        mt_creator_meta_free(&item->meta);

        return mt_ingest_fail(b->res, index, in, summary);
    }

    mt_errs_free(&errs);

    /* the same creator twice in one chunk: the second sees the first */

    h = mt_hash64(item->meta.unique_id, item->meta.unique_id_len,
                  MT_HASH_SEED);

    for (i = 0; i < b->n; i++) {
        if (b->items[i].id_hash == h
            && strcmp(b->items[i].meta.unique_id, item->meta.unique_id) == 0)
        {
            if (mt_ingest_flush(b) != 0) {
                mt_creator_meta_free(&item->meta);
                return -1;
            }

            /* the chunk is empty now: move the validated item down */
            b->items[0] = *item;
            item = &b->items[0];
            break;
        }
    }

    item->id_hash = h;

    src = s->ops->creator_get(s, item->meta.unique_id,
                              item->meta.unique_id_len, NULL, &stamp);

    if (src == MT_STORE_OK && stamp.content_hash == item->meta.content_hash) {
        b->res->unchanged++;
        mt_creator_meta_free(&item->meta);
        return 0;
    }

    stored = NULL;

    if (src == MT_STORE_OK) {
        src = s->ops->creator_get(s, item->meta.unique_id,
                                  item->meta.unique_id_len, &text, &stamp);
        if (src == MT_STORE_OK) {
            stored = mt_json_parse(text.data, text.len, NULL, &err, NULL, 0);
            free(text.data);

            if (stored == NULL) {
                mt_creator_meta_free(&item->meta);
                return -1;
            }
        }
    }

    if (src != MT_STORE_OK && src != MT_STORE_NOT_FOUND) {
        mt_creator_meta_free(&item->meta);
        return mt_ingest_store_fail(b, src);
    }

    item->inserted = (stored == NULL);

    mt_jw_init(&item->doc);
    rc = mt_creator_write(in, &item->meta,
                          stored ? mt_json_root(stored) : NULL,
                          stored ? stamp.text_hash : 0, b->now_ms,
                          &item->doc);
    mt_json_free(stored);

    if (rc != 0 || mt_jw_failed(&item->doc)) {
        mt_jw_free(&item->doc);
        mt_creator_meta_free(&item->meta);
        return -1;
    }

    b->n++;

    return (b->n == MT_INGEST_CHUNK) ? mt_ingest_flush(b) : 0;
}


static int
mt_ingest_flush(mt_ingest_batch_t *b)
{
    size_t             i;
    mt_store_rc_t      src;
    mt_creator_put_t  *puts;

    if (b->n == 0) {
        return 0;
    }

    puts = malloc(b->n * sizeof(mt_creator_put_t));
    if (puts == NULL) {
        return -1;
    }

    for (i = 0; i < b->n; i++) {
        puts[i].meta = &b->items[i].meta;
        puts[i].doc = b->items[i].doc.data;
        puts[i].doc_len = b->items[i].doc.len;
    }

    src = b->store->ops->creator_put_batch(b->store, puts, b->n);
    free(puts);

    if (src != MT_STORE_OK) {
        return mt_ingest_store_fail(b, src);
    }

    for (i = 0; i < b->n; i++) {
        if (b->items[i].inserted) {
            b->res->inserted++;

        } else {
            b->res->updated++;
        }

        mt_creator_meta_free(&b->items[i].meta);
        mt_jw_free(&b->items[i].doc);
    }

    b->n = 0;

    return 0;
}


static int
mt_ingest_store_fail(mt_ingest_batch_t *b, mt_store_rc_t rc)
{
    b->res->status = MT_INGEST_STORE;
    b->res->rc = rc;
    snprintf(b->res->error, sizeof(b->res->error), "%s",
             mt_store_error(b->store));

    return -1;
}


static int
mt_ingest_fail(mt_ingest_result_t *res, size_t index, const mt_json_t *in,
    const char *error)
{
    size_t                n;
    const mt_json_t      *id;
    mt_ingest_failure_t  *f;

    if (res->nfailed == res->failed_cap) {
        n = res->failed_cap ? res->failed_cap * 2 : 16;

        f = realloc(res->failed, n * sizeof(mt_ingest_failure_t));
        if (f == NULL) {
            return -1;
        }

        res->failed = f;
        res->failed_cap = n;
    }

    f = &res->failed[res->nfailed++];
    memset(f, 0, sizeof(*f));

    f->index = index;
    snprintf(f->error, sizeof(f->error), "%s", error);

    id = mt_json_get(in, "uniqueId");

    if (id && id->type == MT_JSON_STRING) {
        n = id->u.string.len < MT_UNIQUE_ID_MAX ? id->u.string.len
                                                : MT_UNIQUE_ID_MAX;
        memcpy(f->unique_id, id->u.string.s, n);
        f->unique_id[n] = '\0';
    }

    return 0;
}

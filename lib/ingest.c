/*
 * Creator ingest.  Each creator is validated and compared with the stored
 * one by content hash, so that sending the same batch twice writes
 * nothing; what changed is written in transactions of MT_INGEST_CHUNK
 * creators.  A chunk is atomic; the batch as a whole is not, and a store
 * failure stops it with the chunks before it written.
 *
 * What one ingest may cost is bounded by its body, not by what the body
 * holds: a JSON body is never parsed into one tree (a 64 MB array of "1"
 * would be 3 GB of nodes), but streamed through yajl twice, and each
 * creator is parsed alone, after its size was checked; failures beyond
 * the first MT_INGEST_FAILED_MAX are only counted.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "ingest.h"
#include "util.h"


/* the chunk's uniqueId table: a power of two, at most half full */
#define MT_INGEST_SLOTS  2048

#if (MT_INGEST_SLOTS < 2 * MT_INGEST_CHUNK || MT_INGEST_CHUNK > 65535)
#error "MT_INGEST_SLOTS must be at least twice MT_INGEST_CHUNK"
#endif


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
    const mt_json_limits_t *limits;
    mt_ingest_item_t        items[MT_INGEST_CHUNK];
    size_t                  n;
    /* items by uniqueId hash: the item's index + 1, 0 is free */
    uint16_t                slots[MT_INGEST_SLOTS];
} mt_ingest_batch_t;


/* Where the creators of a JSON body are, as its first pass found them. */
typedef enum {
    MT_ITEMS_NONE = 0,
    MT_ITEMS_MEMBER,                /* the array of the last "creators" */
    MT_ITEMS_ARRAY,                 /* a file: the root array */
    MT_ITEMS_KEYED                  /* a file: the root object's values */
} mt_ingest_items_t;

typedef struct {
    yajl_handle             h;
    const char             *data;
    size_t                  len;
    const mt_json_limits_t *limits;
    mt_json_err_t           err;        /* what a callback refused */
    unsigned                depth;      /* containers open */
    int                     root;       /* its mt_json_type_t, -1: none */
    size_t                  member;     /* root members so far */
    int                     creators_key;   /* the current one's key */

    /* first pass: the shape */
    size_t                  creators;   /* last "creators" member, 1-based */
    int                     creators_array;
    int                     all_objects;    /* every root member's value */

    /* second pass: the items */
    mt_ingest_items_t       items;
    size_t                  index;
    size_t                  start;      /* where the open item began */
    mt_ingest_batch_t      *b;
    int                     rc;         /* -1: the batch stops */
} mt_ingest_stream_t;


static int mt_ingest_json(mt_ingest_batch_t *b, const char *data,
    size_t len, mt_ingest_format_t format);
static int mt_ingest_stream(mt_ingest_stream_t *st);
static void mt_ingest_json_error(mt_ingest_result_t *res, mt_json_err_t err,
    const mt_json_limits_t *limits, size_t pos);
static int mt_ingest_text(mt_ingest_batch_t *b, const char *p, size_t len,
    size_t index);
static int mt_ingest_one(mt_ingest_batch_t *b, const mt_json_t *in,
    size_t index);
static mt_ingest_item_t *mt_ingest_find(mt_ingest_batch_t *b, uint64_t h,
    const char *unique_id);
static int mt_ingest_flush(mt_ingest_batch_t *b);
static int mt_ingest_fail(mt_ingest_result_t *res, size_t index,
    const mt_json_t *in, const char *error);
static int mt_ingest_store_fail(mt_ingest_batch_t *b, mt_store_rc_t rc);


int
mt_ingest(mt_store_t *s, const char *data, size_t len,
    mt_ingest_format_t format, const mt_json_limits_t *limits,
    int64_t now_ms, mt_ingest_result_t *res)
{
    int                 rc;
    size_t              i, index;
    const char         *p, *last, *eol;
    mt_json_limits_t    lim;
    mt_ingest_batch_t  *b;

    memset(res, 0, sizeof(*res));

    /* no limits: zeros, which mean none, and never a NULL to check */
    if (limits != NULL) {
        lim = *limits;

    } else {
        memset(&lim, 0, sizeof(lim));
    }

    b = calloc(1, sizeof(mt_ingest_batch_t));
    if (b == NULL) {
        res->status = MT_INGEST_NOMEM;
        snprintf(res->error, sizeof(res->error), "out of memory");
        return -1;
    }

    b->store = s;
    b->now_ms = now_ms;
    b->res = res;
    b->limits = &lim;
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
                rc = mt_ingest_text(b, p, (size_t) (eol - p), index);
                index++;
            }

            if (eol == last) {
                break;
            }

            p = eol + 1;
        }

    } else {
        /* a body refused as a whole sets res->status and writes nothing */
        rc = mt_ingest_json(b, data, len, format);
    }

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
    res->nfailed_total = 0;
}


/*
 * A JSON body (a file too): the first pass checks all of it as
 * mt_json_parse() would and notes where the creators are; the second
 * hands each creator's text to mt_ingest_text().  Neither builds a tree
 * of the body: yajl keeps a byte a level, and a creator is parsed alone.
 */
static int
mt_ingest_json(mt_ingest_batch_t *b, const char *data, size_t len,
    mt_ingest_format_t format)
{
    size_t               i, pos, end;
    mt_json_err_t        err;
    mt_ingest_result_t  *res;
    mt_ingest_stream_t   st;

    res = b->res;

    if (data == NULL) {
        data = "";
        len = 0;
    }

    if (b->limits->max_size && len > b->limits->max_size) {
        mt_ingest_json_error(res, MT_JSON_ESIZE, b->limits, 0);
        return -1;
    }

    pos = 0;
    err = mt_json_check_text((const unsigned char *) data, len, &pos, &end);

    if (err != MT_JSON_OK) {
        mt_ingest_json_error(res, err, b->limits, pos);
        return -1;
    }

    memset(&st, 0, sizeof(st));
    st.data = data;
    st.len = len;
    st.limits = b->limits;
    st.root = -1;
    st.all_objects = 1;
    st.b = b;

    if (mt_ingest_stream(&st) != 0) {
        return -1;
    }

    /* one JSON text: only whitespace after the value, as mt_json_parse() */
    i = mt_json_trailing(data, len, end);

    if (i) {
        mt_ingest_json_error(res, MT_JSON_ESYNTAX, b->limits, i);
        return -1;
    }

    if (st.root == MT_JSON_OBJECT && st.creators && st.creators_array) {
        st.items = MT_ITEMS_MEMBER;

    } else if (format != MT_INGEST_FILE) {
        /* a file keyed by uniqueId may well hold a creator "creators" */
        st.items = MT_ITEMS_NONE;

    } else if (st.root == MT_JSON_ARRAY) {
        st.items = MT_ITEMS_ARRAY;

    } else if (st.root == MT_JSON_OBJECT && st.all_objects) {
        st.items = MT_ITEMS_KEYED;
    }

    if (st.items == MT_ITEMS_NONE) {
        res->status = MT_INGEST_BAD_SHAPE;
        snprintf(res->error, sizeof(res->error),
                 format == MT_INGEST_FILE
                 ? "the file must hold {\"creators\": [...]}, an array of "
                   "creators or an object of creators by uniqueId"
                 : "the body must be {\"creators\": [creator, ...]}");
        return -1;
    }

    st.depth = 0;
    st.member = 0;
    st.creators_key = 0;

    if (mt_ingest_stream(&st) != 0) {
        if (res->status == MT_INGEST_BAD_JSON) {
            /* the same text passed once: yajl cannot have changed its mind */
            res->status = MT_INGEST_NOMEM;
        }

        return -1;
    }

    return st.rc;
}


/* the callbacks: each value, container and key of the body, in order */

static int
mt_ingest_is_item(const mt_ingest_stream_t *st)
{
    switch (st->items) {

    case MT_ITEMS_MEMBER:
        return st->depth == 2 && st->member == st->creators;

    case MT_ITEMS_ARRAY:
    case MT_ITEMS_KEYED:
        return st->depth == 1;

    default:
        return 0;
    }
}


/* a value begins at the current depth */
static void
mt_ingest_value(mt_ingest_stream_t *st, mt_json_type_t type)
{
    if (st->depth == 0) {
        st->root = (int) type;
        return;
    }

    /* the shape is the first pass's: the second must not move it */
    if (st->items == MT_ITEMS_NONE && st->depth == 1
        && st->root == MT_JSON_OBJECT)
    {
        /* the value of a root member: the last "creators" wins */
        if (st->creators_key) {
            st->creators = st->member;
            st->creators_array = (type == MT_JSON_ARRAY);
        }

        if (type != MT_JSON_OBJECT) {
            st->all_objects = 0;
        }
    }
}


static int
mt_ingest_on_scalar(mt_ingest_stream_t *st, mt_json_type_t type)
{
    size_t  index;

    mt_ingest_value(st, type);

    if (!mt_ingest_is_item(st)) {
        return 1;
    }

    index = st->index++;

    if (mt_ingest_fail(st->b->res, index, NULL, "must be a JSON object")
        != 0)
    {
        st->rc = -1;
        return 0;
    }

    return 1;
}


static int
mt_ingest_on_null(void *data)
{
    return mt_ingest_on_scalar(data, MT_JSON_NULL);
}


static int
mt_ingest_on_bool(void *data, int b)
{
    (void) b;

    return mt_ingest_on_scalar(data, MT_JSON_BOOL);
}


static int
mt_ingest_on_number(void *data, const char *s, size_t len)
{
    (void) s;
    (void) len;

    return mt_ingest_on_scalar(data, MT_JSON_NUMBER);
}


static int
mt_ingest_string_ok(mt_ingest_stream_t *st, size_t len)
{
    if (st->limits->max_string && len > st->limits->max_string)
    {
        st->err = MT_JSON_ESTRING;
        return 0;
    }

    return 1;
}


static int
mt_ingest_on_string(void *data, const unsigned char *s, size_t len)
{
    mt_ingest_stream_t  *st = data;

    (void) s;

    if (!mt_ingest_string_ok(st, len)) {
        return 0;
    }

    return mt_ingest_on_scalar(st, MT_JSON_STRING);
}


static int
mt_ingest_on_key(void *data, const unsigned char *s, size_t len)
{
    mt_ingest_stream_t  *st = data;

    if (!mt_ingest_string_ok(st, len)) {
        return 0;
    }

    if (st->depth == 1) {
        st->member++;
        st->creators_key = (len == sizeof("creators") - 1
                            && memcmp(s, "creators", len) == 0);
    }

    return 1;
}


static int
mt_ingest_on_open(mt_ingest_stream_t *st, mt_json_type_t type)
{
    mt_ingest_value(st, type);

    if (mt_ingest_is_item(st)) {
        /* just past the bracket, which is one byte */
        st->start = yajl_get_bytes_consumed(st->h) - 1;
    }

    if (st->limits->max_depth && st->depth >= st->limits->max_depth)
    {
        st->err = MT_JSON_EDEPTH;
        return 0;
    }

    st->depth++;

    return 1;
}


static int
mt_ingest_on_start_map(void *data)
{
    return mt_ingest_on_open(data, MT_JSON_OBJECT);
}


static int
mt_ingest_on_start_array(void *data)
{
    return mt_ingest_on_open(data, MT_JSON_ARRAY);
}


static int
mt_ingest_on_end(void *data)
{
    size_t               end, index;
    mt_ingest_stream_t  *st = data;

    st->depth--;

    if (!mt_ingest_is_item(st)) {
        return 1;
    }

    end = yajl_get_bytes_consumed(st->h);

    if (st->data[st->start] != '{') {
        index = st->index++;
        st->rc = mt_ingest_fail(st->b->res, index, NULL,
                                "must be a JSON object");

    } else {
        st->rc = mt_ingest_text(st->b, st->data + st->start,
                                end - st->start, st->index++);
    }

    return st->rc == 0;
}


static const yajl_callbacks  mt_ingest_callbacks = {
    mt_ingest_on_null,
    mt_ingest_on_bool,
    NULL,                               /* yajl_number takes all numbers */
    NULL,
    mt_ingest_on_number,
    mt_ingest_on_string,
    mt_ingest_on_start_map,
    mt_ingest_on_key,
    mt_ingest_on_end,
    mt_ingest_on_start_array,
    mt_ingest_on_end
};


/*
 * One pass over the body.  0, or -1 with res->status set when the body
 * is not JSON (first pass), or when a creator stopped the batch (st->rc).
 */
static int
mt_ingest_stream(mt_ingest_stream_t *st)
{
    size_t               pos;
    yajl_status          ys;
    mt_ingest_result_t  *res;

    res = st->b->res;
    st->err = MT_JSON_OK;

    st->h = yajl_alloc(&mt_ingest_callbacks, NULL, st);
    if (st->h == NULL) {
        mt_ingest_json_error(res, MT_JSON_ENOMEM, st->limits, 0);
        return -1;
    }

    /* every yajl option off, as in mt_json_parse(): one value, strict */
    ys = yajl_parse(st->h, (const unsigned char *) st->data, st->len);
    pos = yajl_get_bytes_consumed(st->h);

    if (ys == yajl_status_ok) {
        ys = yajl_complete_parse(st->h);

        /* the error is at the end of the text; yajl's count is reset */
        pos = st->len;
    }

    yajl_free(st->h);
    st->h = NULL;

    if (st->rc != 0) {
        /* a creator stopped the batch: res says why, or it ran out */
        return -1;
    }

    if (ys == yajl_status_ok && st->root != -1) {
        return 0;
    }

    mt_ingest_json_error(res,
                         (ys == yajl_status_client_canceled
                          && st->err != MT_JSON_OK)
                         ? st->err : MT_JSON_ESYNTAX,
                         st->limits, pos);

    return -1;
}


/* The whole body refused, with mt_json_parse()'s words for it. */
static void
mt_ingest_json_error(mt_ingest_result_t *res, mt_json_err_t err,
    const mt_json_limits_t *limits, size_t pos)
{
    res->status = (err == MT_JSON_ENOMEM) ? MT_INGEST_NOMEM
                                          : MT_INGEST_BAD_JSON;

    mt_json_message(err, limits, pos, res->error, sizeof(res->error));
}


/*
 * One creator's text: an NDJSON line or an element of the JSON array.
 * Only an object can be a creator, and only one of at most
 * MT_INGEST_ITEM_MAX bytes is parsed: its tree is the one allocation of
 * an ingest that grows with what the client sends.
 */
static int
mt_ingest_text(mt_ingest_batch_t *b, const char *p, size_t len,
    size_t index)
{
    int             rc;
    char            errbuf[128];
    mt_json_err_t   err;
    mt_json_doc_t  *doc;

    if (len == 0 || *p != '{') {
        return mt_ingest_fail(b->res, index, NULL, "must be a JSON object");
    }

    if (len > MT_INGEST_ITEM_MAX) {
        (void) snprintf(errbuf, sizeof(errbuf),
                        "must be at most %d bytes of JSON",
                        MT_INGEST_ITEM_MAX);
        return mt_ingest_fail(b->res, index, NULL, errbuf);
    }

    doc = mt_json_parse(p, len, b->limits, &err, errbuf, sizeof(errbuf));

    if (doc == NULL) {
        return (err == MT_JSON_ENOMEM)
               ? -1 : mt_ingest_fail(b->res, index, NULL, errbuf);
    }

    rc = mt_ingest_one(b, mt_json_root(doc), index);
    mt_json_free(doc);

    return rc;
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

    if (mt_ingest_find(b, h, item->meta.unique_id) != NULL) {
        if (mt_ingest_flush(b) != 0) {
            mt_creator_meta_free(&item->meta);
            return -1;
        }

        /* the chunk is empty now: move the validated item down */
        b->items[0] = *item;
        item = &b->items[0];
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

    /* the table is at most half full: there is a free slot */
    for (i = h & (MT_INGEST_SLOTS - 1); b->slots[i] != 0;
         i = (i + 1) & (MT_INGEST_SLOTS - 1))
    {
        /* void */
    }

    b->slots[i] = (uint16_t) (b->n + 1);
    b->n++;

    return (b->n == MT_INGEST_CHUNK) ? mt_ingest_flush(b) : 0;
}


/*
 * The item of the chunk with this uniqueId: a table, not a scan of the
 * chunk, which was 1,000 compares a creator.
 */
static mt_ingest_item_t *
mt_ingest_find(mt_ingest_batch_t *b, uint64_t h, const char *unique_id)
{
    size_t             i;
    mt_ingest_item_t  *item;

    for (i = h & (MT_INGEST_SLOTS - 1); b->slots[i] != 0;
         i = (i + 1) & (MT_INGEST_SLOTS - 1))
    {
        item = &b->items[b->slots[i] - 1];

        if (item->id_hash == h && strcmp(item->meta.unique_id, unique_id) == 0)
        {
            return item;
        }
    }

    return NULL;
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
    memset(b->slots, 0, sizeof(b->slots));

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

    res->nfailed_total++;

    /* past the first ones, a failure is only counted */
    if (res->nfailed == MT_INGEST_FAILED_MAX) {
        return 0;
    }

    if (res->nfailed == res->failed_cap) {
        n = res->failed_cap ? res->failed_cap * 2 : 16;

        if (n > MT_INGEST_FAILED_MAX) {
            n = MT_INGEST_FAILED_MAX;
        }

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

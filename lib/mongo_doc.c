/*
 * JSON documents as BSON and back (mongo_doc.h).
 */

#include <stdio.h>
#include <string.h>

#include "mongo_doc.h"
#include "oid.h"
#include "util.h"


#define MT_MDOC_MAX_DEPTH  64   /* as the parser's limit: no deep recursion */


static int mt_mdoc_value(const char *key, size_t key_len,
    const mt_json_t *v, unsigned depth, bson_t *out, char *err,
    size_t errlen);
static int mt_mdoc_object(const mt_json_t *obj, unsigned flags,
    unsigned depth, bson_t *out, char *err, size_t errlen);
static int mt_mdoc_key_ok(const char *key, size_t len);
static int mt_mdoc_is_date_key(const char *key, size_t len);
static int mt_mdoc_write(bson_iter_t *it, unsigned flags, unsigned depth,
    int is_array, mt_jw_t *w, char *err, size_t errlen);


int
mt_mdoc_from_json(const mt_json_t *obj, unsigned flags, bson_t *out,
    char *err, size_t errlen)
{
    return mt_mdoc_object(obj, flags, 0, out, err, errlen);
}


static int
mt_mdoc_object(const mt_json_t *obj, unsigned flags, unsigned depth,
    bson_t *out, char *err, size_t errlen)
{
    size_t                 i;
    bson_oid_t             oid;
    const mt_json_pair_t  *p;
    char                   id[MT_OID_LEN + 1];

    if (obj == NULL || obj->type != MT_JSON_OBJECT) {
        snprintf(err, errlen, "not an object");
        return -1;
    }

    for (i = 0; i < obj->u.object.n; i++) {
        p = &obj->u.object.pairs[i];

        if (p->shadowed) {
            continue;
        }

        if ((flags & MT_MDOC_OID_ID) && depth == 0
            && p->key_len == 2 && memcmp(p->key, "id", 2) == 0)
        {
            if (p->value->type != MT_JSON_STRING
                || mt_oid_normalize(p->value->u.string.s,
                                    p->value->u.string.len, id) != 0)
            {
                snprintf(err, errlen, "\"id\" is not an ObjectId");
                return -1;
            }

            bson_oid_init_from_string(&oid, id);

            if (!BSON_APPEND_OID(out, "_id", &oid)) {
                goto too_large;
            }

            continue;
        }

        if (!mt_mdoc_key_ok(p->key, p->key_len)
            || (depth == 0 && p->key_len == sizeof(MT_MDOC_PRIVATE) - 1
                && memcmp(p->key, MT_MDOC_PRIVATE, p->key_len) == 0))
        {
            snprintf(err, errlen, "field name \"%.*s\" cannot be stored",
                     (int) (p->key_len > 64 ? 64 : p->key_len), p->key);
            return -1;
        }

        if (mt_mdoc_value(p->key, p->key_len, p->value, depth, out, err,
                          errlen)
            != 0)
        {
            return -1;
        }
    }

    return 0;

too_large:

    snprintf(err, errlen, "document too large");
    return -1;
}


static int
mt_mdoc_value(const char *key, size_t key_len, const mt_json_t *v,
    unsigned depth, bson_t *out, char *err, size_t errlen)
{
    int         ok;
    char        idx[16];
    size_t      i;
    const char *key_i;
    size_t      len;
    bson_t      child;
    int64_t     ms;

    if (depth >= MT_MDOC_MAX_DEPTH) {
        snprintf(err, errlen, "document nested too deep");
        return -1;
    }

    switch (v->type) {

    case MT_JSON_NULL:
        ok = bson_append_null(out, key, (int) key_len);
        break;

    case MT_JSON_BOOL:
        ok = bson_append_bool(out, key, (int) key_len, v->u.boolean != 0);
        break;

    case MT_JSON_NUMBER:
        if (!v->u.number.is_int) {
            ok = bson_append_double(out, key, (int) key_len, v->u.number.d);

        } else if (v->u.number.i >= INT32_MIN && v->u.number.i <= INT32_MAX) {
            ok = bson_append_int32(out, key, (int) key_len,
                                   (int32_t) v->u.number.i);

        } else {
            ok = bson_append_int64(out, key, (int) key_len, v->u.number.i);
        }

        break;

    case MT_JSON_STRING:
        if (mt_mdoc_is_date_key(key, key_len)
            && mt_mdoc_parse_date(v->u.string.s, v->u.string.len, &ms) == 0)
        {
            ok = bson_append_date_time(out, key, (int) key_len, ms);
            break;
        }

        ok = bson_append_utf8(out, key, (int) key_len, v->u.string.s,
                              (int) v->u.string.len);
        break;

    case MT_JSON_ARRAY:
        if (!bson_append_array_begin(out, key, (int) key_len, &child)) {
            ok = 0;
            break;
        }

        for (i = 0; i < v->u.array.n; i++) {
            len = bson_uint32_to_string((uint32_t) i, &key_i, idx,
                                        sizeof(idx));

            if (mt_mdoc_value(key_i, len, v->u.array.items[i],
                              depth + 1, &child, err, errlen)
                != 0)
            {
                bson_append_array_end(out, &child);
                return -1;
            }
        }

        ok = bson_append_array_end(out, &child);
        break;

    case MT_JSON_OBJECT:
        if (!bson_append_document_begin(out, key, (int) key_len, &child)) {
            ok = 0;
            break;
        }

        if (mt_mdoc_object(v, 0, depth + 1, &child, err, errlen) != 0) {
            bson_append_document_end(out, &child);
            return -1;
        }

        ok = bson_append_document_end(out, &child);
        break;

    default:
        snprintf(err, errlen, "unknown JSON type");
        return -1;
    }

    if (!ok) {
        snprintf(err, errlen, "document too large");
        return -1;
    }

    return 0;
}


/*
 * MongoDB 5+ stores "$" and "." in field names, but queries and updates
 * cannot name such fields, and older servers refuse them: data never
 * gets such names.
 */
static int
mt_mdoc_key_ok(const char *key, size_t len)
{
    return len > 0 && key[0] != '$' && memchr(key, '.', len) == NULL
           && memchr(key, '\0', len) == NULL;
}


static int
mt_mdoc_is_date_key(const char *key, size_t len)
{
    return (len == 9 && memcmp(key, "createdAt", 9) == 0)
           || (len == 9 && memcmp(key, "updatedAt", 9) == 0);
}


int
mt_mdoc_to_json(const bson_t *doc, unsigned flags, mt_jw_t *w, char *err,
    size_t errlen)
{
    bson_iter_t  it;

    if (!bson_iter_init(&it, doc)) {
        snprintf(err, errlen, "corrupt document");
        return -1;
    }

    mt_jw_obj_open(w);

    if (mt_mdoc_write(&it, flags, 0, 0, w, err, errlen) != 0) {
        return -1;
    }

    mt_jw_obj_close(w);

    if (mt_jw_failed(w)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    return 0;
}


static int
mt_mdoc_write(bson_iter_t *it, unsigned flags, unsigned depth, int is_array,
    mt_jw_t *w, char *err, size_t errlen)
{
    uint32_t      len;
    const char   *key, *s;
    bson_iter_t   child;
    char          buf[MT_ISO8601_LEN + 1], hex[25];

    if (depth >= MT_MDOC_MAX_DEPTH) {
        snprintf(err, errlen, "document nested too deep");
        return -1;
    }

    while (bson_iter_next(it)) {
        key = bson_iter_key(it);

        if (depth == 0 && strcmp(key, MT_MDOC_PRIVATE) == 0) {
            continue;
        }

        if (depth == 0 && strcmp(key, "_id") == 0) {
            if (!(flags & MT_MDOC_OID_ID) || !BSON_ITER_HOLDS_OID(it)) {
                continue;
            }

            key = "id";
        }

        if (!is_array) {
            mt_jw_key(w, key);
        }

        switch (bson_iter_type(it)) {

        case BSON_TYPE_UTF8:
            s = bson_iter_utf8(it, &len);
            mt_jw_str(w, s, len);
            break;

        case BSON_TYPE_INT32:
            mt_jw_int(w, bson_iter_int32(it));
            break;

        case BSON_TYPE_INT64:
            mt_jw_int(w, bson_iter_int64(it));
            break;

        case BSON_TYPE_DOUBLE:
            mt_jw_double(w, bson_iter_double(it));
            break;

        case BSON_TYPE_BOOL:
            mt_jw_bool(w, bson_iter_bool(it));
            break;

        case BSON_TYPE_DATE_TIME:
            len = (uint32_t) mt_iso8601(buf, bson_iter_date_time(it));
            mt_jw_str(w, buf, len);
            break;

        case BSON_TYPE_OID:
            bson_oid_to_string(bson_iter_oid(it), hex);
            mt_jw_str(w, hex, 24);
            break;

        case BSON_TYPE_DOCUMENT:
        case BSON_TYPE_ARRAY:
            if (!bson_iter_recurse(it, &child)) {
                snprintf(err, errlen, "corrupt document");
                return -1;
            }

            if (BSON_ITER_HOLDS_ARRAY(it)) {
                mt_jw_arr_open(w);

            } else {
                mt_jw_obj_open(w);
            }

            if (mt_mdoc_write(&child, 0, depth + 1,
                              BSON_ITER_HOLDS_ARRAY(it), w, err, errlen)
                != 0)
            {
                return -1;
            }

            if (BSON_ITER_HOLDS_ARRAY(it)) {
                mt_jw_arr_close(w);

            } else {
                mt_jw_obj_close(w);
            }

            break;

        default:
            /* types the contract has no JSON for (binary, regex, ...) */
            mt_jw_null(w);
            break;
        }
    }

    return 0;
}


int
mt_mdoc_parse_date(const char *s, size_t len, int64_t *ms)
{
    char  back[MT_ISO8601_LEN + 1];

    /* only what reads back the same becomes a date: no text is lost */
    if (len != MT_ISO8601_LEN || mt_iso8601_parse(s, len, ms) != 0) {
        return -1;
    }

    mt_iso8601(back, *ms);

    return memcmp(back, s, MT_ISO8601_LEN) == 0 ? 0 : -1;
}


size_t
mt_mongo_uri_mask(const char *uri, char *out, size_t size)
{
    size_t       n;
    const char  *scheme, *auth, *at, *colon, *slash;

    if (size == 0) {
        return 0;
    }

    scheme = strstr(uri, "://");
    auth = scheme ? scheme + 3 : uri;

    /* the credentials end at the last '@' before the path */
    slash = strchr(auth, '/');
    at = NULL;

    for (colon = auth; *colon && (slash == NULL || colon < slash); colon++) {
        if (*colon == '@') {
            at = colon;
        }
    }

    colon = at ? memchr(auth, ':', (size_t) (at - auth)) : NULL;

    if (colon == NULL) {
        n = (size_t) snprintf(out, size, "%s", uri);

    } else {
        n = (size_t) snprintf(out, size, "%.*s***%s", (int) (colon + 1 - uri),
                              uri, at);
    }

    return n < size ? n : size - 1;
}

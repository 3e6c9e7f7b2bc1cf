/*
 * The contract's JSON documents as MongoDB documents and back.  A stored
 * assignment or creator is a real document, not a JSON string in one:
 * other tools (mongosh, the service this replaces) read its fields, the
 * TTL index reads "createdAt" as a date, and the filters of GET /creators
 * use indexes.
 *
 *   JSON                        BSON
 *   "id": "<24 hex>"            "_id": ObjectId      (MT_MDOC_OID_ID)
 *   "createdAt"/"updatedAt"     date, when the string is exactly what
 *     (any depth)               mt_iso8601() writes; else the string
 *   integer in int32 / int64    int32 / int64
 *   other numbers               double
 *
 * Reading back gives the same JSON text the contract writes (field order
 * kept; dates as mt_iso8601(); doubles in their shortest form), with
 * "_id" as "id" (MT_MDOC_OID_ID) or left out, and "_matcher" (the
 * store's own fields) always left out.  No nginx types.
 */

#ifndef MT_MONGO_DOC_H
#define MT_MONGO_DOC_H

#include <stddef.h>

#include <bson/bson.h>

#include "json.h"


#define MT_MDOC_OID_ID   0x01    /* "id" <-> "_id" as an ObjectId */

/* the store's own fields of a document, never shown to clients */
#define MT_MDOC_PRIVATE  "_matcher"


/*
 * Appends the members of the JSON object obj to out.  Field names that
 * MongoDB cannot store as data (a leading "$", a ".", a NUL) fail: the
 * model refuses them before they get here.  0, or -1 with err.
 */
int mt_mdoc_from_json(const mt_json_t *obj, unsigned flags, bson_t *out,
    char *err, size_t errlen);

/* a document as the contract's JSON text; 0, or -1 (w failed, or err) */
int mt_mdoc_to_json(const bson_t *doc, unsigned flags, mt_jw_t *w,
    char *err, size_t errlen);

/* 0 and the ms of an mt_iso8601() text; -1 for any other text */
int mt_mdoc_parse_date(const char *s, size_t len, int64_t *ms);

/*
 * The URI with its password replaced by "***", for logs and errors:
 * "mongodb://app:***@host/db".  Returns the length (truncated to size).
 */
size_t mt_mongo_uri_mask(const char *uri, char *out, size_t size);

#endif /* MT_MONGO_DOC_H */

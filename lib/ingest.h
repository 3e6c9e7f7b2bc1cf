/*
 * Creator ingest: parse a batch (JSON or NDJSON), validate each creator,
 * compare it with the stored one and write what changed, in transactions
 * of up to MT_INGEST_CHUNK creators.  Shared by POST /creators/ingest,
 * its no-body reload of the configured file, and the start-up load.
 */

#ifndef MT_INGEST_H
#define MT_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "store.h"


#define MT_INGEST_CHUNK  1000

/*
 * A hostile batch can fail every item (64 MB of NDJSON lines "1" are 33
 * million failures): only the first MT_INGEST_FAILED_MAX are kept and
 * returned, with the total in nfailed_total.
 */
#define MT_INGEST_FAILED_MAX  100

/*
 * The most bytes of one creator as sent (its NDJSON line, or its element
 * of the JSON array, whitespace included).  A larger item is a failure of
 * its own, refused before it is parsed, so that what one item costs is
 * bounded whatever the body (see also mt_creator_validate()'s caps).
 */
#define MT_INGEST_ITEM_MAX    MT_CREATOR_SIZE_MAX

typedef enum {
    MT_INGEST_JSON = 0,     /* {"creators": [...]} */
    MT_INGEST_NDJSON,       /* one creator a non-empty line */
    MT_INGEST_FILE          /* JSON: also [...] or {"<uniqueId>": {...}} */
} mt_ingest_format_t;

typedef struct {
    size_t                  index;      /* in the batch (NDJSON: line) */
    char                    unique_id[MT_UNIQUE_ID_MAX + 1];
    char                    error[256];
} mt_ingest_failure_t;

typedef struct {
    size_t                  count;      /* inserted + updated + unchanged */
    size_t                  inserted;
    size_t                  updated;
    size_t                  unchanged;
    mt_ingest_failure_t    *failed;     /* malloc'd, the first ones */
    size_t                  nfailed;    /* <= MT_INGEST_FAILED_MAX */
    size_t                  failed_cap;
    size_t                  nfailed_total;  /* every failed item */

    /* why the whole batch failed, when mt_ingest() returns -1 */
    enum {
        MT_INGEST_OK = 0,
        MT_INGEST_BAD_JSON,             /* 400 invalid_json */
        MT_INGEST_BAD_SHAPE,            /* 400 validation_failed */
        MT_INGEST_STORE,                /* rc says which */
        MT_INGEST_IO,                   /* the file could not be read */
        MT_INGEST_NOMEM
    }                       status;
    mt_store_rc_t           rc;
    char                    error[256];
} mt_ingest_result_t;

/*
 * A JSON body is parsed twice as a stream, never as one tree: a first
 * pass checks all of it (nothing is written from a body that does not
 * parse) and finds its shape, the second parses, checks and writes one
 * creator at a time.  NDJSON is parsed a line at a time.  What an ingest
 * allocates is so the body, one item's tree and one chunk's documents.
 */
int mt_ingest(mt_store_t *s, const char *data, size_t len,
    mt_ingest_format_t format, const mt_json_limits_t *limits,
    int64_t now_ms, mt_ingest_result_t *res);
/* Reads a whole file (blocking: call it off the event loop), MT_INGEST_FILE */
int mt_ingest_file(mt_store_t *s, const char *path,
    const mt_json_limits_t *limits, int64_t now_ms, mt_ingest_result_t *res);
void mt_ingest_result_free(mt_ingest_result_t *res);

#endif /* MT_INGEST_H */

/*
 * The documents of the contract (../shared/specs/api.md): assignments and
 * creators.  Validation collects every failing field; writers produce the
 * stored JSON document and the few fields the store indexes.  No nginx
 * and no store types here.
 */

#ifndef MT_MODEL_H
#define MT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "oid.h"
#include "util.h"


/* Validation errors, in the order found: the contract's "details". */

typedef struct {
    char                    field[128];     /* "targetAudience.locale" */
    char                    message[128];   /* "must be 2 to 10 characters" */
    const mt_json_t        *value;          /* the offending value or NULL */
} mt_err_t;

typedef struct {
    mt_err_t               *items;          /* malloc'd */
    size_t                  n;
    size_t                  cap;
    int                     oom;
} mt_errs_t;

void mt_errs_init(mt_errs_t *e);
void mt_errs_free(mt_errs_t *e);
/* field is a printf format ("creatorNiches[%zu]") */
void mt_errs_add(mt_errs_t *e, const mt_json_t *value, const char *message,
    const char *field, ...);
/* "field: message; field: message" for the ingest "failed" list */
size_t mt_errs_summary(const mt_errs_t *e, char *buf, size_t size);


/* Assignments */

typedef enum {
    MT_SORT_CREATED_AT = 0,
    MT_SORT_UPDATED_AT,
    MT_SORT_TOPIC,
    MT_SORT_STATUS
} mt_sort_t;

#define MT_USER_ID_MAX    400     /* bytes: 100 characters of UTF-8 */
#define MT_TOPIC_KEY_MAX  200     /* bytes of the topic kept for sorting */
#define MT_STATUS_MAX     16

typedef struct {
    char                    id[MT_OID_LEN + 1];
    char                    user_id[MT_USER_ID_MAX + 1];  /* "" if none */
    size_t                  user_id_len;
    int64_t                 created_at;     /* ms since the epoch */
    int64_t                 updated_at;
    int64_t                 version;
    char                    status[MT_STATUS_MAX];   /* "pending", ... */
    char                    topic_key[MT_TOPIC_KEY_MAX + 1];
    size_t                  topic_key_len;
} mt_assignment_meta_t;

/*
 * POST /assignments: validates the body (an object with the contract's
 * fields; unknown fields dropped; strings trimmed) and writes the stored
 * document: {"id","topic","keyTakeaway","additionalContext",
 * "targetAudience"?,"creatorValues"?,"creatorNiches"?,"toneStyle"?,
 * "userId"?,"status":"pending","matchResults":[],"createdAt","updatedAt",
 * "version":1}.  Returns 0, or -1 with errs filled (nothing written).
 */
int mt_assignment_create(const mt_json_t *body, const char *id,
    int64_t now_ms, mt_jw_t *doc, mt_assignment_meta_t *meta,
    mt_errs_t *errs);

/*
 * Validates a PATCH .../matches body {"matchResults":[1..10 results]},
 * each with creatorId, matchScore in [0,1], non-empty reasoning (other
 * result fields kept), and returns 0 or -1 with errs.
 */
int mt_assignment_check_matches(const mt_json_t *body, mt_errs_t *errs);

/*
 * Writes the stored document with matchResults replaced, status
 * "completed", version + 1 and updatedAt = now; meta describes the result.
 * matches is the validated array.  Returns 0, -1 if stored is not a stored
 * assignment.
 */
int mt_assignment_set_matches(const mt_json_t *stored,
    const mt_json_t *matches, int64_t now_ms, mt_jw_t *doc,
    mt_assignment_meta_t *meta);

/* The index fields of a stored document; 0 or -1 if malformed. */
int mt_assignment_meta(const mt_json_t *stored, mt_assignment_meta_t *meta);

/* "createdAt" ... "status" -> MT_SORT_*, -1 when unknown */
int mt_sort_parse(const char *s, size_t len);


/* Creators */

#define MT_UNIQUE_ID_MAX  100
#define MT_REGION_MAX     10

/*
 * Caps on a creator, so that what one costs (to parse, hash, store and
 * embed) is bounded whatever a client sends; over a cap, the creator
 * fails with the field named.  Every list of strings of the model
 * (topHashtags, the analysis lists, tone, callsToAction, the
 * partnershipPotential lists): at most MT_CREATOR_LIST_MAX items of at
 * most MT_CREATOR_ITEM_MAX characters.  Any object in it, the creator's
 * own members and unknown fields included: at most MT_CREATOR_MEMBERS_MAX
 * members.  The whole creator: at most MT_CREATOR_SIZE_MAX bytes as JSON.
 */
#define MT_CREATOR_LIST_MAX     50
#define MT_CREATOR_ITEM_MAX     200
#define MT_CREATOR_MEMBERS_MAX  100
#define MT_CREATOR_SIZE_MAX     65536
#define MT_CREATOR_URL_MAX      2048    /* avatarUrl, profileUrl */

typedef struct {
    char                    unique_id[MT_UNIQUE_ID_MAX + 1];
    size_t                  unique_id_len;
    char                    region[MT_REGION_MAX + 1];  /* as sent */
    int64_t                 follower_count;
    int                     verified;
    uint64_t                content_hash;   /* the creator as sent */
    uint64_t                text_hash;      /* the embedded text */
    /*
     * Lowercased primary then secondary niches, each NUL-terminated, one
     * after another: what GET /creators?niche= matches against.
     */
    char                   *niches;         /* malloc'd, may be NULL */
    size_t                  niches_len;
    size_t                  nniches;
} mt_creator_meta_t;

void mt_creator_meta_free(mt_creator_meta_t *meta);

/*
 * Validates one creator as the contract says (required fields, lengths,
 * uniqueId charset and reserved names, http(s) avatarUrl) and the caps
 * above (its size and members first: a creator over them is refused
 * before anything else looks at it), and fills meta.
 * Server-managed fields in the input (createdAt, updatedAt, embedding) are
 * ignored, and do not count in content_hash; unknown fields are kept and
 * do count.  Returns 0 or -1 with errs.
 */
int mt_creator_validate(const mt_json_t *in, mt_creator_meta_t *meta,
    mt_errs_t *errs);

/*
 * Writes the stored document: the input's fields in their order minus the
 * server-managed ones, then "createdAt" (the stored one, else now),
 * "updatedAt" (now), "embedding": the stored one when text_hash is
 * unchanged, else {"model":null,"dimensions":0,"textHash":"<hex>",
 * "updatedAt":null,"status":"pending"}.  stored may be NULL (new creator).
 */
int mt_creator_write(const mt_json_t *in, const mt_creator_meta_t *meta,
    const mt_json_t *stored, uint64_t stored_text_hash, int64_t now_ms,
    mt_jw_t *doc);

/* What the vector indexer made of a creator's text. */
typedef struct {
    const char             *model;          /* NULL: null */
    unsigned                dimensions;
    uint64_t                text_hash;      /* of the text embedded */
    int64_t                 updated_at_ms;
    const char             *status;         /* "ready" or "failed" */
} mt_embedding_info_t;

/*
 * Writes the stored document unchanged, every member in its order, but
 * for "embedding": {"model","dimensions","textHash":"<hex>","updatedAt",
 * "status"} from e, where the stored one was (appended if none was).
 * Returns 0, or -1 when stored is not an object or e->status is neither
 * "ready" nor "failed".
 */
int mt_creator_set_embedding(const mt_json_t *stored,
    const mt_embedding_info_t *e, mt_jw_t *doc);

/*
 * 1 when the stored document's embedding already has e's status, model,
 * dimensions and text hash (its updatedAt does not count), else 0.
 */
int mt_creator_embedding_is(const mt_json_t *stored,
    const mt_embedding_info_t *e);

/*
 * The text embedded for a creator, NUL-terminated, malloc'd: bio, then
 * "Niches: " primary and secondary niches, then "Values: " apparent values
 * (the existing services embed exactly this).
 */
char *mt_creator_text(const mt_json_t *creator, size_t *len);


#endif /* MT_MODEL_H */

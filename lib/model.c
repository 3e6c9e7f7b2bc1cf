/*
 * Assignments (../shared/specs/api.md, "Assignment" and "Match result")
 * and the 64-bit hash.  The field checks are in lib/model_check.c.
 *
 * Validation runs to the end and records each failing field, so one 400
 * reply lists them all; the document is written only after the whole
 * input passed, so a failure never leaves half a document behind.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model_check.h"
#include "util.h"


#define MT_TOPIC_MAX       500
#define MT_TAKEAWAY_MAX    1000
#define MT_CONTEXT_MAX     2000
#define MT_DEMOGRAPHIC_MAX 200
#define MT_LOCALE_MIN      2
#define MT_LOCALE_MAX      10
#define MT_LIST_MAX        20      /* creatorValues, creatorNiches items */
#define MT_LIST_ITEM_MAX   100
#define MT_TONE_MAX        100
#define MT_USER_MAX        100     /* characters */

#define MT_MATCHES_MIN     1
#define MT_MATCHES_MAX     10
#define MT_CREATOR_ID_MAX  100
#define MT_REASONING_MAX   2000


typedef struct {
    mt_str_t                topic;
    mt_str_t                key_takeaway;
    mt_str_t                additional_context;
    int                     has_audience;
    mt_str_t                demographic;
    mt_str_t                locale;
    const mt_json_t        *values;         /* NULL: absent */
    const mt_json_t        *niches;
    mt_str_t                tone_style;
    mt_str_t                user_id;
} mt_assignment_in_t;


static void mt_assignment_check(mt_vctx_t *ctx, const mt_json_t *body,
    mt_assignment_in_t *in);
static void mt_jw_str_list(mt_jw_t *w, const char *key,
    const mt_json_t *list);
static void mt_check_match(mt_vctx_t *ctx, const mt_json_t *m,
    const char *path);
static void mt_set_topic_key(mt_assignment_meta_t *meta, const char *s,
    size_t len);


/* ----------------------------------------------------------------------
 * assignments
 */

int
mt_assignment_create(const mt_json_t *body, const char *id,
    int64_t now_ms, mt_jw_t *doc, mt_assignment_meta_t *meta,
    mt_errs_t *errs)
{
    char                ts[MT_ISO8601_LEN + 1];
    mt_vctx_t           ctx;
    mt_assignment_in_t  in;

    memset(meta, 0, sizeof(mt_assignment_meta_t));
    memset(&in, 0, sizeof(mt_assignment_in_t));
    ctx.errs = errs;
    ctx.bad = 0;

    if (body == NULL || body->type != MT_JSON_OBJECT) {
        mt_model_fail(&ctx, body, "", "must be a JSON object");
        return -1;
    }

    if (id == NULL || mt_oid_normalize(id, strlen(id), meta->id) != 0) {
        /* the caller's id, never the client's: a bug, but not a crash */
        mt_model_fail(&ctx, NULL, "id", "must be 24 hex characters");
        return -1;
    }

    mt_assignment_check(&ctx, body, &in);

    if (ctx.bad) {
        return -1;
    }

    mt_iso8601(ts, now_ms);

    mt_jw_obj_open(doc);
    mt_jw_key(doc, "id");
    mt_jw_cstr(doc, meta->id);
    mt_jw_key(doc, "topic");
    mt_jw_str(doc, in.topic.s, in.topic.len);
    mt_jw_key(doc, "keyTakeaway");
    mt_jw_str(doc, in.key_takeaway.s, in.key_takeaway.len);
    mt_jw_key(doc, "additionalContext");
    mt_jw_str(doc, in.additional_context.s, in.additional_context.len);

    if (in.has_audience) {
        mt_jw_key(doc, "targetAudience");
        mt_jw_obj_open(doc);

        if (in.demographic.s != NULL) {
            mt_jw_key(doc, "demographic");
            mt_jw_str(doc, in.demographic.s, in.demographic.len);
        }

        if (in.locale.s != NULL) {
            mt_jw_key(doc, "locale");
            mt_jw_str(doc, in.locale.s, in.locale.len);
        }

        mt_jw_obj_close(doc);
    }

    mt_jw_str_list(doc, "creatorValues", in.values);
    mt_jw_str_list(doc, "creatorNiches", in.niches);

    if (in.tone_style.s != NULL) {
        mt_jw_key(doc, "toneStyle");
        mt_jw_str(doc, in.tone_style.s, in.tone_style.len);
    }

    if (in.user_id.s != NULL) {
        mt_jw_key(doc, "userId");
        mt_jw_str(doc, in.user_id.s, in.user_id.len);
    }

    mt_jw_key(doc, "status");
    mt_jw_cstr(doc, "pending");
    mt_jw_key(doc, "matchResults");
    mt_jw_arr_open(doc);
    mt_jw_arr_close(doc);
    mt_jw_key(doc, "createdAt");
    mt_jw_cstr(doc, ts);
    mt_jw_key(doc, "updatedAt");
    mt_jw_cstr(doc, ts);
    mt_jw_key(doc, "version");
    mt_jw_int(doc, 1);
    mt_jw_obj_close(doc);

    if (mt_jw_failed(doc)) {
        /* out of memory: the caller answers 500, not 400 */
        errs->oom = 1;
        return -1;
    }

    if (in.user_id.s != NULL) {
        /* 100 characters are at most 400 bytes: it fits */
        memcpy(meta->user_id, in.user_id.s, in.user_id.len);
        meta->user_id[in.user_id.len] = '\0';
        meta->user_id_len = in.user_id.len;
    }

    meta->created_at = now_ms;
    meta->updated_at = now_ms;
    meta->version = 1;
    (void) snprintf(meta->status, sizeof(meta->status), "pending");
    mt_set_topic_key(meta, in.topic.s, in.topic.len);

    return 0;
}


static void
mt_assignment_check(mt_vctx_t *ctx, const mt_json_t *body,
    mt_assignment_in_t *in)
{
    const mt_json_t  *ta;

    (void) mt_model_string(ctx, mt_json_get(body, "topic"), "topic", 0,
                           MT_TOPIC_MAX,
                           MT_F_REQUIRED | MT_F_TRIM | MT_F_NONEMPTY,
                           &in->topic);
    (void) mt_model_string(ctx, mt_json_get(body, "keyTakeaway"),
                           "keyTakeaway", 0, MT_TAKEAWAY_MAX,
                           MT_F_REQUIRED | MT_F_TRIM | MT_F_NONEMPTY,
                           &in->key_takeaway);
    (void) mt_model_string(ctx, mt_json_get(body, "additionalContext"),
                           "additionalContext", 0, MT_CONTEXT_MAX,
                           MT_F_REQUIRED | MT_F_TRIM | MT_F_NONEMPTY,
                           &in->additional_context);

    ta = mt_json_get(body, "targetAudience");

    if (mt_model_object(ctx, ta, "targetAudience", 0) == 1) {
        in->has_audience = 1;
        (void) mt_model_string(ctx, mt_json_get(ta, "demographic"),
                               "targetAudience.demographic", 0,
                               MT_DEMOGRAPHIC_MAX, MT_F_TRIM,
                               &in->demographic);
        (void) mt_model_string(ctx, mt_json_get(ta, "locale"),
                               "targetAudience.locale", MT_LOCALE_MIN,
                               MT_LOCALE_MAX, MT_F_TRIM, &in->locale);
    }

    in->values = mt_json_get(body, "creatorValues");

    if (mt_model_str_array(ctx, in->values, "creatorValues", 0, MT_LIST_MAX,
                           MT_LIST_ITEM_MAX, MT_F_TRIM | MT_F_NONEMPTY, 0)
        != 1)
    {
        in->values = NULL;
    }

    in->niches = mt_json_get(body, "creatorNiches");

    if (mt_model_str_array(ctx, in->niches, "creatorNiches", 0, MT_LIST_MAX,
                           MT_LIST_ITEM_MAX, MT_F_TRIM | MT_F_NONEMPTY, 0)
        != 1)
    {
        in->niches = NULL;
    }

    (void) mt_model_string(ctx, mt_json_get(body, "toneStyle"), "toneStyle",
                           0, MT_TONE_MAX, MT_F_TRIM, &in->tone_style);
    (void) mt_model_string(ctx, mt_json_get(body, "userId"), "userId", 0,
                           MT_USER_MAX, MT_F_TRIM | MT_F_NONEMPTY,
                           &in->user_id);
}


/* a validated list of strings, each trimmed; nothing when list is NULL */
static void
mt_jw_str_list(mt_jw_t *w, const char *key, const mt_json_t *list)
{
    size_t       i, len;
    const char  *s;

    if (list == NULL) {
        return;
    }

    mt_jw_key(w, key);
    mt_jw_arr_open(w);

    for (i = 0; i < list->u.array.n; i++) {
        s = list->u.array.items[i]->u.string.s;
        len = list->u.array.items[i]->u.string.len;
        mt_model_trim(&s, &len);
        mt_jw_str(w, s, len);
    }

    mt_jw_arr_close(w);
}


int
mt_assignment_check_matches(const mt_json_t *body, mt_errs_t *errs)
{
    char              msg[64], path[MT_PATH_MAX];
    size_t            i;
    mt_vctx_t         ctx;
    const mt_json_t  *list;

    ctx.errs = errs;
    ctx.bad = 0;

    if (body == NULL || body->type != MT_JSON_OBJECT) {
        mt_model_fail(&ctx, body, "", "must be a JSON object");
        return -1;
    }

    list = mt_json_get(body, "matchResults");

    if (list == NULL || list->type == MT_JSON_NULL) {
        mt_model_fail(&ctx, NULL, "matchResults", "is required");
        return -1;
    }

    if (list->type != MT_JSON_ARRAY) {
        mt_model_fail(&ctx, list, "matchResults", "must be an array");
        return -1;
    }

    if (list->u.array.n < MT_MATCHES_MIN
        || list->u.array.n > MT_MATCHES_MAX)
    {
        (void) snprintf(msg, sizeof(msg), "must have %d to %d items",
                        MT_MATCHES_MIN, MT_MATCHES_MAX);
        mt_model_fail(&ctx, list, "matchResults", msg);
        return -1;
    }

    for (i = 0; i < list->u.array.n; i++) {
        mt_model_index_path(path, "matchResults", i);
        mt_check_match(&ctx, list->u.array.items[i], path);
        (void) mt_model_names(&ctx, list->u.array.items[i], path);
    }

    return ctx.bad ? -1 : 0;
}


static void
mt_check_match(mt_vctx_t *ctx, const mt_json_t *m, const char *path)
{
    char              sub[MT_PATH_MAX], key[MT_PATH_MAX];
    size_t            i;
    const mt_json_t  *sb;

    static const char  *parts[] = {
        "semanticSimilarity", "nicheAlignment", "audienceMatch",
        "valueAlignment", "engagementFit"
    };

    if (m->type != MT_JSON_OBJECT) {
        mt_model_fail(ctx, m, path, "must be an object");
        return;
    }

    mt_model_key_path(sub, path, "creatorId");
    (void) mt_model_string(ctx, mt_json_get(m, "creatorId"), sub, 0,
                           MT_CREATOR_ID_MAX,
                           MT_F_REQUIRED | MT_F_NONEMPTY, NULL);

    mt_model_key_path(sub, path, "matchScore");
    (void) mt_model_unit(ctx, mt_json_get(m, "matchScore"), sub,
                         MT_F_REQUIRED);

    mt_model_key_path(sub, path, "reasoning");
    (void) mt_model_string(ctx, mt_json_get(m, "reasoning"), sub, 0,
                           MT_REASONING_MAX,
                           MT_F_REQUIRED | MT_F_NONEMPTY, NULL);

    mt_model_key_path(sub, path, "framingSuggestion");
    (void) mt_model_string(ctx, mt_json_get(m, "framingSuggestion"), sub,
                           0, 0, 0, NULL);

    mt_model_key_path(sub, path, "creator");
    (void) mt_model_object(ctx, mt_json_get(m, "creator"), sub, 0);

    mt_model_key_path(sub, path, "scoreBreakdown");
    sb = mt_json_get(m, "scoreBreakdown");

    if (mt_model_object(ctx, sb, sub, 0) == 1) {
        for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            mt_model_key_path(key, sub, parts[i]);
            (void) mt_model_unit(ctx, mt_json_get(sb, parts[i]), key, 0);
        }
    }
}


int
mt_assignment_set_matches(const mt_json_t *stored,
    const mt_json_t *matches, int64_t now_ms, mt_jw_t *doc,
    mt_assignment_meta_t *meta)
{
    char                   ts[MT_ISO8601_LEN + 1];
    size_t                 i;
    unsigned               seen;
    const mt_json_pair_t  *p;

    if (mt_assignment_meta(stored, meta) != 0
        || matches == NULL || matches->type != MT_JSON_ARRAY)
    {
        return -1;
    }

    meta->updated_at = now_ms;
    meta->version++;
    (void) snprintf(meta->status, sizeof(meta->status), "completed");

    mt_iso8601(ts, now_ms);

    /* the stored fields in their order; the four changed ones in place */
    seen = 0;
    mt_jw_obj_open(doc);

    for (i = 0; i < stored->u.object.n; i++) {
        p = &stored->u.object.pairs[i];

        /*
         * a duplicate key: only the last one counts, as when read; O(1),
         * where mt_json_get() here made the loop quadratic in the keys
         */
        if (mt_json_shadowed(stored, i)) {
            continue;
        }

        mt_jw_keyn(doc, p->key, p->key_len);

        if (strcmp(p->key, "matchResults") == 0) {
            mt_jw_value(doc, matches);
            seen |= 1;

        } else if (strcmp(p->key, "status") == 0) {
            mt_jw_cstr(doc, meta->status);
            seen |= 2;

        } else if (strcmp(p->key, "updatedAt") == 0) {
            mt_jw_cstr(doc, ts);
            seen |= 4;

        } else if (strcmp(p->key, "version") == 0) {
            mt_jw_int(doc, meta->version);
            seen |= 8;

        } else {
            mt_jw_value(doc, p->value);
        }
    }

    if (!(seen & 1)) {
        mt_jw_key(doc, "matchResults");
        mt_jw_value(doc, matches);
    }

    if (!(seen & 2)) {
        mt_jw_key(doc, "status");
        mt_jw_cstr(doc, meta->status);
    }

    if (!(seen & 4)) {
        mt_jw_key(doc, "updatedAt");
        mt_jw_cstr(doc, ts);
    }

    if (!(seen & 8)) {
        mt_jw_key(doc, "version");
        mt_jw_int(doc, meta->version);
    }

    mt_jw_obj_close(doc);

    return mt_jw_failed(doc) ? -1 : 0;
}


int
mt_assignment_meta(const mt_json_t *stored, mt_assignment_meta_t *meta)
{
    const mt_json_t  *v;

    memset(meta, 0, sizeof(mt_assignment_meta_t));

    if (stored == NULL || stored->type != MT_JSON_OBJECT) {
        return -1;
    }

    v = mt_json_get(stored, "id");

    if (v == NULL || v->type != MT_JSON_STRING
        || mt_oid_normalize(v->u.string.s, v->u.string.len, meta->id) != 0)
    {
        return -1;
    }

    v = mt_json_get(stored, "userId");

    if (v != NULL && v->type != MT_JSON_NULL) {
        if (v->type != MT_JSON_STRING || v->u.string.len > MT_USER_ID_MAX) {
            return -1;
        }

        memcpy(meta->user_id, v->u.string.s, v->u.string.len);
        meta->user_id[v->u.string.len] = '\0';
        meta->user_id_len = v->u.string.len;
    }

    v = mt_json_get(stored, "createdAt");

    if (v == NULL || v->type != MT_JSON_STRING
        || mt_iso8601_parse(v->u.string.s, v->u.string.len,
                            &meta->created_at) != 0)
    {
        return -1;
    }

    v = mt_json_get(stored, "updatedAt");

    if (v == NULL || v->type != MT_JSON_STRING
        || mt_iso8601_parse(v->u.string.s, v->u.string.len,
                            &meta->updated_at) != 0)
    {
        return -1;
    }

    v = mt_json_get(stored, "version");

    if (v == NULL || v->type != MT_JSON_NUMBER || !v->u.number.is_int
        || v->u.number.i < 0 || v->u.number.i == INT64_MAX)
    {
        return -1;
    }

    meta->version = v->u.number.i;

    v = mt_json_get(stored, "status");

    if (v == NULL || v->type != MT_JSON_STRING
        || v->u.string.len >= MT_STATUS_MAX)
    {
        return -1;
    }

    memcpy(meta->status, v->u.string.s, v->u.string.len);
    meta->status[v->u.string.len] = '\0';

    v = mt_json_get(stored, "topic");

    if (v == NULL || v->type != MT_JSON_STRING) {
        return -1;
    }

    mt_set_topic_key(meta, v->u.string.s, v->u.string.len);

    return 0;
}


/* At most MT_TOPIC_KEY_MAX bytes, never half a code point. */
static void
mt_set_topic_key(mt_assignment_meta_t *meta, const char *s, size_t len)
{
    if (len > MT_TOPIC_KEY_MAX) {
        len = MT_TOPIC_KEY_MAX;

        /* s[len] is the first byte cut off: back up to a lead byte */
        while (len > 0 && ((unsigned char) s[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    memcpy(meta->topic_key, s, len);
    meta->topic_key[len] = '\0';
    meta->topic_key_len = len;
}


int
mt_sort_parse(const char *s, size_t len)
{
    size_t  i;

    static const struct {
        const char  *name;
        mt_sort_t    sort;
    } names[] = {
        { "createdAt", MT_SORT_CREATED_AT },
        { "updatedAt", MT_SORT_UPDATED_AT },
        { "topic", MT_SORT_TOPIC },
        { "status", MT_SORT_STATUS }
    };

    if (s == NULL) {
        return -1;
    }

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i].name) == len
            && memcmp(names[i].name, s, len) == 0)
        {
            return (int) names[i].sort;
        }
    }

    return -1;
}



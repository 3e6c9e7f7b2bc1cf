/*
 * Creators (../shared/specs/api.md, "Creator"): validation, the index
 * fields, the stored document and the text that gets embedded.
 *
 * A creator is stored as it came: fields this code does not know are
 * kept, strings are not trimmed.  Only the server-managed fields
 * (createdAt, updatedAt, embedding) are replaced.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model.h"
#include "model_check.h"
#include "util.h"


#define MT_NICKNAME_MAX    200
#define MT_BIO_MAX         1000
#define MT_REGION_MIN      2
#define MT_SUMMARY_MAX     2000
#define MT_STYLE_MAX       500     /* engagementStyle.contentStyle */
#define MT_NOTES_MAX       2000    /* analysis.evidenceNotes */
#define MT_CREATOR_DEPTH   64      /* the parser's limit is lower */

#define MT_TEXT_NICHES     "\nNiches: "
#define MT_TEXT_VALUES     "\nValues: "
#define MT_TEXT_SEP        ", "


typedef struct {
    mt_vctx_t              *ctx;
    size_t                  size;       /* bytes as compact JSON so far */
    char                    path[MT_PATH_MAX];
} mt_creator_measure_t;


static int mt_creator_measure(mt_creator_measure_t *m, const mt_json_t *v,
    size_t path_len, unsigned depth);
static size_t mt_creator_path(mt_creator_measure_t *m, size_t len,
    const char *fmt, const char *key, size_t i);
static void mt_creator_check_id(mt_vctx_t *ctx, const mt_json_t *v,
    mt_creator_meta_t *meta);
static void mt_creator_check_url(mt_vctx_t *ctx, const mt_json_t *v,
    const char *path);
static void mt_creator_check_analysis(mt_vctx_t *ctx, const mt_json_t *a);
static int mt_creator_niches(const mt_json_t *in, mt_creator_meta_t *meta);
static int mt_creator_hash(const mt_json_t *in, mt_creator_meta_t *meta);
static void mt_creator_fields(mt_jw_t *w, const mt_json_t *in);
static int mt_server_managed(const mt_json_pair_t *p);
static void mt_creator_embedding(mt_jw_t *w, const char *model,
    unsigned dimensions, uint64_t text_hash, const char *updated_at,
    const char *status);
static int mt_creator_str_is(const mt_json_t *v, const char *s, size_t len);
static size_t mt_join(char *out, const mt_json_t *const *lists, size_t n);


/* uniqueId values that would collide with paths under /creators/ */
static const char  *mt_reserved_ids[] = {
    ".", "..", "search", "ingest", "embeddings"
};

/* analysis members that are optional lists of strings */
static const char  *mt_analysis_lists[] = {
    "secondaryNiches", "apparentValues", "audienceInterests",
    "identifiedCauses", "socialStances", "topHashtags"
};

static const char  *mt_partnership_lists[] = {
    "alignedOrganizationTypes", "contentStrengths", "considerations"
};

static const char  *mt_counts[] = {
    "followingCount", "heartCount", "videoCount"
};

#define mt_nelts(a)  (sizeof(a) / sizeof((a)[0]))


void
mt_creator_meta_free(mt_creator_meta_t *meta)
{
    free(meta->niches);
    meta->niches = NULL;
    meta->niches_len = 0;
    meta->nniches = 0;
}


int
mt_creator_validate(const mt_json_t *in, mt_creator_meta_t *meta,
    mt_errs_t *errs)
{
    size_t            i;
    mt_str_t          region;
    mt_vctx_t         ctx;
    const mt_json_t  *v;

    memset(meta, 0, sizeof(mt_creator_meta_t));
    ctx.errs = errs;
    ctx.bad = 0;

    if (in == NULL || in->type != MT_JSON_OBJECT) {
        mt_model_fail(&ctx, in, "", "must be a JSON object");
        return -1;
    }

    /* first, so that no other check walks a hostile creator */
    {
        mt_creator_measure_t  m;

        m.ctx = &ctx;
        m.size = 0;
        m.path[0] = '\0';

        if (mt_creator_measure(&m, in, 0, 0) != 0) {
            return -1;
        }
    }

    mt_creator_check_id(&ctx, mt_json_get(in, "uniqueId"), meta);

    (void) mt_model_string(&ctx, mt_json_get(in, "nickname"), "nickname", 0,
                           MT_NICKNAME_MAX, MT_F_REQUIRED | MT_F_NONEMPTY,
                           NULL);
    (void) mt_model_string(&ctx, mt_json_get(in, "bio"), "bio", 0,
                           MT_BIO_MAX, MT_F_REQUIRED, NULL);
    (void) mt_model_count(&ctx, mt_json_get(in, "followerCount"),
                          "followerCount", MT_F_REQUIRED,
                          &meta->follower_count);

    v = mt_json_get(in, "region");

    if (mt_model_string(&ctx, v, "region", MT_REGION_MIN, MT_REGION_MAX,
                        MT_F_REQUIRED, &region) == 1)
    {
        /* ten characters need not fit the ten bytes the index keeps */
        if (region.len > MT_REGION_MAX) {
            mt_model_fail(&ctx, v, "region", "must be at most 10 bytes");

        } else {
            memcpy(meta->region, region.s, region.len);
            meta->region[region.len] = '\0';
        }
    }

    mt_creator_check_url(&ctx, mt_json_get(in, "avatarUrl"), "avatarUrl");

    v = mt_json_get(in, "verified");

    if (v != NULL && v->type != MT_JSON_NULL) {
        if (v->type != MT_JSON_BOOL) {
            mt_model_fail(&ctx, v, "verified", "must be a boolean");

        } else {
            meta->verified = v->u.boolean ? 1 : 0;
        }
    }

    for (i = 0; i < mt_nelts(mt_counts); i++) {
        (void) mt_model_count(&ctx, mt_json_get(in, mt_counts[i]),
                              mt_counts[i], 0, NULL);
    }

    (void) mt_model_string(&ctx, mt_json_get(in, "profileUrl"),
                           "profileUrl", 0, MT_CREATOR_URL_MAX, 0, NULL);
    (void) mt_model_str_array(&ctx, mt_json_get(in, "topHashtags"),
                              "topHashtags", 0, MT_CREATOR_LIST_MAX,
                              MT_CREATOR_ITEM_MAX, 0, 0);

    v = mt_json_get(in, "analysis");

    if (mt_model_object(&ctx, v, "analysis", MT_F_REQUIRED) == 1) {
        mt_creator_check_analysis(&ctx, v);
    }

    if (ctx.bad) {
        return -1;
    }

    if (mt_creator_niches(in, meta) != 0 || mt_creator_hash(in, meta) != 0)
    {
        mt_creator_meta_free(meta);
        errs->oom = 1;
        return -1;
    }

    return 0;
}


static void
mt_creator_check_id(mt_vctx_t *ctx, const mt_json_t *v,
    mt_creator_meta_t *meta)
{
    size_t       i, len;
    const char  *s;

    if (v == NULL || v->type == MT_JSON_NULL) {
        mt_model_fail(ctx, NULL, "uniqueId", "is required");
        return;
    }

    if (v->type != MT_JSON_STRING) {
        mt_model_fail(ctx, v, "uniqueId", "must be a string");
        return;
    }

    s = v->u.string.s;
    len = v->u.string.len;

    /* the charset is ASCII: bytes and characters are the same here */
    if (len == 0 || len > MT_UNIQUE_ID_MAX) {
        mt_model_fail(ctx, v, "uniqueId", "must be 1 to 100 characters");
        return;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_'
              || s[i] == '-'))
        {
            mt_model_fail(ctx, v, "uniqueId",
                          "must contain only A-Z, a-z, 0-9, '.', '_', '-'");
            return;
        }
    }

    for (i = 0; i < mt_nelts(mt_reserved_ids); i++) {
        if (strcmp(s, mt_reserved_ids[i]) == 0) {
            mt_model_fail(ctx, v, "uniqueId", "is reserved");
            return;
        }
    }

    memcpy(meta->unique_id, s, len);
    meta->unique_id[len] = '\0';
    meta->unique_id_len = len;
}


/*
 * "http://" or "https://" (any case), then a host that is not empty,
 * after any "user@" and before any ":port"; no spaces or controls
 * anywhere, which browsers would have to escape.
 */
static void
mt_creator_check_url(mt_vctx_t *ctx, const mt_json_t *v, const char *path)
{
    size_t       i, len, skip, start, end, host;
    const char  *s;

    if (mt_model_string(ctx, v, path, 0, MT_CREATOR_URL_MAX, 0, NULL) != 1) {
        return;
    }

    s = v->u.string.s;
    len = v->u.string.len;

    if (len >= 7 && strncasecmp(s, "http://", 7) == 0) {
        skip = 7;

    } else if (len >= 8 && strncasecmp(s, "https://", 8) == 0) {
        skip = 8;

    } else {
        goto bad;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] <= 0x20 || s[i] == 0x7f) {
            goto bad;
        }
    }

    end = skip;

    while (end < len && s[end] != '/' && s[end] != '?' && s[end] != '#') {
        end++;
    }

    start = skip;

    for (i = skip; i < end; i++) {
        if (s[i] == '@') {
            start = i + 1;
        }
    }

    host = start;

    if (host < end && s[host] == '[') {
        /* an IPv6 literal: "[" address "]" */
        while (host < end && s[host] != ']') {
            host++;
        }

        if (host == end || host == start + 1) {
            goto bad;
        }

        return;
    }

    while (host < end && s[host] != ':') {
        host++;
    }

    if (host > start) {
        return;
    }

bad:

    mt_model_fail(ctx, v, path, "must be an http(s) URL");
}


static void
mt_creator_check_analysis(mt_vctx_t *ctx, const mt_json_t *a)
{
    char              path[MT_PATH_MAX];
    size_t            i;
    const mt_json_t  *v;

    (void) mt_model_string(ctx, mt_json_get(a, "summary"),
                           "analysis.summary", 0, MT_SUMMARY_MAX,
                           MT_F_REQUIRED | MT_F_NONEMPTY, NULL);
    (void) mt_model_str_array(ctx, mt_json_get(a, "primaryNiches"),
                              "analysis.primaryNiches", 1,
                              MT_CREATOR_LIST_MAX, MT_CREATOR_ITEM_MAX,
                              MT_F_NONEMPTY, MT_F_REQUIRED);

    for (i = 0; i < mt_nelts(mt_analysis_lists); i++) {
        mt_model_key_path(path, "analysis", mt_analysis_lists[i]);
        (void) mt_model_str_array(ctx, mt_json_get(a, mt_analysis_lists[i]),
                                  path, 0, MT_CREATOR_LIST_MAX,
                                  MT_CREATOR_ITEM_MAX, 0, 0);
    }

    v = mt_json_get(a, "engagementStyle");

    if (mt_model_object(ctx, v, "analysis.engagementStyle", MT_F_REQUIRED)
        == 1)
    {
        (void) mt_model_str_array(ctx, mt_json_get(v, "tone"),
                                  "analysis.engagementStyle.tone", 1,
                                  MT_CREATOR_LIST_MAX, MT_CREATOR_ITEM_MAX,
                                  0, MT_F_REQUIRED);
        (void) mt_model_string(ctx, mt_json_get(v, "contentStyle"),
                               "analysis.engagementStyle.contentStyle", 0,
                               MT_STYLE_MAX, 0, NULL);
        (void) mt_model_str_array(ctx, mt_json_get(v, "callsToAction"),
                                  "analysis.engagementStyle.callsToAction",
                                  0, MT_CREATOR_LIST_MAX,
                                  MT_CREATOR_ITEM_MAX, 0, 0);
    }

    v = mt_json_get(a, "partnershipPotential");

    if (mt_model_object(ctx, v, "analysis.partnershipPotential", 0) == 1) {
        for (i = 0; i < mt_nelts(mt_partnership_lists); i++) {
            mt_model_key_path(path, "analysis.partnershipPotential",
                              mt_partnership_lists[i]);
            (void) mt_model_str_array(ctx,
                                      mt_json_get(v, mt_partnership_lists[i]),
                                      path, 0, MT_CREATOR_LIST_MAX,
                                      MT_CREATOR_ITEM_MAX, 0, 0);
        }
    }

    (void) mt_model_string(ctx, mt_json_get(a, "evidenceNotes"),
                           "analysis.evidenceNotes", 0, MT_NOTES_MAX, 0,
                           NULL);
}


/*
 * The creator's size as compact JSON (a lower bound of what was sent:
 * no whitespace, escapes counted as one byte) and the members of each of
 * its objects, unknown fields included.  Stops at the first cap crossed,
 * so that it visits at most MT_CREATOR_SIZE_MAX bytes' worth of values
 * whatever the creator holds; m->path is the value's field path.
 */
static int
mt_creator_measure(mt_creator_measure_t *m, const mt_json_t *v,
    size_t path_len, unsigned depth)
{
    char                   msg[64];
    size_t                 i, len;
    const mt_json_pair_t  *p;

    if (depth > MT_CREATOR_DEPTH) {
        mt_model_fail(m->ctx, NULL, m->path, "is nested too deeply");
        return -1;
    }

    switch (v->type) {

    case MT_JSON_NULL:
        m->size += 4;
        break;

    case MT_JSON_BOOL:
        m->size += v->u.boolean ? 4 : 5;
        break;

    case MT_JSON_NUMBER:
        m->size += v->u.number.raw_len;
        break;

    case MT_JSON_STRING:
        m->size += v->u.string.len + 2;
        break;

    case MT_JSON_ARRAY:
        /* brackets and commas */
        m->size += v->u.array.n ? v->u.array.n + 1 : 2;

        for (i = 0; i < v->u.array.n && m->size <= MT_CREATOR_SIZE_MAX; i++)
        {
            len = mt_creator_path(m, path_len, "[%zu]", NULL, i);

            if (mt_creator_measure(m, v->u.array.items[i], len, depth + 1)
                != 0)
            {
                return -1;
            }

            m->path[path_len] = '\0';
        }

        break;

    case MT_JSON_OBJECT:
        if (v->u.object.n > MT_CREATOR_MEMBERS_MAX) {
            (void) snprintf(msg, sizeof(msg),
                            "must have at most %d members (keys)",
                            MT_CREATOR_MEMBERS_MAX);
            mt_model_fail(m->ctx, NULL, m->path, msg);
            return -1;
        }

        m->size += v->u.object.n ? v->u.object.n + 1 : 2;

        for (i = 0; i < v->u.object.n && m->size <= MT_CREATOR_SIZE_MAX; i++)
        {
            p = &v->u.object.pairs[i];
            m->size += p->key_len + 3;      /* quotes and colon */

            if (!mt_model_name_ok(p->key, p->key_len)) {
                mt_model_fail(m->ctx, NULL, path_len ? m->path : "(root)",
                              "field names may not be empty, start with "
                              "'$' or contain '.'");
                return -1;
            }

            len = mt_creator_path(m, path_len, path_len ? ".%s" : "%s",
                                  p->key, 0);

            if (mt_creator_measure(m, p->value, len, depth + 1) != 0) {
                return -1;
            }

            m->path[path_len] = '\0';
        }

        break;
    }

    if (m->size > MT_CREATOR_SIZE_MAX) {
        (void) snprintf(msg, sizeof(msg), "must be at most %d bytes of JSON",
                        MT_CREATOR_SIZE_MAX);
        /* the whole creator, not the value that crossed the line */
        mt_model_fail(m->ctx, NULL, "", msg);
        return -1;
    }

    return 0;
}


/* appends ".key" or "[i]" to m->path at len (cut to fit); the new length */
static size_t
mt_creator_path(mt_creator_measure_t *m, size_t len, const char *fmt,
    const char *key, size_t i)
{
    int  n;

    if (len >= sizeof(m->path) - 1) {
        return len;
    }

    if (key != NULL) {
        n = snprintf(m->path + len, sizeof(m->path) - len, fmt, key);

    } else {
        n = snprintf(m->path + len, sizeof(m->path) - len, fmt, i);
    }

    if (n < 0) {
        m->path[len] = '\0';
        return len;
    }

    len += (size_t) n;

    return len < sizeof(m->path) ? len : sizeof(m->path) - 1;
}


/*
 * Primary then secondary niches, lowercased (ASCII), each ending in NUL.
 * A niche ends at its first NUL, so that nniches always matches the
 * block; empty niches match nothing and are left out.
 */
static int
mt_creator_niches(const mt_json_t *in, mt_creator_meta_t *meta)
{
    int               pass;
    char             *p;
    size_t            i, k, len, total;
    const char       *s;
    const mt_json_t  *a, *lists[2], *item;

    a = mt_json_get(in, "analysis");
    lists[0] = mt_json_get(a, "primaryNiches");
    lists[1] = mt_json_get(a, "secondaryNiches");

    /* pass 0 measures, pass 1 copies */
    p = NULL;
    total = 0;

    for (pass = 0; pass < 2; pass++) {
        for (k = 0; k < 2; k++) {
            if (lists[k] == NULL || lists[k]->type != MT_JSON_ARRAY) {
                continue;
            }

            for (i = 0; i < lists[k]->u.array.n; i++) {
                item = lists[k]->u.array.items[i];

                if (item->type != MT_JSON_STRING) {
                    continue;
                }

                s = item->u.string.s;
                len = strlen(s);

                if (len == 0) {
                    continue;
                }

                if (pass == 0) {
                    total += len + 1;
                    meta->nniches++;
                    continue;
                }

                while (*s) {
                    *p++ = (*s >= 'A' && *s <= 'Z') ? (char) (*s + 32) : *s;
                    s++;
                }

                *p++ = '\0';
            }
        }

        if (pass == 0) {
            if (total == 0) {
                return 0;
            }

            p = malloc(total);
            if (p == NULL) {
                meta->nniches = 0;
                return -1;
            }

            meta->niches = p;
            meta->niches_len = total;
        }
    }

    return 0;
}


/*
 * content_hash: the input minus the server-managed fields, with member
 * order ignored, so the same creator re-serialised by another client
 * (keys sorted, say) is not a change.
 */
static int
mt_creator_hash(const mt_json_t *in, mt_creator_meta_t *meta)
{
    char                  *text;
    size_t                 i, len;
    uint64_t               h;
    const mt_json_pair_t  *p;

    h = 0;

    for (i = 0; i < in->u.object.n; i++) {
        p = &in->u.object.pairs[i];

        if (!mt_server_managed(p) && !mt_json_shadowed(in, i)) {
            h += mt_json_hash_pair(p);
        }
    }

    meta->content_hash = h;

    text = mt_creator_text(in, &len);
    if (text == NULL) {
        return -1;
    }

    meta->text_hash = mt_hash64(text, len, MT_HASH_SEED);
    free(text);

    return 0;
}


/*
 * Every member but the server-managed ones, duplicates included: read
 * back, the last duplicate wins again, as it did when validated.
 */
static void
mt_creator_fields(mt_jw_t *w, const mt_json_t *in)
{
    size_t                 i;
    const mt_json_pair_t  *p;

    for (i = 0; i < in->u.object.n; i++) {
        p = &in->u.object.pairs[i];

        if (mt_server_managed(p)) {
            continue;
        }

        mt_jw_keyn(w, p->key, p->key_len);
        mt_jw_value(w, p->value);
    }
}


static int
mt_server_managed(const mt_json_pair_t *p)
{
    size_t  i;

    static const struct {
        const char  *name;
        size_t       len;
    } names[] = {
        { "createdAt", sizeof("createdAt") - 1 },
        { "updatedAt", sizeof("updatedAt") - 1 },
        { "embedding", sizeof("embedding") - 1 }
    };

    for (i = 0; i < mt_nelts(names); i++) {
        if (p->key_len == names[i].len
            && memcmp(p->key, names[i].name, names[i].len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


int
mt_creator_write(const mt_json_t *in, const mt_creator_meta_t *meta,
    const mt_json_t *stored, uint64_t stored_text_hash, int64_t now_ms,
    mt_jw_t *doc)
{
    char              ts[MT_ISO8601_LEN + 1];
    const mt_json_t  *created, *emb;

    if (in == NULL || in->type != MT_JSON_OBJECT || meta == NULL) {
        return -1;
    }

    mt_iso8601(ts, now_ms);

    created = NULL;
    emb = NULL;

    if (stored != NULL) {
        created = mt_json_get(stored, "createdAt");

        if (created != NULL && created->type != MT_JSON_STRING) {
            created = NULL;
        }

        /* the text the stored vector was made from has not changed */
        if (stored_text_hash == meta->text_hash) {
            emb = mt_json_get(stored, "embedding");

            if (emb != NULL && emb->type != MT_JSON_OBJECT) {
                emb = NULL;
            }
        }
    }

    mt_jw_obj_open(doc);
    mt_creator_fields(doc, in);

    mt_jw_key(doc, "createdAt");

    if (created != NULL) {
        mt_jw_value(doc, created);

    } else {
        mt_jw_cstr(doc, ts);
    }

    mt_jw_key(doc, "updatedAt");
    mt_jw_cstr(doc, ts);

    if (emb != NULL) {
        mt_jw_key(doc, "embedding");
        mt_jw_value(doc, emb);

    } else {
        mt_creator_embedding(doc, NULL, 0, meta->text_hash, NULL, "pending");
    }

    mt_jw_obj_close(doc);

    return mt_jw_failed(doc) ? -1 : 0;
}


int
mt_creator_set_embedding(const mt_json_t *stored,
    const mt_embedding_info_t *e, mt_jw_t *doc)
{
    int                    written;
    char                   ts[MT_ISO8601_LEN + 1];
    size_t                 i;
    const mt_json_pair_t  *p;

    if (stored == NULL || stored->type != MT_JSON_OBJECT || e == NULL
        || e->status == NULL
        || (strcmp(e->status, "ready") != 0
            && strcmp(e->status, "failed") != 0))
    {
        return -1;
    }

    mt_iso8601(ts, e->updated_at_ms);

    written = 0;

    mt_jw_obj_open(doc);

    for (i = 0; i < stored->u.object.n; i++) {
        p = &stored->u.object.pairs[i];

        if (p->key_len != sizeof("embedding") - 1
            || memcmp(p->key, "embedding", sizeof("embedding") - 1) != 0)
        {
            mt_jw_keyn(doc, p->key, p->key_len);
            mt_jw_value(doc, p->value);
            continue;
        }

        /* one embedding, where the first was: duplicates would shadow it */
        if (!written) {
            mt_creator_embedding(doc, e->model, e->dimensions, e->text_hash,
                                 ts, e->status);
            written = 1;
        }
    }

    if (!written) {
        mt_creator_embedding(doc, e->model, e->dimensions, e->text_hash, ts,
                             e->status);
    }

    mt_jw_obj_close(doc);

    return mt_jw_failed(doc) ? -1 : 0;
}


int
mt_creator_embedding_is(const mt_json_t *stored,
    const mt_embedding_info_t *e)
{
    char              hex[17];
    const mt_json_t  *emb, *v;

    emb = mt_json_get(stored, "embedding");

    if (emb == NULL || emb->type != MT_JSON_OBJECT || e == NULL
        || e->status == NULL)
    {
        return 0;
    }

    if (!mt_creator_str_is(mt_json_get(emb, "status"), e->status,
                        strlen(e->status)))
    {
        return 0;
    }

    v = mt_json_get(emb, "model");

    if (e->model == NULL) {
        if (v == NULL || v->type != MT_JSON_NULL) {
            return 0;
        }

    } else if (!mt_creator_str_is(v, e->model, strlen(e->model))) {
        return 0;
    }

    v = mt_json_get(emb, "dimensions");

    if (v == NULL || v->type != MT_JSON_NUMBER || !v->u.number.is_int
        || v->u.number.i != (int64_t) e->dimensions)
    {
        return 0;
    }

    (void) snprintf(hex, sizeof(hex), "%016" PRIx64, e->text_hash);

    return mt_creator_str_is(mt_json_get(emb, "textHash"), hex, 16);
}


/*
 * "embedding": {"model","dimensions","textHash","updatedAt","status"},
 * the one shape of every state; model and updated_at NULL write null.
 */
static void
mt_creator_embedding(mt_jw_t *w, const char *model, unsigned dimensions,
    uint64_t text_hash, const char *updated_at, const char *status)
{
    char  hex[17];

    (void) snprintf(hex, sizeof(hex), "%016" PRIx64, text_hash);

    mt_jw_key(w, "embedding");
    mt_jw_obj_open(w);
    mt_jw_key(w, "model");
    mt_jw_cstr(w, model);
    mt_jw_key(w, "dimensions");
    mt_jw_int(w, (int64_t) dimensions);
    mt_jw_key(w, "textHash");
    mt_jw_cstr(w, hex);
    mt_jw_key(w, "updatedAt");
    mt_jw_cstr(w, updated_at);
    mt_jw_key(w, "status");
    mt_jw_cstr(w, status);
    mt_jw_obj_close(w);
}


static int
mt_creator_str_is(const mt_json_t *v, const char *s, size_t len)
{
    return v != NULL && v->type == MT_JSON_STRING && v->u.string.len == len
           && memcmp(v->u.string.s, s, len) == 0;
}


/*
 * The embedded text, exactly as the existing services build it:
 *
 *     <bio>\nNiches: <primary and secondary niches>\nValues: <values>
 *
 * lists joined with ", ", primary niches before secondary ones; both
 * labels are always there, even after an empty list.  A missing bio is
 * "".  No trailing newline.
 */
char *
mt_creator_text(const mt_json_t *creator, size_t *len)
{
    char              *text, *p;
    size_t             bio_len, total;
    const char        *bio;
    const mt_json_t   *v, *a, *niches[2], *values[1];

    bio = "";
    bio_len = 0;

    v = mt_json_get(creator, "bio");

    if (v != NULL && v->type == MT_JSON_STRING) {
        bio = v->u.string.s;
        bio_len = v->u.string.len;
    }

    a = mt_json_get(creator, "analysis");
    niches[0] = mt_json_get(a, "primaryNiches");
    niches[1] = mt_json_get(a, "secondaryNiches");
    values[0] = mt_json_get(a, "apparentValues");

    total = bio_len + sizeof(MT_TEXT_NICHES) - 1 + mt_join(NULL, niches, 2)
            + sizeof(MT_TEXT_VALUES) - 1 + mt_join(NULL, values, 1);

    text = malloc(total + 1);
    if (text == NULL) {
        return NULL;
    }

    p = text;
    memcpy(p, bio, bio_len);
    p += bio_len;
    memcpy(p, MT_TEXT_NICHES, sizeof(MT_TEXT_NICHES) - 1);
    p += sizeof(MT_TEXT_NICHES) - 1;
    p += mt_join(p, niches, 2);
    memcpy(p, MT_TEXT_VALUES, sizeof(MT_TEXT_VALUES) - 1);
    p += sizeof(MT_TEXT_VALUES) - 1;
    p += mt_join(p, values, 1);
    *p = '\0';

    if (len != NULL) {
        *len = (size_t) (p - text);
    }

    return text;
}


/*
 * The strings of n lists (NULL or not arrays: empty) as one list joined
 * with ", "; out NULL only measures.  Returns the bytes.
 */
static size_t
mt_join(char *out, const mt_json_t *const *lists, size_t n)
{
    int               first;
    size_t            i, k, len;
    const mt_json_t  *item;

    len = 0;
    first = 1;

    for (k = 0; k < n; k++) {
        if (lists[k] == NULL || lists[k]->type != MT_JSON_ARRAY) {
            continue;
        }

        for (i = 0; i < lists[k]->u.array.n; i++) {
            item = lists[k]->u.array.items[i];

            if (item->type != MT_JSON_STRING) {
                continue;
            }

            if (!first) {
                if (out != NULL) {
                    memcpy(out + len, MT_TEXT_SEP, sizeof(MT_TEXT_SEP) - 1);
                }

                len += sizeof(MT_TEXT_SEP) - 1;
            }

            if (out != NULL) {
                memcpy(out + len, item->u.string.s, item->u.string.len);
            }

            len += item->u.string.len;
            first = 0;
        }
    }

    return len;
}

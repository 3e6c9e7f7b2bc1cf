
/*
 * POST /matches and POST /matches/framing.
 *
 * Candidates come from the vector index (the assignment's text against
 * every creator's), then each is scored on structured signals too
 * (lib/score.c; README.md explains the formula).  Replies are cached in
 * the shared zone under the normalised request and the index generation,
 * which changes on every ingest and embedding, so a hit is never stale.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_index.h"
#include "ngx_http_matcher_remote.h"
#include "score.h"
#include "similar.h"
#include "ngx_http_matcher_match.h"


/*
 * Re-ranked per request: the nearest creators by vector get the
 * structured signals too.  Scoring costs tens of microseconds a creator,
 * so the pool is what keeps a match within its latency budget.
 */
#define NGX_HTTP_MATCHER_CANDIDATES    50


typedef struct {
    mt_json_doc_t                  *doc;
    const mt_json_t                *creator;
    const char                     *id;
    size_t                          id_len;
    double                          cosine;
    mt_breakdown_t                  b;
} ngx_http_matcher_cand_t;

typedef struct {
    ngx_http_matcher_cand_t        *c;
    size_t                          n;         /* parsed, to free */
    size_t                          total;     /* creators searched */
} ngx_http_matcher_cands_t;

/* POST /matches between its steps, in r->pool */
typedef struct {
    const mt_json_t                *body;
    const mt_json_t                *a;         /* the brief */
    const char                     *id;        /* "" or assignmentId */
    size_t                          topk;
    double                          min_score; /* minScore, 0: keep all */
    ngx_uint_t                      framing;
    uint64_t                        gen;       /* the index generation */
    ngx_str_t                       raw;       /* cache keys */
    ngx_str_t                       key;
    u_char                          raw_buf[96];
    u_char                          key_buf[96];
    mt_vec_hits_t                  *hits;      /* NULL: the fallback */
} ngx_http_matcher_match_t;

typedef struct {
    ngx_http_matcher_patch_t        patch;     /* first: patch_run's data */
    char                           *data;      /* the reply's data, JSON */
    size_t                          data_len;
} ngx_http_matcher_save_t;


static ngx_int_t ngx_http_matcher_matches(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
static ngx_int_t ngx_http_matcher_match_brief(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_json_doc_t *adoc,
    const char *id);
static ngx_int_t ngx_http_matcher_match_found(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_vec_hits_t *hits);
static ngx_int_t ngx_http_matcher_match_loaded(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
static ngx_int_t ngx_http_matcher_match_reply(ngx_http_request_t *r,
    ngx_http_matcher_match_t *m, ngx_http_matcher_cands_t *cs);
static void ngx_http_matcher_rank(ngx_http_matcher_match_t *m,
    ngx_http_matcher_cands_t *cs, mt_jw_t *w);
static void ngx_http_matcher_summary(ngx_http_matcher_match_t *m,
    ngx_http_matcher_cands_t *cs, size_t n, size_t dropped, mt_jw_t *w);
static ngx_int_t ngx_http_matcher_match_results(const char *data,
    size_t len, char **out, size_t *out_len);
static ngx_int_t ngx_http_matcher_cand_load(ngx_http_matcher_cand_t *c,
    mt_text_t *doc);
static int ngx_http_matcher_cand_cmp(const void *one, const void *two);
static void ngx_http_matcher_cands_free(void *data);
static void ngx_http_matcher_write_match(mt_jw_t *w, const mt_json_t *a,
    ngx_http_matcher_cand_t *c, ngx_uint_t framing);
static ngx_int_t ngx_http_matcher_save_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_matcher_save_free(void *data);


ngx_http_matcher_route_t  ngx_http_matcher_match_routes[] = {

    { ngx_string(""), NGX_HTTP_POST,
      ngx_http_matcher_matches, 0, 0, 0, 0 },

    { ngx_string("framing"), NGX_HTTP_POST,
      ngx_http_matcher_framing, 0, 0, 0, 1 },

    { ngx_null_string, 0, NULL, 0, 0, 0, 0 }
};


static const ngx_http_matcher_job_type_t  ngx_http_matcher_save_job = {
    ngx_http_matcher_patch_run, ngx_http_matcher_save_done,
    ngx_http_matcher_save_free
};


/*
 * The steps: the body checked, the assignment (a store read when it is
 * named by id), the brief embedded and searched, the candidates read
 * (a store read), scored, and the reply cached or saved (a store write).
 * Each read and the search may run on the loop or be parked on the
 * thread pool, by the backend's capability and the configuration.
 */

static ngx_int_t
ngx_http_matcher_matches(ngx_http_request_t *r, ngx_http_matcher_ctx_t *ctx)
{
    mt_jw_t                       w;
    ngx_str_t                     named, value;
    ngx_int_t                     rc;
    mt_errs_t                     errs;
    const mt_json_t              *body, *v;
    ngx_http_matcher_match_t     *m;
    ngx_http_matcher_backends_t  *b;

    if (ngx_http_matcher_store() == NULL) {
        return ngx_http_matcher_no_store(r);
    }

    m = ngx_pcalloc(r->pool, sizeof(ngx_http_matcher_match_t));
    b = ngx_http_matcher_backends(r, ctx);

    if (m == NULL || b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A body seen before, byte for byte, against the same index: its
     * entry names the reply's entry, found with no parse at all.  Only
     * requests that were valid and saved nothing leave such an entry.
     */

    m->gen = b->vec ? b->vec->ops->generation(b->vec) : 0;

    /* a remote index keeps none: the module counts its writes to it */
    if (m->gen == 0 && b->vec) {
        m->gen = ngx_http_matcher_remote_generation();
    }

    m->raw.data = m->raw_buf;
    m->raw.len = ngx_snprintf(m->raw_buf, sizeof(m->raw_buf),
                              "raw/%016uxL/%uz/%uL",
                              mt_hash64(ctx->body, ctx->body_len,
                                        MT_HASH_SEED),
                              ctx->body_len, m->gen)
                 - m->raw_buf;

    if (ngx_http_matcher_cache_get(r, ctx, NGX_HTTP_MATCHER_CACHE_MATCHES,
                                   &m->raw, &named)
            == NGX_OK
        && ngx_http_matcher_cache_get(r, ctx, NGX_HTTP_MATCHER_CACHE_MATCHES,
                                      &named, &value)
           == NGX_OK)
    {
        ngx_http_matcher_envelope_open(&w);
        mt_jw_raw(&w, (char *) value.data, value.len);
        return ngx_http_matcher_envelope_send(r, NGX_HTTP_OK, &w);
    }

    rc = ngx_http_matcher_parse_body(r, ctx, &body);
    if (body == NULL) {
        return rc;
    }

    mt_errs_init(&errs);

    m->body = body;
    m->topk = 3;
    m->framing = 1;

    v = mt_json_get(body, "topK");
    if (v != NULL) {
        if (v->type != MT_JSON_NUMBER || !v->u.number.is_int
            || v->u.number.i < 1 || v->u.number.i > 50)
        {
            mt_errs_add(&errs, v, "must be an integer from 1 to 50", "topK");

        } else {
            m->topk = (size_t) v->u.number.i;
        }
    }

    /* no NaN or infinity in JSON: the bounds are the whole check */
    v = mt_json_get(body, "minScore");
    if (v != NULL) {
        if (v->type != MT_JSON_NUMBER || v->u.number.d < 0.0
            || v->u.number.d > 1.0)
        {
            mt_errs_add(&errs, v, "must be a number from 0 to 1",
                        "minScore");

        } else {
            m->min_score = v->u.number.d;
        }
    }

    v = mt_json_get(body, "framing");
    if (v != NULL) {
        if (v->type != MT_JSON_BOOL) {
            mt_errs_add(&errs, v, "must be a boolean", "framing");

        } else {
            m->framing = v->u.boolean;
        }
    }

    if (errs.n || errs.oom) {
        rc = ngx_http_matcher_validation_error(r, &errs);
        mt_errs_free(&errs);
        return rc;
    }

    mt_errs_free(&errs);

    return ngx_http_matcher_get_assignment(r, ctx, body,
                                           ngx_http_matcher_match_brief, m);
}


static ngx_int_t
ngx_http_matcher_match_brief(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_json_doc_t *adoc,
    const char *id)
{
    ngx_http_matcher_match_t *m = data;

    char       *text;
    size_t      len;
    uint64_t    min_bits;
    mt_jw_t     w;
    ngx_int_t   rc;
    ngx_str_t   value;

    m->a = mt_json_root(adoc);
    m->id = id;

    /*
     * The cache: the assignment as validated (key order does not count),
     * topK, framing, minScore (its bits: 0.5 and 0.50001 drop different
     * matches) and the index generation.  A request that saves to an
     * assignment is computed and saved every time.
     */

    ngx_memcpy(&min_bits, &m->min_score, sizeof(min_bits));

    m->key.data = m->key_buf;
    m->key.len = ngx_snprintf(m->key_buf, sizeof(m->key_buf),
                              "%016uxL/%uz/%ui/%016uxL/%uL",
                              ngx_http_matcher_brief_hash(m->a), m->topk,
                              m->framing, min_bits, m->gen)
                 - m->key.data;

    if (id[0] == '\0'
        && ngx_http_matcher_cache_get(r, ctx, NGX_HTTP_MATCHER_CACHE_MATCHES,
                                      &m->key, &value)
           == NGX_OK)
    {
        ngx_http_matcher_envelope_open(&w);
        mt_jw_raw(&w, (char *) value.data, value.len);
        return ngx_http_matcher_envelope_send(r, NGX_HTTP_OK, &w);
    }

    /* a brief from the body: shown without the fields a stored one adds */
    if (id[0] == '\0' || mt_json_get(m->body, "assignment") != NULL) {
        m->a = ngx_http_matcher_brief(r, m->a);
        if (m->a == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    text = mt_assignment_text(m->a, &len);
    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the text is embedded before the search is parked, if it is */
    rc = ngx_http_matcher_vector_search(r, ctx, text, len, NULL, NULL,
                                        NGX_HTTP_MATCHER_CANDIDATES,
                                        ngx_http_matcher_match_found, m);
    free(text);

    return rc;
}


/*
 * The creators to score: the nearest ones by vector, or, with no index
 * yet, the first ones of the store, scored on structured signals alone
 * (isFallback).  Either way a store read.
 */

static ngx_int_t
ngx_http_matcher_match_found(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_vec_hits_t *hits)
{
    ngx_http_matcher_match_t *m = data;

    size_t                    i, bytes;
    ngx_http_matcher_read_t  *rd;

    m->hits = hits;

    if (hits == NULL) {
        rd = ngx_http_matcher_read_alloc(r,
                                         NGX_HTTP_MATCHER_READ_CREATOR_LIST,
                                         0);
        if (rd != NULL) {
            rd->list.limit = NGX_HTTP_MATCHER_CANDIDATES;
        }

    } else {
        bytes = 0;

        for (i = 0; i < hits->n; i++) {
            bytes += hits->hits[i].id_len;
        }

        rd = ngx_http_matcher_read_creators(r, hits->n, bytes);

        for (i = 0; rd != NULL && i < hits->n; i++) {
            ngx_http_matcher_read_add_id(rd, hits->hits[i].id,
                                         hits->hits[i].id_len);
        }
    }

    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rd->next = ngx_http_matcher_match_loaded;
    rd->data = m;

    return ngx_http_matcher_read(r, rd);
}


/* the candidates' documents parsed once, freed with the pool */

static ngx_int_t
ngx_http_matcher_match_loaded(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    ngx_http_matcher_match_t *m = rd->data;

    size_t                     i;
    ngx_pool_cleanup_t        *cln;
    ngx_http_matcher_cand_t   *c;
    ngx_http_matcher_cands_t  *cs;

    if (rd->rc != MT_STORE_OK) {
        return ngx_http_matcher_read_error(r, rd, "not found");
    }

    cs = ngx_pcalloc(r->pool, sizeof(ngx_http_matcher_cands_t));
    c = ngx_pcalloc(r->pool, (rd->n ? rd->n : 1) * sizeof(*c));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (cs == NULL || c == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cs->c = c;
    cln->handler = ngx_http_matcher_cands_free;
    cln->data = cs;
    cs->total = m->hits ? m->hits->total : rd->total;

    for (i = 0; i < rd->n; i++) {

        if (rd->docs[i].data == NULL) {
            /* deleted since it was indexed */
            continue;
        }

        if (m->hits) {
            c[cs->n].id = m->hits->hits[i].id;
            c[cs->n].id_len = m->hits->hits[i].id_len;
            c[cs->n].cosine = m->hits->hits[i].score;
        }

        /* the text is the parse's now */
        if (ngx_http_matcher_cand_load(&c[cs->n], &rd->docs[i]) == NGX_OK) {
            cs->n++;
        }

        rd->docs[i].data = NULL;
    }

    return ngx_http_matcher_match_reply(r, m, cs);
}


static ngx_int_t
ngx_http_matcher_match_reply(ngx_http_request_t *r,
    ngx_http_matcher_match_t *m, ngx_http_matcher_cands_t *cs)
{
    mt_jw_t                   w, data;
    ngx_str_t                 value;
    ngx_http_matcher_ctx_t   *ctx;
    ngx_http_matcher_job_t   *job;
    ngx_http_matcher_save_t  *save;

    mt_jw_init(&data);

    ngx_http_matcher_rank(m, cs, &data);

    if (mt_jw_failed(&data)) {
        mt_jw_free(&data);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    if (m->id[0] == '\0') {
        value.data = (u_char *) data.data;
        value.len = data.len;

        /* a fallback for a remote that failed is not kept: it is back soon */
        if (ctx->failed == NULL) {
            ngx_http_matcher_cache_put(r, NGX_HTTP_MATCHER_CACHE_MATCHES,
                                       &m->key, &value);
            ngx_http_matcher_cache_put(r, NGX_HTTP_MATCHER_CACHE_MATCHES,
                                       &m->raw, &m->key);
        }

        ngx_http_matcher_envelope_open(&w);
        mt_jw_raw(&w, data.data, data.len);
        mt_jw_free(&data);

        return ngx_http_matcher_envelope_send(r, NGX_HTTP_OK, &w);
    }

    /* saved to the assignment as PATCH .../matches would, then replied */

    job = ngx_http_matcher_job_alloc(r, sizeof(ngx_http_matcher_save_t));
    if (job == NULL) {
        mt_jw_free(&data);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    save = job->data;
    ngx_memcpy(save->patch.id, m->id, MT_OID_LEN + 1);
    save->patch.expected = -1;
    save->patch.now_ms = ngx_http_matcher_now_ms();
    mt_jw_init(&save->patch.doc);
    save->data = mt_jw_take(&data, &save->data_len);

    if (save->data == NULL
        || ngx_http_matcher_match_results(save->data, save->data_len,
                                          &save->patch.matches,
                                          &save->patch.matches_len)
           != NGX_OK)
    {
        ngx_http_matcher_job_free(job);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_matcher_job_start(r, job, &ngx_http_matcher_save_job);
}


/* data = {"assignment","matches","reasoning","isFallback","assignmentId"?} */

static void
ngx_http_matcher_rank(ngx_http_matcher_match_t *m,
    ngx_http_matcher_cands_t *cs, mt_jw_t *w)
{
    size_t                    i, n, kept;
    double                    best;
    mt_brief_t                br;
    ngx_uint_t                fallback;
    const mt_json_t          *a;
    ngx_http_matcher_cand_t  *c;

    a = m->a;
    c = cs->c;
    n = cs->n;
    best = 0;
    fallback = (m->hits == NULL);

    for (i = 0; i < n; i++) {
        best = ngx_max(best, c[i].cosine);
    }

    /* what the brief alone decides, once for all the candidates */
    mt_brief_init(&br, a);

    for (i = 0; i < n; i++) {
        mt_score_brief(&br, c[i].creator, c[i].cosine, best, !fallback,
                       &c[i].b);
    }

    /* best first, ties by creatorId: the same request, the same order */
    ngx_qsort(c, n, sizeof(ngx_http_matcher_cand_t),
              ngx_http_matcher_cand_cmp);

    n = ngx_min(n, m->topk);

    /* best first: the ones minScore keeps lead */
    for (kept = 0; kept < n && c[kept].b.score >= m->min_score; kept++) {
        /* void */
    }

    mt_jw_obj_open(w);
    mt_jw_key(w, "assignment");
    mt_jw_value(w, a);
    mt_jw_key(w, "matches");
    mt_jw_arr_open(w);

    for (i = 0; i < kept; i++) {
        ngx_http_matcher_write_match(w, a, &c[i], m->framing);
    }

    mt_jw_arr_close(w);
    mt_jw_key(w, "reasoning");
    ngx_http_matcher_summary(m, cs, kept, n - kept, w);
    mt_jw_key(w, "isFallback");
    mt_jw_bool(w, (int) fallback);

    if (m->id[0]) {
        mt_jw_key(w, "assignmentId");
        mt_jw_cstr(w, m->id);
    }

    mt_jw_obj_close(w);
}


/*
 * The overall reasoning of n matches, and how many minScore dropped:
 * said after the summary, or instead of it when none is left.
 */

static void
ngx_http_matcher_summary(ngx_http_matcher_match_t *m,
    ngx_http_matcher_cands_t *cs, size_t n, size_t dropped, mt_jw_t *w)
{
    char     note[256];
    size_t   len;
    mt_jw_t  sw;

    if (dropped == 0) {
        mt_summary(m->a, n ? &cs->c[0].b : NULL, n, cs->total,
                   m->hits == NULL, w);
        return;
    }

    len = mt_min_score_note(dropped, n, cs->total, m->min_score, note,
                            sizeof(note));

    if (n == 0) {
        mt_jw_str(w, note, len);
        return;
    }

    mt_jw_init(&sw);
    mt_summary(m->a, &cs->c[0].b, n, cs->total, m->hits == NULL, &sw);

    /* out of memory: w gets the summary alone, or fails as sw did */
    if (mt_jw_failed(&sw)
        || mt_summary_append(w, sw.data, sw.len, note, len) != 0)
    {
        mt_jw_raw(w, sw.data, mt_jw_failed(&sw) ? 0 : sw.len);
    }

    mt_jw_free(&sw);
}


/* takes doc's text: parsed, and freed either way */

static ngx_int_t
ngx_http_matcher_cand_load(ngx_http_matcher_cand_t *c, mt_text_t *doc)
{
    const mt_json_t  *id;
    mt_json_err_t     err;

    c->doc = mt_json_parse_stored(doc->data, doc->len, &err);
    free(doc->data);

    if (c->doc == NULL) {
        return NGX_ERROR;
    }

    c->creator = mt_json_root(c->doc);

    /* the fallback has no id from the index: the document's own */
    if (c->id == NULL) {
        id = mt_json_get(c->creator, "uniqueId");

        if (id == NULL || id->type != MT_JSON_STRING) {
            mt_json_free(c->doc);
            c->doc = NULL;
            return NGX_ERROR;
        }

        c->id = id->u.string.s;
        c->id_len = id->u.string.len;
    }

    return NGX_OK;
}


static void
ngx_http_matcher_cands_free(void *data)
{
    ngx_http_matcher_cands_t  *cs = data;

    size_t  i;

    for (i = 0; i < cs->n; i++) {
        mt_json_free(cs->c[i].doc);
    }
}


static int
ngx_http_matcher_cand_cmp(const void *one, const void *two)
{
    const ngx_http_matcher_cand_t  *a = one, *b = two;

    int  rc;

    if (a->b.score != b->b.score) {
        return (a->b.score > b->b.score) ? -1 : 1;
    }

    rc = ngx_memn2cmp((u_char *) a->id, (u_char *) b->id, a->id_len,
                      b->id_len);

    return rc;
}


static void
ngx_http_matcher_write_match(mt_jw_t *w, const mt_json_t *a,
    ngx_http_matcher_cand_t *c, ngx_uint_t framing)
{
    mt_jw_obj_open(w);
    mt_jw_key(w, "creatorId");
    mt_jw_str(w, c->id, c->id_len);
    mt_jw_key(w, "creator");
    ngx_http_matcher_write_creator(w, c->creator);
    mt_jw_key(w, "matchScore");
    mt_jw_double(w, c->b.score);
    mt_jw_key(w, "reasoning");
    mt_reasoning(a, c->creator, &c->b, w);

    if (framing) {
        mt_jw_key(w, "framingSuggestion");
        mt_framing(a, c->creator, w);
    }

    mt_jw_key(w, "scoreBreakdown");
    mt_jw_obj_open(w);
    mt_jw_key(w, "semanticSimilarity");
    mt_jw_double(w, c->b.semantic);
    mt_jw_key(w, "nicheAlignment");
    mt_jw_double(w, c->b.niche);
    mt_jw_key(w, "audienceMatch");
    mt_jw_double(w, c->b.audience);
    mt_jw_key(w, "valueAlignment");
    mt_jw_double(w, c->b.value);
    mt_jw_key(w, "engagementFit");
    mt_jw_double(w, c->b.engagement);
    mt_jw_key(w, "toneAlignment");
    mt_jw_double(w, c->b.tone);
    mt_jw_obj_close(w);
    mt_jw_obj_close(w);
}


static ngx_int_t
ngx_http_matcher_save_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_save_t  *save = data;

    mt_jw_t  w;

    if (save->patch.rc != MT_STORE_OK) {
        return ngx_http_matcher_store_error(r, save->patch.rc,
                                            save->patch.rc
                                            == MT_STORE_CONFLICT
                                            ? "too many concurrent updates"
                                            : "assignment not found",
                                            save->patch.error);
    }

    ngx_http_matcher_envelope_open(&w);
    mt_jw_raw(&w, save->data, save->data_len);

    return ngx_http_matcher_envelope_send(r, NGX_HTTP_OK, &w);
}


/*
 * The first ten matches of a reply's data, as PATCH .../matches takes
 * them (matchResults holds 1 to 10).
 */

static ngx_int_t
ngx_http_matcher_match_results(const char *data, size_t len, char **out,
    size_t *out_len)
{
    size_t            i;
    mt_jw_t           w;
    mt_json_err_t     err;
    mt_json_doc_t    *d;
    const mt_json_t  *m;

    d = mt_json_parse(data, len, NULL, &err, NULL, 0);
    if (d == NULL) {
        return NGX_ERROR;
    }

    m = mt_json_get(mt_json_root(d), "matches");

    mt_jw_init(&w);
    mt_jw_arr_open(&w);

    for (i = 0; m && m->type == MT_JSON_ARRAY && i < m->u.array.n && i < 10;
         i++)
    {
        mt_jw_value(&w, m->u.array.items[i]);
    }

    mt_jw_arr_close(&w);
    mt_json_free(d);

    *out = mt_jw_take(&w, out_len);

    return (*out == NULL) ? NGX_ERROR : NGX_OK;
}


static void
ngx_http_matcher_save_free(void *data)
{
    ngx_http_matcher_save_t  *save = data;

    ngx_http_matcher_patch_free(&save->patch);
    free(save->data);
}

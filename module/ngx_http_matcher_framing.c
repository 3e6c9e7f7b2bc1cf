
/*
 * The brief of a match request (the body's assignment, validated, or a
 * stored one), its cache key, and POST /matches/framing.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_matcher_module.h"
#include "ngx_http_matcher_match.h"
#include "score.h"


/* a stored assignment being read, and where the request goes next */
typedef struct {
    ngx_http_matcher_assignment_pt   next;
    void                            *data;
    char                            *id;
} ngx_http_matcher_get_t;

/* POST /matches/framing between its steps */
typedef struct {
    const mt_json_t                 *body;
    const mt_json_t                 *a;
} ngx_http_matcher_frame_t;


static ngx_int_t ngx_http_matcher_assignment_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
static ngx_int_t ngx_http_matcher_framing_brief(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_json_doc_t *adoc,
    const char *id);
static ngx_int_t ngx_http_matcher_framing_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
static ngx_int_t ngx_http_matcher_framing_reply(ngx_http_request_t *r,
    const mt_json_t *a, const mt_json_t *creator);
static ngx_uint_t ngx_http_matcher_server_field(const char *key);


ngx_int_t
ngx_http_matcher_get_assignment(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, const mt_json_t *body,
    ngx_http_matcher_assignment_pt next, void *data)
{
    char                     *id;
    size_t                    i;
    mt_jw_t                   w;
    ngx_int_t                 rc;
    mt_errs_t                 errs;
    mt_json_err_t             err;
    mt_json_doc_t            *v;
    mt_json_detail_t          detail;
    const mt_json_t          *a, *aid;
    ngx_pool_cleanup_t       *cln;
    mt_assignment_meta_t      meta;
    ngx_http_matcher_get_t   *get;
    ngx_http_matcher_read_t  *rd;

    id = ngx_pcalloc(r->pool, MT_OID_LEN + 1);
    if (id == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a = mt_json_get(body, "assignment");
    aid = mt_json_get(body, "assignmentId");

    if (aid != NULL
        && (aid->type != MT_JSON_STRING
            || mt_oid_normalize(aid->u.string.s, aid->u.string.len, id) != 0))
    {
        ngx_memzero(&detail, sizeof(detail));
        detail.field = "assignmentId";
        detail.message = "must be 24 hexadecimal characters";
        detail.value = aid;

        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                      "validation_failed",
                                      "invalid assignmentId", &detail, 1);
    }

    if (a == NULL && aid == NULL) {
        ngx_memzero(&detail, sizeof(detail));
        detail.field = "assignment";
        detail.message = "assignment or assignmentId is required";

        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                      "validation_failed",
                                      "assignment or assignmentId is "
                                      "required", &detail, 1);
    }

    if (a == NULL) {
        /* the stored one: a store read, now or parked */

        get = ngx_palloc(r->pool, sizeof(ngx_http_matcher_get_t));
        if (get == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rd = ngx_http_matcher_read_alloc(r, NGX_HTTP_MATCHER_READ_ASSIGNMENT,
                                         0);
        if (rd == NULL) {
            return ngx_http_matcher_read_failed(r);
        }

        get->next = next;
        get->data = data;
        get->id = id;

        ngx_memcpy(rd->id, id, MT_OID_LEN + 1);
        rd->next = ngx_http_matcher_assignment_got;
        rd->data = get;

        return ngx_http_matcher_read(r, rd);
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mt_errs_init(&errs);
    mt_jw_init(&w);

    if (a->type != MT_JSON_OBJECT) {
        mt_errs_add(&errs, a, "must be an object", "assignment");

    } else {
        (void) mt_assignment_create(a, "000000000000000000000000",
                                    ngx_http_matcher_now_ms(), &w, &meta,
                                    &errs);
    }

    if (errs.n || errs.oom) {
        mt_jw_free(&w);

        /* the fields sit below "assignment" in this body */
        for (i = 0; i < errs.n && a->type == MT_JSON_OBJECT; i++) {
            ngx_memmove(errs.items[i].field + 11, errs.items[i].field,
                        sizeof(errs.items[i].field) - 12);
            ngx_memcpy(errs.items[i].field, "assignment.", 11);
            errs.items[i].field[sizeof(errs.items[i].field) - 1] = '\0';
        }

        rc = ngx_http_matcher_validation_error(r, &errs);
        mt_errs_free(&errs);
        return rc;
    }

    mt_errs_free(&errs);

    if (mt_jw_failed(&w)) {
        mt_jw_free(&w);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v = mt_json_parse(w.data, w.len, NULL, &err, NULL, 0);
    mt_jw_free(&w);

    if (v == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = (ngx_pool_cleanup_pt) mt_json_free;
    cln->data = v;

    return next(r, ctx, data, v, id);
}


static ngx_int_t
ngx_http_matcher_assignment_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    ngx_http_matcher_get_t *get = rd->data;

    mt_json_doc_t           *doc;
    ngx_http_matcher_ctx_t  *ctx;

    if (rd->rc != MT_STORE_OK) {
        return ngx_http_matcher_read_error(r, rd, "assignment not found");
    }

    doc = ngx_http_matcher_read_parse(r, &rd->doc);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    return get->next(r, ctx, get->data, doc, get->id);
}


/*
 * The cache key of a brief: mt_json_hash() of the brief without the
 * fields a stored assignment adds (id, status, times, version), which
 * would make every request a new key.  Computed from the pairs, as
 * mt_json_hash() combines them, so that no copy is made on a hit.
 */

uint64_t
ngx_http_matcher_brief_hash(const mt_json_t *a)
{
    size_t    i;
    uint64_t  h;

    h = (uint64_t) MT_JSON_OBJECT + 1;

    for (i = 0; i < a->u.object.n; i++) {
        if (!mt_json_shadowed(a, i)
            && !ngx_http_matcher_server_field(a->u.object.pairs[i].key))
        {
            h += mt_json_hash_pair(&a->u.object.pairs[i]);
        }
    }

    return mt_hash_mix(h);
}


/* the brief as a reply shows it: a copy without those fields */

const mt_json_t *
ngx_http_matcher_brief(ngx_http_request_t *r, const mt_json_t *a)
{
    size_t                 i;
    mt_jw_t                w;
    mt_json_err_t          err;
    mt_json_doc_t         *d;
    ngx_pool_cleanup_t    *cln;
    const mt_json_pair_t  *pair;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    mt_jw_init(&w);
    mt_jw_obj_open(&w);

    for (i = 0; i < a->u.object.n; i++) {
        pair = &a->u.object.pairs[i];

        if (!ngx_http_matcher_server_field(pair->key)) {
            mt_jw_keyn(&w, pair->key, pair->key_len);
            mt_jw_value(&w, pair->value);
        }
    }

    mt_jw_obj_close(&w);

    d = mt_jw_failed(&w) ? NULL
                         : mt_json_parse(w.data, w.len, NULL, &err, NULL, 0);
    mt_jw_free(&w);

    if (d == NULL) {
        return NULL;
    }

    cln->handler = (ngx_pool_cleanup_pt) mt_json_free;
    cln->data = d;

    return mt_json_root(d);
}


static ngx_uint_t
ngx_http_matcher_server_field(const char *key)
{
    ngx_uint_t  i;

    static const char  *fields[] = { "id", "status", "matchResults",
                                     "createdAt", "updatedAt", "version",
                                     NULL };

    for (i = 0; fields[i]; i++) {
        if (ngx_strcmp(key, fields[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_matcher_framing(ngx_http_request_t *r, ngx_http_matcher_ctx_t *ctx)
{
    ngx_int_t                  rc;
    const mt_json_t           *body;
    ngx_http_matcher_frame_t  *fr;

    rc = ngx_http_matcher_parse_body(r, ctx, &body);
    if (body == NULL) {
        return rc;
    }

    if (ngx_http_matcher_store() == NULL) {
        return ngx_http_matcher_no_store(r);
    }

    fr = ngx_pcalloc(r->pool, sizeof(ngx_http_matcher_frame_t));
    if (fr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    fr->body = body;

    return ngx_http_matcher_get_assignment(r, ctx, body,
                                           ngx_http_matcher_framing_brief,
                                           fr);
}


static ngx_int_t
ngx_http_matcher_framing_brief(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, void *data, mt_json_doc_t *adoc,
    const char *id)
{
    ngx_http_matcher_frame_t *fr = data;

    mt_json_detail_t          detail;
    const mt_json_t          *creator, *cid;
    ngx_http_matcher_read_t  *rd;

    fr->a = mt_json_root(adoc);

    if (mt_json_get(fr->body, "assignment") != NULL) {
        fr->a = ngx_http_matcher_brief(r, fr->a);
        if (fr->a == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    creator = mt_json_get(fr->body, "creator");
    cid = mt_json_get(fr->body, "creatorId");

    ngx_memzero(&detail, sizeof(detail));

    if (creator != NULL && creator->type != MT_JSON_OBJECT) {
        detail.field = "creator";
        detail.message = "must be an object";
        detail.value = creator;

    } else if (creator == NULL
               && (cid == NULL || cid->type != MT_JSON_STRING
                   || cid->u.string.len == 0
                   || cid->u.string.len > MT_UNIQUE_ID_MAX))
    {
        detail.field = "creatorId";
        detail.message = "creator or creatorId (a uniqueId) is required";
        detail.value = cid;
    }

    if (detail.field) {
        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                      "validation_failed", detail.message,
                                      &detail, 1);
    }

    if (creator != NULL) {
        return ngx_http_matcher_framing_reply(r, fr->a, creator);
    }

    rd = ngx_http_matcher_read_creators(r, 1, cid->u.string.len);
    if (rd == NULL) {
        return ngx_http_matcher_read_failed(r);
    }

    ngx_http_matcher_read_add_id(rd, cid->u.string.s, cid->u.string.len);
    rd->next = ngx_http_matcher_framing_got;
    rd->data = fr;

    return ngx_http_matcher_read(r, rd);
}


static ngx_int_t
ngx_http_matcher_framing_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    ngx_http_matcher_frame_t *fr = rd->data;

    mt_json_doc_t  *cdoc;

    if (rd->rc == MT_STORE_OK && rd->found == 0) {
        rd->rc = MT_STORE_NOT_FOUND;
    }

    if (rd->rc != MT_STORE_OK) {
        return ngx_http_matcher_read_error(r, rd, "creator not found");
    }

    cdoc = ngx_http_matcher_read_parse(r, &rd->docs[0]);
    if (cdoc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_matcher_framing_reply(r, fr->a, mt_json_root(cdoc));
}


static ngx_int_t
ngx_http_matcher_framing_reply(ngx_http_request_t *r, const mt_json_t *a,
    const mt_json_t *creator)
{
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);

    if (mmcf->framing_remote) {
        return ngx_http_matcher_chat_framing(r, a, creator);
    }

    return ngx_http_matcher_framing_send(r, a, creator, NULL);
}


/* framing NULL: the template's ("framingSource": "template") */

ngx_int_t
ngx_http_matcher_framing_send(ngx_http_request_t *r, const mt_json_t *a,
    const mt_json_t *creator, ngx_str_t *framing)
{
    mt_jw_t  w;

    ngx_http_matcher_envelope_open(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "assignment");
    mt_jw_value(&w, a);
    mt_jw_key(&w, "creator");
    mt_jw_value(&w, creator);
    mt_jw_key(&w, "framingSource");
    mt_jw_cstr(&w, framing ? "model" : "template");
    mt_jw_key(&w, "framing");

    if (framing) {
        mt_jw_str(&w, (char *) framing->data, framing->len);

    } else {
        mt_framing(a, creator, &w);
    }
    mt_jw_key(&w, "timestamp");
    ngx_http_matcher_write_time(&w, ngx_http_matcher_now_ms());
    mt_jw_obj_close(&w);

    return ngx_http_matcher_envelope_send(r, NGX_HTTP_OK, &w);
}


/*
 * A summary of the creator, as the contract allows: who it is and what
 * the match was made on; GET /creators/{id} has the whole document.  A
 * third of the bytes of a reply, which a cached reply mostly is.
 */

void
ngx_http_matcher_write_creator(mt_jw_t *w, const mt_json_t *c)
{
    ngx_uint_t        i;
    const mt_json_t  *v, *analysis, *style;

    static const char  *top[] = { "uniqueId", "nickname", "avatarUrl",
                                  "profileUrl", "region", "followerCount",
                                  "verified", "bio", NULL };
    static const char  *lists[] = { "primaryNiches", "secondaryNiches",
                                    "apparentValues", NULL };

    mt_jw_obj_open(w);

    for (i = 0; top[i]; i++) {
        v = mt_json_get(c, top[i]);
        if (v != NULL) {
            mt_jw_key(w, top[i]);
            mt_jw_value(w, v);
        }
    }

    analysis = mt_json_get(c, "analysis");

    if (analysis != NULL && analysis->type == MT_JSON_OBJECT) {
        mt_jw_key(w, "analysis");
        mt_jw_obj_open(w);

        for (i = 0; lists[i]; i++) {
            v = mt_json_get(analysis, lists[i]);
            if (v != NULL) {
                mt_jw_key(w, lists[i]);
                mt_jw_value(w, v);
            }
        }

        style = mt_json_get(analysis, "engagementStyle");
        v = style ? mt_json_get(style, "tone") : NULL;

        if (v != NULL) {
            mt_jw_key(w, "engagementStyle");
            mt_jw_obj_open(w);
            mt_jw_key(w, "tone");
            mt_jw_value(w, v);
            mt_jw_obj_close(w);
        }

        mt_jw_obj_close(w);
    }

    mt_jw_obj_close(w);
}


/*
 * Assignments: POST /assignments, GET /assignments/{id},
 * GET /assignments/history/{userId}, PATCH /assignments/{id}/matches.
 * Reads are steps: on the loop for a store that allows it, else parked
 * on the thread pool (ngx_http_matcher_read.c); writes run as thread
 * jobs.
 */


#include "ngx_http_matcher_module.h"
#include "model.h"
#include "util.h"


#define NGX_HTTP_MATCHER_PATCH_TRIES  8


typedef struct {
    mt_jw_t                       doc;
    mt_assignment_meta_t          meta;
    mt_store_rc_t                 rc;
    char                          error[256];
} ngx_http_matcher_create_t;



static ngx_int_t ngx_http_matcher_assignment_create(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
static ngx_int_t ngx_http_matcher_assignment_get(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
static ngx_int_t ngx_http_matcher_assignment_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
static ngx_int_t ngx_http_matcher_history_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd);
static ngx_int_t ngx_http_matcher_assignment_history(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
static ngx_int_t ngx_http_matcher_assignment_patch(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx);
ngx_int_t ngx_http_matcher_assignment_id(ngx_http_request_t *r,
    ngx_str_t *param, char *id);
static ngx_int_t ngx_http_matcher_if_match(ngx_http_request_t *r,
    int64_t *version);
static void ngx_http_matcher_create_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_create_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_matcher_create_free(void *data);
static ngx_int_t ngx_http_matcher_patch_done(ngx_http_request_t *r,
    void *data);


ngx_http_matcher_route_t  ngx_http_matcher_assignment_routes[] = {

    { ngx_string(""), NGX_HTTP_POST,
      ngx_http_matcher_assignment_create, 0, 0, 0, 0 },

    { ngx_string("history/{}"), NGX_HTTP_GET,
      ngx_http_matcher_assignment_history, 0, 0, 0, 0 },

    { ngx_string("{}"), NGX_HTTP_GET,
      ngx_http_matcher_assignment_get, 0, 0, 0, 0 },

    { ngx_string("{}/matches"), NGX_HTTP_PATCH,
      ngx_http_matcher_assignment_patch, 0, 0, 0, 0 },

    { ngx_null_string, 0, NULL, 0, 0, 0, 0 }
};


static const ngx_http_matcher_job_type_t  ngx_http_matcher_create_job = {
    ngx_http_matcher_create_run, ngx_http_matcher_create_done,
    ngx_http_matcher_create_free
};

static const ngx_http_matcher_job_type_t  ngx_http_matcher_patch_job = {
    ngx_http_matcher_patch_run, ngx_http_matcher_patch_done,
    ngx_http_matcher_patch_free
};


static ngx_int_t
ngx_http_matcher_assignment_create(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    u_char                      id[MT_OID_LEN + 1];
    mt_jw_t                     doc;
    ngx_int_t                   rc;
    mt_errs_t                   errs;
    const mt_json_t            *body;
    mt_assignment_meta_t        meta;
    ngx_http_matcher_job_t     *job;
    ngx_http_matcher_create_t  *create;

    rc = ngx_http_matcher_parse_body(r, ctx, &body);
    if (body == NULL) {
        return rc;
    }

    if (ngx_http_matcher_store() == NULL) {
        return ngx_http_matcher_no_store(r);
    }

    *ngx_http_matcher_new_object_id(id) = '\0';

    mt_jw_init(&doc);
    mt_errs_init(&errs);

    if (mt_assignment_create(body, (char *) id, ngx_http_matcher_now_ms(),
                             &doc, &meta, &errs)
        != 0)
    {
        mt_jw_free(&doc);
        rc = ngx_http_matcher_validation_error(r, &errs);
        mt_errs_free(&errs);
        return rc;
    }

    mt_errs_free(&errs);

    job = ngx_http_matcher_job_alloc(r, sizeof(ngx_http_matcher_create_t));
    if (job == NULL || mt_jw_failed(&doc)) {
        mt_jw_free(&doc);
        if (job) {
            ngx_http_matcher_job_free(job);
        }
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    create = job->data;
    create->doc = doc;
    create->meta = meta;

    return ngx_http_matcher_job_start(r, job, &ngx_http_matcher_create_job);
}


static void
ngx_http_matcher_create_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_create_t  *create = data;

    mt_store_t  *s;

    s = ngx_http_matcher_store();

    create->rc = s->ops->assignment_put(s, &create->meta, create->doc.data,
                                        create->doc.len, 0);

    if (create->rc != MT_STORE_OK) {
        ngx_cpystrn((u_char *) create->error, (u_char *) mt_store_error(s),
                    sizeof(create->error));
    }
}


static ngx_int_t
ngx_http_matcher_create_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_create_t  *create = data;

    u_char     *p, *last;
    mt_jw_t     w;
    ngx_str_t   location;

    if (create->rc != MT_STORE_OK) {
        return ngx_http_matcher_store_error(r, create->rc,
                                            "assignment id collision",
                                            create->error);
    }

    /* Location: the URI posted to, then the id */

    last = r->uri.data + r->uri.len;
    while (last > r->uri.data && last[-1] == '/') {
        last--;
    }

    p = ngx_pnalloc(r->pool, (last - r->uri.data) + 1 + MT_OID_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    location.data = p;
    p = ngx_cpymem(p, r->uri.data, last - r->uri.data);
    *p++ = '/';
    p = ngx_cpymem(p, create->meta.id, MT_OID_LEN);
    location.len = p - location.data;

    if (ngx_http_matcher_add_header(r, "Location", &location) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_matcher_envelope_open(&w);
    mt_jw_raw(&w, create->doc.data, create->doc.len);

    return ngx_http_matcher_envelope_send(r, NGX_HTTP_CREATED, &w);
}


static void
ngx_http_matcher_create_free(void *data)
{
    ngx_http_matcher_create_t  *create = data;

    mt_jw_free(&create->doc);
}


static ngx_int_t
ngx_http_matcher_assignment_get(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    char                      id[MT_OID_LEN + 1];
    ngx_int_t                 rc;
    ngx_http_matcher_read_t  *rd;

    rc = ngx_http_matcher_assignment_id(r, &ctx->params[0], id);
    if (id[0] == '\0') {
        return rc;
    }

    rd = ngx_http_matcher_read_alloc(r, NGX_HTTP_MATCHER_READ_ASSIGNMENT, 0);
    if (rd == NULL) {
        return ngx_http_matcher_read_failed(r);
    }

    ngx_memcpy(rd->id, id, sizeof(id));
    rd->next = ngx_http_matcher_assignment_got;

    return ngx_http_matcher_read(r, rd);
}


static ngx_int_t
ngx_http_matcher_assignment_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    mt_jw_t  w;

    if (rd->rc != MT_STORE_OK) {
        return ngx_http_matcher_read_error(r, rd, "assignment not found");
    }

    ngx_http_matcher_envelope_open(&w);
    mt_jw_raw(&w, rd->doc.data, rd->doc.len);

    return ngx_http_matcher_envelope_send(r, NGX_HTTP_OK, &w);
}


static ngx_int_t
ngx_http_matcher_assignment_history(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    int                       sort;
    int64_t                   limit, skip;
    ngx_str_t                 value, *user;
    ngx_int_t                 rc;
    ngx_uint_t                nd;
    mt_json_detail_t          details[5];
    mt_history_query_t        q;
    ngx_http_matcher_read_t  *rd;

    ngx_memzero(details, sizeof(details));
    ngx_memzero(&q, sizeof(q));
    nd = 0;

    user = &ctx->params[0];

    if (user->len > MT_USER_ID_MAX
        || !mt_utf8_valid((const char *) user->data, user->len))
    {
        details[nd].field = "userId";
        details[nd++].message = "must be at most 100 characters of UTF-8";
    }

    rc = ngx_http_matcher_query_int(r, "limit", 1, 100, 50, &limit,
                                    &details[nd]);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nd += (rc == NGX_DECLINED);

    rc = ngx_http_matcher_query_int(r, "skip", 0, 1000000000, 0, &skip,
                                    &details[nd]);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nd += (rc == NGX_DECLINED);

    sort = MT_SORT_CREATED_AT;
    rc = ngx_http_matcher_query_str(r, "sortBy", &value);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_DECLINED) {
        /* NGX_ABORT: a value refused undecoded, value is not set */
        sort = (rc == NGX_OK) ? mt_sort_parse((const char *) value.data,
                                              value.len)
                              : -1;

        if (sort < 0) {
            details[nd].field = "sortBy";
            details[nd].message = "must be one of createdAt, updatedAt, "
                                  "topic, status";
            details[nd++].value_str = (rc == NGX_OK)
                                      ? (const char *) value.data : NULL;
        }
    }

    q.desc = 1;
    rc = ngx_http_matcher_query_str(r, "sortOrder", &value);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_DECLINED) {
        if (rc == NGX_OK && value.len == 3
            && ngx_strncmp(value.data, "asc", 3) == 0)
        {
            q.desc = 0;

        } else if (rc != NGX_OK || value.len != 4
                   || ngx_strncmp(value.data, "desc", 4) != 0)
        {
            details[nd].field = "sortOrder";
            details[nd].message = "must be asc or desc";
            details[nd++].value_str = (rc == NGX_OK)
                                      ? (const char *) value.data : NULL;
        }
    }

    if (nd) {
        return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                      "validation_failed",
                                      "request validation failed",
                                      details, nd);
    }

    rd = ngx_http_matcher_read_alloc(r, NGX_HTTP_MATCHER_READ_HISTORY,
                                     user->len + 1);
    if (rd == NULL) {
        return ngx_http_matcher_read_failed(r);
    }

    rd->history = q;
    rd->history.user_id = ngx_http_matcher_read_copy(rd, user->data,
                                                     user->len);
    rd->history.user_id_len = user->len;
    rd->history.sort = (mt_sort_t) sort;
    rd->history.skip = (size_t) skip;
    rd->history.limit = (size_t) limit;
    rd->next = ngx_http_matcher_history_got;

    return ngx_http_matcher_read(r, rd);
}


static ngx_int_t
ngx_http_matcher_history_got(ngx_http_request_t *r,
    ngx_http_matcher_read_t *rd)
{
    size_t   i;
    mt_jw_t  w;

    if (rd->rc != MT_STORE_OK) {
        return ngx_http_matcher_read_error(r, rd, "not found");
    }

    ngx_http_matcher_envelope_open(&w);
    mt_jw_arr_open(&w);

    for (i = 0; i < rd->n; i++) {
        mt_jw_raw(&w, rd->docs[i].data, rd->docs[i].len);
    }

    mt_jw_arr_close(&w);

    mt_jw_key(&w, "pagination");
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "count");
    mt_jw_int(&w, (int64_t) rd->n);
    mt_jw_key(&w, "total");
    mt_jw_int(&w, (int64_t) rd->total);
    mt_jw_key(&w, "limit");
    mt_jw_int(&w, (int64_t) rd->history.limit);
    mt_jw_key(&w, "skip");
    mt_jw_int(&w, (int64_t) rd->history.skip);
    mt_jw_key(&w, "hasMore");
    mt_jw_bool(&w, rd->history.skip + rd->n < rd->total);
    mt_jw_obj_close(&w);

    return ngx_http_matcher_envelope_send(r, NGX_HTTP_OK, &w);
}


static ngx_int_t
ngx_http_matcher_assignment_patch(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx)
{
    char                       id[MT_OID_LEN + 1];
    mt_jw_t                    matches;
    int64_t                    expected;
    ngx_int_t                  rc;
    mt_errs_t                  errs;
    const mt_json_t           *body;
    ngx_http_matcher_job_t    *job;
    ngx_http_matcher_patch_t  *patch;

    rc = ngx_http_matcher_assignment_id(r, &ctx->params[0], id);
    if (id[0] == '\0') {
        return rc;
    }

    rc = ngx_http_matcher_parse_body(r, ctx, &body);
    if (body == NULL) {
        return rc;
    }

    mt_errs_init(&errs);

    if (mt_assignment_check_matches(body, &errs) != 0) {
        rc = ngx_http_matcher_validation_error(r, &errs);
        mt_errs_free(&errs);
        return rc;
    }

    mt_errs_free(&errs);

    rc = ngx_http_matcher_if_match(r, &expected);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_matcher_store() == NULL) {
        return ngx_http_matcher_no_store(r);
    }

    /* the thread gets text: the parsed body dies with the request */

    mt_jw_init(&matches);
    mt_jw_value(&matches, mt_json_get(body, "matchResults"));

    job = ngx_http_matcher_job_alloc(r, sizeof(ngx_http_matcher_patch_t));
    if (job == NULL) {
        mt_jw_free(&matches);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    patch = job->data;
    ngx_memcpy(patch->id, id, sizeof(id));
    patch->expected = expected;
    patch->now_ms = ngx_http_matcher_now_ms();
    patch->matches = mt_jw_take(&matches, &patch->matches_len);
    mt_jw_init(&patch->doc);

    if (patch->matches == NULL) {
        ngx_http_matcher_job_free(job);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_matcher_job_start(r, job, &ngx_http_matcher_patch_job);
}


/*
 * Read, check the version, write with the version read: the store
 * refuses the write if another one came in between, and then the whole
 * step is tried again, unless the client pinned a version with If-Match.
 */

void
ngx_http_matcher_patch_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_patch_t  *patch = data;

    ngx_uint_t             tries;
    mt_text_t              text;
    mt_store_t            *s;
    mt_json_err_t          err;
    mt_json_doc_t         *stored, *matches;
    mt_assignment_meta_t   meta, next;

    s = ngx_http_matcher_store();

    matches = mt_json_parse(patch->matches, patch->matches_len, NULL, &err,
                            NULL, 0);
    if (matches == NULL) {
        patch->rc = MT_STORE_ERROR;
        ngx_cpystrn((u_char *) patch->error, (u_char *) "out of memory",
                    sizeof(patch->error));
        return;
    }

    for (tries = 0; tries < NGX_HTTP_MATCHER_PATCH_TRIES; tries++) {

        patch->rc = s->ops->assignment_get(s, patch->id, &text);
        if (patch->rc != MT_STORE_OK) {
            break;
        }

        stored = mt_json_parse(text.data, text.len, NULL, &err, NULL, 0);
        free(text.data);

        if (stored == NULL
            || mt_assignment_meta(mt_json_root(stored), &meta) != 0)
        {
            mt_json_free(stored);
            patch->rc = MT_STORE_ERROR;
            ngx_snprintf((u_char *) patch->error, sizeof(patch->error),
                         "stored assignment %s is malformed%Z", patch->id);
            break;
        }

        if (patch->expected >= 0 && patch->expected != meta.version) {
            mt_json_free(stored);
            patch->status = NGX_HTTP_PRECONDITION_FAILED;
            break;
        }

        mt_jw_free(&patch->doc);
        mt_jw_init(&patch->doc);

        if (mt_assignment_set_matches(mt_json_root(stored),
                                      mt_json_root(matches), patch->now_ms,
                                      &patch->doc, &next)
            != 0 || mt_jw_failed(&patch->doc))
        {
            mt_json_free(stored);
            patch->rc = MT_STORE_ERROR;
            ngx_cpystrn((u_char *) patch->error,
                        (u_char *) "cannot write the assignment",
                        sizeof(patch->error));
            break;
        }

        mt_json_free(stored);

        patch->rc = s->ops->assignment_put(s, &next, patch->doc.data,
                                           patch->doc.len, meta.version);

        if (patch->rc != MT_STORE_CONFLICT) {
            break;
        }

        if (patch->expected >= 0) {
            patch->status = NGX_HTTP_PRECONDITION_FAILED;
            break;
        }
    }

    if (patch->rc != MT_STORE_OK && patch->error[0] == '\0') {
        ngx_cpystrn((u_char *) patch->error, (u_char *) mt_store_error(s),
                    sizeof(patch->error));
    }

    mt_json_free(matches);
}


static ngx_int_t
ngx_http_matcher_patch_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_patch_t  *patch = data;

    mt_jw_t  w;

    if (patch->status == NGX_HTTP_PRECONDITION_FAILED) {
        return ngx_http_matcher_error(r, NGX_HTTP_PRECONDITION_FAILED,
                                      "precondition_failed",
                                      "the assignment's version does not "
                                      "match If-Match", NULL, 0);
    }

    if (patch->rc != MT_STORE_OK) {
        return ngx_http_matcher_store_error(r, patch->rc,
                                            patch->rc == MT_STORE_CONFLICT
                                            ? "too many concurrent updates"
                                            : "assignment not found",
                                            patch->error);
    }

    ngx_http_matcher_envelope_open(&w);
    mt_jw_raw(&w, patch->doc.data, patch->doc.len);

    return ngx_http_matcher_envelope_send(r, NGX_HTTP_OK, &w);
}


void
ngx_http_matcher_patch_free(void *data)
{
    ngx_http_matcher_patch_t  *patch = data;

    free(patch->matches);
    mt_jw_free(&patch->doc);
}


ngx_int_t
ngx_http_matcher_assignment_id(ngx_http_request_t *r, ngx_str_t *param,
    char *id)
{
    mt_json_detail_t  detail;

    if (mt_oid_normalize((const char *) param->data, param->len, id) == 0) {
        return NGX_OK;
    }

    id[0] = '\0';

    ngx_memzero(&detail, sizeof(detail));
    detail.field = "id";
    detail.message = "must be 24 hexadecimal characters";

    return ngx_http_matcher_error(r, NGX_HTTP_BAD_REQUEST,
                                  "validation_failed",
                                  "invalid assignment id", &detail, 1);
}


/*
 * If-Match: "3", W/"3", 3 or *.  *version is -1 when absent or "*"; an
 * entity tag that cannot be a version never matches: 412.
 */

static ngx_int_t
ngx_http_matcher_if_match(ngx_http_request_t *r, int64_t *version)
{
    u_char           *p, *last;
    ngx_table_elt_t  *h;

    *version = -1;

    h = r->headers_in.if_match;
    if (h == NULL) {
        return NGX_OK;
    }

    p = h->value.data;
    last = p + h->value.len;

    if (h->value.len == 1 && *p == '*') {
        r->headers_in.if_match = NULL;
        return NGX_OK;
    }

    if (last - p > 2 && p[0] == 'W' && p[1] == '/') {
        p += 2;
    }

    if (last - p >= 2 && *p == '"' && last[-1] == '"') {
        p++;
        last--;
    }

    /*
     * The store checks the version; nginx's not_modified filter would
     * test If-Match again against the reply's (absent) ETag and turn the
     * reply into an HTML 412.
     */

    r->headers_in.if_match = NULL;

    if (mt_parse_int((const char *) p, last - p, 0, INT64_MAX, version)
        != 0)
    {
        return ngx_http_matcher_error(r, NGX_HTTP_PRECONDITION_FAILED,
                                      "precondition_failed",
                                      "If-Match must name a version, "
                                      "as \"3\"", NULL, 0);
    }

    return NGX_OK;
}

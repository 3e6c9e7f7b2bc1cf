
/*
 * CSV replies (issue 13): POST /matches, GET /creators and POST
 * /creators/search answer "Accept: text/csv" with RFC 4180 CSV.  The
 * handlers do not know: the route is recognised before dispatch, and
 * ngx_http_matcher_send() hands a 2xx reply's JSON, once written, to
 * ngx_http_matcher_csv_send(), which converts it (lib/csv.h).  So the
 * rows are the JSON's, and the match cache, which holds JSON only,
 * serves both kinds of client; errors stay JSON envelopes.
 *
 * A reply of up to 64 KB of JSON is converted on the event loop (at most
 * about 0.8 ms, at yajl's slowest 80 MB/s; a default page of 20 sample
 * creators is 46 KB); a larger one, up to the 6 MB of 100 creators of
 * 64 KB, on the thread pool.  The parked build converts every reply on
 * the pool, so that the tests run both paths.
 */


#include "ngx_http_matcher_module.h"
#include "csv.h"


#if (NGX_HTTP_MATCHER_PARKED)
#define NGX_HTTP_MATCHER_CSV_LOOP_MAX  0
#else
#define NGX_HTTP_MATCHER_CSV_LOOP_MAX  65536
#endif


typedef struct {
    mt_csv_kind_t                 kind;
    ngx_uint_t                    status;
    char                         *json;      /* malloc'd, the reply */
    size_t                        json_len;
    char                         *csv;       /* malloc'd, or NULL */
    size_t                        csv_len;
    int                           rc;
    char                          error[128];
} ngx_http_matcher_csv_t;


static void ngx_http_matcher_csv_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_matcher_csv_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_matcher_csv_free(void *data);


static const ngx_http_matcher_job_type_t  ngx_http_matcher_csv_job = {
    ngx_http_matcher_csv_run, ngx_http_matcher_csv_done,
    ngx_http_matcher_csv_free
};


/* the routes that answer in CSV: a location's table and a path in it */
static struct {
    ngx_http_matcher_route_t     *routes;
    ngx_str_t                     path;
    mt_csv_kind_t                 kind;
    ngx_str_t                     disposition;
} ngx_http_matcher_csv_routes[] = {

    { ngx_http_matcher_match_routes, ngx_string(""), MT_CSV_MATCHES,
      ngx_string("attachment; filename=\"matches.csv\"") },

    { ngx_http_matcher_creator_routes, ngx_string(""), MT_CSV_CREATORS,
      ngx_string("attachment; filename=\"creators.csv\"") },

    { ngx_http_matcher_creator_routes, ngx_string("search"), MT_CSV_SEARCH,
      ngx_string("attachment; filename=\"search.csv\"") },

    { NULL, ngx_null_string, MT_CSV_NONE, ngx_null_string }
};


static ngx_str_t  ngx_http_matcher_csv_type =
    ngx_string("text/csv; charset=utf-8; header=present");


/*
 * Called once the route is known: ctx->csv_kind for a route that can
 * answer in CSV (its 2xx replies then say "Vary: Accept", JSON ones
 * too), ctx->csv when the client prefers CSV.  Every Accept header
 * counts, as one list.
 */

void
ngx_http_matcher_csv_negotiate(ngx_http_request_t *r,
    ngx_http_matcher_loc_conf_t *mlcf, ngx_http_matcher_ctx_t *ctx)
{
    ngx_uint_t        i;
    mt_csv_accept_t   a;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    for (i = 0; ngx_http_matcher_csv_routes[i].routes; i++) {
        if (mlcf->routes == ngx_http_matcher_csv_routes[i].routes
            && ctx->route->path.len
               == ngx_http_matcher_csv_routes[i].path.len
            && ngx_strncmp(ctx->route->path.data,
                           ngx_http_matcher_csv_routes[i].path.data,
                           ctx->route->path.len) == 0)
        {
            break;
        }
    }

    if (ngx_http_matcher_csv_routes[i].routes == NULL) {
        return;
    }

    ctx->csv_kind = i + 1;

    mt_csv_accept_init(&a);

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Accept") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Accept",
                               sizeof("Accept") - 1) == 0)
        {
            mt_csv_accept_feed(&a, (const char *) h[i].value.data,
                               h[i].value.len);
        }
    }

    ctx->csv = mt_csv_accept_wants_csv(&a) ? 1 : 0;
}


/*
 * Sends a 2xx reply's JSON (malloc'd, taken over) as CSV: converted now
 * or on the thread pool, by its size; what the content handler returns.
 */

ngx_int_t
ngx_http_matcher_csv_send(ngx_http_request_t *r, ngx_uint_t status,
    char *json, size_t len)
{
    ngx_http_matcher_ctx_t  *ctx;
    ngx_http_matcher_csv_t  *cj;
    ngx_http_matcher_job_t  *job;

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    job = ngx_http_matcher_step_alloc(r, sizeof(ngx_http_matcher_csv_t),
                                      len <= NGX_HTTP_MATCHER_CSV_LOOP_MAX);
    if (job == NULL) {
        free(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cj = job->data;
    cj->kind = ngx_http_matcher_csv_routes[ctx->csv_kind - 1].kind;
    cj->status = status;
    cj->json = json;
    cj->json_len = len;

    return ngx_http_matcher_step(r, job, &ngx_http_matcher_csv_job);
}


static void
ngx_http_matcher_csv_run(void *data, ngx_log_t *log)
{
    ngx_http_matcher_csv_t  *cj = data;

    cj->rc = mt_csv_convert(cj->kind, cj->json, cj->json_len, &cj->csv,
                            &cj->csv_len, cj->error, sizeof(cj->error));

    /* the JSON is not needed any more: its memory goes back now */
    free(cj->json);
    cj->json = NULL;
}


static ngx_int_t
ngx_http_matcher_csv_done(ngx_http_request_t *r, void *data)
{
    ngx_http_matcher_csv_t  *cj = data;

    char                    *csv;
    ngx_http_matcher_ctx_t  *ctx;

    if (cj->rc != 0) {
        /* our own reply: a bug, or memory ran out */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "matcher: the reply could not be converted to CSV: "
                      "%s", cj->error);

        return ngx_http_matcher_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal",
                                      "the reply could not be written as "
                                      "CSV", NULL, 0);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_matcher_module);

    if (ngx_http_matcher_add_header(r, "Content-Disposition",
            &ngx_http_matcher_csv_routes[ctx->csv_kind - 1].disposition)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    csv = cj->csv;
    cj->csv = NULL;

    return ngx_http_matcher_send_body(r, cj->status,
                                      &ngx_http_matcher_csv_type, csv,
                                      cj->csv_len);
}


static void
ngx_http_matcher_csv_free(void *data)
{
    ngx_http_matcher_csv_t  *cj = data;

    free(cj->json);
    free(cj->csv);
    cj->json = NULL;
    cj->csv = NULL;
}

/*
 * A benchmark of the CSV export's conversion, not a test (the Makefile
 * does not build it).  Build it without sanitizers:
 *
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g -Ilib \
 *       tests/unit/bench_csv.c lib/[a-z]*.c \
 *       $(pkg-config --cflags --libs yajl lmdb libmongoc-1.0) \
 *       -lcurl -lm -lpthread -o /tmp/bcsv
 *   /tmp/bcsv [t/data/creators.json [page]]
 *
 * Three GET /creators pages of 100 creators (the largest limit; or of
 * page), as the module sends them: the 17 sample creators in turn with
 * the fields the store adds (about 2 KB each); creators of 64 KB (the
 * most one may be) whose bulk is an unknown field, which the conversion
 * skips; and creators of about 61 KB whose bulk is in exported lists.  Each converted
 * many times; the median and the worst time of one conversion.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "json.h"


#define RUNS  200


static size_t  PAGE = 100;      /* creators a page */


static double
now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}


static int
cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


static void
bench(const char *name, const char *json, size_t len)
{
    int      i;
    char    *out, err[128];
    size_t   out_len;
    double   t[RUNS], t0;

    for (i = 0; i < RUNS; i++) {
        t0 = now_ms();

        if (mt_csv_convert(MT_CSV_CREATORS, json, len, &out, &out_len, err,
                           sizeof(err))
            != 0)
        {
            fprintf(stderr, "%s: %s\n", name, err);
            exit(1);
        }

        t[i] = now_ms() - t0;
        free(out);
    }

    qsort(t, RUNS, sizeof(double), cmp);

    printf("%-34s JSON %8zu B  CSV %8zu B  median %7.3f ms  max %7.3f ms"
           "  %6.0f MB/s\n", name, len, out_len, t[RUNS / 2], t[RUNS - 1],
           t[RUNS / 2] > 0 ? len / 1e3 / t[RUNS / 2] : 0.0);
}


static void
raw(mt_jw_t *w, const char *json)
{
    mt_jw_raw(w, json, strlen(json));
}


static void
page_open(mt_jw_t *w)
{
    mt_jw_init(w);
    mt_jw_obj_open(w);
    mt_jw_key(w, "creators");
    mt_jw_arr_open(w);
}


static char *
page_close(mt_jw_t *w, size_t *len)
{
    mt_jw_arr_close(w);
    mt_jw_key(w, "pagination");
    raw(w, "{\"page\":1,\"limit\":100,\"total\":100,\"pages\":1}");
    mt_jw_obj_close(w);

    return mt_jw_take(w, len);
}


/* the stored fields besides the sample's */
static void
stored(mt_jw_t *w)
{
    mt_jw_key(w, "createdAt");
    mt_jw_cstr(w, "2026-01-01T00:00:00.000Z");
    mt_jw_key(w, "updatedAt");
    mt_jw_cstr(w, "2026-01-01T00:00:00.000Z");
    mt_jw_key(w, "embedding");
    raw(w, "{\"model\":\"local-tfidf-v1\",\"dimensions\":512,"
        "\"textHash\":\"0123456789abcdef\",\"updatedAt\":"
        "\"2026-01-01T00:00:00.000Z\",\"status\":\"ready\"}");
}


int
main(int argc, char **argv)
{
    FILE                  *f;
    char                  *text, *json, item[201];
    size_t                 i, j, k, len, n, nc;
    mt_jw_t                w;
    mt_json_err_t          err;
    mt_json_doc_t         *doc;
    const mt_json_t       *root, *c, *all[64];

    f = fopen(argc > 1 ? argv[1] : "t/data/creators.json", "rb");
    if (f == NULL) {
        perror("creators.json");
        return 1;
    }

    text = malloc(1 << 22);
    len = fread(text, 1, 1 << 22, f);
    fclose(f);

    doc = mt_json_parse(text, len, NULL, &err, NULL, 0);
    if (doc == NULL) {
        fprintf(stderr, "creators.json: not JSON\n");
        return 1;
    }

    if (argc > 2) {
        PAGE = (size_t) strtoul(argv[2], NULL, 10);
    }

    root = mt_json_root(doc);
    nc = 0;

    for (i = 0; i < root->u.object.n && nc < 64; i++) {
        all[nc++] = root->u.object.pairs[i].value;
    }

    if (nc == 0) {
        fprintf(stderr, "creators.json: no creators\n");
        return 1;
    }

    /* the samples in turn */

    page_open(&w);

    for (i = 0; i < PAGE; i++) {
        c = all[i % nc];
        mt_jw_obj_open(&w);

        for (j = 0; j < c->u.object.n; j++) {
            mt_jw_key(&w, c->u.object.pairs[j].key);
            mt_jw_value(&w, c->u.object.pairs[j].value);
        }

        stored(&w);
        mt_jw_obj_close(&w);
    }

    json = page_close(&w, &n);
    bench("a page of sample creators", json, n);
    free(json);

    /* 64 KB each, an unknown field of small numbers */

    page_open(&w);

    for (i = 0; i < PAGE; i++) {
        mt_jw_obj_open(&w);
        mt_jw_key(&w, "uniqueId");
        mt_jw_int(&w, (int64_t) i);
        mt_jw_key(&w, "unknown");
        mt_jw_arr_open(&w);

        for (j = 0; j < 32000; j++) {
            mt_jw_int(&w, (int64_t) (j % 10));
        }

        mt_jw_arr_close(&w);
        stored(&w);
        mt_jw_obj_close(&w);
    }

    json = page_close(&w, &n);
    bench("a page of 64 KB, unknown numbers", json, n);
    free(json);

    /* about 64 KB each, in the exported lists: 6 of 50 items of 200 */

    memset(item, 'x', 200);
    item[200] = '\0';

    page_open(&w);

    for (i = 0; i < PAGE; i++) {
        static const char  *lists[] = { "primaryNiches", "secondaryNiches",
            "apparentValues", "audienceInterests", "identifiedCauses",
            "socialStances" };

        mt_jw_obj_open(&w);
        mt_jw_key(&w, "uniqueId");
        mt_jw_int(&w, (int64_t) i);
        mt_jw_key(&w, "bio");
        mt_jw_str(&w, item, 200);
        mt_jw_key(&w, "analysis");
        mt_jw_obj_open(&w);

        for (k = 0; k < 6; k++) {
            mt_jw_key(&w, lists[k]);
            mt_jw_arr_open(&w);

            for (j = 0; j < 50; j++) {
                item[0] = (char) ('a' + j % 26);
                mt_jw_str(&w, item, 200);
            }

            mt_jw_arr_close(&w);
        }

        mt_jw_obj_close(&w);
        stored(&w);
        mt_jw_obj_close(&w);
    }

    json = page_close(&w, &n);
    bench("a page of 61 KB, exported lists", json, n);
    free(json);

    mt_json_free(doc);
    free(text);

    return 0;
}

/*
 * The vector index alone: build N creators of 512 dims, then time exact
 * searches (k 10) with and without filters, upserts, and the bytes a
 * creator takes.  Not part of the tests.  From the repository root:
 *
 *   gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Ilib bench/vindex_bench.c \
 *       lib/vindex*.c lib/filter.c lib/json.c lib/json_write.c lib/util.c \
 *       lib/model.c lib/model_check.c lib/creator.c lib/oid.c \
 *       $(pkg-config --cflags --libs yajl) -lm -lpthread -o /tmp/vbench
 *   /tmp/vbench [N] [dir]
 *
 * Prints one "metric value" line per metric (build_ms includes making
 * up the vectors, build_add_total_ms is the index's part).  The vectors are clustered
 * (200 centres plus noise) like embeddings of similar bios; each third
 * creator is in region EU, followers 0..99999.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"
#include "json.h"
#include "model.h"
#include "vindex.h"


#define DIMS        512
#define CENTRES     ((size_t) 200)
#define QUERIES     200
#define UPSERTS     1000


static uint64_t  seed = 88172645463325252ULL;


static uint64_t
rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}


static float
gauss(void)
{
    double  u, v;

    u = ((double) (rnd() >> 11) + 1.0) / 9007199254740993.0;
    v = (double) (rnd() >> 11) / 9007199254740992.0;

    return (float) (sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}


static void
normalise(float *v)
{
    size_t  i;
    double  n;

    n = 0.0;
    for (i = 0; i < DIMS; i++) {
        n += (double) v[i] * v[i];
    }

    n = sqrt(n);
    for (i = 0; i < DIMS; i++) {
        v[i] = (float) (v[i] / n);
    }
}


static void
near(float *v, const float *centres, float noise)
{
    size_t        i;
    const float  *c;

    c = &centres[(rnd() % CENTRES) * DIMS];

    for (i = 0; i < DIMS; i++) {
        v[i] = c[i] + noise * gauss();
    }

    normalise(v);
}


static void
meta_for(size_t i, mt_meta_t *m)
{
    memset(m, 0, sizeof(mt_meta_t));
    m->tags[m->ntags++] = mt_meta_tag(MT_F_REGION, i % 3 == 0 ? "EU" : "US",
                                      2);
    m->follower_count = (int64_t) ((i * 7919) % 100000);
    m->present = (1u << MT_F_REGION) | (1u << MT_F_FOLLOWERS);
}


static double
now_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


static void
report(const char *name, double *t, size_t n)
{
    qsort(t, n, sizeof(double), cmp_double);
    printf("%s_p50_ms %.3f\n", name, t[n / 2]);
    printf("%s_p99_ms %.3f\n", name, t[(n * 99) / 100]);
}


static mt_filter_t *
filter(const char *json)
{
    char            err[128];
    mt_errs_t       errs;
    mt_filter_t    *f;
    mt_json_err_t   jerr;
    mt_json_doc_t  *doc;

    doc = mt_json_parse(json, strlen(json), NULL, &jerr, err, sizeof(err));
    if (doc == NULL) {
        fprintf(stderr, "filter %s: %s\n", json, err);
        exit(1);
    }

    mt_errs_init(&errs);
    f = mt_filter_compile(mt_json_root(doc), &errs);
    mt_errs_free(&errs);
    mt_json_free(doc);

    if (f == NULL) {
        fprintf(stderr, "filter %s: does not compile\n", json);
        exit(1);
    }

    return f;
}


static void
searches(const char *name, mt_vindex_t *vi, const float *centres,
    const mt_filter_t *f)
{
    float      q[DIMS];
    double     t[QUERIES], t0;
    size_t     i, n;
    mt_vhit_t  hits[10];

    n = 0;

    for (i = 0; i < QUERIES; i++) {
        near(q, centres, 0.05f);
        t0 = now_ms();
        n += mt_vindex_search(vi, q, f, 10, hits);
        t[i] = now_ms() - t0;
    }

    if (n == 0) {
        fprintf(stderr, "%s: no hits\n", name);
        exit(1);
    }

    report(name, t, QUERIES);
}


int
main(int argc, char **argv)
{
    char                 path[512], err[256], id[32];
    float               *centres, v[DIMS];
    double               t0, t1, tadd, tu[UPSERTS];
    size_t               n, i;
    mt_meta_t            m;
    mt_filter_t         *eu, *rare;
    mt_vindex_t         *b, *r, *w;
    struct stat          st;
    mt_vindex_params_t   p;

    n = argc > 1 ? (size_t) strtoul(argv[1], NULL, 10) : 100000;
    (void) snprintf(path, sizeof(path), "%s/vindex_bench.vec",
                    argc > 2 ? argv[2] : "/tmp");

    if (n == 0) {
        return 1;
    }

    centres = malloc(CENTRES * DIMS * sizeof(float));
    if (centres == NULL) {
        return 1;
    }

    for (i = 0; i < CENTRES * DIMS; i++) {
        centres[i] = gauss();
    }

    for (i = 0; i < CENTRES; i++) {
        normalise(&centres[i * DIMS]);
    }

    p.dims = DIMS;
    p.capacity = n + UPSERTS;
    p.model = "bench";
    p.model_epoch = 1;

    t0 = now_ms();
    b = mt_vindex_build_begin(path, &p, err, sizeof(err));
    if (b == NULL) {
        fprintf(stderr, "build: %s\n", err);
        return 1;
    }

    tadd = 0.0;

    for (i = 0; i < n; i++) {
        near(v, centres, 0.06f);
        meta_for(i, &m);
        (void) snprintf(id, sizeof(id), "creator-%07zu", i);

        t1 = now_ms();
        if (mt_vindex_build_add(b, id, strlen(id), i, &m, v) != 0) {
            fprintf(stderr, "build add %zu failed\n", i);
            return 1;
        }

        tadd += now_ms() - t1;
    }

    t1 = now_ms();
    if (mt_vindex_build_commit(b, err, sizeof(err)) != 0) {
        fprintf(stderr, "commit: %s\n", err);
        return 1;
    }

    printf("records %zu\n", n);
    printf("build_ms %.1f\n", now_ms() - t0);
    printf("build_add_total_ms %.1f\n", tadd);
    printf("commit_fdatasync_ms %.1f\n", now_ms() - t1);
    mt_vindex_close(b);

    r = mt_vindex_open(path, NULL, 0, err, sizeof(err));
    if (r == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }

    eu = filter("{\"region\":\"EU\"}");
    rare = filter("{\"region\":\"EU\",\"followerCount\":{\"$gte\":90000}}");

    searches("search_warmup", r, centres, NULL);
    searches("search", r, centres, NULL);
    searches("search_filter_eu_33pct", r, centres, eu);
    searches("search_filter_3pct", r, centres, rare);

    /* updates of existing creators: the first one builds the map */
    w = mt_vindex_open(path, NULL, 1, err, sizeof(err));
    if (w == NULL || mt_vindex_lock(w) != 0) {
        fprintf(stderr, "open writer: %s\n", err);
        return 1;
    }

    for (i = 0; i < UPSERTS; i++) {
        near(v, centres, 0.06f);
        meta_for(i, &m);
        (void) snprintf(id, sizeof(id), "creator-%07zu", (size_t) rnd() % n);

        t0 = now_ms();
        if (mt_vindex_upsert(w, id, strlen(id), n + i, &m, v, err,
                             sizeof(err)) != 0)
        {
            fprintf(stderr, "upsert: %s\n", err);
            return 1;
        }

        tu[i] = now_ms() - t0;
    }

    mt_vindex_unlock(w);
    printf("upsert_first_ms %.3f\n", tu[0]);
    report("upsert", tu + 1, UPSERTS - 1);

    if (stat(path, &st) != 0) {
        return 1;
    }

    printf("record_bytes %zu\n", mt_vindex_record_size(r));
    printf("file_bytes_per_record %.0f\n",
           (double) st.st_size / (double) mt_vindex_capacity(r));
    printf("disk_bytes_per_creator %.0f\n",
           (double) st.st_blocks * 512.0 / (double) mt_vindex_records(r));
    printf("scan_bytes_per_creator %zu\n", (size_t) 16 + DIMS);

    mt_vindex_close(w);
    mt_vindex_close(r);
    mt_filter_free(eu);
    mt_filter_free(rare);
    free(centres);
    (void) unlink(path);

    /* and the writers' lock file beside it */
    if (strlen(path) + sizeof(".lock") <= sizeof(path)) {
        memcpy(path + strlen(path), ".lock", sizeof(".lock"));
        (void) unlink(path);
    }

    return 0;
}

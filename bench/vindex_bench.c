/*
 * The vector index alone: build N creators of 512 dims with an inverted
 * file of L lists, then time searches (k 10), exact and approximate,
 * with and without filters, the recall@10 of the approximate ones
 * (the inverted file by nprobe, the sketch) against the exact ones,
 * upserts, and the bytes a creator takes.  Not part of the tests.  From
 * the repository root:
 *
 *   gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Ilib -Itests/unit \
 *       bench/vindex_bench.c tests/unit/gen_text.c lib/vindex*.c \
 *       lib/embed.c lib/filter.c lib/json.c lib/json_write.c lib/util.c \
 *       lib/model.c lib/model_check.c lib/creator.c lib/oid.c \
 *       $(pkg-config --cflags --libs yajl) -lm -lpthread -o /tmp/vbench
 *   /tmp/vbench [N [dir [L]]]
 *   /tmp/vbench hostile [N [dir]]
 *
 * Prints one "metric value" line per metric.  The vectors are the local
 * embedder's (lib/embed.h) of made-up creator bios, the queries of
 * made-up assignment briefs (tests/unit/gen_text.c); each third creator is in
 * region EU, followers 0..99999.  The file is built twice, without and
 * with lists: commit_ms of the first is the sync alone, the difference
 * is the training (train_ms).
 *
 * "hostile": filters sent to harm, on N creators (default 100,000) of 48
 * tags each (the most a record keeps, the most work for a filter): the
 * time to compile each and the CPU time of one sketch search with it,
 * the first when the filter is refused.  The filters: the $or of 45,000
 * region clauses of issue 8 (889 KB), the worst one within the limits
 * (lib/filter.h), and filters that match nothing, one creator or every
 * creator.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "embed.h"
#include "filter.h"
#include "json.h"
#include "model.h"
#include "vindex.h"
#include "gen_text.h"


#define DIMS        512
#define QUERIES     200
#define UPSERTS     1000
#define TEXT_MAX    512


static uint64_t  seed = 88172645463325252ULL;


static uint64_t
rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}


/* made-up creator bios and briefs: tests/unit/gen_text.c */
static uint64_t  gen_seed = 0x9e3779b97f4a7c15ULL;


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


/*
 * n texts (1: short briefs, 2: briefs as the module gets them, 0: bios),
 * embedded once the IDF has seen the bios
 */
static char *
texts(size_t n, int brief)
{
    char    *t;
    size_t   i;

    t = malloc(n * TEXT_MAX);
    if (t == NULL) {
        fprintf(stderr, "no memory\n");
        exit(1);
    }

    for (i = 0; i < n; i++) {
        if (brief == 2) {
            (void) gen_brief(&gen_seed, &t[i * TEXT_MAX], TEXT_MAX);

        } else {
            (void) gen_text(&gen_seed, &t[i * TEXT_MAX], TEXT_MAX, brief);
        }
    }

    return t;
}


/* the embedder learns its IDF from the first n texts, then is frozen */
static int
learn(mt_embedder_t *e, const char *bios, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (mt_embedder_add_doc(e, &bios[i * TEXT_MAX],
                                strlen(&bios[i * TEXT_MAX]))
            != 0)
        {
            fprintf(stderr, "add doc: no memory\n");
            return -1;
        }
    }

    mt_embedder_freeze(e);

    return 0;
}


static void
embed(const mt_embedder_t *e, const char *t, float *v)
{
    if (mt_embed(e, t, strlen(t), v) != 0) {
        fprintf(stderr, "embed: no memory\n");
        exit(1);
    }
}


static double
build(const char *path, const mt_vindex_params_t *p, const float *vecs,
    size_t n)
{
    char          err[256], id[32];
    double        t0, tadd, t1;
    size_t        i;
    mt_meta_t     m;
    mt_vindex_t  *b;

    b = mt_vindex_build_begin(path, p, err, sizeof(err));
    if (b == NULL) {
        fprintf(stderr, "build: %s\n", err);
        exit(1);
    }

    tadd = 0.0;

    for (i = 0; i < n; i++) {
        meta_for(i, &m);
        (void) snprintf(id, sizeof(id), "creator-%07zu", i);

        t0 = now_ms();
        if (mt_vindex_build_add(b, id, strlen(id), i, &m, &vecs[i * DIMS])
            != 0)
        {
            fprintf(stderr, "build add %zu failed\n", i);
            exit(1);
        }

        tadd += now_ms() - t0;
    }

    printf("lists%u_build_add_total_ms %.1f\n", p->lists, tadd);

    t1 = now_ms();
    if (mt_vindex_build_commit(b, err, sizeof(err)) != 0) {
        fprintf(stderr, "commit: %s\n", err);
        exit(1);
    }

    t1 = now_ms() - t1;
    printf("lists%u_commit_ms %.1f\n", p->lists, t1);
    printf("lists%u_trained %u\n", p->lists, mt_vindex_lists(b));
    mt_vindex_close(b);

    return t1;
}


/* times the queries; hits: QUERIES x 10, k 10, -1 slots past the end */
static void
searches(const char *name, mt_vindex_t *vi, const float *qs,
    const mt_filter_t *f, mt_vhit_t *hits)
{
    double     t[QUERIES], t0;
    size_t     i, n, j;

    for (i = 0; i < QUERIES; i++) {
        t0 = now_ms();
        n = mt_vindex_search(vi, &qs[i * DIMS], f, 10, &hits[i * 10]);
        t[i] = now_ms() - t0;

        for (j = n; j < 10; j++) {
            hits[i * 10 + j].slot = UINT32_MAX;
        }
    }

    report(name, t, QUERIES);
}


/* the share of the exact top 10s found by the approximate ones */
static double
recall(const mt_vhit_t *exact, const mt_vhit_t *got)
{
    size_t  i, j, l, want, found;

    want = 0;
    found = 0;

    for (i = 0; i < QUERIES; i++) {
        for (j = 0; j < 10; j++) {
            if (exact[i * 10 + j].slot == UINT32_MAX) {
                continue;
            }

            want++;

            for (l = 0; l < 10; l++) {
                if (got[i * 10 + l].slot == exact[i * 10 + j].slot) {
                    found++;
                    break;
                }
            }
        }
    }

    return want ? (double) found / (double) want : 1.0;
}


/*
 * mode IVF: nprobe param; GRAPH: ef param; SKETCH: none; against exact
 */
static void
compare_mode(const char *name, mt_vindex_t *r, const float *qs,
    const mt_filter_t *f, int mode, unsigned param)
{
    char              label[64];
    static mt_vhit_t  exact[QUERIES * 10], got[QUERIES * 10];

    mt_vindex_set_mode(r, MT_VSEARCH_EXACT);
    (void) snprintf(label, sizeof(label), "%s_exact", name);
    searches(label, r, qs, f, exact);

    mt_vindex_set_mode(r, mode);

    if (mode == MT_VSEARCH_IVF) {
        mt_vindex_set_nprobe(r, param);
        (void) snprintf(label, sizeof(label), "%s_nprobe%u", name, param);

    } else if (mode == MT_VSEARCH_GRAPH) {
        mt_vindex_set_ef(r, param);
        (void) snprintf(label, sizeof(label), "%s_graph_ef%u", name, param);

    } else {
        (void) snprintf(label, sizeof(label), "%s_sketch", name);
    }

    searches(label, r, qs, f, got);
    printf("%s_recall10 %.4f\n", label, recall(exact, got));
}


/* nprobe 0: the sketch search, else IVF with nprobe */
static void
compare(const char *name, mt_vindex_t *r, const float *qs,
    const mt_filter_t *f, unsigned nprobe)
{
    compare_mode(name, r, qs, f, nprobe ? MT_VSEARCH_IVF : MT_VSEARCH_SKETCH,
                 nprobe);
}


static void
compare_graph(const char *name, mt_vindex_t *r, const float *qs,
    const mt_filter_t *f, unsigned ef)
{
    compare_mode(name, r, qs, f, MT_VSEARCH_GRAPH, ef);
}

/* hostile filters */

#define HOSTILE_VOCAB  400          /* niche and value words */


static double
cpu_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}


/* a creator with 48 tags: region, then 47 niches and values */
static void
hostile_meta(size_t i, mt_meta_t *m)
{
    char        w[32];
    int         len;
    size_t      j;
    mt_field_t  fld;

    memset(m, 0, sizeof(mt_meta_t));

    len = snprintf(w, sizeof(w), "%s", i == 4242 ? "ONE"
                                       : i % 3 == 0 ? "EU" : "US");
    m->tags[m->ntags++] = mt_meta_tag(MT_F_REGION, w, (size_t) len);

    for (j = 0; m->ntags < MT_META_TAGS; j++) {
        fld = j < 16 ? MT_F_PRIMARY : j < 32 ? MT_F_SECONDARY : MT_F_VALUES;
        len = snprintf(w, sizeof(w), "w%zu", (i * 31 + j * 7) % HOSTILE_VOCAB);
        m->tags[m->ntags++] = mt_meta_tag(fld, w, (size_t) len);
    }

    m->follower_count = (int64_t) ((i * 7919) % 100000);
    m->present = (1u << MT_F_N) - 1;
    m->verified = i % 2;
}


/* {"$or":[{"region":"X0"},...]}: n clauses */
static char *
hostile_or(size_t n)
{
    char    *s;
    size_t   i, len, cap;

    cap = 32 + n * 32;
    s = malloc(cap);
    if (s == NULL) {
        fprintf(stderr, "no memory\n");
        exit(1);
    }

    len = (size_t) snprintf(s, cap, "{\"$or\":[");

    for (i = 0; i < n; i++) {
        len += (size_t) snprintf(s + len, cap - len, "%s{\"region\":\"X%zu\"}",
                                 i ? "," : "", i);
    }

    (void) snprintf(s + len, cap - len, "]}");

    return s;
}


/*
 * The costliest filter within the limits of lib/filter.h: the $and of
 * two $ors, the first passing at its last clause and the second at none
 * (every clause evaluated, and no creator matches: the search falls
 * back to its exact pass), the values spent on sets of values that no
 * creator has, which every one of its 48 tags is looked up in.
 */
static char *
hostile_worst(void)
{
    char    *s;
    size_t   g, i, j, len, cap, per, half, vals;

    cap = 1 << 20;
    s = malloc(cap);
    if (s == NULL) {
        fprintf(stderr, "no memory\n");
        exit(1);
    }

    half = MT_FILTER_MAX_CONDITIONS / 2;
    per = MT_FILTER_MAX_VALUES / (half + 1);
    per = per < MT_FILTER_MAX_IN ? per : MT_FILTER_MAX_IN;
    vals = 0;

    len = (size_t) snprintf(s, cap, "{\"$and\":[");

    for (g = 0; g < 2; g++) {
        len += (size_t) snprintf(s + len, cap - len, "%s{\"$or\":[",
                                 g ? "," : "");

        for (i = 0; i < half; i++) {
            len += (size_t) snprintf(s + len, cap - len, "%s", i ? "," : "");

            if (g == 0 && i == half - 1) {
                /* the first $or passes at its last clause */
                len += (size_t) snprintf(s + len, cap - len,
                                         "{\"followerCount\":{\"$gte\":0}}");

            } else if ((i + g) % 2 == 0) {
                len += (size_t) snprintf(s + len, cap - len,
                                         "{\"apparentValues\":{\"$in\":[");

                for (j = 0; j < per; j++, vals++) {
                    len += (size_t) snprintf(s + len, cap - len,
                                             "%s\"z%zu\"", j ? "," : "",
                                             vals);
                }

                len += (size_t) snprintf(s + len, cap - len, "]}}");

            } else {
                len += (size_t) snprintf(s + len, cap - len,
                                         "{\"followerCount\":{\"$lt\":-%zu}}",
                                         i);
            }
        }

        len += (size_t) snprintf(s + len, cap - len, "]}");
    }

    (void) snprintf(s + len, cap - len, "]}");

    return s;
}


static void
hostile_one(const char *name, mt_vindex_t *r, const float *q,
    const char *json)
{
    char             err[128];
    double           t0, tc, ts;
    size_t           n;
    mt_errs_t        errs;
    mt_vhit_t        hits[10];
    mt_filter_t     *f;
    mt_json_err_t    jerr;
    mt_json_doc_t   *doc;

    doc = mt_json_parse(json, strlen(json), NULL, &jerr, err, sizeof(err));
    if (doc == NULL) {
        fprintf(stderr, "%s: %s\n", name, err);
        exit(1);
    }

    mt_errs_init(&errs);
    t0 = cpu_ms();
    f = mt_filter_compile(mt_json_root(doc), &errs);
    tc = cpu_ms() - t0;

    printf("%s_bytes %zu\n", name, strlen(json));
    printf("%s_compile_cpu_ms %.3f\n", name, tc);

    if (f == NULL) {
        printf("%s_refused \"%s: %s\"\n", name,
               errs.n ? errs.items[0].field : "",
               errs.n ? errs.items[0].message : "out of memory");

    } else {
        t0 = cpu_ms();
        n = mt_vindex_search(r, q, f, 10, hits);
        ts = cpu_ms() - t0;
        printf("%s_search_cpu_ms %.3f\n", name, ts);
        printf("%s_hits %zu\n", name, n);
    }

    mt_filter_free(f);
    mt_errs_free(&errs);
    mt_json_free(doc);
}


static int
hostile(size_t n, const char *dir)
{
    char                 path[512], err[256], id[32], *bios, *json;
    float               *vecs, q[DIMS];
    size_t               i;
    mt_meta_t            m;
    mt_vindex_t         *b, *r;
    mt_embedder_t       *e;
    mt_vindex_params_t   p;

    (void) snprintf(path, sizeof(path), "%s/vindex_hostile.vec", dir);

    bios = texts(n + 1, 0);
    e = mt_embedder_new(DIMS, 7);
    vecs = malloc(DIMS * sizeof(float));

    if (e == NULL || vecs == NULL) {
        fprintf(stderr, "no memory\n");
        return 1;
    }

    if (learn(e, bios, n) != 0) {
        return 1;
    }

    memset(&p, 0, sizeof(p));
    p.dims = DIMS;
    p.capacity = n;
    p.model = "bench";
    p.model_epoch = 1;

    b = mt_vindex_build_begin(path, &p, err, sizeof(err));
    if (b == NULL) {
        fprintf(stderr, "build: %s\n", err);
        return 1;
    }

    for (i = 0; i < n; i++) {
        embed(e, &bios[i * TEXT_MAX], vecs);
        hostile_meta(i, &m);
        (void) snprintf(id, sizeof(id), "creator-%07zu", i);

        if (mt_vindex_build_add(b, id, strlen(id), i, &m, vecs) != 0) {
            fprintf(stderr, "build add %zu failed\n", i);
            return 1;
        }
    }

    if (mt_vindex_build_commit(b, err, sizeof(err)) != 0) {
        fprintf(stderr, "commit: %s\n", err);
        return 1;
    }

    mt_vindex_close(b);

    r = mt_vindex_open(path, NULL, 0, err, sizeof(err));
    if (r == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }

    embed(e, &bios[n * TEXT_MAX], q);
    printf("records %zu\n", n);

    hostile_one("warmup", r, q, "{\"region\":\"EU\"}");

    json = hostile_or(45000);
    hostile_one("or45000", r, q, json);
    free(json);

    json = hostile_or(MT_FILTER_MAX_CLAUSES);
    hostile_one("or_widest", r, q, json);
    free(json);

    json = hostile_worst();
    hostile_one("worst_within_limits", r, q, json);
    free(json);

    hostile_one("nothing", r, q, "{\"region\":\"nowhere\"}");
    hostile_one("one", r, q, "{\"region\":\"ONE\"}");
    hostile_one("everything", r, q, "{\"followerCount\":{\"$gte\":0}}");
    hostile_one("none_of_48_tags", r, q,
                "{\"apparentValues\":{\"$nin\":[\"w1\",\"w2\",\"w3\"]}}");

    mt_vindex_close(r);
    mt_embedder_free(e);
    free(vecs);
    free(bios);
    (void) unlink(path);

    if (strlen(path) + sizeof(".lock") <= sizeof(path)) {
        memcpy(path + strlen(path), ".lock", sizeof(".lock"));
        (void) unlink(path);
    }

    return 0;
}


int
main(int argc, char **argv)
{
    char                 path[512], err[256], id[32], *bios, *briefs;
    char                *briefs2;
    float               *vecs, *qs, *qs2, v[DIMS];
    double               t0, sync, train, tu[UPSERTS];
    size_t               n, i;
    unsigned             lists, np;
    mt_meta_t            m;
    mt_filter_t         *eu, *rare;
    mt_vindex_t         *r, *w;
    mt_embedder_t       *e;
    struct stat          st;
    mt_vindex_params_t   p;
    static const unsigned  nprobes[] = { 1, 2, 4, 8, 16, 32, 64 };
    static const unsigned  efs[] = { 16, 32, 48, 64, 96, 128 };

    if (argc > 1 && strcmp(argv[1], "hostile") == 0) {
        return hostile(argc > 2 ? (size_t) strtoul(argv[2], NULL, 10)
                                : 100000,
                       argc > 3 ? argv[3] : "/tmp");
    }

    n = argc > 1 ? (size_t) strtoul(argv[1], NULL, 10) : 100000;
    (void) snprintf(path, sizeof(path), "%s/vindex_bench.vec",
                    argc > 2 ? argv[2] : "/tmp");
    lists = argc > 3 ? (unsigned) strtoul(argv[3], NULL, 10) : 256;

    if (n == 0) {
        return 1;
    }

    t0 = now_ms();
    bios = texts(n + UPSERTS, 0);
    briefs = texts(QUERIES, 1);
    briefs2 = texts(QUERIES, 2);
    e = mt_embedder_new(DIMS, 7);
    vecs = malloc((n + UPSERTS) * DIMS * sizeof(float));
    qs = malloc(QUERIES * DIMS * sizeof(float));
    qs2 = malloc(QUERIES * DIMS * sizeof(float));

    if (e == NULL || vecs == NULL || qs == NULL || qs2 == NULL) {
        fprintf(stderr, "no memory\n");
        return 1;
    }

    if (learn(e, bios, n) != 0) {
        return 1;
    }

    for (i = 0; i < n + UPSERTS; i++) {
        embed(e, &bios[i * TEXT_MAX], &vecs[i * DIMS]);
    }

    for (i = 0; i < QUERIES; i++) {
        embed(e, &briefs[i * TEXT_MAX], &qs[i * DIMS]);
        embed(e, &briefs2[i * TEXT_MAX], &qs2[i * DIMS]);
    }

    printf("records %zu\n", n);
    printf("example_bio \"%s\"\n", bios);
    printf("example_brief \"%s\"\n", briefs);
    printf("example_brief2 \"%s\"\n", briefs2);
    printf("embed_ms %.1f\n", now_ms() - t0);

    memset(&p, 0, sizeof(p));
    p.dims = DIMS;
    p.capacity = n + UPSERTS;
    p.model = "bench";
    p.model_epoch = 1;

    sync = build(path, &p, vecs, n);
    p.lists = lists;
    p.graph_m = getenv("GRAPH_M") ? (unsigned) atoi(getenv("GRAPH_M"))
                                  : MT_VGRAPH_M;
    p.graph_efc = getenv("GRAPH_EFC") ? (unsigned) atoi(getenv("GRAPH_EFC"))
                                      : 0;
    train = build(path, &p, vecs, n) - sync;
    printf("train_ms %.1f\n", train);

    r = mt_vindex_open(path, NULL, 0, err, sizeof(err));
    if (r == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }

    eu = filter("{\"region\":\"EU\"}");
    rare = filter("{\"region\":\"EU\",\"followerCount\":{\"$gte\":90000}}");

    compare("warmup", r, qs, NULL, MT_VINDEX_NPROBE);

    for (i = 0; i < sizeof(nprobes) / sizeof(nprobes[0]); i++) {
        np = nprobes[i];
        compare("search", r, qs, NULL, np);
    }

    compare("search", r, qs, NULL, 0);

    for (i = 0; i < sizeof(efs) / sizeof(efs[0]); i++) {
        compare_graph("search", r, qs, NULL, efs[i]);
        compare_graph("brief2", r, qs2, NULL, efs[i]);
    }

    compare_graph("search_filter_eu_33pct", r, qs, eu, 64);
    compare_graph("search_filter_3pct", r, qs, rare, 64);

    if (getenv("GRAPH_ONLY")) {
        return 0;
    }

    /* the briefs as the module gets them */
    compare("brief2", r, qs2, NULL, MT_VINDEX_NPROBE);
    compare("brief2", r, qs2, NULL, 64);
    compare("brief2", r, qs2, NULL, 0);
    compare("brief2_filter_eu_33pct", r, qs2, eu, 0);
    compare("search_filter_eu_33pct", r, qs, eu, MT_VINDEX_NPROBE);
    compare("search_filter_eu_33pct", r, qs, eu, 0);
    compare("search_filter_3pct", r, qs, rare, MT_VINDEX_NPROBE);
    compare("search_filter_3pct", r, qs, rare, 0);

    /* updates of existing creators: the first one builds the map */
    w = mt_vindex_open(path, NULL, 1, err, sizeof(err));
    if (w == NULL || mt_vindex_lock(w) != 0) {
        fprintf(stderr, "open writer: %s\n", err);
        return 1;
    }

    for (i = 0; i < UPSERTS; i++) {
        memcpy(v, &vecs[(n + i) * DIMS], sizeof(v));
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

    /* the upserted records are in the lists of their nearest centroid */
    compare("after_upserts", r, qs, NULL, MT_VINDEX_NPROBE);
    compare("after_upserts", r, qs, NULL, 0);

    if (stat(path, &st) != 0) {
        return 1;
    }

    printf("record_bytes %zu\n", mt_vindex_record_size(r));
    printf("centroid_bytes %zu\n", (size_t) lists * DIMS * sizeof(float));
    printf("file_bytes_per_record %.0f\n",
           (double) st.st_size / (double) mt_vindex_capacity(r));
    printf("disk_bytes_per_creator %.0f\n",
           (double) st.st_blocks * 512.0 / (double) mt_vindex_records(r));
    printf("scan_bytes_per_creator %zu\n", (size_t) 16 + DIMS);
    printf("sketch_scan_bytes_per_creator %zu\n", (size_t) 16 + DIMS / 4);

    mt_vindex_close(w);
    mt_vindex_close(r);
    mt_filter_free(eu);
    mt_filter_free(rare);
    mt_embedder_free(e);
    free(vecs);
    free(qs);
    free(qs2);
    free(bios);
    free(briefs);
    free(briefs2);
    (void) unlink(path);

    /* and the writers' lock file beside it */
    if (strlen(path) + sizeof(".lock") <= sizeof(path)) {
        memcpy(path + strlen(path), ".lock", sizeof(".lock"));
        (void) unlink(path);
    }

    return 0;
}

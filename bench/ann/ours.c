/*
 * The project's vector index (lib/vindex.h) on the data of bench/ann/gen.c:
 * builds it from the base vectors, then times single-threaded searches
 * (k 10, no filter), one query at a time, in each mode and parameter,
 * with the recall@10 against the float ground truth.  Compiled as the
 * module compiles lib/: -O2, no -march (bench/ann/run.sh).
 *
 *   ours [-l lists] [-g graph_m] [-e graph_efc] [-w warmup] dir
 *
 * lists: default sqrt(N) rounded to the nearest power of two (256 at
 * 100k); graph_m (default 16: degree 32) only when lib/vindex.h has
 * MT_VSEARCH_GRAPH, graph_efc (default 0: the library's) only when it
 * has MT_VGRAPH_EFC too.  warmup: the queries run untimed before each
 * configuration (default 100).  The file is built three times (two without a
 * graph): without lists (the adds, then the commit: its sync), with
 * lists (the commit adds the training), then with the graph when there
 * is one (the commit adds the graph): each method's build_s is the
 * adds and the commit of the file it needs, less what it does not
 * need, and its bytes_per_creator that file's size / N.
 *
 * Prints "# ..." lines (the build's phases, the sizes) and one TSV line
 * a configuration and query set:
 *   lib method params N queryset build_s bytes_per_creator p50_ms p99_ms
 *   recall10
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter.h"
#include "vindex.h"
#include "ann_io.h"


#define K  ANN_K

static size_t     nbase;
static uint32_t   dims;


/* meta.tsv of gen.c: what meta_for() of bench/vindex_bench.c gives */
static mt_meta_t *
load_meta(const char *dir, size_t n)
{
    char        line[256], region[16];
    FILE       *f;
    size_t      i, idx;
    long long   followers;
    mt_meta_t  *m, *mi;

    f = ann_open_in(dir, "meta.tsv");
    m = ann_xmalloc(n * sizeof(mt_meta_t));

    for (i = 0; i < n; i++) {
        if (fgets(line, sizeof(line), f) == NULL
            || sscanf(line, "%zu\t%*s\t%15s\t%lld", &idx, region, &followers)
               != 3
            || idx != i)
        {
            fprintf(stderr, "ours: meta.tsv: bad line %zu\n", i + 1);
            exit(1);
        }

        mi = &m[i];
        memset(mi, 0, sizeof(mt_meta_t));
        mi->tags[mi->ntags++] = mt_meta_tag(MT_F_REGION, region,
                                            strlen(region));
        mi->follower_count = (int64_t) followers;
        mi->present = (1u << MT_F_REGION) | (1u << MT_F_FOLLOWERS);
    }

    fclose(f);

    return m;
}


typedef struct {
    double   add_s;
    double   commit_s;
    double   bytes_per_creator;
} built_t;


static void
build(const char *path, const mt_vindex_params_t *p, const float *base,
    const mt_meta_t *meta, built_t *out)
{
    char          err[256], id[32];
    double        t0;
    size_t        i;
    mt_vindex_t  *b;

    b = mt_vindex_build_begin(path, p, err, sizeof(err));
    if (b == NULL) {
        fprintf(stderr, "ours: build: %s\n", err);
        exit(1);
    }

    t0 = ann_now_s();

    for (i = 0; i < nbase; i++) {
        (void) snprintf(id, sizeof(id), "creator-%07zu", i);

        if (mt_vindex_build_add(b, id, strlen(id), i, &meta[i],
                                &base[i * dims])
            != 0)
        {
            fprintf(stderr, "ours: build add %zu failed\n", i);
            exit(1);
        }
    }

    out->add_s = ann_now_s() - t0;

    t0 = ann_now_s();
    if (mt_vindex_build_commit(b, err, sizeof(err)) != 0) {
        fprintf(stderr, "ours: commit: %s\n", err);
        exit(1);
    }

    out->commit_s = ann_now_s() - t0;
    mt_vindex_close(b);

    out->bytes_per_creator = ann_file_size(path) / (double) nbase;
}


/* the base index of a hit, from its id "creator-NNNNNNN" */
static int32_t
hit_index(const mt_vindex_t *vi, uint32_t slot)
{
    char         buf[32];
    size_t       len;
    const char  *id;

    id = mt_vindex_id(vi, slot, &len);
    if (id == NULL || len < 9 || len >= sizeof(buf)) {
        return -1;
    }

    memcpy(buf, id, len);
    buf[len] = '\0';

    return (int32_t) strtol(buf + 8, NULL, 10);
}


/* one configuration of the handle's mode on one query set */
static void
run(mt_vindex_t *vi, const ann_qset_t *qs, const char *method,
    const char *params, double build_s, double bytes, unsigned warmup)
{
    double      *lat, t0;
    size_t       i, j, n, found;
    int64_t      ids[K];
    mt_vhit_t    hits[K];

    lat = ann_xmalloc(qs->n * sizeof(double));

    for (i = 0; i < warmup && i < qs->n; i++) {
        (void) mt_vindex_search(vi, &qs->v[i * dims], NULL, K, hits);
    }

    found = 0;

    for (i = 0; i < qs->n; i++) {
        t0 = ann_now_s();
        n = mt_vindex_search(vi, &qs->v[i * dims], NULL, K, hits);
        lat[i] = ann_now_s() - t0;

        for (j = 0; j < n; j++) {
            ids[j] = hit_index(vi, hits[j].slot);
        }

        found += ann_found(qs, i, ids, n);
    }

    ann_report("ours", method, params, nbase, qs, build_s, bytes, lat,
               found);
    free(lat);
}


int
main(int argc, char **argv)
{
    int                  c, q;
    char                 path[4096], lockp[4200], err[256], params[96];
    char                 gparams[48];
    float               *base;
    size_t               i;
    unsigned             lists, graph_m, graph_efc, warmup, l;
    uint32_t             n;
    ann_qset_t           qsets[2];
    built_t              b0, b1;
    mt_meta_t           *meta;
    mt_vindex_t         *vi;
    const char          *dir;
    mt_vindex_params_t   p;
    static const unsigned  nprobes[] = { 4, 8, 16, 32, 64, 128 };
#ifdef MT_VSEARCH_GRAPH
    built_t              b2;
    static const unsigned  efs[] = { 16, 24, 32, 48, 64, 96, 128,
                                     192, 256, 384 };
#endif

    lists = 0;
    graph_m = 16;
    graph_efc = 0;
    warmup = 100;

    while ((c = getopt(argc, argv, "l:g:e:w:")) != -1) {
        switch (c) {
        case 'l': lists = (unsigned) strtoul(optarg, NULL, 10); break;
        case 'g': graph_m = (unsigned) strtoul(optarg, NULL, 10); break;
        case 'e': graph_efc = (unsigned) strtoul(optarg, NULL, 10); break;
        case 'w': warmup = (unsigned) strtoul(optarg, NULL, 10); break;
        default: optind = argc + 1; break;
        }
    }

    if (optind != argc - 1) {
        fprintf(stderr, "usage: ours [-l lists] [-g graph_m] [-e graph_efc] "
                "[-w warmup] dir\n");
        return 2;
    }

    dir = argv[optind];
    dims = 0;
    base = ann_load_vecs(dir, "base.f32", &n, &dims);
    nbase = n;
    ann_load_qset(dir, "brief", dims, &qsets[0]);
    ann_load_qset(dir, "self", dims, &qsets[1]);
    meta = load_meta(dir, nbase);

    if (lists == 0) {
        /* sqrt(N) to the nearest power of two, within 1..4096 */
        l = (unsigned) lround(log2(sqrt((double) nbase)));
        lists = 1u << (l > 12 ? 12 : l);
    }

    (void) snprintf(path, sizeof(path), "%s/ours.vec", dir);
    (void) snprintf(lockp, sizeof(lockp), "%s.lock", path);

    memset(&p, 0, sizeof(p));
    p.dims = dims;
    p.capacity = nbase;
    p.model = "bench";
    p.model_epoch = 1;

    build(path, &p, base, meta, &b0);
    printf("# ours build, no lists: add_s %.2f commit_s %.2f (the sync) "
           "bytes_per_creator %.0f\n", b0.add_s, b0.commit_s,
           b0.bytes_per_creator);

    p.lists = lists;
    build(path, &p, base, meta, &b1);
    printf("# ours build, lists %u: add_s %.2f commit_s %.2f (training "
           "~%.2f) bytes_per_creator %.0f\n", lists, b1.add_s, b1.commit_s,
           b1.commit_s - b0.commit_s, b1.bytes_per_creator);

    gparams[0] = '\0';

#ifdef MT_VSEARCH_GRAPH
    p.graph_m = graph_m;
#ifdef MT_VGRAPH_EFC
    p.graph_efc = graph_efc;
    (void) snprintf(gparams, sizeof(gparams), "m=%u,efc=%u", graph_m,
                    graph_efc ? graph_efc : MT_VGRAPH_EFC);
#else
    (void) snprintf(gparams, sizeof(gparams), "m=%u", graph_m);
#endif
    build(path, &p, base, meta, &b2);
    printf("# ours build, lists %u, graph %s: add_s %.2f commit_s %.2f "
           "(graph ~%.2f) bytes_per_creator %.0f\n", lists, gparams,
           b2.add_s, b2.commit_s, b2.commit_s - b1.commit_s,
           b2.bytes_per_creator);
#else
    printf("# ours: lib/vindex.h has no MT_VSEARCH_GRAPH: no graph mode\n");
#endif
    (void) graph_m;
    (void) graph_efc;

    vi = mt_vindex_open(path, NULL, 0, err, sizeof(err));
    if (vi == NULL) {
        fprintf(stderr, "ours: open: %s\n", err);
        return 1;
    }

    printf("# ours file: records %zu, record_size %zu, lists trained %u\n",
           mt_vindex_records(vi), mt_vindex_record_size(vi),
           mt_vindex_lists(vi));
    fflush(stdout);

    for (q = 0; q < 2; q++) {
        /* exact and sketch need no lists: the first file's time, size */
        mt_vindex_set_mode(vi, MT_VSEARCH_EXACT);
        run(vi, &qsets[q], "exact", "-", b0.add_s + b0.commit_s,
            b0.bytes_per_creator, warmup);

        mt_vindex_set_mode(vi, MT_VSEARCH_SKETCH);
        run(vi, &qsets[q], "sketch", "-", b0.add_s + b0.commit_s,
            b0.bytes_per_creator, warmup);

        mt_vindex_set_mode(vi, MT_VSEARCH_IVF);

        for (i = 0; i < sizeof(nprobes) / sizeof(nprobes[0]); i++) {
            mt_vindex_set_nprobe(vi, nprobes[i]);
            (void) snprintf(params, sizeof(params), "lists=%u,nprobe=%u",
                            lists, nprobes[i]);
            run(vi, &qsets[q], "ivf", params, b1.add_s + b1.commit_s,
                b1.bytes_per_creator, warmup);
        }

#ifdef MT_VSEARCH_GRAPH
        /*
         * The graph's time: the adds, the sync and the graph, not the
         * training; its size: the file's less the centroids'.
         */
        mt_vindex_set_mode(vi, MT_VSEARCH_GRAPH);

        for (i = 0; i < sizeof(efs) / sizeof(efs[0]); i++) {
            mt_vindex_set_ef(vi, efs[i]);
            (void) snprintf(params, sizeof(params), "%s,ef=%u", gparams,
                            efs[i]);
            run(vi, &qsets[q], "graph", params,
                b2.add_s + b0.commit_s + (b2.commit_s - b1.commit_s),
                b2.bytes_per_creator
                - (b1.bytes_per_creator - b0.bytes_per_creator),
                warmup);
        }
#endif
    }

    mt_vindex_close(vi);
    (void) unlink(path);
    (void) unlink(lockp);
    free(base);
    free(meta);
    ann_free_qset(&qsets[0]);
    ann_free_qset(&qsets[1]);

    return 0;
}

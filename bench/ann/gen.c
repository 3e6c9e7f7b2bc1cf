/*
 * The data of the ANN benchmark (bench/ann/README.md): N creator vectors
 * and two query sets, made with the project's local embedder
 * (lib/embed.h) from the made-up texts of tests/unit/gen_text.c, with
 * the generator and seeds of bench/vindex_bench.c, so that a run is
 * repeatable and its base vectors are vindex_bench's:
 *
 *   the embedder: mt_embedder_new(512, 7), its IDF learnt from the N
 *   bios, then frozen;
 *   base:  bios 0 .. N-1 (gen_text, seed 0x9e3779b97f4a7c15);
 *   self:  the next Q bios, creators held out of the base (new creators
 *          as queries: creator-like vectors that are not in the base);
 *   brief: then Q briefs as the module embeds one (gen_brief), or with
 *          -b 1 the short briefs of gen_text(.., 1).
 *
 * The exact top 10 of each query by float dot product (the vectors are
 * unit length: cosine) over the base, brute force, ties to the lower
 * index.  The region and followers of each creator as meta_for() of
 * vindex_bench.c gives them, for our index's records.
 *
 * Files in dir (little-endian):
 *   base.f32, self.f32, brief.f32: uint32 n, uint32 dims, n*dims float32
 *   self.gt, brief.gt: uint32 nq, uint32 k, nq*k int32 base indexes
 *                      (best first), then nq*k float32 their scores
 *   meta.tsv: index, id, region, followers (one line a creator)
 *   info.txt: the parameters, an example of each text, the timings
 *
 *   gen [-n N] [-q Q] [-t threads] [-b 1|2] dir
 *
 * Threads (default: 1 below N 500,000, else 2) embed and search.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "embed.h"
#include "gen_text.h"


#define DIMS        512
#define TEXT_MAX    512
#define K           10
#define GEN_SEED    0x9e3779b97f4a7c15ULL   /* vindex_bench.c's gen_seed */
#define EMBED_SEED  7
#define CHUNK       8192                    /* texts embedded at once */
#define QB          8                       /* queries a kernel pass */
#define BB          128                     /* base vectors a block */


typedef struct {
    float   s[K];
    int32_t id[K];
    int     n;
} top_t;


static double
now_s(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


static void *
xmalloc(size_t n)
{
    void  *p;

    p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "gen: no memory for %zu bytes\n", n);
        exit(1);
    }

    return p;
}


/* as vindex_bench.c's meta_for(): every third creator EU */
static void
meta_write(FILE *f, size_t i)
{
    fprintf(f, "%zu\tcreator-%07zu\t%s\t%lld\n", i, i,
            i % 3 == 0 ? "EU" : "US", (long long) ((i * 7919) % 100000));
}


/* embedding, in parallel: texts of TEXT_MAX bytes each */

typedef struct {
    const mt_embedder_t  *e;
    const char           *texts;
    float                *out;
    size_t                from, to;
} embed_job_t;


static void *
embed_run(void *arg)
{
    size_t        i;
    const char   *t;
    embed_job_t  *j = arg;

    for (i = j->from; i < j->to; i++) {
        t = &j->texts[i * TEXT_MAX];
        if (mt_embed(j->e, t, strlen(t), &j->out[i * DIMS]) != 0) {
            fprintf(stderr, "gen: embed: no memory\n");
            exit(1);
        }
    }

    return NULL;
}


static void
embed_all(const mt_embedder_t *e, const char *texts, size_t n, float *out,
    unsigned threads)
{
    unsigned      t;
    pthread_t     tid[64];
    embed_job_t   jobs[64];

    for (t = 0; t < threads; t++) {
        jobs[t].e = e;
        jobs[t].texts = texts;
        jobs[t].out = out;
        jobs[t].from = n * t / threads;
        jobs[t].to = n * (t + 1) / threads;
    }

    for (t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, embed_run, &jobs[t]) != 0) {
            fprintf(stderr, "gen: pthread_create failed\n");
            exit(1);
        }
    }

    (void) embed_run(&jobs[0]);

    for (t = 1; t < threads; t++) {
        (void) pthread_join(tid[t], NULL);
    }
}


/* the exact top 10s: each thread a range of the base, all the queries */

typedef struct {
    const float  *base;
    const float  *qs;
    size_t        nq, from, to;
    top_t        *tops;                     /* nq */
} gt_job_t;


static void
top_push(top_t *t, float s, int32_t id)
{
    int  i;

    /* ids come in increasing order: equal scores keep the earlier ones */
    if (t->n == K && !(s > t->s[K - 1])) {
        return;
    }

    i = t->n < K ? t->n++ : K - 1;

    while (i > 0 && (s > t->s[i - 1]
                     || (s == t->s[i - 1] && id < t->id[i - 1])))
    {
        t->s[i] = t->s[i - 1];
        t->id[i] = t->id[i - 1];
        i--;
    }

    t->s[i] = s;
    t->id[i] = id;
}


/* GCC vector extensions: AVX2 with -march=native, SSE without */
typedef float v8f __attribute__((vector_size(32)));


static void
dots8(const float *q, const float *b, float *out)
{
    int   d, j, l;
    v8f   acc[QB], bv, qv;

    for (j = 0; j < QB; j++) {
        acc[j] = (v8f) { 0 };
    }

    for (d = 0; d < DIMS; d += 8) {
        memcpy(&bv, &b[d], sizeof(bv));

        for (j = 0; j < QB; j++) {
            memcpy(&qv, &q[j * DIMS + d], sizeof(qv));
            acc[j] += qv * bv;
        }
    }

    for (j = 0; j < QB; j++) {
        float  s = 0.0f;

        for (l = 0; l < 8; l++) {
            s += acc[j][l];
        }

        out[j] = s;
    }
}


static void *
gt_run(void *arg)
{
    float      *qpad, s[QB];
    size_t      b0, b1, b, q0, j, nqp;
    gt_job_t   *g = arg;

    /* the queries padded to a multiple of QB with zeros */
    nqp = (g->nq + QB - 1) / QB * QB;
    qpad = xmalloc(nqp * DIMS * sizeof(float));
    memset(qpad, 0, nqp * DIMS * sizeof(float));
    memcpy(qpad, g->qs, g->nq * DIMS * sizeof(float));

    for (j = 0; j < g->nq; j++) {
        g->tops[j].n = 0;
    }

    for (b0 = g->from; b0 < g->to; b0 = b1) {
        b1 = b0 + BB < g->to ? b0 + BB : g->to;

        for (q0 = 0; q0 < nqp; q0 += QB) {
            for (b = b0; b < b1; b++) {
                dots8(&qpad[q0 * DIMS], &g->base[b * DIMS], s);

                for (j = 0; j < QB && q0 + j < g->nq; j++) {
                    top_push(&g->tops[q0 + j], s[j], (int32_t) b);
                }
            }
        }
    }

    free(qpad);

    return NULL;
}


static void
ground_truth(const float *base, size_t n, const float *qs, size_t nq,
    unsigned threads, top_t *tops)
{
    int         i;
    size_t      q;
    unsigned    t;
    pthread_t   tid[64];
    gt_job_t    jobs[64];

    for (t = 0; t < threads; t++) {
        jobs[t].base = base;
        jobs[t].qs = qs;
        jobs[t].nq = nq;
        jobs[t].from = n * t / threads;
        jobs[t].to = n * (t + 1) / threads;
        jobs[t].tops = t ? xmalloc(nq * sizeof(top_t)) : tops;
    }

    for (t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, gt_run, &jobs[t]) != 0) {
            fprintf(stderr, "gen: pthread_create failed\n");
            exit(1);
        }
    }

    (void) gt_run(&jobs[0]);

    /* the later ranges hold higher ids: merging in order keeps ties */
    for (t = 1; t < threads; t++) {
        (void) pthread_join(tid[t], NULL);

        for (q = 0; q < nq; q++) {
            for (i = 0; i < jobs[t].tops[q].n; i++) {
                top_push(&tops[q], jobs[t].tops[q].s[i],
                         jobs[t].tops[q].id[i]);
            }
        }

        free(jobs[t].tops);
    }
}


static FILE *
open_out(const char *dir, const char *name)
{
    char   path[4096];
    FILE  *f;

    (void) snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
        exit(1);
    }

    return f;
}


static void
close_out(FILE *f, const char *name)
{
    if (ferror(f) || fclose(f) != 0) {
        fprintf(stderr, "gen: writing %s failed\n", name);
        exit(1);
    }
}


static void
write_vecs(const char *dir, const char *name, const float *v, size_t n)
{
    FILE      *f;
    uint32_t   h[2];

    f = open_out(dir, name);
    h[0] = (uint32_t) n;
    h[1] = DIMS;
    (void) fwrite(h, sizeof(h), 1, f);
    (void) fwrite(v, sizeof(float), n * DIMS, f);
    close_out(f, name);
}


static void
write_gt(const char *dir, const char *name, const top_t *tops, size_t nq)
{
    int        i;
    FILE      *f;
    size_t     q;
    int32_t    id;
    uint32_t   h[2];

    f = open_out(dir, name);
    h[0] = (uint32_t) nq;
    h[1] = K;
    (void) fwrite(h, sizeof(h), 1, f);

    for (q = 0; q < nq; q++) {
        for (i = 0; i < K; i++) {
            id = i < tops[q].n ? tops[q].id[i] : -1;
            (void) fwrite(&id, sizeof(id), 1, f);
        }
    }

    for (q = 0; q < nq; q++) {
        (void) fwrite(tops[q].s, sizeof(float), K, f);
    }

    close_out(f, name);
}


static void
usage(void)
{
    fprintf(stderr, "usage: gen [-n N] [-q Q] [-t threads] [-b 1|2] dir\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    int              c, brief_kind;
    char            *texts, first_bio[TEXT_MAX], first_self[TEXT_MAX];
    char             first_brief[TEXT_MAX];
    FILE            *f;
    float           *base, *selfq, *briefq;
    top_t           *tops;
    double           t0, t_learn, t_embed, t_gt;
    size_t           n, nq, i, j, m;
    uint64_t         seed;
    unsigned         threads;
    const char      *dir;
    mt_embedder_t   *e;

    n = 100000;
    nq = 1000;
    threads = 0;
    brief_kind = 2;

    while ((c = getopt(argc, argv, "n:q:t:b:")) != -1) {
        switch (c) {
        case 'n': n = (size_t) strtoull(optarg, NULL, 10); break;
        case 'q': nq = (size_t) strtoull(optarg, NULL, 10); break;
        case 't': threads = (unsigned) strtoul(optarg, NULL, 10); break;
        case 'b': brief_kind = atoi(optarg); break;
        default: usage();
        }
    }

    if (optind != argc - 1 || n == 0 || nq == 0 || n > INT32_MAX
        || (brief_kind != 1 && brief_kind != 2))
    {
        usage();
    }

    dir = argv[optind];
    if (threads == 0) {
        threads = n < 500000 ? 1 : 2;
    }

    threads = threads > 64 ? 64 : threads;

    e = mt_embedder_new(DIMS, EMBED_SEED);
    texts = xmalloc((size_t) CHUNK * TEXT_MAX);
    base = xmalloc(n * DIMS * sizeof(float));
    selfq = xmalloc(nq * DIMS * sizeof(float));
    briefq = xmalloc(nq * DIMS * sizeof(float));
    tops = xmalloc(nq * sizeof(top_t));

    if (e == NULL) {
        fprintf(stderr, "gen: no memory\n");
        return 1;
    }

    /* the IDF from the N bios (regenerated below, not kept) */
    t0 = now_s();
    seed = GEN_SEED;

    for (i = 0; i < n; i++) {
        size_t  len = gen_text(&seed, texts, TEXT_MAX, 0);

        if (i == 0) {
            memcpy(first_bio, texts, len + 1);
        }

        if (mt_embedder_add_doc(e, texts, len) != 0) {
            fprintf(stderr, "gen: add doc: no memory\n");
            return 1;
        }
    }

    mt_embedder_freeze(e);
    t_learn = now_s() - t0;

    /* the same seed again: the same N bios, then Q held out */
    t0 = now_s();
    seed = GEN_SEED;

    for (i = 0; i < n; i += m) {
        m = n - i < CHUNK ? n - i : CHUNK;

        for (j = 0; j < m; j++) {
            (void) gen_text(&seed, &texts[j * TEXT_MAX], TEXT_MAX, 0);
        }

        embed_all(e, texts, m, &base[i * DIMS], threads);
    }

    for (i = 0; i < nq; i += m) {
        m = nq - i < CHUNK ? nq - i : CHUNK;

        for (j = 0; j < m; j++) {
            (void) gen_text(&seed, &texts[j * TEXT_MAX], TEXT_MAX, 0);
        }

        if (i == 0) {
            memcpy(first_self, texts, TEXT_MAX);
        }

        embed_all(e, texts, m, &selfq[i * DIMS], threads);
    }

    for (i = 0; i < nq; i += m) {
        m = nq - i < CHUNK ? nq - i : CHUNK;

        for (j = 0; j < m; j++) {
            if (brief_kind == 2) {
                (void) gen_brief(&seed, &texts[j * TEXT_MAX], TEXT_MAX);

            } else {
                (void) gen_text(&seed, &texts[j * TEXT_MAX], TEXT_MAX, 1);
            }
        }

        if (i == 0) {
            memcpy(first_brief, texts, TEXT_MAX);
        }

        embed_all(e, texts, m, &briefq[i * DIMS], threads);
    }

    t_embed = now_s() - t0;

    write_vecs(dir, "base.f32", base, n);
    write_vecs(dir, "self.f32", selfq, nq);
    write_vecs(dir, "brief.f32", briefq, nq);

    f = open_out(dir, "meta.tsv");
    for (i = 0; i < n; i++) {
        meta_write(f, i);
    }
    close_out(f, "meta.tsv");

    t0 = now_s();
    ground_truth(base, n, selfq, nq, threads, tops);
    write_gt(dir, "self.gt", tops, nq);
    ground_truth(base, n, briefq, nq, threads, tops);
    write_gt(dir, "brief.gt", tops, nq);
    t_gt = now_s() - t0;

    f = open_out(dir, "info.txt");
    fprintf(f, "n %zu\nqueries %zu\ndims %d\nk %d\nthreads %u\n"
            "brief_kind %s\nembed_seed %d\ngen_seed 0x%llx\n"
            "example_bio \"%s\"\nexample_self \"%s\"\nexample_brief \"%s\"\n"
            "learn_s %.1f\nembed_s %.1f\nground_truth_s %.1f\n",
            n, nq, DIMS, K, threads,
            brief_kind == 2 ? "gen_brief" : "gen_text-brief",
            EMBED_SEED, (unsigned long long) GEN_SEED,
            first_bio, first_self, first_brief, t_learn, t_embed, t_gt);
    close_out(f, "info.txt");

    fprintf(stderr, "gen: n %zu queries %zu threads %u: learn %.1f s, "
            "embed %.1f s, ground truth %.1f s\n",
            n, nq, threads, t_learn, t_embed, t_gt);

    mt_embedder_free(e);
    free(texts);
    free(base);
    free(selfq);
    free(briefq);
    free(tops);

    return 0;
}

/*
 * What the programs of bench/ann share (C and C++): the files of gen.c,
 * the clock, the recall and the one TSV line a configuration prints:
 *
 *   lib method params N queryset build_s bytes_per_creator p50_ms p99_ms
 *   recall10
 */

#ifndef ANN_IO_H
#define ANN_IO_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>


#define ANN_K  10

typedef struct {
    const char  *name;      /* "brief", "self" */
    float       *v;         /* n x dims */
    uint32_t     n;
    int32_t     *gt;        /* n x ANN_K base indexes, best first */
} ann_qset_t;


static inline double
ann_now_s(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


static inline void *
ann_xmalloc(size_t n)
{
    void  *p;

    p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "ann: no memory for %zu bytes\n", n);
        exit(1);
    }

    return p;
}


static inline FILE *
ann_open_in(const char *dir, const char *name)
{
    char   path[4096];
    FILE  *f;

    (void) snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "ann: %s: %s\n", path, strerror(errno));
        exit(1);
    }

    return f;
}


/* uint32 n, uint32 dims, n x dims float32; *dims checked when not 0 */
static inline float *
ann_load_vecs(const char *dir, const char *name, uint32_t *n,
    uint32_t *dims)
{
    FILE      *f;
    float     *v;
    size_t     m;
    uint32_t   h[2];

    f = ann_open_in(dir, name);
    if (fread(h, sizeof(h), 1, f) != 1 || h[1] == 0
        || (*dims && h[1] != *dims))
    {
        fprintf(stderr, "ann: %s: bad header\n", name);
        exit(1);
    }

    m = (size_t) h[0] * h[1];
    v = (float *) ann_xmalloc(m * sizeof(float));
    if (fread(v, sizeof(float), m, f) != m) {
        fprintf(stderr, "ann: %s: short\n", name);
        exit(1);
    }

    fclose(f);
    *n = h[0];
    *dims = h[1];

    return v;
}


/* name.f32 and name.gt */
static inline void
ann_load_qset(const char *dir, const char *name, uint32_t dims,
    ann_qset_t *qs)
{
    char       file[64];
    FILE      *f;
    size_t     m;
    uint32_t   h[2];

    qs->name = name;
    (void) snprintf(file, sizeof(file), "%s.f32", name);
    qs->v = ann_load_vecs(dir, file, &qs->n, &dims);

    (void) snprintf(file, sizeof(file), "%s.gt", name);
    f = ann_open_in(dir, file);
    m = (size_t) qs->n * ANN_K;
    qs->gt = (int32_t *) ann_xmalloc(m * sizeof(int32_t));
    if (fread(h, sizeof(h), 1, f) != 1 || h[0] != qs->n || h[1] != ANN_K
        || fread(qs->gt, sizeof(int32_t), m, f) != m)
    {
        fprintf(stderr, "ann: %s: bad ground truth\n", file);
        exit(1);
    }

    fclose(f);
}


static inline void
ann_free_qset(ann_qset_t *qs)
{
    free(qs->v);
    free(qs->gt);
}


/* how many of ids[0..n) are in the query's true top 10 */
static inline size_t
ann_found(const ann_qset_t *qs, size_t q, const int64_t *ids, size_t n)
{
    size_t  j, l, found;

    found = 0;

    for (j = 0; j < n; j++) {
        for (l = 0; l < ANN_K; l++) {
            if (ids[j] >= 0 && qs->gt[q * ANN_K + l] == ids[j]) {
                found++;
                break;
            }
        }
    }

    return found;
}


static inline int
ann_cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


static inline double
ann_file_size(const char *path)
{
    struct stat  st;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "ann: stat %s: %s\n", path, strerror(errno));
        exit(1);
    }

    return (double) st.st_size;
}


/* lat: qs->n seconds, sorted here; found: the hits in the top 10s */
static inline void
ann_report(const char *lib, const char *method, const char *params,
    size_t n, const ann_qset_t *qs, double build_s, double bytes,
    double *lat, size_t found)
{
    qsort(lat, qs->n, sizeof(double), ann_cmp_double);

    printf("%s\t%s\t%s\t%zu\t%s\t%.2f\t%.0f\t%.3f\t%.3f\t%.4f\n",
           lib, method, params, n, qs->name, build_s, bytes,
           lat[qs->n / 2] * 1e3, lat[((size_t) qs->n * 99) / 100] * 1e3,
           (double) found / ((double) qs->n * ANN_K));
    fflush(stdout);
}

#endif /* ANN_IO_H */

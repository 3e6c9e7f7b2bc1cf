/*
 * What several unit tests need: a temporary store directory, removed
 * again, and a store opened on it or the test stops.
 */

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <math.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"


void
unit_rm_rf(const char *path)
{
    DIR            *d;
    char            sub[1024];
    struct stat     st;
    struct dirent  *de;

    if (lstat(path, &st) != 0) {
        return;
    }

    if (S_ISDIR(st.st_mode)) {
        d = opendir(path);

        if (d != NULL) {
            while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0
                    || strcmp(de->d_name, "..") == 0)
                {
                    continue;
                }

                (void) snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
                unit_rm_rf(sub);
            }

            (void) closedir(d);
        }

        (void) rmdir(path);

    } else {
        (void) unlink(path);
    }
}


mt_store_t *
unit_open_store(const char *dir, size_t size)
{
    char         err[256];
    mt_store_t  *s;

    s = mt_store_lmdb_open(dir, size, err, sizeof(err));
    if (s == NULL) {
        /* not fail(): the analyzer does not know that it does not return */
        print_message("open %s: %s\n", dir, err);
        abort();
    }

    return s;
}


/* name is a short tag for the directory: /tmp/mt_<name>_XXXXXX */

fx_t *
unit_fx_new(const char *name, size_t size)
{
    fx_t  *fx;

    fx = calloc(1, sizeof(fx_t));
    assert_non_null(fx);

    (void) snprintf(fx->dir, sizeof(fx->dir), "/tmp/mt_%s_XXXXXX", name);
    assert_non_null(mkdtemp(fx->dir));

    fx->s = unit_open_store(fx->dir, size);

    return fx;
}


int
unit_fx_teardown(void **state)
{
    fx_t  *fx = *state;

    if (fx->s != NULL) {
        fx->s->ops->close(fx->s);
    }

    unit_rm_rf(fx->dir);
    free(fx);

    return 0;
}


/* a whole file, NUL-terminated; the test stops when it cannot be read */

char *
unit_read_file(const char *path, size_t *len)
{
    FILE   *f;
    char   *buf;
    long    size;

    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size > 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);

    buf = malloc((size_t) size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t) size, f), (size_t) size);
    buf[size] = '\0';
    (void) fclose(f);

    *len = (size_t) size;
    return buf;
}


/* xorshift64*: the same vectors on every run */
uint64_t
unit_rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}


void
unit_vec(float *v, unsigned dims, uint64_t *s)
{
    unsigned  i;
    double    n, x;

    n = 0.0;
    for (i = 0; i < dims; i++) {
        /* roughly normal: the sum of four uniforms */
        x = 0.0;
        x += (double) (unit_rnd(s) >> 11) / 9007199254740992.0;
        x += (double) (unit_rnd(s) >> 11) / 9007199254740992.0;
        x += (double) (unit_rnd(s) >> 11) / 9007199254740992.0;
        x += (double) (unit_rnd(s) >> 11) / 9007199254740992.0;
        v[i] = (float) (x - 2.0);
        n += (double) v[i] * v[i];
    }

    n = sqrt(n);
    for (i = 0; i < dims; i++) {
        v[i] = (float) (v[i] / n);
    }
}


/* a filter of the contract's language, compiled or the test stops */
mt_filter_t *
unit_compile(const char *json, mt_json_doc_t **doc)
{
    char            err[128];
    mt_errs_t       errs;
    mt_filter_t    *f;
    mt_json_err_t   jerr;

    *doc = mt_json_parse(json, strlen(json), NULL, &jerr, err, sizeof(err));
    assert_non_null(*doc);

    mt_errs_init(&errs);
    f = mt_filter_compile(mt_json_root(*doc), &errs);
    assert_int_equal(errs.n, 0);
    mt_errs_free(&errs);
    assert_non_null(f);

    return f;
}


/* The vector index's tests: a file in a fresh directory */

int
unit_vfx_setup(void **state)
{
    vfx_t  *fx;

    fx = calloc(1, sizeof(vfx_t));
    assert_non_null(fx);

    (void) snprintf(fx->dir, sizeof(fx->dir), "/tmp/mt_vindex_XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    (void) snprintf(fx->path, sizeof(fx->path), "%s/creators.vec", fx->dir);

    *state = fx;
    return 0;
}


int
unit_vfx_teardown(void **state)
{
    vfx_t  *fx = *state;

    unit_rm_rf(fx->dir);
    free(fx);
    return 0;
}


/* creator i: every third is EU, followers 10 * i */
void
unit_vmeta(size_t i, mt_meta_t *m)
{
    memset(m, 0, sizeof(mt_meta_t));
    m->tags[m->ntags++] = mt_meta_tag(MT_F_REGION, i % 3 == 0 ? "EU" : "US",
                                      2);
    m->follower_count = (int64_t) i * 10;
    m->present = (1u << MT_F_REGION) | (1u << MT_F_FOLLOWERS);
}


void
unit_vid(size_t i, char *id, size_t *len)
{
    *len = (size_t) snprintf(id, 32, "creator-%05zu", i);
}


mt_vindex_t *
unit_vopen_r(const char *path)
{
    char          err[256];
    mt_vindex_t  *vi;

    vi = mt_vindex_open(path, NULL, 0, err, sizeof(err));
    if (vi == NULL) {
        print_error("open %s: %s\n", path, err);
    }

    assert_non_null(vi);
    return vi;
}


/*
 * The share of the exact top 10 the approximate search (mode: its param
 * is nprobe for IVF, ef for the graph) found.  Every hit it gives
 * matches f and has its exact score, in order, and it gives as many hits
 * as the exact search: fewer only when fewer match (the fallback).
 */
double
unit_vrecall(mt_vindex_t *r, const float *qs, size_t nq, unsigned dims,
    int mode, unsigned param, const mt_filter_t *f)
{
    size_t     i, j, l, ne, na, want, found;
    mt_vhit_t  ex[10], ap[10];

    want = 0;
    found = 0;

    for (i = 0; i < nq; i++) {
        mt_vindex_set_mode(r, MT_VSEARCH_EXACT);
        ne = mt_vindex_search(r, &qs[i * dims], f, 10, ex);
        mt_vindex_set_mode(r, mode);
        mt_vindex_set_nprobe(r, mode == MT_VSEARCH_IVF ? param
                                                       : MT_VINDEX_NPROBE);
        mt_vindex_set_ef(r, mode == MT_VSEARCH_GRAPH ? param : 0);
        na = mt_vindex_search(r, &qs[i * dims], f, 10, ap);

        assert_int_equal(na, ne);
        want += ne;

        for (j = 0; j < na; j++) {
            assert_true(j == 0 || ap[j].score <= ap[j - 1].score);
            assert_true(f == NULL
                        || mt_filter_match(f, mt_vindex_meta(r,
                                                             ap[j].slot)));

            for (l = 0; l < ne; l++) {
                if (ap[j].slot == ex[l].slot) {
                    /* the same record, the same score */
                    assert_true(ap[j].score == ex[l].score);
                    found++;
                    break;
                }
            }
        }
    }

    mt_vindex_set_nprobe(r, MT_VINDEX_NPROBE);
    mt_vindex_set_ef(r, 0);
    mt_vindex_set_mode(r, MT_VSEARCH_AUTO);

    return want ? (double) found / (double) want : 1.0;
}

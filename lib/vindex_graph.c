/*
 * The navigable graph of the vector index (see vindex.h): one list of
 * at most gdeg neighbours a record, in the file beside the vectors, so
 * every worker walks the one copy the page cache holds.
 *
 * The graph is one layer, built as HNSW builds its bottom layer: a
 * record is linked by a beam search (width efc) for its nearest
 * records, of which the pruning rule of HNSW keeps at most gm (a
 * candidate is dropped when a neighbour already kept is nearer to it
 * than the record is: the neighbours point in different directions),
 * and each neighbour links back, pruned the same way when its list is
 * full.  HNSW's upper layers serve to find a good place to start; the
 * centroids of the inverted file do that here: a walk starts from the
 * record nearest to each of the centroids nearest the query (found at
 * the build, gent), so a file with lists needs no other hierarchy.
 *
 * The walk itself is vindex_walk.c.
 *
 * Lists hold slot + 1, 0 ending a list short of gdeg: the zero pages of
 * a sparse file are empty lists.  Readers never lock: a list is
 * rewritten one 32-bit store at a time, so a walk may read a mix of its
 * old and new neighbours, every one a record that was published, and
 * takes only those below the count it started with.  A dead record
 * stays in the graph as a way through, never as a hit; the rebuild
 * drops it.
 */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "vindex_int.h"


#define MT_VG_THREADS_MAX 8         /* a build's threads at most */
#define MT_VG_STRIPES     1024      /* a build's list locks */


/* a build's linking: the next record to link, shared by its threads */
typedef struct {
    mt_vindex_t            *b;
    size_t                  n;
    size_t                  next;
    int                     failed;
    int                     stopped;    /* b->stop() said so */
    pthread_mutex_t         stripes[MT_VG_STRIPES];
} mt_vg_job_t;


static void *mt_vg_thread(void *arg);
static void *mt_vg_builder(void *arg);
static int mt_vg_entries(mt_vindex_t *b, char *err, size_t errlen);
static size_t mt_vg_select(const mt_vindex_t *vi, mt_vgc_t *c, size_t n,
    size_t max, int fill, int16_t *tmp);
static void mt_vg_sort(mt_vgc_t *c, size_t n);
static void mt_vg_back(mt_vindex_t *vi, uint32_t to, uint32_t x,
    float score);


/* a build's threads share the lists; an upsert is alone (the flock) */

static inline void
mt_vg_lock(const mt_vindex_t *vi, uint32_t slot)
{
    if (vi->stripes != NULL) {
        (void) pthread_mutex_lock(&vi->stripes[slot % MT_VG_STRIPES]);
    }
}


static inline void
mt_vg_unlock(const mt_vindex_t *vi, uint32_t slot)
{
    if (vi->stripes != NULL) {
        (void) pthread_mutex_unlock(&vi->stripes[slot % MT_VG_STRIPES]);
    }
}


/* Linking */

/*
 * Links record x (its vector written, not yet published) into the graph
 * of the records below limit: its own list written.  The neighbours it
 * chose are left in w->best[0..n) for mt_vgraph_link_back(), their
 * count returned; -1 when out of memory.
 */
int
mt_vgraph_link(mt_vindex_t *vi, uint32_t x, size_t limit, mt_vwalk_t *w)
{
    size_t         i, n;
    float          qs, qf[MT_VDIMS_MAX];
    int16_t        q[MT_VDIMS_MAX], tmp[MT_VDIMS_MAX];
    uint32_t      *l, v0;
    const int8_t  *v;

    l = mt_vg_list(vi, x);
    qs = mt_vg_widen(vi, x, q);

    /* the centroids are floats: the same vector as floats for them */
    v = mt_vvec(vi, x);

    for (i = 0; i < vi->dims; i++) {
        qf[i] = (float) v[i] * qs;
    }

    if (mt_vgraph_walk(vi, q, qs, qf, NULL, limit, vi->gefc, w) != 0) {
        return -1;
    }

    /* the first record: the entry of walks until a rebuild */
    v0 = 0;
    (void) __atomic_compare_exchange_n(&vi->hdr->gentry, &v0, x + 1, 0,
                                       __ATOMIC_RELEASE, __ATOMIC_RELAXED);

    /* in a build, x itself may be met: it is no neighbour of its own */
    for (i = 0; i < w->best_n; i++) {
        if (w->best[i].slot == x) {
            w->best[i] = w->best[--w->best_n];
            break;
        }
    }

    mt_vg_sort(w->best, w->best_n);
    n = mt_vg_select(vi, w->best, w->best_n, vi->gm, 1, tmp);

    mt_vg_lock(vi, x);

    for (i = 0; i < vi->gdeg; i++) {
        __atomic_store_n(&l[i], i < n ? w->best[i].slot + 1 : 0,
                         __ATOMIC_RELEASE);
    }

    mt_vg_unlock(vi, x);

    return (int) n;
}


/* after x is published: each neighbour it chose links back to it */

void
mt_vgraph_link_back(mt_vindex_t *vi, uint32_t x, mt_vwalk_t *w, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        mt_vg_lock(vi, w->best[i].slot);
        mt_vg_back(vi, w->best[i].slot, x, w->best[i].score);
        mt_vg_unlock(vi, w->best[i].slot);
    }
}


static void
mt_vg_back(mt_vindex_t *vi, uint32_t to, uint32_t x, float score)
{
    size_t     i, n;
    float      qs;
    int16_t    q[MT_VDIMS_MAX], tmp[MT_VDIMS_MAX];
    uint32_t  *l, v;
    mt_vgc_t   c[MT_VGDEG_MAX + 1];

    l = mt_vg_list(vi, to);

    for (i = 0; i < vi->gdeg; i++) {
        v = __atomic_load_n(&l[i], __ATOMIC_RELAXED);
        if (v == 0) {
            __atomic_store_n(&l[i], x + 1, __ATOMIC_RELEASE);
            return;
        }

        if (v == x + 1) {
            return;
        }
    }

    /* full: the list and x, pruned as a new record's */
    qs = mt_vg_widen(vi, to, q);
    n = 0;

    for (i = 0; i < vi->gdeg; i++) {
        c[n].slot = l[i] - 1;
        if (c[n].slot < mt_vcount(vi)) {
            c[n].score = mt_vg_score(vi, q, qs, c[n].slot);
            n++;
        }
    }

    c[n].slot = x;
    c[n].score = score;
    n++;

    mt_vg_sort(c, n);
    n = mt_vg_select(vi, c, n, vi->gdeg, 0, tmp);

    for (i = 0; i < vi->gdeg; i++) {
        __atomic_store_n(&l[i], i < n ? c[i].slot + 1 : 0,
                         __ATOMIC_RELEASE);
    }
}


/*
 * HNSW's heuristic: c sorted best first, each kept unless a neighbour
 * already kept is nearer to it than the record is; at most max.  The
 * kept are moved to the front, their count returned.
 */
static size_t
mt_vg_select(const mt_vindex_t *vi, mt_vgc_t *c, size_t n, size_t max,
    int fill, int16_t *tmp)
{
    size_t    i, j, kept;
    float     ts;
    mt_vgc_t  t;

    kept = 0;

    for (i = 0; i < n && kept < max; i++) {
        ts = mt_vg_widen(vi, c[i].slot, tmp);

        for (j = 0; j < kept; j++) {
            if (mt_vg_score(vi, tmp, ts, c[j].slot) > c[i].score) {
                break;
            }
        }

        if (j == kept) {
            t = c[kept];
            c[kept++] = c[i];
            c[i] = t;
        }
    }

    /*
     * fill: up to max with the best of those pruned, so that near
     * duplicates (the rule keeps one of a tight group) do not leave a
     * new record with one or two ways out.  Not for a full list pruned
     * to take a record back: left short, it takes the next ones without
     * being pruned again, which is most of a build's time otherwise.
     */
    if (fill && kept < max && kept < n) {
        mt_vg_sort(&c[kept], n - kept);
        kept = n < max ? n : max;
    }

    return kept;
}


/* best first; n is at most efc: an insertion sort would do, this is log */

static int
mt_vg_cmp(const void *a, const void *b)
{
    const mt_vgc_t  *x = a, *y = b;

    if (x->score != y->score) {
        return x->score < y->score ? 1 : -1;
    }

    return (x->slot > y->slot) - (x->slot < y->slot);
}


static void
mt_vg_sort(mt_vgc_t *c, size_t n)
{
    qsort(c, n, sizeof(mt_vgc_t), mt_vg_cmp);
}


/*
 * At the end of a build, after the training: each list's entry (its
 * record nearest the centroid), then every record linked, by as many
 * threads as there are CPUs (each takes the next record): a million
 * records take minutes, not the quarter hour of one thread.  The
 * threads run at a lower priority (nice 10): the service, still serving
 * from the old file, comes first.  A thread links a record against all
 * the others, those not linked yet having empty lists (the zero pages
 * of the new file); a list is written under its stripe's lock.
 */
int
mt_vgraph_build(mt_vindex_t *b, char *err, size_t errlen)
{
    int           rc;
    long          ncpu;
    size_t        i, nt;
    pthread_t     t[MT_VG_THREADS_MAX];
    mt_vg_job_t   job;

    if (b->gdeg == 0) {
        return 0;
    }

    b->hdr->gentry = 0;

    if (mt_vg_entries(b, err, errlen) != 0) {
        return -1;
    }

    memset(&job, 0, sizeof(mt_vg_job_t));
    job.b = b;
    job.n = mt_vcount(b);

    for (i = 0; i < MT_VG_STRIPES; i++) {
        if (pthread_mutex_init(&job.stripes[i], NULL) != 0) {
            while (i-- > 0) {
                (void) pthread_mutex_destroy(&job.stripes[i]);
            }

            mt_verr(err, errlen, "graph: pthread mutex: out of resources");
            return -1;
        }
    }

    b->stripes = job.stripes;

    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    nt = ncpu < 1 ? 1 : ncpu > MT_VG_THREADS_MAX ? MT_VG_THREADS_MAX
                                                  : (size_t) ncpu;
    if (job.n < 1000) {
        nt = 1;
    }

    for (i = 0; i < nt; i++) {
        rc = pthread_create(&t[i], NULL, mt_vg_thread, &job);
        if (rc != 0) {
            break;
        }
    }

    /* no thread at all: this one does it */
    if (i == 0) {
        (void) mt_vg_builder(&job);
    }

    while (i-- > 0) {
        (void) pthread_join(t[i], NULL);
    }

    b->stripes = NULL;

    for (i = 0; i < MT_VG_STRIPES; i++) {
        (void) pthread_mutex_destroy(&job.stripes[i]);
    }

    if (job.stopped) {
        mt_verr(err, errlen, "graph: stopped (the process is exiting)");
        return -1;
    }

    if (job.failed) {
        mt_verr(err, errlen, "graph: out of memory");
        return -1;
    }

    return 0;
}


static void *
mt_vg_thread(void *arg)
{
    /* on Linux the nice value is a thread's own: this one's alone */
    (void) setpriority(PRIO_PROCESS, 0, 10);

    return mt_vg_builder(arg);
}


static void *
mt_vg_builder(void *arg)
{
    mt_vg_job_t  *job = arg;
    int           rc;
    size_t        i;
    mt_vwalk_t   *w;

    w = mt_vwalk_new();
    if (w == NULL) {
        __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
        return NULL;
    }

    for ( ;; ) {
        i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (i >= job->n || __atomic_load_n(&job->failed, __ATOMIC_RELAXED)) {
            break;
        }

        /* every 256 records: a stop is seen within milliseconds */
        if ((i & 255) == 0 && job->b->stop != NULL && job->b->stop()) {
            __atomic_store_n(&job->stopped, 1, __ATOMIC_RELAXED);
            __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
            break;
        }

        rc = mt_vgraph_link(job->b, (uint32_t) i, job->n, w);
        if (rc < 0) {
            __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
            break;
        }

        mt_vgraph_link_back(job->b, (uint32_t) i, w, (size_t) rc);

        if (job->b->progress != NULL) {
            (void) __atomic_add_fetch(job->b->progress, 1, __ATOMIC_RELAXED);
        }
    }

    mt_vwalk_free(w);

    return NULL;
}


/* each list's entry: its live record nearest its centroid */

static int
mt_vg_entries(mt_vindex_t *b, char *err, size_t errlen)
{
    int        rc;
    float     *best, *cs, sc;
    size_t     i, n;
    int16_t   *cq;
    unsigned   j;
    uint32_t   l;

    if (b->nlists == 0) {
        return 0;
    }

    /* written through the mapping: the pages first (no SIGBUS) */
    rc = posix_fallocate(b->fd, (off_t) b->hdr->off_gent,
                         (off_t) (b->nlists * sizeof(uint32_t)));
    if (rc != 0) {
        mt_verr(err, errlen, "fallocate %s: %s", b->tmp, strerror(rc));
        return -1;
    }

    cq = malloc((size_t) b->nlists * b->vstride * sizeof(int16_t));
    cs = malloc((size_t) b->nlists * sizeof(float));
    best = malloc((size_t) b->nlists * sizeof(float));

    if (cq == NULL || cs == NULL || best == NULL) {
        free(cq);
        free(cs);
        free(best);
        mt_verr(err, errlen, "graph: out of memory");
        return -1;
    }

    for (j = 0; j < b->nlists; j++) {
        cs[j] = mt_vquant16(&b->cents[(size_t) j * b->vstride], b->dims,
                            b->vstride, &cq[(size_t) j * b->vstride]);
        best[j] = -INFINITY;
        b->gent[j] = 0;
    }

    n = mt_vcount(b);

    for (i = 0; i < n; i++) {
        if (!b->slots[i].live) {
            continue;
        }

        l = b->slots[i].list % b->nlists;
        sc = (float) mt_vdot(&cq[(size_t) l * b->vstride], mt_vvec(b, i),
                             b->vstride)
             * cs[l] * b->slots[i].scale;

        if (sc > best[l]) {
            best[l] = sc;
            b->gent[l] = (uint32_t) i + 1;
        }
    }

    free(cq);
    free(cs);
    free(best);

    return 0;
}

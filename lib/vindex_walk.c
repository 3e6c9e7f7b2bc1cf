/*
 * The walks of the vector index's graph (see vindex_graph.c for the
 * graph): the beam search that both a search and the linking of a new
 * record do, its sets and heaps, and the first stage of a graph search.
 *
 * A walk keeps two heaps: the records still to expand, best first, and
 * the ef best it met that are live and match the filter, worst first.
 * It expands the best record left until that is worse than the worst of
 * a full set: the walk of HNSW's search_layer.  It goes through records
 * the filter refuses and dead ones (they are ways through), never
 * through a slot at or past the count it started with.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vindex_int.h"


#define MT_VG_SEEDS       4         /* lists whose entries start a walk */
#define MT_VG_SPREAD      32        /* records spread over the file too */
#define MT_VG_VISIT_MAX   (1u << 18) /* records a walk scores at most */
#define MT_VG_SAMPLE      1024      /* records a filter is tried on */
#define MT_VG_FILTER_WALK 64        /* matches an ef worth, for a walk */


static int mt_vg_seen(mt_vwalk_t *w, uint32_t slot);
static void mt_vg_prefetch(const mt_vindex_t *vi, uint32_t slot);
static int mt_vg_reset(mt_vwalk_t *w, size_t ef);
static void mt_vg_push_best(mt_vwalk_t *w, const mt_vgc_t *c);
static int mt_vg_push_todo(mt_vwalk_t *w, const mt_vgc_t *c);
static mt_vgc_t mt_vg_pop_todo(mt_vwalk_t *w);
static size_t mt_vg_filter_sample(const mt_vindex_t *vi,
    const mt_filter_t *f, size_t n);


/* Walks */

/* a record's vector and slot, on their way to the cache */

static void
mt_vg_prefetch(const mt_vindex_t *vi, uint32_t slot)
{
    size_t         o;
    const int8_t  *v;

    v = mt_vvec(vi, slot);

    for (o = 0; o < vi->vstride; o += 64) {
        __builtin_prefetch(v + o);
    }

    __builtin_prefetch(&vi->slots[slot]);
}


mt_vwalk_t *
mt_vwalk_new(void)
{
    return calloc(1, sizeof(mt_vwalk_t));
}


void
mt_vwalk_free(mt_vwalk_t *w)
{
    if (w == NULL) {
        return;
    }

    free(w->seen);
    free(w->todo);
    free(w->best);
    free(w);
}


static int
mt_vg_reset(mt_vwalk_t *w, size_t ef)
{
    void    *p;
    size_t   n;

    if (w->best_cap < ef) {
        p = realloc(w->best, ef * sizeof(mt_vgc_t));
        if (p == NULL) {
            return -1;
        }

        w->best = p;
        w->best_cap = ef;
    }

    /* about what a walk of ef sees: no growth in the common case */
    n = 1024;
    while (n < 64 * ef) {
        n *= 2;
    }

    if (w->seen_mask + 1 < n) {
        free(w->seen);
        w->seen = calloc(n, sizeof(uint32_t));
        if (w->seen == NULL) {
            w->seen_mask = 0;
            return -1;
        }

        w->seen_mask = n - 1;

    } else {
        memset(w->seen, 0, (w->seen_mask + 1) * sizeof(uint32_t));
    }

    w->seen_n = 0;
    w->todo_n = 0;
    w->best_n = 0;

    return 0;
}


/*
 * 1 when slot was seen already, else marks it: 0, or -1 when the set
 * cannot grow (out of memory, or MT_VG_VISIT_MAX reached).
 */
static int
mt_vg_seen(mt_vwalk_t *w, uint32_t slot)
{
    size_t     i, j, n;
    uint32_t  *old, *s, v;

    if (2 * (w->seen_n + 1) > w->seen_mask + 1) {
        if (w->seen_n >= MT_VG_VISIT_MAX) {
            return -1;
        }

        n = 2 * (w->seen_mask + 1);
        s = calloc(n, sizeof(uint32_t));
        if (s == NULL) {
            return -1;
        }

        old = w->seen;

        for (i = 0; i <= w->seen_mask; i++) {
            if (old[i] == 0) {
                continue;
            }

            for (j = (size_t) (uint32_t) (old[i] * 0x9e3779b1u) & (n - 1);
                 s[j]; j = (j + 1) & (n - 1))
            {
                /* void */
            }

            s[j] = old[i];
        }

        free(old);
        w->seen = s;
        w->seen_mask = n - 1;
    }

    v = slot + 1;

    for (i = (size_t) (uint32_t) (v * 0x9e3779b1u) & w->seen_mask;
         w->seen[i];
         i = (i + 1) & w->seen_mask)
    {
        if (w->seen[i] == v) {
            return 1;
        }
    }

    w->seen[i] = v;
    w->seen_n++;

    return 0;
}


/*
 * The beam search: from the seeds, the ef best records that are live
 * and match f (NULL: all) among those below limit, in w->best, a heap
 * with the worst on top.  qf, the query as floats, finds the seeds.
 * -1 when out of memory: what was found is in w->best still.
 */
int
mt_vgraph_walk(const mt_vindex_t *vi, const int16_t *q, float qs,
    const float *qf, const mt_filter_t *f, size_t limit, size_t ef,
    mt_vwalk_t *w)
{
    int              rc;
    size_t           i, n, m;
    uint16_t         top[MT_VG_SEEDS];
    uint32_t         seeds[MT_VG_SEEDS + MT_VG_SPREAD + 1], v, s;
    uint32_t         next[MT_VGDEG_MAX];
    mt_vgc_t         c, d;
    const uint32_t  *l;

    if (mt_vg_reset(w, ef) != 0) {
        return -1;
    }

    n = 0;
    v = __atomic_load_n(&vi->hdr->gentry, __ATOMIC_ACQUIRE);
    if (v != 0 && v <= limit) {
        seeds[n++] = v - 1;
    }

    if (vi->nlists > 0) {
        i = mt_vivf_top(vi, qf, MT_VG_SEEDS, top);

        while (i-- > 0) {
            v = vi->gent[top[i]];
            if (v != 0 && v <= limit) {
                seeds[n++] = v - 1;
            }
        }
    }

    /*
     * Records spread over the file: with no lists the only other way in,
     * and a way into each part of a graph that near duplicates (pruned
     * as redundant) left poorly joined.
     */
    for (i = 0; i < MT_VG_SPREAD && limit > 0; i++) {
        seeds[n++] = (uint32_t) ((2 * i + 1) * limit
                                 / (2 * (size_t) MT_VG_SPREAD));
    }

    for (i = 0; i < n; i++) {
        rc = mt_vg_seen(w, seeds[i]);
        if (rc != 0) {
            if (rc == -1) {
                return -1;
            }

            continue;
        }

        c.slot = seeds[i];
        c.score = mt_vg_score(vi, q, qs, c.slot);

        if (mt_vg_push_todo(w, &c) != 0) {
            return -1;
        }

        if (__atomic_load_n(&vi->slots[c.slot].live, __ATOMIC_ACQUIRE)
            && (f == NULL || mt_filter_match(f, &vi->recs[c.slot].meta)))
        {
            mt_vg_push_best(w, &c);
        }
    }

    while (w->todo_n > 0) {
        c = mt_vg_pop_todo(w);

        if (w->best_n == ef && c.score < w->best[0].score) {
            break;
        }

        l = mt_vg_list(vi, c.slot);

        /*
         * The neighbours not seen yet first, their vectors fetched all
         * at once: past the caches (a million creators) the walk waits
         * on memory, and a dozen loads in flight wait about as one.
         */
        m = 0;

        for (i = 0; i < vi->gdeg; i++) {
            v = __atomic_load_n(&l[i], __ATOMIC_RELAXED);
            if (v == 0) {
                break;
            }

            /* a corrupt or not yet published neighbour is no way */
            s = v - 1;
            if (s >= limit) {
                continue;
            }

            rc = mt_vg_seen(w, s);
            if (rc != 0) {
                if (rc == -1) {
                    return -1;
                }

                continue;
            }

            mt_vg_prefetch(vi, s);
            next[m++] = s;
        }

        for (i = 0; i < m; i++) {
            s = next[i];
            d.slot = s;
            d.score = mt_vg_score(vi, q, qs, s);

            if (w->best_n == ef && d.score < w->best[0].score) {
                continue;
            }

            if (mt_vg_push_todo(w, &d) != 0) {
                return -1;
            }

            if (__atomic_load_n(&vi->slots[s].live, __ATOMIC_ACQUIRE)
                && (f == NULL || mt_filter_match(f, &vi->recs[s].meta)))
            {
                mt_vg_push_best(w, &d);
            }
        }
    }

    return 0;
}


static void
mt_vg_push_best(mt_vwalk_t *w, const mt_vgc_t *c)
{
    size_t    i, p, l;
    mt_vgc_t  t, *h;

    h = w->best;

    if (w->best_n == w->best_cap) {
        if (!(c->score > h[0].score)) {
            return;
        }

        /* the worst replaced, sifted down */
        h[0] = *c;

        for (i = 0; ; i = p) {
            l = 2 * i + 1;
            p = i;

            if (l < w->best_n && h[l].score < h[p].score) {
                p = l;
            }

            if (l + 1 < w->best_n && h[l + 1].score < h[p].score) {
                p = l + 1;
            }

            if (p == i) {
                return;
            }

            t = h[i];
            h[i] = h[p];
            h[p] = t;
        }
    }

    for (i = w->best_n++; i > 0; i = p) {
        p = (i - 1) / 2;

        if (!(c->score < h[p].score)) {
            break;
        }

        h[i] = h[p];
    }

    h[i] = *c;
}


static int
mt_vg_push_todo(mt_vwalk_t *w, const mt_vgc_t *c)
{
    void      *p;
    size_t     i, up;
    mt_vgc_t  *h;

    if (w->todo_n == w->todo_cap) {
        up = w->todo_cap ? 2 * w->todo_cap : 256;
        p = realloc(w->todo, up * sizeof(mt_vgc_t));
        if (p == NULL) {
            return -1;
        }

        w->todo = p;
        w->todo_cap = up;
    }

    h = w->todo;

    for (i = w->todo_n++; i > 0; i = up) {
        up = (i - 1) / 2;

        if (!(c->score > h[up].score)) {
            break;
        }

        h[i] = h[up];
    }

    h[i] = *c;

    return 0;
}


static mt_vgc_t
mt_vg_pop_todo(mt_vwalk_t *w)
{
    size_t     i, l, b;
    mt_vgc_t   top, last, *h;

    h = w->todo;
    top = h[0];
    last = h[--w->todo_n];

    for (i = 0; ; i = b) {
        l = 2 * i + 1;
        if (l >= w->todo_n) {
            break;
        }

        b = l + 1 < w->todo_n && h[l + 1].score > h[l].score ? l + 1 : l;

        if (!(h[b].score > last.score)) {
            break;
        }

        h[i] = h[b];
    }

    if (w->todo_n > 0) {
        h[i] = last;
    }

    return top;
}

/* Searching */

/*
 * The first stage of a graph search: the candidates (live, matching f)
 * to score into the hits, as mt_vsketch_cands() gives them.  0 and *n 0:
 * do an exact search (a filter that admits too few for a walk to find
 * them, out of memory).
 */
size_t
mt_vgraph_cands(const mt_vindex_t *vi, const int16_t *q, float qs,
    const float *qf, const mt_filter_t *f, size_t k, size_t *n,
    uint32_t **cands)
{
    size_t       i, m, ef, limit;
    mt_vwalk_t   w;

    *n = 0;
    *cands = NULL;

    limit = mt_vcount(vi);
    if (limit == 0 || vi->gdeg == 0) {
        return 0;
    }

    ef = vi->ef > k ? vi->ef : k;

    if (f != NULL) {
        m = mt_vg_filter_sample(vi, f, limit);

        /*
         * A walk meets its ef matches among about ef / share records,
         * each costing a dot product and a dozen neighbours; the exact
         * scan checks the filter on every record, and scores the
         * matches.  On the bench the walk wins while the matches number
         * MT_VG_FILTER_WALK times ef or more: a filter of a third at
         * 100,000 creators (0.4 ms walking, 3.4 ms scanning); one of 3%
         * scans there, walks at a million.
         */
        if ((m * limit) / MT_VG_SAMPLE < MT_VG_FILTER_WALK * ef) {
            return 0;
        }
    }

    memset(&w, 0, sizeof(mt_vwalk_t));

    if (mt_vgraph_walk(vi, q, qs, qf, f, limit, ef, &w) != 0) {
        free(w.seen);
        free(w.todo);
        free(w.best);
        return 0;
    }

    free(w.seen);
    free(w.todo);

    m = w.best_n;
    *cands = (uint32_t *) (void *) w.best;

    /* in place: a slot takes no more room than the pair it came from */
    for (i = 0; i < m; i++) {
        (*cands)[i] = w.best[i].slot;
    }

    *n = limit;

    return m;
}


/* how many of MT_VG_SAMPLE records spread over the first n f matches */

static size_t
mt_vg_filter_sample(const mt_vindex_t *vi, const mt_filter_t *f, size_t n)
{
    size_t  i, m;

    m = 0;

    for (i = 0; i < MT_VG_SAMPLE; i++) {
        if (mt_filter_match(f, &vi->recs[(i * n) / MT_VG_SAMPLE].meta)) {
            m++;
        }
    }

    return m;
}


void
mt_vindex_set_ef(mt_vindex_t *vi, unsigned ef)
{
    vi->ef = ef > 0 ? ef : MT_VGRAPH_EF;
}


unsigned
mt_vindex_graph_m(const mt_vindex_t *vi)
{
    return vi->gm;
}

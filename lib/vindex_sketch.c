/*
 * The ternary sketches of the vector index (see vindex.h): a search's
 * first stage, and the search mode of a handle.
 *
 * A record's sketch keeps the sign of its large components only: bit i
 * of the positive half is set when component i of its int8 vector is
 * above MT_VSKETCH_T, of the negative half when below -MT_VSKETCH_T.
 * The query's, the same with a threshold of MT_VSKETCH_QTHR of its
 * largest component.  The score of two sketches is the dot product of
 * the two ternary vectors: the components where both are large with the
 * same sign less those with opposite signs, two popcounts a 64-bit word
 * (the halves of a sketch never share a bit).  On the bench's brief-like
 * queries and 100k made-up creators (bench/vindex_bench.c) the exact
 * top 10 are among the 2000 best sketches 0.97 of the time, 0.95 with
 * 1000; the thresholds were tuned there (30 of 127, 0.2).
 *
 * The best r are chosen without sorting: the scores are small integers
 * (within +-64 words), so a histogram of them gives the lowest score
 * that keeps r, and one pass collects them.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vindex_int.h"


#define MT_VSKETCH_T     30         /* of the int8 vector's +-127 */
#define MT_VSKETCH_QTHR  0.2f       /* of the query's largest |q[i]| */
#define MT_VSKETCH_DEAD  INT16_MIN  /* the score of a dead record */
#define MT_VSKETCH_R     2000       /* records rescored at least */
#define MT_VSKETCH_RK    20         /* records rescored at least a hit */


/*
 * The module is built for the x86-64 baseline, without popcnt: gcc's
 * __builtin_popcountll is then a call to libgcc's table-driven
 * __popcountdi2, about four times slower here.  A clone for CPUs with
 * popcnt, chosen once at load (an ifunc), fixes that.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MT_VPOPCNT  __attribute__((target_clones("popcnt", "default")))
#else
#define MT_VPOPCNT
#endif


/* the sketch scores of a search, and their histogram */
typedef struct {
    int                     top;        /* scores are within +-top */
    size_t                  n;
    int16_t                *scores;     /* n, MT_VSKETCH_DEAD if dead */
    uint32_t               *hist;       /* 2 top + 1, scores after it */
    uint8_t                *seen;       /* n: 0, or the filter's 1 / 2 */
} mt_vsk_t;

#define MT_VSEEN_PASS  1
#define MT_VSEEN_FAIL  2


static int mt_vsketch_score(const mt_vindex_t *vi, const float *q,
    size_t n, mt_vsk_t *sc);
static int mt_vsketch_match(const mt_vindex_t *vi, const mt_filter_t *f,
    mt_vsk_t *sc, uint32_t slot);
static size_t mt_vsketch_all(const mt_vindex_t *vi, const mt_filter_t *f,
    mt_vsk_t *sc, uint32_t **cands);
static size_t mt_vsketch_top(const mt_vsk_t *sc, size_t r,
    uint32_t *cands);
static void mt_vsketch_query(const float *q, unsigned dims, size_t words,
    uint64_t *sk);
static void mt_vsketch_scores(const uint64_t *q, const uint64_t *sk,
    const mt_vslot_t *slots, size_t words, size_t n, int16_t *scores);


void
mt_vindex_set_mode(mt_vindex_t *vi, int mode)
{
    vi->mode = (mode == MT_VSEARCH_EXACT || mode == MT_VSEARCH_IVF
                || mode == MT_VSEARCH_SKETCH || mode == MT_VSEARCH_GRAPH)
               ? mode : MT_VSEARCH_AUTO;
}


void
mt_vsketch_make(const int8_t *v, size_t words, uint64_t *sk)
{
    size_t    i;
    uint64_t  bit;

    memset(sk, 0, 2 * words * sizeof(uint64_t));

    for (i = 0; i < words * 64; i++) {
        bit = (uint64_t) 1 << (i % 64);

        if (v[i] > MT_VSKETCH_T) {
            sk[i / 64] |= bit;

        } else if (v[i] < -MT_VSKETCH_T) {
            sk[words + i / 64] |= bit;
        }
    }
}


/*
 * The best r = max(MT_VSKETCH_R, MT_VSKETCH_RK k) records by sketch;
 * none when there are not twice that many (an exact scan costs little
 * more).
 *
 * A filter is applied to the candidates, and when fewer than r match,
 * deeper ones are taken (the scores kept) so that about r do, up to
 * an eighth of the records: the best matches of a filter rank below the
 * sketch's best (recall@10 0.94 at 33% on the bench's briefs with 2000
 * candidates, 660 matching).  When fewer than r / 2 match even so, the
 * filter is selective (under about 8% at 100k): an exact search it is,
 * over every record the filter matches (*all set), which one pass of
 * the filter over the records finds.
 *
 * The filter runs once a record at most, whatever the depth taken: a
 * filter that matches nothing costs one pass over the records and no
 * vector, and a costly one (issue 8: a $or of 45,000 clauses) is
 * refused by mt_filter_compile() before it gets here.
 */
size_t
mt_vsketch_cands(const mt_vindex_t *vi, const float *q,
    const mt_filter_t *f, size_t k, size_t *n, uint32_t **cands, int *all)
{
    size_t     i, j, m, r, rr, cap, total;
    uint32_t  *c, *nc;
    mt_vsk_t   sc;

    *n = 0;
    *cands = NULL;
    *all = 0;

    total = mt_vcount(vi);
    r = k * MT_VSKETCH_RK;
    r = r > MT_VSKETCH_R ? r : MT_VSKETCH_R;

    if (total <= 2 * r || mt_vsketch_score(vi, q, total, &sc) != 0) {
        return 0;
    }

    /* each record's verdict of the filter, kept across the depths */
    if (f != NULL) {
        sc.seen = calloc(total, 1);
        if (sc.seen == NULL) {
            free(sc.hist);
            return 0;
        }
    }

    cap = total / 8 > 2 * r ? total / 8 : 2 * r;
    c = NULL;
    rr = r;

    for ( ;; ) {
        nc = realloc(c, rr * sizeof(uint32_t));
        if (nc == NULL) {
            j = 0;
            break;
        }

        c = nc;
        m = mt_vsketch_top(&sc, rr, c);

        if (f == NULL) {
            j = m;
            break;
        }

        for (i = 0, j = 0; i < m; i++) {
            if (mt_vsketch_match(vi, f, &sc, c[i])) {
                c[j++] = c[i];
            }
        }

        /*
         * Enough, as deep as allowed, every live record taken, or so few
         * that even as deep as allowed would not be enough.
         */
        if (j >= r || rr >= cap || m < rr || j * cap / rr < r / 2) {
            break;
        }

        rr = j > 0 ? rr * r / j + 1 : cap;
        rr = rr < cap ? rr : cap;
    }

    if (c != NULL && f != NULL && j < r / 2) {
        /* selective: every match, for an exact search of them alone */
        free(c);
        c = NULL;
        j = mt_vsketch_all(vi, f, &sc, &c);
        *all = c != NULL;
    }

    free(sc.hist);
    free(sc.seen);

    if (c == NULL || (j == 0 && !*all)) {
        free(c);
        *all = 0;
        return 0;
    }

    *n = total;
    *cands = c;

    return j;
}


static int
mt_vsketch_match(const mt_vindex_t *vi, const mt_filter_t *f, mt_vsk_t *sc,
    uint32_t slot)
{
    if (sc->seen[slot] == 0) {
        sc->seen[slot] = mt_filter_match(f, &vi->recs[slot].meta)
                         ? MT_VSEEN_PASS : MT_VSEEN_FAIL;
    }

    return sc->seen[slot] == MT_VSEEN_PASS;
}


/*
 * The live records below sc->n that f matches, in slot order, into
 * *cands (NULL: out of memory); their count.  Those the filter already
 * saw are not evaluated again.
 */
static size_t
mt_vsketch_all(const mt_vindex_t *vi, const mt_filter_t *f, mt_vsk_t *sc,
    uint32_t **cands)
{
    size_t     i, m, cap;
    uint32_t  *c, *nc;

    cap = 1024;
    m = 0;

    c = malloc(cap * sizeof(uint32_t));
    if (c == NULL) {
        *cands = NULL;
        return 0;
    }

    for (i = 0; i < sc->n; i++) {
        if (sc->scores[i] == MT_VSKETCH_DEAD
            || !mt_vsketch_match(vi, f, sc, (uint32_t) i))
        {
            continue;
        }

        if (m == cap) {
            cap *= 2;
            nc = realloc(c, cap * sizeof(uint32_t));
            if (nc == NULL) {
                free(c);
                *cands = NULL;
                return 0;
            }

            c = nc;
        }

        c[m++] = (uint32_t) i;
    }

    *cands = c;

    return m;
}


/* q is finite (the search checked it) */

static void
mt_vsketch_query(const float *q, unsigned dims, size_t words, uint64_t *sk)
{
    float     max, a, t;
    unsigned  i;
    uint64_t  bit;

    memset(sk, 0, 2 * words * sizeof(uint64_t));

    max = 0.0f;

    for (i = 0; i < dims; i++) {
        a = fabsf(q[i]);
        max = a > max ? a : max;
    }

    t = MT_VSKETCH_QTHR * max;

    for (i = 0; i < dims; i++) {
        bit = (uint64_t) 1 << (i % 64);

        if (q[i] > t) {
            sk[i / 64] |= bit;

        } else if (q[i] < -t) {
            sk[words + i / 64] |= bit;
        }
    }
}


/*
 * The scratch (n scores and the histogram) is allocated by each call:
 * 200 KB at 100k records, next to a scan of 14 MB.
 */
static int
mt_vsketch_score(const mt_vindex_t *vi, const float *q, size_t n,
    mt_vsk_t *sc)
{
    size_t    i, nh;
    uint64_t  qsk[2 * MT_VDIMS_MAX / 64];

    sc->top = (int) (vi->swords * 64);
    nh = 2 * (size_t) sc->top + 1;

    sc->hist = malloc(nh * sizeof(uint32_t) + n * sizeof(int16_t));
    if (sc->hist == NULL) {
        return -1;
    }

    memset(sc->hist, 0, nh * sizeof(uint32_t));
    sc->scores = (int16_t *) (void *) (sc->hist + nh);
    sc->n = n;
    sc->seen = NULL;

    mt_vsketch_query(q, vi->dims, vi->swords, qsk);
    mt_vsketch_scores(qsk, vi->sketch, vi->slots, vi->swords, n,
                      sc->scores);

    for (i = 0; i < n; i++) {
        if (sc->scores[i] != MT_VSKETCH_DEAD) {
            sc->hist[sc->scores[i] + sc->top]++;
        }
    }

    return 0;
}


/* the r best scored (all live ones when fewer), in slot order */

static size_t
mt_vsketch_top(const mt_vsk_t *sc, size_t r, uint32_t *cands)
{
    int      t;
    size_t   i, m, above;

    /* t: the highest score with at least r at or above it */
    above = 0;

    for (t = sc->top; t > -sc->top; t--) {
        if (above + sc->hist[t + sc->top] >= r) {
            break;
        }

        above += sc->hist[t + sc->top];
    }

    /* all above t, then those at t until r */
    m = 0;

    for (i = 0; i < sc->n; i++) {
        if (sc->scores[i] == MT_VSKETCH_DEAD || sc->scores[i] < t) {
            continue;
        }

        if (sc->scores[i] == t) {
            if (above >= r) {
                continue;
            }

            above++;
        }

        cands[m++] = (uint32_t) i;
    }

    return m;
}


/*
 * A record's live flag is read with acquire order, as in an exact scan:
 * a live record's sketch is complete.  Inlined with words a constant
 * (512 dims: 8) the loop is unrolled and the query kept in registers,
 * instead of reloaded for every record: 1.4 ms for 100k, not 2.1.
 */
static inline __attribute__((always_inline)) void
mt_vsketch_loop(const uint64_t *q, const uint64_t *sk,
    const mt_vslot_t *slots, size_t words, size_t n, int16_t *scores)
{
    int              s;
    size_t           i, w;
    const uint64_t  *x;

    for (i = 0; i < n; i++) {
        if (__atomic_load_n(&slots[i].live, __ATOMIC_ACQUIRE) == 0) {
            scores[i] = MT_VSKETCH_DEAD;
            continue;
        }

        x = sk + i * 2 * words;
        s = 0;

        for (w = 0; w < words; w++) {
            s += __builtin_popcountll((q[w] & x[w])
                                      | (q[words + w] & x[words + w]))
                 - __builtin_popcountll((q[w] & x[words + w])
                                        | (q[words + w] & x[w]));
        }

        scores[i] = (int16_t) s;
    }
}


static void MT_VPOPCNT
mt_vsketch_scores(const uint64_t *q, const uint64_t *sk,
    const mt_vslot_t *slots, size_t words, size_t n, int16_t *scores)
{
    if (words == 8) {
        mt_vsketch_loop(q, sk, slots, 8, n, scores);

    } else {
        mt_vsketch_loop(q, sk, slots, words, n, scores);
    }
}

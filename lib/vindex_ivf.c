/*
 * The inverted file of the vector index (see vindex.h): the approximate
 * search's centroids, their training at the end of a build, the list of
 * a new record and the lists a search probes; and the kernels of the
 * index: the quantisers, the dot products (exact search included).
 *
 * Training is spherical k-means (cosine, centroids of unit length) on a
 * sample of the built records, spread evenly over the slots (over the
 * whole corpus in the store's order, and deterministic), started from
 * records of the sample spread the same way.  A list left
 * empty by an iteration restarts from another sample record.  Then
 * every record is assigned to its nearest centroid.
 *
 * The cost is dots of a record with every centroid: sample x lists x
 * iterations, then records x lists.  The records stay int8, the
 * centroids are quantised to int16 as a query is (vindex_search.c), and
 * four centroids are scored at once so that each record's bytes are
 * widened once per four: integer multiply-adds, vectorised.
 */

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vindex_int.h"


/*
 * A few dozen records a list train its centroid well; more cost time
 * (100k x 512 dims, 256 lists: 1.4 s on one core) for no recall seen
 * in bench/vindex_bench.c.
 */
#define MT_VIVF_MIN_PER_LIST     4      /* fewer records: no lists */
#define MT_VIVF_SAMPLE_PER_LIST  40
#define MT_VIVF_SAMPLE_MAX       20000
#define MT_VIVF_ITERATIONS       8


typedef struct {
    mt_vindex_t            *vi;
    unsigned                lists;
    size_t                  stride;     /* vi->vstride */
    float                  *cents;      /* lists x stride, unit length */
    int16_t                *cq;         /* the same quantised */
    float                  *cs;         /* lists: the scale of each */
    float                  *sums;       /* lists x stride */
    uint32_t               *counts;     /* lists */
    uint32_t               *sample;     /* slots */
    size_t                  nsample;
} mt_vkm_t;


static size_t mt_vkm_sample(mt_vkm_t *km, int pick);
static void mt_vkm_seed(mt_vkm_t *km, unsigned j, uint32_t slot);
static void mt_vkm_iterate(mt_vkm_t *km, unsigned it);
static void mt_vkm_quant(mt_vkm_t *km);
static unsigned mt_vkm_nearest(const mt_vkm_t *km, const int8_t *v);
static void mt_vdot4(const int16_t *c, size_t stride, const int8_t *v,
    int32_t *out);
static float mt_vfdot(const float *a, const float *b, size_t n);
static int mt_vnormalise(float *v, size_t n);


int
mt_vivf_train(mt_vindex_t *b, char *err, size_t errlen)
{
    int        rc;
    size_t     i, n, len;
    ssize_t    w;
    unsigned   j, it;
    mt_vkm_t   km;
    mt_vhdr_t *h;

    h = b->hdr;
    h->nlists = 0;
    b->nlists = 0;
    b->cents = NULL;

    if (h->lists == 0) {
        return 0;
    }

    memset(&km, 0, sizeof(mt_vkm_t));
    km.vi = b;
    km.lists = h->lists;
    km.stride = b->vstride;

    n = mt_vcount(b);
    len = (size_t) km.lists * km.stride;

    km.cents = calloc(len, sizeof(float));
    km.cq = calloc(len, sizeof(int16_t));
    km.sums = calloc(len, sizeof(float));
    km.cs = calloc(km.lists, sizeof(float));
    km.counts = calloc(km.lists, sizeof(uint32_t));

    rc = -1;

    if (km.cents == NULL || km.cq == NULL || km.sums == NULL
        || km.cs == NULL || km.counts == NULL)
    {
        mt_verr(err, errlen, "inverted file: out of memory");
        goto done;
    }

    /* too few records to fill the lists: the file is searched exactly */
    km.nsample = mt_vkm_sample(&km, 0);
    if (km.nsample == 0
        || km.nsample < (size_t) MT_VIVF_MIN_PER_LIST * km.lists)
    {
        rc = 0;
        goto done;
    }

    km.sample = calloc(km.nsample, sizeof(uint32_t));
    if (km.sample == NULL) {
        mt_verr(err, errlen, "inverted file: out of memory");
        goto done;
    }

    (void) mt_vkm_sample(&km, 1);

    for (j = 0; j < km.lists; j++) {
        mt_vkm_seed(&km, j,
                    km.sample[((size_t) j * km.nsample) / km.lists]);
    }

    for (it = 0; it < MT_VIVF_ITERATIONS; it++) {
        mt_vkm_iterate(&km, it);
    }

    mt_vkm_quant(&km);

    /* the dead records too: their list is never read, but it is set */
    for (i = 0; i < n; i++) {
        b->slots[i].list = (uint16_t) mt_vkm_nearest(&km, mt_vvec(b, i));
    }

    /* pwrite, not the mapping: a full disk is an error, not a SIGBUS */
    len *= sizeof(float);
    w = pwrite(b->fd, km.cents, len, (off_t) h->off_cents);
    if (w != (ssize_t) len) {
        mt_verr(err, errlen, "write %s: %s", b->tmp,
                w == -1 ? strerror(errno) : "short write");
        goto done;
    }

    h->nlists = km.lists;
    b->nlists = km.lists;
    b->cents = (const float *) (const void *) (b->base + h->off_cents);
    rc = 0;

done:

    free(km.cents);
    free(km.cq);
    free(km.sums);
    free(km.cs);
    free(km.counts);
    free(km.sample);

    return rc;
}


/*
 * The sample's size, and with pick the sample: of the m records with a
 * vector (live, not all zeros), s spread evenly, record e taken when
 * (e * s) / m steps.
 */
static size_t
mt_vkm_sample(mt_vkm_t *km, int pick)
{
    size_t              i, n, m, e, s, got;
    const mt_vslot_t   *sl;

    n = mt_vcount(km->vi);
    m = 0;

    for (i = 0; i < n; i++) {
        sl = &km->vi->slots[i];
        m += sl->live && sl->scale > 0.0f;
    }

    s = (size_t) MT_VIVF_SAMPLE_PER_LIST * km->lists;
    s = s < MT_VIVF_SAMPLE_MAX ? s : MT_VIVF_SAMPLE_MAX;
    s = s < m ? s : m;

    if (!pick || s == 0) {
        return s;
    }

    got = 0;

    for (i = 0, e = 0; i < n && got < s && got < km->nsample; i++) {
        sl = &km->vi->slots[i];

        if (!sl->live || !(sl->scale > 0.0f)) {
            continue;
        }

        if (((uint64_t) (e + 1) * s) / m > ((uint64_t) e * s) / m) {
            km->sample[got++] = (uint32_t) i;
        }

        e++;
    }

    return got;
}


/* centroid j := the vector of record slot */

static void
mt_vkm_seed(mt_vkm_t *km, unsigned j, uint32_t slot)
{
    float         *c;
    size_t         i;
    const int8_t  *v;

    c = &km->cents[(size_t) j * km->stride];
    v = mt_vvec(km->vi, slot);

    for (i = 0; i < km->stride; i++) {
        c[i] = (float) v[i];
    }

    (void) mt_vnormalise(c, km->stride);
}


/*
 * One step: each sample record to its nearest centroid, each centroid to
 * the normalised mean of its records.  An empty list (or one whose
 * records cancel out) restarts from a record picked by a multiplicative
 * hash of the list and the step, deterministic like the rest.
 */
static void
mt_vkm_iterate(mt_vkm_t *km, unsigned it)
{
    float         *sum, sc;
    size_t         s, i;
    uint32_t       slot;
    unsigned       j;
    const int8_t  *v;

    mt_vkm_quant(km);
    memset(km->sums, 0, (size_t) km->lists * km->stride * sizeof(float));
    memset(km->counts, 0, km->lists * sizeof(uint32_t));

    for (s = 0; s < km->nsample; s++) {
        slot = km->sample[s];
        v = mt_vvec(km->vi, slot);
        sc = km->vi->slots[slot].scale;
        j = mt_vkm_nearest(km, v);
        sum = &km->sums[(size_t) j * km->stride];

        for (i = 0; i < km->stride; i++) {
            sum[i] += (float) v[i] * sc;
        }

        km->counts[j]++;
    }

    for (j = 0; j < km->lists; j++) {
        sum = &km->sums[(size_t) j * km->stride];

        if (km->counts[j] > 0 && mt_vnormalise(sum, km->stride) == 0) {
            memcpy(&km->cents[(size_t) j * km->stride], sum,
                   km->stride * sizeof(float));
            continue;
        }

        s = (size_t) (((uint64_t) j * 2654435761u + (uint64_t) it * 40503u)
                      % km->nsample);
        mt_vkm_seed(km, j, km->sample[s]);
    }
}


/* the centroids as int16 with a scale each, as a query is */

static void
mt_vkm_quant(mt_vkm_t *km)
{
    unsigned  j;

    for (j = 0; j < km->lists; j++) {
        km->cs[j] = mt_vquant16(&km->cents[(size_t) j * km->stride],
                                km->stride, km->stride,
                                &km->cq[(size_t) j * km->stride]);
    }
}


/* the centroid of the best cosine with v, the first one of a tie */

static unsigned
mt_vkm_nearest(const mt_vkm_t *km, const int8_t *v)
{
    float     best, sc;
    int32_t   d[4];
    unsigned  j, i, w;

    best = -INFINITY;
    w = 0;

    for (j = 0; j + 4 <= km->lists; j += 4) {
        mt_vdot4(&km->cq[(size_t) j * km->stride], km->stride, v, d);

        for (i = 0; i < 4; i++) {
            sc = (float) d[i] * km->cs[j + i];
            if (sc > best) {
                best = sc;
                w = j + i;
            }
        }
    }

    for ( /* void */ ; j < km->lists; j++) {
        sc = (float) mt_vdot(&km->cq[(size_t) j * km->stride], v,
                             km->stride)
             * km->cs[j];
        if (sc > best) {
            best = sc;
            w = j;
        }
    }

    return w;
}


/* Using the lists */

unsigned
mt_vindex_lists(const mt_vindex_t *vi)
{
    return vi->nlists;
}


void
mt_vindex_set_nprobe(mt_vindex_t *vi, unsigned nprobe)
{
    vi->nprobe = nprobe;
}


/* the float centroids: the int16 ones were the build's alone */

unsigned
mt_vivf_nearest(const mt_vindex_t *vi, const float *v)
{
    float     best, sc;
    unsigned  j, w;

    best = -INFINITY;
    w = 0;

    for (j = 0; j < vi->nlists; j++) {
        sc = mt_vfdot(v, &vi->cents[(size_t) j * vi->vstride], vi->dims);
        if (sc > best) {
            best = sc;
            w = j;
        }
    }

    return w;
}


/*
 * The k best centroids, kept sorted best first by insertion (ties to
 * the lower list): k is small next to the lists.
 */
unsigned
mt_vivf_top(const mt_vindex_t *vi, const float *q, unsigned k,
    uint16_t *top)
{
    float     sc[MT_VLISTS_MAX];
    unsigned  j, i, n;

    if (k > vi->nlists) {
        k = vi->nlists;
    }

    n = 0;

    for (j = 0; j < vi->nlists && k > 0; j++) {
        sc[j] = mt_vfdot(q, &vi->cents[(size_t) j * vi->vstride], vi->dims);

        if (n == k && !(sc[j] > sc[top[n - 1]])) {
            continue;
        }

        i = n < k ? n++ : n - 1;

        for ( /* void */ ; i > 0 && sc[j] > sc[top[i - 1]]; i--) {
            top[i] = top[i - 1];
        }

        top[i] = (uint16_t) j;
    }

    return n;
}


/* the vi->nprobe best centroids */

void
mt_vivf_probe(const mt_vindex_t *vi, const float *q, uint64_t *bits)
{
    uint16_t  top[MT_VLISTS_MAX];
    unsigned  i, n;

    memset(bits, 0, MT_VLISTS_MAX / 8);

    n = mt_vivf_top(vi, q, vi->nprobe, top);

    for (i = 0; i < n; i++) {
        bits[top[i] / 64] |= (uint64_t) 1 << (top[i] % 64);
    }
}


/* Kernels */

/* scale = max|v| / 127, q = round(v / scale) */

int
mt_vquant(const float *v, unsigned dims, int8_t *q, float *scale)
{
    float     max, a;
    double    inv;
    unsigned  i;
    long      r;

    max = 0.0f;

    for (i = 0; i < dims; i++) {
        if (!isfinite(v[i])) {
            return -1;
        }

        a = fabsf(v[i]);
        if (a > max) {
            max = a;
        }
    }

    /*
     * A zero vector has no direction (cosine is undefined on it, and
     * Pinecone refuses one), and one so small that its scale would not be
     * a normal float would be stored as garbage: both are refused.  The
     * scale is worked out in double, where 127 / max cannot overflow.
     */

    if ((double) max / 127.0 < (double) FLT_MIN) {
        return -1;
    }

    inv = 127.0 / (double) max;

    for (i = 0; i < dims; i++) {
        r = lrint((double) v[i] * inv);
        q[i] = (int8_t) (r > 127 ? 127 : (r < -127 ? -127 : r));
    }

    *scale = (float) ((double) max / 127.0);

    return 0;
}


/*
 * v (n floats) as int16 times the scale returned, zero padded to
 * stride: the largest |v| becomes the largest int16 for which stride
 * products with 127 (a record) still fit in an int32.
 */
float
mt_vquant16(const float *v, size_t n, size_t stride, int16_t *q)
{
    float    max, a, inv;
    size_t   i;
    int32_t  qmax;

    qmax = INT32_MAX / (int32_t) (stride * 127);
    if (qmax > INT16_MAX) {
        qmax = INT16_MAX;
    }

    max = 0.0f;

    for (i = 0; i < n; i++) {
        a = fabsf(v[i]);
        max = a > max ? a : max;
    }

    inv = max > 0.0f ? (float) qmax / max : 0.0f;

    for (i = 0; i < n; i++) {
        q[i] = (int16_t) lrintf(v[i] * inv);
    }

    memset(&q[n], 0, (stride - n) * sizeof(int16_t));

    return max / (float) qmax;
}


/* n is a multiple of 64: no scalar tail runs */

int32_t MT_VDOT_O3 MT_VDOT_AVX2
mt_vdot(const int16_t *q, const int8_t *v, size_t n)
{
    size_t   i;
    int32_t  s;

    s = 0;

    for (i = 0; i < n; i++) {
        s += (int32_t) q[i] * (int32_t) v[i];
    }

    return s;
}


/* four centroids (stride apart) with v, vstride long */

static void MT_VDOT_O3
mt_vdot4(const int16_t *c, size_t stride, const int8_t *v, int32_t *out)
{
    size_t          i;
    int32_t         s0, s1, s2, s3, x;
    const int16_t  *c1, *c2, *c3;

    c1 = c + stride;
    c2 = c1 + stride;
    c3 = c2 + stride;
    s0 = s1 = s2 = s3 = 0;

    for (i = 0; i < stride; i++) {
        x = (int32_t) v[i];
        s0 += (int32_t) c[i] * x;
        s1 += (int32_t) c1[i] * x;
        s2 += (int32_t) c2[i] * x;
        s3 += (int32_t) c3[i] * x;
    }

    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
    out[3] = s3;
}


/*
 * Eight sums: the additions are independent, so the compiler may keep
 * them in vector registers without reordering any float addition.
 */
static float MT_VDOT_O3
mt_vfdot(const float *a, const float *b, size_t n)
{
    float   s[8];
    size_t  i, j;

    memset(s, 0, sizeof(s));

    for (i = 0; i + 8 <= n; i += 8) {
        for (j = 0; j < 8; j++) {
            s[j] += a[i + j] * b[i + j];
        }
    }

    for ( /* void */ ; i < n; i++) {
        s[0] += a[i] * b[i];
    }

    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}


/* -1, v untouched, when it is all zeros */

static int
mt_vnormalise(float *v, size_t n)
{
    size_t  i;
    double  sum;
    float   inv;

    sum = 0.0;

    for (i = 0; i < n; i++) {
        sum += (double) v[i] * v[i];
    }

    if (!(sum > 0.0)) {
        return -1;
    }

    inv = (float) (1.0 / sqrt(sum));

    for (i = 0; i < n; i++) {
        v[i] *= inv;
    }

    return 0;
}

/*
 * The vector index file and handle, shared by vindex.c (the file, its
 * handles, the writer lock, rebuilds), vindex_search.c (the records:
 * writing, finding by id, the search) and vindex_ivf.c (the inverted
 * file, the dot products).  Not for other users: vindex.h is the
 * interface.
 */

#ifndef MT_VINDEX_INT_H
#define MT_VINDEX_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "vindex.h"


#define MT_VMAGIC        "MTVINDX"  /* 8 bytes with its NUL */
#define MT_VVERSION      4u         /* 2: the inverted file, 3: sketches,
                                       4: the graph */
#define MT_VENDIAN       0x01020304u
#define MT_VDIMS_MAX     4096u
#define MT_VPAGE         4096u
#define MT_VPAGE_ALIGN(n) \
    (((n) + MT_VPAGE - 1) & ~(uint64_t) (MT_VPAGE - 1))
#define MT_VNONE         UINT32_MAX
#define MT_VLISTS_MAX    4096u      /* a power of two: see mt_vscan() */
#define MT_VGDEG_MAX     128u       /* a graph's neighbours a record */


/*
 * The header page.  The fields up to model are written once, before the
 * file is renamed into place; the rest are updated with atomics.
 */
typedef struct {
    char                    magic[8];
    uint32_t                version;
    uint32_t                endian;
    uint32_t                dims;
    uint32_t                vstride;    /* bytes per vector */
    uint32_t                slot_size;
    uint32_t                rec_size;
    uint32_t                hdr_size;
    uint32_t                pad;
    uint64_t                capacity;
    uint64_t                off_slots;
    uint64_t                off_vecs;
    uint64_t                off_recs;
    uint64_t                file_size;
    uint64_t                model_epoch;
    uint64_t                off_cents;
    uint64_t                off_sketch;
    uint32_t                swords;     /* 64-bit words a sketch half */
    uint32_t                pad3;
    uint32_t                lists;      /* the room for centroids */
    uint32_t                nlists;     /* trained: 0 (exact) or lists */
    uint64_t                off_graph;  /* capacity x gdeg uint32 */
    uint64_t                off_gent;   /* lists uint32: slot + 1 */
    uint32_t                gdeg;       /* 0: no graph */
    uint32_t                gm;         /* neighbours a new record takes */
    uint32_t                gefc;       /* the width of a link's walk */
    uint32_t                pad4;
    char                    model[MT_VINDEX_MODEL_MAX + 1];

    uint64_t                generation;
    uint64_t                count;      /* records published */
    uint64_t                live;       /* records live */
    uint32_t                replaced;
    uint32_t                gentry;     /* slot + 1 of the first linked */
} mt_vhdr_t;

/* the hot part of a record: what an unfiltered scan reads besides q */
typedef struct mt_vwalk_s  mt_vwalk_t;

/* a record met by a graph walk */
typedef struct {
    float                   score;
    uint32_t                slot;
} mt_vgc_t;

/* a walk's state: the writer's is kept in its handle, a search's not */
struct mt_vwalk_s {
    uint32_t               *seen;       /* open addressing, slot + 1 */
    size_t                  seen_mask;
    size_t                  seen_n;
    mt_vgc_t               *todo;       /* a heap, the best on top */
    size_t                  todo_n;
    size_t                  todo_cap;
    mt_vgc_t               *best;       /* a heap, the worst on top */
    size_t                  best_n;
    size_t                  best_cap;
};

typedef struct {
    uint16_t                live;       /* cleared atomically, once */
    uint16_t                list;       /* its centroid, set before live */
    float                   scale;      /* vector = q * scale */
    uint64_t                id_hash;    /* mt_vid_hash() */
} mt_vslot_t;

typedef struct {
    uint64_t                text_hash;
    mt_meta_t               meta;
    uint32_t                id_len;
    char                    id[MT_VINDEX_ID_MAX + 4];   /* NUL too */
} mt_vrec_t;


struct mt_vindex_s {
    unsigned char          *base;       /* the whole file */
    size_t                  size;
    mt_vhdr_t              *hdr;
    mt_vslot_t             *slots;
    int8_t                 *vecs;
    mt_vrec_t              *recs;
    uint64_t               *sketch;     /* capacity x 2 x swords */
    size_t                  swords;
    const float            *cents;      /* nlists x vstride, or NULL */
    uint32_t               *graph;      /* capacity x gdeg */
    uint32_t               *gent;       /* nlists: each list's entry */
    unsigned                gdeg;
    unsigned                gm;
    unsigned                gefc;
    unsigned                ef;         /* a graph search's width */
    mt_vwalk_t             *walk;       /* the writer's */
    pthread_mutex_t        *stripes;    /* a build's list locks */
    uint64_t               *progress;   /* a build's records linked */
    int                   (*stop)(void);  /* a build's: give up when 1 */
    unsigned                nlists;
    unsigned                nprobe;     /* IVF mode, 0: exact search */
    int                     mode;       /* MT_VSEARCH_*, 0: by size */
    unsigned                dims;
    size_t                  vstride;
    size_t                  capacity;
    int                     fd;
    int                     writer;
    uint64_t                file_dev;   /* the file mapped: stale when */
    uint64_t                file_ino;   /* the path names another */

    /* writers */
    int                     lock_fd;    /* "<path>.lock", own open */
    int                     locked;
    int                     mutex_ok;
    int                     building;   /* fd is tmp, not yet renamed */
    pthread_mutex_t         mutex;
    size_t                  alloc_to;   /* records fallocated below */

    /* id -> newest slot + 1 (0: empty), covering the slots < map_to */
    uint32_t               *map;
    size_t                  map_mask;
    size_t                  map_n;
    size_t                  map_to;

    char                   *path;
    char                   *tmp;        /* "<path>.tmp" */
};


static inline size_t
mt_vcount(const mt_vindex_t *vi)
{
    uint64_t  n;

    /* a corrupt count must not send a reader past the mapping */
    n = __atomic_load_n(&vi->hdr->count, __ATOMIC_ACQUIRE);

    return n < vi->capacity ? (size_t) n : vi->capacity;
}


/* the positive half of a record's sketch, the negative half follows */
static inline uint64_t *
mt_vsk(const mt_vindex_t *vi, size_t slot)
{
    return vi->sketch + slot * 2 * vi->swords;
}


static inline int8_t *
mt_vvec(const mt_vindex_t *vi, size_t slot)
{
    return vi->vecs + slot * vi->vstride;
}


#if defined(__GNUC__)
#define MT_VPRINTF(f, a)  __attribute__((format(printf, f, a)))
#else
#define MT_VPRINTF(f, a)
#endif

/* vsnprintf into err; nothing when err is NULL */
void mt_verr(char *err, size_t errlen, const char *fmt, ...) MT_VPRINTF(3, 4);
uint64_t mt_vid_hash(const char *id, size_t len);

/* a corrupt length must not send a reader past the record */
static inline size_t
mt_vid_len(const mt_vrec_t *r)
{
    return r->id_len <= MT_VINDEX_ID_MAX ? r->id_len : MT_VINDEX_ID_MAX;
}

/*
 * gcc 12 at -O2 (its very cheap cost model) leaves the dot products
 * scalar ("not vectorized: relevant stmt not supported" with
 * -fopt-info-vec-missed); -O3 for those functions makes it 16 bytes
 * at a time with pmaddwd ("loop vectorized using 16 byte vectors").
 */
#if defined(__GNUC__) && !defined(__clang__)
#define MT_VDOT_O3  __attribute__((optimize("O3")))
#else
#define MT_VDOT_O3
#endif

/*
 * The module is built for the x86-64 baseline (SSE2): a clone of the
 * dot product for AVX2, chosen once at load (an ifunc), takes 32 bytes
 * at a time, 30% less time for an exact scan on the bench, 10-25% for a
 * graph walk.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MT_VDOT_AVX2  __attribute__((target_clones("avx2", "default")))
#else
#define MT_VDOT_AVX2
#endif

/*
 * kernels (vindex_ivf.c); n of mt_vdot() a multiple of 64, a vstride.
 * mt_vquant(): a record's int8 vector and scale, -1 when not finite,
 * zero, or too small for its scale to be a normal float.
 */
int mt_vquant(const float *v, unsigned dims, int8_t *q, float *scale);
float mt_vquant16(const float *v, size_t n, size_t stride, int16_t *q);
int32_t mt_vdot(const int16_t *q, const int8_t *v, size_t n);

/* a record's neighbours; its vector as an int16 query; a score */

static inline uint32_t *
mt_vg_list(const mt_vindex_t *vi, size_t slot)
{
    return vi->graph + slot * vi->gdeg;
}


/* a record's int8 vector as the int16 "query" of the kernels */

static inline float
mt_vg_widen(const mt_vindex_t *vi, uint32_t slot, int16_t *q)
{
    size_t         i;
    const int8_t  *v;

    v = mt_vvec(vi, slot);

    for (i = 0; i < vi->vstride; i++) {
        q[i] = (int16_t) v[i];
    }

    return vi->slots[slot].scale;
}


static inline float
mt_vg_score(const mt_vindex_t *vi, const int16_t *q, float qs,
    uint32_t slot)
{
    return (float) mt_vdot(q, mt_vvec(vi, slot), vi->vstride) * qs
           * vi->slots[slot].scale;
}

/*
 * The inverted file (vindex_ivf.c).  Train: at the end of a build, the
 * centroids written and every record given its list (nothing done, 0,
 * with too few records).  Nearest: the list of a new vector (dims
 * floats).  Probe: the vi->nprobe lists nearest to q set in bits
 * (MT_VLISTS_MAX bits).
 */
int mt_vivf_train(mt_vindex_t *b, char *err, size_t errlen);
unsigned mt_vivf_nearest(const mt_vindex_t *vi, const float *v);
void mt_vivf_probe(const mt_vindex_t *vi, const float *q, uint64_t *bits);
/* the numbers of the k lists nearest q in top, best first; how many */
unsigned mt_vivf_top(const mt_vindex_t *vi, const float *q, unsigned k,
    uint16_t *top);

/*
 * The graph (vindex_graph.c).  Build: at the end of a build, after the
 * training.  Link: record x (written, not published) joins the graph of
 * the records below limit, its own list written; the count of the
 * neighbours it chose, or -1 (out of memory).  Link back, once x is
 * published: those neighbours link to it.  Cands: the first stage of a
 * graph search, as mt_vsketch_cands().
 */
int mt_vgraph_build(mt_vindex_t *b, char *err, size_t errlen);
/*
 * The walk (vindex_walk.c): the ef best records that are live and match
 * f (NULL: all) among the slots below limit, into w->best, from the
 * entries of the lists nearest qf (q as floats); -1 out of memory.
 */
int mt_vgraph_walk(const mt_vindex_t *vi, const int16_t *q, float qs,
    const float *qf, const mt_filter_t *f, size_t limit, size_t ef,
    mt_vwalk_t *w);
mt_vwalk_t *mt_vwalk_new(void);
void mt_vwalk_free(mt_vwalk_t *w);
int mt_vgraph_link(mt_vindex_t *vi, uint32_t x, size_t limit, mt_vwalk_t *w);
void mt_vgraph_link_back(mt_vindex_t *vi, uint32_t x, mt_vwalk_t *w,
    size_t n);
size_t mt_vgraph_cands(const mt_vindex_t *vi, const int16_t *q, float qs,
    const float *qf, const mt_filter_t *f, size_t k, size_t *n,
    uint32_t **cands);

/*
 * The ternary sketches (vindex_sketch.c).  Make: the sketch of a record
 * from its int8 vector (words x 64 long, zero padded).  Cands: the
 * first stage of a sketch search for the k best: the records to score
 * exactly (f matches them) in *cands, to be freed, their count
 * returned, *n the records they were chosen from, the first *n; *all
 * set when they are every live record of those that f matches (a
 * selective filter: scoring them all is the exact search, and none
 * means no match).  0 and *n 0: do an exact search (too few records,
 * out of memory).
 */
void mt_vsketch_make(const int8_t *v, size_t words, uint64_t *sk);
size_t mt_vsketch_cands(const mt_vindex_t *vi, const float *q,
    const mt_filter_t *f, size_t k, size_t *n, uint32_t **cands, int *all);

/* the writer's map; the caller holds the lock */
int mt_vmap_sync(mt_vindex_t *vi);
uint32_t mt_vmap_find(const mt_vindex_t *vi, const char *id, size_t id_len);
int mt_vmap_reserve(mt_vindex_t *vi);
uint32_t mt_vmap_set(mt_vindex_t *vi, uint32_t slot);

#endif /* MT_VINDEX_INT_H */

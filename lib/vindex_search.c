/*
 * The records of the vector index (see vindex.h, the file is vindex.c):
 * writing them (upsert, build add), finding them by id (the writer's
 * map, mt_vindex_get) and the search.
 *
 * The exact search scans every published record; the approximate ones
 * the records of the lists nearest to the query (the inverted file,
 * vindex_ivf.c: the slots are all read, 16 bytes each, the vectors of
 * the chosen lists alone) or of the best sketches (vindex_sketch.c).
 * The query is quantised too, to int16 with a scale that keeps the
 * int32 sum from overflowing: the dot product is then integer
 * multiply-adds (pmaddwd), about three times faster than converting the
 * int8 to float, and the query's rounding (1/65534 of its largest
 * component) is far below the records' own.
 */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vindex_int.h"


#define MT_VK_MAX        100        /* hits a search returns at most */
#define MT_VALLOC_CHUNK  1024       /* records fallocated at a time */


typedef struct {
    float                   score;
    uint32_t                slot;
    uint64_t                id_hash;
} mt_vcand_t;

/* the k best so far, a heap with the worst on top */
typedef struct {
    const mt_vindex_t      *vi;
    size_t                  n;
    size_t                  k;
    mt_vcand_t             *h;          /* k entries */
} mt_vheap_t;


static int mt_valloc(mt_vindex_t *vi, size_t slot);
static void mt_vput(mt_vindex_t *vi, size_t slot, const char *id,
    size_t id_len, uint64_t text_hash, const mt_meta_t *meta,
    const int8_t *q, float scale, unsigned list);
static int mt_vsame_id(const mt_vindex_t *vi, uint32_t slot,
    const char *id, size_t id_len);
static void mt_vscan(const mt_vindex_t *vi, const int16_t *q, float qs,
    const mt_filter_t *f, const uint64_t *lists, size_t from, size_t to,
    mt_vheap_t *hp);
static void mt_vscore(const mt_vindex_t *vi, const int16_t *q, float qs,
    const mt_filter_t *f, size_t i, mt_vheap_t *hp);
static void mt_vheap_push(mt_vheap_t *hp, const mt_vcand_t *c);
static int mt_vworse(const mt_vindex_t *vi, const mt_vcand_t *a,
    const mt_vcand_t *b);
static void mt_vsift_up(mt_vheap_t *hp, size_t i);
static void mt_vsift_down(mt_vheap_t *hp, size_t i);


/* Writing */

int
mt_vindex_upsert(mt_vindex_t *vi, const char *id, size_t id_len,
    uint64_t text_hash, const mt_meta_t *meta, const float *vec,
    char *err, size_t errlen)
{
    int         gn;
    int8_t      q[MT_VDIMS_MAX];
    float       scale;
    size_t      n;
    uint32_t    old;
    mt_vhdr_t  *h;

    if (!vi->writer || !vi->locked || vi->building) {
        mt_verr(err, errlen, "vector index not locked for writing");
        return -1;
    }

    if (id_len == 0 || id_len > MT_VINDEX_ID_MAX) {
        mt_verr(err, errlen, "creator id of %zu bytes", id_len);
        return -1;
    }

    h = vi->hdr;

    if (mt_vindex_replaced(vi)) {
        mt_verr(err, errlen, "vector index replaced by a rebuild: reopen");
        return -1;
    }

    if (mt_vquant(vec, vi->dims, q, &scale) != 0) {
        mt_verr(err, errlen, "vector not finite, or zero");
        return -1;
    }

    if (mt_vmap_sync(vi) != 0) {
        mt_verr(err, errlen, "out of memory");
        return -1;
    }

    old = mt_vmap_find(vi, id, id_len);

    /*
     * A record removed (mt_vindex_delete) stays in the map, dead: the id
     * is new again, and its dead record must be neither compared with
     * nor cleared a second time (the live count would drop twice).
     */
    if (old != MT_VNONE
        && __atomic_load_n(&vi->slots[old].live, __ATOMIC_RELAXED) == 0)
    {
        old = MT_VNONE;
    }

    /*
     * The metadata counts too: a changed follower count with the same
     * text must reach the filters.
     */
    if (old != MT_VNONE
        && vi->recs[old].text_hash == text_hash
        && vi->slots[old].scale == scale
        && memcmp(mt_vvec(vi, old), q, vi->dims) == 0
        && memcmp(&vi->recs[old].meta, meta, sizeof(mt_meta_t)) == 0)
    {
        return 0;
    }

    /* only lock holders change it */
    n = (size_t) __atomic_load_n(&h->count, __ATOMIC_RELAXED);

    if (n >= vi->capacity) {
        mt_verr(err, errlen, "index full");
        return -1;
    }

    if (mt_valloc(vi, n) != 0) {
        mt_verr(err, errlen, "fallocate %s: %s", vi->path, strerror(errno));
        return -1;
    }

    /* before anything is written: the map may need memory */
    if (mt_vmap_reserve(vi) != 0) {
        mt_verr(err, errlen, "out of memory");
        return -1;
    }

    mt_vput(vi, n, id, id_len, text_hash, meta, q, scale,
            vi->nlists ? mt_vivf_nearest(vi, vec) : 0);

    /* its own list, before it is published; the others link back after */
    gn = 0;

    if (vi->gdeg > 0) {
        if (vi->walk == NULL) {
            vi->walk = mt_vwalk_new();
        }

        gn = vi->walk ? mt_vgraph_link(vi, (uint32_t) n, n, vi->walk) : -1;
        if (gn < 0) {
            mt_verr(err, errlen, "out of memory");
            return -1;
        }
    }

    (void) mt_vmap_set(vi, (uint32_t) n);

    /*
     * Published first, the old record cleared after it: a reader sees
     * one or the other or both, never none (see mt_vindex_search).
     */
    __atomic_store_n(&h->count, (uint64_t) n + 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&h->live, 1, __ATOMIC_RELEASE);

    if (gn > 0) {
        mt_vgraph_link_back(vi, (uint32_t) n, vi->walk, (size_t) gn);
    }

    if (old != MT_VNONE) {
        __atomic_store_n(&vi->slots[old].live, 0, __ATOMIC_RELEASE);
        __atomic_sub_fetch(&h->live, 1, __ATOMIC_RELEASE);
    }

    vi->map_to = n + 1;
    __atomic_add_fetch(&h->generation, 1, __ATOMIC_RELEASE);

    return 0;
}


/*
 * Marks the live record of id dead: searches skip it from now on, the
 * live count drops and the generation moves.  Under the writer lock, as
 * upsert.  1: removed; 0: not there; -1: err.
 */
int
mt_vindex_delete(mt_vindex_t *vi, const char *id, size_t id_len, char *err,
    size_t errlen)
{
    uint32_t  old;

    if (!vi->writer || !vi->locked || vi->building) {
        mt_verr(err, errlen, "vector index not locked for writing");
        return -1;
    }

    if (mt_vindex_replaced(vi)) {
        mt_verr(err, errlen, "vector index replaced by a rebuild: reopen");
        return -1;
    }

    if (mt_vmap_sync(vi) != 0) {
        mt_verr(err, errlen, "out of memory");
        return -1;
    }

    old = mt_vmap_find(vi, id, id_len);

    if (old == MT_VNONE
        || __atomic_load_n(&vi->slots[old].live, __ATOMIC_RELAXED) == 0)
    {
        return 0;
    }

    __atomic_store_n(&vi->slots[old].live, 0, __ATOMIC_RELEASE);
    __atomic_sub_fetch(&vi->hdr->live, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&vi->hdr->generation, 1, __ATOMIC_RELEASE);

    return 1;
}


/*
 * Allocates the pages of records [slot, slot + chunk) in the four
 * regions: a no-op for the pages already there.
 */
static int
mt_valloc(mt_vindex_t *vi, size_t slot)
{
    int        rc;
    size_t     end;
    mt_vhdr_t *h;

    if (slot < vi->alloc_to) {
        return 0;
    }

    h = vi->hdr;
    end = slot + MT_VALLOC_CHUNK;
    if (end > vi->capacity) {
        end = vi->capacity;
    }

    rc = posix_fallocate(vi->fd, (off_t) (h->off_slots
                                          + slot * sizeof(mt_vslot_t)),
                         (off_t) ((end - slot) * sizeof(mt_vslot_t)));
    if (rc == 0) {
        rc = posix_fallocate(vi->fd, (off_t) (h->off_vecs
                                              + slot * vi->vstride),
                             (off_t) ((end - slot) * vi->vstride));
    }

    if (rc == 0) {
        rc = posix_fallocate(vi->fd, (off_t) (h->off_sketch
                                              + slot * 16 * vi->swords),
                             (off_t) ((end - slot) * 16 * vi->swords));
    }

    if (rc == 0) {
        rc = posix_fallocate(vi->fd, (off_t) (h->off_recs
                                              + slot * sizeof(mt_vrec_t)),
                             (off_t) ((end - slot) * sizeof(mt_vrec_t)));
    }

    if (rc == 0 && vi->gdeg > 0) {
        rc = posix_fallocate(vi->fd,
                             (off_t) (h->off_graph
                                      + slot * vi->gdeg * sizeof(uint32_t)),
                             (off_t) ((end - slot) * vi->gdeg
                                      * sizeof(uint32_t)));
    }

    if (rc != 0) {
        errno = rc;
        return -1;
    }

    vi->alloc_to = end;

    return 0;
}


/* writes record slot, not yet published: no reader looks at it */

static void
mt_vput(mt_vindex_t *vi, size_t slot, const char *id, size_t id_len,
    uint64_t text_hash, const mt_meta_t *meta, const int8_t *q, float scale,
    unsigned list)
{
    mt_vrec_t   *r;
    mt_vslot_t  *s;

    r = &vi->recs[slot];
    r->text_hash = text_hash;
    r->meta = *meta;
    r->id_len = (uint32_t) id_len;
    memcpy(r->id, id, id_len);
    r->id[id_len] = '\0';

    memcpy(mt_vvec(vi, slot), q, vi->dims);
    /* from the file's copy: zero padded to vstride */
    mt_vsketch_make(mt_vvec(vi, slot), vi->swords, mt_vsk(vi, slot));

    s = &vi->slots[slot];
    s->scale = scale;
    s->id_hash = mt_vid_hash(id, id_len);
    s->list = (uint16_t) list;
    s->live = 1;
}


int
mt_vindex_build_add(mt_vindex_t *b, const char *id, size_t id_len,
    uint64_t text_hash, const mt_meta_t *meta, const float *vec)
{
    int8_t  q[MT_VDIMS_MAX];
    float   scale;
    size_t  n;

    if (!b->building || id_len == 0 || id_len > MT_VINDEX_ID_MAX
        || mt_vquant(vec, b->dims, q, &scale) != 0)
    {
        return -1;
    }

    n = (size_t) __atomic_load_n(&b->hdr->count, __ATOMIC_RELAXED);

    if (n >= b->capacity || mt_valloc(b, n) != 0) {
        return -1;
    }

    /* its list is set by the training, at commit */
    mt_vput(b, n, id, id_len, text_hash, meta, q, scale, 0);

    __atomic_store_n(&b->hdr->count, (uint64_t) n + 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&b->hdr->live, 1, __ATOMIC_RELEASE);

    return 0;
}


/* Finding */

/*
 * The writer's map, id -> newest slot, open addressing on the id hash,
 * values slot + 1 (0: empty).  It covers the slots below map_to and
 * catches up with the records other handles appended since: an update
 * always appends, so the last slot seen of an id is its live one.  An
 * earlier record of the id still live is a double left by a crash
 * between the two steps of an upsert, or by a build: cleared here.
 */
int
mt_vmap_sync(mt_vindex_t *vi)
{
    size_t    s, n;
    uint32_t  prev;

    n = mt_vcount(vi);

    for (s = vi->map_to; s < n; s++) {
        if (__atomic_load_n(&vi->slots[s].live, __ATOMIC_RELAXED) == 0) {
            continue;
        }

        if (mt_vmap_reserve(vi) != 0) {
            return -1;
        }

        prev = mt_vmap_set(vi, (uint32_t) s);

        if (prev != MT_VNONE
            && __atomic_load_n(&vi->slots[prev].live, __ATOMIC_RELAXED))
        {
            __atomic_store_n(&vi->slots[prev].live, 0, __ATOMIC_RELEASE);
            __atomic_sub_fetch(&vi->hdr->live, 1, __ATOMIC_RELEASE);
        }

        vi->map_to = s + 1;
    }

    vi->map_to = n;

    return 0;
}


/* the table index of id, or of the empty entry where it would go */

static size_t
mt_vmap_probe(const mt_vindex_t *vi, uint64_t hash, const char *id,
    size_t id_len)
{
    size_t  i;

    for (i = (size_t) hash & vi->map_mask; vi->map[i] != 0;
         i = (i + 1) & vi->map_mask)
    {
        if (vi->slots[vi->map[i] - 1].id_hash == hash
            && mt_vsame_id(vi, vi->map[i] - 1, id, id_len))
        {
            break;
        }
    }

    return i;
}


uint32_t
mt_vmap_find(const mt_vindex_t *vi, const char *id, size_t id_len)
{
    size_t  i;

    if (vi->map == NULL) {
        return MT_VNONE;
    }

    i = mt_vmap_probe(vi, mt_vid_hash(id, id_len), id, id_len);

    return vi->map[i] == 0 ? MT_VNONE : vi->map[i] - 1;
}


/* room for one more id, so that mt_vmap_set() cannot fail */

int
mt_vmap_reserve(mt_vindex_t *vi)
{
    size_t     i, j, size;
    uint32_t  *map, s;

    if (vi->map != NULL && (vi->map_n + 1) * 2 <= vi->map_mask + 1) {
        return 0;
    }

    size = vi->map == NULL ? 1024 : (vi->map_mask + 1) * 2;

    map = calloc(size, sizeof(uint32_t));
    if (map == NULL) {
        return -1;
    }

    for (i = 0; vi->map != NULL && i <= vi->map_mask; i++) {
        if (vi->map[i] == 0) {
            continue;
        }

        s = vi->map[i] - 1;
        for (j = (size_t) vi->slots[s].id_hash & (size - 1); map[j] != 0;
             j = (j + 1) & (size - 1))
        {
            /* void */
        }

        map[j] = vi->map[i];
    }

    free(vi->map);
    vi->map = map;
    vi->map_mask = size - 1;

    return 0;
}


/* points the id of record slot at it; returns its former slot or NONE */

uint32_t
mt_vmap_set(mt_vindex_t *vi, uint32_t slot)
{
    size_t            i;
    uint32_t          prev;
    const mt_vrec_t  *r;

    r = &vi->recs[slot];
    i = mt_vmap_probe(vi, vi->slots[slot].id_hash, r->id, r->id_len);

    if (vi->map[i] == 0) {
        vi->map_n++;
        prev = MT_VNONE;

    } else {
        prev = vi->map[i] - 1;
    }

    vi->map[i] = slot + 1;

    return prev;
}


static int
mt_vsame_id(const mt_vindex_t *vi, uint32_t slot, const char *id,
    size_t id_len)
{
    const mt_vrec_t  *r;

    r = &vi->recs[slot];

    return r->id_len == id_len && memcmp(r->id, id, id_len) == 0;
}


/*
 * Readers have no map: a scan of the id hashes, 8 bytes a record in the
 * hot region, newest first, is fast enough for a few ids a request.
 * When nothing live is found the records published meanwhile are
 * scanned too: the id may have been updated during the scan, its old
 * record cleared after the new one was published (seeing the clear,
 * with acquire order, makes the new count visible).
 */
int
mt_vindex_get(const mt_vindex_t *vi, const char *id, size_t id_len,
    uint64_t *text_hash, float *vec)
{
    size_t         from, n, i, j, s;
    uint64_t       h;
    const int8_t  *q;
    float          scale;

    h = mt_vid_hash(id, id_len);

    for (from = 0; (n = mt_vcount(vi)) > from; from = n) {
        for (i = n; i > from; i--) {
            s = i - 1;

            if (vi->slots[s].id_hash != h
                || __atomic_load_n(&vi->slots[s].live, __ATOMIC_ACQUIRE) == 0
                || !mt_vsame_id(vi, (uint32_t) s, id, id_len))
            {
                continue;
            }

            if (text_hash != NULL) {
                *text_hash = vi->recs[s].text_hash;
            }

            if (vec != NULL) {
                q = mt_vvec(vi, s);
                scale = vi->slots[s].scale;

                for (j = 0; j < vi->dims; j++) {
                    vec[j] = (float) q[j] * scale;
                }
            }

            return 0;
        }
    }

    return -1;
}


const char *
mt_vindex_id(const mt_vindex_t *vi, uint32_t slot, size_t *len)
{
    if (slot >= mt_vcount(vi)) {
        return NULL;
    }

    *len = mt_vid_len(&vi->recs[slot]);

    return vi->recs[slot].id;
}


const mt_meta_t *
mt_vindex_meta(const mt_vindex_t *vi, uint32_t slot)
{
    if (slot >= mt_vcount(vi)) {
        return NULL;
    }

    return &vi->recs[slot].meta;
}


/* The search */

/*
 * k is capped at MT_VK_MAX.  The scan is repeated over the records
 * published while it ran, for the reason given at mt_vindex_get(); it
 * stops as soon as a pass finds nothing new.  An approximate search
 * that found fewer than k (a selective filter, with few of its matches
 * in the lists probed) is done again exactly: it never returns fewer
 * hits than there are matches.  A sketch search covers the records
 * published before it began, the scan those published since.
 */
size_t
mt_vindex_search(const mt_vindex_t *vi, const float *q,
    const mt_filter_t *f, size_t k, mt_vhit_t *out)
{
    int              mode, all;
    int16_t          qi[MT_VDIMS_MAX];
    float            qs;
    size_t           i, from, n, m;
    uint32_t        *sk;
    uint64_t         bits[MT_VLISTS_MAX / 64];
    mt_vheap_t       hp;
    mt_vcand_t       cands[MT_VK_MAX];
    const uint64_t  *lists;

    if (k == 0) {
        return 0;
    }

    for (i = 0; i < vi->dims; i++) {
        if (!isfinite(q[i])) {
            return 0;
        }
    }

    qs = mt_vquant16(q, vi->dims, vi->vstride, qi);

    hp.vi = vi;
    hp.h = cands;
    hp.n = 0;
    hp.k = k < MT_VK_MAX ? k : MT_VK_MAX;

    lists = NULL;
    from = 0;
    all = 0;

    mode = vi->mode;
    if (mode == MT_VSEARCH_AUTO) {
        n = mt_vindex_live(vi);
        mode = n > MT_VSEARCH_AUTO_GRAPH && vi->gdeg > 0 ? MT_VSEARCH_GRAPH
               : n > MT_VSEARCH_AUTO_MIN ? MT_VSEARCH_SKETCH
               : MT_VSEARCH_EXACT;
    }

    if (mode == MT_VSEARCH_GRAPH) {
        /* the candidates match f */
        m = mt_vgraph_cands(vi, qi, qs, q, f, hp.k, &from, &sk);

        for (i = 0; i < m; i++) {
            mt_vscore(vi, qi, qs, NULL, sk[i], &hp);
        }

        free(sk);

    } else if (mode == MT_VSEARCH_SKETCH) {
        /* the candidates match f */
        m = mt_vsketch_cands(vi, q, f, hp.k, &from, &sk, &all);

        for (i = 0; i < m; i++) {
            mt_vscore(vi, qi, qs, NULL, sk[i], &hp);
        }

        free(sk);

    } else if (mode == MT_VSEARCH_IVF
               && vi->nprobe > 0 && vi->nprobe < vi->nlists)
    {
        mt_vivf_probe(vi, q, bits);
        lists = bits;
    }

    /* from > 0: the sketch search covered the records below it */
    m = from;

    for ( /* void */ ; (n = mt_vcount(vi)) > from; from = n) {
        mt_vscan(vi, qi, qs, f, lists, from, n, &hp);
    }

    /*
     * Exact after all: every record scored again (the heap emptied); not
     * when the candidates were every match (all): fewer than k it is.
     */
    if (m > 0 && !all && hp.n < hp.k) {
        hp.n = 0;

        for (from = 0; (n = mt_vcount(vi)) > from; from = n) {
            mt_vscan(vi, qi, qs, f, NULL, from, n, &hp);
        }
    }

    /*
     * Exact after all: the other lists of the records scanned, then
     * every list of those published since, each record scored once.
     */
    if (lists != NULL && hp.n < hp.k) {
        for (i = 0; i < MT_VLISTS_MAX / 64; i++) {
            bits[i] = ~bits[i];
        }

        mt_vscan(vi, qi, qs, f, bits, 0, from, &hp);

        for ( /* void */ ; (n = mt_vcount(vi)) > from; from = n) {
            mt_vscan(vi, qi, qs, f, NULL, from, n, &hp);
        }
    }

    /* the worst comes off the top first: filled in from the end */
    n = hp.n;

    for (i = n; i > 0; i--) {
        out[i - 1].slot = hp.h[0].slot;
        out[i - 1].score = hp.h[0].score;
        hp.h[0] = hp.h[--hp.n];
        mt_vsift_down(&hp, 0);
    }

    return n;
}


/*
 * lists: a bitmap of the lists to scan, NULL for all.  A list number is
 * masked, not checked: a corrupt one may pick the wrong list, never read
 * past the bitmap.
 */
static void
mt_vscan(const mt_vindex_t *vi, const int16_t *q, float qs,
    const mt_filter_t *f, const uint64_t *lists, size_t from, size_t to,
    mt_vheap_t *hp)
{
    size_t             i;
    unsigned           l;

    for (i = from; i < to; i++) {
        if (lists != NULL) {
            l = vi->slots[i].list & (MT_VLISTS_MAX - 1);
            if ((lists[l / 64] & ((uint64_t) 1 << (l % 64))) == 0) {
                continue;
            }
        }

        mt_vscore(vi, q, qs, f, i, hp);
    }
}


/* record i, if live, into the heap */

static void
mt_vscore(const mt_vindex_t *vi, const int16_t *q, float qs,
    const mt_filter_t *f, size_t i, mt_vheap_t *hp)
{
    mt_vcand_t         c;
    const mt_vslot_t  *sl;

    sl = &vi->slots[i];

    if (__atomic_load_n(&sl->live, __ATOMIC_ACQUIRE) == 0) {
        return;
    }

    /*
     * Until the heap is full every match enters it: the filter first, so
     * that the records it refuses cost no dot product (a filter matching
     * nothing: one pass of the filter), and it runs once a record still.
     */
    if (f != NULL && hp->n < hp->k) {
        if (!mt_filter_match(f, &vi->recs[i].meta)) {
            return;
        }

        f = NULL;
    }

    c.score = (float) mt_vdot(q, mt_vvec(vi, i), vi->vstride)
              * qs * sl->scale;

    /* rounding may take a vector equal to q a little past 1 */
    if (c.score > 1.0f) {
        c.score = 1.0f;

    } else if (c.score < -1.0f) {
        c.score = -1.0f;
    }

    if (hp->n == hp->k && c.score < hp->h[0].score) {
        return;
    }

    if (f != NULL && !mt_filter_match(f, &vi->recs[i].meta)) {
        return;
    }

    c.slot = (uint32_t) i;
    c.id_hash = sl->id_hash;
    mt_vheap_push(hp, &c);
}


/*
 * Two records of one id: an update was half done when the scan passed
 * (both live for an instant).  The later slot is the newer: it is the
 * one kept (the scan of an approximate search that falls back to exact
 * is not in slot order).
 */
static void
mt_vheap_push(mt_vheap_t *hp, const mt_vcand_t *c)
{
    size_t  i;

    if (hp->n == hp->k && !mt_vworse(hp->vi, &hp->h[0], c)) {
        return;
    }

    for (i = 0; i < hp->n; i++) {
        if (hp->h[i].id_hash == c->id_hash
            && mt_vsame_id(hp->vi, hp->h[i].slot,
                           hp->vi->recs[c->slot].id,
                           mt_vid_len(&hp->vi->recs[c->slot])))
        {
            if (c->slot < hp->h[i].slot) {
                return;
            }

            hp->h[i] = *c;
            mt_vsift_down(hp, i);
            mt_vsift_up(hp, i);
            return;
        }
    }

    if (hp->n < hp->k) {
        hp->h[hp->n++] = *c;
        mt_vsift_up(hp, hp->n - 1);
        return;
    }

    hp->h[0] = *c;
    mt_vsift_down(hp, 0);
}


/* 1 when a ranks below b: a lower score, or the same and a later id */

static int
mt_vworse(const mt_vindex_t *vi, const mt_vcand_t *a, const mt_vcand_t *b)
{
    int     rc;
    size_t  la, lb;

    if (a->score != b->score) {
        return a->score < b->score;
    }

    la = mt_vid_len(&vi->recs[a->slot]);
    lb = mt_vid_len(&vi->recs[b->slot]);

    rc = memcmp(vi->recs[a->slot].id, vi->recs[b->slot].id,
                la < lb ? la : lb);
    if (rc != 0) {
        return rc > 0;
    }

    return la > lb;
}


static void
mt_vsift_up(mt_vheap_t *hp, size_t i)
{
    size_t      p;
    mt_vcand_t  t;

    while (i > 0) {
        p = (i - 1) / 2;

        if (!mt_vworse(hp->vi, &hp->h[i], &hp->h[p])) {
            break;
        }

        t = hp->h[i];
        hp->h[i] = hp->h[p];
        hp->h[p] = t;
        i = p;
    }
}


static void
mt_vsift_down(mt_vheap_t *hp, size_t i)
{
    size_t      l, w;
    mt_vcand_t  t;

    for ( ;; ) {
        l = 2 * i + 1;
        w = i;

        if (l < hp->n && mt_vworse(hp->vi, &hp->h[l], &hp->h[w])) {
            w = l;
        }

        if (l + 1 < hp->n && mt_vworse(hp->vi, &hp->h[l + 1], &hp->h[w])) {
            w = l + 1;
        }

        if (w == i) {
            return;
        }

        t = hp->h[i];
        hp->h[i] = hp->h[w];
        hp->h[w] = t;
        i = w;
    }
}

/*
 * The vector index (see vindex.h): the file, its handles, the writer
 * lock and rebuilds.  Its records, their writing and the search are in
 * vindex_search.c.
 *
 * File layout, every offset a function of dims and capacity and checked
 * on open:
 *
 *   header     one 4 KiB page (mt_vhdr_t)
 *   slots      capacity x 16 bytes: live flag, scale, id hash
 *   vectors    capacity x vstride int8 (dims rounded up to 64, zero
 *              padded)
 *   sketches   capacity x 2 x vstride / 64 uint64: the ternary sketch
 *              of each vector, positive half then negative half
 *   records    capacity x mt_vrec_t: id, text hash, filter metadata
 *   centroids  lists x vstride floats (zero padded), the inverted file's
 *              (vindex_ivf.c); written once, by the build, if trained
 *
 * each region page-aligned.  The hot part of a record (slot and vector)
 * is apart from the cold part (records, ~0.5 KiB of metadata), so an
 * unfiltered scan streams only the slots and the vectors (or the
 * sketches).  The file is
 * sparse: ftruncate() sizes it for the whole capacity, a page takes disk
 * and memory once a record is written to it.  Pages are allocated with
 * posix_fallocate() before a record is written through the mapping:
 * writing to a hole on a full disk would be a SIGBUS, this is an error.
 *
 * Writer handles must be opened after fork(): the writer lock is an
 * flock() on the handle's own open of "<path>.lock", which a forked copy
 * would share.
 */

#define _DEFAULT_SOURCE  /* flock(); NOLINT(bugprone-reserved-identifier) */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "vindex_int.h"


_Static_assert(sizeof(mt_vhdr_t) <= MT_VPAGE, "the header is one page");
_Static_assert(sizeof(mt_vslot_t) == 16, "slots are 16 bytes");


static mt_vindex_t *mt_vhandle(const char *path, int writer, char *err,
    size_t errlen);
static int mt_vlayout(unsigned dims, size_t capacity, unsigned lists,
    unsigned gdeg,
    mt_vhdr_t *h);
static int mt_vmap(mt_vindex_t *vi, char *err, size_t errlen);
static int mt_vcheck(const mt_vhdr_t *h, off_t size, char *err,
    size_t errlen);
static int mt_vold_open(const char *path, uint64_t *gen);
static int mt_vold_mark(int fd);
static int mt_vsync_dir(const char *path);
static int mt_vflock(int fd, int op);
static int mt_vcommit(mt_vindex_t *b, const char *side_tmp,
    const char *side_path, char *err, size_t errlen);


void
mt_verr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL || errlen == 0) {
        return;
    }

    va_start(args, fmt);
    (void) vsnprintf(err, errlen, fmt, args);
    va_end(args);
}


uint64_t
mt_vid_hash(const char *id, size_t len)
{
    return mt_hash_mix(mt_hash64(id, len, MT_HASH_SEED));
}


mt_vindex_t *
mt_vindex_open(const char *path, const mt_vindex_params_t *p, int writer,
    char *err, size_t errlen)
{
    int           fd;
    mt_vindex_t  *vi;

    for ( ;; ) {
        fd = open(path, (writer ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (fd != -1) {
            break;
        }

        if (errno != ENOENT) {
            mt_verr(err, errlen, "open %s: %s", path, strerror(errno));
            return NULL;
        }

        if (!writer || p == NULL) {
            mt_verr(err, errlen, "no index yet");
            return NULL;
        }

        /*
         * Created as a build of nothing: readers never see a file that
         * is not complete.  Under the lock, another writer may have been
         * first: then open what it made.
         */
        vi = mt_vindex_build_begin(path, p, err, errlen);
        if (vi == NULL) {
            return NULL;
        }

        if (access(path, F_OK) == 0) {
            mt_vindex_build_abort(vi);
            continue;
        }

        if (mt_vindex_build_commit(vi, err, errlen) != 0) {
            mt_vindex_close(vi);
            return NULL;
        }

        return vi;
    }

    vi = mt_vhandle(path, writer, err, errlen);
    if (vi == NULL) {
        (void) close(fd);
        return NULL;
    }

    vi->fd = fd;

    if (mt_vmap(vi, err, errlen) != 0) {
        mt_vindex_close(vi);
        return NULL;
    }

    return vi;
}


/* a handle without a file; a writer's gets its lock file and mutex */

static mt_vindex_t *
mt_vhandle(const char *path, int writer, char *err, size_t errlen)
{
    size_t               len;
    mt_vindex_t         *vi;
    pthread_mutexattr_t  attr;

    len = strlen(path);

    vi = calloc(1, sizeof(mt_vindex_t) + 2 * (len + sizeof(".lock")));
    if (vi == NULL) {
        mt_verr(err, errlen, "out of memory");
        return NULL;
    }

    vi->fd = -1;
    vi->lock_fd = -1;
    vi->writer = writer;
    vi->nprobe = MT_VINDEX_NPROBE;
    vi->ef = MT_VGRAPH_EF;
    vi->path = (char *) (vi + 1);
    vi->tmp = vi->path + len + sizeof(".lock");
    memcpy(vi->path, path, len + 1);
    memcpy(vi->tmp, path, len);
    memcpy(vi->tmp + len, ".tmp", sizeof(".tmp"));

    if (!writer) {
        return vi;
    }

    /* the lock file outlives every rename of the index */
    memcpy(vi->tmp + len, ".lock", sizeof(".lock"));
    vi->lock_fd = open(vi->tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    memcpy(vi->tmp + len, ".tmp", sizeof(".tmp"));

    if (vi->lock_fd == -1) {
        mt_verr(err, errlen, "open %s.lock: %s", path, strerror(errno));
        free(vi);
        return NULL;
    }

    /* error-checking: a second lock from the holding thread fails */
    if (pthread_mutexattr_init(&attr) != 0) {
        goto failed;
    }

    if (pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK) != 0
        || pthread_mutex_init(&vi->mutex, &attr) != 0)
    {
        (void) pthread_mutexattr_destroy(&attr);
        goto failed;
    }

    (void) pthread_mutexattr_destroy(&attr);
    vi->mutex_ok = 1;

    return vi;

failed:

    mt_verr(err, errlen, "pthread mutex: out of resources");
    (void) close(vi->lock_fd);
    free(vi);
    return NULL;
}


/* fills in the layout part of a header; -1 when the sizes overflow */

static int
mt_vlayout(unsigned dims, size_t capacity, unsigned lists, unsigned gdeg,
    mt_vhdr_t *h)
{
    uint64_t  vstride, per, slots, vecs, sks, recs, cents, graph, gent;

    if (dims == 0 || dims > MT_VDIMS_MAX || capacity == 0
        || capacity >= UINT32_MAX || lists > MT_VLISTS_MAX
        || gdeg > MT_VGDEG_MAX)
    {
        return -1;
    }

    vstride = ((uint64_t) dims + 63) & ~(uint64_t) 63;
    per = sizeof(mt_vslot_t) + vstride + vstride / 4 + sizeof(mt_vrec_t)
          + (uint64_t) gdeg * sizeof(uint32_t);

    if ((uint64_t) capacity > (UINT64_MAX / 2) / per) {
        return -1;
    }

    slots = MT_VPAGE_ALIGN((uint64_t) capacity * sizeof(mt_vslot_t));
    vecs = MT_VPAGE_ALIGN((uint64_t) capacity * vstride);
    sks = MT_VPAGE_ALIGN((uint64_t) capacity * (vstride / 4));
    recs = MT_VPAGE_ALIGN((uint64_t) capacity * sizeof(mt_vrec_t));
    cents = MT_VPAGE_ALIGN((uint64_t) lists * vstride * sizeof(float));
    graph = MT_VPAGE_ALIGN((uint64_t) capacity * gdeg * sizeof(uint32_t));
    gent = gdeg ? MT_VPAGE_ALIGN((uint64_t) lists * sizeof(uint32_t)) : 0;

    h->dims = dims;
    h->capacity = capacity;
    h->slot_size = sizeof(mt_vslot_t);
    h->rec_size = sizeof(mt_vrec_t);
    h->vstride = (uint32_t) vstride;
    h->hdr_size = MT_VPAGE;
    h->off_slots = MT_VPAGE;
    h->off_vecs = h->off_slots + slots;
    h->off_sketch = h->off_vecs + vecs;
    h->swords = (uint32_t) (vstride / 64);
    h->off_recs = h->off_sketch + sks;
    h->off_cents = h->off_recs + recs;
    h->lists = lists;
    h->off_graph = h->off_cents + cents;
    h->gdeg = gdeg;
    h->off_gent = h->off_graph + graph;
    h->file_size = h->off_gent + gent;

    /* size_t and off_t must hold it (a 32-bit build) */
    if ((uint64_t) (size_t) h->file_size != h->file_size
        || h->file_size > (uint64_t) INT64_MAX)
    {
        return -1;
    }

    return 0;
}


/* maps vi->fd whole after checking its header and size */

static int
mt_vmap(mt_vindex_t *vi, char *err, size_t errlen)
{
    void          *base;
    ssize_t        n;
    mt_vhdr_t      h;
    struct stat    st;

    if (fstat(vi->fd, &st) != 0) {
        mt_verr(err, errlen, "stat %s: %s", vi->path, strerror(errno));
        return -1;
    }

    n = pread(vi->fd, &h, sizeof(mt_vhdr_t), 0);
    if (n != (ssize_t) sizeof(mt_vhdr_t)) {
        mt_verr(err, errlen, "%s: not a vector index (short file)",
                vi->path);
        return -1;
    }

    if (mt_vcheck(&h, st.st_size, err, errlen) != 0) {
        return -1;
    }

    base = mmap(NULL, (size_t) h.file_size,
                vi->writer ? PROT_READ | PROT_WRITE : PROT_READ,
                MAP_SHARED, vi->fd, 0);
    if (base == MAP_FAILED) {
        mt_verr(err, errlen, "mmap %s: %s", vi->path, strerror(errno));
        return -1;
    }

    vi->base = base;
    vi->size = (size_t) h.file_size;
    vi->hdr = base;
    vi->slots = (mt_vslot_t *) (vi->base + h.off_slots);
    vi->vecs = (int8_t *) (vi->base + h.off_vecs);
    vi->recs = (mt_vrec_t *) (vi->base + h.off_recs);
    vi->sketch = (uint64_t *) (void *) (vi->base + h.off_sketch);
    vi->swords = h.swords;
    vi->nlists = h.nlists;
    vi->cents = h.nlists ? (const float *) (const void *) (vi->base
                                                           + h.off_cents)
                         : NULL;
    vi->gdeg = h.gdeg;
    vi->gm = h.gm;
    vi->gefc = h.gefc;
    vi->graph = h.gdeg ? (uint32_t *) (void *) (vi->base + h.off_graph)
                       : NULL;
    vi->gent = h.gdeg ? (uint32_t *) (void *) (vi->base + h.off_gent)
                      : NULL;
    vi->dims = h.dims;
    vi->vstride = h.vstride;
    vi->capacity = (size_t) h.capacity;
    vi->file_dev = (uint64_t) st.st_dev;
    vi->file_ino = (uint64_t) st.st_ino;

    return 0;
}


static int
mt_vcheck(const mt_vhdr_t *h, off_t size, char *err, size_t errlen)
{
    mt_vhdr_t  want;

    if (memcmp(h->magic, MT_VMAGIC, sizeof(h->magic)) != 0
        || h->endian != MT_VENDIAN)
    {
        mt_verr(err, errlen, "not a vector index (bad magic)");
        return -1;
    }

    if (h->version != MT_VVERSION) {
        mt_verr(err, errlen, "vector index layout version %u, want %u",
                (unsigned) h->version, (unsigned) MT_VVERSION);
        return -1;
    }

    if (h->rec_size != sizeof(mt_vrec_t)
        || h->slot_size != sizeof(mt_vslot_t))
    {
        mt_verr(err, errlen, "vector index record size %u, want %zu "
                "(another build)", (unsigned) h->rec_size,
                sizeof(mt_vrec_t));
        return -1;
    }

    memset(&want, 0, sizeof(mt_vhdr_t));

    if (h->capacity > SIZE_MAX
        || mt_vlayout(h->dims, (size_t) h->capacity, h->lists, h->gdeg,
                      &want) != 0
        || h->vstride != want.vstride || h->hdr_size != want.hdr_size
        || h->off_slots != want.off_slots || h->off_vecs != want.off_vecs
        || h->off_sketch != want.off_sketch || h->swords != want.swords
        || h->off_recs != want.off_recs || h->off_cents != want.off_cents
        || h->off_graph != want.off_graph || h->off_gent != want.off_gent
        || h->file_size != want.file_size || h->nlists > h->lists
        || (h->gdeg != 0 && (h->gm == 0 || h->gm > h->gdeg
                             || h->gefc == 0
                             || h->gefc > MT_VGRAPH_EF_MAX)))
    {
        mt_verr(err, errlen, "corrupt vector index header");
        return -1;
    }

    if ((uint64_t) size != h->file_size) {
        mt_verr(err, errlen, "corrupt vector index: %lld bytes, want %llu",
                (long long) size, (unsigned long long) h->file_size);
        return -1;
    }

    /* not live against count: a writer may be between the two */
    if (memchr(h->model, '\0', sizeof(h->model)) == NULL
        || h->count > h->capacity)
    {
        mt_verr(err, errlen, "corrupt vector index header");
        return -1;
    }

    return 0;
}


void
mt_vindex_close(mt_vindex_t *vi)
{
    if (vi == NULL) {
        return;
    }

    if (vi->building) {
        (void) unlink(vi->tmp);
        vi->building = 0;
    }

    if (vi->locked) {
        mt_vindex_unlock(vi);
    }

    mt_vwalk_free(vi->walk);

    if (vi->base != NULL) {
        (void) munmap(vi->base, vi->size);
    }

    if (vi->fd != -1) {
        (void) close(vi->fd);
    }

    if (vi->lock_fd != -1) {
        (void) close(vi->lock_fd);
    }

    if (vi->mutex_ok) {
        (void) pthread_mutex_destroy(&vi->mutex);
    }

    free(vi->map);
    free(vi);
}


unsigned
mt_vindex_dims(const mt_vindex_t *vi)
{
    return vi->dims;
}


size_t
mt_vindex_capacity(const mt_vindex_t *vi)
{
    return vi->capacity;
}


const char *
mt_vindex_model(const mt_vindex_t *vi)
{
    return vi->hdr->model;
}


uint64_t
mt_vindex_model_epoch(const mt_vindex_t *vi)
{
    return vi->hdr->model_epoch;
}


uint64_t
mt_vindex_generation(const mt_vindex_t *vi)
{
    return __atomic_load_n(&vi->hdr->generation, __ATOMIC_ACQUIRE);
}


size_t
mt_vindex_live(const mt_vindex_t *vi)
{
    return (size_t) __atomic_load_n(&vi->hdr->live, __ATOMIC_RELAXED);
}


size_t
mt_vindex_records(const mt_vindex_t *vi)
{
    return mt_vcount(vi);
}


size_t
mt_vindex_record_size(const mt_vindex_t *vi)
{
    /* the graph's neighbour list too: at M 16, 128 of ~1,300 bytes */
    return sizeof(mt_vslot_t) + vi->vstride + 2 * vi->swords * 8
           + sizeof(mt_vrec_t) + (size_t) vi->gdeg * sizeof(uint32_t);
}


int
mt_vindex_replaced(const mt_vindex_t *vi)
{
    return __atomic_load_n(&vi->hdr->replaced, __ATOMIC_ACQUIRE) != 0;
}


/*
 * The flag is the fast path; a writer killed between its rename and
 * the flag leaves an old file that never gets it, which only the path
 * naming another file (or none) tells.
 */
int
mt_vindex_stale(const mt_vindex_t *vi)
{
    struct stat  st;

    if (mt_vindex_replaced(vi)) {
        return 1;
    }

    if (stat(vi->path, &st) != 0) {
        return errno == ENOENT;
    }

    return (uint64_t) st.st_dev != vi->file_dev
           || (uint64_t) st.st_ino != vi->file_ino;
}


/*
 * Upserts write through the shared mapping: the page cache has them at
 * once, the disk only after this.  A caller that records elsewhere that
 * vectors are in the index (the store's "ready") syncs first.
 */
int
mt_vindex_sync(mt_vindex_t *vi, char *err, size_t errlen)
{
    if (msync(vi->base, vi->size, MS_SYNC) != 0) {
        mt_verr(err, errlen, "msync %s: %s", vi->path, strerror(errno));
        return -1;
    }

    return 0;
}


/* Writers */

/*
 * The mutex orders the threads sharing this handle (they share its open
 * file description, on which a second flock() would just succeed); the
 * flock() orders every other handle, in this process or another.
 */
int
mt_vindex_lock(mt_vindex_t *vi)
{
    int  rc;

    if (!vi->writer) {
        errno = EBADF;
        return -1;
    }

    rc = pthread_mutex_lock(&vi->mutex);
    if (rc != 0) {
        errno = rc;
        return -1;
    }

    if (mt_vflock(vi->lock_fd, LOCK_EX) != 0) {
        (void) pthread_mutex_unlock(&vi->mutex);
        return -1;
    }

    vi->locked = 1;

    return 0;
}


void
mt_vindex_unlock(mt_vindex_t *vi)
{
    if (!vi->locked) {
        return;
    }

    vi->locked = 0;
    (void) mt_vflock(vi->lock_fd, LOCK_UN);
    (void) pthread_mutex_unlock(&vi->mutex);
}


static int
mt_vflock(int fd, int op)
{
    while (flock(fd, op) != 0) {
        if (errno != EINTR) {
            return -1;
        }
    }

    return 0;
}


/* Rebuilds */

mt_vindex_t *
mt_vindex_build_begin(const char *path, const mt_vindex_params_t *p,
    char *err, size_t errlen)
{
    size_t        mlen;
    ssize_t       n;
    int         (*vi_stop)(void);
    uint64_t     *vi_progress;
    mt_vhdr_t     h;
    mt_vindex_t  *vi;

    memset(&h, 0, sizeof(mt_vhdr_t));

    if (p == NULL || p->graph_m > MT_VGRAPH_M_MAX
        || p->graph_efc > MT_VGRAPH_EF_MAX
        || mt_vlayout(p->dims, p->capacity, p->lists, 2 * p->graph_m, &h)
           != 0)
    {
        mt_verr(err, errlen, "vector index parameters: dims must be in "
                "1..%u, capacity in 1..%lu, lists in 0..%u, graph_m in "
                "0..%u, graph_efc in 0..%u and fit in memory",
                MT_VDIMS_MAX, (unsigned long) UINT32_MAX - 1, MT_VLISTS_MAX,
                MT_VGRAPH_M_MAX, MT_VGRAPH_EF_MAX);
        return NULL;
    }

    h.gm = p->graph_m;
    vi_progress = p->graph_progress;
    vi_stop = p->stop;
    h.gefc = p->graph_efc ? p->graph_efc : MT_VGRAPH_EFC;

    mlen = p->model == NULL ? 0 : strlen(p->model);
    if (mlen > MT_VINDEX_MODEL_MAX) {
        mt_verr(err, errlen, "model name longer than %d bytes",
                MT_VINDEX_MODEL_MAX);
        return NULL;
    }

    vi = mt_vhandle(path, 1, err, errlen);
    if (vi == NULL) {
        return NULL;
    }

    if (mt_vindex_lock(vi) != 0) {
        mt_verr(err, errlen, "lock %s.lock: %s", path, strerror(errno));
        mt_vindex_close(vi);
        return NULL;
    }

    vi->fd = open(vi->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (vi->fd == -1) {
        mt_verr(err, errlen, "open %s: %s", vi->tmp, strerror(errno));
        mt_vindex_close(vi);
        return NULL;
    }

    vi->building = 1;

    memcpy(h.magic, MT_VMAGIC, sizeof(h.magic));
    h.version = MT_VVERSION;
    h.endian = MT_VENDIAN;
    h.model_epoch = p->model_epoch;
    h.generation = 1;

    if (mlen > 0) {
        memcpy(h.model, p->model, mlen);
    }

    if (ftruncate(vi->fd, (off_t) h.file_size) != 0
        || (errno = posix_fallocate(vi->fd, 0, MT_VPAGE)) != 0)
    {
        mt_verr(err, errlen, "size %s: %s", vi->tmp, strerror(errno));
        mt_vindex_close(vi);
        return NULL;
    }

    n = pwrite(vi->fd, &h, sizeof(mt_vhdr_t), 0);
    if (n != (ssize_t) sizeof(mt_vhdr_t)) {
        mt_verr(err, errlen, "write %s: %s", vi->tmp,
                n == -1 ? strerror(errno) : "short write");
        mt_vindex_close(vi);
        return NULL;
    }

    if (mt_vmap(vi, err, errlen) != 0) {
        mt_vindex_close(vi);
        return NULL;
    }

    vi->progress = vi_progress;
    vi->stop = vi_stop;

    return vi;
}


/*
 * The inverted file is trained here, before the file is synced and
 * renamed: readers only ever see a file with its centroids and lists
 * complete.  The old file's generation is read before the rename: the
 * new file starts two above it, the old one ends one above it, so that
 * no cache key made from the old file (even by a reader that has not
 * yet seen the replaced flag) can name the new one.
 */
int
mt_vindex_build_commit(mt_vindex_t *b, char *err, size_t errlen)
{
    return mt_vcommit(b, NULL, NULL, err, errlen);
}


int
mt_vindex_build_commit_pair(mt_vindex_t *b, const char *side_tmp,
    const char *side_path, char *err, size_t errlen)
{
    if (side_tmp == NULL || side_path == NULL) {
        mt_verr(err, errlen, "no side file to commit");
        mt_vindex_build_abort(b);
        return -1;
    }

    return mt_vcommit(b, side_tmp, side_path, err, errlen);
}


/*
 * The side file (the embedder state the vectors were made with) was
 * written and synced by the caller.  The index is renamed first: a
 * crash between the two renames leaves the new index beside the old
 * side file, and the new side file still under side_tmp, which the next
 * start renames into place (mt_index_repair()); the other order would
 * leave a new side file with the old index and nothing to serve from.
 */

static int
mt_vcommit(mt_vindex_t *b, const char *side_tmp, const char *side_path,
    char *err, size_t errlen)
{
    int       old;
    uint64_t  gen;

    if (!b->building) {
        mt_verr(err, errlen, "not a vector index build");
        return -1;
    }

    gen = 0;
    old = -1;

    if (mt_vivf_train(b, err, errlen) != 0
        || mt_vgraph_build(b, err, errlen) != 0)
    {
        goto failed;
    }

    old = mt_vold_open(b->path, &gen);

    __atomic_store_n(&b->hdr->generation, gen + 2, __ATOMIC_RELEASE);

    /* written through the mapping: msync is what POSIX makes durable */
    if (msync(b->base, b->size, MS_SYNC) != 0 || fdatasync(b->fd) != 0) {
        mt_verr(err, errlen, "sync %s: %s", b->tmp, strerror(errno));
        goto failed;
    }

    /* both temporary names on disk before either rename */
    if (side_tmp != NULL && mt_vsync_dir(b->path) != 0) {
        mt_verr(err, errlen, "fsync the directory of %s: %s", b->path,
                strerror(errno));
        goto failed;
    }

    mt_vindex_crash_point("index-synced");

    if (rename(b->tmp, b->path) != 0) {
        mt_verr(err, errlen, "rename %s: %s", b->tmp, strerror(errno));
        goto failed;
    }

    b->building = 0;

    if (side_tmp != NULL) {
        mt_vindex_crash_point("index-renamed");

        if (rename(side_tmp, side_path) != 0) {
            /* the next start finds side_tmp and renames it (above) */
            mt_verr(err, errlen, "rename %s: %s", side_tmp, strerror(errno));
            if (old != -1) {
                (void) mt_vold_mark(old);
            }
            mt_vindex_unlock(b);
            return -1;
        }

        mt_vindex_crash_point("pair-renamed");
    }

    if (old != -1 && mt_vold_mark(old) != 0) {
        mt_verr(err, errlen, "%s: rebuilt, but the old file could not be "
                "marked replaced: %s", b->path, strerror(errno));
        mt_vindex_unlock(b);
        return -1;
    }

    if (mt_vsync_dir(b->path) != 0) {
        mt_verr(err, errlen, "%s: rebuilt, but fsync of its directory: %s",
                b->path, strerror(errno));
        mt_vindex_unlock(b);
        return -1;
    }

    mt_vindex_unlock(b);

    return 0;

failed:

    if (old != -1) {
        (void) close(old);
    }

    (void) unlink(b->tmp);
    b->building = 0;
    mt_vindex_unlock(b);

    return -1;
}


void
mt_vindex_build_abort(mt_vindex_t *b)
{
    mt_vindex_close(b);
}


/*
 * One rebuild at a time across processes and threads: every call opens
 * the lock file anew, so two threads of one process conflict too (flock
 * belongs to the open file description).  The kernel drops the lock
 * with the process, however it dies.
 */
int
mt_vindex_rebuild_lock(const char *path, int wait, char *err, size_t errlen)
{
    int   fd, e;
    char  lock[4096];

    if ((size_t) snprintf(lock, sizeof(lock), "%s.rebuild", path)
        >= sizeof(lock))
    {
        mt_verr(err, errlen, "path too long: %s", path);
        errno = ENAMETOOLONG;
        return -1;
    }

    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1) {
        e = errno;
        mt_verr(err, errlen, "open %s: %s", lock, strerror(e));
        errno = e;
        return -1;
    }

    if (mt_vflock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
        e = errno;
        mt_verr(err, errlen, "lock %s: %s", lock, strerror(e));
        (void) close(fd);
        errno = e;
        return -1;
    }

    return fd;
}


void
mt_vindex_rebuild_unlock(int fd)
{
    if (fd != -1) {
        (void) mt_vflock(fd, LOCK_UN);
        (void) close(fd);
    }
}


/*
 * Removes "<path>.tmp" and "<path>.tmp.*": what a writer killed in the
 * middle of a save or a build left behind.  The caller holds whatever
 * lock the writers of those names hold.  Returns the files removed, or
 * -1 when the directory cannot be read.
 */
int
mt_vindex_remove_tmp(const char *path)
{
    int             n;
    DIR            *d;
    char            dir[4096], file[4096];
    size_t          blen;
    const char     *base, *slash;
    struct dirent  *de;

    slash = strrchr(path, '/');
    base = (slash == NULL) ? path : slash + 1;

    if (slash == NULL) {
        memcpy(dir, ".", 2);

    } else if ((size_t) (slash - path) + 1 >= sizeof(dir)) {
        errno = ENAMETOOLONG;
        return -1;

    } else {
        blen = (slash == path) ? 1 : (size_t) (slash - path);
        memcpy(dir, path, blen);
        dir[blen] = '\0';
    }

    d = opendir(dir);
    if (d == NULL) {
        return -1;
    }

    blen = strlen(base);
    n = 0;

    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, base, blen) != 0
            || strncmp(de->d_name + blen, ".tmp", 4) != 0
            || (de->d_name[blen + 4] != '\0' && de->d_name[blen + 4] != '.'))
        {
            continue;
        }

        if ((size_t) snprintf(file, sizeof(file), "%s/%s", dir, de->d_name)
                < sizeof(file)
            && unlink(file) == 0)
        {
            n++;
        }
    }

    (void) closedir(d);

    return n;
}


/* the index's leftover build, under its writer lock: no build is running */
int
mt_vindex_clean_tmp(const char *path)
{
    int           n;
    mt_vindex_t  *vi;

    vi = mt_vhandle(path, 1, NULL, 0);
    if (vi == NULL) {
        return -1;
    }

    if (mt_vindex_lock(vi) != 0) {
        mt_vindex_close(vi);
        return -1;
    }

    n = mt_vindex_remove_tmp(path);

    mt_vindex_close(vi);

    return n;
}


/*
 * For crash tests: a process whose MT_TEST_CRASH_AT names this step
 * kills itself here, as kill -9 would.  Nothing else reads it.
 */
void
mt_vindex_crash_point(const char *step)
{
    const char  *at;

    at = getenv("MT_TEST_CRASH_AT");

    if (at != NULL && strcmp(at, step) == 0) {
        (void) kill(getpid(), SIGKILL);
    }
}


/* the index now at path, if any and valid: its fd and generation */

static int
mt_vold_open(const char *path, uint64_t *gen)
{
    int          fd;
    mt_vhdr_t    h;
    struct stat  st;

    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    if (fstat(fd, &st) != 0
        || pread(fd, &h, sizeof(mt_vhdr_t), 0) != (ssize_t) sizeof(mt_vhdr_t)
        || mt_vcheck(&h, st.st_size, NULL, 0) != 0)
    {
        (void) close(fd);
        return -1;
    }

    /* lock holders alone change it, and this one holds the lock */
    *gen = h.generation;

    return fd;
}


/* closes fd */

static int
mt_vold_mark(int fd)
{
    int         e;
    mt_vhdr_t  *h;

    h = mmap(NULL, MT_VPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (h == MAP_FAILED) {
        e = errno;
        (void) close(fd);
        errno = e;
        return -1;
    }

    __atomic_add_fetch(&h->generation, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&h->replaced, 1, __ATOMIC_RELEASE);

    (void) munmap(h, MT_VPAGE);
    (void) close(fd);

    return 0;
}


/* makes the rename durable */

static int
mt_vsync_dir(const char *path)
{
    int          fd, rc, e;
    char         dir[4096];
    const char  *slash;
    size_t       len;

    slash = strrchr(path, '/');

    if (slash == NULL) {
        memcpy(dir, ".", 2);

    } else {
        len = slash == path ? 1 : (size_t) (slash - path);
        if (len >= sizeof(dir)) {
            errno = ENAMETOOLONG;
            return -1;
        }

        memcpy(dir, path, len);
        dir[len] = '\0';
    }

    fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    rc = fsync(fd);
    e = errno;
    (void) close(fd);
    errno = e;

    return rc;
}

/*
 * The embedded vector index: one file, mapped MAP_SHARED by every nginx
 * worker, so the page cache holds one copy whatever the worker count,
 * and it outlives restarts.  No nginx types.
 *
 * Layout: a header page, then `capacity` fixed-size records, then the
 * centroids of the inverted file (below).  A record is the creator's
 * id, its text hash, its filter metadata (mt_meta_t) and its vector as
 * int8 with one float scale (cosine of unit vectors loses well under 1%
 * that way, at a quarter of the bytes).
 *
 * Readers never lock.  A writer (one at a time across processes: an
 * flock on the file) fills a record past the end, then publishes it by
 * storing the record count with release order; an update appends the new
 * record first and then clears the old one's live flag, so a reader sees
 * the old vector, the new one, or for an instant both (search drops the
 * duplicate).  A rebuild writes "<path>.tmp" and renames it over the
 * path, then marks the old file as replaced: readers see
 * mt_vindex_replaced() (or mt_vindex_stale()) and reopen.
 *
 * The search is exact, approximate with a sketch (below), or
 * approximate with an inverted file (IVF): a
 * file built with lists > 0 holds that many centroids, trained by
 * spherical k-means at the end of the build (mt_vindex_build_commit),
 * and each record holds the number of its nearest centroid, its list;
 * an upsert puts the new record in its nearest list.  A search then
 * scores the query against the centroids and the records of the nprobe
 * nearest lists only.  Centroids are not retrained by upserts: the
 * periodic rebuild does it.
 *
 * The sketch: each record also holds a ternary sketch of its vector,
 * two bits a dimension (above +30 of the int8 vector's +-127: 1 of the
 * positive half; below -30: 1 of the negative half), 128 bytes at 512
 * dims.  A sketch search scores the query's sketch (its components
 * beyond 0.2 of its largest) against every live record's with
 * popcounts, a quarter of the bytes of the vectors, then scores the
 * best max(2000, 20 k) exactly: recall@10 about 0.97 against exact on
 * brief-like queries (bench/vindex_bench.c).
 *
 * The graph (vindex_graph.c): each record also holds the slots of up to
 * 2 graph_m neighbours, chosen as HNSW chooses them in its bottom layer,
 * written at the build and by every upsert.  A graph search walks from
 * the records nearest the centroids nearest the query, keeping the ef
 * best it meets: its cost grows with ef and the log of the records, not
 * with the records.  The walk scores the same int8 vectors as the exact
 * search, so every hit has its exact score.
 */

#ifndef MT_VINDEX_H
#define MT_VINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"


#define MT_VINDEX_ID_MAX    100
#define MT_VINDEX_MODEL_MAX 63

typedef struct mt_vindex_s  mt_vindex_t;

typedef struct {
    unsigned                dims;
    size_t                  capacity;   /* records; the file is sparse */
    const char             *model;      /* "local-tfidf-512", stored */
    uint64_t                model_epoch; /* the embedder state it used */
    /*
     * IVF lists, 0..4096, 0: exact only; about sqrt(records), e.g. 256
     * for 100k.  A build of fewer than 4 records a list trains none:
     * that file is searched exactly.  4 * dims * lists bytes a file.
     */
    unsigned                lists;
    /*
     * The graph: neighbours a new record links to, 0..MT_VGRAPH_M_MAX, 0:
     * none; a record keeps up to twice as many (8 bytes a creator per
     * unit of graph_m).  graph_efc: the width of the walk that links a
     * record, 0: MT_VGRAPH_EFC.
     */
    unsigned                graph_m;
    unsigned                graph_efc;
    /* a build's records linked so far (atomic adds), or NULL */
    uint64_t               *graph_progress;
    /*
     * Asked between records while a build links its graph (minutes for
     * a million), or NULL: nonzero gives the build up, "stopped", so
     * that a process told to exit is not held until the graph is done.
     */
    int                   (*stop)(void);
} mt_vindex_params_t;

#define MT_VGRAPH_M       16
#define MT_VGRAPH_M_MAX   64
#define MT_VGRAPH_EFC     128
#define MT_VGRAPH_EF      128       /* a handle's search width */
#define MT_VGRAPH_EF_MAX  4096

/*
 * Opens path, creating it when missing.  An existing file keeps its own
 * dims, capacity, model and epoch (read them back with the getters: the
 * caller decides whether a rebuild is due).  NULL with the reason in err.
 * writer: also opens for writing (mt_vindex_upsert, mt_vindex_build_*).
 */
mt_vindex_t *mt_vindex_open(const char *path, const mt_vindex_params_t *p,
    int writer, char *err, size_t errlen);
void mt_vindex_close(mt_vindex_t *vi);

unsigned mt_vindex_dims(const mt_vindex_t *vi);
size_t mt_vindex_capacity(const mt_vindex_t *vi);
const char *mt_vindex_model(const mt_vindex_t *vi);
uint64_t mt_vindex_model_epoch(const mt_vindex_t *vi);
/* changes on every upsert and rebuild: part of every match cache key */
uint64_t mt_vindex_generation(const mt_vindex_t *vi);
size_t mt_vindex_live(const mt_vindex_t *vi);       /* distinct creators */
size_t mt_vindex_records(const mt_vindex_t *vi);    /* incl. dead ones */
size_t mt_vindex_record_size(const mt_vindex_t *vi);  /* bytes */
/* 1 once a rebuild renamed another file over this one's path */
int mt_vindex_replaced(const mt_vindex_t *vi);
/*
 * 1 when replaced, or when the path names another file or none (a
 * writer killed before it could set the flag): a stat(), not for every
 * search.
 */
int mt_vindex_stale(const mt_vindex_t *vi);
/* the lists trained in the file: 0 when its searches are all exact */
unsigned mt_vindex_lists(const mt_vindex_t *vi);


/*
 * Writers.  mt_vindex_lock() blocks (call it off the event loop) until
 * this process holds the file's writer lock; upserts and the build need
 * it.  An upsert of an id already present with the same text hash and
 * the same vector is a no-op.  When no free record is left it returns -1
 * with "index full" in err: the caller rebuilds, which drops the dead
 * records.  vec: dims floats, L2-normalised.
 */
int mt_vindex_lock(mt_vindex_t *vi);
void mt_vindex_unlock(mt_vindex_t *vi);
int mt_vindex_upsert(mt_vindex_t *vi, const char *id, size_t id_len,
    uint64_t text_hash, const mt_meta_t *meta, const float *vec,
    char *err, size_t errlen);
/* id's live record marked dead, under the lock: 1, 0 (none) or -1 */
int mt_vindex_delete(mt_vindex_t *vi, const char *id, size_t id_len,
    char *err, size_t errlen);

/*
 * A rebuild: begin creates "<path>.tmp" with p (under the writer lock of
 * path, taken by begin and released by commit or abort), add appends
 * records without any duplicate check, commit renames it over path and
 * marks the old file replaced.  The returned handle is the new index,
 * open for writing; close it after commit.
 */
mt_vindex_t *mt_vindex_build_begin(const char *path,
    const mt_vindex_params_t *p, char *err, size_t errlen);
int mt_vindex_build_add(mt_vindex_t *b, const char *id, size_t id_len,
    uint64_t text_hash, const mt_meta_t *meta, const float *vec);
int mt_vindex_build_commit(mt_vindex_t *b, char *err, size_t errlen);
void mt_vindex_build_abort(mt_vindex_t *b);

/*
 * A commit that publishes a second file with the index, under the same
 * lock: side_tmp (written and synced by the caller) is renamed over
 * side_path just after the index is renamed over its path.  A crash
 * between the two leaves side_tmp in place for the next start to rename
 * (the index records what it goes with).  -1 before the index rename:
 * nothing changed; -1 after it: side_tmp is left for that repair.
 */
int mt_vindex_build_commit_pair(mt_vindex_t *b, const char *side_tmp,
    const char *side_path, char *err, size_t errlen);

/*
 * Makes the upserts so far durable (msync): before anything outside the
 * index records that the vectors are there.
 */
int mt_vindex_sync(mt_vindex_t *vi, char *err, size_t errlen);

/*
 * One rebuild at a time across every process and thread: an flock of
 * "<path>.rebuild", taken before a rebuild reads anything and held to
 * its end.  wait 0: -1 with errno EWOULDBLOCK at once when another holds
 * it.  Returns the lock's fd for mt_vindex_rebuild_unlock().  A process
 * that dies lets go of it.
 */
int mt_vindex_rebuild_lock(const char *path, int wait, char *err,
    size_t errlen);
void mt_vindex_rebuild_unlock(int fd);

/*
 * Leftovers of a process killed mid-write: remove_tmp removes
 * "<path>.tmp" and "<path>.tmp.*" (the caller holds the lock of their
 * writers); clean_tmp does it for an index's build, under its writer
 * lock.  The count removed, or -1.
 */
int mt_vindex_remove_tmp(const char *path);
int mt_vindex_clean_tmp(const char *path);

/*
 * Crash tests: kills the process (SIGKILL) when the environment
 * variable MT_TEST_CRASH_AT is step.  The steps of a rebuild, in order:
 * "rebuild-locked", "idf-written", "index-built", "index-synced",
 * "index-renamed", "pair-renamed", "committed"; of a sync batch:
 * "sync-upserted", "sync-synced".
 */
void mt_vindex_crash_point(const char *step);


/* Readers. */

typedef struct {
    uint32_t                slot;
    float                   score;      /* cosine, in [-1, 1] */
} mt_vhit_t;

#define MT_VINDEX_NPROBE  16        /* the default of a handle */

/*
 * The search of a handle.  AUTO, the default: GRAPH when the file has
 * a graph and more than MT_VSEARCH_AUTO_GRAPH live records at the
 * search, else SKETCH above MT_VSEARCH_AUTO_MIN, EXACT below (an exact
 * scan of that few is cheap).  EXACT: every live record scored.  IVF:
 * the lists of nprobe (below).  SKETCH: the sketches of every live
 * record, then the best of them exactly.  GRAPH: the walk of width ef
 * (mt_vindex_set_ef), exact in a file without a graph.  The mode set
 * wins: nprobe matters in IVF mode alone, ef in GRAPH mode.  Not to be
 * changed while a search runs; an unknown mode is AUTO.
 */
#define MT_VSEARCH_AUTO      0
#define MT_VSEARCH_EXACT     1
#define MT_VSEARCH_IVF       2
#define MT_VSEARCH_SKETCH    3
#define MT_VSEARCH_GRAPH     4
#define MT_VSEARCH_AUTO_MIN  4096
#define MT_VSEARCH_AUTO_GRAPH 20000

void mt_vindex_set_mode(mt_vindex_t *vi, int mode);

/*
 * The lists an IVF search of this handle probes: 0 for an exact search,
 * every record scored; at least the file's lists, the same.  Default
 * MT_VINDEX_NPROBE.  Not to be changed while a search runs; no effect
 * in another mode.
 */
void mt_vindex_set_nprobe(mt_vindex_t *vi, unsigned nprobe);

/*
 * The width of a graph search: the best ef records found by the walk
 * are the candidates (at least k).  0: MT_VGRAPH_EF.  Not to be changed
 * while a search runs.
 */
void mt_vindex_set_ef(mt_vindex_t *vi, unsigned ef);
/* the graph_m the file was built with, 0 when it has no graph */
unsigned mt_vindex_graph_m(const mt_vindex_t *vi);

/*
 * The k best live records by cosine with q (dims floats, unit length)
 * among those f matches (f NULL: all), best first, ties by id; returns
 * how many were written to out (at most k).  Exact in EXACT mode, and
 * in IVF mode when the handle's nprobe is 0 or the file has no lists:
 * every live record is scored.  IVF otherwise: the records of the
 * nprobe lists nearest to q.  SKETCH: the records of the best sketches
 * that f matches, taken deeper for a filter (up to an eighth of the
 * records); exact when too few match even so (a filter of under about
 * 8%: a selective filter costs an exact scan).  GRAPH: the ef best
 * matches of f the walk meets (it goes through the records f refuses);
 * exact when a sample of the records says f admits fewer than 64 ef,
 * as the scan then costs less than the walk.  When an approximate
 * search finds fewer than k matches of f it is done again exactly, so
 * fewer than k hits always means fewer than k matches.
 */
size_t mt_vindex_search(const mt_vindex_t *vi, const float *q,
    const mt_filter_t *f, size_t k, mt_vhit_t *out);

const char *mt_vindex_id(const mt_vindex_t *vi, uint32_t slot,
    size_t *len);
const mt_meta_t *mt_vindex_meta(const mt_vindex_t *vi, uint32_t slot);
/* the live record of id: 0 and its text hash (vec may be NULL), or -1 */
int mt_vindex_get(const mt_vindex_t *vi, const char *id, size_t id_len,
    uint64_t *text_hash, float *vec);

#endif /* MT_VINDEX_H */

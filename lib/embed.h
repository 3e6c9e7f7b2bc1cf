/*
 * A local text embedder: deterministic, nothing downloaded.  Hashed word
 * unigrams, word bigrams and character 3/4-grams, sublinear TF times an
 * IDF learnt from a corpus, L2-normalised.  No nginx types.
 *
 * Use: mt_embedder_new(), mt_embedder_add_doc() once per corpus document,
 * mt_embedder_freeze(), then mt_embed() from any number of threads (it
 * only reads the embedder).  Before the freeze every IDF is 1; after it
 * log((1 + N) / (1 + df)) + 1 over the N documents, and 1 for a feature
 * no document has (it can only add collision noise against the corpus).
 *
 * Text: ASCII lowercased, words split on ASCII non-alphanumerics (UTF-8
 * bytes count as letters), a short English stopword list and words of
 * one byte dropped, light suffix stripping.  Same dims, seed and corpus:
 * same vectors, on any machine with IEEE floats.
 */

#ifndef MT_EMBED_H
#define MT_EMBED_H

#include <stddef.h>
#include <stdint.h>


#define MT_EMBED_DIMS_MIN  64
#define MT_EMBED_DIMS_MAX  4096

typedef struct mt_embedder_s  mt_embedder_t;

/* dims in [MT_EMBED_DIMS_MIN, MT_EMBED_DIMS_MAX]; NULL if not or no memory */
mt_embedder_t *mt_embedder_new(unsigned dims, uint64_t seed);
void mt_embedder_free(mt_embedder_t *e);
unsigned mt_embedder_dims(const mt_embedder_t *e);
/* the documents its IDF was learnt from */
size_t mt_embedder_ndocs(const mt_embedder_t *e);

/*
 * Counts the document's distinct features for the IDF.  Returns 0, or -1
 * when frozen or out of memory (the counts may then be partly updated).
 * Past 1M distinct features new ones are not counted: they get the IDF of
 * an unseen feature.
 */
int mt_embedder_add_doc(mt_embedder_t *e, const char *text, size_t len);
void mt_embedder_freeze(mt_embedder_t *e);

/*
 * Writes dims floats to out, L2-normalised.  Every non-empty text gets a
 * non-zero vector: one without any word kept (one letter, stopwords,
 * punctuation) gets a fallback made of its bytes' trigrams; the empty
 * text gives all zeros.  Returns 0, or -1 when out of memory (out is
 * then zeros).
 */
int mt_embed(const mt_embedder_t *e, const char *text, size_t len,
    float *out);

/*
 * A frozen embedder's state (dims, seed, IDF) as a file, so that every
 * process embeds alike and the vectors of an index stay comparable with
 * new ones after a restart.  Save writes "<path>.tmp.<pid>", syncs it
 * and renames it over path (readers never see half a file); epoch names
 * the state.  Write writes and syncs path itself, no rename: a caller
 * that publishes the state with something else renames it (indexer.c).  Map opens a saved state read-only and shared: the IDF table is
 * not copied, every process that maps it shares one copy.  Both block:
 * call them off the event loop, or at start-up.  0 / NULL with err.
 */
int mt_embedder_save(const mt_embedder_t *e, const char *path,
    uint64_t epoch, char *err, size_t errlen);
int mt_embedder_write(const mt_embedder_t *e, const char *path,
    uint64_t epoch, char *err, size_t errlen);
mt_embedder_t *mt_embedder_map(const char *path, uint64_t *epoch,
    char *err, size_t errlen);

#endif /* MT_EMBED_H */

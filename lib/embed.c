/*
 * The local embedder (see embed.h).  Every feature is a seeded 64-bit
 * hash; the vector index and the sign come from that hash (feature
 * hashing with a sign bit, so collisions cancel on average instead of
 * piling up).  Document frequencies are kept per feature hash, not per
 * vector index, so a collision in the vector does not blur the IDF.
 */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "embed.h"
#include "util.h"


#define MT_WORD_MAX      64         /* bytes of a word kept, longer cut */
#define MT_DF_MAX        (1u << 20) /* distinct features counted */

#define MT_W_UNI         1.0f
#define MT_W_BI          0.5f
#define MT_W_GRAM        0.3f

/* distinct tags so that "ab" the word and "ab" the n-gram differ */
#define MT_K_WORD        0x9e3779b97f4a7c15ULL
#define MT_K_BI          0xc2b2ae3d27d4eb4fULL
#define MT_K_GRAM        0x165667b19e3779f9ULL
#define MT_K_STOP        0x27d4eb2f165667c5ULL
#define MT_K_RAW         0x85ebca77c2b2ae63ULL

#define MT_STOP_SLOTS    256


/* one slot in one cache line access: key and counts together */
typedef struct {
    uint64_t                key;        /* 0: empty */
    float                   cnt;        /* occurrences */
    float                   wsum;       /* sum of their weights */
} mt_feat_t;

typedef struct {
    mt_feat_t              *slots;
    size_t                  mask;
} mt_feats_t;


struct mt_embedder_s {
    unsigned                dims;
    uint64_t                seed;
    uint64_t                stop[MT_STOP_SLOTS];

    uint64_t               *df_keys;    /* open addressing, 0: empty */
    uint32_t               *df;
    float                  *idf;        /* after the freeze */
    size_t                  df_mask;
    size_t                  df_n;

    uint32_t                ndocs;
    int                     frozen;

    void                   *map;        /* mt_embedder_map(): the file */
    size_t                  map_len;
};


/* the saved state: this header, then the keys, then the IDFs */
#define MT_EMBED_MAGIC  "MTEMBED1"

typedef struct {
    char                    magic[8];
    uint32_t                dims;
    uint32_t                ndocs;
    uint64_t                seed;
    uint64_t                epoch;
    uint64_t                slots;      /* 0, or a power of two */
} mt_embed_file_t;


static int mt_word_char(unsigned char c);
static int mt_stopword(const mt_embedder_t *e, const unsigned char *w,
    size_t n);
static size_t mt_stem(unsigned char *w, size_t n);
static int mt_features(const mt_embedder_t *e, const char *text, size_t len,
    mt_feats_t *f);
static void mt_word(const mt_embedder_t *e, mt_feats_t *f,
    unsigned char *w, size_t n, uint64_t *prev);
static void mt_feat_add(mt_feats_t *f, uint64_t key, float w);
static void mt_feats_free(mt_feats_t *f);
static void mt_embed_raw(const mt_embedder_t *e, const char *text,
    size_t len, float *out);
static double mt_norm(const float *v, unsigned dims);
static unsigned char mt_lower(unsigned char c);
static int mt_df_grow(mt_embedder_t *e);
static void mt_df_inc(mt_embedder_t *e, uint64_t key);
static int mt_write_all(int fd, const void *buf, size_t len);


/*
 * A small English list: these words say nothing about the topic and
 * would otherwise dominate the bigrams.
 */
static const char  *mt_stopwords[] = {
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can",
    "do", "does", "for", "from", "had", "has", "have", "he", "her", "his",
    "how", "i", "if", "in", "into", "is", "it", "its", "just", "me", "my",
    "no", "not", "of", "on", "or", "our", "she", "so", "than", "that",
    "the", "their", "them", "then", "there", "these", "they", "this",
    "to", "up", "us", "was", "we", "were", "what", "when", "which", "who",
    "why", "will", "with", "you", "your", "more", "most", "very", "also",
    "any", "all", "about", "after", "before", "over", "out", "only",
    "even", "while", "where", "would", "could", "should", "some", "such",
    NULL
};


mt_embedder_t *
mt_embedder_new(unsigned dims, uint64_t seed)
{
    size_t          i, n, j;
    uint64_t        h;
    mt_embedder_t  *e;

    if (dims < MT_EMBED_DIMS_MIN || dims > MT_EMBED_DIMS_MAX) {
        return NULL;
    }

    e = calloc(1, sizeof(mt_embedder_t));
    if (e == NULL) {
        return NULL;
    }

    e->dims = dims;
    e->seed = seed;

    /* the stopwords as hashes: one probe per word instead of a scan */
    for (i = 0; mt_stopwords[i] != NULL; i++) {
        n = strlen(mt_stopwords[i]);
        h = mt_hash_mix(mt_hash64(mt_stopwords[i], n, MT_K_STOP));
        h |= 1;

        for (j = h; e->stop[j % MT_STOP_SLOTS] != 0; j++) {
            /* void */
        }

        e->stop[j % MT_STOP_SLOTS] = h;
    }

    return e;
}


void
mt_embedder_free(mt_embedder_t *e)
{
    if (e == NULL) {
        return;
    }

    if (e->map != NULL) {
        (void) munmap(e->map, e->map_len);

    } else {
        free(e->df_keys);
        free(e->idf);
    }

    free(e->df);
    free(e);
}


unsigned
mt_embedder_dims(const mt_embedder_t *e)
{
    return e->dims;
}


size_t
mt_embedder_ndocs(const mt_embedder_t *e)
{
    return e->ndocs;
}


int
mt_embedder_add_doc(mt_embedder_t *e, const char *text, size_t len)
{
    size_t      i;
    mt_feats_t  f;

    if (e->frozen) {
        return -1;
    }

    if (mt_features(e, text, len, &f) != 0) {
        return -1;
    }

    e->ndocs++;

    for (i = 0; i <= f.mask; i++) {
        if (f.slots[i].key == 0) {
            continue;
        }

        if (e->df_n * 2 >= e->df_mask && e->df_n < MT_DF_MAX) {
            if (mt_df_grow(e) != 0) {
                mt_feats_free(&f);
                return -1;
            }
        }

        mt_df_inc(e, f.slots[i].key);
    }

    mt_feats_free(&f);

    return 0;
}


void
mt_embedder_freeze(mt_embedder_t *e)
{
    size_t  i;
    double  n;

    if (e->frozen) {
        return;
    }

    e->frozen = 1;
    n = (double) e->ndocs;

    if (e->df_keys == NULL) {
        return;
    }

    /* without memory every IDF stays 1: worse ranking, still working */
    e->idf = malloc((e->df_mask + 1) * sizeof(float));
    if (e->idf == NULL) {
        return;
    }

    for (i = 0; i <= e->df_mask; i++) {
        e->idf[i] = (float) (log((1.0 + n) / (1.0 + e->df[i])) + 1.0);
    }
}


int
mt_embed(const mt_embedder_t *e, const char *text, size_t len, float *out)
{
    size_t      i, j;
    float       v, idf;
    double      norm;
    uint64_t    key;
    unsigned    b;
    mt_feats_t  f;

    memset(out, 0, e->dims * sizeof(float));

    if (mt_features(e, text, len, &f) != 0) {
        return -1;
    }

    for (i = 0; i <= f.mask; i++) {
        key = f.slots[i].key;
        if (key == 0) {
            continue;
        }

        /*
         * A feature no corpus document has cannot be evidence for any of
         * them, only noise where it collides with theirs in the vector: it
         * gets the smallest IDF, that of a feature in every document, not
         * the largest.
         */
        idf = 1.0f;

        if (e->idf != NULL) {
            for (j = key & e->df_mask; e->df_keys[j] != 0;
                 j = (j + 1) & e->df_mask)
            {
                if (e->df_keys[j] == key) {
                    idf = e->idf[j];
                    break;
                }
            }
        }

        /*
         * A state file that is not ours (a zero, negative or NaN IDF)
         * must not zero or poison the vector: such a feature counts as
         * one no document has.
         */
        if (!isfinite(idf) || idf <= 0.0f) {
            idf = 1.0f;
        }

        /* sublinear TF times the mean weight of the occurrences */
        v = f.slots[i].wsum * idf;
        if (f.slots[i].cnt > 1.0f) {
            v = (1.0f + logf(f.slots[i].cnt)) * (v / f.slots[i].cnt);
        }

        /* high bits for the index, the lowest one for the sign */
        b = (unsigned) (((key >> 32) * e->dims) >> 32);
        out[b] += (key & 1) ? -v : v;
    }

    mt_feats_free(&f);

    norm = mt_norm(out, e->dims);

    /*
     * No word survived (one letter, stopwords, punctuation, digits), or
     * the signed features cancelled out: cosine is undefined on a zero
     * vector and Pinecone refuses one, so every non-empty text gets the
     * fallback instead.  It depends on the bytes alone, so it is as
     * deterministic as the rest.
     */
    if (len > 0 && !(norm > 0.0 && isfinite(norm))) {
        mt_embed_raw(e, text, len, out);
        norm = mt_norm(out, e->dims);
    }

    if (norm > 0.0 && isfinite(norm)) {
        norm = 1.0 / sqrt(norm);
        for (b = 0; b < e->dims; b++) {
            out[b] = (float) (out[b] * norm);
        }
    }

    return 0;
}


/*
 * The fallback vector of a text without words: the character trigrams
 * of its ASCII-lowercased bytes, spaces and punctuation included, with
 * boundary markers, so that "!!!" and "!!!!" or "a" and "a." still land
 * near each other and far from "???".  Should even those cancel (two
 * trigrams in one bucket with opposite signs), one feature of the whole
 * text: a single feature cannot cancel.
 */

static void
mt_embed_raw(const mt_embedder_t *e, const char *text, size_t len,
    float *out)
{
    size_t         i;
    uint64_t       h, key;
    unsigned       b;
    unsigned char  c[3];

    memset(out, 0, e->dims * sizeof(float));

    for (i = 0; i < len; i++) {
        c[0] = (i == 0) ? 0x02 : (unsigned char) text[i - 1];
        c[1] = (unsigned char) text[i];
        c[2] = (i + 1 == len) ? 0x03 : (unsigned char) text[i + 1];

        h = e->seed ^ MT_K_RAW;
        h = (h ^ mt_lower(c[0])) * MT_FNV_PRIME;
        h = (h ^ mt_lower(c[1])) * MT_FNV_PRIME;
        h = (h ^ mt_lower(c[2])) * MT_FNV_PRIME;
        key = mt_hash_mix(h);

        b = (unsigned) (((key >> 32) * e->dims) >> 32);
        out[b] += (key & 1) ? -1.0f : 1.0f;
    }

    if (mt_norm(out, e->dims) > 0.0) {
        return;
    }

    key = mt_hash_mix(mt_hash64(text, len, e->seed ^ MT_K_RAW));
    b = (unsigned) (((key >> 32) * e->dims) >> 32);
    out[b] = (key & 1) ? -1.0f : 1.0f;
}


static unsigned char
mt_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + 32) : c;
}


static double
mt_norm(const float *v, unsigned dims)
{
    double    norm;
    unsigned  b;

    norm = 0.0;
    for (b = 0; b < dims; b++) {
        norm += (double) v[b] * v[b];
    }

    return norm;
}


/* Bytes of UTF-8 sequences count as letters: such words stay whole. */

static int
mt_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}


static int
mt_stopword(const mt_embedder_t *e, const unsigned char *w, size_t n)
{
    size_t    j;
    uint64_t  h;

    h = mt_hash_mix(mt_hash64(w, n, MT_K_STOP)) | 1;

    for (j = h; e->stop[j % MT_STOP_SLOTS] != 0; j++) {
        if (e->stop[j % MT_STOP_SLOTS] == h) {
            return 1;
        }
    }

    return 0;
}


/*
 * Light suffix stripping, so that "prices"/"priced"/"price" and
 * "finance"/"financial" share their unigram.  Each step keeps at least
 * four bytes; what it gets wrong the character n-grams soften.
 */

static size_t
mt_stem(unsigned char *w, size_t n)
{
    unsigned char  c;

#define MT_ENDS(s)  (n >= sizeof(s) - 1 + 3                                  \
                     && memcmp(w + n - (sizeof(s) - 1), s, sizeof(s) - 1) == 0)

    if (MT_ENDS("ies")) {
        w[n - 3] = 'y';
        return n - 2;
    }

    if (MT_ENDS("sses") || MT_ENDS("ches") || MT_ENDS("shes")
        || MT_ENDS("xes"))
    {
        n -= 2;

    } else if (n >= 4 && w[n - 1] == 's' && w[n - 2] != 's'
               && w[n - 2] != 'u' && w[n - 2] != 'i')
    {
        n--;
    }

    if ((n >= 7 && MT_ENDS("ing")) || (n >= 6 && MT_ENDS("ed"))) {
        n -= (w[n - 1] == 'g') ? 3 : 2;

        /* "shopping" -> "shopp" -> "shop" */
        c = w[n - 1];
        if (c == w[n - 2] && c >= 'a' && c <= 'z'
            && strchr("aeiouylsz", c) == NULL)
        {
            n--;
        }
    }

    if (n >= 7 && MT_ENDS("ial")) {
        n -= 3;

    } else if (n >= 7 && (MT_ENDS("al") || MT_ENDS("ly"))) {
        n -= 2;
    }

    if (n >= 5 && w[n - 1] == 'e') {
        n--;
    }

#undef MT_ENDS

    return n;
}


static int
mt_features(const mt_embedder_t *e, const char *text, size_t len,
    mt_feats_t *f)
{
    size_t          i, n, size, bound;
    uint64_t        prev;
    unsigned char   c, w[MT_WORD_MAX + 2];

    /*
     * A word of n bytes and its separator make at most 2n + 2 features:
     * unigram, bigram, n trigrams, n - 1 four-grams.
     */
    bound = 2 * len + 2;

    /* a load factor of at most 2/3: short probes */
    for (size = 16; size < bound + bound / 2; size *= 2) {
        /* void */
    }

    f->mask = size - 1;
    f->slots = calloc(size, sizeof(mt_feat_t));
    if (f->slots == NULL) {
        return -1;
    }

    prev = 0;
    n = 0;

    for (i = 0; i <= len; i++) {
        c = (i < len) ? (unsigned char) text[i] : ' ';
        if (c >= 'A' && c <= 'Z') {
            c = (unsigned char) (c + 32);
        }

        if (mt_word_char(c)) {
            /* w[0] is left for the boundary marker */
            if (n < MT_WORD_MAX) {
                w[1 + n] = c;
            }
            n++;
            continue;
        }

        if (n > 0) {
            mt_word(e, f, w, n < MT_WORD_MAX ? n : MT_WORD_MAX, &prev);
            n = 0;
        }
    }

    return 0;
}


/* One word at w + 1, n bytes; w has room for two markers around it. */

static void
mt_word(const mt_embedder_t *e, mt_feats_t *f, unsigned char *w, size_t n,
    uint64_t *prev)
{
    float     gw;
    size_t    i;
    uint64_t  key, h;

    /* single characters are noise ("x", "2"); a stopword is not news */
    if (n < 2 || mt_stopword(e, w + 1, n)) {
        return;
    }

    n = mt_stem(w + 1, n);

    key = mt_hash_mix(mt_hash64(w + 1, n, e->seed ^ MT_K_WORD));
    mt_feat_add(f, key, MT_W_UNI);

    if (*prev != 0) {
        mt_feat_add(f, mt_hash_mix(*prev * MT_FNV_PRIME ^ key ^ MT_K_BI),
                    MT_W_BI);
    }

    *prev = key;

    /*
     * Character n-grams with boundary markers: "<fin", "fina" ... let
     * "finance" and "financial" meet even where the stems differ.
     */
    w[0] = '<';
    w[n + 1] = '>';

    /*
     * The word's n + (n - 1) n-grams share MT_W_GRAM of L2 weight: a long
     * word does not drown its own unigram, nor the vector, in n-grams.
     */
    gw = MT_W_GRAM / sqrtf((float) (2 * n - 1));

    /* the 4-gram's FNV continues its 3-gram's */
    for (i = 0; i + 3 <= n + 2; i++) {
        h = e->seed ^ MT_K_GRAM;
        h = (h ^ w[i]) * MT_FNV_PRIME;
        h = (h ^ w[i + 1]) * MT_FNV_PRIME;
        h = (h ^ w[i + 2]) * MT_FNV_PRIME;
        mt_feat_add(f, mt_hash_mix(h), gw);

        if (i + 4 <= n + 2) {
            mt_feat_add(f, mt_hash_mix((h ^ w[i + 3]) * MT_FNV_PRIME), gw);
        }
    }
}


static void
mt_feat_add(mt_feats_t *f, uint64_t key, float w)
{
    size_t      j;
    mt_feat_t  *s;

    if (key == 0) {
        key = 1;
    }

    for (j = key & f->mask; f->slots[j].key != 0; j = (j + 1) & f->mask) {
        if (f->slots[j].key == key) {
            f->slots[j].cnt += 1.0f;
            f->slots[j].wsum += w;
            return;
        }
    }

    s = &f->slots[j];
    s->key = key;
    s->cnt = 1.0f;
    s->wsum = w;
}


static void
mt_feats_free(mt_feats_t *f)
{
    free(f->slots);
}


static int
mt_df_grow(mt_embedder_t *e)
{
    size_t     i, j, size, mask;
    uint32_t  *df;
    uint64_t  *keys;

    size = (e->df_keys == NULL) ? 4096 : (e->df_mask + 1) * 2;
    mask = size - 1;

    keys = calloc(size, sizeof(uint64_t));
    df = calloc(size, sizeof(uint32_t));

    if (keys == NULL || df == NULL) {
        free(keys);
        free(df);
        return -1;
    }

    for (i = 0; e->df_keys != NULL && i <= e->df_mask; i++) {
        if (e->df_keys[i] == 0) {
            continue;
        }

        for (j = e->df_keys[i] & mask; keys[j] != 0; j = (j + 1) & mask) {
            /* void */
        }

        keys[j] = e->df_keys[i];
        df[j] = e->df[i];
    }

    free(e->df_keys);
    free(e->df);

    e->df_keys = keys;
    e->df = df;
    e->df_mask = mask;

    return 0;
}


static void
mt_df_inc(mt_embedder_t *e, uint64_t key)
{
    size_t  j;

    for (j = key & e->df_mask; e->df_keys[j] != 0; j = (j + 1) & e->df_mask) {
        if (e->df_keys[j] == key) {
            e->df[j]++;
            return;
        }
    }

    /* past the cap the table stays at most half full: ignore new ones */
    if (e->df_n >= MT_DF_MAX) {
        return;
    }

    e->df_keys[j] = key;
    e->df[j] = 1;
    e->df_n++;
}


int
mt_embedder_save(const mt_embedder_t *e, const char *path, uint64_t epoch,
    char *err, size_t errlen)
{
    char  tmp[4096];

    /* the pid: two processes saving at once do not share a file */
    if ((size_t) snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
                          (long) getpid())
        >= sizeof(tmp))
    {
        (void) snprintf(err, errlen, "path too long");
        return -1;
    }

    if (mt_embedder_write(e, tmp, epoch, err, errlen) != 0) {
        return -1;
    }

    if (rename(tmp, path) != 0) {
        (void) snprintf(err, errlen, "rename \"%s\": %s", tmp,
                        strerror(errno));
        (void) unlink(tmp);
        return -1;
    }

    return 0;
}


int
mt_embedder_write(const mt_embedder_t *e, const char *tmp, uint64_t epoch,
    char *err, size_t errlen)
{
    int              fd, rc;
    size_t           slots;
    mt_embed_file_t  h;

    if (!e->frozen) {
        (void) snprintf(err, errlen, "the embedder is not frozen");
        return -1;
    }

    slots = (e->df_keys != NULL && e->idf != NULL) ? e->df_mask + 1 : 0;

    memset(&h, 0, sizeof(h));
    memcpy(h.magic, MT_EMBED_MAGIC, sizeof(h.magic));
    h.dims = e->dims;
    h.ndocs = e->ndocs;
    h.seed = e->seed;
    h.epoch = epoch;
    h.slots = slots;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) {
        (void) snprintf(err, errlen, "open(\"%s\"): %s", tmp, strerror(errno));
        return -1;
    }

    rc = mt_write_all(fd, &h, sizeof(h));

    if (rc == 0 && slots > 0) {
        rc = mt_write_all(fd, e->df_keys, slots * sizeof(uint64_t));
    }

    if (rc == 0 && slots > 0) {
        rc = mt_write_all(fd, e->idf, slots * sizeof(float));
    }

    /* a rename must not publish a file whose blocks are not on disk */
    if (rc == 0) {
        rc = fsync(fd);
    }

    if (close(fd) != 0) {
        rc = -1;
    }

    if (rc != 0) {
        (void) snprintf(err, errlen, "writing \"%s\": %s", tmp,
                        strerror(errno));
        (void) unlink(tmp);
        return -1;
    }

    return 0;
}


mt_embedder_t *
mt_embedder_map(const char *path, uint64_t *epoch, char *err, size_t errlen)
{
    int               fd;
    void             *map;
    size_t            len, slots;
    struct stat       st;
    mt_embedder_t    *e;
    mt_embed_file_t   h;

    fd = open(path, O_RDONLY);
    if (fd == -1) {
        (void) snprintf(err, errlen, "open(\"%s\"): %s", path,
                        strerror(errno));
        return NULL;
    }

    if (fstat(fd, &st) != 0
        || (size_t) st.st_size < sizeof(h)
        || pread(fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h)
        || memcmp(h.magic, MT_EMBED_MAGIC, sizeof(h.magic)) != 0)
    {
        (void) snprintf(err, errlen, "\"%s\" is not an embedder state", path);
        (void) close(fd);
        return NULL;
    }

    slots = (size_t) h.slots;
    len = sizeof(h) + slots * (sizeof(uint64_t) + sizeof(float));

    if ((slots & (slots - 1)) != 0 || (size_t) st.st_size != len
        || h.slots > (1u << 24))
    {
        (void) snprintf(err, errlen, "\"%s\" is truncated or corrupt", path);
        (void) close(fd);
        return NULL;
    }

    e = mt_embedder_new(h.dims, h.seed);
    if (e == NULL) {
        (void) snprintf(err, errlen, "\"%s\": bad dimensions or no memory",
                        path);
        (void) close(fd);
        return NULL;
    }

    e->ndocs = h.ndocs;
    e->frozen = 1;

    if (slots > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
            (void) snprintf(err, errlen, "mmap(\"%s\"): %s", path,
                            strerror(errno));
            (void) close(fd);
            mt_embedder_free(e);
            return NULL;
        }

        e->map = map;
        e->map_len = len;
        e->df_keys = (uint64_t *) ((char *) map + sizeof(h));
        /* the file's layout: floats after the keys, 4-byte aligned */
        e->idf = (float *) (void *) ((char *) map + sizeof(h)
                                     + slots * sizeof(uint64_t));
        e->df_mask = slots - 1;
    }

    (void) close(fd);

    *epoch = h.epoch;

    return e;
}


static int
mt_write_all(int fd, const void *buf, size_t len)
{
    ssize_t      n;
    const char  *p = buf;

    while (len > 0) {
        n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }

            return -1;
        }

        p += n;
        len -= (size_t) n;
    }

    return 0;
}

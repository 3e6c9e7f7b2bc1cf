/*
 * JSON for the matcher: a bounded parser on yajl that builds a read-only
 * tree in one arena, and a writer that escapes correctly.  No nginx types:
 * the module wraps these, the unit tests call them directly.
 */

#ifndef MT_JSON_H
#define MT_JSON_H

#include <stddef.h>
#include <stdint.h>


typedef enum {
    MT_JSON_NULL = 0,
    MT_JSON_BOOL,
    MT_JSON_NUMBER,
    MT_JSON_STRING,
    MT_JSON_ARRAY,
    MT_JSON_OBJECT
} mt_json_type_t;


typedef struct mt_json_s       mt_json_t;
typedef struct mt_json_pair_s  mt_json_pair_t;

struct mt_json_s {
    mt_json_type_t          type;
    union {
        int                 boolean;
        struct {
            double          d;
            int64_t         i;          /* valid when is_int */
            int             is_int;     /* integral and fits int64 */
            const char     *raw;        /* the text as it came */
            size_t          raw_len;
        } number;
        struct {
            const char     *s;          /* NUL-terminated, valid UTF-8 */
            size_t          len;
        } string;
        struct {
            mt_json_t     **items;
            size_t          n;
        } array;
        struct {
            mt_json_pair_t *pairs;      /* in document order */
            size_t          n;
        } object;
    } u;
};

struct mt_json_pair_s {
    const char             *key;        /* NUL-terminated, valid UTF-8 */
    size_t                  key_len;
    mt_json_t              *value;
    unsigned                shadowed;   /* a later member has this key */
};


/*
 * Zero in a field means "no limit" for that field.  The counts bound the
 * work of a parse and of every walk over the tree, whatever the bytes:
 * a 1 MB body holds 100,000 keys or 500,000 numbers.
 */
typedef struct {
    size_t                  max_size;   /* input bytes */
    unsigned                max_depth;  /* arrays and objects nested */
    size_t                  max_string; /* bytes in one string or key */
    size_t                  max_members; /* of one object or array */
    size_t                  max_values; /* in the whole document */
} mt_json_limits_t;


typedef enum {
    MT_JSON_OK = 0,
    MT_JSON_ESYNTAX,                    /* not JSON, trailing garbage */
    MT_JSON_EUTF8,                      /* invalid UTF-8 anywhere */
    MT_JSON_EDEPTH,
    MT_JSON_ESIZE,
    MT_JSON_ESTRING,
    MT_JSON_EMEMBERS,
    MT_JSON_EVALUES,
    MT_JSON_ENOMEM
} mt_json_err_t;


typedef struct mt_json_doc_s  mt_json_doc_t;


/*
 * Parses exactly one JSON value (surrounding whitespace allowed).  On
 * failure returns NULL, sets *err and writes a short human message
 * ("invalid JSON at byte 12", "nesting deeper than 32") into errbuf.
 */
mt_json_doc_t *mt_json_parse(const char *data, size_t len,
    const mt_json_limits_t *limits, mt_json_err_t *err, char *errbuf,
    size_t errlen);
/*
 * The same for a document the service stored itself (a creator, an
 * assignment): without the pass over the text before yajl's, which
 * refuses what yajl would let through of a client's body.  yajl still
 * refuses what is not JSON or not UTF-8 in form, so a document written
 * by someone else (a shared MongoDB) cannot get past it broken; the
 * overlong forms and surrogates it lets through, the writer (json.h's
 * mt_jw_*) replaces.  That pass cost a match at a million creators a
 * tenth of its CPU, a start-up sync a fifth.
 */
mt_json_doc_t *mt_json_parse_stored(const char *data, size_t len,
    mt_json_err_t *err);
const mt_json_t *mt_json_root(const mt_json_doc_t *doc);
void mt_json_free(mt_json_doc_t *doc);

/*
 * For a caller that runs yajl over a text itself (the streamed ingest):
 * what mt_json_parse() checks around yajl, so that such a text is refused
 * exactly when a parsed one would be.  mt_json_check_text(): the UTF-8,
 * escapes and bytes yajl lets through; MT_JSON_OK, or the error with its
 * byte in *pos; *end is where the first value ends.  mt_json_trailing():
 * 0 when only whitespace follows end, else the 1-based byte of the first
 * that is not.  mt_json_message(): mt_json_parse()'s text for an error.
 */
mt_json_err_t mt_json_check_text(const unsigned char *p, size_t len,
    size_t *pos, size_t *end);
size_t mt_json_trailing(const char *data, size_t len, size_t end);
void mt_json_message(mt_json_err_t code, const mt_json_limits_t *limits,
    size_t pos, char *errbuf, size_t errlen);

/*
 * Object member by key; the last one wins on duplicates (as JSON.parse).
 * A linear scan from the end: fine for the few fixed keys a caller looks
 * up, quadratic if called for every member of a client's object (loop
 * over u.object.pairs with mt_json_shadowed() instead).
 */
const mt_json_t *mt_json_get(const mt_json_t *obj, const char *key);
const char *mt_json_type_name(mt_json_type_t type);

/*
 * A 64-bit hash of the value's content in which the order of object
 * members does not count (arrays keep theirs): the same document
 * re-serialised by another client hashes the same.
 */
uint64_t mt_json_hash(const mt_json_t *v);
uint64_t mt_json_hash_pair(const mt_json_pair_t *p);
/*
 * 1 when member i of obj is overridden by a later one with its key.  O(1):
 * the parser decides it for all members in O(n log n) when the object
 * closes, so a loop over the members costs O(n) (an object with 100,000
 * keys is no longer 5e9 key compares).
 */
int mt_json_shadowed(const mt_json_t *obj, size_t i);

/*
 * v's size as compact JSON (strings unescaped) when at most max, else
 * some size over max: the walk stops there, so it costs O(max).
 */
size_t mt_json_size(const mt_json_t *v, size_t max);


/*
 * The writer appends to a growing heap buffer.  Errors are sticky: calls
 * after a failure do nothing, and mt_jw_failed() tells at the end.  Commas
 * and colons are placed by the writer.
 */

#define MT_JW_MAX_DEPTH  64

typedef struct {
    char                   *data;
    size_t                  len;
    size_t                  cap;
    int                     failed;
    unsigned                depth;
    unsigned char           count[MT_JW_MAX_DEPTH];  /* 1: not first item */
    unsigned char           after_key;
} mt_jw_t;

void mt_jw_init(mt_jw_t *w);
void mt_jw_free(mt_jw_t *w);
/* Hands the buffer over (caller frees with free()); NULL if failed. */
char *mt_jw_take(mt_jw_t *w, size_t *len);
int mt_jw_failed(const mt_jw_t *w);

void mt_jw_obj_open(mt_jw_t *w);
void mt_jw_obj_close(mt_jw_t *w);
void mt_jw_arr_open(mt_jw_t *w);
void mt_jw_arr_close(mt_jw_t *w);
void mt_jw_key(mt_jw_t *w, const char *key);
void mt_jw_keyn(mt_jw_t *w, const char *key, size_t len);
/* Invalid UTF-8 in s is written as U+FFFD: the output is always valid. */
void mt_jw_str(mt_jw_t *w, const char *s, size_t len);
void mt_jw_cstr(mt_jw_t *w, const char *s);     /* NULL writes null */
void mt_jw_int(mt_jw_t *w, int64_t v);
void mt_jw_double(mt_jw_t *w, double v);        /* shortest round trip */
void mt_jw_bool(mt_jw_t *w, int v);
void mt_jw_null(mt_jw_t *w);
void mt_jw_value(mt_jw_t *w, const mt_json_t *v);   /* numbers as raw */
/* Pre-encoded JSON (a stored document), written unchecked. */
void mt_jw_raw(mt_jw_t *w, const char *json, size_t len);


/* One entry of the error envelope's "details". */
typedef struct {
    const char             *field;
    const char             *message;
    const mt_json_t        *value;      /* NULL: use value_str */
    const char             *value_str;  /* NULL too: no "value" */
} mt_json_detail_t;

/*
 * {"success":false,"error":message,"code":code,"details":[...],
 *  "timestamp":ISO}; details omitted when n is 0.
 */
void mt_json_error_envelope(mt_jw_t *w, const char *message,
    const char *code, const mt_json_detail_t *details, size_t n,
    int64_t now_ms);

#endif /* MT_JSON_H */

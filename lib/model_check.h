/*
 * Internals of lib/model.c (assignments) and lib/creator.c (creators):
 * the field checks both validators are built from, in lib/model_check.c.
 * Not part of the model API: nothing else includes this.
 */

#ifndef MT_MODEL_CHECK_H
#define MT_MODEL_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "model.h"


#define MT_PATH_MAX       128     /* as mt_err_t.field */

/* flags of mt_model_string() and mt_model_str_array() items */
#define MT_F_REQUIRED     0x01    /* absent or null is an error */
#define MT_F_TRIM         0x02    /* measure (and return) the trimmed text */
#define MT_F_NONEMPTY     0x04    /* "" (after trimming) is an error */


typedef struct {
    const char             *s;      /* NULL: absent */
    size_t                  len;
} mt_str_t;

/*
 * One validation pass: bad stays set once any check failed, even when the
 * error list is full or out of memory.
 */
typedef struct {
    mt_errs_t              *errs;
    int                     bad;
} mt_vctx_t;


/* code points in valid UTF-8 */
size_t mt_model_chars(const char *s, size_t len);

/* strips what JavaScript's String.prototype.trim() strips */
void mt_model_trim(const char **s, size_t *len);

/* "prefix.key" or "key" when prefix is "" */
void mt_model_key_path(char *buf, const char *prefix, const char *key);
/* "prefix[i]" */
void mt_model_index_path(char *buf, const char *prefix, size_t i);

/*
 * 1 when a field name can be stored by every store: not empty, no leading
 * '$', no '.', no NUL.  MongoDB cannot name other fields in queries and
 * updates, so data never has them, on LMDB either: both stores take the
 * same documents.
 */
int mt_model_name_ok(const char *key, size_t len);

/*
 * Fails with the path of the first member of v, at any depth, whose name
 * mt_model_name_ok() refuses; 0 or -1.  Depth as the parser bounded it.
 */
int mt_model_names(mt_vctx_t *ctx, const mt_json_t *v, const char *path);

void mt_model_fail(mt_vctx_t *ctx, const mt_json_t *value, const char *path,
    const char *message);

/*
 * The checks return 1 when the value is present and valid, 0 when it is
 * absent (or null) and optional, -1 after recording an error.
 */
int mt_model_string(mt_vctx_t *ctx, const mt_json_t *v, const char *path,
    size_t min_chars, size_t max_chars, unsigned flags, mt_str_t *out);
/* items: each a string checked as mt_model_string(0, item_max, item_flags) */
int mt_model_str_array(mt_vctx_t *ctx, const mt_json_t *v, const char *path,
    size_t min_items, size_t max_items, size_t item_max,
    unsigned item_flags, unsigned flags);
int mt_model_object(mt_vctx_t *ctx, const mt_json_t *v, const char *path,
    unsigned flags);
/* an integer literal >= 0 */
int mt_model_count(mt_vctx_t *ctx, const mt_json_t *v, const char *path,
    unsigned flags, int64_t *out);
/* any number in [0, 1] */
int mt_model_unit(mt_vctx_t *ctx, const mt_json_t *v, const char *path,
    unsigned flags);

#endif /* MT_MODEL_CHECK_H */

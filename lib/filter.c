/*
 * Pinecone's metadata filter language, compiled once into a small tree of
 * malloc'd nodes and evaluated per record without allocating.
 *
 * $eq and $ne compile as $in and $nin of one value.  A value set is a
 * sorted array of 64-bit keys, and keeps only the values of the field's
 * own type (string tags, followerCount's double bits, 1 and 2 for false
 * and true): a value of another type can never be equal, so dropping it
 * gives Pinecone's answer ($in false, $nin true) with no type checks at
 * match time.  $nin is the negation of $in, which also makes an absent
 * field match $ne and $nin, as in Pinecone.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "util.h"


typedef enum {
    MT_N_TRUE = 0,
    MT_N_FALSE,
    MT_N_AND,
    MT_N_OR,
    MT_N_IN,
    MT_N_NIN,
    MT_N_EXISTS,
    MT_N_GT,
    MT_N_GTE,
    MT_N_LT,
    MT_N_LTE
} mt_node_kind_t;


/* a node of the tree; the filter handed out is its root */
struct mt_filter_s {
    mt_node_kind_t          kind;
    mt_field_t              field;
    int                     exists;     /* $exists operand */
    double                  num;        /* $gt..$lte operand */
    size_t                  n;          /* kids or keys */
    mt_filter_t           **kids;       /* $and, $or */
    uint64_t               *keys;       /* $in, $nin: sorted */
};


/* what an operator takes */
typedef enum {
    MT_OPD_SCALAR = 0,
    MT_OPD_LIST,
    MT_OPD_NUMBER,
    MT_OPD_BOOL
} mt_operand_t;

static const struct {
    const char             *name;
    mt_node_kind_t          kind;
    mt_operand_t            operand;
} mt_ops[] = {
    { "$eq", MT_N_IN, MT_OPD_SCALAR }, { "$ne", MT_N_NIN, MT_OPD_SCALAR },
    { "$in", MT_N_IN, MT_OPD_LIST }, { "$nin", MT_N_NIN, MT_OPD_LIST },
    { "$gt", MT_N_GT, MT_OPD_NUMBER }, { "$gte", MT_N_GTE, MT_OPD_NUMBER },
    { "$lt", MT_N_LT, MT_OPD_NUMBER }, { "$lte", MT_N_LTE, MT_OPD_NUMBER },
    { "$exists", MT_N_EXISTS, MT_OPD_BOOL }
};

#define MT_NOPS  (sizeof(mt_ops) / sizeof(mt_ops[0]))

static const char  *mt_field_names[MT_F_N] = {
    "region", "followerCount", "primaryNiches", "secondaryNiches",
    "apparentValues", "verified"
};

#define MT_MSG_FIELD  "unknown field; one of region, followerCount, " \
                      "primaryNiches, secondaryNiches, apparentValues, " \
                      "verified"
#define MT_MSG_OP     "unknown operator; one of $eq, $ne, $gt, $gte, $lt, " \
                      "$lte, $in, $nin, $exists"
#define MT_MSG_LOGIC  "unknown operator; only $and and $or go here, " \
                      "others under a field"
#define MT_MSG_SCALAR "must be a string, number or boolean"


#define MT_PATH_MAX  512

typedef struct {
    mt_errs_t              *errs;
    int                     failed;
    int                     oom;
    size_t                  len;        /* of path */
    char                    path[MT_PATH_MAX];
} mt_fctx_t;


uint64_t
mt_meta_tag(mt_field_t field, const char *s, size_t len)
{
    uint64_t  h;

    /*
     * Tags are stored in the index file: this must not change without a
     * rebuild.  The field seeds the hash, so that all tags of a creator
     * share one array and "X" as a primary niche is not "X" as a value.
     */
    h = mt_hash64(s, len, mt_hash_mix(MT_HASH_SEED + (uint64_t) field + 1));
    h = mt_hash_mix(h);

    /* 0 is never a tag: a zeroed record holds none */
    return h != 0 ? h : 1;
}


static void
mt_meta_add(mt_meta_t *m, mt_field_t field, const mt_json_t *v)
{
    if (v != NULL && v->type == MT_JSON_STRING && m->ntags < MT_META_TAGS) {
        m->tags[m->ntags++] = mt_meta_tag(field, v->u.string.s,
                                          v->u.string.len);
    }
}


static void
mt_meta_list(mt_meta_t *m, mt_field_t field, const mt_json_t *v)
{
    size_t  i;

    if (v == NULL || v->type != MT_JSON_ARRAY) {
        return;
    }

    m->present |= (uint8_t) (1u << field);

    for (i = 0; i < v->u.array.n; i++) {
        mt_meta_add(m, field, v->u.array.items[i]);
    }
}


void
mt_meta_from_creator(const mt_json_t *creator, mt_meta_t *m)
{
    double            d;
    const mt_json_t  *v, *a;

    *m = (mt_meta_t) { .ntags = 0 };

    v = mt_json_get(creator, "region");
    if (v != NULL && v->type == MT_JSON_STRING) {
        m->present |= 1u << MT_F_REGION;
        mt_meta_add(m, MT_F_REGION, v);
    }

    v = mt_json_get(creator, "followerCount");
    if (v != NULL && v->type == MT_JSON_NUMBER) {
        m->present |= 1u << MT_F_FOLLOWERS;

        if (v->u.number.is_int) {
            m->follower_count = v->u.number.i;

        } else {
            /* validated creators have integers; clamp anything else */
            d = v->u.number.d;
            m->follower_count = d >= 9.2e18 ? INT64_MAX
                                : d <= -9.2e18 ? INT64_MIN : (int64_t) d;
        }
    }

    a = mt_json_get(creator, "analysis");
    mt_meta_list(m, MT_F_PRIMARY, mt_json_get(a, "primaryNiches"));
    mt_meta_list(m, MT_F_SECONDARY, mt_json_get(a, "secondaryNiches"));
    mt_meta_list(m, MT_F_VALUES, mt_json_get(a, "apparentValues"));

    v = mt_json_get(creator, "verified");
    if (v != NULL && v->type == MT_JSON_BOOL) {
        m->present |= 1u << MT_F_VERIFIED;
        m->verified = v->u.boolean ? 1 : 0;
    }
}


/* compiling */

/* by hand, not snprintf(): clang-analyzer's insecureAPI check stays quiet */
static void
mt_path_add(mt_fctx_t *ctx, const char *s, size_t len)
{
    while (len-- > 0 && ctx->len < MT_PATH_MAX - 1) {
        ctx->path[ctx->len++] = *s++;
    }

    /* a truncated path stays so: an error keeps 127 bytes of it anyway */
    ctx->path[ctx->len] = '\0';
}


/* appends ".key" (or "[i]" when key is NULL); returns the length before */
static size_t
mt_path_push(mt_fctx_t *ctx, const char *key, size_t i)
{
    char    buf[24];
    size_t  old, n;

    old = ctx->len;

    if (key != NULL) {
        mt_path_add(ctx, ".", 1);
        mt_path_add(ctx, key, strlen(key));
        return old;
    }

    n = sizeof(buf);
    buf[--n] = ']';

    do {
        buf[--n] = (char) ('0' + i % 10);
        i /= 10;
    } while (i != 0);

    buf[--n] = '[';
    mt_path_add(ctx, buf + n, sizeof(buf) - n);

    return old;
}


static void
mt_path_pop(mt_fctx_t *ctx, size_t old)
{
    ctx->len = old;
    ctx->path[old] = '\0';
}


static void
mt_fail(mt_fctx_t *ctx, const mt_json_t *v, const char *message)
{
    ctx->failed = 1;
    mt_errs_add(ctx->errs, v, message, "%s", ctx->path);
}


static int
mt_key_is(const mt_json_pair_t *p, const char *name)
{
    return strlen(name) == p->key_len && memcmp(name, p->key, p->key_len) == 0;
}


static int
mt_is_scalar(const mt_json_t *v)
{
    return v->type == MT_JSON_STRING || v->type == MT_JSON_NUMBER
           || v->type == MT_JSON_BOOL;
}


static mt_filter_t *
mt_node(mt_fctx_t *ctx, mt_node_kind_t kind, mt_field_t field)
{
    mt_filter_t  *node;

    node = calloc(1, sizeof(mt_filter_t));
    if (node == NULL) {
        ctx->oom = 1;
        return NULL;
    }

    node->kind = kind;
    node->field = field;

    return node;
}


void
mt_filter_free(mt_filter_t *f)
{
    size_t  i;

    if (f == NULL) {
        return;
    }

    for (i = 0; f->kids != NULL && i < f->n; i++) {
        mt_filter_free(f->kids[i]);
    }

    free(f->kids);
    free(f->keys);
    free(f);
}


/*
 * Takes kids[0..n): an $and or $or of them, the one kid alone, or TRUE
 * for none.  On NULL (out of memory) they are freed.
 */
static mt_filter_t *
mt_node_join(mt_fctx_t *ctx, mt_node_kind_t kind, mt_filter_t **kids,
    size_t n)
{
    size_t        i;
    mt_filter_t  *node;

    if (n == 1) {
        node = kids[0];
        free(kids);
        return node;
    }

    node = mt_node(ctx, n == 0 ? MT_N_TRUE : kind, MT_F_N);

    if (node == NULL || n == 0) {
        for (i = 0; i < n; i++) {
            mt_filter_free(kids[i]);
        }

        free(kids);
        return node;
    }

    node->kids = kids;
    node->n = n;

    return node;
}


/* equal numbers have equal keys: -0 is 0, and JSON has no NaN */
static uint64_t
mt_num_key(double d)
{
    union {
        double              d;
        uint64_t            k;
    } u;

    u.d = d;

    return d == 0 ? 0 : u.k;
}


/* the key of v as a value of field; 0 when it is of another type */
static int
mt_value_key(mt_field_t field, const mt_json_t *v, uint64_t *key)
{
    if (field == MT_F_FOLLOWERS) {
        if (v->type != MT_JSON_NUMBER) {
            return 0;
        }

        *key = mt_num_key(v->u.number.d);

    } else if (field == MT_F_VERIFIED) {
        if (v->type != MT_JSON_BOOL) {
            return 0;
        }

        *key = v->u.boolean ? 2 : 1;

    } else {
        if (v->type != MT_JSON_STRING) {
            return 0;
        }

        *key = mt_meta_tag(field, v->u.string.s, v->u.string.len);
    }

    return 1;
}


static int
mt_cmp_key(const void *a, const void *b)
{
    uint64_t  x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return (x > y) - (x < y);
}


/* vals: one scalar or an array of them */
static int
mt_node_set(mt_fctx_t *ctx, mt_filter_t *node, const mt_json_t *vals)
{
    size_t            i, n;
    const mt_json_t  *v;

    n = vals->type == MT_JSON_ARRAY ? vals->u.array.n : 1;

    node->keys = malloc(n * sizeof(uint64_t));
    if (node->keys == NULL) {
        ctx->oom = 1;
        return -1;
    }

    for (i = 0; i < n; i++) {
        v = vals->type == MT_JSON_ARRAY ? vals->u.array.items[i] : vals;
        node->n += mt_value_key(node->field, v, &node->keys[node->n]);
    }

    qsort(node->keys, node->n, sizeof(uint64_t), mt_cmp_key);

    return 0;
}


/* checks the operand v of operator o; the path ends with the operator */
static int
mt_operand_ok(mt_fctx_t *ctx, size_t o, const mt_json_t *v)
{
    int           ok;
    size_t        i, old;
    mt_operand_t  opd;

    opd = mt_ops[o].operand;

    if (opd != MT_OPD_LIST) {
        ok = opd == MT_OPD_SCALAR ? mt_is_scalar(v)
             : v->type == (opd == MT_OPD_NUMBER ? MT_JSON_NUMBER
                                                : MT_JSON_BOOL);
        if (!ok) {
            mt_fail(ctx, v, opd == MT_OPD_SCALAR ? MT_MSG_SCALAR
                            : opd == MT_OPD_NUMBER ? "must be a number"
                            : "must be a boolean");
        }

        return ok;
    }

    if (v->type != MT_JSON_ARRAY || v->u.array.n == 0) {
        mt_fail(ctx, v, "must be a non-empty array of strings, numbers "
                        "or booleans");
        return 0;
    }

    if (v->u.array.n > MT_FILTER_MAX_IN) {
        mt_fail(ctx, v, "must have at most 1000 values");
        return 0;
    }

    ok = 1;

    for (i = 0; i < v->u.array.n; i++) {
        if (!mt_is_scalar(v->u.array.items[i])) {
            old = mt_path_push(ctx, NULL, i);
            mt_fail(ctx, v->u.array.items[i], MT_MSG_SCALAR);
            mt_path_pop(ctx, old);
            ok = 0;
        }
    }

    return ok;
}


/* operator o on field with operand v */
static mt_filter_t *
mt_filter_op(mt_fctx_t *ctx, mt_field_t field, size_t o, const mt_json_t *v)
{
    mt_node_kind_t  kind;
    mt_filter_t    *node;

    if (!mt_operand_ok(ctx, o, v)) {
        return NULL;
    }

    kind = mt_ops[o].kind;

    if (kind >= MT_N_GT && field != MT_F_FOLLOWERS) {
        /* only followerCount is a number: the others never compare */
        kind = MT_N_FALSE;
    }

    node = mt_node(ctx, kind, field);
    if (node == NULL) {
        return NULL;
    }

    if (mt_ops[o].operand == MT_OPD_BOOL) {
        node->exists = v->u.boolean;

    } else if (mt_ops[o].operand == MT_OPD_NUMBER) {
        node->num = v->u.number.d;

    } else if (mt_node_set(ctx, node, v) != 0) {
        mt_filter_free(node);
        return NULL;
    }

    return node;
}


static mt_filter_t *mt_filter_pairs(mt_fctx_t *ctx, const mt_json_t *v,
    mt_field_t field, unsigned depth);


/* $and, $or: a non-empty array of filter objects */
static mt_filter_t *
mt_filter_logic(mt_fctx_t *ctx, mt_node_kind_t kind, const mt_json_t *v,
    unsigned depth)
{
    size_t            i, n, old;
    mt_filter_t     **kids;
    const mt_json_t  *item;

    if (depth > MT_FILTER_MAX_DEPTH) {
        /* and no deeper: the recursion stays bounded */
        mt_fail(ctx, v, "$and and $or nested deeper than 32");
        return NULL;
    }

    if (v->type != MT_JSON_ARRAY || v->u.array.n == 0) {
        mt_fail(ctx, v, "must be a non-empty array of filter objects");
        return NULL;
    }

    kids = calloc(v->u.array.n, sizeof(mt_filter_t *));
    if (kids == NULL) {
        ctx->oom = 1;
        return NULL;
    }

    n = 0;

    for (i = 0; i < v->u.array.n; i++) {
        item = v->u.array.items[i];
        old = mt_path_push(ctx, NULL, i);

        if (item->type != MT_JSON_OBJECT) {
            mt_fail(ctx, item, "must be an object");

        } else {
            kids[n] = mt_filter_pairs(ctx, item, MT_F_N, depth);
            n += kids[n] != NULL;
        }

        mt_path_pop(ctx, old);
    }

    return mt_node_join(ctx, kind, kids, n);
}


/*
 * One member of a filter object (field MT_F_N): a field or $and/$or; or
 * of the operator object of field.
 */
static mt_filter_t *
mt_filter_pair(mt_fctx_t *ctx, const mt_json_pair_t *p, mt_field_t field,
    unsigned depth)
{
    size_t  o;

    if (field != MT_F_N) {
        for (o = 0; o < MT_NOPS && !mt_key_is(p, mt_ops[o].name); o++) {
            /* void */
        }

        if (o == MT_NOPS) {
            mt_fail(ctx, p->value, MT_MSG_OP);
            return NULL;
        }

        return mt_filter_op(ctx, field, o, p->value);
    }

    if (mt_key_is(p, "$and") || mt_key_is(p, "$or")) {
        return mt_filter_logic(ctx, p->key[1] == 'a' ? MT_N_AND : MT_N_OR,
                               p->value, depth + 1);
    }

    if (p->key[0] == '$') {
        mt_fail(ctx, p->value, MT_MSG_LOGIC);
        return NULL;
    }

    for (field = MT_F_REGION;
         field < MT_F_N && !mt_key_is(p, mt_field_names[field]);
         field++)
    {
        /* void */
    }

    if (field == MT_F_N) {
        mt_fail(ctx, p->value, MT_MSG_FIELD);
        return NULL;
    }

    if (mt_is_scalar(p->value)) {
        return mt_filter_op(ctx, field, 0, p->value);       /* $eq */
    }

    if (p->value->type != MT_JSON_OBJECT || p->value->u.object.n == 0) {
        mt_fail(ctx, p->value, "must be a string, number, boolean or a "
                               "non-empty object of operators");
        return NULL;
    }

    return mt_filter_pairs(ctx, p->value, field, depth);
}


/* the members of an object v, ANDed; duplicate keys: the last one wins */
static mt_filter_t *
mt_filter_pairs(mt_fctx_t *ctx, const mt_json_t *v, mt_field_t field,
    unsigned depth)
{
    size_t                 i, n, old;
    mt_filter_t          **kids;
    const mt_json_pair_t  *p;

    if (v->u.object.n == 0) {
        return mt_node(ctx, MT_N_TRUE, MT_F_N);
    }

    kids = calloc(v->u.object.n, sizeof(mt_filter_t *));
    if (kids == NULL) {
        ctx->oom = 1;
        return NULL;
    }

    n = 0;

    for (i = 0; i < v->u.object.n; i++) {
        if (mt_json_shadowed(v, i)) {
            continue;
        }

        p = &v->u.object.pairs[i];
        old = mt_path_push(ctx, p->key, 0);
        kids[n] = mt_filter_pair(ctx, p, field, depth);
        n += kids[n] != NULL;
        mt_path_pop(ctx, old);
    }

    return mt_node_join(ctx, MT_N_AND, kids, n);
}


mt_filter_t *
mt_filter_compile(const mt_json_t *f, mt_errs_t *errs)
{
    mt_fctx_t     ctx;
    mt_filter_t  *root;

    ctx.errs = errs;
    ctx.failed = 0;
    ctx.oom = 0;
    ctx.len = 0;
    mt_path_add(&ctx, "filter", sizeof("filter") - 1);

    if (f == NULL) {
        return mt_node(&ctx, MT_N_TRUE, MT_F_N);
    }

    if (f->type != MT_JSON_OBJECT) {
        mt_fail(&ctx, f, "must be an object");
        return NULL;
    }

    root = mt_filter_pairs(&ctx, f, MT_F_N, 0);

    if (ctx.failed || ctx.oom) {
        mt_filter_free(root);
        return NULL;
    }

    return root;
}


/* matching */

static int
mt_has_key(const mt_filter_t *f, uint64_t key)
{
    return bsearch(&key, f->keys, f->n, sizeof(uint64_t), mt_cmp_key) != NULL;
}


/* $in: any of the creator's values of the field is in the set */
static int
mt_match_in(const mt_filter_t *f, const mt_meta_t *m)
{
    size_t  i;

    if (f->n == 0 || !((m->present >> f->field) & 1)) {
        return 0;
    }

    if (f->field == MT_F_FOLLOWERS) {
        return mt_has_key(f, mt_num_key((double) m->follower_count));
    }

    if (f->field == MT_F_VERIFIED) {
        return mt_has_key(f, m->verified ? 2 : 1);
    }

    /* a tag's hash carries its field: any tag of m will do */
    for (i = 0; i < m->ntags && i < MT_META_TAGS; i++) {
        if (mt_has_key(f, m->tags[i])) {
            return 1;
        }
    }

    return 0;
}


int
mt_filter_match(const mt_filter_t *f, const mt_meta_t *m)
{
    int     fc;
    size_t  i;
    double  d;

    if (f == NULL) {
        return 1;
    }

    fc = (m->present >> MT_F_FOLLOWERS) & 1;
    d = (double) m->follower_count;

    switch (f->kind) {

    case MT_N_TRUE:
        return 1;

    case MT_N_AND:
    case MT_N_OR:
        /* $and stops at the first kid that fails, $or at one that matches */
        for (i = 0; i < f->n; i++) {
            if (mt_filter_match(f->kids[i], m) == (f->kind == MT_N_OR)) {
                return f->kind == MT_N_OR;
            }
        }

        return f->kind == MT_N_AND;

    case MT_N_IN:
        return mt_match_in(f, m);

    case MT_N_NIN:
        return !mt_match_in(f, m);

    case MT_N_EXISTS:
        return (int) ((m->present >> f->field) & 1) == (f->exists != 0);

    /* on followerCount only: the others compiled to MT_N_FALSE */
    case MT_N_GT:
        return fc && d > f->num;

    case MT_N_GTE:
        return fc && d >= f->num;

    case MT_N_LT:
        return fc && d < f->num;

    case MT_N_LTE:
        return fc && d <= f->num;

    default:
        return 0;
    }
}

/*
 * Pinecone's metadata filter language, compiled once into a small tree of
 * malloc'd nodes and evaluated per record without allocating.
 *
 * $eq and $ne compile as $in and $nin of one value.  A value set keeps
 * only the values of the field's own type (string tags, followerCount's
 * double bits, 1 and 2 for false and true): a value of another type can
 * never be equal, so dropping it gives Pinecone's answer ($in false,
 * $nin true) with no type checks at match time.  $nin is the negation of
 * $in, which also makes an absent field match $ne and $nin, as in
 * Pinecone.
 *
 * The sets of number and boolean values are sorted arrays of 64-bit
 * keys.  The string sets (up to MT_FILTER_MAX_CONDITIONS, so 64) are
 * numbered, and one hash table of the whole filter maps every string
 * key to the bits of the sets holding it: a match looks each tag of the
 * creator up once, whatever the number of sets, and each string set is
 * then one bit.  A tree walk over the creator's 48 tags for each set
 * cost 48 x 45,000 lookups a creator for issue 8's $or of 45,000
 * regions.
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


typedef struct mt_fnode_s  mt_fnode_t;

/* a node of the tree */
struct mt_fnode_s {
    mt_node_kind_t          kind;
    mt_field_t              field;
    int                     exists;     /* $exists operand */
    unsigned                bit;        /* string $in, $nin: its set */
    double                  num;        /* $gt..$lte operand */
    size_t                  n;          /* kids or keys */
    mt_fnode_t            **kids;       /* $and, $or */
    uint64_t               *keys;       /* $in, $nin: sorted */
    uint64_t                in;         /* $and, $or: string $in kids */
    uint64_t                nin;        /* and $nin kids, not in kids */
};

#define MT_STRING_FIELD(f)  ((f) != MT_F_FOLLOWERS && (f) != MT_F_VERIFIED)

/* the filter handed out: the tree and the string keys' table */
struct mt_filter_s {
    mt_fnode_t             *root;
    unsigned                sets;       /* string sets, bits 0..sets-1 */
    size_t                  mask;       /* slots - 1 */
    uint64_t               *tkeys;      /* slots, 0: empty (no tag is 0) */
    uint64_t               *tbits;      /* slots: the sets holding it */
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
    int                     stop;       /* a limit exceeded: no further */
    size_t                  conditions;
    size_t                  values;
    size_t                  keys;       /* in string sets */
    unsigned                sets;       /* string sets */
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


/*
 * A limit exceeded: nothing looked at past it, and the value is not
 * echoed in the reply's details (an 889 KB filter would come back whole)
 */
static void
mt_limit(mt_fctx_t *ctx, const char *message)
{
    mt_fail(ctx, NULL, message);
    ctx->stop = 1;
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


static mt_fnode_t *
mt_node(mt_fctx_t *ctx, mt_node_kind_t kind, mt_field_t field)
{
    mt_fnode_t  *node;

    node = calloc(1, sizeof(mt_fnode_t));
    if (node == NULL) {
        ctx->oom = 1;
        return NULL;
    }

    node->kind = kind;
    node->field = field;

    return node;
}


static void
mt_node_free(mt_fnode_t *node)
{
    size_t  i;

    if (node == NULL) {
        return;
    }

    for (i = 0; node->kids != NULL && i < node->n; i++) {
        mt_node_free(node->kids[i]);
    }

    free(node->kids);
    free(node->keys);
    free(node);
}


void
mt_filter_free(mt_filter_t *f)
{
    if (f == NULL) {
        return;
    }

    mt_node_free(f->root);
    free(f->tkeys);
    free(f->tbits);
    free(f);
}


/*
 * Takes kids[0..n): an $and or $or of them, the one kid alone, or TRUE
 * for none.  On NULL (out of memory) they are freed.
 */
static mt_fnode_t *
mt_node_join(mt_fctx_t *ctx, mt_node_kind_t kind, mt_fnode_t **kids,
    size_t n)
{
    size_t       i;
    mt_fnode_t  *node;

    if (n == 1) {
        node = kids[0];
        free(kids);
        return node;
    }

    node = mt_node(ctx, n == 0 ? MT_N_TRUE : kind, MT_F_N);

    if (node == NULL || n == 0) {
        for (i = 0; i < n; i++) {
            mt_node_free(kids[i]);
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


/*
 * vals: one scalar or an array of them.  A string set is not sorted:
 * its keys go to the filter's table (mt_filter_table) and are freed.
 */
static int
mt_node_set(mt_fctx_t *ctx, mt_fnode_t *node, const mt_json_t *vals)
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

    if (MT_STRING_FIELD(node->field)) {
        node->bit = ctx->sets++;
        ctx->keys += node->n;
        return 0;
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

    ctx->values += v->u.array.n;

    if (ctx->values > MT_FILTER_MAX_VALUES) {
        mt_limit(ctx, "more than 4096 values in the filter");
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
static mt_fnode_t *
mt_filter_op(mt_fctx_t *ctx, mt_field_t field, size_t o, const mt_json_t *v)
{
    mt_node_kind_t  kind;
    mt_fnode_t     *node;

    if (++ctx->conditions > MT_FILTER_MAX_CONDITIONS) {
        mt_limit(ctx, "more than 64 conditions in the filter");
        return NULL;
    }

    if (mt_ops[o].operand != MT_OPD_LIST
        && ++ctx->values > MT_FILTER_MAX_VALUES)
    {
        mt_limit(ctx, "more than 4096 values in the filter");
        return NULL;
    }

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
        mt_node_free(node);
        return NULL;
    }

    return node;
}


static mt_fnode_t *mt_filter_pairs(mt_fctx_t *ctx, const mt_json_t *v,
    mt_field_t field, unsigned depth);


/* $and, $or: a non-empty array of filter objects */
static mt_fnode_t *
mt_filter_logic(mt_fctx_t *ctx, mt_node_kind_t kind, const mt_json_t *v,
    unsigned depth)
{
    size_t            i, n, old;
    mt_fnode_t      **kids;
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

    /* before a look at the items: a 45,000 wide $or costs nothing */
    if (v->u.array.n > MT_FILTER_MAX_CLAUSES) {
        mt_limit(ctx, "must have at most 64 clauses");
        return NULL;
    }

    kids = calloc(v->u.array.n, sizeof(mt_fnode_t *));
    if (kids == NULL) {
        ctx->oom = 1;
        return NULL;
    }

    n = 0;

    for (i = 0; i < v->u.array.n && !ctx->stop; i++) {
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
static mt_fnode_t *
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
static mt_fnode_t *
mt_filter_pairs(mt_fctx_t *ctx, const mt_json_t *v, mt_field_t field,
    unsigned depth)
{
    size_t                 i, n, old;
    mt_fnode_t           **kids;
    const mt_json_pair_t  *p;

    if (v->u.object.n == 0) {
        /* a condition too: an $and of 64 $ands of {} must not pass */
        if (++ctx->conditions > MT_FILTER_MAX_CONDITIONS) {
            mt_limit(ctx, "more than 64 conditions in the filter");
            return NULL;
        }

        return mt_node(ctx, MT_N_TRUE, MT_F_N);
    }

    kids = calloc(v->u.object.n, sizeof(mt_fnode_t *));
    if (kids == NULL) {
        ctx->oom = 1;
        return NULL;
    }

    n = 0;

    for (i = 0; i < v->u.object.n && !ctx->stop; i++) {
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


static int
mt_node_is_set(const mt_fnode_t *node)
{
    return (node->kind == MT_N_IN || node->kind == MT_N_NIN)
           && MT_STRING_FIELD(node->field);
}


/*
 * The string keys of every set into one open-addressed table, at most
 * half full, keyed by the tag itself (already a mixed hash): each slot
 * holds the bits of the sets that hold its key.  The string sets among
 * the kids of an $and or $or become its masks, so that any number of
 * them costs one test (a $or of 60 regions is one), and leave its kids.
 */
static void
mt_filter_table(mt_filter_t *f, mt_fnode_t *node)
{
    size_t       i, j, n;
    uint64_t     k;
    mt_fnode_t  *kid;

    if (node->kids != NULL) {
        n = 0;

        for (i = 0; i < node->n; i++) {
            kid = node->kids[i];
            mt_filter_table(f, kid);

            if (!mt_node_is_set(kid)) {
                node->kids[n++] = kid;
                continue;
            }

            if (kid->kind == MT_N_IN) {
                node->in |= (uint64_t) 1 << kid->bit;

            } else {
                node->nin |= (uint64_t) 1 << kid->bit;
            }

            mt_node_free(kid);
        }

        node->n = n;

        return;
    }

    if (!mt_node_is_set(node)) {
        return;
    }

    for (i = 0; i < node->n; i++) {
        k = node->keys[i];

        for (j = (size_t) k & f->mask; f->tkeys[j] != 0 && f->tkeys[j] != k;
             j = (j + 1) & f->mask)
        {
            /* void */
        }

        f->tkeys[j] = k;
        f->tbits[j] |= (uint64_t) 1 << node->bit;
    }

    /* no longer needed: n stays, an empty set is still told by it */
    free(node->keys);
    node->keys = NULL;
}


mt_filter_t *
mt_filter_compile(const mt_json_t *f, mt_errs_t *errs)
{
    size_t        slots;
    mt_fctx_t     ctx;
    mt_fnode_t   *root;
    mt_filter_t  *filter;

    ctx = (mt_fctx_t) { .errs = errs };
    mt_path_add(&ctx, "filter", sizeof("filter") - 1);

    if (f == NULL) {
        root = mt_node(&ctx, MT_N_TRUE, MT_F_N);

    } else if (f->type != MT_JSON_OBJECT) {
        mt_fail(&ctx, f, "must be an object");
        return NULL;

    } else if (mt_json_size(f, MT_FILTER_MAX_BYTES) > MT_FILTER_MAX_BYTES) {
        mt_limit(&ctx, "must be at most 65536 bytes as JSON");
        return NULL;

    } else {
        root = mt_filter_pairs(&ctx, f, MT_F_N, 0);
    }

    if (ctx.failed || ctx.oom || root == NULL) {
        mt_node_free(root);
        return NULL;
    }

    filter = calloc(1, sizeof(mt_filter_t));
    if (filter == NULL) {
        mt_node_free(root);
        return NULL;
    }

    filter->root = root;
    filter->sets = ctx.sets;

    if (ctx.sets == 0) {
        return filter;
    }

    for (slots = 16; slots < 2 * ctx.keys; slots *= 2) {
        /* void */
    }

    filter->mask = slots - 1;
    filter->tkeys = calloc(slots, sizeof(uint64_t));
    filter->tbits = calloc(slots, sizeof(uint64_t));

    if (filter->tkeys == NULL || filter->tbits == NULL) {
        mt_filter_free(filter);
        return NULL;
    }

    mt_filter_table(filter, root);

    return filter;
}


/* matching */

static int
mt_has_key(const mt_fnode_t *node, uint64_t key)
{
    return bsearch(&key, node->keys, node->n, sizeof(uint64_t), mt_cmp_key)
           != NULL;
}


/* the string sets that hold tag */
static uint64_t
mt_tag_bits(const mt_filter_t *f, uint64_t tag)
{
    size_t  j;

    for (j = (size_t) tag & f->mask; f->tkeys[j] != 0; j = (j + 1) & f->mask)
    {
        if (f->tkeys[j] == tag) {
            return f->tbits[j];
        }
    }

    return 0;
}


/*
 * $in: any of the creator's values of the field is in the set; for a
 * string field, a tag of the set's is among the creator's (its bit in
 * hits: a tag's hash carries its field, so any tag of m will do).
 */
static int
mt_match_in(const mt_fnode_t *node, const mt_meta_t *m, uint64_t hits)
{
    if (node->n == 0 || !((m->present >> node->field) & 1)) {
        return 0;
    }

    if (node->field == MT_F_FOLLOWERS) {
        return mt_has_key(node, mt_num_key((double) m->follower_count));
    }

    if (node->field == MT_F_VERIFIED) {
        return mt_has_key(node, m->verified ? 2 : 1);
    }

    return (int) ((hits >> node->bit) & 1);
}


/* a node other than $and and $or */
static inline int
mt_match_leaf(const mt_fnode_t *node, const mt_meta_t *m, uint64_t hits)
{
    int     fc;
    double  d;

    fc = (m->present >> MT_F_FOLLOWERS) & 1;
    d = (double) m->follower_count;

    switch (node->kind) {

    case MT_N_TRUE:
        return 1;

    case MT_N_IN:
        return mt_match_in(node, m, hits);

    case MT_N_NIN:
        return !mt_match_in(node, m, hits);

    case MT_N_EXISTS:
        return (int) ((m->present >> node->field) & 1) == (node->exists != 0);

    /* on followerCount only: the others compiled to MT_N_FALSE */
    case MT_N_GT:
        return fc && d > node->num;

    case MT_N_GTE:
        return fc && d >= node->num;

    case MT_N_LT:
        return fc && d < node->num;

    case MT_N_LTE:
        return fc && d <= node->num;

    default:
        return 0;
    }
}


/*
 * The leaves among the kids are tested in the loop, not by a call: a
 * $or of 60 follower ranges costs about 2 ns a range, not 5.
 */
static int
mt_match_node(const mt_fnode_t *node, const mt_meta_t *m, uint64_t hits)
{
    int                r, or;
    size_t             i;
    const mt_fnode_t  *kid;

    if (node->kind != MT_N_AND && node->kind != MT_N_OR) {
        return mt_match_leaf(node, m, hits);
    }

    or = node->kind == MT_N_OR;

    if (or) {
        if ((hits & node->in) != 0 || (~hits & node->nin) != 0) {
            return 1;
        }

    } else if ((hits & node->in) != node->in || (hits & node->nin) != 0) {
        return 0;
    }

    /* $and stops at the first kid that fails, $or at one that matches */
    for (i = 0; i < node->n; i++) {
        kid = node->kids[i];
        r = (kid->kind == MT_N_AND || kid->kind == MT_N_OR)
            ? mt_match_node(kid, m, hits) : mt_match_leaf(kid, m, hits);

        if (r == or) {
            return or;
        }
    }

    return !or;
}


int
mt_filter_match(const mt_filter_t *f, const mt_meta_t *m)
{
    size_t    i;
    uint64_t  hits;

    if (f == NULL) {
        return 1;
    }

    hits = 0;

    for (i = 0; f->sets > 0 && i < m->ntags && i < MT_META_TAGS; i++) {
        hits |= mt_tag_bits(f, m->tags[i]);
    }

    return mt_match_node(f->root, m, hits);
}

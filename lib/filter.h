/*
 * Metadata filters in Pinecone's language over the creator fields the
 * vector index keeps: region, followerCount, primaryNiches,
 * secondaryNiches, apparentValues, verified.  No nginx types.
 *
 * Operators: $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or; a bare
 * value means $eq; several fields in one object are ANDed, as are several
 * operators on one field.  A list field matches $eq/$in when any element
 * does, and $ne/$nin when no element does (Pinecone's semantics).
 * Strings compare exactly (case-sensitive, as Pinecone); $gt/$gte/$lt/
 * $lte take numbers only.  An empty filter ({}) matches everything.
 */

#ifndef MT_FILTER_H
#define MT_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "model.h"


/* the filterable fields, also bit numbers of mt_meta_t.present */
typedef enum {
    MT_F_REGION = 0,
    MT_F_FOLLOWERS,
    MT_F_PRIMARY,
    MT_F_SECONDARY,
    MT_F_VALUES,
    MT_F_VERIFIED,
    MT_F_N
} mt_field_t;

#define MT_META_TAGS        48      /* string values kept per creator */

/*
 * The limits of one filter.  A search may evaluate it on every creator,
 * on the event loop: within these, the costliest filter costs under
 * 0.3 us a creator even on creators of MT_META_TAGS tags, a search with
 * it 27 ms at 100,000 creators (bench/vindex_bench.c hostile).
 * Conditions are the operators (a bare value is one, $eq) and the empty
 * objects ({}, true): an $and or $or of one clause is that clause, and
 * one of several has at most a node for each condition but one.  Bytes
 * are those of the filter as compact JSON, strings unescaped.
 */
#define MT_FILTER_MAX_IN         1000   /* values in one $in or $nin */
#define MT_FILTER_MAX_DEPTH      32     /* $and/$or nesting */
#define MT_FILTER_MAX_CLAUSES    64     /* items of one $and or $or */
#define MT_FILTER_MAX_CONDITIONS 64     /* in the whole filter */
#define MT_FILTER_MAX_VALUES     4096   /* operands in the whole filter */
#define MT_FILTER_MAX_BYTES      65536

/*
 * What a filter sees of one creator: every string value (region and each
 * list element) as a tag, mt_meta_tag(field, value); a creator with more
 * than MT_META_TAGS values keeps the first ones (region, then primary
 * niches, secondary niches, values).  Fixed size and pointer-free so
 * that it can live in a shared file mapping.
 */
typedef struct {
    uint64_t                tags[MT_META_TAGS];
    int64_t                 follower_count;
    uint16_t                ntags;
    uint8_t                 present;    /* 1 << MT_F_* when the field is */
    uint8_t                 verified;   /* 0 or 1 */
    uint32_t                reserved;
} mt_meta_t;

uint64_t mt_meta_tag(mt_field_t field, const char *s, size_t len);
/* from a creator document (stored or as sent); never fails */
void mt_meta_from_creator(const mt_json_t *creator, mt_meta_t *m);


typedef struct mt_filter_s  mt_filter_t;

/*
 * Compiles f (a JSON object; NULL matches everything) in time linear in
 * its size but for the sorting of number sets.  Returns the filter, or
 * NULL with every problem in errs, field names as paths below "filter"
 * ("filter.$and[1].region.$in"): unknown fields or operators, wrong
 * operand types, any of the limits above exceeded (the first limit
 * exceeded stops the compilation there: nothing past it is looked at).
 * NULL with errs->n == 0 means out of memory.
 *
 * mt_filter_match() reads each tag of m once whatever the filter (one
 * hash lookup), then each condition at most once.
 */
mt_filter_t *mt_filter_compile(const mt_json_t *f, mt_errs_t *errs);
int mt_filter_match(const mt_filter_t *f, const mt_meta_t *m);
void mt_filter_free(mt_filter_t *f);

#endif /* MT_FILTER_H */

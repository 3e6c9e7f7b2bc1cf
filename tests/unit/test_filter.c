/*
 * Unit tests for lib/filter.c: Pinecone's filter language over creator
 * metadata, its errors with their paths, and the metadata of the sample
 * creators.  Run from the repository root (reads t/data/).
 *
 * JSON in this file is written with single quotes, turned into double
 * ones before parsing: no test string needs an apostrophe.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "filter.h"
#include "json.h"
#include "model.h"


/* a verified US creator with every field */
#define FULL   "{'uniqueId':'full','region':'US','followerCount':5000," \
               "'verified':true,'analysis':{" \
               "'primaryNiches':['Gaming','Tech']," \
               "'secondaryNiches':['Humor']," \
               "'apparentValues':['Honesty','Community']}}"

/* UK, unverified, an empty primary list, no values at all */
#define UK     "{'region':'UK','followerCount':120,'verified':false," \
               "'analysis':{'primaryNiches':[],'secondaryNiches':['Gaming']}}"

/* nothing a filter knows */
#define NONE   "{'uniqueId':'none'}"


/* ----------------------------------------------------------------------
 * helpers
 */

static mt_json_doc_t *
parse_raw(const char *text, size_t len)
{
    char            errbuf[128];
    mt_json_err_t   err;
    mt_json_doc_t  *doc;

    doc = mt_json_parse(text, len, NULL, &err, errbuf, sizeof(errbuf));
    if (doc == NULL) {
        print_error("parse failed: %s: %.*s\n", errbuf,
                    (int) (len > 300 ? 300 : len), text);
    }

    assert_non_null(doc);
    return doc;
}


/* parses text with ' for " */
static mt_json_doc_t *
parse(const char *text)
{
    char           *s, *p;
    size_t          len;
    mt_json_doc_t  *doc;

    len = strlen(text);
    s = malloc(len + 1);
    assert_non_null(s);

    for (p = s; *text != '\0'; text++) {
        *p++ = *text == '\'' ? '"' : *text;
    }

    *p = '\0';
    doc = parse_raw(s, len);
    free(s);

    return doc;
}


/* the document is freed at once: the filter must not point into it */
static mt_filter_t *
compile_ok(const char *filter)
{
    mt_errs_t       errs;
    mt_filter_t    *f;
    mt_json_doc_t  *doc;

    doc = parse(filter);
    mt_errs_init(&errs);

    f = mt_filter_compile(mt_json_root(doc), &errs);
    if (f == NULL) {
        print_error("compile failed (%zu errors): %s: %s\n", errs.n,
                    errs.n ? errs.items[0].field : "",
                    errs.n ? errs.items[0].message : "");
    }

    assert_non_null(f);
    assert_int_equal(errs.n, 0);

    mt_errs_free(&errs);
    mt_json_free(doc);

    return f;
}


static void
meta_of(const char *creator, mt_meta_t *m)
{
    mt_json_doc_t  *doc;

    doc = parse(creator);
    memset(m, 0xa5, sizeof(mt_meta_t));     /* must all be overwritten */
    mt_meta_from_creator(mt_json_root(doc), m);
    mt_json_free(doc);
}


static int
fmatch(const char *filter, const char *creator)
{
    int           r;
    mt_meta_t     m;
    mt_filter_t  *f;

    f = compile_ok(filter);
    meta_of(creator, &m);
    r = mt_filter_match(f, &m);
    mt_filter_free(f);

    assert_true(r == 0 || r == 1);
    return r;
}


/* the filter matches exactly the creators in the mask (FULL, UK, NONE) */
#define M_FULL  1
#define M_UK    2
#define M_NONE  4

static void
check(const char *filter, unsigned want)
{
    unsigned  got;

    got = (unsigned) fmatch(filter, FULL) * M_FULL
          + (unsigned) fmatch(filter, UK) * M_UK
          + (unsigned) fmatch(filter, NONE) * M_NONE;

    if (got != want) {
        print_error("%s: matched %u, want %u\n", filter, got, want);
    }

    assert_int_equal(got, want);
}


/*
 * The filter fails to compile with exactly n errors, in order, given as
 * n "field", "message" pairs.
 */
static void
check_errs(const char *filter, size_t n, ...)
{
    size_t          i;
    va_list         args;
    mt_errs_t       errs;
    const char     *field, *message;
    mt_filter_t    *f;
    mt_json_doc_t  *doc;

    doc = parse(filter);
    mt_errs_init(&errs);

    f = mt_filter_compile(mt_json_root(doc), &errs);
    assert_null(f);
    assert_int_equal(errs.oom, 0);

    if (errs.n != n) {
        print_error("%s: %zu errors, want %zu; first %s: %s\n", filter,
                    errs.n, n, errs.n ? errs.items[0].field : "",
                    errs.n ? errs.items[0].message : "");
    }

    assert_int_equal(errs.n, n);

    va_start(args, n);

    for (i = 0; i < n; i++) {
        field = va_arg(args, const char *);
        message = va_arg(args, const char *);
        assert_string_equal(errs.items[i].field, field);
        assert_string_equal(errs.items[i].message, message);
    }

    va_end(args);

    mt_errs_free(&errs);
    mt_json_free(doc);
}


static void
check_err(const char *filter, const char *field, const char *message)
{
    check_errs(filter, 1, field, message);
}


#define E_FIELD   "unknown field; one of region, followerCount, " \
                  "primaryNiches, secondaryNiches, apparentValues, verified"
#define E_OP      "unknown operator; one of $eq, $ne, $gt, $gte, $lt, " \
                  "$lte, $in, $nin, $exists"
#define E_LOGIC   "unknown operator; only $and and $or go here, " \
                  "others under a field"
#define E_SCALAR  "must be a string, number or boolean"
#define E_LIST    "must be a non-empty array of strings, numbers or booleans"
#define E_VALUE   "must be a string, number, boolean or a non-empty " \
                  "object of operators"
#define E_FILTERS "must be a non-empty array of filter objects"


/* {'field':{'op':[v0,v1,...]}} with n values made by fmt from i */
static char *
in_filter(const char *field, const char *op, size_t n, const char *fmt)
{
    char    *s;
    size_t   i, len, cap;

    cap = 64 + n * 32;
    s = malloc(cap);
    assert_non_null(s);

    len = (size_t) snprintf(s, cap, "{'%s':{'%s':[", field, op);

    for (i = 0; i < n; i++) {
        if (i > 0) {
            s[len++] = ',';
        }

        len += (size_t) snprintf(s + len, cap - len, fmt, i);
    }

    (void) snprintf(s + len, cap - len, "]}}");
    return s;
}


/* ----------------------------------------------------------------------
 * metadata
 */

static void
test_tag(void **state)
{
    uint64_t  a, b;

    (void) state;

    a = mt_meta_tag(MT_F_PRIMARY, "Gaming", 6);
    b = mt_meta_tag(MT_F_PRIMARY, "Gaming", 6);

    assert_true(a == b);
    assert_true(a != 0);
    assert_true(mt_meta_tag(MT_F_PRIMARY, "", 0) != 0);

    /* the field seeds the hash; strings compare exactly */
    assert_true(a != mt_meta_tag(MT_F_SECONDARY, "Gaming", 6));
    assert_true(a != mt_meta_tag(MT_F_VALUES, "Gaming", 6));
    assert_true(a != mt_meta_tag(MT_F_PRIMARY, "gaming", 6));
    assert_true(a != mt_meta_tag(MT_F_PRIMARY, "Gaming ", 7));
    assert_true(a != mt_meta_tag(MT_F_PRIMARY, "Gamin", 5));
    assert_true(mt_meta_tag(MT_F_REGION, "US", 2)
                != mt_meta_tag(MT_F_REGION, "UK", 2));
}


static void
test_meta_full(void **state)
{
    mt_meta_t  m;

    (void) state;

    meta_of(FULL, &m);

    assert_int_equal(m.present, 0x3f);
    assert_int_equal(m.follower_count, 5000);
    assert_int_equal(m.verified, 1);
    assert_int_equal(m.reserved, 0);

    /* region, primary, secondary, values: in that order */
    assert_int_equal(m.ntags, 6);
    assert_true(m.tags[0] == mt_meta_tag(MT_F_REGION, "US", 2));
    assert_true(m.tags[1] == mt_meta_tag(MT_F_PRIMARY, "Gaming", 6));
    assert_true(m.tags[2] == mt_meta_tag(MT_F_PRIMARY, "Tech", 4));
    assert_true(m.tags[3] == mt_meta_tag(MT_F_SECONDARY, "Humor", 5));
    assert_true(m.tags[4] == mt_meta_tag(MT_F_VALUES, "Honesty", 7));
    assert_true(m.tags[5] == mt_meta_tag(MT_F_VALUES, "Community", 9));
    assert_true(m.tags[6] == 0);
    assert_true(m.tags[MT_META_TAGS - 1] == 0);
}


static void
test_meta_partial(void **state)
{
    mt_meta_t  m;

    (void) state;

    meta_of(UK, &m);

    /* an empty list is present; a missing one is not */
    assert_int_equal(m.present, (1 << MT_F_REGION) | (1 << MT_F_FOLLOWERS)
                                | (1 << MT_F_PRIMARY) | (1 << MT_F_SECONDARY)
                                | (1 << MT_F_VERIFIED));
    assert_int_equal(m.verified, 0);
    assert_int_equal(m.follower_count, 120);
    assert_int_equal(m.ntags, 2);
    assert_true(m.tags[1] == mt_meta_tag(MT_F_SECONDARY, "Gaming", 6));

    meta_of(NONE, &m);
    assert_int_equal(m.present, 0);
    assert_int_equal(m.ntags, 0);
    assert_int_equal(m.follower_count, 0);
    assert_true(m.tags[0] == 0);

    /* wrong types count as absent; non-strings in a list are skipped */
    meta_of("{'region':5,'followerCount':'10','verified':'yes',"
            "'primaryNiches':['Top level is not analysis'],"
            "'analysis':{'primaryNiches':'Gaming',"
            "'secondaryNiches':[1,'Art',null,{},['x'],true,'Film'],"
            "'apparentValues':{}}}", &m);
    assert_int_equal(m.present, 1 << MT_F_SECONDARY);
    assert_int_equal(m.ntags, 2);
    assert_true(m.tags[0] == mt_meta_tag(MT_F_SECONDARY, "Art", 3));
    assert_true(m.tags[1] == mt_meta_tag(MT_F_SECONDARY, "Film", 4));

    /* not an object, or none at all */
    meta_of("['region','US']", &m);
    assert_int_equal(m.present, 0);
    assert_int_equal(m.ntags, 0);

    memset(&m, 0xa5, sizeof(m));
    mt_meta_from_creator(NULL, &m);
    assert_int_equal(m.present, 0);
    assert_int_equal(m.ntags, 0);
    assert_true(m.tags[0] == 0);

    /* a fractional or huge count is clamped into an int64 */
    meta_of("{'followerCount':1500.7}", &m);
    assert_int_equal(m.follower_count, 1500);
    meta_of("{'followerCount':1e300}", &m);
    assert_true(m.follower_count == INT64_MAX);
    meta_of("{'followerCount':-1e300}", &m);
    assert_true(m.follower_count == INT64_MIN);
}


static void
test_meta_cap(void **state)
{
    char       *json, *p;
    size_t      i;
    mt_meta_t   m;

    (void) state;

    /* 1 region + 30 primary + 30 values: the first 48 are kept */
    json = malloc(4096);
    assert_non_null(json);

    p = json + sprintf(json, "{'region':'US','analysis':{'primaryNiches':[");
    for (i = 0; i < 30; i++) {
        p += sprintf(p, "%s'p%zu'", i ? "," : "", i);
    }

    p += sprintf(p, "],'apparentValues':[");
    for (i = 0; i < 30; i++) {
        p += sprintf(p, "%s'v%zu'", i ? "," : "", i);
    }

    (void) sprintf(p, "]}}");

    meta_of(json, &m);
    assert_int_equal(m.ntags, MT_META_TAGS);
    assert_true(m.tags[0] == mt_meta_tag(MT_F_REGION, "US", 2));
    assert_true(m.tags[30] == mt_meta_tag(MT_F_PRIMARY, "p29", 3));
    assert_true(m.tags[31] == mt_meta_tag(MT_F_VALUES, "v0", 2));
    assert_true(m.tags[47] == mt_meta_tag(MT_F_VALUES, "v16", 3));
    assert_int_equal(m.present, (1 << MT_F_REGION) | (1 << MT_F_PRIMARY)
                                | (1 << MT_F_VALUES));

    /* the values past the cap are not seen */
    assert_int_equal(fmatch("{'apparentValues':'v16'}", json), 1);
    assert_int_equal(fmatch("{'apparentValues':'v17'}", json), 0);

    free(json);
}


/* ----------------------------------------------------------------------
 * matching
 */

static void
test_match_all(void **state)
{
    mt_errs_t     errs;
    mt_meta_t     m;
    mt_filter_t  *f;

    (void) state;

    mt_errs_init(&errs);

    /* no filter: everything, a zeroed record too */
    f = mt_filter_compile(NULL, &errs);
    assert_non_null(f);
    assert_int_equal(errs.n, 0);

    memset(&m, 0, sizeof(m));
    assert_int_equal(mt_filter_match(f, &m), 1);
    meta_of(FULL, &m);
    assert_int_equal(mt_filter_match(f, &m), 1);
    mt_filter_free(f);

    mt_filter_free(NULL);
    assert_int_equal(mt_filter_match(NULL, &m), 1);

    check("{}", M_FULL | M_UK | M_NONE);
    check("{'$and':[{}]}", M_FULL | M_UK | M_NONE);
    check("{'$or':[{},{'region':'XX'}]}", M_FULL | M_UK | M_NONE);
}


static void
test_eq(void **state)
{
    (void) state;

    /* bare values and $eq alike */
    check("{'region':'US'}", M_FULL);
    check("{'region':{'$eq':'US'}}", M_FULL);
    check("{'region':{'$eq':'UK'}}", M_UK);
    check("{'region':'us'}", 0);
    check("{'region':'U'}", 0);

    check("{'followerCount':5000}", M_FULL);
    check("{'followerCount':5000.0}", M_FULL);
    check("{'followerCount':5e3}", M_FULL);
    check("{'followerCount':{'$eq':120}}", M_UK);
    check("{'followerCount':4999.5}", 0);
    assert_int_equal(fmatch("{'followerCount':-0.0}", "{'followerCount':0}"),
                     1);
    assert_int_equal(fmatch("{'followerCount':{'$in':[-0]}}",
                            "{'followerCount':0}"), 1);

    check("{'verified':true}", M_FULL);
    check("{'verified':{'$eq':false}}", M_UK);

    /* a list field matches when any element does */
    check("{'primaryNiches':'Tech'}", M_FULL);
    check("{'primaryNiches':{'$eq':'Gaming'}}", M_FULL);
    check("{'secondaryNiches':'Gaming'}", M_UK);
    check("{'apparentValues':'Community'}", M_FULL);

    /* the field is part of the tag: Humor is secondary only */
    check("{'primaryNiches':'Humor'}", 0);
    check("{'apparentValues':'Gaming'}", 0);
}


static void
test_ne(void **state)
{
    (void) state;

    /* absent fields are not equal, as in Pinecone */
    check("{'region':{'$ne':'US'}}", M_UK | M_NONE);
    check("{'followerCount':{'$ne':5000}}", M_UK | M_NONE);
    check("{'followerCount':{'$ne':5000.5}}", M_FULL | M_UK | M_NONE);
    check("{'verified':{'$ne':true}}", M_UK | M_NONE);
    check("{'verified':{'$ne':false}}", M_FULL | M_NONE);

    /* a list: no element equal (an empty list has none) */
    check("{'primaryNiches':{'$ne':'Gaming'}}", M_UK | M_NONE);
    check("{'primaryNiches':{'$ne':'Tech'}}", M_UK | M_NONE);
    check("{'primaryNiches':{'$ne':'Humor'}}", M_FULL | M_UK | M_NONE);
    check("{'secondaryNiches':{'$ne':'Gaming'}}", M_FULL | M_NONE);
}


static void
test_compare(void **state)
{
    (void) state;

    check("{'followerCount':{'$gt':4999}}", M_FULL);
    check("{'followerCount':{'$gt':5000}}", 0);
    check("{'followerCount':{'$gte':5000}}", M_FULL);
    check("{'followerCount':{'$gte':5000.5}}", 0);
    check("{'followerCount':{'$lt':5000}}", M_UK);
    check("{'followerCount':{'$lt':5000.5}}", M_FULL | M_UK);
    check("{'followerCount':{'$lte':120}}", M_UK);
    check("{'followerCount':{'$lte':119.99}}", 0);
    check("{'followerCount':{'$gt':-1e300}}", M_FULL | M_UK);
    check("{'followerCount':{'$lt':1e300}}", M_FULL | M_UK);

    /* several operators on one field: ANDed */
    check("{'followerCount':{'$gte':100,'$lte':1000}}", M_UK);
    check("{'followerCount':{'$gt':100,'$lt':100}}", 0);
    check("{'followerCount':{'$gte':100,'$ne':120}}", M_FULL);

    /* only followerCount is a number: elsewhere nothing compares */
    check("{'region':{'$gt':0}}", 0);
    check("{'verified':{'$gte':0}}", 0);
    check("{'primaryNiches':{'$lt':1e300}}", 0);
}


static void
test_in_nin(void **state)
{
    (void) state;

    check("{'region':{'$in':['UK','US']}}", M_FULL | M_UK);
    check("{'region':{'$in':['CA']}}", 0);
    check("{'region':{'$nin':['UK','CA']}}", M_FULL | M_NONE);
    check("{'region':{'$nin':['UK','US']}}", M_NONE);

    check("{'followerCount':{'$in':[1,120,5000]}}", M_FULL | M_UK);
    check("{'followerCount':{'$in':[120.0,7]}}", M_UK);
    check("{'followerCount':{'$nin':[5000]}}", M_UK | M_NONE);

    check("{'verified':{'$in':[true]}}", M_FULL);
    check("{'verified':{'$in':[true,false]}}", M_FULL | M_UK);
    check("{'verified':{'$nin':[false]}}", M_FULL | M_NONE);

    /* lists: any element in the set; $nin none in it */
    check("{'primaryNiches':{'$in':['Art','Tech']}}", M_FULL);
    check("{'secondaryNiches':{'$in':['Gaming','Humor']}}", M_FULL | M_UK);
    check("{'secondaryNiches':{'$nin':['Gaming']}}", M_FULL | M_NONE);
    check("{'apparentValues':{'$nin':['Honesty','Art']}}", M_UK | M_NONE);
    check("{'apparentValues':{'$nin':['Art']}}", M_FULL | M_UK | M_NONE);

    /* duplicates and values of other types are harmless */
    check("{'region':{'$in':['US','US',5,true]}}", M_FULL);
    check("{'followerCount':{'$in':['5000',true,120]}}", M_UK);
    check("{'region':{'$in':[5,false]}}", 0);
    check("{'region':{'$nin':[5,false]}}", M_FULL | M_UK | M_NONE);
}


static void
test_in_many(void **state)
{
    char  *s;

    (void) state;

    /* 1000 values: the limit, allowed; the set is searched, not scanned */
    s = in_filter("primaryNiches", "$in", MT_FILTER_MAX_IN, "'n%zu'");
    check(s, 0);
    free(s);

    s = in_filter("followerCount", "$in", MT_FILTER_MAX_IN, "%zu");
    check(s, M_UK);
    free(s);

    s = in_filter("followerCount", "$nin", MT_FILTER_MAX_IN, "%zu");
    check(s, M_FULL | M_NONE);
    free(s);

    s = in_filter("followerCount", "$in", MT_FILTER_MAX_IN, "%zu.5");
    check(s, 0);
    free(s);

    s = in_filter("region", "$nin", MT_FILTER_MAX_IN, "'U%zu'");
    check(s, M_FULL | M_UK | M_NONE);
    free(s);

    s = in_filter("region", "$in", MT_FILTER_MAX_IN + 1, "'r%zu'");
    check_err(s, "filter.region.$in", "must have at most 1000 values");
    free(s);

    s = in_filter("apparentValues", "$nin", MT_FILTER_MAX_IN + 1, "%zu");
    check_err(s, "filter.apparentValues.$nin",
              "must have at most 1000 values");
    free(s);
}


static void
test_exists(void **state)
{
    (void) state;

    check("{'region':{'$exists':true}}", M_FULL | M_UK);
    check("{'region':{'$exists':false}}", M_NONE);
    check("{'followerCount':{'$exists':true}}", M_FULL | M_UK);
    check("{'verified':{'$exists':true}}", M_FULL | M_UK);
    check("{'verified':{'$exists':false}}", M_NONE);
    check("{'primaryNiches':{'$exists':true}}", M_FULL | M_UK);
    check("{'secondaryNiches':{'$exists':true}}", M_FULL | M_UK);
    check("{'apparentValues':{'$exists':true}}", M_FULL);
    check("{'apparentValues':{'$exists':false}}", M_UK | M_NONE);
}


static void
test_absent(void **state)
{
    (void) state;

    /* $eq, $in and comparisons fail on an absent field; $ne, $nin pass */
    assert_int_equal(fmatch("{'region':'US'}", NONE), 0);
    assert_int_equal(fmatch("{'region':{'$in':['US']}}", NONE), 0);
    assert_int_equal(fmatch("{'followerCount':{'$gte':0}}", NONE), 0);
    assert_int_equal(fmatch("{'followerCount':{'$lte':0}}", NONE), 0);
    assert_int_equal(fmatch("{'followerCount':0}", NONE), 0);
    assert_int_equal(fmatch("{'verified':false}", NONE), 0);
    assert_int_equal(fmatch("{'primaryNiches':{'$in':['x']}}", NONE), 0);
    assert_int_equal(fmatch("{'region':{'$ne':'US'}}", NONE), 1);
    assert_int_equal(fmatch("{'followerCount':{'$nin':[0]}}", NONE), 1);
    assert_int_equal(fmatch("{'primaryNiches':{'$nin':['x']}}", NONE), 1);
}


static void
test_wrong_type(void **state)
{
    (void) state;

    /* a value of another type than the field's: no match, no error */
    check("{'region':5}", 0);
    check("{'region':true}", 0);
    check("{'region':{'$ne':5}}", M_FULL | M_UK | M_NONE);
    check("{'followerCount':'5000'}", 0);
    check("{'followerCount':{'$ne':'5000'}}", M_FULL | M_UK | M_NONE);
    check("{'verified':1}", 0);
    check("{'verified':'true'}", 0);
    check("{'primaryNiches':1}", 0);
    check("{'primaryNiches':{'$in':[1,true]}}", 0);
    check("{'primaryNiches':{'$nin':[1,true]}}", M_FULL | M_UK | M_NONE);
}


static void
test_and_or(void **state)
{
    (void) state;

    /* several fields in one object: ANDed */
    check("{'region':'US','verified':true}", M_FULL);
    check("{'region':'UK','verified':true}", 0);
    check("{'region':'UK','followerCount':{'$lt':1000},"
          "'secondaryNiches':'Gaming'}", M_UK);

    check("{'$and':[{'region':'US'},{'primaryNiches':'Tech'}]}", M_FULL);
    check("{'$and':[{'region':'US'},{'primaryNiches':'Art'}]}", 0);
    check("{'$or':[{'region':'UK'},{'primaryNiches':'Tech'}]}",
          M_FULL | M_UK);
    check("{'$or':[{'region':'CA'},{'primaryNiches':'Art'}]}", 0);
    check("{'$or':[{'region':{'$exists':false}},{'verified':false}]}",
          M_UK | M_NONE);

    /* nested, and beside fields */
    check("{'$or':[{'$and':[{'region':'US'},{'verified':false}]},"
          "{'$and':[{'region':'UK'},{'verified':false}]}]}", M_UK);
    check("{'$and':[{'$or':[{'region':'US'},{'region':'UK'}]},"
          "{'$or':[{'followerCount':{'$gt':1000}},"
          "{'apparentValues':{'$exists':true}}]}]}", M_FULL);
    check("{'region':{'$exists':true},'$or':[{'verified':true},"
          "{'followerCount':120}]}", M_FULL | M_UK);
    check("{'$and':[{'region':'US'}],'$or':[{'region':'UK'}]}", 0);
    check("{'$or':[{'$or':[{'$or':[{'region':'UK'}]}]}]}", M_UK);

    /* a duplicate key: the last one wins, as in JSON.parse() */
    check("{'region':'US','region':'UK'}", M_UK);
    check("{'region':{'$eq':'US','$eq':'UK'}}", M_UK);
}


/* n nested $and; the innermost holds inner */
static char *
nested(size_t n, const char *inner)
{
    char    *s, *p;
    size_t   i;

    s = malloc(n * 16 + strlen(inner) + 1);
    if (s == NULL) {
        abort();
    }

    p = s;

    for (i = 0; i < n; i++) {
        p += sprintf(p, "{'$and':[");
    }

    p += sprintf(p, "%s", inner);

    for (i = 0; i < n; i++) {
        p += sprintf(p, "]}");
    }

    return s;
}


static void
test_depth(void **state)
{
    char          *s, *p, want[512];
    size_t         i;
    mt_errs_t      errs;
    mt_filter_t   *f;
    mt_json_doc_t *doc;

    (void) state;

    s = nested(MT_FILTER_MAX_DEPTH, "{'region':'UK'}");
    check(s, M_UK);
    free(s);

    /* the path is cut where an error's field ends */
    p = want;
    p += sprintf(p, "filter");
    for (i = 0; i < MT_FILTER_MAX_DEPTH; i++) {
        p += sprintf(p, ".$and[0]");
    }

    (void) sprintf(p, ".foo");
    want[sizeof(((mt_err_t *) NULL)->field) - 1] = '\0';

    s = nested(MT_FILTER_MAX_DEPTH, "{'region':5,'foo':1}");
    check_err(s, want, E_FIELD);
    free(s);

    /* one more: one error, at the $and too deep, and nothing below */
    s = nested(MT_FILTER_MAX_DEPTH + 1, "{'foo':1}");
    doc = parse(s);
    mt_errs_init(&errs);

    f = mt_filter_compile(mt_json_root(doc), &errs);
    assert_null(f);
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.items[0].message,
                        "$and and $or nested deeper than 32");
    assert_int_equal(strncmp(errs.items[0].field, "filter.$and[0].$and", 19),
                     0);

    mt_errs_free(&errs);
    mt_json_free(doc);
    free(s);

    check_err("{'$or':[{'$and':[{'$or':[{'foo':1}]}]}]}",
              "filter.$or[0].$and[0].$or[0].foo", E_FIELD);
}


/* ----------------------------------------------------------------------
 * limits (issue 8): each at its limit compiles, one over is refused
 */

/* {'op':[item(0),...,item(n-1)]}, each item fmt with i */
static char *
wide(const char *op, size_t n, const char *fmt)
{
    char    *s;
    size_t   i, len, cap;

    cap = 64 + n * (strlen(fmt) + 24);
    s = malloc(cap);
    assert_non_null(s);

    len = (size_t) snprintf(s, cap, "{'%s':[", op);

    for (i = 0; i < n; i++) {
        if (i > 0) {
            s[len++] = ',';
        }

        len += (size_t) snprintf(s + len, cap - len, fmt, i);
    }

    (void) snprintf(s + len, cap - len, "]}");

    return s;
}


static void
test_limit_clauses(void **state)
{
    char    *s, *t;
    size_t   n;

    (void) state;

    s = wide("$or", MT_FILTER_MAX_CLAUSES, "{'region':'R%zu'}");
    check(s, 0);
    free(s);

    /* the string sets of a $or are one mask: the last one still counts */
    s = wide("$or", MT_FILTER_MAX_CLAUSES - 1, "{'region':'R%zu'}");
    memcpy(s + strlen(s) - 2, ",{'region':'UK'}]}", 19);
    check(s, M_UK);
    free(s);

    s = wide("$and", MT_FILTER_MAX_CLAUSES + 1, "{'region':'R%zu'}");
    check_err(s, "filter.$and", "must have at most 64 clauses");
    free(s);

    /* nested: the first too wide stops it all, errors before it stay */
    s = wide("$or", MT_FILTER_MAX_CLAUSES + 1, "{'foo':%zu}");
    n = strlen(s) + 32;
    t = malloc(n);
    assert_non_null(t);
    (void) snprintf(t, n, "{'$and':[{'foo':1},%s,{'bar':2}]}", s);
    check_errs(t, 2, "filter.$and[0].foo", E_FIELD,
               "filter.$and[1].$or", "must have at most 64 clauses");
    free(t);
    free(s);
}


static void
test_limit_conditions(void **state)
{
    char  *s;

    (void) state;

    /* 32 objects of two operators: 64 conditions */
    s = wide("$and", 32, "{'region':{'$ne':'R%zu','$exists':true}}");
    check(s, M_FULL | M_UK);
    free(s);

    s = wide("$and", 33, "{'region':{'$ne':'R%zu','$exists':true}}");
    check_err(s, "filter.$and[32].region.$ne",
              "more than 64 conditions in the filter");
    free(s);

    /* bare values and {} count too; $and and $or do not */
    s = wide("$or", 64, "{'$and':[{'followerCount':%zu}]}");
    check(s, 0);
    free(s);

    s = wide("$and", 64, "{}");
    check(s, M_FULL | M_UK | M_NONE);
    free(s);

    s = wide("$and", 2, "{'$and':[{},{},{},{},{},{},{},{},{},{},{},{},{},"
                        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},"
                        "{},{},{},{}]}");
    check_err(s, "filter.$and[1].$and[31]",
              "more than 64 conditions in the filter");
    free(s);
}


/* n values of one $in each under fields[], then extra followerCounts */
static char *
values_filter(size_t extra)
{
    char    *s;
    size_t   f, i, len, cap;

    static const char  *fields[] = { "region", "primaryNiches",
                                     "secondaryNiches", "apparentValues" };

    cap = (size_t) 128 * 1024;
    s = malloc(cap);
    assert_non_null(s);

    len = (size_t) snprintf(s, cap, "{");

    for (f = 0; f < 4; f++) {
        len += (size_t) snprintf(s + len, cap - len, "'%s':{'$nin':[",
                                 fields[f]);

        for (i = 0; i < MT_FILTER_MAX_IN; i++) {
            len += (size_t) snprintf(s + len, cap - len, "%s'v%zu'",
                                     i ? "," : "", i);
        }

        len += (size_t) snprintf(s + len, cap - len, "]},");
    }

    len += (size_t) snprintf(s + len, cap - len, "'followerCount':{'$nin':[");

    for (i = 0; i < extra; i++) {
        len += (size_t) snprintf(s + len, cap - len, "%s%zu", i ? "," : "",
                                 i + 1);
    }

    (void) snprintf(s + len, cap - len, "]}}");

    return s;
}


static void
test_limit_values(void **state)
{
    char  *s;

    (void) state;

    s = values_filter(MT_FILTER_MAX_VALUES - 4 * MT_FILTER_MAX_IN);
    check(s, M_FULL | M_UK | M_NONE);
    free(s);

    s = values_filter(MT_FILTER_MAX_VALUES - 4 * MT_FILTER_MAX_IN + 1);
    check_err(s, "filter.followerCount.$nin",
              "more than 4096 values in the filter");
    free(s);

    /* a bare value is one */
    s = wide("$and", 64, "{'followerCount':{'$ne':%zu}}");
    check(s, M_FULL | M_UK | M_NONE);
    free(s);
}


static void
test_limit_bytes(void **state)
{
    char    *s;
    size_t   len;

    (void) state;

    /* {"region":"xx...x"} is 13 bytes and the x */
    len = MT_FILTER_MAX_BYTES - 13;
    s = malloc(len + 32);
    assert_non_null(s);

    memcpy(s, "{'region':'", 11);
    memset(s + 11, 'x', len);
    memcpy(s + 11 + len, "'}", 3);
    check(s, 0);

    memcpy(s + 11 + len, "x'}", 4);
    check_err(s, "filter", "must be at most 65536 bytes as JSON");

    free(s);
}


/* issue 8: 45,000 clauses, 889 KB, refused at once with one error */
static void
test_limit_wide_or(void **state)
{
    char  *s;

    (void) state;

    s = wide("$or", 45000, "{'region':'X%zu'}");
    assert_true(strlen(s) > 800000);
    check_err(s, "filter", "must be at most 65536 bytes as JSON");
    free(s);

    /* under the size limit, over the clauses one: still one error */
    s = wide("$or", 5000, "{'a':%zu}");
    check_err(s, "filter.$or", "must have at most 64 clauses");
    free(s);
}


/* ----------------------------------------------------------------------
 * errors
 */

static void
test_errors_shape(void **state)
{
    (void) state;

    check_err("[]", "filter", "must be an object");
    check_err("'region'", "filter", "must be an object");
    check_err("null", "filter", "must be an object");

    check_err("{'foo':'x'}", "filter.foo", E_FIELD);
    check_err("{'Region':'US'}", "filter.Region", E_FIELD);
    check_err("{'region ':'US'}", "filter.region ", E_FIELD);
    check_err("{'$gt':5}", "filter.$gt", E_LOGIC);
    check_err("{'$not':{'region':'US'}}", "filter.$not", E_LOGIC);

    check_err("{'region':null}", "filter.region", E_VALUE);
    check_err("{'region':['US']}", "filter.region", E_VALUE);
    check_err("{'region':{}}", "filter.region", E_VALUE);

    check_err("{'region':{'$regex':'U.*'}}", "filter.region.$regex",
              E_OP);
    check_err("{'region':{'$EQ':'US'}}", "filter.region.$EQ", E_OP);
    check_err("{'region':{'eq':'US'}}", "filter.region.eq", E_OP);
    check_err("{'region':{'$and':[{'region':'US'}]}}",
              "filter.region.$and", E_OP);

    check_err("{'$and':{'region':'US'}}", "filter.$and", E_FILTERS);
    check_err("{'$or':[]}", "filter.$or", E_FILTERS);
    check_err("{'$or':null}", "filter.$or", E_FILTERS);
    check_err("{'$and':[{'region':'US'},'verified']}", "filter.$and[1]",
              "must be an object");
    check_err("{'$or':[[]]}", "filter.$or[0]", "must be an object");
}


static void
test_errors_operands(void **state)
{
    (void) state;

    check_err("{'region':{'$eq':['US']}}", "filter.region.$eq", E_SCALAR);
    check_err("{'region':{'$eq':null}}", "filter.region.$eq", E_SCALAR);
    check_err("{'verified':{'$ne':{}}}", "filter.verified.$ne", E_SCALAR);

    check_err("{'followerCount':{'$gt':'5'}}", "filter.followerCount.$gt",
              "must be a number");
    check_err("{'followerCount':{'$gte':null}}",
              "filter.followerCount.$gte", "must be a number");
    check_err("{'followerCount':{'$lt':[1]}}", "filter.followerCount.$lt",
              "must be a number");
    check_err("{'region':{'$lte':'US'}}", "filter.region.$lte",
              "must be a number");

    check_err("{'region':{'$exists':1}}", "filter.region.$exists",
              "must be a boolean");
    check_err("{'region':{'$exists':'true'}}", "filter.region.$exists",
              "must be a boolean");

    check_err("{'primaryNiches':{'$in':'Gaming'}}",
              "filter.primaryNiches.$in", E_LIST);
    check_err("{'primaryNiches':{'$in':[]}}",
              "filter.primaryNiches.$in", E_LIST);
    check_err("{'primaryNiches':{'$nin':{}}}",
              "filter.primaryNiches.$nin", E_LIST);
    check_errs("{'primaryNiches':{'$in':['Gaming',['Tech'],null]}}", 2,
               "filter.primaryNiches.$in[1]", E_SCALAR,
               "filter.primaryNiches.$in[2]", E_SCALAR);
}


static void
test_errors_all(void **state)
{
    (void) state;

    /* every problem, in document order, at any depth */
    check_errs("{'region':{'$eq':'US','$foo':1,'$gt':'x'},"
               "'bar':1,"
               "'$and':[{'verified':true},"
               "{'followerCount':{'$gte':'many'}},"
               "{'$or':[{'primaryNiches':{'$in':[]}},{'baz':{}}]}],"
               "'apparentValues':{'$exists':null}}",
               7,
               "filter.region.$foo", E_OP,
               "filter.region.$gt", "must be a number",
               "filter.bar", E_FIELD,
               "filter.$and[1].followerCount.$gte", "must be a number",
               "filter.$and[2].$or[0].primaryNiches.$in", E_LIST,
               "filter.$and[2].$or[1].baz", E_FIELD,
               "filter.apparentValues.$exists", "must be a boolean");

    /* the offending value is kept with its error */
    {
        mt_errs_t       errs;
        mt_json_doc_t  *doc;

        doc = parse("{'followerCount':{'$lt':'x'}}");
        mt_errs_init(&errs);
        assert_null(mt_filter_compile(mt_json_root(doc), &errs));
        assert_int_equal(errs.n, 1);
        assert_non_null(errs.items[0].value);
        assert_int_equal(errs.items[0].value->type, MT_JSON_STRING);
        assert_string_equal(errs.items[0].value->u.string.s, "x");
        mt_errs_free(&errs);
        mt_json_free(doc);
    }

    /* a long unknown key: the path is cut, not overrun */
    {
        char    *s, key[1000], want[1100];
        size_t   n;

        memset(key, 'k', sizeof(key) - 1);
        key[sizeof(key) - 1] = '\0';
        s = malloc(sizeof(key) + 16);
        assert_non_null(s);
        (void) sprintf(s, "{'%s':1}", key);

        n = sizeof(((mt_err_t *) NULL)->field);
        (void) sprintf(want, "filter.%s", key);
        want[n - 1] = '\0';

        check_err(s, want, E_FIELD);
        free(s);
    }
}


/* ----------------------------------------------------------------------
 * the sample creators
 */

/* how many of the sample creators the filter matches */
static size_t
count_sample(const mt_meta_t *metas, size_t n, const char *filter)
{
    size_t        i, count;
    mt_filter_t  *f;

    f = compile_ok(filter);
    count = 0;

    for (i = 0; i < n; i++) {
        count += (size_t) mt_filter_match(f, &metas[i]);
    }

    mt_filter_free(f);
    return count;
}


static void
test_sample_creators(void **state)
{
    char              *data;
    size_t             i, n, len;
    mt_meta_t          metas[64];
    mt_json_doc_t     *doc;
    const mt_json_t   *root, *c;

    (void) state;

    data = unit_read_file("t/data/creators.json", &len);
    doc = parse_raw(data, len);
    root = mt_json_root(doc);
    assert_int_equal(root->type, MT_JSON_OBJECT);

    n = root->u.object.n;
    assert_true(n > 0 && n < 64);

    for (i = 0; i < n; i++) {
        mt_meta_from_creator(root->u.object.pairs[i].value, &metas[i]);
        assert_int_equal(metas[i].present, 0x3f);
    }

    c = mt_json_get(root, "mindsovermoney");
    assert_non_null(c);
    mt_meta_from_creator(c, &metas[n]);
    assert_int_equal(metas[n].ntags, 8);
    assert_int_equal(metas[n].follower_count, 117339);
    assert_int_equal(metas[n].verified, 0);
    assert_true(metas[n].tags[0] == mt_meta_tag(MT_F_REGION, "US", 2));
    assert_true(metas[n].tags[1]
                == mt_meta_tag(MT_F_PRIMARY, "Personal Finance", 16));
    assert_true(metas[n].tags[7]
                == mt_meta_tag(MT_F_VALUES, "Transparency", 12));

    assert_int_equal(count_sample(metas, n, "{}"), n);
    assert_int_equal(count_sample(metas, n,
                     "{'primaryNiches':{'$in':['Personal Finance',"
                     "'Gaming']}}"), 2);
    assert_int_equal(count_sample(metas, n,
                     "{'primaryNiches':'personal finance'}"), 0);
    assert_int_equal(count_sample(metas, n,
                     "{'secondaryNiches':'Personal Finance'}"), 1);
    assert_int_equal(count_sample(metas, n,
                     "{'$or':[{'primaryNiches':'Personal Finance'},"
                     "{'secondaryNiches':'Personal Finance'}]}"), 2);
    assert_int_equal(count_sample(metas, n,
                     "{'primaryNiches':{'$nin':['Humor']}}"), n - 2);
    assert_int_equal(count_sample(metas, n,
                     "{'apparentValues':'Community'}"), 4);
    assert_int_equal(count_sample(metas, n, "{'region':{'$ne':'US'}}"), 3);
    assert_int_equal(count_sample(metas, n,
                     "{'region':{'$in':['UK','CA','EU']}}"), 3);
    assert_int_equal(count_sample(metas, n, "{'verified':true}"), 1);
    assert_int_equal(count_sample(metas, n,
                     "{'followerCount':{'$gte':600000}}"), 4);
    assert_int_equal(count_sample(metas, n,
                     "{'region':'US','followerCount':{'$lt':100000},"
                     "'apparentValues':{'$in':['Curiosity','Play']}}"), 2);
    assert_int_equal(count_sample(metas, n,
                     "{'$and':[{'verified':true},"
                     "{'primaryNiches':'Civic Engagement'},"
                     "{'secondaryNiches':{'$ne':'Current Events'}}]}"), 0);

    mt_json_free(doc);
    free(data);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_tag),
        cmocka_unit_test(test_meta_full),
        cmocka_unit_test(test_meta_partial),
        cmocka_unit_test(test_meta_cap),
        cmocka_unit_test(test_match_all),
        cmocka_unit_test(test_eq),
        cmocka_unit_test(test_ne),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_in_nin),
        cmocka_unit_test(test_in_many),
        cmocka_unit_test(test_exists),
        cmocka_unit_test(test_absent),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_and_or),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_limit_clauses),
        cmocka_unit_test(test_limit_conditions),
        cmocka_unit_test(test_limit_values),
        cmocka_unit_test(test_limit_bytes),
        cmocka_unit_test(test_limit_wide_or),
        cmocka_unit_test(test_errors_shape),
        cmocka_unit_test(test_errors_operands),
        cmocka_unit_test(test_errors_all),
        cmocka_unit_test(test_sample_creators),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

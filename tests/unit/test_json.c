/*
 * Unit tests for lib/json.c: parser, limits, writer, error envelope.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <float.h>
#include <cmocka.h>

#include "json.h"
#include "util.h"


#define S(lit)  (lit), (sizeof(lit) - 1)

#define TS      1709210096789LL         /* 2024-02-29T12:34:56.789Z */
#define TS_STR  "2024-02-29T12:34:56.789Z"


static mt_json_doc_t *
parse_ok_n(const char *text, size_t len, const mt_json_limits_t *limits)
{
    char            errbuf[128];
    mt_json_err_t   err;
    mt_json_doc_t  *doc;

    err = MT_JSON_ENOMEM;
    errbuf[0] = '\0';

    doc = mt_json_parse(text, len, limits, &err, errbuf, sizeof(errbuf));
    if (doc == NULL) {
        print_error("unexpected failure %d \"%s\" for: %.*s\n", (int) err,
                    errbuf, (int) (len > 200 ? 200 : len), text);
    }

    assert_non_null(doc);
    assert_int_equal(err, MT_JSON_OK);
    assert_non_null(mt_json_root(doc));

    return doc;
}


static mt_json_doc_t *
parse_ok(const char *text)
{
    return parse_ok_n(text, strlen(text), NULL);
}


/* msg NULL: only the code is checked. */
static void
parse_err_n(const char *text, size_t len, const mt_json_limits_t *limits,
    mt_json_err_t want, const char *msg)
{
    char            errbuf[128];
    mt_json_err_t   err;
    mt_json_doc_t  *doc;

    err = MT_JSON_OK;
    errbuf[0] = '\0';

    doc = mt_json_parse(text, len, limits, &err, errbuf, sizeof(errbuf));
    if (doc != NULL || err != want) {
        print_error("want %d, got %d \"%s\" for: %.*s\n", (int) want,
                    (int) err, errbuf, (int) (len > 200 ? 200 : len), text);
    }

    assert_null(doc);
    assert_int_equal(err, want);
    assert_true(errbuf[0] != '\0');

    if (msg) {
        assert_string_equal(errbuf, msg);
    }
}


static void
parse_err(const char *text, mt_json_err_t want, const char *msg)
{
    parse_err_n(text, strlen(text), NULL, want, msg);
}


/* Re-serialises a parsed text and compares it with the canonical form. */
static void
roundtrip(const char *text, const char *canonical)
{
    char           *out;
    size_t          len;
    mt_jw_t         w;
    mt_json_doc_t  *doc;

    doc = parse_ok(text);

    mt_jw_init(&w);
    mt_jw_value(&w, mt_json_root(doc));
    out = mt_jw_take(&w, &len);

    assert_non_null(out);
    assert_int_equal(len, strlen(canonical));
    assert_memory_equal(out, canonical, len);
    assert_true(mt_utf8_valid(out, len));

    free(out);
    mt_json_free(doc);

    /* the canonical form is a fixed point */
    if (strcmp(text, canonical) != 0) {
        roundtrip(canonical, canonical);
    }
}


/* Writes one string value and compares the output. */
static void
check_str(const char *in, size_t inlen, const char *want, size_t wantlen)
{
    char     *out;
    size_t    len;
    mt_jw_t   w;

    mt_jw_init(&w);
    mt_jw_str(&w, in, inlen);
    out = mt_jw_take(&w, &len);

    assert_non_null(out);
    assert_int_equal(len, wantlen);
    assert_memory_equal(out, want, len);
    assert_int_equal(out[len], '\0');
    assert_true(mt_utf8_valid(out, len));

    free(out);
}


static void
check_double(double v, const char *want)
{
    char           *out;
    size_t          len;
    mt_jw_t         w;
    mt_json_doc_t  *doc;

    mt_jw_init(&w);
    mt_jw_double(&w, v);
    out = mt_jw_take(&w, &len);

    assert_non_null(out);
    assert_string_equal(out, want);

    /* always valid JSON, and it reads back to the same value */
    doc = parse_ok(out);

    if (isfinite(v)) {
        assert_int_equal(mt_json_root(doc)->type, MT_JSON_NUMBER);
        assert_true(mt_json_root(doc)->u.number.d == v);
        assert_true(strtod(out, NULL) == v);

    } else {
        assert_int_equal(mt_json_root(doc)->type, MT_JSON_NULL);
    }

    mt_json_free(doc);
    free(out);
}


static char *
take(mt_jw_t *w)
{
    char  *out;

    out = mt_jw_take(w, NULL);
    assert_non_null(out);

    return out;
}


/* An unfinished document is not failed yet, but take refuses it. */
static void
expect_take_null(mt_jw_t *w)
{
    size_t  len;

    len = 12345;
    assert_null(mt_jw_take(w, &len));
    assert_int_equal(len, 12345);

    /* take resets the writer */
    assert_null(w->data);
    assert_false(mt_jw_failed(w));
}


static void
expect_failed(mt_jw_t *w)
{
    assert_true(mt_jw_failed(w));
    expect_take_null(w);
}


/* ---------------------------------------------------------------------- */


static void
test_scalars(void **state)
{
    const mt_json_t  *v;
    mt_json_doc_t    *doc;

    (void) state;

    doc = parse_ok("null");
    assert_int_equal(mt_json_root(doc)->type, MT_JSON_NULL);
    mt_json_free(doc);

    doc = parse_ok(" \t\r\n true \n");
    v = mt_json_root(doc);
    assert_int_equal(v->type, MT_JSON_BOOL);
    assert_int_equal(v->u.boolean, 1);
    mt_json_free(doc);

    doc = parse_ok("false");
    assert_int_equal(mt_json_root(doc)->u.boolean, 0);
    mt_json_free(doc);

    doc = parse_ok("\"hi\\n\\u00e9\\/\"");
    v = mt_json_root(doc);
    assert_int_equal(v->type, MT_JSON_STRING);
    assert_int_equal(v->u.string.len, 6);
    assert_string_equal(v->u.string.s, "hi\n\xc3\xa9/");
    mt_json_free(doc);

    doc = parse_ok("\"\"");
    v = mt_json_root(doc);
    assert_int_equal(v->u.string.len, 0);
    assert_string_equal(v->u.string.s, "");
    mt_json_free(doc);

    /* an embedded NUL keeps its length */
    doc = parse_ok("\"a\\u0000b\"");
    v = mt_json_root(doc);
    assert_int_equal(v->u.string.len, 3);
    assert_memory_equal(v->u.string.s, "a\0b", 4);
    mt_json_free(doc);

    /* the input needs no NUL: the length bounds it */
    doc = parse_ok_n("[1]]]]", 3, NULL);
    assert_int_equal(mt_json_root(doc)->u.array.n, 1);
    mt_json_free(doc);
}


static void
test_nested(void **state)
{
    const mt_json_t  *root, *a, *o, *v;
    mt_json_doc_t    *doc;

    (void) state;

    doc = parse_ok("{\"a\": [1, {\"b\": null, \"c\": [true, \"x\"]}, []],"
                   " \"d\": {}, \"e\": {\"f\": {\"g\": -1.5}}}");
    root = mt_json_root(doc);

    assert_int_equal(root->type, MT_JSON_OBJECT);
    assert_int_equal(root->u.object.n, 3);
    assert_string_equal(root->u.object.pairs[0].key, "a");
    assert_int_equal(root->u.object.pairs[0].key_len, 1);
    assert_string_equal(root->u.object.pairs[1].key, "d");
    assert_string_equal(root->u.object.pairs[2].key, "e");

    a = mt_json_get(root, "a");
    assert_non_null(a);
    assert_int_equal(a->type, MT_JSON_ARRAY);
    assert_int_equal(a->u.array.n, 3);
    assert_int_equal(a->u.array.items[0]->u.number.i, 1);
    assert_int_equal(a->u.array.items[2]->type, MT_JSON_ARRAY);
    assert_int_equal(a->u.array.items[2]->u.array.n, 0);

    o = a->u.array.items[1];
    assert_int_equal(o->type, MT_JSON_OBJECT);
    assert_int_equal(mt_json_get(o, "b")->type, MT_JSON_NULL);

    v = mt_json_get(o, "c");
    assert_int_equal(v->u.array.n, 2);
    assert_int_equal(v->u.array.items[0]->u.boolean, 1);
    assert_string_equal(v->u.array.items[1]->u.string.s, "x");

    v = mt_json_get(root, "d");
    assert_int_equal(v->type, MT_JSON_OBJECT);
    assert_int_equal(v->u.object.n, 0);

    v = mt_json_get(mt_json_get(mt_json_get(root, "e"), "f"), "g");
    assert_non_null(v);
    assert_true(v->u.number.d == -1.5);
    assert_int_equal(v->u.number.is_int, 0);

    mt_json_free(doc);
}


static void
test_get(void **state)
{
    const mt_json_t  *root;
    mt_json_doc_t    *doc;

    (void) state;

    doc = parse_ok("{\"a\": 1, \"b\": 2, \"a\": 3, \"k\\u0000x\": 4,"
                   " \"\": 5, \"\\u00e9\": 6}");
    root = mt_json_root(doc);

    /* duplicates stay in the tree in document order, the last one wins */
    assert_int_equal(root->u.object.n, 6);
    assert_int_equal(root->u.object.pairs[0].value->u.number.i, 1);
    assert_int_equal(root->u.object.pairs[2].value->u.number.i, 3);
    assert_int_equal(mt_json_get(root, "a")->u.number.i, 3);
    assert_int_equal(mt_json_get(root, "b")->u.number.i, 2);

    /* a key with a NUL in it matches neither prefix */
    assert_null(mt_json_get(root, "k"));
    assert_int_equal(root->u.object.pairs[3].key_len, 3);

    assert_int_equal(mt_json_get(root, "")->u.number.i, 5);
    assert_int_equal(mt_json_get(root, "\xc3\xa9")->u.number.i, 6);
    assert_null(mt_json_get(root, "c"));
    assert_null(mt_json_get(root, "A"));
    assert_null(mt_json_get(root, NULL));
    assert_null(mt_json_get(NULL, "a"));
    assert_null(mt_json_get(mt_json_get(root, "a"), "a"));
    mt_json_free(doc);

    doc = parse_ok("[{\"a\": 1}]");
    assert_null(mt_json_get(mt_json_root(doc), "a"));
    mt_json_free(doc);

    assert_null(mt_json_root(NULL));
    mt_json_free(NULL);
}


static void
test_type_names(void **state)
{
    (void) state;

    assert_string_equal(mt_json_type_name(MT_JSON_NULL), "null");
    assert_string_equal(mt_json_type_name(MT_JSON_BOOL), "boolean");
    assert_string_equal(mt_json_type_name(MT_JSON_NUMBER), "number");
    assert_string_equal(mt_json_type_name(MT_JSON_STRING), "string");
    assert_string_equal(mt_json_type_name(MT_JSON_ARRAY), "array");
    assert_string_equal(mt_json_type_name(MT_JSON_OBJECT), "object");
}


static void
check_number(const char *text, int is_int, int64_t i, double d)
{
    const mt_json_t  *v;
    mt_json_doc_t    *doc;

    doc = parse_ok(text);
    v = mt_json_root(doc);

    assert_int_equal(v->type, MT_JSON_NUMBER);
    assert_int_equal(v->u.number.is_int, is_int);

    if (is_int) {
        assert_true(v->u.number.i == i);
    }

    assert_true(v->u.number.d == d);
    assert_int_equal(v->u.number.raw_len, strlen(text));
    assert_memory_equal(v->u.number.raw, text, strlen(text));
    assert_int_equal(v->u.number.raw[v->u.number.raw_len], '\0');

    mt_json_free(doc);
}


static void
test_numbers(void **state)
{
    const mt_json_t  *v;
    mt_json_doc_t    *doc;

    (void) state;

    check_number("0", 1, 0, 0.0);
    check_number("-0", 1, 0, 0.0);
    check_number("42", 1, 42, 42.0);
    check_number("-42", 1, -42, -42.0);
    check_number("9223372036854775807", 1, INT64_MAX, 9223372036854775807.0);
    check_number("-9223372036854775808", 1, INT64_MIN,
                 -9223372036854775808.0);

    /* beyond int64: a number, but not an integer one */
    check_number("9223372036854775808", 0, 0, 9223372036854775808.0);
    check_number("-9223372036854775809", 0, 0, -9223372036854775809.0);
    check_number("123456789012345678901234567890", 0, 0,
                 123456789012345678901234567890.0);

    /* integral in value but not in form */
    check_number("1.0", 0, 0, 1.0);
    check_number("1e3", 0, 0, 1000.0);
    check_number("1E3", 0, 0, 1000.0);

    check_number("1.5", 0, 0, 1.5);
    check_number("-0.25", 0, 0, -0.25);
    check_number("2.5e+10", 0, 0, 2.5e10);
    check_number("1E-2", 0, 0, 0.01);
    check_number("0.1", 0, 0, 0.1);
    check_number("1e400", 0, 0, HUGE_VAL);
    check_number("-1e400", 0, 0, -HUGE_VAL);
    check_number("1e-400", 0, 0, 0.0);

    /* -0 keeps its sign in the double */
    doc = parse_ok("-0.0");
    v = mt_json_root(doc);
    assert_true(signbit(v->u.number.d));
    mt_json_free(doc);

    /* numbers inside containers end at the right byte */
    doc = parse_ok("[1,-2.5e3,{\"n\":7}]");
    v = mt_json_root(doc);
    assert_int_equal(v->u.array.items[0]->u.number.raw_len, 1);
    assert_string_equal(v->u.array.items[1]->u.number.raw, "-2.5e3");
    assert_true(v->u.array.items[1]->u.number.d == -2500.0);
    assert_int_equal(mt_json_get(v->u.array.items[2], "n")->u.number.i, 7);
    mt_json_free(doc);

    parse_err("01", MT_JSON_ESYNTAX, NULL);
    parse_err("-", MT_JSON_ESYNTAX, NULL);
    parse_err("1.", MT_JSON_ESYNTAX, NULL);
    parse_err(".5", MT_JSON_ESYNTAX, NULL);
    parse_err("+1", MT_JSON_ESYNTAX, NULL);
    parse_err("1e", MT_JSON_ESYNTAX, NULL);
    parse_err("0x10", MT_JSON_ESYNTAX, NULL);
    parse_err("NaN", MT_JSON_ESYNTAX, NULL);
    parse_err("Infinity", MT_JSON_ESYNTAX, NULL);
    parse_err("-Infinity", MT_JSON_ESYNTAX, NULL);
    parse_err("[1.e5]", MT_JSON_ESYNTAX, NULL);
}


static void
test_syntax(void **state)
{
    mt_json_err_t  err;

    (void) state;

    parse_err("", MT_JSON_ESYNTAX, "invalid JSON at byte 0");
    parse_err(" \t\r\n ", MT_JSON_ESYNTAX, "invalid JSON at byte 5");
    parse_err("[1,]", MT_JSON_ESYNTAX, "invalid JSON at byte 4");
    parse_err("[1,2", MT_JSON_ESYNTAX, "invalid JSON at byte 4");
    parse_err("{\"a\":1,}", MT_JSON_ESYNTAX, "invalid JSON at byte 8");
    parse_err("[1] x", MT_JSON_ESYNTAX, "invalid JSON at byte 5");
    parse_err("1 2", MT_JSON_ESYNTAX, NULL);
    parse_err("{} {}", MT_JSON_ESYNTAX, NULL);
    parse_err("[1]]", MT_JSON_ESYNTAX, NULL);
    parse_err("[1],", MT_JSON_ESYNTAX, NULL);
    parse_err("{a:1}", MT_JSON_ESYNTAX, NULL);
    parse_err("{\"a\"}", MT_JSON_ESYNTAX, NULL);
    parse_err("{\"a\":}", MT_JSON_ESYNTAX, NULL);
    parse_err("{\"a\" 1}", MT_JSON_ESYNTAX, NULL);
    parse_err("{1:1}", MT_JSON_ESYNTAX, NULL);
    parse_err("['a']", MT_JSON_ESYNTAX, NULL);
    parse_err("\"abc", MT_JSON_ESYNTAX, NULL);
    parse_err("\"a\\x\"", MT_JSON_ESYNTAX, NULL);
    parse_err("\"\\u12\"", MT_JSON_ESYNTAX, NULL);
    parse_err("\"\\u12g4\"", MT_JSON_ESYNTAX, NULL);
    parse_err("\"a\tb\"", MT_JSON_ESYNTAX, NULL);
    parse_err("\"\x01\"", MT_JSON_ESYNTAX, NULL);
    parse_err("tru", MT_JSON_ESYNTAX, NULL);
    parse_err("nul", MT_JSON_ESYNTAX, NULL);
    parse_err("True", MT_JSON_ESYNTAX, NULL);
    parse_err("// c\n1", MT_JSON_ESYNTAX, NULL);
    parse_err("/* c */ 1", MT_JSON_ESYNTAX, NULL);
    parse_err("[1 /* c */]", MT_JSON_ESYNTAX, NULL);
    parse_err("\xef\xbb\xbf[1]", MT_JSON_ESYNTAX, NULL);

    /* yajl takes form feed and vertical tab for whitespace; JSON does not */
    parse_err("[\f1]", MT_JSON_ESYNTAX, "invalid JSON at byte 2");
    parse_err("\v1", MT_JSON_ESYNTAX, "invalid JSON at byte 1");
    parse_err("{\"a\":1}\f", MT_JSON_ESYNTAX, NULL);
    roundtrip("[\"\\f\\u000b\"]", "[\"\\f\\u000b\"]");

    /*
     * One text: nothing but whitespace after the value.  yajl refuses
     * most trailing bytes, but took an unterminated string after it.
     */
    parse_err("{\"a\":1} x", MT_JSON_ESYNTAX, "invalid JSON at byte 9");
    parse_err("{}{}", MT_JSON_ESYNTAX, NULL);
    parse_err("{} 1", MT_JSON_ESYNTAX, NULL);
    parse_err("{} \"abc", MT_JSON_ESYNTAX, "invalid JSON at byte 4");
    parse_err("{} \"", MT_JSON_ESYNTAX, "invalid JSON at byte 4");
    parse_err("{\"a\":1}\n\"x\\\"", MT_JSON_ESYNTAX, NULL);
    parse_err("{\"a\":\"}\"} \"", MT_JSON_ESYNTAX, "invalid JSON at byte 11");
    parse_err("[1,\"]\"] \"x", MT_JSON_ESYNTAX, "invalid JSON at byte 9");
    parse_err("1\"abc", MT_JSON_ESYNTAX, "invalid JSON at byte 2");
    parse_err("\"a\" \"b", MT_JSON_ESYNTAX, "invalid JSON at byte 5");
    parse_err("true \"x", MT_JSON_ESYNTAX, NULL);
    parse_err("null\"", MT_JSON_ESYNTAX, NULL);
    parse_err("{} \"\\u00e9", MT_JSON_ESYNTAX, NULL);
    mt_json_free(parse_ok(" \t\r\n{\"a\":\"}\"}\r\n\t "));
    mt_json_free(parse_ok("\"x\"\n"));
    mt_json_free(parse_ok(" -1.5e3 "));

    parse_err_n("[1]\0", 4, NULL, MT_JSON_ESYNTAX, NULL);
    parse_err_n("\0", 1, NULL, MT_JSON_ESYNTAX, NULL);

    /* non-ASCII outside a string is a syntax error, not a UTF-8 one */
    parse_err("[1]\xff", MT_JSON_ESYNTAX, NULL);
    parse_err("\xc3\xa9", MT_JSON_ESYNTAX, NULL);

    /* no data at all, and a NULL or tiny errbuf */
    parse_err_n(NULL, 0, NULL, MT_JSON_ESYNTAX, "invalid JSON at byte 0");

    assert_null(mt_json_parse(S("[1,]"), NULL, NULL, NULL, 0));

    err = MT_JSON_OK;
    assert_null(mt_json_parse(S("[1,]"), NULL, &err, NULL, 100));
    assert_int_equal(err, MT_JSON_ESYNTAX);

    {
        char  small[8];

        assert_null(mt_json_parse(S("[1,]"), NULL, &err, small,
                                  sizeof(small)));
        assert_string_equal(small, "invalid");
    }
}


static void
test_limit_size(void **state)
{
    char              *big;
    mt_json_doc_t     *doc;
    mt_json_limits_t   lim;

    (void) state;

    memset(&lim, 0, sizeof(lim));

    /* "[1, 2]" is 6 bytes */
    lim.max_size = 6;
    doc = parse_ok_n(S("[1, 2]"), &lim);
    mt_json_free(doc);

    lim.max_size = 5;
    parse_err_n(S("[1, 2]"), &lim, MT_JSON_ESIZE,
                "body larger than 5 bytes");

    /* checked before parsing: even garbage gets ESIZE */
    parse_err_n(S("xxxxxx"), &lim, MT_JSON_ESIZE, NULL);

    lim.max_size = 1048576;
    big = malloc(1048577);
    assert_non_null(big);
    memset(big, ' ', 1048577);
    big[0] = '1';

    doc = parse_ok_n(big, 1048576, &lim);
    assert_int_equal(mt_json_root(doc)->u.number.i, 1);
    mt_json_free(doc);

    parse_err_n(big, 1048577, &lim, MT_JSON_ESIZE,
                "body larger than 1048576 bytes");
    free(big);
}


static char *
nest(const char *open, const char *mid, const char *close, size_t depth)
{
    char    *buf, *p;
    size_t   i, lo, lm, lc;

    lo = strlen(open);
    lm = strlen(mid);
    lc = strlen(close);

    buf = malloc(depth * (lo + lc) + lm + 1);
    assert_non_null(buf);

    p = buf;

    for (i = 0; i < depth; i++) {
        memcpy(p, open, lo);
        p += lo;
    }

    memcpy(p, mid, lm);
    p += lm;

    for (i = 0; i < depth; i++) {
        memcpy(p, close, lc);
        p += lc;
    }

    *p = '\0';

    return buf;
}


static void
test_limit_counts(void **state)
{
    size_t             i;
    mt_jw_t            w;
    mt_json_doc_t     *doc;
    mt_json_limits_t   lim;

    (void) state;

    memset(&lim, 0, sizeof(lim));
    lim.max_members = 3;
    lim.max_values = 8;

    doc = parse_ok_n(S("{\"a\":1,\"b\":2,\"c\":[1,2,3]}"), &lim);
    mt_json_free(doc);

    /* duplicate keys count: each is work to parse */
    parse_err_n(S("{\"a\":1,\"a\":2,\"a\":3,\"a\":4}"), &lim,
                MT_JSON_EMEMBERS, "an object or array of more than 3 members");
    parse_err_n(S("[1,2,3,4]"), &lim, MT_JSON_EMEMBERS, NULL);
    parse_err_n(S("{\"a\":[1,2,3,[]]}"), &lim, MT_JSON_EMEMBERS, NULL);

    /* 9 values: the root, three arrays, five numbers */
    parse_err_n(S("[[1,2],[3,4],[5]]"), &lim, MT_JSON_EVALUES,
                "more than 8 values");
    doc = parse_ok_n(S("[[1,2],[3,4],[]]"), &lim);
    mt_json_free(doc);

    /* 100,000 keys stop at the limit, not at the end */
    lim.max_members = 4096;
    lim.max_values = 0;
    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    for (i = 0; i < 100000; i++) {
        char  key[16];

        (void) snprintf(key, sizeof(key), "k%zu", i);
        mt_jw_key(&w, key);
        mt_jw_int(&w, (int64_t) i);
    }
    mt_jw_obj_close(&w);
    assert_false(mt_jw_failed(&w));
    parse_err_n(w.data, w.len, &lim, MT_JSON_EMEMBERS,
                "an object or array of more than 4096 members");
    mt_jw_free(&w);
}


static void
test_limit_depth(void **state)
{
    char              *text;
    mt_json_doc_t     *doc;
    mt_json_limits_t   lim;

    (void) state;

    memset(&lim, 0, sizeof(lim));
    lim.max_depth = 3;

    doc = parse_ok_n(S("[[[1]]]"), &lim);
    mt_json_free(doc);

    doc = parse_ok_n(S("{\"a\":[{}]}"), &lim);
    mt_json_free(doc);

    /* siblings do not add up */
    doc = parse_ok_n(S("[[[1]],[[2]],{\"a\":{}}]"), &lim);
    mt_json_free(doc);

    /* scalars are not nesting */
    doc = parse_ok_n(S("1"), &lim);
    mt_json_free(doc);

    parse_err_n(S("[[[[1]]]]"), &lim, MT_JSON_EDEPTH,
                "nesting deeper than 3 levels");
    parse_err_n(S("{\"a\":[{\"b\":[]}]}"), &lim, MT_JSON_EDEPTH, NULL);
    parse_err_n(S("[[],[[[]]]]"), &lim, MT_JSON_EDEPTH, NULL);

    /* the depth error wins over a later syntax error */
    parse_err_n(S("[[[[1]]] garbage"), &lim, MT_JSON_EDEPTH, NULL);

    lim.max_depth = 32;
    text = nest("[", "", "]", 32);
    doc = parse_ok_n(text, strlen(text), &lim);
    mt_json_free(doc);
    free(text);

    text = nest("{\"k\":", "1", "}", 33);
    parse_err_n(text, strlen(text), &lim, MT_JSON_EDEPTH,
                "nesting deeper than 32 levels");
    free(text);

    /* a limit cuts a very deep document short */
    text = nest("[", "", "]", 100000);
    parse_err_n(text, strlen(text), &lim, MT_JSON_EDEPTH, NULL);
    free(text);
}


static void
test_deep_unlimited(void **state)
{
    char              *text;
    mt_jw_t            w;
    const mt_json_t   *v;
    mt_json_doc_t     *doc;
    size_t             depth;

    (void) state;

    /* yajl has no nesting limit of its own: this parses */
    text = nest("[", "1", "]", 10000);
    doc = parse_ok(text);

    for (v = mt_json_root(doc), depth = 0; v->type == MT_JSON_ARRAY;
         v = v->u.array.items[0])
    {
        assert_int_equal(v->u.array.n, 1);
        depth++;
    }

    assert_int_equal(depth, 10000);
    assert_int_equal(v->u.number.i, 1);

    /* the writer stops at its own depth, without deep recursion */
    mt_jw_init(&w);
    mt_jw_value(&w, mt_json_root(doc));
    expect_failed(&w);

    mt_json_free(doc);
    free(text);

    text = nest("{\"a\":", "{}", "}", 10000);
    doc = parse_ok(text);
    mt_json_free(doc);
    free(text);

    /* unbalanced: a syntax error at the end */
    text = nest("[", "", "", 10000);
    parse_err(text, MT_JSON_ESYNTAX, "invalid JSON at byte 10000");
    free(text);
}


static void
test_limit_string(void **state)
{
    mt_json_doc_t     *doc;
    mt_json_limits_t   lim;

    (void) state;

    memset(&lim, 0, sizeof(lim));
    lim.max_string = 5;

    doc = parse_ok_n(S("[\"abcde\", \"\"]"), &lim);
    mt_json_free(doc);

    doc = parse_ok_n(S("{\"abcde\": \"abcde\"}"), &lim);
    mt_json_free(doc);

    parse_err_n(S("\"abcdef\""), &lim, MT_JSON_ESTRING,
                "string longer than 5 bytes");
    parse_err_n(S("{\"abcdef\": 1}"), &lim, MT_JSON_ESTRING, NULL);
    parse_err_n(S("{\"a\": [\"abcdef\"]}"), &lim, MT_JSON_ESTRING, NULL);

    /* bytes after unescaping: "\u00e9" is two, "\n" one */
    lim.max_string = 2;
    doc = parse_ok_n(S("[\"\\u00e9\", \"\\n\\t\"]"), &lim);
    mt_json_free(doc);
    parse_err_n(S("\"\\u00e9x\""), &lim, MT_JSON_ESTRING, NULL);

    /* numbers are not strings */
    lim.max_string = 1;
    doc = parse_ok_n(S("[12345678]"), &lim);
    mt_json_free(doc);

    lim.max_string = 1000;
    parse_err_n(S("{\"x\": [1, 2, \""
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789"
                  "X\"]}"), &lim, MT_JSON_ESTRING,
                "string longer than 1000 bytes");
}


static void
test_utf8(void **state)
{
    const mt_json_t  *v;
    mt_json_doc_t    *doc;

    (void) state;

    /* valid multibyte text, raw and escaped, in strings and keys */
    doc = parse_ok("{\"caf\xc3\xa9\": \"\xe2\x82\xac \xf0\x9f\x98\x80\","
                   " \"e\": \"\\ud83d\\ude00\", \"m\": \"\xf4\x8f\xbf\xbf\"}");
    v = mt_json_root(doc);
    assert_string_equal(mt_json_get(v, "caf\xc3\xa9")->u.string.s,
                        "\xe2\x82\xac \xf0\x9f\x98\x80");
    assert_string_equal(mt_json_get(v, "e")->u.string.s,
                        "\xf0\x9f\x98\x80");
    mt_json_free(doc);

    doc = parse_ok("\"\\uDBFF\\uDFFF\\uD800\\uDC00\\uffff\\u0800\"");
    v = mt_json_root(doc);
    assert_string_equal(v->u.string.s, "\xf4\x8f\xbf\xbf\xf0\x90\x80\x80"
                        "\xef\xbf\xbf\xe0\xa0\x80");
    mt_json_free(doc);

    /* an escaped backslash before "u" is not an escape */
    doc = parse_ok("[\"\\\\ud800\", \"\\\"\\\\\", \"\\\\\\ud83d\\ude00\"]");
    v = mt_json_root(doc);
    assert_string_equal(v->u.array.items[0]->u.string.s, "\\ud800");
    assert_string_equal(v->u.array.items[1]->u.string.s, "\"\\");
    assert_string_equal(v->u.array.items[2]->u.string.s,
                        "\\\xf0\x9f\x98\x80");
    mt_json_free(doc);

    /* raw bytes: overlong, surrogate, too big, truncated, stray, bad */
    parse_err("\"\xc0\xaf\"", MT_JSON_EUTF8, "invalid UTF-8 in string");
    parse_err("\"\xe0\x80\xaf\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\xf0\x80\x80\xaf\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\xed\xa0\x80\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\xed\xbf\xbf\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\xf4\x90\x80\x80\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\xe2\x82\"", MT_JSON_EUTF8, NULL);
    parse_err("\"ab\xf0\x9f\x98\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\x80\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\xff\"", MT_JSON_EUTF8, NULL);
    parse_err("[\"ok\", \"x\xfe\"]", MT_JSON_EUTF8, NULL);
    parse_err("\"\xe2\x82", MT_JSON_EUTF8, NULL);

    /* the same in keys */
    parse_err("{\"\xc0\xaf\": 1}", MT_JSON_EUTF8, NULL);
    parse_err("{\"\xed\xa0\x80\": 1}", MT_JSON_EUTF8, NULL);
    parse_err("{\"k\xe2\x82\": 1}", MT_JSON_EUTF8, NULL);
    parse_err("{\"a\": {\"\xff\": 1}}", MT_JSON_EUTF8, NULL);

    /* escapes that name no character: lone or misordered surrogates */
    parse_err("\"\\udc00\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\\ud800\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\\ud800x\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\\ud800\\u0041\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\\ud800\\ud800\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\\udc00\\ud800\"", MT_JSON_EUTF8, NULL);
    parse_err("\"\\ud800\\n\"", MT_JSON_EUTF8, NULL);
    parse_err("{\"\\uDFFF\": 1}", MT_JSON_EUTF8, NULL);
}


static void
test_roundtrip(void **state)
{
    (void) state;

    roundtrip(" { \"a\" : [ 1 , 2.50 , -0 , 1E5 , -1.5e-3 ] ,\n"
              "\t\"b\" : \"x\\/y\" , \"c\" : { } , \"d\" : [ ] } ",
              "{\"a\":[1,2.50,-0,1E5,-1.5e-3],\"b\":\"x/y\",\"c\":{},"
              "\"d\":[]}");
    roundtrip("[null,true,false,\"\",0]", "[null,true,false,\"\",0]");
    roundtrip("[[],{},[[]],{\"\":{}}]", "[[],{},[[]],{\"\":{}}]");
    roundtrip("{\"a\":1,\"a\":2}", "{\"a\":1,\"a\":2}");
    roundtrip("123456789012345678901234567890",
              "123456789012345678901234567890");
    roundtrip("\"\\u00e9\\u20AC\\ud83d\\ude00\"",
              "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    roundtrip("\"\\b\\f\\n\\r\\t\\\"\\\\\\u0000\\u001f\\u007f\\u0020\"",
              "\"\\b\\f\\n\\r\\t\\\"\\\\\\u0000\\u001f\\u007f \"");
    roundtrip("\"\\u2028\\u2029\xe2\x80\xa8\"",
              "\"\\u2028\\u2029\\u2028\"");
    roundtrip("{\"k\\u0000\\n\":\"v\"}", "{\"k\\u0000\\n\":\"v\"}");
}


static void
test_escape_controls(void **state)
{
    int          c;
    char         in[1], want[16];
    const char  *shorts;

    (void) state;

    for (c = 0; c < 0x20; c++) {
        in[0] = (char) c;

        switch (c) {
        case '\b': shorts = "b"; break;
        case '\f': shorts = "f"; break;
        case '\n': shorts = "n"; break;
        case '\r': shorts = "r"; break;
        case '\t': shorts = "t"; break;
        default:   shorts = NULL; break;
        }

        if (shorts) {
            snprintf(want, sizeof(want), "\"\\%s\"", shorts);

        } else {
            snprintf(want, sizeof(want), "\"\\u%04x\"", (unsigned) c);
        }

        check_str(in, 1, want, strlen(want));
    }

    check_str("\x7f", 1, S("\"\\u007f\""));
    check_str("\x1f", 1, S("\"\\u001f\""));
    check_str("\x1b[0m", 4, S("\"\\u001b[0m\""));
}


static void
test_escape_special(void **state)
{
    (void) state;

    check_str(S(""), S("\"\""));
    check_str(S("plain text 123 ~!@#$%^&*()"),
              S("\"plain text 123 ~!@#$%^&*()\""));
    check_str(S("\""), S("\"\\\"\""));
    check_str(S("\\"), S("\"\\\\\""));
    check_str(S("a/b</script>"), S("\"a/b</script>\""));
    check_str(S("a\0b"), S("\"a\\u0000b\""));

    /* JavaScript line terminators, but not their neighbours */
    check_str(S("\xe2\x80\xa8"), S("\"\\u2028\""));
    check_str(S("\xe2\x80\xa9"), S("\"\\u2029\""));
    check_str(S("x\xe2\x80\xa8y\xe2\x80\xa9z"), S("\"x\\u2028y\\u2029z\""));
    check_str(S("\xe2\x80\xa7\xe2\x80\xaa"), S("\"\xe2\x80\xa7\xe2\x80\xaa\""));

    /* valid UTF-8 goes through untouched */
    check_str(S("\xc2\x80\xdf\xbf\xef\xbf\xbf\xf0\x9f\x98\x80\xf4\x8f\xbf"
                "\xbf"),
              S("\"\xc2\x80\xdf\xbf\xef\xbf\xbf\xf0\x9f\x98\x80\xf4\x8f"
                "\xbf\xbf\""));
}


#define FFFD  "\xef\xbf\xbd"

static void
test_escape_invalid_utf8(void **state)
{
    mt_jw_t   w;
    char     *out;

    (void) state;

    check_str(S("\xff"), S("\"" FFFD "\""));
    check_str(S("\x80"), S("\"" FFFD "\""));
    check_str(S("a\xfe" "b"), S("\"a" FFFD "b\""));

    /* overlong: every byte is its own maximal subpart */
    check_str(S("\xc0\xaf"), S("\"" FFFD FFFD "\""));
    check_str(S("\xe0\x80\xaf"), S("\"" FFFD FFFD FFFD "\""));

    /* surrogate and too big: ED A0 and F4 90 are not a valid start */
    check_str(S("\xed\xa0\x80"), S("\"" FFFD FFFD FFFD "\""));
    check_str(S("\xf4\x90\x80\x80"), S("\"" FFFD FFFD FFFD FFFD "\""));

    /* truncated: one U+FFFD for the valid prefix */
    check_str(S("\xe2\x82"), S("\"" FFFD "\""));
    check_str(S("\xe2\x82z"), S("\"" FFFD "z\""));
    check_str(S("\xf0\x9f\x98"), S("\"" FFFD "\""));
    check_str(S("\xf0\x9f\x98\xe2\x82\xac"), S("\"" FFFD "\xe2\x82\xac\""));
    check_str(S("\xc3"), S("\"" FFFD "\""));
    check_str(S("\xc3\"\\"), S("\"" FFFD "\\\"\\\\\""));

    /* keys get the same treatment */
    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_keyn(&w, S("k\xff\n"));
    mt_jw_int(&w, 1);
    mt_jw_obj_close(&w);
    out = take(&w);
    assert_string_equal(out, "{\"k" FFFD "\\n\":1}");
    free(out);
}


static void
test_double(void **state)
{
    (void) state;

    check_double(0.1, "0.1");
    check_double(1.0 / 3, "0.3333333333333333");
    check_double(2.0 / 3, "0.6666666666666666");
    check_double(0.1 + 0.2, "0.30000000000000004");
    check_double(1e300, "1e+300");
    check_double(1e21, "1e+21");
    check_double(1e-7, "1e-07");
    check_double(123456789.0, "123456789");
    check_double(1.0, "1");
    check_double(0.0, "0");
    check_double(-0.0, "-0");
    check_double(-1.5, "-1.5");
    check_double(DBL_MAX, "1.7976931348623157e+308");
    check_double(-DBL_MAX, "-1.7976931348623157e+308");
    check_double(DBL_MIN, "2.2250738585072014e-308");
    check_double(5e-324, "5e-324");
    check_double(9007199254740993.0, "9007199254740992");
    check_double(NAN, "null");
    check_double(INFINITY, "null");
    check_double(-INFINITY, "null");
}


static void
test_int_bool_null(void **state)
{
    mt_jw_t   w;
    char     *out;

    (void) state;

    mt_jw_init(&w);
    mt_jw_arr_open(&w);
    mt_jw_int(&w, 0);
    mt_jw_int(&w, -1);
    mt_jw_int(&w, INT64_MAX);
    mt_jw_int(&w, INT64_MIN);
    mt_jw_bool(&w, 1);
    mt_jw_bool(&w, 42);
    mt_jw_bool(&w, 0);
    mt_jw_null(&w);
    mt_jw_cstr(&w, NULL);
    mt_jw_str(&w, NULL, 3);
    mt_jw_cstr(&w, "s");
    mt_jw_value(&w, NULL);
    mt_jw_arr_close(&w);
    out = take(&w);

    assert_string_equal(out, "[0,-1,9223372036854775807,"
                        "-9223372036854775808,true,true,false,null,null,"
                        "null,\"s\",null]");
    free(out);
}


static void
test_writer_structure(void **state)
{
    mt_jw_t   w;
    char     *out;
    size_t    len;

    (void) state;

    mt_jw_init(&w);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "a");
    mt_jw_int(&w, 1);
    mt_jw_key(&w, "b");
    mt_jw_arr_open(&w);
    mt_jw_int(&w, 1);
    mt_jw_arr_open(&w);
    mt_jw_arr_close(&w);
    mt_jw_obj_open(&w);
    mt_jw_obj_close(&w);
    mt_jw_cstr(&w, "x");
    mt_jw_arr_close(&w);
    mt_jw_keyn(&w, "c\"d", 3);
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "");
    mt_jw_null(&w);
    mt_jw_key(&w, "e");
    mt_jw_double(&w, 0.5);
    mt_jw_obj_close(&w);
    mt_jw_obj_close(&w);

    assert_false(mt_jw_failed(&w));
    out = mt_jw_take(&w, &len);
    assert_non_null(out);

    assert_string_equal(out, "{\"a\":1,\"b\":[1,[],{},\"x\"],"
                        "\"c\\\"d\":{\"\":null,\"e\":0.5}}");
    assert_int_equal(len, strlen(out));
    free(out);

    /* take reset the writer: it can be used again */
    assert_null(w.data);
    assert_int_equal(w.len, 0);
    mt_jw_int(&w, 7);
    out = take(&w);
    assert_string_equal(out, "7");
    free(out);

    /* a scalar on its own is a document */
    mt_jw_cstr(&w, "only");
    out = take(&w);
    assert_string_equal(out, "\"only\"");
    free(out);

    /* free without take */
    mt_jw_arr_open(&w);
    mt_jw_free(&w);
    assert_null(w.data);
    mt_jw_free(&w);
}


static void
test_writer_depth(void **state)
{
    int       i;
    char     *out, *want;
    mt_jw_t   w;

    (void) state;

    mt_jw_init(&w);

    for (i = 0; i < MT_JW_MAX_DEPTH; i++) {
        mt_jw_arr_open(&w);
    }

    for (i = 0; i < MT_JW_MAX_DEPTH; i++) {
        mt_jw_arr_close(&w);
    }

    out = take(&w);
    want = nest("[", "", "]", MT_JW_MAX_DEPTH);
    assert_string_equal(out, want);
    free(out);
    free(want);

    for (i = 0; i < MT_JW_MAX_DEPTH + 1; i++) {
        mt_jw_obj_open(&w);
        mt_jw_key(&w, "k");
    }

    expect_failed(&w);
}


static void
test_writer_misuse(void **state)
{
    mt_jw_t  w;
    size_t   len;

    (void) state;

    mt_jw_init(&w);

    /* nothing written */
    expect_take_null(&w);

    /* key outside any object */
    mt_jw_key(&w, "a");
    expect_failed(&w);

    /* key inside an array */
    mt_jw_arr_open(&w);
    mt_jw_key(&w, "a");
    expect_failed(&w);

    /* value in an object without a key */
    mt_jw_obj_open(&w);
    mt_jw_int(&w, 1);
    expect_failed(&w);

    /* two keys in a row */
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "a");
    mt_jw_key(&w, "b");
    expect_failed(&w);

    /* close with a key pending */
    mt_jw_obj_open(&w);
    mt_jw_key(&w, "a");
    mt_jw_obj_close(&w);
    expect_failed(&w);

    /* mismatched closes */
    mt_jw_obj_open(&w);
    mt_jw_arr_close(&w);
    expect_failed(&w);

    mt_jw_arr_open(&w);
    mt_jw_obj_close(&w);
    expect_failed(&w);

    /* closing what was never opened */
    mt_jw_arr_close(&w);
    expect_failed(&w);

    /* two top-level values */
    mt_jw_int(&w, 1);
    mt_jw_int(&w, 2);
    expect_failed(&w);

    /* unfinished documents */
    mt_jw_arr_open(&w);
    mt_jw_int(&w, 1);
    assert_false(mt_jw_failed(&w));
    expect_take_null(&w);

    mt_jw_obj_open(&w);
    mt_jw_key(&w, "a");
    expect_take_null(&w);

    /* a NULL key */
    mt_jw_obj_open(&w);
    mt_jw_key(&w, NULL);
    expect_failed(&w);

    /* sticky: nothing after the failure is written or repairs it */
    mt_jw_arr_open(&w);
    mt_jw_int(&w, 1);
    mt_jw_key(&w, "bad");
    assert_true(mt_jw_failed(&w));
    len = w.len;
    mt_jw_int(&w, 2);
    mt_jw_cstr(&w, "more");
    mt_jw_arr_open(&w);
    mt_jw_arr_close(&w);
    mt_jw_arr_close(&w);
    mt_jw_double(&w, 1.5);
    mt_jw_bool(&w, 1);
    mt_jw_null(&w);
    mt_jw_double(&w, NAN);
    assert_int_equal(w.len, len);
    assert_int_equal(w.depth, 1);
    expect_failed(&w);

    mt_jw_free(&w);
}


static void
test_writer_growth(void **state)
{
    size_t    i, n, len;
    char     *big, *out;
    mt_jw_t   w;

    (void) state;

    n = 300000;
    big = malloc(n);
    assert_non_null(big);

    for (i = 0; i < n; i++) {
        big[i] = (char) ('a' + i % 26);
    }

    /* control bytes grow the output six times over */
    big[0] = '\n';
    big[n - 1] = '\x01';

    mt_jw_init(&w);
    mt_jw_arr_open(&w);
    mt_jw_str(&w, big, n);

    for (i = 0; i < 5000; i++) {
        mt_jw_int(&w, (int64_t) i);
    }

    mt_jw_arr_close(&w);
    out = mt_jw_take(&w, &len);

    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    assert_memory_equal(out, "[\"\\nbcd", 7);
    assert_memory_equal(out + 2 + 2 + n - 2, "\\u0001\",0,1,2,", 14);
    assert_memory_equal(out + len - 6, ",4999]", 6);

    free(out);
    free(big);
}


static void
test_big_document(void **state)
{
    size_t             i, n, len;
    char              *text, *p, *out;
    mt_jw_t            w;
    const mt_json_t   *v;
    mt_json_doc_t     *doc;

    (void) state;

    /* many values and one wide array: arena blocks of every kind */
    n = 100000;
    text = malloc(n * 16 + 64);
    assert_non_null(text);

    p = text;
    *p++ = '[';

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s{\"i\":%zu}", i ? "," : "", i);
    }

    *p++ = ']';
    *p = '\0';

    doc = parse_ok(text);
    v = mt_json_root(doc);

    assert_int_equal(v->u.array.n, n);

    for (i = 0; i < n; i += 9973) {
        assert_int_equal(mt_json_get(v->u.array.items[i], "i")->u.number.i,
                         (int64_t) i);
    }

    mt_jw_init(&w);
    mt_jw_value(&w, v);
    out = mt_jw_take(&w, &len);
    assert_non_null(out);
    assert_int_equal(len, strlen(text));
    assert_string_equal(out, text);

    free(out);
    mt_json_free(doc);
    free(text);
}


static void
test_envelope(void **state)
{
    char     *out;
    mt_jw_t   w;

    (void) state;

    mt_jw_init(&w);
    mt_json_error_envelope(&w, "Not found", "NOT_FOUND", NULL, 0, TS);
    out = take(&w);
    assert_string_equal(out, "{\"success\":false,\"error\":\"Not found\","
                        "\"code\":\"NOT_FOUND\","
                        "\"timestamp\":\"" TS_STR "\"}");
    free(out);

    mt_json_error_envelope(&w, "say \"hi\"\n", "E", NULL, 0, 0);
    out = take(&w);
    assert_string_equal(out, "{\"success\":false,\"error\":\"say \\\"hi\\\""
                        "\\n\",\"code\":\"E\","
                        "\"timestamp\":\"1970-01-01T00:00:00.000Z\"}");
    free(out);
}


static void
test_envelope_details(void **state)
{
    char              *out;
    mt_jw_t            w;
    mt_json_doc_t     *doc;
    mt_json_detail_t   d[4];

    (void) state;

    doc = parse_ok("{ \"x\" : [1, \"a\", 2.50e0] }");

    d[0].field = "body.x";
    d[0].message = "must be \"int\"";
    d[0].value = mt_json_root(doc);
    d[0].value_str = "ignored when value is set";

    d[1].field = NULL;
    d[1].message = "m2";
    d[1].value = NULL;
    d[1].value_str = "raw\x01";

    d[2].field = "f3";
    d[2].message = "m3";
    d[2].value = NULL;
    d[2].value_str = NULL;

    d[3].field = "f4";
    d[3].message = "m4";
    d[3].value = mt_json_get(mt_json_root(doc), "x")->u.array.items[1];
    d[3].value_str = NULL;

    mt_jw_init(&w);
    mt_json_error_envelope(&w, "Validation failed", "VALIDATION_ERROR", d,
                           4, TS);
    out = take(&w);
    assert_string_equal(out,
        "{\"success\":false,\"error\":\"Validation failed\","
        "\"code\":\"VALIDATION_ERROR\",\"details\":["
        "{\"field\":\"body.x\",\"message\":\"must be \\\"int\\\"\","
        "\"value\":{\"x\":[1,\"a\",2.50e0]}},"
        "{\"message\":\"m2\",\"value\":\"raw\\u0001\"},"
        "{\"field\":\"f3\",\"message\":\"m3\"},"
        "{\"field\":\"f4\",\"message\":\"m4\",\"value\":\"a\"}],"
        "\"timestamp\":\"" TS_STR "\"}");
    free(out);

    /* n == 0: no "details" key even with a pointer */
    mt_json_error_envelope(&w, "m", "c", d, 0, TS);
    out = take(&w);
    assert_string_equal(out, "{\"success\":false,\"error\":\"m\","
                        "\"code\":\"c\",\"timestamp\":\"" TS_STR "\"}");
    free(out);

    mt_json_free(doc);
}


static void
test_envelope_too_deep(void **state)
{
    char              *text;
    mt_jw_t            w;
    mt_json_doc_t     *doc;
    mt_json_detail_t   d;

    (void) state;

    /* the envelope takes three levels; the writer allows 64 */
    text = nest("[", "", "]", MT_JW_MAX_DEPTH - 3);
    doc = parse_ok(text);
    free(text);

    memset(&d, 0, sizeof(d));
    d.message = "deep";
    d.value = mt_json_root(doc);

    mt_jw_init(&w);
    mt_json_error_envelope(&w, "m", "c", &d, 1, TS);
    assert_false(mt_jw_failed(&w));
    mt_jw_free(&w);
    mt_json_free(doc);

    text = nest("[", "", "]", MT_JW_MAX_DEPTH - 2);
    doc = parse_ok(text);
    free(text);

    d.value = mt_json_root(doc);
    mt_json_error_envelope(&w, "m", "c", &d, 1, TS);
    expect_failed(&w);
    mt_json_free(doc);
}


/* member order does not count, anything else does */
static void
test_hash(void **state)
{
    size_t          i;
    uint64_t        h[6];
    mt_json_doc_t  *d[6];

    static const char  *texts[] = {
        "{\"a\":1,\"b\":[1,2],\"c\":{\"x\":true,\"y\":null}}",
        "{\"c\":{\"y\":null,\"x\":true},\"b\":[1,2],\"a\":1}",
        "{\"a\":1,\"b\":[2,1],\"c\":{\"x\":true,\"y\":null}}",
        "{\"a\":1.0,\"b\":[1,2],\"c\":{\"x\":true,\"y\":null}}",
        "{\"a\":1,\"b\":[1,2],\"c\":{\"x\":false,\"y\":null}}",
        "{\"b\":1,\"a\":[1,2],\"c\":{\"x\":true,\"y\":null}}"
    };

    (void) state;

    for (i = 0; i < 6; i++) {
        d[i] = parse_ok(texts[i]);
        h[i] = mt_json_hash(mt_json_root(d[i]));
    }

    assert_int_equal(h[0], h[1]);

    for (i = 2; i < 6; i++) {
        assert_int_not_equal(h[0], h[i]);
    }

    for (i = 0; i < 6; i++) {
        mt_json_free(d[i]);
    }

    assert_int_equal(mt_json_hash(NULL), 0);

    /* the last duplicate wins, so the first must not count */
    d[0] = parse_ok("{\"bio\":\"old\",\"x\":1,\"bio\":\"new\"}");
    d[1] = parse_ok("{\"bio\":\"new\",\"x\":1,\"bio\":\"old\"}");
    d[2] = parse_ok("{\"x\":1,\"bio\":\"new\"}");
    assert_int_not_equal(mt_json_hash(mt_json_root(d[0])),
                         mt_json_hash(mt_json_root(d[1])));
    assert_int_equal(mt_json_hash(mt_json_root(d[0])),
                     mt_json_hash(mt_json_root(d[2])));
    mt_json_free(d[0]);
    mt_json_free(d[1]);
    mt_json_free(d[2]);
}


/*
 * Duplicate keys in a big object: the last one wins in mt_json_get, in
 * mt_json_shadowed and in the hash, which equals the dedup'd object's.
 * The shadowed flags are decided once per object; a scan per member made
 * this test (200,000 keys) take hours.
 */
static void
test_shadowed_many(void **state)
{
    char              *a, *b, *p;
    size_t             i, n, ndup, cap, shadowed;
    const mt_json_t   *ra, *rb;
    mt_json_doc_t     *da, *db;

    (void) state;

    n = 200000;
    ndup = 1000;
    cap = (n + 2 * ndup) * 32 + 64;

    a = malloc(cap);
    b = malloc(cap);
    assert_non_null(a);
    assert_non_null(b);

    /*
     * a: k0..k(n-1), then k0, k7, k14... again with new values, and
     * k1, k8... twice more; b: the same object with each key once, at
     * its last value, in another order.
     */

    p = a;
    p += sprintf(p, "{");

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s\"k%zu\":%zu", i ? "," : "", i, i);
    }

    for (i = 0; i < ndup; i++) {
        p += sprintf(p, ",\"k%zu\":\"d%zu\"", i * 7, i);
        p += sprintf(p, ",\"k%zu\":[%zu]", i * 7 + 1, i);
        p += sprintf(p, ",\"k%zu\":{\"x\":%zu}", i * 7 + 1, i);
    }

    sprintf(p, "}");

    p = b;
    p += sprintf(p, "{");

    for (i = n; i > 0; i--) {
        size_t  k;

        k = i - 1;
        p += sprintf(p, "%s", k + 1 < n ? "," : "");

        if (k % 7 == 0 && k / 7 < ndup) {
            p += sprintf(p, "\"k%zu\":\"d%zu\"", k, k / 7);

        } else if (k % 7 == 1 && k / 7 < ndup) {
            p += sprintf(p, "\"k%zu\":{\"x\":%zu}", k, k / 7);

        } else {
            p += sprintf(p, "\"k%zu\":%zu", k, k);
        }
    }

    sprintf(p, "}");

    da = parse_ok(a);
    db = parse_ok(b);
    ra = mt_json_root(da);
    rb = mt_json_root(db);

    assert_int_equal(ra->u.object.n, n + 3 * ndup);
    assert_int_equal(rb->u.object.n, n);

    shadowed = 0;

    for (i = 0; i < ra->u.object.n; i++) {
        shadowed += mt_json_shadowed(ra, i);
    }

    assert_int_equal(shadowed, 3 * ndup);

    for (i = 0; i < rb->u.object.n; i++) {
        assert_false(mt_json_shadowed(rb, i));
    }

    /* the first k0 and both earlier k1 lose; the last ones win */
    assert_true(mt_json_shadowed(ra, 0));
    assert_true(mt_json_shadowed(ra, 1));
    assert_false(mt_json_shadowed(ra, 2));
    assert_true(mt_json_shadowed(ra, n + 1));
    assert_false(mt_json_shadowed(ra, n + 2));
    assert_false(mt_json_shadowed(ra, n + 3 * ndup - 1));

    assert_string_equal(mt_json_get(ra, "k0")->u.string.s, "d0");
    assert_int_equal(mt_json_get(ra, "k1")->type, MT_JSON_OBJECT);
    assert_int_equal(mt_json_get(ra, "k2")->u.number.i, 2);
    assert_int_equal(mt_json_get(ra, "k199999")->u.number.i, 199999);

    assert_int_equal(mt_json_hash(ra), mt_json_hash(rb));

    mt_json_free(da);
    mt_json_free(db);

    /* a different last value changes the hash */
    p = strstr(a, "\"d999\"");
    assert_non_null(p);
    p[2] = '8';
    da = parse_ok(a);
    db = parse_ok(b);
    assert_int_not_equal(mt_json_hash(mt_json_root(da)),
                         mt_json_hash(mt_json_root(db)));
    mt_json_free(da);
    mt_json_free(db);

    free(a);
    free(b);
}


/* small objects take the pairwise path: the same answers */
static void
test_shadowed_small(void **state)
{
    size_t             i;
    const mt_json_t   *r;
    mt_json_doc_t     *d;

    static const int  want[] = { 1, 1, 0, 0, 0, 1, 0, 0 };

    (void) state;

    d = parse_ok("{\"a\":1,\"b\":2,\"a\":3,\"\":4,\"ab\":5,\"b\":6,"
                 "\"b\":7,\"A\":8}");
    r = mt_json_root(d);
    assert_int_equal(r->u.object.n, 8);

    for (i = 0; i < 8; i++) {
        assert_int_equal(mt_json_shadowed(r, i), want[i]);
    }

    assert_int_equal(mt_json_get(r, "b")->u.number.i, 7);
    mt_json_free(d);

    /* nested objects each get their own flags */
    d = parse_ok("{\"o\":{\"x\":1,\"x\":2},\"o\":{\"x\":3}}");
    r = mt_json_root(d);
    assert_true(mt_json_shadowed(r, 0));
    assert_true(mt_json_shadowed(r->u.object.pairs[0].value, 0));
    assert_false(mt_json_shadowed(r->u.object.pairs[0].value, 1));
    assert_false(mt_json_shadowed(r->u.object.pairs[1].value, 0));
    mt_json_free(d);
}


/*
 * A stored document: the same tree, and yajl still refuses what is not
 * JSON or not UTF-8 in form (overlong forms and surrogates it lets
 * through; the writer replaces them on the way out).
 */

static void
test_parse_stored(void **state)
{
    size_t             i;
    mt_json_err_t      err;
    mt_json_doc_t     *d;
    const mt_json_t   *v;

    static const char  ok[] = "{\"uniqueId\":\"a\",\"bio\":\"caf\xc3\xa9\","
                              "\"followerCount\":12}";
    static const char *const  bad[] = {
        "{\"bio\":\"\xff\"}",               /* no UTF-8 at all */
        "{\"bio\":\"\xc3\"}",               /* a sequence cut short */
        "{\"bio\":\"abc}",                  /* unterminated */
        "{\"a\":1} {\"b\":2}",              /* two values */
        "",
    };

    (void) state;

    d = mt_json_parse_stored(ok, sizeof(ok) - 1, &err);
    assert_non_null(d);
    assert_int_equal(err, MT_JSON_OK);
    v = mt_json_get(mt_json_root(d), "bio");
    assert_non_null(v);
    assert_string_equal(v->u.string.s, "caf\xc3\xa9");
    v = mt_json_get(mt_json_root(d), "followerCount");
    assert_non_null(v);
    assert_int_equal(v->u.number.i, 12);
    mt_json_free(d);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = MT_JSON_OK;
        d = mt_json_parse_stored(bad[i], strlen(bad[i]), &err);
        if (d != NULL) {
            fail_msg("stored text %zu parsed: %s", i, bad[i]);
        }

        assert_int_not_equal(err, MT_JSON_OK);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_limit_size),
        cmocka_unit_test(test_limit_depth),
        cmocka_unit_test(test_limit_counts),
        cmocka_unit_test(test_deep_unlimited),
        cmocka_unit_test(test_limit_string),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_escape_controls),
        cmocka_unit_test(test_escape_special),
        cmocka_unit_test(test_escape_invalid_utf8),
        cmocka_unit_test(test_double),
        cmocka_unit_test(test_int_bool_null),
        cmocka_unit_test(test_writer_structure),
        cmocka_unit_test(test_writer_depth),
        cmocka_unit_test(test_writer_misuse),
        cmocka_unit_test(test_writer_growth),
        cmocka_unit_test(test_big_document),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_envelope_details),
        cmocka_unit_test(test_envelope_too_deep),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_shadowed_small),
        cmocka_unit_test(test_shadowed_many),
        cmocka_unit_test(test_parse_stored),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for lib/csv.c: cell escaping (quotes, commas, CR/LF, the
 * formula guard, UTF-8), the conversion of each kind's reply (fixed
 * columns, flattening, lists, missing and unknown fields), its errors and
 * bound, and Accept negotiation.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csv.h"


#define S(lit)  (lit), (sizeof(lit) - 1)


/* appends s and its NUL at buf + len; the new length */
static size_t
app(char *buf, size_t len, const char *s)
{
    size_t  n;

    n = strlen(s);
    memcpy(buf + len, s, n + 1);

    return len + n;
}


/* one cell, escaped, as a NUL-terminated string the test frees */
static char *
cell(const char *s, size_t n, int number)
{
    char    *buf, *out;
    size_t   len, cap;

    buf = NULL;
    len = 0;
    cap = 0;

    assert_int_equal(mt_csv_cell(&buf, &len, &cap, s, n, number), 0);

    out = malloc(len + 1);
    assert_non_null(out);
    if (len) {
        memcpy(out, buf, len);
    }

    out[len] = '\0';
    free(buf);

    return out;
}


static void
expect_cell(const char *s, int number, const char *want)
{
    char  *got;

    got = cell(s, strlen(s), number);
    assert_string_equal(got, want);
    free(got);
}


static void
test_cell_plain(void **state)
{
    (void) state;

    expect_cell("hello", 0, "hello");
    expect_cell("", 0, "");
    expect_cell("two words", 0, "two words");
    expect_cell("it's", 0, "it's");
}


static void
test_cell_quotes(void **state)
{
    (void) state;

    expect_cell("a,b", 0, "\"a,b\"");
    expect_cell("say \"hi\"", 0, "\"say \"\"hi\"\"\"");
    expect_cell("\"", 0, "\"\"\"\"");
    expect_cell("line\nbreak", 0, "\"line\nbreak\"");
    expect_cell("cr\rhere", 0, "\"cr\rhere\"");
    expect_cell("crlf\r\n", 0, "\"crlf\r\n\"");
    expect_cell("a; b", 0, "\"a; b\"");
    expect_cell("tab\tinside", 0, "tab\tinside");
}


static void
test_cell_guard(void **state)
{
    (void) state;

    expect_cell("=1+1", 0, "'=1+1");
    expect_cell("+1", 0, "'+1");
    expect_cell("-1", 0, "'-1");
    expect_cell("@SUM(A1)", 0, "'@SUM(A1)");
    expect_cell("\tx", 0, "'\tx");
    expect_cell("\rx", 0, "\"'\rx\"");
    expect_cell("=HYPERLINK(\"http://x\",\"y\")", 0,
                "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    expect_cell("a=1", 0, "a=1");
    expect_cell(" =1", 0, " =1");

    /* a JSON number is no formula */
    expect_cell("-0.5", 1, "-0.5");
    expect_cell("12", 1, "12");
    expect_cell("1e-5", 1, "1e-5");
}


static void
test_cell_utf8(void **state)
{
    char  *got;

    (void) state;

    expect_cell("Weekly insights \xe2\xac\x87\xef\xb8\x8f", 0,
                "Weekly insights \xe2\xac\x87\xef\xb8\x8f");
    expect_cell("\xc3\x9c" "ber, caf\xc3\xa9", 0,
                "\"\xc3\x9c" "ber, caf\xc3\xa9\"");
    expect_cell("\xf0\x9f\x98\x80", 0, "\xf0\x9f\x98\x80");

    /* invalid: each maximal ill-formed part is one U+FFFD */
    expect_cell("a\xff" "b", 0, "a\xef\xbf\xbd" "b");
    expect_cell("\xc0\x80", 0, "\xef\xbf\xbd\xef\xbf\xbd");
    expect_cell("\xed\xa0\x80", 0,
                "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    expect_cell("x\xe2\xac", 0, "x\xef\xbf\xbd");

    /* a NUL passes, as JSON's \u0000 did */
    got = cell("a\0b", 3, 0);
    assert_memory_equal(got, "a\0b", 3);
    free(got);
}


/* converts, checks success, returns the CSV as a string */
static char *
convert(mt_csv_kind_t kind, const char *json)
{
    int      rc;
    char    *out, *s, err[128];
    size_t   len;

    err[0] = '\0';
    rc = mt_csv_convert(kind, json, strlen(json), &out, &len, err,
                        sizeof(err));
    if (rc != 0) {
        print_error("convert failed: %s\n", err);
    }

    assert_int_equal(rc, 0);
    assert_true(len <= MT_CSV_BOUND(strlen(json)));

    s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, out, len);
    s[len] = '\0';
    free(out);

    return s;
}


static void
convert_fails(mt_csv_kind_t kind, const char *json, size_t len,
    const char *msg)
{
    char    *out, err[128];
    size_t   out_len;

    assert_int_equal(mt_csv_convert(kind, json, len, &out, &out_len, err,
                                    sizeof(err)), -1);
    assert_null(out);
    assert_string_equal(err, msg);
}


/* the header row of a kind, as the columns say */
static char *
header(mt_csv_kind_t kind)
{
    char               *h;
    size_t              i, n, len;
    const char *const  *cols;

    cols = mt_csv_columns(kind, &n);
    assert_non_null(cols);

    len = 0;
    for (i = 0; i < n; i++) {
        len += strlen(cols[i]) + 1;
    }

    h = malloc(len + 2);
    assert_non_null(h);
    len = app(h, 0, "");

    for (i = 0; i < n; i++) {
        if (i) {
            len = app(h, len, ",");
        }

        len = app(h, len, cols[i]);
    }

    app(h, len, "\r\n");

    return h;
}


/*
 * The cell at row, col (row 0: the header) of an RFC 4180 text, unquoted,
 * as a string the caller frees; NULL when there is no such cell.  The
 * parse is the test's own, so that it checks the writer's quoting.
 */
static char *
get(const char *csv, size_t row, size_t col)
{
    char        *out;
    size_t       r, c, n;
    const char  *p;

    out = malloc(strlen(csv) + 1);
    assert_non_null(out);

    p = csv;
    r = 0;
    c = 0;

    while (*p) {
        n = 0;

        if (*p == '"') {
            for (p++; *p; p++) {
                if (*p == '"') {
                    if (p[1] != '"') {
                        p++;
                        break;
                    }

                    p++;
                }

                out[n++] = *p;
            }

        } else {
            while (*p && *p != ',' && *p != '\r' && *p != '"') {
                out[n++] = *p++;
            }
        }

        out[n] = '\0';

        if (r == row && c == col) {
            return out;
        }

        if (*p == ',') {
            p++;
            c++;

        } else if (p[0] == '\r' && p[1] == '\n') {
            p += 2;
            r++;
            c = 0;

        } else {
            fail_msg("malformed CSV at byte %zu", (size_t) (p - csv));
        }
    }

    free(out);

    return NULL;
}


/* rows, the header's included, each checked to have every column */
static size_t
count_rows(const char *csv, mt_csv_kind_t kind)
{
    int      extra;
    char    *v;
    size_t   r, n;

    mt_csv_columns(kind, &n);

    for (r = 0; (v = get(csv, r, 0)) != NULL; r++) {
        free(v);
        v = get(csv, r, n - 1);
        assert_non_null(v);
        free(v);
        v = get(csv, r, n);
        extra = (v != NULL);
        free(v);
        assert_false(extra);
    }

    return r;
}


static size_t
column(mt_csv_kind_t kind, const char *name)
{
    size_t              i, n;
    const char *const  *cols;

    cols = mt_csv_columns(kind, &n);

    for (i = 0; i < n; i++) {
        if (strcmp(cols[i], name) == 0) {
            return i;
        }
    }

    fail_msg("no column %s", name);

    return 0;
}


static void
expect_field(const char *csv, size_t row, mt_csv_kind_t kind,
    const char *name, const char *want)
{
    char  *got;

    got = get(csv, row, column(kind, name));
    assert_non_null(got);

    if (strcmp(got, want) != 0) {
        fail_msg("%s: \"%s\", not \"%s\"", name, got, want);
    }

    free(got);
}


static void
test_columns(void **state)
{
    size_t              n;
    const char *const  *cols;

    (void) state;

    cols = mt_csv_columns(MT_CSV_MATCHES, &n);
    assert_string_equal(cols[0], "creatorId");
    assert_string_equal(cols[1], "matchScore");
    assert_string_equal(cols[4], "scoreBreakdown.semanticSimilarity");

    cols = mt_csv_columns(MT_CSV_CREATORS, &n);
    assert_string_equal(cols[0], "uniqueId");
    assert_int_equal(n, 34);

    cols = mt_csv_columns(MT_CSV_SEARCH, &n);
    assert_string_equal(cols[0], "id");
    assert_string_equal(cols[8], "creator.uniqueId");
    assert_int_equal(n, 42);

    assert_null(mt_csv_columns(MT_CSV_NONE, &n));
    assert_int_equal(n, 0);
}


static void
test_creators(void **state)
{
    char  *csv, *h;

    (void) state;

    csv = convert(MT_CSV_CREATORS,
        "{\"creators\":["
        "{\"uniqueId\":\"a\",\"nickname\":\"Ann, \\\"A\\\"\","
        "\"bio\":\"line1\\nline2\",\"followerCount\":120,"
        "\"verified\":false,\"region\":\"US\",\"secUid\":\"x,y\","
        "\"analysis\":{\"summary\":\"=cmd|' /C calc'!A0\","
        "\"primaryNiches\":[\"Finance\",\"Economics\"],"
        "\"engagementStyle\":{\"tone\":[\"Calm\"],\"contentStyle\":null},"
        "\"unknown\":{\"deep\":[1,2,{\"x\":1}]}},"
        "\"embedding\":{\"status\":\"ready\",\"dimensions\":512}},"
        "{\"uniqueId\":\"b\",\"nickname\":\"Bo\",\"followerCount\":-3}"
        "],\"pagination\":{\"page\":1,\"limit\":20,\"total\":2,"
        "\"pages\":1}}");

    h = header(MT_CSV_CREATORS);
    assert_memory_equal(csv, h, strlen(h));
    free(h);

    /* the header, two rows; the first has a quoted LF */
    assert_int_equal(count_rows(csv, MT_CSV_CREATORS), 3);
    assert_non_null(strstr(csv, "\r\na,\"Ann, \"\"A\"\"\",\"line1\nline2\","
                                "120,US,false,"));
    assert_non_null(strstr(csv, ",'=cmd|' /C calc'!A0,"
                                "\"Finance; Economics\","));
    expect_field(csv, 1, MT_CSV_CREATORS, "bio", "line1\nline2");
    expect_field(csv, 1, MT_CSV_CREATORS, "nickname", "Ann, \"A\"");
    expect_field(csv, 1, MT_CSV_CREATORS, "analysis.engagementStyle.tone",
                 "Calm");
    expect_field(csv, 1, MT_CSV_CREATORS,
                 "analysis.engagementStyle.contentStyle", "");
    expect_field(csv, 1, MT_CSV_CREATORS, "embedding.dimensions", "512");
    assert_null(strstr(csv, "x,y"));          /* unknown: not exported */
    assert_null(strstr(csv, "deep"));

    expect_field(csv, 2, MT_CSV_CREATORS, "uniqueId", "b");
    expect_field(csv, 2, MT_CSV_CREATORS, "nickname", "Bo");
    expect_field(csv, 2, MT_CSV_CREATORS, "followerCount", "-3");
    expect_field(csv, 2, MT_CSV_CREATORS, "bio", "");
    expect_field(csv, 2, MT_CSV_CREATORS, "embedding.status", "");

    free(csv);
}


static void
test_creators_nested(void **state)
{
    char  *csv;

    (void) state;

    /* lists of one, of none, of numbers, of objects; nulls; duplicates */
    csv = convert(MT_CSV_CREATORS,
        "{\"creators\":[{\"uniqueId\":\"x\",\"uniqueId\":\"y\","
        "\"topHashtags\":[],"
        "\"analysis\":{\"primaryNiches\":[\"Only\"],"
        "\"secondaryNiches\":[1,2.5,null,true],"
        "\"apparentValues\":[{\"a\":\"b\\\"c\"},[1,[2]]],"
        "\"engagementStyle\":{\"tone\":[\"@home\",\"x\"]},"
        "\"summary\":{\"k\":[1,\"\\u0001\"]}},"
        "\"embedding\":{\"model\":\"m\",\"dimensions\":512,"
        "\"status\":\"pending\"}}]}");

    expect_field(csv, 1, MT_CSV_CREATORS, "uniqueId", "y");
    expect_field(csv, 1, MT_CSV_CREATORS, "topHashtags", "");
    expect_field(csv, 1, MT_CSV_CREATORS, "analysis.primaryNiches",
                 "Only");
    expect_field(csv, 1, MT_CSV_CREATORS, "embedding.model", "m");
    expect_field(csv, 1, MT_CSV_CREATORS, "embedding.dimensions", "512");
    expect_field(csv, 1, MT_CSV_CREATORS, "embedding.status", "pending");

    assert_non_null(strstr(csv, ",\"1; 2.5; ; true\","));
    assert_non_null(strstr(csv, ",\"{\"\"a\"\":\"\"b\\\"\"c\"\"}; "
                                "[1,[2]]\","));
    assert_non_null(strstr(csv, ",\"'@home; x\","));
    assert_non_null(strstr(csv, ",\"{\"\"k\"\":[1,\"\"\\u0001\"\"]}\","));

    free(csv);
}


static void
test_rows_not_objects(void **state)
{
    char    *csv, *v;
    size_t   i, n;

    (void) state;

    /* every item is a row: the CSV has as many rows as the JSON */
    csv = convert(MT_CSV_CREATORS,
                  "{\"creators\":[1,\"x\",null,[1,2],{}]}");
    assert_int_equal(count_rows(csv, MT_CSV_CREATORS), 6);

    mt_csv_columns(MT_CSV_CREATORS, &n);
    assert_non_null(strstr(csv, "\r\n"));
    for (i = 0; i < n; i++) {
        v = get(csv, 4, i);
        assert_string_equal(v, "");
        free(v);
    }

    free(csv);

    csv = convert(MT_CSV_CREATORS, "{\"creators\":[]}");
    assert_int_equal(count_rows(csv, MT_CSV_CREATORS), 1);
    free(csv);
}


static void
test_matches(void **state)
{
    char  *csv;

    (void) state;

    csv = convert(MT_CSV_MATCHES,
        "{\"success\":true,\"data\":{\"assignment\":{\"topic\":\"t\","
        "\"matches\":[{\"creatorId\":\"decoy\"}]},"
        "\"matches\":[{\"creatorId\":\"c1\",\"creator\":{\"uniqueId\":"
        "\"c1\",\"nickname\":\"-Neg\",\"analysis\":{\"primaryNiches\":"
        "[\"A\",\"B\"],\"engagementStyle\":{\"tone\":[\"T\"]}}},"
        "\"matchScore\":0.8123,\"reasoning\":\"Good fit.\","
        "\"framingSuggestion\":\"Use it\","
        "\"scoreBreakdown\":{\"semanticSimilarity\":0.5,"
        "\"nicheAlignment\":1,\"audienceMatch\":0,\"valueAlignment\":0.25,"
        "\"engagementFit\":0.75,\"toneAlignment\":0.1}},"
        "{\"creatorId\":\"c2\",\"matchScore\":0.5}],"
        "\"reasoning\":\"r, r\",\"isFallback\":false},"
        "\"timestamp\":\"2026-01-01T00:00:00.000Z\"}");

    assert_int_equal(count_rows(csv, MT_CSV_MATCHES), 3);
    assert_null(strstr(csv, "decoy"));

    expect_field(csv, 1, MT_CSV_MATCHES, "creatorId", "c1");
    expect_field(csv, 1, MT_CSV_MATCHES, "matchScore", "0.8123");
    expect_field(csv, 1, MT_CSV_MATCHES, "reasoning", "Good fit.");
    expect_field(csv, 1, MT_CSV_MATCHES, "framingSuggestion", "Use it");
    expect_field(csv, 1, MT_CSV_MATCHES,
                 "scoreBreakdown.semanticSimilarity",
                 "0.5");
    expect_field(csv, 1, MT_CSV_MATCHES, "scoreBreakdown.nicheAlignment",
                 "1");
    expect_field(csv, 1, MT_CSV_MATCHES, "scoreBreakdown.toneAlignment",
                 "0.1");
    expect_field(csv, 1, MT_CSV_MATCHES, "creator.uniqueId", "c1");
    expect_field(csv, 1, MT_CSV_MATCHES, "creator.nickname", "'-Neg");
    expect_field(csv, 1, MT_CSV_MATCHES,
                 "creator.analysis.engagementStyle.tone",
                 "T");
    expect_field(csv, 1, MT_CSV_MATCHES, "creator.region", "");

    expect_field(csv, 2, MT_CSV_MATCHES, "creatorId", "c2");
    expect_field(csv, 2, MT_CSV_MATCHES, "framingSuggestion", "");

    free(csv);

    csv = convert(MT_CSV_MATCHES,
                  "{\"success\":true,\"data\":{\"matches\":[],"
                  "\"reasoning\":\"none\"}}");
    assert_int_equal(count_rows(csv, MT_CSV_MATCHES), 1);
    free(csv);
}


static void
test_search(void **state)
{
    char  *csv;

    (void) state;

    csv = convert(MT_CSV_SEARCH,
        "{\"query\":\"q\",\"results\":[{\"id\":\"s1\",\"score\":0.25,"
        "\"metadata\":{\"region\":\"UK\",\"primaryNiches\":[\"Travel\"]},"
        "\"creator\":{\"uniqueId\":\"s1\",\"region\":\"UK\","
        "\"analysis\":{\"summary\":\"+44 trips\"}}}],\"count\":1}");

    assert_int_equal(count_rows(csv, MT_CSV_SEARCH), 2);
    expect_field(csv, 1, MT_CSV_SEARCH, "id", "s1");
    expect_field(csv, 1, MT_CSV_SEARCH, "score", "0.25");
    expect_field(csv, 1, MT_CSV_SEARCH, "metadata.region", "UK");
    expect_field(csv, 1, MT_CSV_SEARCH, "metadata.primaryNiches",
                 "Travel");
    expect_field(csv, 1, MT_CSV_SEARCH, "creator.uniqueId", "s1");
    expect_field(csv, 1, MT_CSV_SEARCH, "creator.region", "UK");
    expect_field(csv, 1, MT_CSV_SEARCH, "creator.analysis.summary",
                 "'+44 trips");
    expect_field(csv, 0, MT_CSV_SEARCH, "creator.analysis.summary",
                 "creator.analysis.summary");
    free(csv);
}


static void
test_errors(void **state)
{
    char    *deep;
    size_t   i, n, len;

    (void) state;

    convert_fails(MT_CSV_CREATORS, S("{\"creators\":["), "not JSON");
    convert_fails(MT_CSV_CREATORS, S("{\"creators\":[]} x"), "not JSON");
    convert_fails(MT_CSV_CREATORS, S(""), "not JSON");
    convert_fails(MT_CSV_CREATORS, S("{\"results\":[]}"),
                  "no rows in the reply");
    convert_fails(MT_CSV_CREATORS, S("{\"creators\":{}}"),
                  "no rows in the reply");
    convert_fails(MT_CSV_MATCHES, S("{\"matches\":[]}"),
                  "no rows in the reply");
    convert_fails(MT_CSV_SEARCH, S("[]"), "no rows in the reply");
    convert_fails(MT_CSV_NONE, S("{}"), "no such kind");

    /* nesting past the stack, inside a row */
    n = 200;
    deep = malloc(2 * n + 64);
    assert_non_null(deep);
    len = app(deep, 0, "{\"creators\":[{\"x\":");
    for (i = 0; i < n; i++) {
        len = app(deep, len, "[");
    }
    for (i = 0; i < n; i++) {
        len = app(deep, len, "]");
    }
    app(deep, len, "}]}");
    convert_fails(MT_CSV_CREATORS, deep, strlen(deep), "nested too deep");
    free(deep);
}


static void
test_row_limit(void **state)
{
    char    *json, *out, err[64];
    size_t   i, rows, len, out_len;

    (void) state;

    json = malloc(32 + 3 * 1001);
    assert_non_null(json);

    /* 1000 rows are allowed, 1001 are more than a reply has */
    for (rows = 1000; rows <= 1001; rows++) {
        len = (size_t) sprintf(json, "{\"creators\":[{}");

        for (i = 1; i < rows; i++) {
            len = app(json, len, ",{}");
        }

        len = app(json, len, "]}");

        err[0] = '\0';
        if (rows == 1000) {
            assert_int_equal(mt_csv_convert(MT_CSV_CREATORS, json, len,
                                            &out, &out_len, err,
                                            sizeof(err)), 0);
            assert_true(out_len <= MT_CSV_BOUND(len));
            free(out);

        } else {
            assert_int_equal(mt_csv_convert(MT_CSV_CREATORS, json, len,
                                            &out, &out_len, err,
                                            sizeof(err)), -1);
            assert_string_equal(err, "more rows than a reply has");
        }
    }

    free(json);
}


/* what costs the most output a byte of input: invalid UTF-8 and quotes */
static void
test_bound(void **state)
{
    char    *json, *out, err[64];
    size_t   i, len, out_len;

    (void) state;

    json = malloc(100000);
    assert_non_null(json);

    for (i = 0; i < 4; i++) {
        len = (size_t) sprintf(json, "{\"creators\":[{\"bio\":\"");

        while (len < 99000) {
            if (i == 0) {
                /* an overlong NUL: yajl takes it, two U+FFFD */
                len = app(json, len, "\xc0\x80");

            } else if (i == 3) {
                len = app(json, len, "=\\\"");

            } else {
                json[len++] = i == 1 ? ',' : '=';
            }
        }

        len += (size_t) sprintf(json + len, "\"}]}");

        assert_int_equal(mt_csv_convert(MT_CSV_CREATORS, json, len, &out,
                                        &out_len, err, sizeof(err)), 0);
        assert_true(out_len <= MT_CSV_BOUND(len));
        free(out);
    }

    free(json);
}


static int
wants(const char *accept)
{
    mt_csv_accept_t  a;

    mt_csv_accept_init(&a);

    if (accept) {
        mt_csv_accept_feed(&a, accept, strlen(accept));
    }

    return mt_csv_accept_wants_csv(&a);
}


static void
test_accept(void **state)
{
    mt_csv_accept_t  a;

    (void) state;

    assert_false(wants(NULL));
    assert_false(wants(""));
    assert_false(wants("*/*"));
    assert_false(wants("application/json"));
    assert_false(wants("text/*"));
    assert_false(wants("text/html, */*;q=0.8"));

    assert_true(wants("text/csv"));
    assert_true(wants("TEXT/CSV"));
    assert_true(wants("text/csv; charset=utf-8; header=present"));
    assert_true(wants("text/csv, */*"));
    assert_true(wants("text/csv,*/*;q=0.8"));
    assert_true(wants("text/csv, application/*"));
    assert_true(wants("application/json;q=0.5, text/csv"));
    assert_true(wants("application/json;q=0.9,text/csv;q=0.95"));
    assert_true(wants("text/csv;q=0.1, application/json;q=0"));
    assert_true(wants("application/json;q=0, text/csv;q=0.001"));
    assert_true(wants(" text/csv ;q=1.000 "));

    /* a tie with JSON itself: JSON, as before */
    assert_false(wants("application/json, text/csv"));
    assert_false(wants("text/csv, application/json"));
    assert_false(wants("text/csv;q=0.5, application/json;q=0.5"));
    assert_false(wants("text/csv;q=0.5, */*"));
    assert_false(wants("text/csv;q=0.5, application/*;q=0.6"));
    assert_false(wants("text/csv;q=0"));
    assert_false(wants("text/csv;q=0.000"));

    /* the most specific JSON range counts, not the wildcard's q */
    assert_true(wants("text/csv;q=0.5, application/json;q=0.2, */*"));
    assert_true(wants("text/csv;q=0.5, application/json;q=0.2, */*"
                      ";q=0.9"));
    assert_false(wants("text/csv;q=0.5, application/*;q=0.7, */*;q=0.1"));
    assert_true(wants("*/*, application/*;q=0.1, text/csv;q=0.5"));

    /* malformed q: the range is ignored */
    assert_false(wants("text/csv;q=2"));
    assert_false(wants("text/csv;q=1.5"));
    assert_false(wants("text/csv;q=0.5555"));
    assert_false(wants("text/csv;q=abc"));
    assert_false(wants("text/csv;q="));
    assert_true(wants("text/csv;q=abc, text/csv;q=0.5"));
    assert_false(wants("textcsv"));
    assert_false(wants("text/csvx"));
    assert_false(wants(",,,"));

    /* a comma in a quoted parameter separates nothing */
    assert_true(wants("text/csv;x=\"a,application/json\""));
    assert_true(wants("text/csv;x=\"a\\\",b\";q=0.9, application/json"
                      ";q=0.8"));

    /* several Accept headers are one list */
    mt_csv_accept_init(&a);
    mt_csv_accept_feed(&a, S("application/json;q=0.5"));
    mt_csv_accept_feed(&a, S("text/csv"));
    assert_true(mt_csv_accept_wants_csv(&a));

    mt_csv_accept_init(&a);
    mt_csv_accept_feed(&a, S("text/csv;q=0.4"));
    mt_csv_accept_feed(&a, S("application/json;q=0.5"));
    assert_false(mt_csv_accept_wants_csv(&a));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cell_plain),
        cmocka_unit_test(test_cell_quotes),
        cmocka_unit_test(test_cell_guard),
        cmocka_unit_test(test_cell_utf8),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_creators),
        cmocka_unit_test(test_creators_nested),
        cmocka_unit_test(test_rows_not_objects),
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_row_limit),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_accept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for lib/util.c.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"


#define S(lit)  (lit), (sizeof(lit) - 1)


static void
check_iso(int64_t ms, const char *want)
{
    char    out[MT_ISO8601_LEN + 1];
    size_t  n;

    memset(out, 'x', sizeof(out));
    n = mt_iso8601(out, ms);

    assert_int_equal(n, MT_ISO8601_LEN);
    assert_int_equal(strlen(out), MT_ISO8601_LEN);
    assert_string_equal(out, want);
}


static void
test_iso8601(void **state)
{
    (void) state;

    check_iso(0, "1970-01-01T00:00:00.000Z");
    check_iso(5, "1970-01-01T00:00:00.005Z");
    check_iso(50, "1970-01-01T00:00:00.050Z");
    check_iso(999, "1970-01-01T00:00:00.999Z");
    check_iso(1000, "1970-01-01T00:00:01.000Z");
    check_iso(1709210096789LL, "2024-02-29T12:34:56.789Z");
    check_iso(1709251199999LL, "2024-02-29T23:59:59.999Z");
    check_iso(1709251200000LL, "2024-03-01T00:00:00.000Z");
    check_iso(951868800000LL - 1, "2000-02-29T23:59:59.999Z");
    check_iso(1795622824123LL, "2026-11-25T16:07:04.123Z");
    check_iso(2147483648000LL, "2038-01-19T03:14:08.000Z");
}


static void
test_iso8601_negative(void **state)
{
    (void) state;

    /* floor semantics, as Date.prototype.toISOString() */
    check_iso(-1, "1969-12-31T23:59:59.999Z");
    check_iso(-999, "1969-12-31T23:59:59.001Z");
    check_iso(-1000, "1969-12-31T23:59:59.000Z");
    check_iso(-1001, "1969-12-31T23:59:58.999Z");
    check_iso(-2208988800000LL, "1900-01-01T00:00:00.000Z");
}


static void
test_iso8601_clamped(void **state)
{
    (void) state;

    check_iso(INT64_MAX, "9999-12-31T23:59:59.999Z");
    check_iso(INT64_MIN, "0000-01-01T00:00:00.000Z");
    check_iso(253402300799999LL, "9999-12-31T23:59:59.999Z");
    check_iso(253402300800000LL, "9999-12-31T23:59:59.999Z");
    check_iso(-62167219200000LL, "0000-01-01T00:00:00.000Z");
}


static int
pint(const char *s, int64_t min, int64_t max, int64_t *out)
{
    return mt_parse_int(s, strlen(s), min, max, out);
}


static void
test_parse_int_ok(void **state)
{
    int64_t  v;

    (void) state;

    assert_int_equal(pint("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(pint("10", 0, 10, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(pint("-5", -10, 10, &v), 0);
    assert_int_equal(v, -5);
    assert_int_equal(pint("-0", -10, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(pint("007", 0, 10, &v), 0);
    assert_int_equal(v, 7);

    assert_int_equal(pint("9223372036854775807", INT64_MIN, INT64_MAX, &v),
                     0);
    assert_true(v == INT64_MAX);
    assert_int_equal(pint("-9223372036854775808", INT64_MIN, INT64_MAX, &v),
                     0);
    assert_true(v == INT64_MIN);

    /* the length bounds the parse, not a NUL */
    assert_int_equal(mt_parse_int("123456", 3, 0, 1000, &v), 0);
    assert_int_equal(v, 123);

    /* out may be NULL when only validity matters */
    assert_int_equal(mt_parse_int(S("42"), 0, 100, NULL), 0);
}


static void
test_parse_int_bad(void **state)
{
    int64_t  v;

    (void) state;

    v = 77;

    assert_int_equal(pint("", 0, 10, &v), -1);
    assert_int_equal(pint("-", -10, 10, &v), -1);
    assert_int_equal(pint("+1", 0, 10, &v), -1);
    assert_int_equal(pint(" 1", 0, 10, &v), -1);
    assert_int_equal(pint("1 ", 0, 10, &v), -1);
    assert_int_equal(pint("10abc", 0, 100, &v), -1);
    assert_int_equal(pint("1e3", 0, 10000, &v), -1);
    assert_int_equal(pint("1.0", 0, 10, &v), -1);
    assert_int_equal(pint("--1", -10, 10, &v), -1);
    assert_int_equal(pint("0x10", 0, 100, &v), -1);
    assert_int_equal(mt_parse_int(NULL, 0, 0, 10, &v), -1);
    assert_int_equal(mt_parse_int("1\0", 2, 0, 10, &v), -1);

    /* overflow in both directions, and far beyond */
    assert_int_equal(pint("9223372036854775808", INT64_MIN, INT64_MAX, &v),
                     -1);
    assert_int_equal(pint("-9223372036854775809", INT64_MIN, INT64_MAX,
                          &v), -1);
    assert_int_equal(pint("18446744073709551616", INT64_MIN, INT64_MAX,
                          &v), -1);
    assert_int_equal(pint("99999999999999999999999999", INT64_MIN,
                          INT64_MAX, &v), -1);

    /* failures leave *out alone */
    assert_int_equal(v, 77);
}


static void
test_parse_int_bounds(void **state)
{
    int64_t  v;

    (void) state;

    assert_int_equal(pint("1", 1, 100, &v), 0);
    assert_int_equal(pint("100", 1, 100, &v), 0);
    assert_int_equal(pint("0", 1, 100, &v), -1);
    assert_int_equal(pint("101", 1, 100, &v), -1);
    assert_int_equal(pint("-1", 0, 100, &v), -1);
    assert_int_equal(pint("-10", -10, -1, &v), 0);
    assert_int_equal(pint("-11", -10, -1, &v), -1);
    assert_int_equal(pint("0", -10, -1, &v), -1);
}


static void
test_utf8_valid(void **state)
{
    (void) state;

    assert_true(mt_utf8_valid(S("")));
    assert_true(mt_utf8_valid(S("plain ascii")));
    assert_true(mt_utf8_valid(S("\0")));
    assert_true(mt_utf8_valid(S("\x7f")));
    assert_true(mt_utf8_valid(S("\xc2\x80")));                 /* U+0080 */
    assert_true(mt_utf8_valid(S("\xdf\xbf")));                 /* U+07FF */
    assert_true(mt_utf8_valid(S("\xe0\xa0\x80")));             /* U+0800 */
    assert_true(mt_utf8_valid(S("caf\xc3\xa9")));
    assert_true(mt_utf8_valid(S("\xe2\x82\xac")));             /* euro */
    assert_true(mt_utf8_valid(S("\xed\x9f\xbf")));             /* U+D7FF */
    assert_true(mt_utf8_valid(S("\xee\x80\x80")));             /* U+E000 */
    assert_true(mt_utf8_valid(S("\xef\xbf\xbf")));             /* U+FFFF */
    assert_true(mt_utf8_valid(S("\xf0\x90\x80\x80")));         /* U+10000 */
    assert_true(mt_utf8_valid(S("\xf0\x9f\x98\x80")));         /* emoji */
    assert_true(mt_utf8_valid(S("\xf4\x8f\xbf\xbf")));         /* max */
}


static void
test_utf8_invalid(void **state)
{
    (void) state;

    /* stray continuation bytes and impossible lead bytes */
    assert_false(mt_utf8_valid(S("\x80")));
    assert_false(mt_utf8_valid(S("\xbf")));
    assert_false(mt_utf8_valid(S("a\x80z")));
    assert_false(mt_utf8_valid(S("\xfe")));
    assert_false(mt_utf8_valid(S("\xff")));
    assert_false(mt_utf8_valid(S("\xf5\x80\x80\x80")));
    assert_false(mt_utf8_valid(S("\xf8\x88\x80\x80\x80")));

    /* overlongs */
    assert_false(mt_utf8_valid(S("\xc0\x80")));
    assert_false(mt_utf8_valid(S("\xc1\xbf")));
    assert_false(mt_utf8_valid(S("\xe0\x80\x80")));
    assert_false(mt_utf8_valid(S("\xe0\x9f\xbf")));
    assert_false(mt_utf8_valid(S("\xf0\x80\x80\x80")));
    assert_false(mt_utf8_valid(S("\xf0\x8f\xbf\xbf")));

    /* surrogates */
    assert_false(mt_utf8_valid(S("\xed\xa0\x80")));
    assert_false(mt_utf8_valid(S("\xed\xbf\xbf")));
    assert_false(mt_utf8_valid(S("\xed\xa0\xbd\xed\xb8\x80")));

    /* above U+10FFFF */
    assert_false(mt_utf8_valid(S("\xf4\x90\x80\x80")));

    /* truncated, at the end and before more text */
    assert_false(mt_utf8_valid(S("\xc3")));
    assert_false(mt_utf8_valid(S("\xe2\x82")));
    assert_false(mt_utf8_valid(S("\xf0\x9f\x98")));
    assert_false(mt_utf8_valid(S("\xe2\x82z")));
    assert_false(mt_utf8_valid(S("\xf0\x9f\x98 ")));

    /* the length is honoured: a valid prefix of a longer buffer */
    assert_true(mt_utf8_valid("ab\xff", 2));
    assert_false(mt_utf8_valid("\xe2\x82\xac", 2));
}


static int
mt(const char *v, const char *want)
{
    return mt_media_type_is(v, strlen(v), want);
}


static void
test_media_type_ok(void **state)
{
    const char  *j = "application/json";

    (void) state;

    assert_int_equal(mt("application/json", j), 1);
    assert_int_equal(mt("Application/JSON", j), 1);
    assert_int_equal(mt("APPLICATION/JSON", j), 1);
    assert_int_equal(mt("Application/JSON; charset=UTF-8", j), 1);
    assert_int_equal(mt("application/json;charset=utf-8", j), 1);
    assert_int_equal(mt("application/json;charset=\"utf-8\"", j), 1);
    assert_int_equal(mt("application/json; CHARSET=\"Utf-8\"", j), 1);
    assert_int_equal(mt("application/json; foo=bar", j), 1);
    assert_int_equal(mt("application/json; foo=\"a;b, c\"", j), 1);
    assert_int_equal(mt("application/json; foo=\"x\\\"y\"", j), 1);
    assert_int_equal(mt("application/json; foo=bar; charset=utf-8", j), 1);
    assert_int_equal(mt("  application/json  ", j), 1);
    assert_int_equal(mt("\tapplication/json\t;\tcharset=utf-8\t", j), 1);
    assert_int_equal(mt("application/json;", j), 1);
    assert_int_equal(mt("application/json ; ; charset=utf-8", j), 1);

    /* a quoted-pair may escape an ordinary character */
    assert_int_equal(mt("application/json; charset=\"utf\\-8\"", j), 1);

    /* the length bounds the value */
    assert_int_equal(mt_media_type_is("application/jsonx", 16, j), 1);

    assert_int_equal(mt("text/plain", "text/plain"), 1);
}


static void
test_media_type_bad(void **state)
{
    const char  *j = "application/json";

    (void) state;

    assert_int_equal(mt("", j), 0);
    assert_int_equal(mt("   ", j), 0);
    assert_int_equal(mt("text/plain", j), 0);
    assert_int_equal(mt("application/jsonx", j), 0);
    assert_int_equal(mt("application/jso", j), 0);
    assert_int_equal(mt("application/json+x", j), 0);
    assert_int_equal(mt("application/xjson", j), 0);
    assert_int_equal(mt("application", j), 0);
    assert_int_equal(mt("application/", j), 0);
    assert_int_equal(mt("/json", j), 0);
    assert_int_equal(mt("application /json", j), 0);
    assert_int_equal(mt("application/ json", j), 0);
    assert_int_equal(mt("application/json/x", j), 0);
    assert_int_equal(mt("application/json x", j), 0);
    assert_int_equal(mt("application/json, text/plain", j), 0);
    assert_int_equal(mt_media_type_is(NULL, 0, j), 0);

    /* charset must be utf-8, and only that spelling */
    assert_int_equal(mt("application/json; charset=latin1", j), 0);
    assert_int_equal(mt("application/json; charset=utf8", j), 0);
    assert_int_equal(mt("application/json; charset=\"utf8\"", j), 0);
    assert_int_equal(mt("application/json; charset=utf-16", j), 0);
    assert_int_equal(mt("application/json; charset=\"\"", j), 0);
    assert_int_equal(mt("application/json; charset=\"utf-8 \"", j), 0);
    assert_int_equal(mt("application/json; charset=utf-8; charset=ascii",
                        j), 0);
    assert_int_equal(mt("application/json; charset=utf-8x", j), 0);

    /* malformed parameters */
    assert_int_equal(mt("application/json; charset", j), 0);
    assert_int_equal(mt("application/json; charset=", j), 0);
    assert_int_equal(mt("application/json; =utf-8", j), 0);
    assert_int_equal(mt("application/json; charset = utf-8", j), 0);
    assert_int_equal(mt("application/json; foo=\"bar", j), 0);
    assert_int_equal(mt("application/json; foo=\"bar\\", j), 0);
    assert_int_equal(mt("application/json; foo=\"a\x01\"", j), 0);
    assert_int_equal(mt("application/json; foo=bar baz", j), 0);
    assert_int_equal(mt("application/json; foo=\"bar\"x", j), 0);
    assert_int_equal(mt("application/json; f(o)=bar", j), 0);
    assert_int_equal(mt("application/json\x01", j), 0);
    assert_int_equal(mt_media_type_is("application/json\0", 17, j), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_iso8601_negative),
        cmocka_unit_test(test_iso8601_clamped),
        cmocka_unit_test(test_parse_int_ok),
        cmocka_unit_test(test_parse_int_bad),
        cmocka_unit_test(test_parse_int_bounds),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_media_type_ok),
        cmocka_unit_test(test_media_type_bad),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

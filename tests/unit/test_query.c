/*
 * Unit tests for lib/query.c: form decoding of query-string values.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "query.h"


#define S(lit)  (lit), (sizeof(lit) - 1)


/* Decodes into an exactly sized heap buffer, so ASan sees any overrun. */
static mt_query_err_t
decode(const char *src, size_t len, char **out, size_t *out_len)
{
    char            *dst;
    mt_query_err_t   rc;

    dst = malloc(len + 1);
    assert_non_null(dst);

    *out_len = 12345;
    rc = mt_query_decode(src, len, dst, out_len);

    if (rc != MT_QUERY_OK) {
        assert_int_equal(*out_len, 0);
        free(dst);
        dst = NULL;

    } else {
        assert_true(*out_len <= len);
        assert_int_equal(dst[*out_len], '\0');
        assert_int_equal(strlen(dst), *out_len);
    }

    *out = dst;

    return rc;
}


static void
ok(const char *src, size_t len, const char *want, size_t wantlen)
{
    char    *out;
    size_t   n;

    if (decode(src, len, &out, &n) != MT_QUERY_OK) {
        print_error("refused: \"%.*s\"\n", (int) len, src);
        fail();
    }

    assert_int_equal(n, wantlen);
    assert_memory_equal(out, want, n);
    free(out);
}


static void
bad(const char *src, size_t len, mt_query_err_t want)
{
    char    *out;
    size_t   n;

    assert_int_equal(decode(src, len, &out, &n), want);
    assert_null(out);
}


static void
test_plain(void **state)
{
    (void) state;

    ok(S(""), S(""));
    ok(S("US"), S("US"));
    ok(S("a+b"), S("a b"));
    ok(S("+"), S(" "));
    ok(S("%20"), S(" "));
    ok(S("%2B"), S("+"));
    ok(S("%2b"), S("+"));
    ok(S("personal%20finance"), S("personal finance"));
    ok(S("Consumer+Psychology"), S("Consumer Psychology"));
    ok(S("a%26b%3Dc"), S("a&b=c"));
    ok(S("%25"), S("%"));
    ok(S("%2541"), S("%41"));             /* decoded once, not twice */
    ok(S("100%25"), S("100%"));
    ok(S("%7E%7e"), S("~~"));
    ok(S("%01%1F%7F"), S("\x01\x1f\x7f"));
}


static void
test_utf8(void **state)
{
    (void) state;

    /* encoded and raw UTF-8 alike */
    ok(S("caf%C3%A9"), S("caf\xc3\xa9"));
    ok(S("caf\xc3\xa9"), S("caf\xc3\xa9"));
    ok(S("%E2%82%AC"), S("\xe2\x82\xac"));
    ok(S("%F0%9F%98%80"), S("\xf0\x9f\x98\x80"));
    ok(S("%F4%8F%BF%BF"), S("\xf4\x8f\xbf\xbf"));     /* U+10FFFF */
    ok(S("\xe2%82\xac"), S("\xe2\x82\xac"));          /* mixed */

    bad(S("%C0%AF"), MT_QUERY_EUTF8);                 /* overlong "/" */
    bad(S("%C1%BF"), MT_QUERY_EUTF8);
    bad(S("%E0%80%AF"), MT_QUERY_EUTF8);
    bad(S("%F0%80%80%AF"), MT_QUERY_EUTF8);
    bad(S("%ED%A0%80"), MT_QUERY_EUTF8);              /* surrogate */
    bad(S("%F4%90%80%80"), MT_QUERY_EUTF8);           /* past U+10FFFF */
    bad(S("%FF"), MT_QUERY_EUTF8);
    bad(S("%80"), MT_QUERY_EUTF8);
    bad(S("caf%C3"), MT_QUERY_EUTF8);                 /* cut short */
    bad(S("%C3+"), MT_QUERY_EUTF8);
    bad(S("\xff"), MT_QUERY_EUTF8);
    bad(S("\xc3"), MT_QUERY_EUTF8);
}


/* a NUL in any form refuses the value: nothing is compared cut short */
static void
test_nul(void **state)
{
    (void) state;

    bad(S("US%00junk"), MT_QUERY_ENUL);
    bad(S("%00"), MT_QUERY_ENUL);
    bad(S("US%00"), MT_QUERY_ENUL);
    bad(S("US\0"), MT_QUERY_ENUL);
    bad(S("\0US"), MT_QUERY_ENUL);
}


static void
test_escape(void **state)
{
    (void) state;

    bad(S("%"), MT_QUERY_EESCAPE);
    bad(S("US%"), MT_QUERY_EESCAPE);
    bad(S("US%4"), MT_QUERY_EESCAPE);
    bad(S("%GG"), MT_QUERY_EESCAPE);
    bad(S("%G1"), MT_QUERY_EESCAPE);
    bad(S("%1G"), MT_QUERY_EESCAPE);
    bad(S("%%41"), MT_QUERY_EESCAPE);
    bad(S("%+1"), MT_QUERY_EESCAPE);
    bad(S("% 1"), MT_QUERY_EESCAPE);
    bad(S("%-1"), MT_QUERY_EESCAPE);
    bad(S("ok%2"), MT_QUERY_EESCAPE);

    /* the escape wins over a later NUL or bad UTF-8: first fault first */
    bad(S("%ZZ%00"), MT_QUERY_EESCAPE);
    bad(S("%00%ZZ"), MT_QUERY_ENUL);
}


/* every byte value 1..255, percent-encoded, decodes to itself or fails */
static void
test_all_bytes(void **state)
{
    int      c;
    char     src[4], want, *out;
    size_t   n;

    static const char  hex[] = "0123456789ABCDEF";

    (void) state;

    for (c = 1; c < 256; c++) {
        src[0] = '%';
        src[1] = hex[c >> 4];
        src[2] = hex[c & 15];
        src[3] = '\0';

        if (c < 0x80) {
            want = (char) c;
            ok(src, 3, &want, 1);

        } else {
            /* a lone byte from 0x80 up is never UTF-8 */
            assert_int_equal(decode(src, 3, &out, &n), MT_QUERY_EUTF8);
        }
    }
}


static void
test_strerror(void **state)
{
    (void) state;

    assert_string_equal(mt_query_strerror(MT_QUERY_EESCAPE),
                        "malformed percent escape");
    assert_string_equal(mt_query_strerror(MT_QUERY_ENUL),
                        "must not contain a NUL byte");
    assert_string_equal(mt_query_strerror(MT_QUERY_EUTF8),
                        "must be valid UTF-8");
    assert_non_null(mt_query_strerror((mt_query_err_t) 99));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_all_bytes),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

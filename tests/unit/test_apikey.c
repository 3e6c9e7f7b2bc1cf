/*
 * Unit tests for lib/sha256.c and lib/apikey.c.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "apikey.h"
#include "sha256.h"


static void
hex(const unsigned char *d, char *out)
{
    size_t  i;

    for (i = 0; i < MT_SHA256_LEN; i++) {
        sprintf(out + 2 * i, "%02x", d[i]);
    }
}


static void
check(const char *in, size_t len, const char *want)
{
    char           got[MT_SHA256_HEX_LEN + 1];
    unsigned char  d[MT_SHA256_LEN];

    mt_sha256(in, len, d);
    hex(d, got);
    assert_string_equal(got, want);
}


/* FIPS 180-4 examples and NIST CAVP short messages */

static void
test_sha256_vectors(void **state)
{
    (void) state;

    check("", 0,
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check("abc", 3,
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
          "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112,
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* a key as the README hashes it, checked with sha256sum(1) */
    check("secret-key-1", 12,
          "a6c1eaef9d5f23f4e13d9b574cbbe07ae877227d92be87d077005dc6776bcdcc");
}


/* 55, 56, 63, 64, 65 bytes: every padding branch; fed in odd pieces */

static void
test_sha256_split(void **state)
{
    char           buf[200];
    size_t         len, i, step;
    mt_sha256_t    c;
    unsigned char  whole[MT_SHA256_LEN], parts[MT_SHA256_LEN];

    (void) state;

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (char) ('a' + i % 26);
    }

    for (len = 0; len < sizeof(buf); len++) {
        mt_sha256(buf, len, whole);

        for (step = 1; step < 70; step += 7) {
            mt_sha256_init(&c);
            for (i = 0; i < len; i += step) {
                mt_sha256_update(&c, buf + i, len - i < step ? len - i
                                                             : step);
            }
            mt_sha256_final(&c, parts);
            assert_memory_equal(whole, parts, MT_SHA256_LEN);
        }
    }

    /* one million "a": FIPS 180-4's long message */
    {
        char  got[MT_SHA256_HEX_LEN + 1];

        memset(buf, 'a', 100);
        mt_sha256_init(&c);
        for (i = 0; i < 10000; i++) {
            mt_sha256_update(&c, buf, 100);
        }
        mt_sha256_final(&c, whole);
        hex(whole, got);
        assert_string_equal(got, "cdc76e5c9914fb9281a1c7e284d73e67"
                                 "f1809a48a497200e046d39ccc7112cd0");
    }
}


/* the SHA extensions' blocks against the C ones, every padding case */

static void
test_sha256_hw_and_c(void **state)
{
    int            hw;
    char           buf[300];
    size_t         len, i;
    unsigned char  a[MT_SHA256_LEN], b[MT_SHA256_LEN];

    (void) state;

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (char) (i * 7 + 3);
    }

    hw = mt_sha256_use_hw(1);
    print_message("SHA extensions: %s\n", hw ? "yes" : "no (C twice)");

    for (len = 0; len < sizeof(buf); len++) {
        (void) mt_sha256_use_hw(1);
        mt_sha256(buf, len, a);
        (void) mt_sha256_use_hw(0);
        mt_sha256(buf, len, b);
        assert_memory_equal(a, b, MT_SHA256_LEN);
    }

    (void) mt_sha256_use_hw(1);
}


/* the vectors with the C code alone, wherever the tests run */

static void
test_sha256_vectors_c(void **state)
{
    (void) mt_sha256_use_hw(0);
    test_sha256_vectors(state);
    test_sha256_split(state);
    (void) mt_sha256_use_hw(1);
}


static void
test_ct_equal(void **state)
{
    (void) state;

    assert_true(mt_ct_equal("abcd", "abcd", 4));
    assert_false(mt_ct_equal("abcd", "abce", 4));
    assert_false(mt_ct_equal("xbcd", "abcd", 4));
    assert_true(mt_ct_equal("a", "b", 0));
}


static void
test_sha256_equal(void **state)
{
    size_t         i;
    unsigned char  a[MT_SHA256_LEN], b[MT_SHA256_LEN];

    (void) state;

    mt_sha256("x", 1, a);
    memcpy(b, a, sizeof(b));
    assert_true(mt_sha256_equal(a, b));

    /* a difference in any byte, any bit */
    for (i = 0; i < (size_t) MT_SHA256_LEN * 8; i++) {
        b[i / 8] ^= (unsigned char) (1u << (i % 8));
        assert_false(mt_sha256_equal(a, b));
        b[i / 8] ^= (unsigned char) (1u << (i % 8));
    }

    assert_true(mt_sha256_equal(a, b));
}


#define H64 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static int
parse(const char *line, mt_apikey_t *k, const char **err)
{
    *err = NULL;
    return mt_apikey_parse(line, strlen(line), k, err);
}


static void
test_apikey_lines(void **state)
{
    mt_apikey_t  k;
    const char  *err;

    (void) state;

    assert_int_equal(parse("", &k, &err), 0);
    assert_int_equal(parse("   \t\r", &k, &err), 0);
    assert_int_equal(parse("# a comment", &k, &err), 0);
    assert_int_equal(parse("  # indented", &k, &err), 0);

    assert_int_equal(parse("ci:read:" H64, &k, &err), 1);
    assert_int_equal(k.name_len, 2);
    assert_memory_equal(k.name, "ci", 2);
    assert_int_equal(k.scopes, MT_APIKEY_READ);
    assert_int_equal(k.hash[0], 0xba);
    assert_int_equal(k.hash[31], 0xad);

    assert_int_equal(parse("  admin-1.x_y:read,write:" H64 "  # ops\r",
                           &k, &err), 1);
    assert_int_equal(k.name_len, 11);
    assert_int_equal(k.scopes, MT_APIKEY_READ | MT_APIKEY_WRITE);

    assert_int_equal(parse("w:write,read:" H64, &k, &err), 1);
    assert_int_equal(k.scopes, MT_APIKEY_READ | MT_APIKEY_WRITE);

    /* upper-case hex is taken */
    assert_int_equal(parse("u:read:BA7816BF8F01CFEA414140DE5DAE2223B00361A3"
                           "96177A9CB410FF61F20015AD", &k, &err), 1);
    assert_int_equal(k.hash[0], 0xba);
}


static void
test_apikey_bad(void **state)
{
    mt_apikey_t  k;
    const char  *err;

    (void) state;

    assert_int_equal(parse("ci:read", &k, &err), -1);
    assert_non_null(err);
    assert_int_equal(parse("ci:read:" H64 ":x", &k, &err), -1);
    assert_int_equal(parse(":read:" H64, &k, &err), -1);
    assert_int_equal(parse("c i:read:" H64, &k, &err), -1);
    assert_int_equal(parse("ci:admin:" H64, &k, &err), -1);
    assert_int_equal(parse("ci::" H64, &k, &err), -1);
    assert_int_equal(parse("ci:read,:" H64, &k, &err), -1);
    assert_int_equal(parse("ci:read:" H64 "0", &k, &err), -1);
    assert_int_equal(parse("ci:read:abc", &k, &err), -1);
    assert_int_equal(parse("ci:read:zz7816bf8f01cfea414140de5dae2223b0036"
                           "1a396177a9cb410ff61f20015ad", &k, &err), -1);
    assert_int_equal(parse("a123456789b123456789c123456789d123456789"
                           "e123456789f123456789g12345:read:" H64,
                           &k, &err), -1);
    /* a key in clear, not its hash */
    assert_int_equal(parse("ci:read:secret-key-1", &k, &err), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_sha256_split),
        cmocka_unit_test(test_sha256_hw_and_c),
        cmocka_unit_test(test_sha256_vectors_c),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_sha256_equal),
        cmocka_unit_test(test_apikey_lines),
        cmocka_unit_test(test_apikey_bad),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

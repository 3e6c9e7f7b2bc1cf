/*
 * Unit tests for lib/remote_util.c's two policies: error bodies of both
 * services into messages safe for a log and a client (no API key
 * survives, printable ASCII, bounded), and when and after how long to
 * retry.
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

#include "remote.h"


#define S(lit)      (lit), (sizeof(lit) - 1)
#define FAKE_KEY    "sk-proj-abcdefghijklmnopqrstuvwxyz123456"


/* errors */

static void
msg_is(int status, const char *body, const char *want)
{
    char  msg[256];

    mt_remote_error_message(status, body, body ? strlen(body) : 0, msg,
                            sizeof(msg));

    if (strcmp(msg, want) != 0) {
        fail_msg("\"%s\", not \"%s\"", msg, want);
    }
}


static void
assert_safe(const char *msg)
{
    const char  *p;

    assert_true(strlen(msg) <= MT_REMOTE_MSG_MAX);
    assert_null(strstr(msg, "abcdefghij"));
    assert_null(strstr(msg, "123456"));

    for (p = msg; *p; p++) {
        assert_true(*p >= 0x20 && *p <= 0x7e);
    }
}


static void
test_error_message(void **state)
{
    char   msg[256], small[8], *long_body;
    size_t i;

    (void) state;

    /* OpenAI's 401, with the key as it echoes it and as it was sent */
    mt_remote_error_message(401,
        S("{\"error\":{\"message\":\"Incorrect API key provided: "
          FAKE_KEY ". You can find your API key at "
          "https://platform.openai.com/account/api-keys.\","
          "\"type\":\"invalid_request_error\",\"param\":null,"
          "\"code\":\"invalid_api_key\"}}"), msg, sizeof(msg));
    assert_safe(msg);
    assert_null(strstr(msg, "sk-proj"));
    assert_non_null(strstr(msg, "Incorrect API key provided: [redacted]."));

    msg_is(401, "{\"error\":{\"message\":\"Incorrect API key provided: "
           "sk-proj-********************************3456.\"}}",
           "Incorrect API key provided: [redacted].");

    /* a key in a plain-text body, and a long token anywhere */
    mt_remote_error_message(401, S("bad key " FAKE_KEY), msg, sizeof(msg));
    assert_safe(msg);
    msg_is(400, "token abcdefghijklmnopqrstuvwx here",
           "token [redacted] here");
    msg_is(400, "token abcdefghijklmnopqrstuvw here",
           "token abcdefghijklmnopqrstuvw here");
    msg_is(400, "pcsk_2ab34_cdefGHIJklmnopQRSTuvwxyz0123 rejected",
           "[redacted] rejected");
    /* words with "sk-" inside, and a short "sk-", are not keys */
    msg_is(400, "task-force risk-free sk-1", "task-force risk-free sk-1");

    /* Pinecone's JSON, its gateway's plain text, HTML, nothing */
    msg_is(404, "{\"code\":5,\"message\":\"Index not found\",\"details\":[]}",
           "Index not found");
    msg_is(401, "Unauthorized", "Unauthorized");
    msg_is(401, "Unauthorized\n", "Unauthorized");
    msg_is(502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
           "<body><center><h1>502 Bad Gateway</h1></center></body></html>",
           "502 Bad Gateway 502 Bad Gateway");
    msg_is(503, "", "HTTP 503");
    msg_is(503, NULL, "HTTP 503");
    msg_is(500, "{\"status\":\"down\"}", "HTTP 500");
    msg_is(429, "{\"error\":\"rate limited\"}", "rate limited");
    msg_is(400, "{\"error\":{\"message\":\"line\\none\\ttab\\u0000nul\"}}",
           "line one tab nul");
    msg_is(400, "caf\xc3\xa9 \xe2\x98\x95 ok", "caf? ? ok");
    msg_is(400, "a < b", "a < b");

    /* long: cut to MT_REMOTE_MSG_MAX with "..." */
    long_body = malloc(5000);
    assert_non_null(long_body);

    for (i = 0; i < 4999; i++) {
        long_body[i] = (i % 5 == 4) ? ' ' : 'w';
    }
    long_body[4999] = '\0';

    mt_remote_error_message(500, long_body, 4999, msg, sizeof(msg));
    assert_int_equal(strlen(msg), MT_REMOTE_MSG_MAX);
    assert_string_equal(msg + MT_REMOTE_MSG_MAX - 3, "...");

    /*
     * A key across the cut at MT_REMOTE_MSG_MAX: redacted whole before
     * the cut, never cut to a short, harmless-looking start.
     */
    memcpy(long_body + 150, FAKE_KEY, sizeof(FAKE_KEY) - 1);
    long_body[149] = ' ';
    long_body[150 + sizeof(FAKE_KEY) - 1] = ' ';
    mt_remote_error_message(500, long_body, 4999, msg, sizeof(msg));
    assert_safe(msg);
    assert_null(strstr(msg, "sk-"));
    assert_non_null(strstr(msg, "[redac"));
    free(long_body);

    /* the buffer bounds it too */
    mt_remote_error_message(404, S("Index not found"), small, sizeof(small));
    assert_string_equal(small, "Index n");
}


/* retries */

static void
test_retry_delay(void **state)
{
    long      d;
    unsigned  a;

    (void) state;

    /* what is retried */
    assert_int_equal(mt_remote_retry_delay_ms(400, NULL, NULL, NULL, 0, 0, 0),
                     -1);
    assert_int_equal(mt_remote_retry_delay_ms(401, NULL, NULL, NULL, 0, 0, 0),
                     -1);
    assert_int_equal(mt_remote_retry_delay_ms(404, NULL, NULL, NULL, 0, 0, 0),
                     -1);
    assert_int_equal(mt_remote_retry_delay_ms(422, NULL, NULL, NULL, 0, 0, 0),
                     -1);
    assert_int_equal(mt_remote_retry_delay_ms(408, NULL, NULL, NULL, 0, 0, 0),
                     500);
    assert_int_equal(mt_remote_retry_delay_ms(409, NULL, NULL, NULL, 0, 0, 0),
                     500);
    assert_int_equal(mt_remote_retry_delay_ms(429, NULL, NULL, NULL, 0, 0, 0),
                     500);
    assert_int_equal(mt_remote_retry_delay_ms(500, NULL, NULL, NULL, 0, 0, 0),
                     500);
    assert_int_equal(mt_remote_retry_delay_ms(503, NULL, NULL, NULL, 0, 0, 0),
                     500);
    assert_int_equal(mt_remote_retry_delay_ms(0, NULL, NULL, NULL, 0, 0, 0),
                     500);

    /* x-should-retry overrides the status, both ways */
    assert_int_equal(mt_remote_retry_delay_ms(400, NULL, NULL, "true", 0, 0,
                                              0), 500);
    assert_int_equal(mt_remote_retry_delay_ms(503, NULL, NULL, "false", 0, 0,
                                              0), -1);
    assert_int_equal(mt_remote_retry_delay_ms(429, "1", "100", "false", 0, 0,
                                              0), -1);
    assert_int_equal(mt_remote_retry_delay_ms(503, NULL, NULL, "maybe", 0, 0,
                                              0), 500);

    /* the server's delay: retry-after-ms first, then Retry-After */
    assert_int_equal(mt_remote_retry_delay_ms(429, "2", NULL, NULL, 0, 0, 0),
                     2000);
    assert_int_equal(mt_remote_retry_delay_ms(429, " 7 ", NULL, NULL, 3,
                                              60000, 99), 7000);
    assert_int_equal(mt_remote_retry_delay_ms(429, "2", "1500.5", NULL, 0, 0,
                                              0), 1501);
    assert_int_equal(mt_remote_retry_delay_ms(429, NULL, "20", NULL, 5, 0,
                                              12345), 20);
    assert_int_equal(mt_remote_retry_delay_ms(429, NULL, "0", NULL, 0, 0, 0),
                     0);
    /* not numbers: the next form, else the backoff */
    assert_int_equal(mt_remote_retry_delay_ms(429, "3", "soon", NULL, 0, 0,
                                              0), 3000);
    assert_int_equal(mt_remote_retry_delay_ms(429, "3", "nan", NULL, 0, 0,
                                              0), 3000);
    assert_int_equal(mt_remote_retry_delay_ms(429, "3", "-5", NULL, 0, 0, 0),
                     3000);
    assert_int_equal(mt_remote_retry_delay_ms(503,
                     "Wed, 21 Oct 2026 07:28:00 GMT", NULL, NULL, 1, 0, 0),
                     1000);
    assert_int_equal(mt_remote_retry_delay_ms(503, "1.5", NULL, NULL, 0, 0,
                                              0), 500);

    /* the cap, and the highest cap */
    assert_int_equal(mt_remote_retry_delay_ms(429, "300", NULL, NULL, 0,
                                              60000, 0), 60000);
    assert_int_equal(mt_remote_retry_delay_ms(429, NULL, "90000.2", NULL, 0,
                                              60000, 0), 60000);
    assert_int_equal(mt_remote_retry_delay_ms(429, "999999999999999999999",
                                              NULL, NULL, 0, 5000, 0), 5000);
    assert_int_equal(mt_remote_retry_delay_ms(429, "3600", NULL, NULL, 0, 0,
                                              0), MT_REMOTE_DELAY_MAX);
    assert_int_equal(mt_remote_retry_delay_ms(429, "3600", NULL, NULL, 0,
                                              999999, 0),
                     MT_REMOTE_DELAY_MAX);
    assert_int_equal(mt_remote_retry_delay_ms(503, NULL, NULL, NULL, 3, 2000,
                                              0), 2000);

    /* the backoff: 500 ms doubling up to 8 s, less up to 25% */
    for (a = 0; a < 40; a++) {
        long  base = (a >= 4) ? 8000 : 500L << a;

        assert_int_equal(mt_remote_retry_delay_ms(500, NULL, NULL, NULL, a,
                                                  0, 0), base);
        assert_int_equal(mt_remote_retry_delay_ms(500, NULL, NULL, NULL, a,
                                                  0, (uint64_t) base / 4),
                         base - base / 4);

        d = mt_remote_retry_delay_ms(500, NULL, NULL, NULL, a, 0,
                                     0x9e3779b97f4a7c15ULL * (a + 1));
        assert_true(d >= base - base / 4 && d <= base);
    }

    /* jitter varies with rand */
    assert_true(mt_remote_retry_delay_ms(500, NULL, NULL, NULL, 2, 0, 1)
                != mt_remote_retry_delay_ms(500, NULL, NULL, NULL, 2, 0, 2));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_error_message),
        cmocka_unit_test(test_retry_delay),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for lib/remote_http.c against t/remote/fake_remote.py, one
 * server for the whole file (run from the repository's root, as "make
 * unit" does): calls that succeed, the retry policy on every fault the
 * server can inject, the caller's stop, keep-alive, and the concurrency and
 * rate caps.  The server is driven through its control API on sockets of
 * our own, so that what is measured is the client's traffic only.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "unit.h"

#include "remote.h"
#include "remote_http.h"


#define OPENAI_KEY    "sk-proj-unitTESTkey0123456789abcdefghij"
#define PINECONE_KEY  "pc-unit-0123456789abcdefghijklmnop"
#define EMBED_BODY    "{\"model\":\"text-embedding-3-small\"," \
                      "\"input\":[\"hello world\",\"cooking videos\"]," \
                      "\"dimensions\":8}"


static pid_t  server_pid = -1;
static int    server_port;


/* the fake server and its control API */

static int
group_setup(void **state)
{
    int            fd[2], n;
    char           line[64];
    size_t         len;
    struct pollfd  pfd;

    (void) state;

    /* nginx ignores SIGPIPE; so does this process, as remote_http.h says */
    (void) signal(SIGPIPE, SIG_IGN);

    if (mt_http_global_init() != 0 || pipe(fd) != 0) {
        return -1;
    }

    server_pid = fork();

    if (server_pid == 0) {
        /* the server goes when we go, however we end */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() == 1) {
            _exit(127);
        }

        (void) dup2(fd[1], STDOUT_FILENO);
        (void) close(fd[0]);
        (void) close(fd[1]);

        if (getenv("MATCHER_REMOTE_VERBOSE") == NULL) {
            (void) freopen("/dev/null", "w", stderr);
        }

        (void) execlp("python3", "python3", "t/remote/fake_remote.py",
                      "--port", "0", "--openai-key", OPENAI_KEY,
                      "--pinecone-key", PINECONE_KEY, "--dims", "8",
                      (char *) NULL);
        _exit(127);
    }

    (void) close(fd[1]);

    if (server_pid < 0) {
        (void) close(fd[0]);
        return -1;
    }

    len = 0;
    pfd.fd = fd[0];
    pfd.events = POLLIN;

    while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
        if (poll(&pfd, 1, 10000) != 1) {
            break;
        }

        n = (int) read(fd[0], line + len, sizeof(line) - 1 - len);
        if (n <= 0) {
            break;
        }

        len += (size_t) n;
    }

    (void) close(fd[0]);
    line[len] = '\0';

    if (sscanf(line, "ready %d", &server_port) != 1) {
        fprintf(stderr, "fake_remote.py did not start: \"%s\"\n", line);
        return -1;
    }

    return 0;
}


static int
group_teardown(void **state)
{
    (void) state;

    if (server_pid > 0) {
        (void) kill(server_pid, SIGTERM);
        (void) waitpid(server_pid, NULL, 0);
    }

    return 0;
}


/*
 * One control request on a connection of its own (Connection: close);
 * the reply's body in out.  The HTTP status, or -1.
 */
static int
ctl(const char *method, const char *path, const char *body, char *out,
    size_t outlen)
{
    int                 s, status;
    char                req[4096], buf[65536], *p;
    size_t              len, blen;
    ssize_t             n;
    struct sockaddr_in  sa;

    blen = body ? strlen(body) : 0;
    len = (size_t) snprintf(req, sizeof(req),
                            "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Connection: close\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: %zu\r\n\r\n%s",
                            method, path, blen, body ? body : "");
    assert_true(len < sizeof(req));

    s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t) server_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(s, (struct sockaddr *) &sa, sizeof(sa)) != 0
        || write(s, req, len) != (ssize_t) len)
    {
        (void) close(s);
        return -1;
    }

    len = 0;

    while (len < sizeof(buf) - 1
           && (n = read(s, buf + len, sizeof(buf) - 1 - len)) > 0)
    {
        len += (size_t) n;
    }

    (void) close(s);
    buf[len] = '\0';

    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        return -1;
    }

    if (out != NULL) {
        p = strstr(buf, "\r\n\r\n");
        (void) snprintf(out, outlen, "%s", p ? p + 4 : "");
    }

    return status;
}


static void
fault(const char *json)
{
    char  out[256];

    if (ctl("POST", "/_control/fault", json, out, sizeof(out)) != 200) {
        fail_msg("fault refused: %s: %s", json, out);
    }
}


/* a number the stats say: "name":N */
static long
stat_of(const char *name)
{
    char   out[4096], key[64], *p;

    assert_int_equal(ctl("GET", "/_control/stats", NULL, out, sizeof(out)),
                     200);
    (void) snprintf(key, sizeof(key), "\"%s\":", name);

    p = strstr(out, key);
    if (p == NULL) {
        fail_msg("no %s in %s", name, out);
        return -1;
    }

    return strtol(p + strlen(key), NULL, 10);
}


static int
reset_server(void **state)
{
    (void) state;

    return ctl("POST", "/_control/reset", "{}", NULL, 0) == 200 ? 0 : -1;
}


static long
now_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* clients */

static mt_http_conf_t
openai_conf(void)
{
    static char     url[64];
    mt_http_conf_t  c;

    (void) snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/",
                    server_port);

    memset(&c, 0, sizeof(c));
    c.base_url = url;
    c.key_header = "Authorization";
    c.key_value = "Bearer " OPENAI_KEY;
    c.connect_timeout_ms = 2000;
    c.timeout_ms = 5000;
    c.max_retries = 2;
    c.retry_cap_ms = 1000;

    return c;
}


static mt_http_conf_t
pinecone_conf(void)
{
    static char                 url[64];
    mt_http_conf_t              c;
    static const char *const    extra[] = {
        "X-Pinecone-Api-Version: 2025-10", NULL
    };

    (void) snprintf(url, sizeof(url), "http://127.0.0.1:%d", server_port);

    memset(&c, 0, sizeof(c));
    c.base_url = url;
    c.key_header = "Api-Key";
    c.key_value = PINECONE_KEY;
    c.headers = extra;
    c.timeout_ms = 5000;
    c.max_retries = 2;
    c.retry_cap_ms = 1000;

    return c;
}


static mt_http_t *
client(const mt_http_conf_t *conf)
{
    char        err[128];
    mt_http_t  *h;

    err[0] = '\0';
    h = mt_http_new(conf, err, sizeof(err));
    if (h == NULL) {
        fail_msg("mt_http_new: %s", err);
    }

    return h;
}


static int
embed(mt_http_t *h, int (*stop)(void), mt_http_reply_t *r)
{
    return mt_http_call(h, "/embeddings", NULL, EMBED_BODY,
                        sizeof(EMBED_BODY) - 1, stop, r);
}


static void
assert_ok(int rc, const mt_http_reply_t *r)
{
    if (rc != 0) {
        fail_msg("call failed: %s (status %d, %u attempts)", r->error,
                 r->status, r->attempts);
    }

    assert_int_equal(r->status, 200);
    assert_non_null(r->body);
    assert_int_equal(strlen(r->body), r->len);
}


/* what conf.observe heard */
typedef struct {
    int                     calls;
    int                     failed;
    long                    ms;
} observed_t;


static void
observe(void *data, int failed, long ms)
{
    observed_t  *o = data;

    o->calls++;
    o->failed += failed;
    o->ms += ms;
}


/* tests */

static void
test_post(void **state)
{
    int              rc;
    char             last[16384];
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_reply_t  r;

    (void) state;

    c = openai_conf();
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_ok(rc, &r);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(r.waited_ms, 0);
    assert_string_equal(r.error, "");
    assert_non_null(strstr(r.body, "\"embedding\""));
    assert_non_null(strstr(r.body, "\"index\":1"));
    assert_memory_equal(r.request_id, "req_", 4);
    mt_http_reply_free(&r);
    assert_null(r.body);

    /* what the server saw: the key, JSON both ways */
    assert_int_equal(ctl("GET", "/_control/last?path=/v1/embeddings", NULL,
                         last, sizeof(last)), 200);
    assert_non_null(strstr(last, "\"method\":\"POST\""));
    assert_non_null(strstr(last, "\"key_ok\":true"));
    assert_non_null(strstr(last, "\"content-type\":\"application/json\""));
    assert_non_null(strstr(last, "\"accept\":\"application/json\""));
    /* and the other service's key header not at all */
    assert_non_null(strstr(last, "\"api-key\":{\"present\":false"));
    assert_non_null(strstr(last, "\"input\":[\"hello world\""));
    assert_non_null(strstr(last, "\"http_version\":\"HTTP/1.1\""));

    mt_http_free(h);
}


static void
test_get(void **state)
{
    int              rc;
    char             last[8192], body[64];
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_reply_t  r;

    (void) state;

    /* something to list */
    c = pinecone_conf();
    h = client(&c);

    (void) snprintf(body, sizeof(body), "{\"vectors\":[{\"id\":\"u1\","
                    "\"values\":[1,0,0,0,0,0,0,0]}]}");
    rc = mt_http_call(h, "/vectors/upsert", NULL, body, strlen(body), NULL,
                      &r);
    assert_ok(rc, &r);
    mt_http_reply_free(&r);

    rc = mt_http_call(h, "/vectors/list", "prefix=u&limit=5", NULL, 0, NULL,
                      &r);
    assert_ok(rc, &r);
    assert_non_null(strstr(r.body, "{\"id\":\"u1\"}"));
    mt_http_reply_free(&r);

    assert_int_equal(ctl("GET", "/_control/last", NULL, last, sizeof(last)),
                     200);
    assert_non_null(strstr(last, "\"method\":\"GET\""));
    assert_non_null(strstr(last, "\"target\":\"/vectors/list?prefix=u"
                                 "&limit=5\""));
    assert_non_null(strstr(last, "\"key_ok\":true"));
    assert_non_null(strstr(last, "\"x-pinecone-api-version\":\"2025-10\""));
    assert_null(strstr(last, "\"content-type\""));
    assert_non_null(strstr(last, "\"authorization\":{\"present\":false"));

    /* an unknown path: 404, not retried */
    rc = mt_http_call(h, "/nowhere", "", NULL, 0, NULL, &r);
    assert_int_equal(rc, -1);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.attempts, 1);
    mt_http_reply_free(&r);

    mt_http_free(h);
}


/* curl 7.88 asks for a 100-continue from 1 MB of body: not here */
static void
test_big_post(void **state)
{
    int              rc;
    char             last[16384], want[64], *body;
    size_t           len, i;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_reply_t  r;

    (void) state;

    len = 1100000;
    body = malloc(len + 1);
    assert_non_null(body);

    i = (size_t) snprintf(body, len, "{\"topK\":1,\"vector\":[0");

    while (i + 4 < len) {
        body[i++] = ',';
        body[i++] = '1';
    }

    memcpy(body + i, "]}", 3);
    len = i + 2;

    c = pinecone_conf();
    h = client(&c);

    /* a vector of the wrong dimension: 400, not retried */
    rc = mt_http_call(h, "/query", NULL, body, len, NULL, &r);
    assert_int_equal(rc, -1);
    assert_int_equal(r.status, 400);
    assert_int_equal(r.attempts, 1);
    mt_http_reply_free(&r);
    free(body);

    assert_int_equal(ctl("GET", "/_control/last?path=/query", NULL, last,
                         sizeof(last)), 200);
    (void) snprintf(want, sizeof(want), "\"body_length\":%zu", len);
    assert_non_null(strstr(last, want));
    assert_null(strstr(last, "\"expect\""));

    mt_http_free(h);
}


static void
test_401(void **state)
{
    int              rc;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_reply_t  r;
    observed_t       o = { 0, 0, 0 };

    (void) state;

    /* a wrong key: not retried */
    c = openai_conf();
    c.key_value = "Bearer sk-wrongWRONGwrong0123456789abcdef";
    c.observe = observe;
    c.observe_data = &o;
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_int_equal(rc, -1);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.failed, 1);
    assert_int_equal(r.status, 401);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(stat_of("requests_total"), 1);
    assert_non_null(strstr(r.error, "HTTP 401: Incorrect API key provided."));
    assert_non_null(strstr(r.error, "(x-request-id req_"));
    assert_null(strstr(r.error, "wrongWRONG"));
    mt_http_reply_free(&r);
    mt_http_free(h);

    /* a service that echoes the key it was given: redacted */
    fault("{\"path\":\"/v1/embeddings\",\"status\":401,\"message\":"
          "\"Incorrect API key provided: " OPENAI_KEY "\"}");

    c = openai_conf();
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_int_equal(rc, -1);
    assert_int_equal(r.status, 401);
    assert_int_equal(r.attempts, 1);
    assert_non_null(strstr(r.error, "HTTP 401: Incorrect API key provided"));
    assert_null(strstr(r.error, "unitTESTkey"));
    assert_null(strstr(r.error, "0123456789abcdefghij"));
    mt_http_reply_free(&r);
    mt_http_free(h);
}


static void
test_429_then_ok(void **state)
{
    int              rc;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_stats_t  st;
    mt_http_reply_t  r;
    observed_t       o = { 0, 0, 0 };

    (void) state;

    fault("{\"path\":\"/v1/embeddings\",\"status\":429,"
          "\"retry_after_ms\":50}");

    c = openai_conf();
    c.observe = observe;
    c.observe_data = &o;
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_ok(rc, &r);
    assert_int_equal(r.attempts, 2);
    /* one call, however many attempts, its time with the wait */
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.failed, 0);
    assert_true(o.ms >= 50);
    /* the server's 50 ms, not the 375 ms or more of the backoff */
    assert_true(r.waited_ms >= 50);
    assert_true(r.waited_ms < 300);
    mt_http_reply_free(&r);

    mt_http_stats(h, &st);
    assert_int_equal(st.calls, 1);
    assert_int_equal(st.attempts, 2);
    assert_int_equal(st.retries, 1);
    assert_int_equal(st.failures, 0);

    mt_http_free(h);
}


static void
test_500_twice(void **state)
{
    int              rc;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_reply_t  r;

    (void) state;

    fault("{\"path\":\"/v1/embeddings\",\"status\":500,\"count\":2,"
          "\"retry_after_ms\":10}");

    c = openai_conf();
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_ok(rc, &r);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(stat_of("embedding_requests"), 1);
    mt_http_reply_free(&r);

    mt_http_free(h);
}


static void
test_exhausted(void **state)
{
    int              rc;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_stats_t  st;
    mt_http_reply_t  r;

    (void) state;

    fault("{\"path\":\"/vectors/list\",\"status\":503,\"count\":-1,"
          "\"retry_after_ms\":10,\"message\":\"overloaded\"}");

    c = pinecone_conf();
    c.max_retries = 3;
    h = client(&c);

    rc = mt_http_call(h, "/vectors/list", NULL, NULL, 0, NULL, &r);
    assert_int_equal(rc, -1);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.attempts, 4);
    assert_int_equal(stat_of("requests_total"), 4);
    assert_memory_equal(r.error, "HTTP 503: overloaded (x-request-id req_",
                        39);
    assert_non_null(r.body);
    mt_http_reply_free(&r);

    mt_http_stats(h, &st);
    assert_int_equal(st.failures, 1);
    assert_int_equal(st.retries, 3);

    /* x-should-retry: "false" wins over a 503, "true" over a 400 */
    fault("{\"path\":\"/vectors/fetch\",\"status\":503,"
          "\"headers\":{\"x-should-retry\":\"false\"}}");
    rc = mt_http_call(h, "/vectors/fetch", "ids=a", NULL, 0, NULL, &r);
    assert_int_equal(rc, -1);
    assert_int_equal(r.attempts, 1);
    mt_http_reply_free(&r);

    fault("{\"path\":\"/vectors/fetch\",\"status\":400,\"retry_after_ms\":1,"
          "\"headers\":{\"X-Should-Retry\":\"True\"}}");
    rc = mt_http_call(h, "/vectors/fetch", "ids=a", NULL, 0, NULL, &r);
    assert_ok(rc, &r);
    assert_int_equal(r.attempts, 2);
    mt_http_reply_free(&r);

    mt_http_free(h);
}


static void
test_reset(void **state)
{
    int              rc;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_stats_t  st;
    mt_http_reply_t  r;

    (void) state;

    fault("{\"path\":\"/v1/embeddings\",\"kind\":\"reset\"}");

    c = openai_conf();
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_ok(rc, &r);
    assert_int_equal(r.attempts, 2);
    /* no server delay: the backoff's 500 ms less up to 25% */
    assert_true(r.waited_ms >= 370);
    mt_http_reply_free(&r);

    /* the reset connection is replaced */
    mt_http_stats(h, &st);
    assert_int_equal(st.connections, 2);

    /* and a reset every time: no reply, status 0 */
    fault("{\"path\":\"/v1/embeddings\",\"kind\":\"reset\"}");
    mt_http_free(h);
    c.max_retries = 0;
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_int_equal(rc, -1);
    assert_int_equal(r.status, 0);
    assert_null(r.body);
    assert_memory_equal(r.error, "receive: ", 9);
    mt_http_reply_free(&r);

    mt_http_free(h);
}


static void
test_truncate(void **state)
{
    int              rc;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_reply_t  r;

    (void) state;

    fault("{\"path\":\"/v1/embeddings\",\"kind\":\"truncate\"}");

    c = openai_conf();
    c.max_retries = 0;
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_int_equal(rc, -1);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.error, "HTTP"));
    mt_http_reply_free(&r);
    mt_http_free(h);

    fault("{\"path\":\"/v1/embeddings\",\"kind\":\"truncate\"}");

    c.max_retries = 1;
    c.retry_cap_ms = 20;
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_ok(rc, &r);
    assert_int_equal(r.attempts, 2);
    assert_true(r.waited_ms <= 100);
    mt_http_reply_free(&r);

    mt_http_free(h);
}


static void
test_timeout(void **state)
{
    int              rc;
    long             t0;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_reply_t  r;

    (void) state;

    fault("{\"path\":\"/v1/embeddings\",\"kind\":\"delay\",\"delay_ms\":800}");

    c = openai_conf();
    c.timeout_ms = 200;
    c.max_retries = 0;
    h = client(&c);

    t0 = now_ms();
    rc = embed(h, NULL, &r);
    assert_int_equal(rc, -1);
    assert_true(now_ms() - t0 < 600);
    assert_int_equal(r.status, 0);
    assert_memory_equal(r.error, "timeout: ", 9);
    mt_http_reply_free(&r);
    mt_http_free(h);

    fault("{\"path\":\"/v1/embeddings\",\"kind\":\"delay\",\"delay_ms\":800}");

    c.max_retries = 1;
    c.retry_cap_ms = 20;
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_ok(rc, &r);
    assert_int_equal(r.attempts, 2);
    mt_http_reply_free(&r);

    mt_http_free(h);
}


static void
test_retry_cap(void **state)
{
    int              rc;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_reply_t  r;

    (void) state;

    fault("{\"path\":\"/v1/embeddings\",\"status\":429,"
          "\"retry_after\":100}");

    c = openai_conf();
    c.retry_cap_ms = 200;
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_ok(rc, &r);
    assert_int_equal(r.attempts, 2);
    assert_true(r.waited_ms >= 190);
    assert_true(r.waited_ms < 600);
    mt_http_reply_free(&r);

    mt_http_free(h);
}


/*
 * The stops the calls ask, as nginx's worker flags would say: one for the
 * call stopped midway, one for a call that holds the only slot, one that
 * says 1 from the start.
 */
static volatile int  stop_now, stop_held;

static int
stop_now_fn(void)
{
    return stop_now;
}


static int
stop_held_fn(void)
{
    return stop_held;
}


static int
stop_always(void)
{
    return 1;
}


typedef struct {
    volatile int   *flag;
    long            after_ms;
} stopper_t;


static void *
stopper(void *arg)
{
    stopper_t        *s = arg;
    struct timespec   ts;

    ts.tv_sec = s->after_ms / 1000;
    ts.tv_nsec = (s->after_ms % 1000) * 1000000;
    (void) nanosleep(&ts, NULL);
    *s->flag = 1;

    return NULL;
}


/* a call stopped 150 ms in returns in about 250 ms at most */
static void
stopped_call(mt_http_t *h)
{
    int              rc;
    long             t0, took;
    pthread_t        t;
    stopper_t        s;
    mt_http_reply_t  r;

    stop_now = 0;
    s.flag = &stop_now;
    s.after_ms = 150;
    assert_int_equal(pthread_create(&t, NULL, stopper, &s), 0);

    t0 = now_ms();
    rc = embed(h, stop_now_fn, &r);
    took = now_ms() - t0;

    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(rc, -1);
    assert_string_equal(r.error, "stopped: shutting down");
    assert_true(took >= 140);
    assert_true(took < 400);
    mt_http_reply_free(&r);
}


typedef struct {
    mt_http_t      *h;
    int           (*stop)(void);
    int             rc;
} holder_t;


static void *
holder(void *arg)
{
    holder_t         *o = arg;
    mt_http_reply_t   r;

    o->rc = embed(o->h, o->stop, &r);
    mt_http_reply_free(&r);

    return NULL;
}


static void
test_stop(void **state)
{
    int              rc;
    mt_http_t       *h;
    mt_http_conf_t   c;
    holder_t         o;
    pthread_t        t;
    mt_http_reply_t  r;
    struct timespec  ms50 = { 0, 50000000 };

    (void) state;

    c = openai_conf();
    c.retry_cap_ms = 0;
    c.timeout_ms = 10000;
    h = client(&c);

    /* in the backoff sleep: 100 s asked for, up to 120 s allowed */
    fault("{\"path\":\"/v1/embeddings\",\"status\":429,"
          "\"retry_after\":100}");
    stopped_call(h);

    /* in the transfer: the server sits on the request for 5 s */
    fault("{\"path\":\"/v1/embeddings\",\"kind\":\"delay\","
          "\"delay_ms\":5000}");
    stopped_call(h);

    /* and before the first attempt */
    rc = embed(h, stop_always, &r);
    assert_int_equal(rc, -1);
    assert_int_equal(r.attempts, 0);
    mt_http_reply_free(&r);
    mt_http_free(h);

    /* waiting for the one slot, which a call of 5 s holds */
    fault("{\"path\":\"/v1/embeddings\",\"kind\":\"delay\","
          "\"delay_ms\":5000}");
    c.max_concurrency = 1;
    h = client(&c);

    stop_held = 0;
    o.h = h;
    o.stop = stop_held_fn;
    assert_int_equal(pthread_create(&t, NULL, holder, &o), 0);
    (void) nanosleep(&ms50, NULL);

    stopped_call(h);

    stop_held = 1;
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(o.rc, -1);

    mt_http_free(h);
}


static void
test_keepalive(void **state)
{
    int              i, rc;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_stats_t  st;
    mt_http_reply_t  r;

    (void) state;

    c = openai_conf();
    h = client(&c);

    for (i = 0; i < 20; i++) {
        rc = (i % 2) ? mt_http_call(h, "/models", NULL, NULL, 0, NULL, &r)
                     : embed(h, NULL, &r);

        if (i % 2 == 0) {
            assert_ok(rc, &r);
        }

        mt_http_reply_free(&r);
    }

    assert_int_equal(stat_of("requests_total"), 20);
    assert_int_equal(stat_of("connections"), 1);

    mt_http_stats(h, &st);
    assert_int_equal(st.calls, 20);
    assert_int_equal(st.connections, 1);

    mt_http_free(h);
}


typedef struct {
    mt_http_t      *h;
    int             calls;
    int             failed;
} worker_t;


static void *
worker(void *arg)
{
    int               i;
    worker_t         *w = arg;
    mt_http_reply_t   r;

    for (i = 0; i < w->calls; i++) {
        if (embed(w->h, NULL, &r) != 0) {
            w->failed++;
        }

        mt_http_reply_free(&r);
    }

    return NULL;
}


/* n threads, each making calls; the time it took */
static long
run_workers(mt_http_t *h, int n, int calls)
{
    int        i;
    long       t0;
    worker_t   w[8];
    pthread_t  t[8];

    assert_true(n <= 8);
    t0 = now_ms();

    for (i = 0; i < n; i++) {
        w[i].h = h;
        w[i].calls = calls;
        w[i].failed = 0;
        assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }

    for (i = 0; i < n; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failed, 0);
    }

    return now_ms() - t0;
}


static void
test_concurrency(void **state)
{
    long             took;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_stats_t  st;

    (void) state;

    fault("{\"path\":\"/v1/embeddings\",\"kind\":\"delay\",\"delay_ms\":200,"
          "\"count\":4}");

    c = openai_conf();
    c.max_concurrency = 2;
    h = client(&c);

    /* 4 calls of 200 ms, 2 at a time */
    took = run_workers(h, 4, 1);
    assert_true(took >= 390);
    assert_true(took < 1000);
    assert_int_equal(stat_of("embedding_requests"), 4);

    /* two handles at most, so two connections */
    mt_http_stats(h, &st);
    assert_true(st.connections <= 2);
    mt_http_free(h);

    /* without the cap, all four at once */
    fault("{\"path\":\"/v1/embeddings\",\"kind\":\"delay\",\"delay_ms\":200,"
          "\"count\":4}");
    c.max_concurrency = 0;
    h = client(&c);
    took = run_workers(h, 4, 1);
    assert_true(took < 390);
    mt_http_free(h);
}


static void
test_rate(void **state)
{
    long             took;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_reply_t  r;

    (void) state;

    /* 10 starts at 10 a second, from two threads: 0.9 s at least */
    c = openai_conf();
    c.max_rps = 10;
    h = client(&c);

    took = run_workers(h, 2, 5);
    assert_true(took >= 880);
    assert_true(took < 2500);
    assert_int_equal(stat_of("embedding_requests"), 10);
    mt_http_free(h);

    /* a turn 2 s away is not waited for once stopped */
    c.max_rps = 0.5;
    h = client(&c);
    assert_ok(embed(h, NULL, &r), &r);
    mt_http_reply_free(&r);
    stopped_call(h);
    mt_http_free(h);
}


static void
test_max_reply(void **state)
{
    int              rc;
    mt_http_t       *h;
    mt_http_conf_t   c;
    mt_http_reply_t  r;

    (void) state;

    c = openai_conf();
    c.max_reply = 100;
    h = client(&c);

    rc = embed(h, NULL, &r);
    assert_int_equal(rc, -1);
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.error, "reply over 100 bytes");
    assert_null(r.body);
    mt_http_reply_free(&r);
    mt_http_free(h);

    /* exactly at the limit is fine */
    fault("{\"path\":\"/v1/embeddings\",\"kind\":\"nonjson\",\"body\":"
          "\"0123456789\"}");
    c.max_reply = 10;
    h = client(&c);
    rc = embed(h, NULL, &r);
    assert_ok(rc, &r);
    assert_string_equal(r.body, "0123456789");
    mt_http_reply_free(&r);
    mt_http_free(h);
}


static void
test_connect_refused(void **state)
{
    int                 s, rc;
    char                url[64];
    socklen_t           sl;
    mt_http_t          *h;
    mt_http_conf_t      c;
    mt_http_reply_t     r;
    struct sockaddr_in  sa;

    (void) state;

    /* a port that was free a moment ago */
    s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *) &sa, sizeof(sa)), 0);
    sl = sizeof(sa);
    assert_int_equal(getsockname(s, (struct sockaddr *) &sa, &sl), 0);
    (void) close(s);

    (void) snprintf(url, sizeof(url), "http://127.0.0.1:%d",
                    ntohs(sa.sin_port));

    c = openai_conf();
    c.base_url = url;
    c.max_retries = 1;
    c.retry_cap_ms = 10;
    h = client(&c);

    rc = mt_http_call(h, "/v1/models", NULL, NULL, 0, NULL, &r);
    assert_int_equal(rc, -1);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.attempts, 2);
    assert_memory_equal(r.error, "connect: ", 9);
    assert_null(strstr(r.error, "unitTESTkey"));
    mt_http_reply_free(&r);

    mt_http_free(h);
}


static void
test_conf(void **state)
{
    char            err[128];
    mt_http_conf_t  c;

    (void) state;

    static const char *const  crlf[] = { "X-A: 1\r\nX-B: 2", NULL };
    static const char *const  nocolon[] = { "X-A 1", NULL };

    c = openai_conf();
    c.base_url = "ftp://example.com";
    assert_null(mt_http_new(&c, err, sizeof(err)));
    assert_string_equal(err, "the base URL is not http(s)");

    c = openai_conf();
    c.headers = crlf;
    assert_null(mt_http_new(&c, err, sizeof(err)));
    assert_string_equal(err, "bad header line");

    c.headers = nocolon;
    assert_null(mt_http_new(&c, err, sizeof(err)));

    c = openai_conf();
    c.key_value = "Bearer x\r\nX-Evil: 1";
    assert_null(mt_http_new(&c, err, sizeof(err)));
    assert_null(strstr(err, "Bearer"));

    c = openai_conf();
    c.retry_cap_ms = MT_REMOTE_DELAY_MAX + 1;
    assert_null(mt_http_new(&c, err, sizeof(err)));

    c = openai_conf();
    c.max_rps = -1;
    assert_null(mt_http_new(&c, err, sizeof(err)));

    mt_http_free(NULL);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf),
        cmocka_unit_test_setup(test_post, reset_server),
        cmocka_unit_test_setup(test_get, reset_server),
        cmocka_unit_test_setup(test_big_post, reset_server),
        cmocka_unit_test_setup(test_401, reset_server),
        cmocka_unit_test_setup(test_429_then_ok, reset_server),
        cmocka_unit_test_setup(test_500_twice, reset_server),
        cmocka_unit_test_setup(test_exhausted, reset_server),
        cmocka_unit_test_setup(test_reset, reset_server),
        cmocka_unit_test_setup(test_truncate, reset_server),
        cmocka_unit_test_setup(test_timeout, reset_server),
        cmocka_unit_test_setup(test_retry_cap, reset_server),
        cmocka_unit_test_setup(test_stop, reset_server),
        cmocka_unit_test_setup(test_keepalive, reset_server),
        cmocka_unit_test_setup(test_concurrency, reset_server),
        cmocka_unit_test_setup(test_rate, reset_server),
        cmocka_unit_test_setup(test_max_reply, reset_server),
        cmocka_unit_test_setup(test_connect_refused, reset_server),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

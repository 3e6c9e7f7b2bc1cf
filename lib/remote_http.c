/*
 * The blocking HTTP client of remote_http.h, on libcurl.
 *
 * Each pooled connection is a curl easy handle with a multi handle of its
 * own.  The multi holds the connection cache, so a TCP (and TLS)
 * connection lives on from one call to the next; and driving the
 * transfer ourselves, curl_multi_poll() in slices, lets the caller's stop
 * end it within a slice, where curl_easy_perform() calls its progress
 * callback as seldom as once a second.  A thread takes a connection off
 * the free list for one attempt and puts it back after.
 */

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "remote.h"
#include "remote_http.h"
#include "util.h"


#define MT_HTTP_SLICE_US    100000  /* the longest wait between two
                                       calls of stop() */
#define MT_HTTP_BUF_MIN     4096
#define MT_HTTP_HDR_MAX     32      /* bytes kept of a retry header */
#define MT_HTTP_REDACTED    "[redacted]"
#define MT_HTTP_SECRET_MIN  12      /* a shorter key is not looked for */


typedef struct mt_http_conn_s  mt_http_conn_t;

struct mt_http_conn_s {
    CURL                   *easy;
    CURLM                  *multi;      /* holds the connection cache */
    mt_http_conn_t         *next;
};

struct mt_http_s {
    char                   *base_url;
    char                   *secret;     /* the key, kept out of errors */
    struct curl_slist      *get_headers;
    struct curl_slist      *post_headers;  /* with Content-Type */
    long                    connect_timeout_ms;
    long                    timeout_ms;
    unsigned                max_retries;
    long                    retry_cap_ms;
    unsigned                max_concurrency;
    int64_t                 interval_us;    /* between starts; 0: any */
    size_t                  max_reply;
    void                  (*observe)(void *data, int failed, long ms);
    void                   *observe_data;

    pthread_mutex_t         lock;       /* for all below */
    pthread_cond_t          freed;      /* a slot came free */
    unsigned                active;
    int64_t                 next_start_us;
    mt_http_conn_t         *idle;
    uint64_t                rnd;
    mt_http_stats_t         stats;
};

/* what one attempt gathers through curl's callbacks */
typedef struct {
    char                   *data;
    size_t                  len;
    size_t                  cap;
    size_t                  max;
    unsigned                overflow:1;
    unsigned                nomem:1;
    struct {                            /* of the last response */
        char                retry_after[MT_HTTP_HDR_MAX];
        char                retry_after_ms[MT_HTTP_HDR_MAX];
        char                should_retry[MT_HTTP_HDR_MAX];
        char                request_id[64];
    } hdr;
    char                    errbuf[CURL_ERROR_SIZE];
} mt_http_xfer_t;

typedef enum {
    MT_HTTP_DONE,           /* a 2xx */
    MT_HTTP_AGAIN,          /* failed: mt_remote_retry_delay_ms() decides */
    MT_HTTP_FAIL,           /* failed for good */
    MT_HTTP_STOPPED
} mt_http_rc_t;


static pthread_once_t  mt_http_once = PTHREAD_ONCE_INIT;
static CURLcode        mt_http_init_rc = CURLE_FAILED_INIT;


static void
mt_http_init_once(void)
{
    mt_http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}


int
mt_http_global_init(void)
{
    if (pthread_once(&mt_http_once, mt_http_init_once) != 0) {
        return -1;
    }

    return (mt_http_init_rc == CURLE_OK) ? 0 : -1;
}


static int64_t
mt_http_now_us(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


#define mt_http_stopped(stop)  ((stop) != NULL && (stop)())


/* sleeps us microseconds in slices; 1 when stop came first */
static int
mt_http_sleep(int64_t us, int (*stop)(void))
{
    int64_t          end, left;
    struct timespec  ts;

    end = mt_http_now_us() + us;

    while (!mt_http_stopped(stop)) {
        left = end - mt_http_now_us();

        if (left <= 0) {
            return 0;
        }

        left = (left < MT_HTTP_SLICE_US) ? left : MT_HTTP_SLICE_US;
        ts.tv_sec = (time_t) (left / 1000000);
        ts.tv_nsec = (long) (left % 1000000) * 1000;
        (void) nanosleep(&ts, NULL);
    }

    return 1;
}


static void
mt_http_count(mt_http_t *h, uint64_t *counter)
{
    (void) pthread_mutex_lock(&h->lock);
    (*counter)++;
    (void) pthread_mutex_unlock(&h->lock);
}


/* a volatile store, so that wiping the key is not optimised away */
static void
mt_http_wipe(char *p)
{
    volatile char  *v = p;

    while (*v != '\0') {
        *v++ = '\0';
    }
}


/* "Name: value", a token for a name, no CR or LF to start another */
static int
mt_http_line_ok(const char *line)
{
    const char  *p;

    for (p = line; *p != ':'; p++) {
        if (*p <= 0x20 || *p >= 0x7f) {
            return 0;
        }
    }

    return p > line && strpbrk(p, "\r\n") == NULL;
}


/*
 * A header list: Content-Type (a POST's), Accept, the key, the extras.
 * "Expect:" turns off curl's 100-continue, a round trip for a body of
 * 1 MB or more.
 */
static int
mt_http_list(struct curl_slist **list, const char *ctype, const char *key,
    const char *const *extra)
{
    size_t              i;
    const char         *line;
    struct curl_slist  *l;
    const char         *fixed[] = {
        ctype, "Accept: application/json", "Expect:", key
    };

    for (i = 0; /* void */; i++) {
        if (i < 4) {
            line = fixed[i];

        } else {
            line = (extra != NULL) ? extra[i - 4] : NULL;

            if (line == NULL) {
                return 0;
            }
        }

        if (line != NULL) {
            l = curl_slist_append(*list, line);

            if (l == NULL) {
                return -1;
            }

            *list = l;
        }
    }
}


/* NULL when conf is fine, or what is wrong with it */
static const char *
mt_http_check(const mt_http_conf_t *conf)
{
    size_t  i;

    if (conf == NULL || conf->base_url == NULL
        || (strncasecmp(conf->base_url, "http://", 7) != 0
            && strncasecmp(conf->base_url, "https://", 8) != 0)
        || strpbrk(conf->base_url, " \r\n") != NULL)
    {
        return "the base URL is not http(s)";
    }

    for (i = 0; conf->headers != NULL && conf->headers[i] != NULL; i++) {
        if (!mt_http_line_ok(conf->headers[i])) {
            return "bad header line";
        }
    }

    if (conf->retry_cap_ms < 0 || conf->retry_cap_ms > MT_REMOTE_DELAY_MAX
        || conf->connect_timeout_ms < 0 || conf->timeout_ms < 0
        || !(conf->max_rps >= 0))
    {
        return "a limit is out of range";
    }

    return (conf->key_header != NULL && conf->key_value == NULL)
           ? "bad key header" : NULL;
}


/* the condvar waits on the monotonic clock: a clock step is no stall */
static int
mt_http_locks(mt_http_t *h)
{
    int                  rc;
    pthread_condattr_t   ca;

    if (pthread_mutex_init(&h->lock, NULL) != 0) {
        return -1;
    }

    rc = pthread_condattr_init(&ca);

    if (rc == 0) {
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        rc = (rc == 0) ? pthread_cond_init(&h->freed, &ca) : rc;
        (void) pthread_condattr_destroy(&ca);
    }

    if (rc != 0) {
        (void) pthread_mutex_destroy(&h->lock);
        return -1;
    }

    return 0;
}


mt_http_t *
mt_http_new(const mt_http_conf_t *conf, char *err, size_t errlen)
{
    char        *key;
    size_t       n;
    mt_http_t   *h;
    const char  *why, *secret;

    h = NULL;
    key = NULL;
    why = mt_http_check(conf);

    if (why == NULL && mt_http_global_init() != 0) {
        why = "curl_global_init() failed";
    }

    if (why != NULL) {
        goto failed;
    }

    why = "no memory";

    h = calloc(1, sizeof(mt_http_t));
    if (h == NULL || mt_http_locks(h) != 0) {
        free(h);
        h = NULL;
        goto failed;
    }

    h->connect_timeout_ms = conf->connect_timeout_ms
                            ? conf->connect_timeout_ms
                            : MT_HTTP_CONNECT_TIMEOUT_MS;
    h->timeout_ms = conf->timeout_ms ? conf->timeout_ms : MT_HTTP_TIMEOUT_MS;
    h->max_retries = conf->max_retries;
    h->retry_cap_ms = conf->retry_cap_ms;
    h->max_concurrency = conf->max_concurrency;
    h->interval_us = (conf->max_rps > 0 && conf->max_rps < 1e6)
                     ? (int64_t) (1e6 / conf->max_rps) : 0;
    h->max_reply = conf->max_reply ? conf->max_reply : MT_HTTP_REPLY_MAX;
    h->observe = conf->observe;
    h->observe_data = conf->observe_data;
    h->rnd = (uint64_t) mt_http_now_us() ^ (uint64_t) (uintptr_t) h;

    /* "http" comes first: the loop stops there at the latest */
    for (n = strlen(conf->base_url); conf->base_url[n - 1] == '/'; n--) {
        /* void */
    }

    h->base_url = strndup(conf->base_url, n);

    if (conf->key_header != NULL) {
        n = strlen(conf->key_header) + strlen(conf->key_value) + 3;
        key = malloc(n);

        /* what a server might echo: the part after "Bearer " */
        secret = strrchr(conf->key_value, ' ');
        h->secret = strdup(secret ? secret + 1 : conf->key_value);

        if (key == NULL || h->secret == NULL) {
            goto failed;
        }

        (void) snprintf(key, n, "%s: %s", conf->key_header, conf->key_value);

        if (!mt_http_line_ok(key)) {
            why = "bad key header";
            goto failed;
        }
    }

    if (h->base_url == NULL
        || mt_http_list(&h->get_headers, NULL, key, conf->headers) != 0
        || mt_http_list(&h->post_headers, "Content-Type: application/json",
                        key, conf->headers) != 0)
    {
        goto failed;
    }

    why = NULL;

failed:

    if (key != NULL) {
        mt_http_wipe(key);
        free(key);
    }

    if (why == NULL) {
        return h;
    }

    mt_http_free(h);

    if (err != NULL && errlen > 0) {
        (void) snprintf(err, errlen, "%s", why);
    }

    return NULL;
}


static void
mt_http_conn_free(mt_http_conn_t *c)
{
    if (c->easy != NULL) {
        curl_easy_cleanup(c->easy);
    }

    if (c->multi != NULL) {
        (void) curl_multi_cleanup(c->multi);
    }

    free(c);
}


static void
mt_http_list_free(struct curl_slist *list)
{
    struct curl_slist  *l;

    for (l = list; l != NULL; l = l->next) {
        mt_http_wipe(l->data);
    }

    curl_slist_free_all(list);
}


void
mt_http_free(mt_http_t *h)
{
    mt_http_conn_t  *c;

    if (h == NULL) {
        return;
    }

    while (h->idle != NULL) {
        c = h->idle;
        h->idle = c->next;
        mt_http_conn_free(c);
    }

    mt_http_list_free(h->get_headers);
    mt_http_list_free(h->post_headers);

    if (h->secret != NULL) {
        mt_http_wipe(h->secret);
        free(h->secret);
    }

    free(h->base_url);
    (void) pthread_cond_destroy(&h->freed);
    (void) pthread_mutex_destroy(&h->lock);
    free(h);
}


void
mt_http_reply_free(mt_http_reply_t *reply)
{
    if (reply != NULL) {
        free(reply->body);
        reply->body = NULL;
        reply->len = 0;
    }
}


void
mt_http_stats(mt_http_t *h, mt_http_stats_t *stats)
{
    (void) pthread_mutex_lock(&h->lock);
    *stats = h->stats;
    (void) pthread_mutex_unlock(&h->lock);
}


/* --- one attempt -------------------------------------------------------- */

static size_t
mt_http_write(char *p, size_t size, size_t nmemb, void *data)
{
    char            *buf;
    size_t           n, cap;
    mt_http_xfer_t  *x = data;

    n = size * nmemb;

    if (n > x->max - x->len) {
        x->overflow = 1;
        return 0;
    }

    if (x->len + n + 1 > x->cap) {
        for (cap = x->cap ? x->cap : MT_HTTP_BUF_MIN; cap < x->len + n + 1;
             cap *= 2)
        {
            /* void */
        }

        cap = (cap < x->max + 1) ? cap : x->max + 1;

        buf = realloc(x->data, cap);
        if (buf == NULL) {
            x->nomem = 1;
            return 0;
        }

        x->data = buf;
        x->cap = cap;
    }

    memcpy(x->data + x->len, p, n);
    x->len += n;
    x->data[x->len] = '\0';

    return n;
}


/* the value when line is "name: value", trimmed, printable, lower case */
static void
mt_http_header_value(const char *line, size_t len, const char *name,
    char *out, size_t outlen, int lower)
{
    size_t  n, o;

    n = strlen(name);

    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0) {
        return;
    }

    for (line += n + 1, len -= n + 1;
         len > 0 && (*line == ' ' || *line == '\t');
         line++, len--)
    {
        /* void */
    }

    while (len > 0 && (unsigned char) line[len - 1] <= ' ') {
        len--;
    }

    for (o = 0; o < len && o + 1 < outlen; o++) {
        out[o] = (line[o] >= 0x20 && line[o] < 0x7f) ? line[o] : '?';
        out[o] = lower ? (char) tolower((unsigned char) out[o]) : out[o];
    }

    out[o] = '\0';
}


static size_t
mt_http_header(char *line, size_t size, size_t nmemb, void *data)
{
    size_t           n;
    mt_http_xfer_t  *x = data;

    n = size * nmemb;

    /* a status line starts a response: a 1xx's headers are forgotten */
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        memset(&x->hdr, 0, sizeof(x->hdr));
        return n;
    }

    mt_http_header_value(line, n, "retry-after", x->hdr.retry_after,
                         sizeof(x->hdr.retry_after), 0);
    mt_http_header_value(line, n, "retry-after-ms", x->hdr.retry_after_ms,
                         sizeof(x->hdr.retry_after_ms), 0);
    mt_http_header_value(line, n, "x-should-retry", x->hdr.should_retry,
                         sizeof(x->hdr.should_retry), 1);
    mt_http_header_value(line, n, "x-request-id", x->hdr.request_id,
                         sizeof(x->hdr.request_id), 0);

    return n;
}


/* every option, every attempt: curl_easy_reset() keeps the connections */
static int
mt_http_setup(mt_http_t *h, CURL *e, const char *url, const char *body,
    size_t len, mt_http_xfer_t *x)
{
    curl_easy_reset(e);

    if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https")
           != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_HTTPHEADER,
                            body ? h->post_headers : h->get_headers)
           != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_USERAGENT, "ngx_http_matcher")
           != CURLE_OK
        /* what curl offers, it decodes */
        || curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                            h->connect_timeout_ms) != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->timeout_ms) != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mt_http_write)
           != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, mt_http_header)
           != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_HEADERDATA, x) != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK)
    {
        return -1;
    }

    if (body == NULL) {
        return (curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK) ? 0
                                                                      : -1;
    }

    if (curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len)
           != CURLE_OK
        || curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) != CURLE_OK)
    {
        return -1;
    }

    return 0;
}


/*
 * The transfer, polled in slices so that stop is seen.  CURLE_OK or
 * curl's error; *broken when the handles are not fit to be used again.
 */
static CURLcode
mt_http_perform(mt_http_conn_t *c, int (*stop)(void), int *stopped,
    int *broken)
{
    int        running, left;
    CURLMsg   *msg;
    CURLcode   rc;

    if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK) {
        *broken = 1;
        return CURLE_FAILED_INIT;
    }

    rc = CURLE_FAILED_INIT;

    for ( ;; ) {
        if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
            *broken = 1;
            break;
        }

        if (running == 0) {
            while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
                if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->easy) {
                    rc = msg->data.result;
                }
            }

            break;
        }

        if (mt_http_stopped(stop)) {
            *stopped = 1;
            rc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }

        if (curl_multi_poll(c->multi, NULL, 0, MT_HTTP_SLICE_US / 1000, NULL)
            != CURLM_OK)
        {
            *broken = 1;
            break;
        }
    }

    /* a transfer cut short closes its connection here */
    if (curl_multi_remove_handle(c->multi, c->easy) != CURLM_OK) {
        *broken = 1;
    }

    return rc;
}


static void
mt_http_put(mt_http_t *h, mt_http_conn_t *c, int broken, long connects)
{
    (void) pthread_mutex_lock(&h->lock);

    if (c != NULL && !broken) {
        c->next = h->idle;
        h->idle = c;
    }

    h->active--;
    h->stats.connections += (uint64_t) connects;
    (void) pthread_cond_signal(&h->freed);
    (void) pthread_mutex_unlock(&h->lock);

    if (c != NULL && broken) {
        mt_http_conn_free(c);
    }
}


/*
 * A slot (max_concurrency), a connection and the turn to start
 * (max_rps): starts are spaced interval_us apart, each caller reserving
 * its own before it sleeps outside the lock.  NULL when stopped or
 * without memory.
 */
static mt_http_conn_t *
mt_http_take(mt_http_t *h, int (*stop)(void), int *stopped)
{
    int64_t           at;
    mt_http_conn_t   *c;
    struct timespec   ts;

    (void) pthread_mutex_lock(&h->lock);

    while (h->max_concurrency != 0 && h->active >= h->max_concurrency) {
        if (mt_http_stopped(stop)) {
            (void) pthread_mutex_unlock(&h->lock);
            *stopped = 1;
            return NULL;
        }

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long) MT_HTTP_SLICE_US * 1000;
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        (void) pthread_cond_timedwait(&h->freed, &h->lock, &ts);
    }

    h->active++;

    c = h->idle;
    h->idle = (c != NULL) ? c->next : NULL;

    at = 0;

    if (h->interval_us != 0) {
        at = mt_http_now_us();
        at = (at < h->next_start_us) ? h->next_start_us : at;
        h->next_start_us = at + h->interval_us;
    }

    (void) pthread_mutex_unlock(&h->lock);

    if (c == NULL) {
        c = calloc(1, sizeof(mt_http_conn_t));

        if (c != NULL) {
            c->easy = curl_easy_init();
            c->multi = curl_multi_init();

            if (c->easy == NULL || c->multi == NULL) {
                mt_http_conn_free(c);
                c = NULL;
            }
        }
    }

    if (c != NULL && at != 0) {
        *stopped = mt_http_sleep(at - mt_http_now_us(), stop);
    }

    if (c == NULL || *stopped) {
        mt_http_put(h, c, 0, 0);
        return NULL;
    }

    return c;
}


static void
mt_http_error(mt_http_reply_t *reply, const char *fmt, ...)
{
    char     *p;
    va_list   ap;

    va_start(ap, fmt);
    (void) vsnprintf(reply->error, sizeof(reply->error), fmt, ap);
    va_end(ap);

    /* printable ASCII only: curl's messages are the server's words too */
    for (p = reply->error; *p != '\0'; p++) {
        *p = (*p < 0x20 || *p >= 0x7f) ? ' ' : *p;
    }
}


/*
 * What part of the exchange failed, and whether to try again; not after
 * a certificate refused, a bad URL and the like: nothing would change.
 */
static const struct {
    CURLcode                code;
    const char             *phase;
} mt_http_phases[] = {
    { CURLE_COULDNT_RESOLVE_HOST, "resolve" },
    { CURLE_COULDNT_RESOLVE_PROXY, "resolve" },
    { CURLE_COULDNT_CONNECT, "connect" },
    { CURLE_OPERATION_TIMEDOUT, "timeout" },
    { CURLE_SSL_CONNECT_ERROR, "tls" },
    { CURLE_SEND_ERROR, "send" },
    { CURLE_RECV_ERROR, "receive" },
    { CURLE_GOT_NOTHING, "receive" },
    { CURLE_PARTIAL_FILE, "receive" },
    { CURLE_HTTP2, "receive" },
    { CURLE_HTTP2_STREAM, "receive" },
};


static mt_http_rc_t
mt_http_attempt(mt_http_t *h, const char *url, const char *body, size_t len,
    int (*stop)(void), mt_http_xfer_t *x, mt_http_reply_t *reply)
{
    int              stopped, broken, again, said;
    long             status, connects;
    char             msg[MT_REMOTE_MSG_MAX + 1], plain[16];
    size_t           i;
    CURLcode         rc;
    mt_http_conn_t  *c;

    stopped = 0;
    broken = 0;

    c = mt_http_take(h, stop, &stopped);

    if (c == NULL) {
        if (stopped) {
            return MT_HTTP_STOPPED;
        }

        mt_http_error(reply, "no memory for a connection");
        return MT_HTTP_FAIL;
    }

    status = 0;
    connects = 0;
    rc = CURLE_FAILED_INIT;

    if (mt_http_setup(h, c->easy, url, body, len, x) != 0) {
        broken = 1;

    } else {
        rc = mt_http_perform(c, stop, &stopped, &broken);

        if (curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status)
                != CURLE_OK
            || curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &connects)
               != CURLE_OK)
        {
            status = 0;
            connects = 0;
        }
    }

    mt_http_put(h, c, broken, connects);
    mt_http_count(h, &h->stats.attempts);

    reply->attempts++;
    reply->status = 0;
    mt_http_reply_free(reply);
    (void) snprintf(reply->request_id, sizeof(reply->request_id), "%s",
                    x->hdr.request_id);

    if (stopped) {
        return MT_HTTP_STOPPED;
    }

    if (x->overflow) {
        reply->status = (int) status;
        mt_http_error(reply, "reply over %zu bytes", h->max_reply);
        return MT_HTTP_FAIL;
    }

    if (x->nomem) {
        mt_http_error(reply, "no memory for the reply");
        return MT_HTTP_FAIL;
    }

    if (rc != CURLE_OK) {
        /* a reply cut short is no reply: status 0 */
        for (i = 0; i < sizeof(mt_http_phases) / sizeof(mt_http_phases[0])
                    && mt_http_phases[i].code != rc; i++)
        {
            /* void */
        }

        again = (i < sizeof(mt_http_phases) / sizeof(mt_http_phases[0]));
        mt_http_error(reply, "%s: %.200s",
                      again ? mt_http_phases[i].phase : "curl",
                      x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));

        return again ? MT_HTTP_AGAIN : MT_HTTP_FAIL;
    }

    reply->status = (int) status;
    reply->body = (x->data != NULL) ? x->data : calloc(1, 1);
    reply->len = x->len;
    x->data = NULL;

    if (reply->body == NULL) {
        mt_http_error(reply, "no memory for the reply");
        return MT_HTTP_FAIL;
    }

    if (status >= 200 && status < 300) {
        reply->error[0] = '\0';
        return MT_HTTP_DONE;
    }

    mt_remote_error_message(reply->status, reply->body, reply->len, msg,
                            sizeof(msg));

    /* "HTTP 503" alone when the service said nothing */
    (void) snprintf(plain, sizeof(plain), "HTTP %d", reply->status);
    said = (strcmp(msg, plain) != 0);

    mt_http_error(reply, "%s%s%s%s%s%s", plain, said ? ": " : "",
                  said ? msg : "",
                  x->hdr.request_id[0] ? " (x-request-id " : "",
                  x->hdr.request_id, x->hdr.request_id[0] ? ")" : "");

    return MT_HTTP_AGAIN;
}


/* --- the call ----------------------------------------------------------- */

/* the key, should a server or curl ever echo it, becomes [redacted] */
static void
mt_http_redact(const mt_http_t *h, char *s)
{
    char    *p;
    size_t   n, r;

    n = (h->secret != NULL) ? strlen(h->secret) : 0;
    r = sizeof(MT_HTTP_REDACTED) - 1;

    if (n < MT_HTTP_SECRET_MIN) {
        return;
    }

    /* n > r: the text only shrinks */
    while ((p = strstr(s, h->secret)) != NULL) {
        memcpy(p, MT_HTTP_REDACTED, r);
        memmove(p + r, p + n, strlen(p + n) + 1);
    }
}


static long
mt_http_delay(mt_http_t *h, const mt_http_reply_t *reply,
    const mt_http_xfer_t *x, unsigned attempt)
{
    uint64_t  rnd;

    (void) pthread_mutex_lock(&h->lock);
    h->rnd = h->rnd * 6364136223846793005ULL + 1442695040888963407ULL;
    rnd = mt_hash_mix(h->rnd);
    (void) pthread_mutex_unlock(&h->lock);

    /* a transfer that broke may have had headers: they were not a reply's */
    if (reply->status == 0) {
        return mt_remote_retry_delay_ms(0, NULL, NULL, NULL, attempt,
                                        h->retry_cap_ms, rnd);
    }

    return mt_remote_retry_delay_ms(reply->status,
               x->hdr.retry_after[0] ? x->hdr.retry_after : NULL,
               x->hdr.retry_after_ms[0] ? x->hdr.retry_after_ms : NULL,
               x->hdr.should_retry[0] ? x->hdr.should_retry : NULL,
               attempt, h->retry_cap_ms, rnd);
}


int
mt_http_call(mt_http_t *h, const char *path, const char *query,
    const char *body, size_t len, int (*stop)(void), mt_http_reply_t *reply)
{
    char            *url;
    long             delay;
    size_t           n;
    int64_t          t0, start;
    unsigned         attempt;
    mt_http_rc_t     rc;
    mt_http_xfer_t   x;

    if (reply == NULL) {
        return -1;
    }

    memset(reply, 0, sizeof(mt_http_reply_t));

    if (h == NULL || path == NULL || path[0] != '/') {
        mt_http_error(reply, "the path does not start with '/'");
        return -1;
    }

    query = (query != NULL) ? query : "";
    n = strlen(h->base_url) + strlen(path) + strlen(query) + 2;

    url = malloc(n);
    if (url == NULL) {
        mt_http_error(reply, "no memory");
        return -1;
    }

    (void) snprintf(url, n, "%s%s%s%s", h->base_url, path,
                    query[0] ? "?" : "", query);

    mt_http_count(h, &h->stats.calls);

    start = mt_http_now_us();

    for (attempt = 0; /* void */; attempt++) {
        rc = MT_HTTP_STOPPED;

        if (!mt_http_stopped(stop)) {
            memset(&x, 0, sizeof(mt_http_xfer_t));
            x.max = h->max_reply;

            rc = mt_http_attempt(h, url, body, len, stop, &x, reply);
            free(x.data);
        }

        if (rc != MT_HTTP_AGAIN || attempt >= h->max_retries) {
            break;
        }

        delay = mt_http_delay(h, reply, &x, attempt);

        if (delay < 0) {
            break;
        }

        mt_http_count(h, &h->stats.retries);

        t0 = mt_http_now_us();
        rc = mt_http_sleep((int64_t) delay * 1000, stop) ? MT_HTTP_STOPPED
                                                         : MT_HTTP_AGAIN;
        reply->waited_ms += (long) ((mt_http_now_us() - t0) / 1000);

        if (rc == MT_HTTP_STOPPED) {
            break;
        }
    }

    free(url);

    if (h->observe != NULL) {
        h->observe(h->observe_data, rc != MT_HTTP_DONE,
                   (long) ((mt_http_now_us() - start) / 1000));
    }

    if (rc == MT_HTTP_DONE) {
        return 0;
    }

    if (rc == MT_HTTP_STOPPED) {
        mt_http_error(reply, "stopped: shutting down");
    }

    mt_http_redact(h, reply->error);
    mt_http_count(h, &h->stats.failures);

    return -1;
}

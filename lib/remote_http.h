/*
 * A blocking HTTP client for the remote services' bulk jobs (re-embedding
 * every creator, upserting them into Pinecone), on libcurl.  Calls block
 * for as long as the service and the retry policy take: they are made
 * from nginx's thread pool only, never on the event loop.  No nginx
 * types.
 *
 * One mt_http_t per service, shared by every thread: it keeps the
 * connections alive between calls (a pool of curl handles, each with its
 * own connection cache), caps the calls in flight and the rate at which
 * they start, and retries as mt_remote_retry_delay_ms() says.  TLS peer
 * and host are always verified, against the system's CA bundle.  The API
 * key is sent in one header and goes nowhere else: not into an error,
 * not to stderr (curl's verbose output is never turned on).
 *
 * The process must ignore SIGPIPE (nginx does): a peer that closes the
 * connection must not kill the worker.
 */

#ifndef MT_REMOTE_HTTP_H
#define MT_REMOTE_HTTP_H

#include <stddef.h>
#include <stdint.h>


#define MT_HTTP_CONNECT_TIMEOUT_MS  10000       /* when the conf says 0 */
#define MT_HTTP_TIMEOUT_MS          60000       /* when the conf says 0 */
#define MT_HTTP_REPLY_MAX           ((size_t) 64 * 1024 * 1024)
#define MT_HTTP_ERROR_LEN           256


typedef struct mt_http_s  mt_http_t;

typedef struct {
    const char             *base_url;   /* "https://api.openai.com/v1":
                                           http(s), a trailing '/' dropped */
    const char             *key_header; /* "Authorization", "Api-Key";
                                           NULL: no key */
    const char             *key_value;  /* "Bearer sk-...": copied */
    const char *const      *headers;    /* more "Name: value" lines, NULL-
                                           terminated; may be NULL */
    long                    connect_timeout_ms; /* per attempt; 0: default */
    long                    timeout_ms;         /* per attempt; 0: default */
    unsigned                max_retries;    /* attempts after the first */
    long                    retry_cap_ms;   /* server delays obeyed up to
                                               this; 0: MT_REMOTE_DELAY_MAX */
    unsigned                max_concurrency;    /* attempts in flight over
                                                   all threads; 0: any */
    double                  max_rps;    /* attempts started a second over
                                           all threads; 0: any */
    size_t                  max_reply;  /* bytes; 0: MT_HTTP_REPLY_MAX */

    /*
     * NULL, or told of every call when it returns, on the caller's
     * thread: failed (it returned -1) and its time, retries and their
     * waits included (the module's metrics)
     */
    void                  (*observe)(void *data, int failed, long ms);
    void                   *observe_data;
} mt_http_conf_t;

typedef struct {
    int                     status;     /* of the last attempt; 0: no
                                           (whole) reply */
    char                   *body;       /* the last attempt's reply,
                                           malloc'd, NUL-terminated; NULL
                                           when it had none */
    size_t                  len;
    unsigned                attempts;
    long                    waited_ms;  /* slept before retries */
    char                    request_id[64];     /* x-request-id, or "" */
    char                    error[MT_HTTP_ERROR_LEN];   /* safe to log */
} mt_http_reply_t;

typedef struct {
    uint64_t                calls;
    uint64_t                attempts;
    uint64_t                retries;
    uint64_t                failures;   /* calls that returned -1 */
    uint64_t                connections;    /* opened, TCP (and TLS) */
} mt_http_stats_t;


/*
 * curl_global_init(), once per process, before any thread uses curl:
 * the module calls it in init_process.  Idempotent and thread-safe
 * (mt_http_new() calls it too).  0, or -1 when curl could not start.
 * curl_global_cleanup() is left to the process's exit.
 */
int mt_http_global_init(void);

/*
 * A client for one service.  The conf's strings are copied.  NULL with
 * err for a base URL that is not http(s), a header line not "Name:
 * value" or with CR or LF, a key header without a value, a negative
 * timeout, retry_cap_ms over MT_REMOTE_DELAY_MAX, max_rps negative or
 * not a number, or no memory.  err never holds the key.
 */
mt_http_t *mt_http_new(const mt_http_conf_t *conf, char *err, size_t errlen);

/* No call may be running; wipes the key.  NULL is fine. */
void mt_http_free(mt_http_t *h);

/*
 * POSTs body[0..len) as JSON (a GET when body is NULL) to base_url +
 * path (which starts with '/'), + '?' + query when query is neither NULL
 * nor "" (percent-encoded already).  The body is not copied: it must
 * live until the call returns.  Any number of threads may call at once.
 *
 * Every attempt waits for a free slot (max_concurrency) and its turn to
 * start (starts are spaced 1 / max_rps apart: a bucket of one token).  A
 * failed attempt is tried again, up to max_retries times, after the delay
 * mt_remote_retry_delay_ms() gives: no whole reply (connect, reset,
 * timeout, a truncated body), 408, 409, 429, >= 500, or x-should-retry
 * "true"; Retry-After and retry-after-ms obeyed up to retry_cap_ms.  Not
 * retried: a reply over max_reply bytes, curl errors that would only
 * repeat (a certificate refused, a bad URL).
 *
 * 0 when a 2xx came: reply filled, body "" at least.  -1 otherwise:
 * reply->error says why, status is the last one.  The error is printable
 * ASCII and never holds the key: "HTTP 429: Rate limit reached ...
 * (x-request-id req_7)" with the service's message through
 * mt_remote_error_message(), "connect: Failed to connect to ...",
 * "timeout: ...", "receive: ..." with curl's, "reply over N bytes",
 * "stopped: shutting down".  reply need not be initialised; free it with
 * mt_http_reply_free() after either.
 *
 * stop: when not NULL, asked on the calling thread every few tens of
 * milliseconds, as the index builds' own stop (vindex.h); once it
 * returns 1 (nginx is exiting), the call gives up within about 100 ms,
 * whatever it was doing: waiting for a slot or its turn, transferring
 * (the connection is then closed), or sleeping before a retry.  It must
 * be safe to call from any thread.
 */
int mt_http_call(mt_http_t *h, const char *path, const char *query,
    const char *body, size_t len, int (*stop)(void), mt_http_reply_t *reply);

/* frees the body; the reply may be reused */
void mt_http_reply_free(mt_http_reply_t *reply);

/* the counters since mt_http_new(), consistent with each other */
void mt_http_stats(mt_http_t *h, mt_http_stats_t *stats);

#endif /* MT_REMOTE_HTTP_H */

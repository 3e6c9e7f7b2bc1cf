/*
 * What both services share: the bounded parse of a reply, compact floats,
 * UTF-8 budgets, base64, and the two things every failed call needs, a
 * message fit for a log line and a client, and whether (and when) to try
 * again.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "remote_int.h"
#include "util.h"


/* the base of the backoff, its ceiling, and how far to read an error */
#define MT_RETRY_BASE_MS      500
#define MT_RETRY_MAX_MS       8000
#define MT_ERR_BODY_MAX       65536     /* bytes of an error body parsed */
#define MT_ERR_TEXT_MAX       1024      /* characters looked at */
#define MT_KEY_RUN            24        /* key-like characters in a row */
#define MT_REDACTED           "[redacted]"


int
mt_remote_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        (void) vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }

    return -1;
}


mt_json_doc_t *
mt_remote_parse(const char *data, size_t len, const mt_json_limits_t *limits,
    char *err, size_t errlen)
{
    char            msg[128];
    mt_json_err_t   code;
    mt_json_doc_t  *doc;

    doc = mt_json_parse(data, len, limits, &code, msg, sizeof(msg));

    if (doc == NULL) {
        switch (code) {

        case MT_JSON_ESYNTAX:
        case MT_JSON_EUTF8:
            (void) mt_remote_fail(err, errlen, "not JSON (%s)", msg);
            break;

        case MT_JSON_ESIZE:
            (void) mt_remote_fail(err, errlen, "reply over %zu bytes",
                                  limits->max_size);
            break;

        case MT_JSON_ENOMEM:
            (void) mt_remote_fail(err, errlen, "out of memory");
            break;

        default:
            (void) mt_remote_fail(err, errlen, "reply too large (%s)", msg);
            break;
        }

        return NULL;
    }

    if (mt_json_root(doc)->type != MT_JSON_OBJECT) {
        (void) mt_remote_fail(err, errlen, "reply is not a JSON object");
        mt_json_free(doc);
        return NULL;
    }

    return doc;
}


int
mt_remote_number(const mt_json_t *v, double *d)
{
    if (v == NULL || v->type != MT_JSON_NUMBER || !isfinite(v->u.number.d)) {
        return -1;
    }

    *d = v->u.number.d;

    return 0;
}


/*
 * A vector component, fast: a request holds 1536 or 3072 of them, and
 * the shortest form that reads back (snprintf and strtof, two or three
 * times a value) cost about 2 ms a vector on the event loop.  Unit
 * vectors' components lie in [-1, 1], so they are printed as a decimal
 * fraction of 8 digits by integer arithmetic, trailing zeros dropped:
 * 5e-9 off at most, which moves a cosine of two unit vectors by at most
 * 5e-9 times the 1-norm of the other one (at most 2e-7 for 1536
 * dimensions).  Anything larger goes the slow, exact way.
 */
void
mt_remote_jw_float(mt_jw_t *w, float f)
{
    int        i, n;
    char       buf[32], *p;
    double     a;
    uint64_t   u;

    if (!isfinite(f)) {
        mt_jw_null(w);
        return;
    }

    a = fabs((double) f);

    if (a >= 1.0) {
        n = snprintf(buf, sizeof(buf), "%.9g", (double) f);
        mt_jw_raw(w, buf, (size_t) n);
        return;
    }

    u = (uint64_t) (a * 1e8 + 0.5);

    if (u == 0) {
        mt_jw_raw(w, "0", 1);
        return;
    }

    p = buf;

    if (f < 0.0f) {
        *p++ = '-';
    }

    if (u >= 100000000) {
        *p++ = '1';
        mt_jw_raw(w, buf, (size_t) (p - buf));
        return;
    }

    *p++ = '0';
    *p++ = '.';

    for (i = 7; i >= 0; i--) {
        p[i] = (char) ('0' + u % 10);
        u /= 10;
    }

    n = 8;

    while (p[n - 1] == '0') {
        n--;
    }

    mt_jw_raw(w, buf, (size_t) (p - buf) + (size_t) n);
}


size_t
mt_remote_utf8_cut(const char *s, size_t len, size_t max, size_t *sent)
{
    int                   k;
    size_t                i, out, step, cost;
    const unsigned char  *p = (const unsigned char *) s;

    i = 0;
    out = 0;

    while (i < len) {
        if (p[i] < 0x80) {
            step = 1;
            cost = 1;

        } else {
            k = mt_utf8_seq(p + i, len - i);
            step = (size_t) (k > 0 ? k : -k);
            cost = (k > 0) ? (size_t) k : 3;
        }

        if (cost > max - out) {
            break;
        }

        out += cost;
        i += step;
    }

    if (sent != NULL) {
        *sent = out;
    }

    return i;
}


static int
mt_base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+') {
        return 62;
    }

    return (c == '/') ? 63 : -1;
}


int
mt_remote_base64_decode(const char *s, size_t len, unsigned char *out,
    size_t want)
{
    int        v;
    size_t     i, n, o;
    uint32_t   acc;
    unsigned   bits;

    /* padding: only as the last one or two of a multiple of four */
    if (len % 4 == 0 && len > 0 && s[len - 1] == '=') {
        len -= (len > 1 && s[len - 2] == '=') ? 2 : 1;
    }

    if (len % 4 == 1) {
        return -1;
    }

    n = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);

    if (n != want) {
        return -1;
    }

    acc = 0;
    bits = 0;
    o = 0;

    for (i = 0; i < len; i++) {
        v = mt_base64_value((unsigned char) s[i]);
        if (v < 0) {
            return -1;
        }

        acc = (acc << 6) | (uint32_t) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    return 0;
}


int
mt_remote_id_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > MT_PINECONE_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


size_t
mt_remote_mul_add(size_t a, size_t b, size_t c)
{
    if (a != 0 && b > (SIZE_MAX - c) / a) {
        return SIZE_MAX;
    }

    return a * b + c;
}


/* Errors */

static int
mt_key_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '_' || c == '-';
}


/*
 * Printable ASCII from any bytes: controls and white space fold into one
 * space, each other character (a whole UTF-8 sequence) becomes '?', and
 * an HTML page loses its tags.  At most max characters; 1 when the text
 * went on past them.
 */
static int
mt_err_text(const char *s, size_t len, int html, char *out, size_t max,
    size_t *n)
{
    int                   k, in_tag;
    size_t                i, o;
    unsigned char         c;
    const unsigned char  *p = (const unsigned char *) s;

    o = 0;
    in_tag = 0;

    for (i = 0; i < len; /* void */ ) {
        c = p[i];

        if (c >= 0x80) {
            k = mt_utf8_seq(p + i, len - i);
            i += (size_t) (k > 0 ? k : -k);
            c = '?';

        } else {
            i++;
        }

        if (html && c == '<') {
            in_tag = 1;
            c = ' ';

        } else if (in_tag) {
            in_tag = (c != '>');
            c = ' ';
        }

        if (c <= 0x20 || c == 0x7f) {
            if (o == 0 || out[o - 1] == ' ') {
                continue;
            }

            c = ' ';
        }

        if (o == max) {
            *n = o;
            return 1;
        }

        out[o++] = (char) c;
    }

    *n = o;

    return 0;
}


/*
 * "sk-" at the start of a word with at least MT_SK_MIN key characters
 * after it (the '*' of OpenAI's masked echo counts), and any run of
 * MT_KEY_RUN key characters, become MT_REDACTED.  In place: what is
 * replaced is always longer than MT_REDACTED.
 */
#define MT_SK_MIN  8

static size_t
mt_err_redact(char *s, size_t len)
{
    size_t  i, o, run;

    i = 0;
    o = 0;

    while (i < len) {
        if (!mt_key_char(s[i])) {
            s[o++] = s[i++];
            continue;
        }

        run = i;

        if (len - i >= 3 && memcmp(s + i, "sk-", 3) == 0) {
            for (run = i + 3; run < len; run++) {
                if (!mt_key_char(s[run]) && s[run] != '*') {
                    break;
                }
            }

            if (run - i < 3 + MT_SK_MIN) {
                run = i;
            }
        }

        if (run == i) {
            while (run < len && mt_key_char(s[run])) {
                run++;
            }

            if (run - i < MT_KEY_RUN) {
                memmove(s + o, s + i, run - i);
                o += run - i;
                i = run;
                continue;
            }
        }

        memcpy(s + o, MT_REDACTED, sizeof(MT_REDACTED) - 1);
        o += sizeof(MT_REDACTED) - 1;
        i = run;
    }

    return o;
}


void
mt_remote_error_message(int status, const char *body, size_t len,
    char *msg, size_t msglen)
{
    int                html, more;
    char               text[MT_ERR_TEXT_MAX];
    size_t             n, i;
    const char        *src;
    mt_json_doc_t     *doc;
    const mt_json_t   *root, *e, *m;
    mt_json_limits_t   lim = { MT_ERR_BODY_MAX, 16, 0, 0, MT_ERR_BODY_MAX };

    if (msg == NULL || msglen == 0) {
        return;
    }

    if (body == NULL) {
        len = 0;
    }

    src = body;
    html = 0;
    m = NULL;

    doc = (len > 0) ? mt_json_parse(body, len, &lim, NULL, NULL, 0) : NULL;

    if (doc != NULL) {
        root = mt_json_root(doc);
        e = mt_json_get(root, "error");
        m = mt_json_get(e, "message");

        if (m == NULL || m->type != MT_JSON_STRING) {
            m = (e != NULL && e->type == MT_JSON_STRING)
                ? e : mt_json_get(root, "message");
        }

        if (m != NULL && m->type == MT_JSON_STRING) {
            src = m->u.string.s;
            len = m->u.string.len;

        } else {
            /* JSON without a message: never echo the document */
            len = 0;
        }

    } else {
        for (i = 0; i < len && (body[i] == ' ' || body[i] == '\n'
                                || body[i] == '\r' || body[i] == '\t'); i++)
        {
            /* void */
        }

        html = (i < len && body[i] == '<');
    }

    more = mt_err_text(src, len, html, text, sizeof(text), &n);

    mt_json_free(doc);

    /* a key cut by the end of what was looked at is dropped whole */
    if (more) {
        while (n > 0 && (mt_key_char(text[n - 1]) || text[n - 1] == '*')) {
            n--;
        }
    }

    n = mt_err_redact(text, n);

    while (n > 0 && text[n - 1] == ' ') {
        n--;
    }

    if (n == 0) {
        (void) snprintf(msg, msglen, "HTTP %d", status);
        return;
    }

    if (n > MT_REMOTE_MSG_MAX) {
        n = MT_REMOTE_MSG_MAX - 3;
        text[n++] = '.';
        text[n++] = '.';
        text[n++] = '.';
    }

    if (n > msglen - 1) {
        n = msglen - 1;
    }

    memcpy(msg, text, n);
    msg[n] = '\0';
}


/* Retries */

static const char *
mt_trim(const char *s, size_t *len)
{
    size_t  n;

    while (*s == ' ' || *s == '\t') {
        s++;
    }

    n = strlen(s);

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        n--;
    }

    *len = n;

    return s;
}


/* retry-after-ms: a float of ms; -1 when absent or not that */
static long
mt_retry_after_ms(const char *v, long cap)
{
    char        buf[32];
    char       *end;
    size_t      len;
    double      d;
    const char *s;

    if (v == NULL) {
        return -1;
    }

    s = mt_trim(v, &len);

    if (len == 0 || len >= sizeof(buf) || !(s[0] >= '0' && s[0] <= '9')) {
        return -1;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    d = strtod(buf, &end);

    if (*end != '\0' || !isfinite(d) || d < 0) {
        return -1;
    }

    return (d >= (double) cap) ? cap : (long) ceil(d);
}


/* Retry-After: whole seconds; -1 when absent or a date */
static long
mt_retry_after(const char *v, long cap)
{
    size_t       len, i;
    int64_t      secs;
    const char  *s;

    if (v == NULL) {
        return -1;
    }

    s = mt_trim(v, &len);

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
    }

    if (mt_parse_int(s, len, 0, INT64_MAX / 1000, &secs) != 0) {
        /* no digits, or more seconds than anyone waits */
        return (len > 0) ? cap : -1;
    }

    return (secs * 1000 >= cap) ? cap : (long) (secs * 1000);
}


long
mt_remote_retry_delay_ms(int status, const char *retry_after,
    const char *retry_after_ms, const char *should_retry, unsigned attempt,
    long cap_ms, uint64_t rnd)
{
    int   retry;
    long  delay, jitter;

    if (should_retry != NULL && strcmp(should_retry, "false") == 0) {
        return -1;
    }

    retry = (should_retry != NULL && strcmp(should_retry, "true") == 0)
            || status == 0 || status == 408 || status == 409
            || status == 429 || status >= 500;

    if (!retry) {
        return -1;
    }

    if (cap_ms <= 0 || cap_ms > MT_REMOTE_DELAY_MAX) {
        cap_ms = MT_REMOTE_DELAY_MAX;
    }

    delay = mt_retry_after_ms(retry_after_ms, cap_ms);

    if (delay < 0) {
        delay = mt_retry_after(retry_after, cap_ms);
    }

    if (delay >= 0) {
        return delay;
    }

    delay = (attempt >= 4) ? MT_RETRY_MAX_MS
                           : (long) MT_RETRY_BASE_MS << attempt;

    jitter = (long) (rnd % ((uint64_t) delay / 4 + 1));
    delay -= jitter;

    return (delay > cap_ms) ? cap_ms : delay;
}

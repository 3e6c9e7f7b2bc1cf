/*
 * Small pure helpers: time stamps, strict integers, UTF-8, media types.
 */

/* gmtime_r() is POSIX; the module build does not always say so */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE  200809L
#endif

#include <string.h>
#include <time.h>

#include "util.h"


/*
 * toISOString() prints four-digit years only for 0000..9999; outside that
 * it switches to "+YYYYYY" which would not fit MT_ISO8601_LEN, so the
 * input is clamped to that range.
 */
#define MT_ISO8601_MIN_MS  (-62167219200000LL)   /* 0000-01-01T00:00Z */
#define MT_ISO8601_MAX_MS  253402300799999LL     /* 9999-12-31T23:59Z */


static void mt_put_digits(char *p, unsigned v, size_t width);
static int mt_digits(const char *s, size_t n, int *out);
static int mt_is_tchar(unsigned char c);
static int mt_lower(int c);
static int mt_ows(unsigned char c);
static size_t mt_token(const unsigned char *p, size_t i, size_t len);
static size_t mt_quoted(const unsigned char *p, size_t i, size_t len,
    int *is_utf8);


size_t
mt_iso8601(char out[MT_ISO8601_LEN + 1], int64_t ms)
{
    int64_t    sec, rem;
    time_t     t;
    struct tm  tm;

    if (ms < MT_ISO8601_MIN_MS) {
        ms = MT_ISO8601_MIN_MS;

    } else if (ms > MT_ISO8601_MAX_MS) {
        ms = MT_ISO8601_MAX_MS;
    }

    /* floor division: -1 ms is 1969-12-31T23:59:59.999Z, not .-01 */
    sec = ms / 1000;
    rem = ms % 1000;

    if (rem < 0) {
        rem += 1000;
        sec -= 1;
    }

    t = (time_t) sec;

    if (gmtime_r(&t, &tm) == NULL) {
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = 70;
        tm.tm_mday = 1;
        rem = 0;
    }

    /* digits by hand: no locale, no snprintf truncation guesswork */
    mt_put_digits(out, (unsigned) (tm.tm_year + 1900), 4);
    out[4] = '-';
    mt_put_digits(out + 5, (unsigned) (tm.tm_mon + 1), 2);
    out[7] = '-';
    mt_put_digits(out + 8, (unsigned) tm.tm_mday, 2);
    out[10] = 'T';
    mt_put_digits(out + 11, (unsigned) tm.tm_hour, 2);
    out[13] = ':';
    mt_put_digits(out + 14, (unsigned) tm.tm_min, 2);
    out[16] = ':';
    mt_put_digits(out + 17, (unsigned) tm.tm_sec, 2);
    out[19] = '.';
    mt_put_digits(out + 20, (unsigned) rem, 3);
    out[23] = 'Z';
    out[24] = '\0';

    return MT_ISO8601_LEN;
}


static void
mt_put_digits(char *p, unsigned v, size_t width)
{
    while (width--) {
        p[width] = (char) ('0' + v % 10);
        v /= 10;
    }
}


/*
 * Exactly what mt_iso8601() writes, "2024-02-29T12:34:56.789Z", and the
 * same without milliseconds, "2025-12-31T03:27:00Z" (the sample data).
 * Years 0000-9999, real calendar dates, no leap seconds, no offsets.
 */
int
mt_iso8601_parse(const char *s, size_t len, int64_t *ms)
{
    int      y, mo, d, h, mi, sec, milli, mdays;
    int64_t  yy, era, yoe, doy, doe, days;

    static const int  month_days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (len != 20 && len != 24) {
        return -1;
    }

    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':'
        || s[16] != ':' || s[len - 1] != 'Z')
    {
        return -1;
    }

    milli = 0;

    if (mt_digits(s, 4, &y) != 0 || mt_digits(s + 5, 2, &mo) != 0
        || mt_digits(s + 8, 2, &d) != 0 || mt_digits(s + 11, 2, &h) != 0
        || mt_digits(s + 14, 2, &mi) != 0
        || mt_digits(s + 17, 2, &sec) != 0
        || (len == 24 && (s[19] != '.' || mt_digits(s + 20, 3, &milli) != 0)))
    {
        return -1;
    }

    if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59) {
        return -1;
    }

    mdays = month_days[mo - 1];

    if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) {
        mdays = 29;
    }

    if (d < 1 || d > mdays) {
        return -1;
    }

    /* days from civil (H. Hinnant): March-based years, 400-year eras */
    yy = (int64_t) y - (mo <= 2);
    era = (yy >= 0 ? yy : yy - 399) / 400;
    yoe = yy - era * 400;
    doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468;

    *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t) sec * 1000
          + milli;

    return 0;
}


static int
mt_digits(const char *s, size_t n, int *out)
{
    size_t  i;
    int     v;

    v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        v = v * 10 + (s[i] - '0');
    }

    *out = v;
    return 0;
}


int
mt_parse_int(const char *s, size_t len, int64_t min, int64_t max,
    int64_t *out)
{
    int       neg;
    size_t    i;
    int64_t   v;
    uint64_t  u, lim;

    if (s == NULL || len == 0) {
        return -1;
    }

    i = 0;
    neg = (s[0] == '-');

    if (neg) {
        i++;
    }

    if (i == len) {
        return -1;
    }

    /* magnitude limit: 2^63 for negatives, 2^63 - 1 otherwise */
    lim = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    u = 0;

    for ( /* void */ ; i < len; i++) {
        uint64_t  d;

        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        d = (uint64_t) (s[i] - '0');

        if (u > (lim - d) / 10) {
            return -1;
        }

        u = u * 10 + d;
    }

    if (neg) {
        /* avoid negating INT64_MIN's magnitude as a signed value */
        v = (u == (uint64_t) INT64_MAX + 1) ? INT64_MIN : -(int64_t) u;

    } else {
        v = (int64_t) u;
    }

    if (v < min || v > max) {
        return -1;
    }

    if (out) {
        *out = v;
    }

    return 0;
}


/*
 * Length of the well-formed sequence at p (Unicode table 3-7), or minus
 * the length of its maximal ill-formed subpart, which is what the Unicode
 * "U+FFFD substitution of maximal subparts" practice replaces at once.
 */
int
mt_utf8_seq(const unsigned char *p, size_t n)
{
    int            need, i;
    unsigned char  c, lo, hi;

    c = p[0];

    if (c < 0x80) {
        return 1;
    }

    if (c < 0xc2) {
        return -1;
    }

    if (c < 0xe0) {
        need = 2;
        lo = 0x80;
        hi = 0xbf;

    } else if (c < 0xf0) {
        need = 3;
        lo = (c == 0xe0) ? 0xa0 : 0x80;
        hi = (c == 0xed) ? 0x9f : 0xbf;

    } else if (c < 0xf5) {
        need = 4;
        lo = (c == 0xf0) ? 0x90 : 0x80;
        hi = (c == 0xf4) ? 0x8f : 0xbf;

    } else {
        return -1;
    }

    for (i = 1; i < need; i++) {
        if ((size_t) i >= n || p[i] < lo || p[i] > hi) {
            return -i;
        }

        lo = 0x80;
        hi = 0xbf;
    }

    return need;
}


int
mt_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


int
mt_utf8_valid(const char *s, size_t len)
{
    size_t                i;
    int                   k;
    const unsigned char  *p;

    p = (const unsigned char *) s;

    for (i = 0; i < len; i += (size_t) k) {
        if (p[i] < 0x80) {
            k = 1;
            continue;
        }

        k = mt_utf8_seq(p + i, len - i);

        if (k < 0) {
            return 0;
        }
    }

    return 1;
}




/*
 * RFC 9110, 8.3.1:
 *   media-type = type "/" subtype parameters
 *   parameters = *( OWS ";" OWS [ parameter ] )
 *   parameter  = parameter-name "=" parameter-value
 *   parameter-value = ( token / quoted-string )
 */
int
mt_media_type_is(const char *value, size_t len, const char *want)
{
    int                   is_utf8, charset;
    size_t                i, j, start, wlen, k;
    const unsigned char  *p;

    if (value == NULL || want == NULL) {
        return 0;
    }

    p = (const unsigned char *) value;
    i = 0;

    while (i < len && mt_ows(p[i])) {
        i++;
    }

    start = i;

    j = mt_token(p, i, len);
    if (j == i || j == len || p[j] != '/') {
        return 0;
    }

    i = j + 1;

    j = mt_token(p, i, len);
    if (j == i) {
        return 0;
    }

    wlen = strlen(want);

    if (j - start != wlen) {
        return 0;
    }

    for (k = 0; k < wlen; k++) {
        if (mt_lower(p[start + k]) != mt_lower((unsigned char) want[k])) {
            return 0;
        }
    }

    i = j;

    for ( ;; ) {
        while (i < len && mt_ows(p[i])) {
            i++;
        }

        if (i == len) {
            return 1;
        }

        if (p[i] != ';') {
            return 0;
        }

        i++;

        while (i < len && mt_ows(p[i])) {
            i++;
        }

        /* the parameter itself is optional: "a/b;" and "a/b;;c=d" */
        if (i == len || p[i] == ';') {
            continue;
        }

        j = mt_token(p, i, len);
        if (j == i || j == len || p[j] != '=') {
            return 0;
        }

        charset = (j - i == 7);

        for (k = 0; charset && k < 7; k++) {
            charset = (mt_lower(p[i + k]) == (unsigned char) "charset"[k]);
        }

        i = j + 1;

        if (i < len && p[i] == '"') {
            j = mt_quoted(p, i, len, &is_utf8);
            if (j == 0) {
                return 0;
            }

        } else {
            j = mt_token(p, i, len);
            if (j == i) {
                return 0;
            }

            is_utf8 = (j - i == 5);

            for (k = 0; is_utf8 && k < 5; k++) {
                is_utf8 = (mt_lower(p[i + k]) == (unsigned char) "utf-8"[k]);
            }
        }

        if (charset && !is_utf8) {
            return 0;
        }

        i = j;
    }
}


/* End of the token starting at i (i itself when there is none). */
static size_t
mt_token(const unsigned char *p, size_t i, size_t len)
{
    while (i < len && mt_is_tchar(p[i])) {
        i++;
    }

    return i;
}


/*
 * p[i] is the opening quote.  Returns the index after the closing quote,
 * 0 when malformed; *is_utf8 tells whether the unescaped content is
 * "utf-8" in any case.
 */
static size_t
mt_quoted(const unsigned char *p, size_t i, size_t len, int *is_utf8)
{
    size_t  n;

    n = 0;
    *is_utf8 = 1;

    for (i++; i < len; i++) {
        unsigned char  c;

        c = p[i];

        if (c == '"') {
            *is_utf8 = *is_utf8 && n == 5;
            return i + 1;
        }

        if (c == '\\') {
            if (++i == len) {
                return 0;
            }

            c = p[i];

            /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
            if (c != '\t' && (c < 0x20 || c == 0x7f)) {
                return 0;
            }

        } else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
            /* qdtext excludes CTLs; '"' and '\' are handled above */
            return 0;
        }

        if (n >= 5 || mt_lower(c) != (unsigned char) "utf-8"[n]) {
            *is_utf8 = 0;
        }

        n++;
    }

    return 0;
}


static int
mt_is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z'))
    {
        return 1;
    }

    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}


/* ASCII only: tolower() would depend on the locale. */
static int
mt_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


static int
mt_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}


/*
 * FNV-1a, 64 bits: the content and text hashes, and the base of the
 * embedder's feature hashes.
 */
uint64_t
mt_hash64(const void *data, size_t len, uint64_t seed)
{
    size_t                i;
    uint64_t              h;
    const unsigned char  *p;

    p = data;
    h = seed;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= MT_FNV_PRIME;
    }

    return h;
}


/* The splitmix64 finaliser: FNV alone mixes its high bits poorly. */
uint64_t
mt_hash_mix(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;

    return h;
}

/*
 * Unit tests for lib/remote_openai.c: OpenAI's embeddings request and
 * its replies as the spec gives them (floats and base64, items in any
 * order, every malformed form refused with a reason), the batch planner
 * at its limits, and chat completions.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "backend.h"
#include "json.h"
#include "remote.h"
#include "remote_int.h"


#define S(lit)      (lit), (sizeof(lit) - 1)


/* helpers */

static mt_json_doc_t *
parse_ok(const char *text, size_t len)
{
    char            msg[128];
    mt_json_err_t   code;
    mt_json_doc_t  *doc;

    doc = mt_json_parse(text, len, NULL, &code, msg, sizeof(msg));
    if (doc == NULL) {
        fail_msg("not JSON: %s: %.200s", msg, text);
    }

    return doc;
}


static char *
take(mt_jw_t *w, size_t *len)
{
    char  *s;

    s = mt_jw_take(w, len);
    assert_non_null(s);

    return s;
}


static void
b64(const unsigned char *in, size_t n, char *out, int pad)
{
    size_t      i, o;
    uint32_t    v;

    static const char  tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }

    if (n - i == 1) {
        v = (uint32_t) in[i] << 16;
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        if (pad) {
            out[o++] = '=';
            out[o++] = '=';
        }

    } else if (n - i == 2) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        if (pad) {
            out[o++] = '=';
        }
    }

    out[o] = '\0';
}


/* floats as little-endian bytes, then base64: what the API sends */
static void
b64_floats(const float *f, size_t n, char *out, int pad)
{
    size_t          i;
    uint32_t        u;
    unsigned char   bytes[64];

    assert_true(n * 4 <= sizeof(bytes));

    for (i = 0; i < n; i++) {
        memcpy(&u, &f[i], 4);
        bytes[i * 4] = (unsigned char) u;
        bytes[i * 4 + 1] = (unsigned char) (u >> 8);
        bytes[i * 4 + 2] = (unsigned char) (u >> 16);
        bytes[i * 4 + 3] = (unsigned char) (u >> 24);
    }

    b64(bytes, n * 4, out, pad);
}


static int
reply(const mt_emb_t *e, const char *text, size_t n, float *out, char *err)
{
    return e->ops->reply(e, text, strlen(text), n, out, err, 256);
}


static void
assert_unit(const float *v, const float *raw, size_t dims)
{
    size_t  i;
    double  norm;

    norm = 0;

    for (i = 0; i < dims; i++) {
        norm += (double) raw[i] * raw[i];
    }

    norm = sqrt(norm);

    for (i = 0; i < dims; i++) {
        assert_true(fabs(v[i] - raw[i] / norm) < 1e-6);
    }
}


/* the embedder */

static void
test_openai_new(void **state)
{
    mt_emb_t  *a, *b, *c, *d;

    (void) state;

    a = mt_emb_openai_new("text-embedding-3-small", 1536, 0);
    b = mt_emb_openai_new("text-embedding-3-small", 512, 1);
    c = mt_emb_openai_new("text-embedding-ada-002", 1536, 0);
    d = mt_emb_openai_new("text-embedding-3-small", 1536, 1);

    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(d);

    assert_string_equal(a->ops->name, "openai");
    assert_int_equal(a->ops->flags, MT_BACKEND_WIRE);
    assert_null(a->ops->embed);
    assert_non_null(a->ops->request);
    assert_non_null(a->ops->reply);
    assert_string_equal(a->ops->model(a), "text-embedding-3-small");
    assert_int_equal(a->ops->dims(a), 1536);
    assert_int_equal(b->ops->dims(b), 512);

    /* other model or dimensions: other cache keys; the encoding: same */
    assert_true(a->ops->epoch(a) != b->ops->epoch(b));
    assert_true(a->ops->epoch(a) != c->ops->epoch(c));
    assert_true(a->ops->epoch(a) == d->ops->epoch(d));
    assert_true(a->ops->epoch(a) != 0);

    a->ops->free(a);
    b->ops->free(b);
    c->ops->free(c);
    d->ops->free(d);

    assert_null(mt_emb_openai_new("", 1536, 0));
    assert_null(mt_emb_openai_new(NULL, 1536, 0));
    assert_null(mt_emb_openai_new("m", 0, 0));
    assert_null(mt_emb_openai_new("m", MT_OPENAI_DIMS_MAX + 1, 0));
}


static void
test_openai_request(void **state)
{
    char              *body, *big;
    size_t             len;
    mt_jw_t            w;
    mt_emb_t          *e;
    mt_span_t          texts[3];
    mt_json_doc_t     *doc;
    const mt_json_t   *root, *in;

    (void) state;

    /* 8191 ASCII bytes and a 2-byte character: cut before it */
    big = malloc(9000);
    assert_non_null(big);
    memset(big, 'a', 9000);
    big[8191] = (char) 0xc3;
    big[8192] = (char) 0xa9;

    texts[0].data = "vegan recipes \"on\" a budget";
    texts[0].len = strlen(texts[0].data);
    texts[1].data = "";
    texts[1].len = 0;
    texts[2].data = big;
    texts[2].len = 9000;

    e = mt_emb_openai_new("text-embedding-3-small", 512, 1);
    assert_non_null(e);

    mt_jw_init(&w);
    assert_int_equal(e->ops->request(e, texts, 3, &w), 0);
    body = take(&w, &len);

    doc = parse_ok(body, len);
    root = mt_json_root(doc);

    assert_string_equal(mt_json_get(root, "model")->u.string.s,
                        "text-embedding-3-small");
    assert_string_equal(mt_json_get(root, "encoding_format")->u.string.s,
                        "base64");
    assert_int_equal(mt_json_get(root, "dimensions")->u.number.i, 512);

    in = mt_json_get(root, "input");
    assert_int_equal(in->type, MT_JSON_ARRAY);
    assert_int_equal(in->u.array.n, 3);
    assert_string_equal(in->u.array.items[0]->u.string.s, texts[0].data);
    assert_string_equal(in->u.array.items[1]->u.string.s, " ");
    assert_int_equal(in->u.array.items[2]->u.string.len, 8191);

    mt_json_free(doc);
    free(body);
    e->ops->free(e);

    /* ada-002: no "dimensions" (refused by the API); one text: an array */
    e = mt_emb_openai_new("text-embedding-ada-002", 1536, 0);
    assert_non_null(e);

    mt_jw_init(&w);
    assert_int_equal(e->ops->request(e, texts, 1, &w), 0);
    body = take(&w, &len);

    assert_string_equal(body, "{\"model\":\"text-embedding-ada-002\","
                        "\"input\":[\"vegan recipes \\\"on\\\" a budget\"],"
                        "\"encoding_format\":\"float\"}");
    free(body);

    mt_jw_init(&w);
    assert_int_equal(e->ops->request(e, texts, 0, &w), -1);
    assert_int_equal(e->ops->request(e, texts, MT_OPENAI_MAX_INPUTS + 1, &w),
                     -1);
    mt_jw_free(&w);

    e->ops->free(e);
    free(big);
}


static void
test_openai_reply_float(void **state)
{
    char              err[256];
    float             out[8];
    mt_emb_t         *e;
    static const float  v0[4] = { 3, 0, 4, 0 };
    static const float  v1[4] = { 0.1f, -0.2f, 0.3f, 0.5f };

    (void) state;

    e = mt_emb_openai_new("text-embedding-3-small", 4, 0);
    assert_non_null(e);

    /* the items in reverse: placed by index */
    assert_int_equal(reply(e,
        "{\"object\":\"list\",\"data\":["
        "{\"object\":\"embedding\",\"index\":1,"
        "\"embedding\":[0.1,-0.2,0.3,0.5]},"
        "{\"object\":\"embedding\",\"index\":0,\"embedding\":[3,0,4,0]}],"
        "\"model\":\"text-embedding-3-small\","
        "\"usage\":{\"prompt_tokens\":5,\"total_tokens\":5}}",
        2, out, err), 0);

    assert_true(fabsf(out[0] - 0.6f) < 1e-6f);
    assert_true(fabsf(out[2] - 0.8f) < 1e-6f);
    assert_unit(out, v0, 4);
    assert_unit(out + 4, v1, 4);

    e->ops->free(e);
}


static void
test_openai_reply_base64(void **state)
{
    int        pad;
    char       text[1024], b[3][64], err[256];
    float      out[12];
    mt_emb_t  *e;
    static const float  v[3][4] = {
        { 0.25f, -0.5f, 0.125f, 1.0f },
        { -1e-3f, 2.0f, 0.0f, 7.5f },
        { 1.0f, 1.0f, 1.0f, 1.0f },
    };

    (void) state;

    e = mt_emb_openai_new("text-embedding-3-small", 4, 1);
    assert_non_null(e);

    /* padded (16 bytes: "==") and not */
    for (pad = 0; pad <= 1; pad++) {
        b64_floats(v[0], 4, b[0], pad);
        b64_floats(v[1], 4, b[1], pad);
        b64_floats(v[2], 4, b[2], pad);

        (void) snprintf(text, sizeof(text),
            "{\"object\":\"list\",\"data\":["
            "{\"object\":\"embedding\",\"index\":2,\"embedding\":\"%s\"},"
            "{\"object\":\"embedding\",\"index\":0,\"embedding\":\"%s\"},"
            "{\"object\":\"embedding\",\"index\":1,\"embedding\":\"%s\"}],"
            "\"model\":\"text-embedding-3-small\",\"usage\":{}}",
            b[2], b[0], b[1]);

        memset(out, 0, sizeof(out));
        assert_int_equal(reply(e, text, 3, out, err), 0);

        assert_unit(out, v[0], 4);
        assert_unit(out + 4, v[1], 4);
        assert_unit(out + 8, v[2], 4);
    }

    /* floats where base64 was asked for: taken too */
    assert_int_equal(reply(e,
        "{\"data\":[{\"index\":0,\"embedding\":[1,1,1,1]}]}", 1, out, err),
        0);
    assert_true(fabsf(out[0] - 0.5f) < 1e-6f);

    e->ops->free(e);
}


static void
reply_err(const mt_emb_t *e, const char *text, size_t n, const char *want)
{
    char   err[256];
    float  out[16];

    err[0] = '\0';

    if (reply(e, text, n, out, err) != -1) {
        fail_msg("accepted: %s", text);
    }

    if (strstr(err, want) == NULL) {
        fail_msg("\"%s\", not \"%s\", for %s", err, want, text);
    }
}


static void
test_openai_reply_errors(void **state)
{
    char       text[512], b[64];
    float      f[4] = { 1, 2, 3, 4 };
    mt_emb_t  *e;

    (void) state;

    e = mt_emb_openai_new("text-embedding-3-small", 4, 1);
    assert_non_null(e);

    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3,4]},"
              "{\"index\":1,\"embedding\":[1,2,3,4]},"
              "{\"index\":2,\"embedding\":[1,2,3,4]}]}", 4,
              "reply has 3 embeddings for 4 texts");
    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3,4]},"
              "{\"index\":0,\"embedding\":[1,2,3,4]}]}", 2,
              "embedding 0 twice");
    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3,4]},"
              "{\"embedding\":[1,2,3,4]}]}", 2, "item 1 has no index");
    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3,4]},"
              "{\"index\":2,\"embedding\":[1,2,3,4]}]}", 2,
              "item 1 has no index below 2");
    reply_err(e, "{\"data\":[{\"index\":0.5,\"embedding\":[1,2,3,4]}]}", 1,
              "no index");
    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3]}]}", 1,
              "embedding 0 has 3 dimensions, not 4");
    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":[1,2,\"3\",4]}]}", 1,
              "value 2 is not a float");
    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":[1,2,1e39,4]}]}", 1,
              "value 2 is not a float");
    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":[0,0,0,0]}]}", 1,
              "embedding 0 is a zero vector");
    reply_err(e, "{\"data\":[{\"index\":0}]}", 1, "embedding 0 missing");
    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":null}]}", 1,
              "embedding 0 is a null");
    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3,4]}", 1,
              "not JSON");
    reply_err(e, "<html><body>502 Bad Gateway</body></html>", 1,
              "not JSON");
    reply_err(e, "", 1, "not JSON");
    reply_err(e, "[1,2]", 1, "not a JSON object");
    reply_err(e, "{\"object\":\"list\"}", 1, "no \"data\" array");
    reply_err(e, "{\"error\":{\"message\":\"x\"}}", 1, "no \"data\" array");

    /* base64 of 3 floats, and of 4 with NaN or infinity */
    b64_floats(f, 3, b, 1);
    (void) snprintf(text, sizeof(text),
                    "{\"data\":[{\"index\":0,\"embedding\":\"%s\"}]}", b);
    reply_err(e, text, 1, "embedding 0 is not base64 of 4 floats");

    f[1] = NAN;
    b64_floats(f, 4, b, 1);
    (void) snprintf(text, sizeof(text),
                    "{\"data\":[{\"index\":0,\"embedding\":\"%s\"}]}", b);
    reply_err(e, text, 1, "embedding 0: value 1 is not finite");

    f[1] = INFINITY;
    b64_floats(f, 4, b, 1);
    (void) snprintf(text, sizeof(text),
                    "{\"data\":[{\"index\":0,\"embedding\":\"%s\"}]}", b);
    reply_err(e, text, 1, "value 1 is not finite");

    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":"
              "\"AAAAAAAAAAAAAAAA!AAAAA\"}]}", 1, "not base64");
    reply_err(e, "{\"data\":[{\"index\":0,\"embedding\":"
              "\"AAAAAAAAAAAAAAAAAAAAAA=A\"}]}", 1, "not base64");

    /* far more than 1 vector of 4 can take */
    {
        char   *huge;
        size_t  i, n;

        n = 200000;
        huge = malloc(n + 1);
        assert_non_null(huge);

        memcpy(huge, "{\"data\":[", 9);
        for (i = 9; i < n; i++) {
            huge[i] = ' ';
        }
        huge[n] = '\0';

        reply_err(e, huge, 1, "reply over");
        free(huge);
    }

    e->ops->free(e);
}


/* the planner */

static void
test_embed_batch(void **state)
{
    char       *big;
    size_t      i;
    mt_span_t  *t;

    (void) state;

    t = calloc(3000, sizeof(mt_span_t));
    big = malloc(20000);
    assert_non_null(t);
    assert_non_null(big);
    memset(big, 'x', 20000);

    for (i = 0; i < 3000; i++) {
        t[i].data = "a few words";
        t[i].len = 11;
    }

    assert_int_equal(mt_openai_embed_batch(t, 0, 0, 0), 0);
    assert_int_equal(mt_openai_embed_batch(t, 3000, 0, 0), 2048);
    assert_int_equal(mt_openai_embed_batch(t, 3000, 5000, 0), 2048);
    assert_int_equal(mt_openai_embed_batch(t, 3000, 10, 0), 10);
    assert_int_equal(mt_openai_embed_batch(t, 7, 10, 0), 7);

    /* a budget of exactly two texts, and one byte less */
    assert_int_equal(mt_openai_embed_batch(t, 10, 0, 22), 2);
    assert_int_equal(mt_openai_embed_batch(t, 10, 0, 21), 1);
    /* a text over the budget alone still goes */
    assert_int_equal(mt_openai_embed_batch(t, 10, 0, 5), 1);

    /* texts of 20000 bytes count as the 8192 sent: 36 in 300,000 */
    for (i = 0; i < 100; i++) {
        t[i].data = big;
        t[i].len = 20000;
    }

    assert_int_equal(mt_openai_embed_batch(t, 100, 0, 0),
                     MT_OPENAI_MAX_TOKENS / MT_OPENAI_INPUT_MAX);
    assert_int_equal(mt_openai_embed_batch(t, 100, 0, 10000000),
                     MT_OPENAI_MAX_TOKENS / MT_OPENAI_INPUT_MAX);

    /* 300,000 exactly: 36 of 8192 and one of 5088 */
    t[36].len = MT_OPENAI_MAX_TOKENS - 36 * MT_OPENAI_INPUT_MAX;
    assert_int_equal(mt_openai_embed_batch(t, 100, 0, 0), 37);
    t[36].len++;
    assert_int_equal(mt_openai_embed_batch(t, 100, 0, 0), 36);

    /* an empty text is sent as " ": 1 */
    t[0].len = 0;
    t[1].len = 0;
    assert_int_equal(mt_openai_embed_batch(t, 2, 0, 2), 2);
    assert_int_equal(mt_openai_embed_batch(t, 2, 0, 1), 1);

    free(t);
    free(big);
}


/* chat completions */

static void
test_chat_request(void **state)
{
    char              *body;
    size_t             len;
    mt_jw_t            w;
    mt_json_doc_t     *doc;
    const mt_json_t   *root, *msgs;

    (void) state;

    mt_jw_init(&w);
    assert_int_equal(mt_openai_chat_request(&w, "gpt-4o-mini", "Answer in "
                                            "JSON.", "hi \"there\"", 300), 0);
    body = take(&w, &len);

    assert_string_equal(body, "{\"model\":\"gpt-4o-mini\",\"messages\":["
        "{\"role\":\"system\",\"content\":\"Answer in JSON.\"},"
        "{\"role\":\"user\",\"content\":\"hi \\\"there\\\"\"}],"
        "\"response_format\":{\"type\":\"json_object\"},"
        "\"temperature\":0.2,\"max_tokens\":300}");

    doc = parse_ok(body, len);
    root = mt_json_root(doc);
    msgs = mt_json_get(root, "messages");
    assert_int_equal(msgs->u.array.n, 2);
    assert_true(mt_json_get(root, "temperature")->u.number.d == 0.2);
    mt_json_free(doc);
    free(body);

    mt_jw_init(&w);
    assert_int_equal(mt_openai_chat_request(&w, NULL, "s", "u", 300), -1);
    assert_int_equal(mt_openai_chat_request(&w, "m", "s", NULL, 300), -1);
    assert_int_equal(mt_openai_chat_request(&w, "m", "s", "u", 0), -1);
    mt_jw_free(&w);
}


#define CHAT(msg, finish)                                                    \
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"   \
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":"       \
    "{\"role\":\"assistant\"," msg "},\"finish_reason\":" finish ","         \
    "\"logprobs\":null}],\"usage\":{\"prompt_tokens\":9,"                    \
    "\"completion_tokens\":12,\"total_tokens\":21}}"


static void
chat_err(const char *text, const char *want)
{
    char    err[256], *content;
    size_t  clen;

    err[0] = '\0';
    content = (char *) 1;

    assert_int_equal(mt_openai_chat_reply(text, strlen(text), &content,
                                          &clen, err, sizeof(err)), -1);
    assert_null(content);

    if (strstr(err, want) == NULL) {
        fail_msg("\"%s\", not \"%s\"", err, want);
    }
}


static void
test_chat_reply(void **state)
{
    char        err[256], *content;
    size_t      clen;
    const char *ok;

    (void) state;

    ok = CHAT("\"content\":\"{\\\"framing\\\":\\\"x\\\"}\",\"refusal\":null",
              "\"stop\"");

    assert_int_equal(mt_openai_chat_reply(ok, strlen(ok), &content, &clen,
                                          err, sizeof(err)), 0);
    assert_string_equal(content, "{\"framing\":\"x\"}");
    assert_int_equal(clen, strlen(content));
    free(content);

    chat_err(CHAT("\"content\":null,\"refusal\":\"I can't help with that\"",
                  "\"stop\""), "refused");
    chat_err(CHAT("\"refusal\":\"no\"", "\"stop\""), "refused");
    chat_err(CHAT("\"content\":\"{\\\"framing\\\":\\\"Th\"", "\"length\""),
             "cut at max_tokens");
    chat_err(CHAT("\"content\":\"\"", "\"content_filter\""),
             "content filter");
    chat_err(CHAT("\"content\":42", "\"stop\""), "content is a number");
    chat_err("{\"choices\":[]}", "no choices");
    chat_err("{\"choices\":[{\"finish_reason\":\"stop\"}]}", "no message");
    chat_err("{\"error\":{\"message\":\"quota\"}}", "no choices");
    chat_err("Internal Server Error", "not JSON");
}


/* a component as the request carries it, and how far it is off */
static void
test_jw_float(void **state)
{
    size_t       i, len;
    char        *out;
    double       got, worst;
    float        f;
    mt_jw_t      w;
    uint64_t     x;
    const float  in[] = { 0.5f, -0.25f, 0.0f, 1e-9f, -1e-9f, 0.999999999f,
                          1.5f, -2.0f, 0.12345678f };
    const char  *want = "[0.5,-0.25,0,0,0,1,1.5,-2,0.12345678]";

    (void) state;

    mt_jw_init(&w);
    mt_jw_arr_open(&w);

    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        mt_remote_jw_float(&w, in[i]);
    }

    mt_jw_arr_close(&w);
    out = mt_jw_take(&w, &len);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);

    /* random components: never more than 5e-9 off */
    worst = 0;
    x = 88172645463325252ULL;

    for (i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f = (float) ((double) (x >> 11) / 9007199254740992.0 * 2.0 - 1.0);

        mt_jw_init(&w);
        mt_remote_jw_float(&w, f);
        out = mt_jw_take(&w, &len);
        assert_non_null(out);
        got = strtod(out, NULL);
        free(out);

        if (fabs(got - (double) f) > worst) {
            worst = fabs(got - (double) f);
        }
    }

    assert_true(worst <= 5.0000001e-9);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_jw_float),
        cmocka_unit_test(test_openai_new),
        cmocka_unit_test(test_openai_request),
        cmocka_unit_test(test_openai_reply_float),
        cmocka_unit_test(test_openai_reply_base64),
        cmocka_unit_test(test_openai_reply_errors),
        cmocka_unit_test(test_embed_batch),
        cmocka_unit_test(test_chat_request),
        cmocka_unit_test(test_chat_reply),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

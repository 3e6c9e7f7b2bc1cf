/*
 * The remote services as wire formats: OpenAI's embeddings and chat
 * completions, Pinecone's data plane (../shared/specs/remote-apis.md).
 * Pure functions: each builds a request body or parses a reply, and none
 * opens a socket, sleeps or starts a thread; the module owns the
 * transport (backend.h).  No nginx types.
 *
 * Every reply parser is bounded (bytes, values, depth) for what the reply
 * can hold, and says what is wrong in err as a short reason ("reply has 3
 * embeddings for 4 texts"); err may then go to a log line and, through
 * the module, to a client.  Errors from the service itself go through
 * mt_remote_error_message(), which keeps API keys out of both.
 */

#ifndef MT_REMOTE_H
#define MT_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "json.h"


/* --- OpenAI embeddings ------------------------------------------------ */

#define MT_OPENAI_MAX_INPUTS   2048     /* texts in one request */
#define MT_OPENAI_MAX_TOKENS   300000   /* summed over one request */
#define MT_OPENAI_INPUT_MAX    8192     /* bytes sent of one text */
#define MT_OPENAI_DIMS_MAX     16384

/*
 * The embedder "openai" (MT_BACKEND_WIRE): request() writes
 * {"model","input":[...],"encoding_format","dimensions"?} for 1 to
 * MT_OPENAI_MAX_INPUTS texts, each cut at a UTF-8 boundary to at most
 * MT_OPENAI_INPUT_MAX bytes as sent (bytes bound tokens from above; an
 * empty text is sent as " ", which the API accepts and "" it does not);
 * "dimensions" only for the text-embedding-3 models.  reply() takes
 * float arrays or base64 strings, whichever came, matches items on
 * "index" and L2-normalises every vector.  epoch() hashes the model and
 * the dimensions.  base64: ask for base64 (a third of the bytes).  NULL
 * for an empty model, dims 0 or over MT_OPENAI_DIMS_MAX, or no memory.
 */
mt_emb_t *mt_emb_openai_new(const char *model, unsigned dims, int base64);

/*
 * How many of texts[0..n) go in the next request: at most max_inputs
 * (capped at MT_OPENAI_MAX_INPUTS) and bytes as sent summing to at most
 * max_tokens (capped at MT_OPENAI_MAX_TOKENS); at least 1 when n > 0.
 */
size_t mt_openai_embed_batch(const mt_span_t *texts, size_t n,
    size_t max_inputs, size_t max_tokens);


/* --- OpenAI chat completions ------------------------------------------ */

/*
 * {"model","messages":[system, user],"response_format":{"type":
 * "json_object"},"temperature":0.2,"max_tokens"}.  JSON mode wants the
 * word "JSON" in a message: the system prompt's business.  0, or -1
 * when an argument is missing or the writer failed.
 */
int mt_openai_chat_request(mt_jw_t *body, const char *model,
    const char *system, const char *user, unsigned max_tokens);

/*
 * The first choice's message content, malloc'd and NUL-terminated in
 * *content (the caller frees it), its length in *clen.  -1 with err when
 * the reply is not a completion, the content is null (a refusal), or
 * finish_reason is "length" or "content_filter".
 */
int mt_openai_chat_reply(const char *data, size_t len, char **content,
    size_t *clen, char *err, size_t errlen);


/* --- framing: a creator's take on a brief, by a chat model ------------ */

#define MT_FRAMING_MAX         400      /* characters of each answer */
#define MT_FRAMING_MAX_TOKENS  600      /* of the model's reply */

/*
 * The system prompt: the rules (only the profile's facts, no political
 * endorsement, no invented numbers, no links) and the answer's shape,
 * {"framing": string, "reasoning": string}, each at most MT_FRAMING_MAX
 * characters.
 */
const char *mt_framing_system(void);

/*
 * The user prompt: a JSON document (so that nothing a creator wrote in
 * a bio reads as an instruction) of the brief, {"topic","keyTakeaway",
 * "context"?,"toneStyle"?,"audience"?} from the assignment, and the
 * profile, {"name","handle","bio","region","primaryNiches",
 * "secondaryNiches","values","tone","contentStyle"} from the creator,
 * each present when the document has it, strings and lists cut to
 * bounded sizes.  malloc'd and NUL-terminated in *user.  -1 when the
 * assignment has no topic or keyTakeaway, the creator is not an object,
 * or without memory.
 */
int mt_framing_prompt(const mt_json_t *assignment, const mt_json_t *creator,
    char **user, size_t *len);

/* the whole chat request: both prompts, MT_FRAMING_MAX_TOKENS; 0 or -1 */
int mt_framing_request(mt_jw_t *body, const char *model,
    const mt_json_t *assignment, const mt_json_t *creator);

/*
 * The model's answer (the chat content) checked: a JSON object with
 * non-empty "framing" and "reasoning" strings, white space folded, each
 * cut at a word boundary (with "...") to MT_FRAMING_MAX characters and
 * to the buffer (flen, rlen: bytes with the NUL).  -1 with err when it is
 * not that, or either text holds a URL, an email address or a political
 * endorsement ("vote for", "endorse", ...): the caller then uses its
 * template text instead.
 */
int mt_framing_check(const char *content, size_t len, char *framing,
    size_t flen, char *reasoning, size_t rlen, char *err, size_t errlen);


/* --- Pinecone ---------------------------------------------------------- */

#define MT_PINECONE_MAX_VECTORS  1000   /* upserted, deleted, fetched */
#define MT_PINECONE_BODY_MAX     2000000    /* "2 MB", the smaller reading */
#define MT_PINECONE_REPLY_MAX    ((size_t) 4 * 1024 * 1024)
#define MT_PINECONE_ID_MAX       512
#define MT_PINECONE_META_MAX     40960  /* metadata bytes of one record */
#define MT_PINECONE_DIMS_MAX     20000
#define MT_PINECONE_TOP_K_MAX    10000

/*
 * The index "pinecone" (MT_BACKEND_WIRE): request() writes {"vector",
 * "topK","includeValues":false,"includeMetadata":false,"filter"?,
 * "namespace"?}, the filter as the contract's JSON, unchanged (omitted
 * when NULL or {}), the namespace when not "".  reply() fills hits best
 * first as given, scores clamped to [-1, 1], total 0 (not known).
 * count() and generation() are 0: the module keeps its own.  NULL for
 * dims 0 or over MT_PINECONE_DIMS_MAX, or no memory.
 */
mt_vec_t *mt_vec_pinecone_new(const char *namespace_, unsigned dims);

/*
 * A record's metadata from its creator document: region, followerCount,
 * verified, primaryNiches, secondaryNiches, apparentValues (from
 * analysis), each when the document has it with the right type; lists
 * keep their strings only (Pinecone forbids null).  As the local index
 * (filter.h), at most MT_META_TAGS strings in all, region first, so that
 * a filter selects the same creators on both; and at most
 * MT_PINECONE_META_MAX bytes.  0 or -1 (the writer failed).
 */
int mt_pinecone_metadata(mt_jw_t *w, const mt_json_t *creator);

/*
 * {"vectors":[{"id","values","metadata"?}],"namespace"?} for 1 to
 * MT_PINECONE_MAX_VECTORS records of dims floats; metadata from each
 * record's doc (none when NULL).  -1 with err for a record Pinecone
 * would refuse (an id not of 1 to 512 printable ASCII bytes, a value not
 * finite, no value of magnitude 1e-8 or more) or a failed writer.
 */
int mt_pinecone_upsert_request(mt_jw_t *body, const mt_vec_record_t *recs,
    size_t n, unsigned dims, const char *namespace_, char *err,
    size_t errlen);

/*
 * How many of recs[0..n) fit the next upsert request: at most
 * MT_PINECONE_MAX_VECTORS and MT_PINECONE_BODY_MAX bytes of body.  Exact:
 * each record is encoded (once, into a scratch buffer) and measured, so
 * planning costs about what writing does.  At least 1 when n > 0.
 */
size_t mt_pinecone_upsert_batch(const mt_vec_record_t *recs, size_t n,
    unsigned dims, const char *namespace_);

/* {"ids":[...],"namespace"?} for 1 to MT_PINECONE_MAX_VECTORS ids; 0/-1 */
int mt_pinecone_delete_request(mt_jw_t *body, const mt_span_t *ids,
    size_t n, const char *namespace_);

/*
 * describe_index_stats: the vector count of namespace_ ("" the default
 * one; 0 when it is not listed) and the index's "dimension" (0 when
 * absent).  0, or -1 with err.
 */
int mt_pinecone_stats_reply(const char *data, size_t len,
    const char *namespace_, uint64_t *count, unsigned *dims, char *err,
    size_t errlen);

/*
 * The query string of GET /vectors/fetch, "ids=a&ids=b&namespace=ns",
 * percent-encoded, malloc'd and NUL-terminated; NULL for n 0 or over
 * MT_PINECONE_MAX_VECTORS, or no memory.
 */
char *mt_pinecone_fetch_args(const mt_span_t *ids, size_t n,
    const char *namespace_, size_t *len);

/*
 * A fetch reply for ids[0..n): found[i] = 1 when ids[i] is in it, else
 * 0; with vecs not NULL, its values in vecs[i * dims ..] (which must be
 * dims finite numbers; left alone when not found).  Ids in the reply
 * that were not asked for are ignored.  0, or -1 with err.
 */
int mt_pinecone_fetch_reply(const char *data, size_t len,
    const mt_span_t *ids, size_t n, unsigned dims, unsigned char *found,
    float *vecs, char *err, size_t errlen);

/*
 * The query string of GET /vectors/list: "limit=..&prefix=..&
 * paginationToken=..&namespace=..", each when set (limit 0, NULL or ""
 * are not), percent-encoded, malloc'd; NULL without memory.
 */
char *mt_pinecone_list_args(const char *prefix, unsigned limit,
    const char *token, const char *namespace_, size_t *len);

/*
 * A list reply: its ids in ids (as hits, scores 0, total 0; free with
 * mt_vec_hits_free()), and the token of the next page malloc'd in *next,
 * NULL on the last page.  0, or -1 with err (nothing to free).
 */
int mt_pinecone_list_reply(const char *data, size_t len, mt_vec_hits_t *ids,
    char **next, char *err, size_t errlen);


/* --- errors and retries, both services -------------------------------- */

#define MT_REMOTE_MSG_MAX        160    /* characters of a message */
#define MT_REMOTE_DELAY_MAX      120000 /* ms: the highest cap */

/*
 * The service's own message for a failed call: OpenAI's
 * {"error":{"message"}}, Pinecone's {"code","message"}, or a plain-text
 * body (tags of an HTML page dropped); "HTTP <status>" when there is
 * none.  Made safe for a log line and a client: printable ASCII only,
 * white space folded, anything like an API key replaced by
 * "[redacted]" ("sk-" at a word start with 8 or more key characters
 * or '*' after it, any run of 24 or more of [A-Za-z0-9_-]: OpenAI's 401
 * echoes part of the key), at most MT_REMOTE_MSG_MAX characters.  msg
 * is always NUL-terminated.
 */
void mt_remote_error_message(int status, const char *body, size_t len,
    char *msg, size_t msglen);

/*
 * The delay before retry number attempt + 1 (attempt 0: the first
 * retry), in ms, or -1: do not retry.  Retried: status 0 (no reply: the
 * connection failed or timed out), 408, 409, 429 and >= 500, and any
 * status when x-should-retry is "true"; never when it is "false".  The
 * server's delay (retry-after-ms, float ms, before Retry-After, whole
 * seconds; an HTTP date is ignored) is obeyed up to cap_ms; without one,
 * 500 ms * 2^attempt up to 8 s, less up to 25% of jitter drawn from
 * rnd, also at most cap_ms.  cap_ms <= 0 or over MT_REMOTE_DELAY_MAX is
 * MT_REMOTE_DELAY_MAX.  Headers not sent are NULL.
 */
long mt_remote_retry_delay_ms(int status, const char *retry_after,
    const char *retry_after_ms, const char *should_retry, unsigned attempt,
    long cap_ms, uint64_t rnd);

#endif /* MT_REMOTE_H */

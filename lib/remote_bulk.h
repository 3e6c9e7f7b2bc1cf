/*
 * The remote services as blocking backends, for bulk jobs on a thread
 * (the indexer's bemb and bvec): the wire formats of remote.h sent with
 * the libcurl client of remote_http.h, in batches within each service's
 * limits.  Never called on an event loop.  No nginx types.
 */

#ifndef MT_REMOTE_BULK_H
#define MT_REMOTE_BULK_H

#include "backend.h"
#include "remote_http.h"


/*
 * OpenAI's /embeddings as an embedder whose embed() blocks: the texts in
 * requests of at most 2048 inputs and 300,000 tokens (remote.h), each
 * retried as http's configuration says.  stop: as mt_http_call()'s, to
 * give up early.  http stays the caller's.  NULL without memory.
 */
mt_emb_t *mt_emb_openai_bulk_new(const char *model, unsigned dims,
    int base64, mt_http_t *http, int (*stop)(void));

/*
 * A Pinecone index whose upsert(), remove() and count() block: upserts
 * of at most 1000 vectors and 2 MB with each creator's metadata, deletes
 * of at most 1000 ids, describe_index_stats for the count (0 when it
 * fails).  query() is NULL: searches go through the request path.
 */
mt_vec_t *mt_vec_pinecone_bulk_new(const char *namespace_, unsigned dims,
    mt_http_t *http, int (*stop)(void));

#endif /* MT_REMOTE_BULK_H */

/*
 * The MongoDB store: the handle, its client pool, what is done while the
 * server is unreachable, and the indexes.  The documents' operations are
 * in store_mongo_assign.c and store_mongo_creators.c.
 *
 * libmongoc blocks on the network: every call here is made on a pool
 * thread (the store has no MT_STORE_LOOP_READS).  A handle belongs to
 * one process and is shared by its threads; the pool is made after fork,
 * by the first call, since libmongoc's pool starts a monitor thread and a
 * mongodb+srv:// URI is resolved then.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_mongo_int.h"


static void mt_mongo_close(mt_store_t *st);
static mt_store_rc_t mt_mongo_ping(mt_store_t *st);
static int mt_mongo_seen(mongoc_client_t *client);
static int mt_mongo_unreachable(const bson_error_t *e);
static int mt_mongo_transient(uint32_t code);
static mt_store_rc_t mt_mongo_command(mt_mongo_call_t *c, bson_t *cmd,
    const char *what, bson_error_t *e);
static mt_store_rc_t mt_mongo_ttl(mt_mongo_call_t *c, int64_t ttl);
static void mt_mongo_init_once(void);


static pthread_once_t  mt_mongo_once = PTHREAD_ONCE_INIT;

static const mt_store_ops_t  mt_mongo_ops = {
    "mongodb",
    mt_mongo_close,
    mt_mongo_ping,
    mt_mongo_assignment_put,
    mt_mongo_assignment_get,
    mt_mongo_assignment_history,
    mt_mongo_assignment_purge,
    mt_mongo_creator_get,
    mt_mongo_creator_list,
    mt_mongo_creator_count,
    mt_mongo_creator_put_batch,
    mt_mongo_creator_scan,
    mt_mongo_creator_set_embedding,
    NULL                    /* creator_scan_pending: every creator */
};


static void
mt_mongo_init_once(void)
{
    /*
     * Once a process, never undone: mongoc_cleanup() may not be followed
     * by another mongoc_init(), and a reload opens the store again.
     */
    mongoc_init();
}


mt_store_t *
mt_store_mongo_open(const mt_store_mongo_conf_t *conf, char *err,
    size_t errlen)
{
    int32_t            w;
    bson_error_t       e;
    mt_store_mongo_t  *s;

    (void) pthread_once(&mt_mongo_once, mt_mongo_init_once);

    s = calloc(1, sizeof(mt_store_mongo_t));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    s->store.ops = &mt_mongo_ops;
    s->store.caps = 0;
    s->max_clients = conf->max_clients ? conf->max_clients : 32;

    mt_mongo_uri_mask(conf->uri, s->where, sizeof(s->where));

    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        snprintf(err, errlen, "pthread_mutex_init() failed");
        free(s);
        return NULL;
    }

    s->uri = mongoc_uri_new_with_error(conf->uri, &e);
    if (s->uri == NULL) {
        /* libmongoc's messages name the part, never the password */
        snprintf(err, errlen, "invalid MongoDB URI \"%s\": %s", s->where,
                 e.message);
        goto failed;
    }

    if (conf->server_selection_timeout_ms > 0) {
        mongoc_uri_set_option_as_int32(s->uri,
                                       MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                       conf->server_selection_timeout_ms);
    }

    if (conf->connect_timeout_ms > 0) {
        mongoc_uri_set_option_as_int32(s->uri, MONGOC_URI_CONNECTTIMEOUTMS,
                                       conf->connect_timeout_ms);
    }

    if (conf->socket_timeout_ms > 0) {
        mongoc_uri_set_option_as_int32(s->uri, MONGOC_URI_SOCKETTIMEOUTMS,
                                       conf->socket_timeout_ms);
    }

    /*
     * While a server is down the monitor looks for it every heartbeat:
     * 10 s by default, which would be how long service stays away after
     * MongoDB is back (calls fail at once meanwhile, none of them asks
     * for a scan).  A URI may say otherwise.
     */
    if (!mongoc_uri_has_option(s->uri, MONGOC_URI_HEARTBEATFREQUENCYMS)) {
        mongoc_uri_set_option_as_int32(s->uri,
                                       MONGOC_URI_HEARTBEATFREQUENCYMS, 1000);
    }

    if (conf->app_name && conf->app_name[0]) {
        mongoc_uri_set_appname(s->uri, conf->app_name);
    }

    s->db = strdup(conf->db && conf->db[0] ? conf->db
                   : (mongoc_uri_get_database(s->uri)
                      ? mongoc_uri_get_database(s->uri) : "matcher"));
    if (s->db == NULL) {
        snprintf(err, errlen, "out of memory");
        goto failed;
    }

    s->wc = mongoc_write_concern_new();

    if (conf->write_concern == NULL
        || strcmp(conf->write_concern, "majority") == 0)
    {
        mongoc_write_concern_set_w(s->wc, MONGOC_WRITE_CONCERN_W_MAJORITY);

    } else {
        w = (int32_t) strtol(conf->write_concern, NULL, 10);
        mongoc_write_concern_set_w(s->wc, w > 0 ? w : 1);
    }

    return &s->store;

failed:

    mt_mongo_close(&s->store);
    return NULL;
}


static void
mt_mongo_close(mt_store_t *st)
{
    mt_store_mongo_t  *s = (mt_store_mongo_t *) st;

    if (s->pool) {
        /* sends endSessions and closes the connections */
        mongoc_client_pool_destroy(s->pool);
    }

    mongoc_write_concern_destroy(s->wc);
    mongoc_uri_destroy(s->uri);
    free(s->db);
    (void) pthread_mutex_destroy(&s->lock);
    free(s);
}


const char *
mt_store_mongo_where(const mt_store_t *st)
{
    return ((const mt_store_mongo_t *) st)->where;
}


/*
 * A call begins.  While MongoDB is known down, it fails at once unless
 * libmongoc's monitor (a thread of the pool that checks the servers
 * every half second while one is down) has found a server since: the
 * requests of an outage cost no timeout each, and service comes back as
 * soon as the monitor sees the server, without a probe from a request.
 */
mt_store_rc_t
mt_mongo_begin(mt_store_mongo_t *s, const char *coll, mt_mongo_call_t *c)
{
    int           down;
    bson_error_t  e;
    char          cause[MT_MONGO_CAUSE_LEN];

    memset(c, 0, sizeof(mt_mongo_call_t));
    c->s = s;

    (void) pthread_mutex_lock(&s->lock);

    if (s->pool == NULL) {
        s->pool = mongoc_client_pool_new_with_error(s->uri, &e);

        if (s->pool == NULL) {
            (void) pthread_mutex_unlock(&s->lock);
            return mt_mongo_failf(MT_STORE_UNAVAILABLE, "MongoDB at \"%s\": "
                                  "%s", s->where, e.message);
        }

        (void) mongoc_client_pool_set_error_api(s->pool,
                                               MONGOC_ERROR_API_VERSION_2);
        (void) mongoc_client_pool_max_size(s->pool, s->max_clients);
    }

    down = s->down;
    memcpy(cause, s->cause, sizeof(cause));

    (void) pthread_mutex_unlock(&s->lock);

    /*
     * Waits, on this pool thread, only when more threads call at once
     * than the handle has clients (matcher_store's clients=, which the
     * README says to keep at or above the thread pool's threads).
     */
    c->client = mongoc_client_pool_pop(s->pool);

    if (down && !mt_mongo_seen(c->client)) {
        mongoc_client_pool_push(s->pool, c->client);
        c->client = NULL;
        return mt_mongo_failf(MT_STORE_UNAVAILABLE,
                              "MongoDB is unreachable: %s", cause);
    }

    if (coll) {
        c->coll = mongoc_client_get_collection(c->client, s->db, coll);
    }

    return MT_STORE_OK;
}


/* 1 when the monitor knows a server of the deployment that answers */
static int
mt_mongo_seen(mongoc_client_t *client)
{
    int                            seen;
    size_t                         i, n;
    mongoc_server_description_t  **sds;

    sds = mongoc_client_get_server_descriptions(client, &n);
    seen = 0;

    for (i = 0; i < n; i++) {
        if (strcmp(mongoc_server_description_type(sds[i]), "Unknown") != 0) {
            seen = 1;
            break;
        }
    }

    mongoc_server_descriptions_destroy_all(sds, n);

    return seen;
}


void
mt_mongo_end(mt_mongo_call_t *c, mt_store_rc_t rc)
{
    mt_store_mongo_t  *s = c->s;

    if (c->coll) {
        mongoc_collection_destroy(c->coll);
    }

    if (c->client) {
        mongoc_client_pool_push(s->pool, c->client);
    }

    /* any answer from the server means it is reachable */
    if (rc != MT_STORE_UNAVAILABLE) {
        (void) pthread_mutex_lock(&s->lock);
        s->down = 0;
        (void) pthread_mutex_unlock(&s->lock);
    }
}


mt_store_rc_t
mt_mongo_fail(mt_mongo_call_t *c, const bson_error_t *e, const char *what)
{
    mt_store_mongo_t  *s = c->s;

    if (mt_mongo_unreachable(e)) {
        (void) pthread_mutex_lock(&s->lock);
        s->down = 1;
        bson_strncpy(s->cause, e->message, sizeof(s->cause));
        (void) pthread_mutex_unlock(&s->lock);

        return mt_mongo_failf(MT_STORE_UNAVAILABLE,
                              "%s: MongoDB at \"%s\" is unreachable: %s",
                              what, s->where, e->message);
    }

    if (e->code == 11000) {
        return mt_mongo_failf(MT_STORE_CONFLICT, "%s: %s", what, e->message);
    }

    if (e->domain == MONGOC_ERROR_WRITE_CONCERN
        || mt_mongo_transient(e->code))
    {
        return mt_mongo_failf(MT_STORE_UNAVAILABLE, "%s: MongoDB: %s "
                              "(code %u)", what, e->message, e->code);
    }

    return mt_mongo_failf(MT_STORE_ERROR, "%s: MongoDB: %s (code %u)", what,
                          e->message, e->code);
}


mt_store_rc_t
mt_mongo_failf(mt_store_rc_t rc, const char *fmt, ...)
{
    char     buf[512];
    va_list  args;

    va_start(args, fmt);
    (void) vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    mt_store_set_error("%s", buf);

    return rc;
}


/*
 * No use of the server: it cannot be selected, the connection failed, or
 * it does not take our credentials (which a reload fixes, not a retry)
 */
static int
mt_mongo_unreachable(const bson_error_t *e)
{
    return e->domain == MONGOC_ERROR_SERVER_SELECTION
           || e->domain == MONGOC_ERROR_STREAM
           || e->domain == MONGOC_ERROR_SCRAM
           || e->domain == MONGOC_ERROR_SASL
           || (e->domain == MONGOC_ERROR_CLIENT
               && e->code == MONGOC_ERROR_CLIENT_AUTHENTICATE);
}


/*
 * Server codes that say "not now" rather than "never": no primary, a
 * shutdown, a step-down, a network error between servers.  The client
 * gets 503 and may retry.
 */
static int
mt_mongo_transient(uint32_t code)
{
    switch (code) {
    case 6:         /* HostUnreachable */
    case 7:         /* HostNotFound */
    case 89:        /* NetworkTimeout */
    case 91:        /* ShutdownInProgress */
    case 189:       /* PrimarySteppedDown */
    case 262:       /* ExceededTimeLimit */
    case 9001:      /* SocketException */
    case 10107:     /* NotWritablePrimary */
    case 11600:     /* InterruptedAtShutdown */
    case 11602:     /* InterruptedDueToReplStateChange */
    case 13435:     /* NotPrimaryNoSecondaryOk */
    case 13436:     /* NotPrimaryOrSecondary */
        return 1;
    default:
        return 0;
    }
}


void
mt_mongo_write_opts(mt_store_mongo_t *s, bson_t *opts)
{
    (void) mongoc_write_concern_append(s->wc, opts);
}


static mt_store_rc_t
mt_mongo_ping(mt_store_t *st)
{
    bson_t           cmd;
    bson_error_t     e;
    mt_store_rc_t    rc;
    mt_mongo_call_t  c;

    rc = mt_mongo_begin((mt_store_mongo_t *) st, NULL, &c);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    bson_init(&cmd);
    BSON_APPEND_INT32(&cmd, "ping", 1);

    rc = MT_STORE_OK;

    if (!mongoc_client_command_simple(c.client, "admin", &cmd, NULL, NULL,
                                      &e))
    {
        rc = mt_mongo_fail(&c, &e, "ping");
    }

    bson_destroy(&cmd);
    mt_mongo_end(&c, rc);

    return rc;
}


mt_store_rc_t
mt_mongo_text(const bson_t *doc, unsigned flags, mt_text_t *out)
{
    char     err[128];
    mt_jw_t  w;

    mt_jw_init(&w);

    if (mt_mdoc_to_json(doc, flags, &w, err, sizeof(err)) != 0) {
        mt_jw_free(&w);
        return mt_mongo_failf(MT_STORE_ERROR, "reading a document: %s", err);
    }

    out->data = mt_jw_take(&w, &out->len);
    if (out->data == NULL) {
        return mt_mongo_failf(MT_STORE_ERROR, "out of memory");
    }

    return MT_STORE_OK;
}


mt_store_rc_t
mt_mongo_texts(mt_mongo_call_t *c, mongoc_cursor_t *cur, unsigned flags,
    size_t limit, mt_text_t **docs, size_t *n)
{
    size_t          m;
    bson_error_t    e;
    mt_text_t      *out;
    const bson_t   *doc;
    mt_store_rc_t   rc;

    *docs = NULL;
    *n = 0;

    out = calloc(limit ? limit : 1, sizeof(mt_text_t));
    if (out == NULL) {
        return mt_mongo_failf(MT_STORE_ERROR, "out of memory");
    }

    m = 0;

    while (m < limit && mongoc_cursor_next(cur, &doc)) {
        rc = mt_mongo_text(doc, flags, &out[m]);
        if (rc != MT_STORE_OK) {
            mt_texts_free(out, m);
            return rc;
        }

        m++;
    }

    if (mongoc_cursor_error(cur, &e)) {
        mt_texts_free(out, m);
        return mt_mongo_fail(c, &e, "find");
    }

    *docs = out;
    *n = m;

    return MT_STORE_OK;
}


/* an unordered bulk write of the call's collection, with the concern */
mongoc_bulk_operation_t *
mt_mongo_bulk(mt_mongo_call_t *c)
{
    bson_t                    opts;
    mongoc_bulk_operation_t  *bulk;

    bson_init(&opts);
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mt_mongo_write_opts(c->s, &opts);

    bulk = mongoc_collection_create_bulk_operation_with_opts(c->coll, &opts);
    bson_destroy(&opts);

    return bulk;
}


/*
 * A page: *total counts what filter matches, *docs holds [skip, skip +
 * limit) of them in sort's order, sorted, skipped and limited by the
 * server (no find when the page is empty: limit 0 means "all" there).
 */
mt_store_rc_t
mt_mongo_page(mt_mongo_call_t *c, const bson_t *filter, const bson_t *sort,
    size_t skip, size_t limit, unsigned flags, mt_text_t **docs, size_t *n,
    size_t *total)
{
    bson_t            opts;
    mt_store_rc_t     rc;
    mongoc_cursor_t  *cur;

    rc = mt_mongo_count(c, filter, total);

    if (rc != MT_STORE_OK || limit == 0 || skip >= *total) {
        return rc;
    }

    bson_init(&opts);
    BSON_APPEND_DOCUMENT(&opts, "sort", sort);
    BSON_APPEND_INT64(&opts, "skip", (int64_t) skip);
    BSON_APPEND_INT64(&opts, "limit", (int64_t) limit);

    cur = mongoc_collection_find_with_opts(c->coll, filter, &opts, NULL);
    rc = mt_mongo_texts(c, cur, flags, limit, docs, n);

    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);

    return rc;
}


mt_store_rc_t
mt_mongo_count(mt_mongo_call_t *c, const bson_t *filter, size_t *n)
{
    int64_t       count;
    bson_error_t  e;

    count = mongoc_collection_count_documents(c->coll, filter, NULL, NULL,
                                              NULL, &e);
    if (count < 0) {
        return mt_mongo_fail(c, &e, "count");
    }

    *n = (size_t) count;
    return MT_STORE_OK;
}


int64_t
mt_mongo_get_int(const bson_t *doc, const char *dotkey)
{
    bson_iter_t  it, child;

    if (!bson_iter_init(&it, doc)
        || !bson_iter_find_descendant(&it, dotkey, &child)
        || !BSON_ITER_HOLDS_NUMBER(&child))
    {
        return 0;
    }

    return bson_iter_as_int64(&child);
}


/* --- indexes -------------------------------------------------------- */

static mt_store_rc_t
mt_mongo_command(mt_mongo_call_t *c, bson_t *cmd, const char *what,
    bson_error_t *e)
{
    bson_t         opts;
    mt_store_rc_t  rc;

    bson_init(&opts);
    mt_mongo_write_opts(c->s, &opts);

    rc = MT_STORE_OK;

    if (!mongoc_collection_write_command_with_opts(c->coll, cmd, &opts, NULL,
                                                   e))
    {
        rc = mt_mongo_fail(c, e, what);
    }

    bson_destroy(&opts);
    bson_destroy(cmd);

    return rc;
}


/* createIndexes {coll, [{key: {k1: d1, k2: d2}, name, unique?}]} */
static void
mt_mongo_index(bson_t *indexes, const char *idx, const char *name,
    const char *k1, int d1, const char *k2, int d2, int unique)
{
    bson_t  index, key;

    BSON_APPEND_DOCUMENT_BEGIN(indexes, idx, &index);
    BSON_APPEND_DOCUMENT_BEGIN(&index, "key", &key);
    BSON_APPEND_INT32(&key, k1, d1);

    if (k2) {
        BSON_APPEND_INT32(&key, k2, d2);
    }

    bson_append_document_end(&index, &key);
    BSON_APPEND_UTF8(&index, "name", name);

    if (unique) {
        BSON_APPEND_BOOL(&index, "unique", true);
    }

    bson_append_document_end(indexes, &index);
}


mt_store_rc_t
mt_store_mongo_setup(mt_store_t *st, int64_t ttl)
{
    bson_t            cmd, indexes;
    bson_error_t      e;
    mt_store_rc_t     rc;
    mt_mongo_call_t   c;
    mt_store_mongo_t *s = (mt_store_mongo_t *) st;

    rc = mt_mongo_begin(s, MT_MONGO_CREATORS, &c);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    /*
     * uniqueId once; the filters of GET /creators on the store's own
     * lowercased copies, uniqueId second: the listing's order
     */
    bson_init(&cmd);
    BSON_APPEND_UTF8(&cmd, "createIndexes", MT_MONGO_CREATORS);
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
    mt_mongo_index(&indexes, "0", "uniqueId_unique", "uniqueId", 1, NULL, 0,
                   1);
    mt_mongo_index(&indexes, "1", "region_uniqueId",
                   MT_MDOC_PRIVATE ".region", 1, "uniqueId", 1, 0);
    mt_mongo_index(&indexes, "2", "niches_uniqueId",
                   MT_MDOC_PRIVATE ".niches", 1, "uniqueId", 1, 0);
    bson_append_array_end(&cmd, &indexes);

    rc = mt_mongo_command(&c, &cmd, "creating the creators' indexes", &e);

    mongoc_collection_destroy(c.coll);
    c.coll = mongoc_client_get_collection(c.client, s->db,
                                          MT_MONGO_ASSIGNMENTS);

    if (rc == MT_STORE_OK) {
        bson_init(&cmd);
        BSON_APPEND_UTF8(&cmd, "createIndexes", MT_MONGO_ASSIGNMENTS);
        BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
        mt_mongo_index(&indexes, "0", "userId_createdAt", "userId", 1,
                       "createdAt", -1, 0);
        bson_append_array_end(&cmd, &indexes);

        rc = mt_mongo_command(&c, &cmd, "creating the assignments' indexes",
                              &e);
    }

    if (rc == MT_STORE_OK) {
        rc = mt_mongo_ttl(&c, ttl);
    }

    mt_mongo_end(&c, rc);

    return rc;
}


/*
 * The TTL index follows matcher_assignment_ttl: created, changed with
 * collMod (createIndexes with another expireAfterSeconds fails with 85,
 * IndexOptionsConflict), or dropped when the TTL is off.
 */
static mt_store_rc_t
mt_mongo_ttl(mt_mongo_call_t *c, int64_t ttl)
{
    bson_t         cmd, indexes, index, key;
    bson_error_t   e;
    mt_store_rc_t  rc;

    if (ttl <= 0) {
        bson_init(&cmd);
        BSON_APPEND_UTF8(&cmd, "dropIndexes", MT_MONGO_ASSIGNMENTS);
        BSON_APPEND_UTF8(&cmd, "index", "createdAt_ttl");

        rc = mt_mongo_command(c, &cmd, "dropping the TTL index", &e);

        /* 27: IndexNotFound, 26: NamespaceNotFound: nothing to drop */
        if (rc != MT_STORE_OK && (e.code == 27 || e.code == 26)) {
            rc = MT_STORE_OK;
        }

        return rc;
    }

    bson_init(&cmd);
    BSON_APPEND_UTF8(&cmd, "createIndexes", MT_MONGO_ASSIGNMENTS);
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
    BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &index);
    BSON_APPEND_DOCUMENT_BEGIN(&index, "key", &key);
    BSON_APPEND_INT32(&key, "createdAt", 1);
    bson_append_document_end(&index, &key);
    BSON_APPEND_UTF8(&index, "name", "createdAt_ttl");
    BSON_APPEND_INT64(&index, "expireAfterSeconds", ttl);
    bson_append_document_end(&indexes, &index);
    bson_append_array_end(&cmd, &indexes);

    rc = mt_mongo_command(c, &cmd, "creating the TTL index", &e);

    if (rc == MT_STORE_OK || e.code != 85) {
        return rc;
    }

    bson_init(&cmd);
    BSON_APPEND_UTF8(&cmd, "collMod", MT_MONGO_ASSIGNMENTS);
    BSON_APPEND_DOCUMENT_BEGIN(&cmd, "index", &index);
    BSON_APPEND_UTF8(&index, "name", "createdAt_ttl");
    BSON_APPEND_INT64(&index, "expireAfterSeconds", ttl);
    bson_append_document_end(&cmd, &index);

    return mt_mongo_command(c, &cmd, "changing the TTL index", &e);
}

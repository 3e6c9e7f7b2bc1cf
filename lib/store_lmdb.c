/*
 * The LMDB backend: the environment, its transactions and errors.  The
 * documents are in store_lmdb_assign.c, store_lmdb_creators.c and
 * store_lmdb_embed.c.
 *
 * Databases (schema 1), all in one environment:
 *   meta                 "schema" -> uint32 version
 *   assignments, assignments_by_user: see store_lmdb_assign.c
 *   creators, creators_by_region, creators_by_niche: see
 *                        store_lmdb_creators.c
 *
 * Durable commits, shared by the concurrent writes of a process (group
 * commit: mt_lmdb_write in store_lmdb_write.c); MDB_NOTLS because the
 * event loop thread reads while pool threads write, and a reset read txn
 * may be renewed by any thread.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_lmdb.h"


#define MT_LMDB_SCHEMA   1u


static void mt_lmdb_close(mt_store_t *st);
static mt_store_rc_t mt_lmdb_ping(mt_store_t *st);


static const mt_store_ops_t  mt_lmdb_ops = {
    .name = "lmdb",
    .close = mt_lmdb_close,
    .ping = mt_lmdb_ping,
    .assignment_put = mt_lmdb_assignment_put,
    .assignment_get = mt_lmdb_assignment_get,
    .assignment_history = mt_lmdb_assignment_history,
    .assignment_purge = mt_lmdb_assignment_purge,
    .creator_get = mt_lmdb_creator_get,
    .creator_list = mt_lmdb_creator_list,
    .creator_count = mt_lmdb_creator_count,
    .creator_put_batch = mt_lmdb_creator_put_batch,
    .creator_scan = mt_lmdb_creator_scan,
    .creator_set_embedding = mt_lmdb_creator_set_embedding,
    .creator_scan_pending = mt_lmdb_creator_scan_pending
};

static pthread_mutex_t   mt_lmdb_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static mt_lmdb_env_t    *mt_lmdb_registry;


/* Errors */

mt_store_rc_t
mt_lmdb_fail(mt_store_lmdb_t *s, const char *what, int rc)
{
    (void) s;

    mt_store_set_error("%s: %s", what, mdb_strerror(rc));

    switch (rc) {

    case MDB_MAP_FULL:
        return MT_STORE_FULL;

    case MDB_NOTFOUND:
        return MT_STORE_NOT_FOUND;

    case MDB_KEYEXIST:
        return MT_STORE_CONFLICT;

    case MDB_READERS_FULL:
        /* every reader slot taken: a retry later may succeed */
        return MT_STORE_UNAVAILABLE;

    default:
        return MT_STORE_ERROR;
    }
}


mt_store_rc_t
mt_lmdb_failf(mt_store_lmdb_t *s, mt_store_rc_t rc, const char *fmt, ...)
{
    char     buf[256];
    va_list  args;

    (void) s;

    /* clang-tidy 14 sees va_start only in the first file of a run */
    va_start(args, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void) vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    mt_store_set_error("%s", buf);

    return rc;
}


static void
mt_lmdb_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL || errlen == 0) {
        return;
    }

    va_start(args, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void) vsnprintf(err, errlen, fmt, args);
    va_end(args);
}


/* Transactions */

mt_store_rc_t
mt_lmdb_rbegin(mt_store_lmdb_t *s, MDB_txn **txn)
{
    int             rc;
    MDB_txn        *t;
    mt_lmdb_env_t  *e;

    e = s->e;
    t = NULL;

    if (pthread_mutex_lock(&e->lock) == 0) {
        if (e->nidle > 0) {
            t = e->idle[--e->nidle];
        }

        (void) pthread_mutex_unlock(&e->lock);
    }

    if (t != NULL) {
        rc = mdb_txn_renew(t);
        if (rc == 0) {
            *txn = t;
            return MT_STORE_OK;
        }

        mdb_txn_abort(t);
    }

    rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &t);
    if (rc != 0) {
        return mt_lmdb_fail(s, "mdb_txn_begin", rc);
    }

    *txn = t;

    return MT_STORE_OK;
}


void
mt_lmdb_rend(mt_store_lmdb_t *s, MDB_txn *txn)
{
    mt_lmdb_env_t  *e;

    e = s->e;

    /* reset keeps the reader slot: renewing it is much cheaper */
    mdb_txn_reset(txn);

    if (pthread_mutex_lock(&e->lock) == 0) {
        if (e->nidle < MT_LMDB_IDLE_MAX) {
            e->idle[e->nidle++] = txn;
            txn = NULL;
        }

        (void) pthread_mutex_unlock(&e->lock);
    }

    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
}


/* Copies out of the map */

mt_store_rc_t
mt_lmdb_text(mt_store_lmdb_t *s, const void *data, size_t len, mt_text_t *t)
{
    t->data = malloc(len + 1);
    if (t->data == NULL) {
        t->len = 0;
        return mt_lmdb_failf(s, MT_STORE_ERROR, "out of memory (%zu bytes)",
                             len + 1);
    }

    if (len > 0) {
        memcpy(t->data, data, len);
    }

    t->data[len] = '\0';
    t->len = len;

    return MT_STORE_OK;
}


mt_store_rc_t
mt_lmdb_texts_add(mt_store_lmdb_t *s, mt_lmdb_texts_t *a, const void *data,
    size_t len)
{
    size_t      cap;
    mt_text_t  *items;

    if (a->n == a->cap) {
        cap = a->cap ? 2 * a->cap : 16;

        items = realloc(a->items, cap * sizeof(mt_text_t));
        if (items == NULL) {
            return mt_lmdb_failf(s, MT_STORE_ERROR, "out of memory");
        }

        a->items = items;
        a->cap = cap;
    }

    if (mt_lmdb_text(s, data, len, &a->items[a->n]) != MT_STORE_OK) {
        return MT_STORE_ERROR;
    }

    a->n++;

    return MT_STORE_OK;
}


/* Opening */

/* mkdir -p, 0700 for what it creates */
static int
mt_lmdb_mkdirs(const char *path, char *err, size_t errlen)
{
    char    *buf, *p;
    size_t   len;

    len = strlen(path);

    buf = malloc(len + 1);
    if (buf == NULL) {
        mt_lmdb_errf(err, errlen, "out of memory");
        return -1;
    }

    memcpy(buf, path, len + 1);

    for (p = buf + 1; ; p++) {
        if (*p != '/' && *p != '\0') {
            continue;
        }

        if (p[-1] != '/') {
            *p = '\0';

            if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
                mt_lmdb_errf(err, errlen, "mkdir(\"%s\"): %s", buf,
                             strerror(errno));
                free(buf);
                return -1;
            }

            *p = path[p - buf];
        }

        if (*p == '\0') {
            break;
        }
    }

    free(buf);

    return 0;
}


/* the named databases, and the schema version check */
static int
mt_lmdb_env_dbis(mt_lmdb_env_t *e, char *err, size_t errlen)
{
    int             rc;
    size_t          i;
    uint32_t        version;
    MDB_val         k, v;
    MDB_txn        *txn;
    unsigned char   buf[4];

    static const char  *names[] = {
        "meta", "assignments", "assignments_by_user", "creators",
        "creators_by_region", "creators_by_niche", "creators_embedded"
    };

    /*
     * creators_embedded came after schema 1's first stores: created here
     * when missing, it starts empty, and an older module ignores it
     */
    MDB_dbi  *dbis[] = {
        &e->meta, &e->asg, &e->asg_user, &e->cr, &e->cr_region, &e->cr_niche,
        &e->cr_emb
    };

    rc = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (rc != 0) {
        mt_lmdb_errf(err, errlen, "mdb_txn_begin: %s", mdb_strerror(rc));
        return -1;
    }

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        rc = mdb_dbi_open(txn, names[i], MDB_CREATE, dbis[i]);
        if (rc != 0) {
            mt_lmdb_errf(err, errlen, "mdb_dbi_open(\"%s\"): %s", names[i],
                         mdb_strerror(rc));
            goto failed;
        }
    }

    k.mv_data = (void *) "schema";
    k.mv_size = sizeof("schema") - 1;

    rc = mdb_get(txn, e->meta, &k, &v);

    if (rc == MDB_NOTFOUND) {
        mt_lmdb_put32(buf, MT_LMDB_SCHEMA);
        v.mv_data = buf;
        v.mv_size = sizeof(buf);

        rc = mdb_put(txn, e->meta, &k, &v, 0);
        if (rc != 0) {
            mt_lmdb_errf(err, errlen, "mdb_put: %s", mdb_strerror(rc));
            goto failed;
        }

    } else if (rc != 0) {
        mt_lmdb_errf(err, errlen, "mdb_get: %s", mdb_strerror(rc));
        goto failed;

    } else {
        if (v.mv_size != sizeof(uint32_t)) {
            mt_lmdb_errf(err, errlen, "unreadable schema version");
            goto failed;
        }

        version = mt_lmdb_get32(v.mv_data);

        if (version != MT_LMDB_SCHEMA) {
            mt_lmdb_errf(err, errlen, "store schema version %u, this module "
                         "knows only %u", (unsigned) version, MT_LMDB_SCHEMA);
            goto failed;
        }
    }

    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        mt_lmdb_errf(err, errlen, "mdb_txn_commit: %s", mdb_strerror(rc));
        return -1;
    }

    return 0;

failed:

    mdb_txn_abort(txn);

    return -1;
}


static mt_lmdb_env_t *
mt_lmdb_env_open(const char *path, size_t map_size, char *err, size_t errlen)
{
    int             rc, dead;
    const char     *what;
    mt_lmdb_env_t  *e;

    e = calloc(1, sizeof(mt_lmdb_env_t));
    if (e == NULL) {
        mt_lmdb_errf(err, errlen, "out of memory");
        return NULL;
    }

    if (pthread_mutex_init(&e->lock, NULL) != 0) {
        goto nolock;
    }

    if (pthread_mutex_init(&e->wlock, NULL) != 0) {
        goto nowlock;
    }

    e->wtail = &e->whead;
    e->group_max = MT_LMDB_GROUP_MAX;

    what = "mdb_env_create";
    rc = mdb_env_create(&e->env);
    if (rc != 0) {
        e->env = NULL;
        goto failed;
    }

    what = "mdb_env_set_maxdbs";
    rc = mdb_env_set_maxdbs(e->env, 8);
    if (rc != 0) {
        goto failed;
    }

    what = "mdb_env_set_maxreaders";
    rc = mdb_env_set_maxreaders(e->env, 1024);
    if (rc != 0) {
        goto failed;
    }

    if (map_size > 0) {
        what = "mdb_env_set_mapsize";
        rc = mdb_env_set_mapsize(e->env, map_size);
        if (rc != 0) {
            goto failed;
        }
    }

    what = "mdb_env_open";
    rc = mdb_env_open(e->env, path, MDB_NOTLS, 0600);
    if (rc != 0) {
        goto failed;
    }

    /* the longest key: a user id, \0, an assignment id */
    if (mdb_env_get_maxkeysize(e->env) < MT_LMDB_KEY_MAX) {
        mt_lmdb_errf(err, errlen, "LMDB keys are limited to %d bytes",
                     mdb_env_get_maxkeysize(e->env));
        goto closed;
    }

    /* frees the reader slots of processes that died in a read */
    what = "mdb_reader_check";
    rc = mdb_reader_check(e->env, &dead);
    if (rc != 0) {
        goto failed;
    }

    if (mt_lmdb_env_dbis(e, err, errlen) != 0) {
        goto closed;
    }

    e->pid = getpid();

    return e;

failed:

    mt_lmdb_errf(err, errlen, "%s: %s", what, mdb_strerror(rc));

closed:

    if (e->env != NULL) {
        mdb_env_close(e->env);
    }

    (void) pthread_mutex_destroy(&e->wlock);
    (void) pthread_mutex_destroy(&e->lock);
    free(e);

    return NULL;

nowlock:

    (void) pthread_mutex_destroy(&e->lock);

nolock:

    mt_lmdb_errf(err, errlen, "cannot initialize a lock");
    free(e);

    return NULL;
}


mt_store_t *
mt_store_lmdb_open(const char *path, size_t map_size, char *err,
    size_t errlen)
{
    pid_t             pid;
    struct stat       st;
    mt_lmdb_env_t    *e;
    mt_store_lmdb_t  *s;

    mt_lmdb_errf(err, errlen, "%s", "");

    if (path == NULL || path[0] == '\0') {
        mt_lmdb_errf(err, errlen, "no store path");
        return NULL;
    }

    if (mt_lmdb_mkdirs(path, err, errlen) != 0) {
        return NULL;
    }

    if (stat(path, &st) != 0) {
        mt_lmdb_errf(err, errlen, "stat(\"%s\"): %s", path, strerror(errno));
        return NULL;
    }

    if (!S_ISDIR(st.st_mode)) {
        mt_lmdb_errf(err, errlen, "\"%s\" is not a directory", path);
        return NULL;
    }

    s = calloc(1, sizeof(mt_store_lmdb_t));
    if (s == NULL) {
        mt_lmdb_errf(err, errlen, "out of memory");
        return NULL;
    }

    if (pthread_mutex_lock(&mt_lmdb_registry_lock) != 0) {
        mt_lmdb_errf(err, errlen, "pthread_mutex_lock failed");
        free(s);
        return NULL;
    }

    pid = getpid();

    for (e = mt_lmdb_registry; e != NULL; e = e->next) {
        if (e->pid == pid && e->dev == st.st_dev && e->ino == st.st_ino) {
            break;
        }
    }

    if (e == NULL) {
        e = mt_lmdb_env_open(path, map_size, err, errlen);

        if (e != NULL) {
            e->dev = st.st_dev;
            e->ino = st.st_ino;
            e->next = mt_lmdb_registry;
            mt_lmdb_registry = e;
        }
    }

    if (e != NULL) {
        e->refs++;
    }

    (void) pthread_mutex_unlock(&mt_lmdb_registry_lock);

    if (e == NULL) {
        free(s);
        return NULL;
    }

    s->store.ops = &mt_lmdb_ops;
    s->store.caps = MT_STORE_LOOP_READS;
    s->e = e;

    return &s->store;
}


static void
mt_lmdb_close(mt_store_t *st)
{
    mt_lmdb_env_t    *e, **pp;
    mt_store_lmdb_t  *s;

    s = (mt_store_lmdb_t *) st;

    if (s == NULL) {
        return;
    }

    e = s->e;
    free(s);

    /*
     * An environment inherited through fork() belongs to the parent:
     * closing it here would clear the parent's reader slots.
     */
    if (e->pid != getpid()) {
        return;
    }

    if (pthread_mutex_lock(&mt_lmdb_registry_lock) != 0) {
        return;
    }

    if (--e->refs > 0) {
        (void) pthread_mutex_unlock(&mt_lmdb_registry_lock);
        return;
    }

    for (pp = &mt_lmdb_registry; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }

    (void) pthread_mutex_unlock(&mt_lmdb_registry_lock);

    while (e->nidle > 0) {
        mdb_txn_abort(e->idle[--e->nidle]);
    }

    mdb_env_close(e->env);
    (void) pthread_mutex_destroy(&e->wlock);
    (void) pthread_mutex_destroy(&e->lock);
    free(e);
}


static mt_store_rc_t
mt_lmdb_ping(mt_store_t *st)
{
    MDB_txn          *txn;
    mt_store_rc_t     rc;
    mt_store_lmdb_t  *s;

    s = (mt_store_lmdb_t *) st;

    rc = mt_lmdb_rbegin(s, &txn);
    if (rc != MT_STORE_OK) {
        return rc;
    }

    mt_lmdb_rend(s, txn);

    return MT_STORE_OK;
}

/*
 * The LMDB backend's writes: group commit (mt_lmdb_write).  The rest of
 * the environment is in store_lmdb.c.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_lmdb.h"


/*
 * Group commit.  A durable commit costs one fdatasync and LMDB has one
 * writer at a time: with one commit per write, the pool threads queue on
 * LMDB's lock and a process writes at most once per fsync.  Instead the
 * writes of a process queue here; a thread that finds no commit running
 * becomes the leader, takes every queued write, runs each in a child txn
 * of one txn (a failed write is aborted alone) and commits them all with
 * one fsync.  Then it wakes their threads and steps down: the first
 * thread whose write is still queued leads the next group, so no thread
 * stays the leader for writes other than its own.  Each write's reason
 * for failing is kept with the write and handed to its own thread (the
 * leader's thread-local error text would hold only the group's last).
 * Other processes queue on LMDB's lock.
 */

struct mt_lmdb_wreq_s {
    mt_lmdb_wreq_t         *next;
    mt_store_lmdb_t        *s;
    mt_lmdb_op_pt           op;
    void                   *arg;
    mt_store_rc_t           rc;
    unsigned                done;
    pthread_cond_t          wake;
    char                    error[256];     /* why rc is not OK */
};


/* Sets a write's rc; a failure's text, just set on this thread, goes too */
static void
mt_lmdb_wdone(mt_lmdb_wreq_t *q, mt_store_rc_t rc)
{
    q->rc = rc;

    if (rc != MT_STORE_OK) {
        (void) snprintf(q->error, sizeof(q->error), "%s",
                        mt_store_error(&q->s->store));
    }
}


/*
 * A default mutex fails only when misused; the waiters could never be
 * woken then, and a hung worker is worse than one that is restarted.
 */
static void
mt_lmdb_wlock(mt_lmdb_env_t *e)
{
    if (pthread_mutex_lock(&e->wlock) != 0) {
        abort();
    }
}


static void
mt_lmdb_wunlock(mt_lmdb_env_t *e)
{
    if (pthread_mutex_unlock(&e->wlock) != 0) {
        abort();
    }
}


/* runs the writes in one txn, sets their rc; returns the commits made */
static unsigned
mt_lmdb_group(mt_lmdb_env_t *e, mt_lmdb_wreq_t **reqs, size_t n)
{
    int              r;
    size_t           i, ok;
    MDB_txn         *txn, *child;
    unsigned         commits;
    mt_lmdb_wreq_t  *q;

    r = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (r != 0) {
        for (i = 0; i < n; i++) {
            mt_lmdb_wdone(reqs[i],
                          mt_lmdb_fail(reqs[i]->s, "mdb_txn_begin", r));
        }

        return 0;
    }

    if (n == 1) {
        /* alone: the txn is the write's, no child needed */
        q = reqs[0];
        mt_lmdb_wdone(q, q->op(q->s, txn, q->arg));

        if (q->rc != MT_STORE_OK) {
            mdb_txn_abort(txn);
            return 0;
        }

        r = mdb_txn_commit(txn);
        if (r != 0) {
            mt_lmdb_wdone(q, mt_lmdb_fail(q->s, "mdb_txn_commit", r));
            return 0;
        }

        return 1;
    }

    ok = 0;

    for (i = 0; i < n; i++) {
        q = reqs[i];

        /* an aborted child leaves the parent as it was, MAP_FULL too */
        r = mdb_txn_begin(e->env, txn, 0, &child);
        if (r != 0) {
            mt_lmdb_wdone(q, mt_lmdb_fail(q->s, "mdb_txn_begin", r));
            continue;
        }

        mt_lmdb_wdone(q, q->op(q->s, child, q->arg));

        if (q->rc != MT_STORE_OK) {
            mdb_txn_abort(child);
            continue;
        }

        r = mdb_txn_commit(child);
        if (r != 0) {
            mt_lmdb_wdone(q, mt_lmdb_fail(q->s, "mdb_txn_commit", r));
            continue;
        }

        ok++;
    }

    if (ok == 0) {
        mdb_txn_abort(txn);
        return 0;
    }

    r = mdb_txn_commit(txn);

    if (r == 0) {
        return 1;
    }

    /*
     * The map had room for each write but not for their commit, which
     * needs pages of its own: each write is retried alone, so that what
     * would have fit without the group still does.
     */
    commits = 0;

    for (i = 0; i < n; i++) {
        q = reqs[i];

        if (q->rc != MT_STORE_OK) {
            continue;
        }

        if (r == MDB_MAP_FULL && ok > 1) {
            commits += mt_lmdb_group(e, &reqs[i], 1);

        } else {
            mt_lmdb_wdone(q, mt_lmdb_fail(q->s, "mdb_txn_commit", r));
        }
    }

    return commits;
}


mt_store_rc_t
mt_lmdb_write(mt_store_lmdb_t *s, mt_lmdb_op_pt op, void *arg)
{
    size_t           n;
    unsigned         commits;
    mt_lmdb_env_t   *e;
    mt_lmdb_wreq_t   req, *q, *group[MT_LMDB_GROUP_MAX];

    e = s->e;

    req.next = NULL;
    req.s = s;
    req.op = op;
    req.arg = arg;
    req.rc = MT_STORE_ERROR;
    req.done = 0;
    req.error[0] = '\0';

    /*
     * A condvar per write: a commit wakes the threads of its writes and
     * the next leader, not every waiting thread.
     */
    if (pthread_cond_init(&req.wake, NULL) != 0) {
        return mt_lmdb_failf(s, MT_STORE_ERROR, "pthread_cond_init failed");
    }

    mt_lmdb_wlock(e);

    *e->wtail = &req;
    e->wtail = &req.next;
    e->wqueued++;

    while (!req.done) {

        if (e->wleader) {
            /* woken for nothing, or failed: the loop looks again */
            (void) pthread_cond_wait(&req.wake, &e->wlock);
            continue;
        }

        /* lead: take what is queued, this thread's write among it */
        e->wleader = 1;

        for (n = 0; n < e->group_max && e->whead != NULL; n++) {
            group[n] = e->whead;
            e->whead = e->whead->next;
        }

        if (e->whead == NULL) {
            e->wtail = &e->whead;
        }

        e->wqueued -= n;

        mt_lmdb_wunlock(e);

        commits = mt_lmdb_group(e, group, n);

        mt_lmdb_wlock(e);

        e->writes += n;
        e->commits += commits;

        /* once woken, a writer returns: q must not be touched after */
        while (n > 0) {
            q = group[--n];
            q->done = 1;

            if (q != &req && pthread_cond_signal(&q->wake) != 0) {
                abort();
            }
        }

        /* step down: the first thread still queued leads the next group */
        e->wleader = 0;

        if (e->whead != NULL && pthread_cond_signal(&e->whead->wake) != 0) {
            abort();
        }
    }

    mt_lmdb_wunlock(e);

    (void) pthread_cond_destroy(&req.wake);

    if (req.rc != MT_STORE_OK) {
        mt_store_set_error("%s", req.error);
    }

    return req.rc;
}

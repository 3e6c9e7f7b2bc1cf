/*
 * A benchmark of the LMDB store's writes and history, not a test (the
 * Makefile does not build it).  Build it without sanitizers:
 *
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g -Ilib \
 *       tests/unit/bench_store_lmdb.c lib/[a-z]*.c \
 *       $(pkg-config --cflags --libs yajl lmdb) -lm -lpthread -o /tmp/bsl
 *   /tmp/bsl [threads [puts [group_max [calls [per_user]]]]]
 *
 * threads x puts inserts of 1 KB documents, concurrently on one handle,
 * in a new store under /tmp; group_max 1 gives each its own commit (as
 * before group commit).  Then history pages (createdAt desc, limit 50)
 * of 100 users with per_user (200) assignments each, their ids made by
 * two processes, calls times.
 * -DMT_BENCH_OLD builds against a lib/ without the write queue.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_lmdb.h"


#define MB  ((size_t) 1024 * 1024)

#ifndef MT_LMDB_GROUP_MAX
#define MT_LMDB_GROUP_MAX  128
#endif


typedef struct {
    mt_store_t             *s;
    int                     t;
    int                     puts;
    int                     users;
    int                     threads;
    int                     failures;
} bench_writer_t;


static double
bench_now_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec * 1000 + (double) ts.tv_nsec / 1e6;
}


/* an assignment of user "user<u>", made by process p in second sec */
static mt_store_rc_t
bench_put(mt_store_t *s, int u, int p, uint32_t sec, uint32_t cnt, int ms)
{
    int                    n;
    char                   doc[1024];
    mt_assignment_meta_t   m;

    memset(&m, 0, sizeof(m));
    (void) snprintf(m.id, sizeof(m.id), "%08x%s%06x", sec,
                    p ? "0badf00d02" : "c0ffee0001", cnt & 0xffffff);
    m.user_id_len = (size_t) snprintf(m.user_id, sizeof(m.user_id),
                                      "user%03d", u);
    m.created_at = (int64_t) sec * 1000 + ms;
    m.updated_at = m.created_at;
    m.version = 1;
    (void) snprintf(m.status, sizeof(m.status), "pending");
    m.topic_key_len = (size_t) snprintf(m.topic_key, sizeof(m.topic_key),
                                        "topic %u", cnt % 7);

    n = snprintf(doc, sizeof(doc), "{\"id\":\"%s\",\"pad\":\"%0*d\"}",
                 m.id, 900, 0);

    return s->ops->assignment_put(s, &m, doc, (size_t) n, 0);
}


/* writer t of threads: puts, or the history's users t, t + threads... */
static void *
bench_writer(void *data)
{
    int              i, u, k;
    bench_writer_t  *w = data;

    if (w->users == 0) {
        for (i = 0; i < w->puts; i++) {
            if (bench_put(w->s, w->t, w->t % 2, 1000000 + (uint32_t) i,
                          (uint32_t) (w->t << 16 | i), i % 1000)
                != MT_STORE_OK)
            {
                w->failures++;
            }
        }

        return NULL;
    }

    /* as the POST phase makes them: ~20 a second, both workers */
    for (i = 0; i < w->puts; i++) {
        for (u = w->t; u < w->users; u += w->threads) {
            k = i * w->users + u;

            if (bench_put(w->s, u, k % 2, 2000000 + (uint32_t) k / 20,
                          (uint32_t) k, k * 37 % 1000)
                != MT_STORE_OK)
            {
                w->failures++;
            }
        }
    }

    return NULL;
}


static int
bench_writes(const char *dir, int threads, int puts, unsigned group_max)
{
    int              t, failures;
    char             err[256];
    double           t0, t1;
    pthread_t        th[64];
    mt_store_t      *s;
    bench_writer_t   w[64];

    s = mt_store_lmdb_open(dir, 256 * MB, err, sizeof(err));
    if (s == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }

#ifndef MT_BENCH_OLD
    ((mt_store_lmdb_t *) s)->e->group_max = group_max;
#else
    (void) group_max;
#endif

    t0 = bench_now_ms();

    for (t = 0; t < threads; t++) {
        w[t].s = s;
        w[t].t = t;
        w[t].puts = puts;
        w[t].users = 0;
        w[t].threads = threads;
        w[t].failures = 0;

        if (pthread_create(&th[t], NULL, bench_writer, &w[t]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }

    failures = 0;

    for (t = 0; t < threads; t++) {
        if (pthread_join(th[t], NULL) != 0) {
            fprintf(stderr, "pthread_join failed\n");
            exit(1);
        }

        failures += w[t].failures;
    }

    t1 = bench_now_ms();

#ifdef MT_BENCH_OLD
    group_max = 0;  /* there was none */
#endif

    printf("writes: %d threads x %d puts, group_max %u: %.0f ms, "
           "%.0f puts/s", threads, puts, group_max, t1 - t0,
           threads * puts / ((t1 - t0) / 1000));
#ifndef MT_BENCH_OLD
    printf(", %llu commits",
           (unsigned long long) ((mt_store_lmdb_t *) s)->e->commits);
#endif
    printf(", %d failed\n", failures);

    s->ops->close(s);

    return failures ? -1 : 0;
}


static int
bench_history(const char *dir, int users, int per_user, int calls)
{
    int                  t, c;
    char                 err[256], user[16];
    size_t               n, total, bytes;
    double               t0, t1;
    pthread_t            th[20];
    mt_text_t           *docs;
    bench_writer_t       w[20];
    mt_store_t          *s;
    mt_history_query_t   q;

    s = mt_store_lmdb_open(dir, 256 * MB, err, sizeof(err));
    if (s == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }

    for (t = 0; t < 20; t++) {
        w[t].s = s;
        w[t].t = t;
        w[t].puts = per_user;
        w[t].users = users;
        w[t].threads = 20;
        w[t].failures = 0;

        if (pthread_create(&th[t], NULL, bench_writer, &w[t]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }

    for (t = 0; t < 20; t++) {
        if (pthread_join(th[t], NULL) != 0 || w[t].failures != 0) {
            fprintf(stderr, "filling the store failed\n");
            exit(1);
        }
    }

    memset(&q, 0, sizeof(q));
    q.sort = MT_SORT_CREATED_AT;
    q.desc = 1;
    q.limit = 50;
    bytes = 0;

    t0 = bench_now_ms();

    for (c = 0; c < calls; c++) {
        q.user_id_len = (size_t) snprintf(user, sizeof(user), "user%03d",
                                          c % users);
        q.user_id = user;

        if (s->ops->assignment_history(s, &q, &docs, &n, &total)
            != MT_STORE_OK || n != 50 || total != (size_t) per_user)
        {
            fprintf(stderr, "history: %s\n", mt_store_error(s));
            return -1;
        }

        bytes += docs[0].len;
        mt_texts_free(docs, n);
    }

    t1 = bench_now_ms();

    printf("history: %d users x %d, createdAt desc limit 50: %.2f us a "
           "call (%zu)\n", users, per_user, (t1 - t0) * 1000 / calls,
           bytes / (size_t) calls);

    s->ops->close(s);

    return 0;
}


int
main(int argc, char **argv)
{
    int        threads, puts, calls, per_user, rc;
    char       dir[64], cmd[128];
    unsigned   group_max;

    threads = argc > 1 ? atoi(argv[1]) : 16;
    puts = argc > 2 ? atoi(argv[2]) : 200;
    group_max = argc > 3 ? (unsigned) atoi(argv[3]) : MT_LMDB_GROUP_MAX;
    calls = argc > 4 ? atoi(argv[4]) : 20000;
    per_user = argc > 5 ? atoi(argv[5]) : 200;

    if (threads < 1 || threads > 64 || puts < 1 || group_max < 1
        || group_max > MT_LMDB_GROUP_MAX || calls < 1 || per_user < 50)
    {
        fprintf(stderr, "usage: %s [threads [puts [group_max [calls "
                "[per_user]]]]]\n", argv[0]);
        return 2;
    }

    strcpy(dir, "/tmp/mt_bench_XXXXXX");

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    rc = bench_writes(dir, threads, puts, group_max);

    (void) snprintf(cmd, sizeof(cmd), "rm -rf %s/*", dir);

    if (rc == 0 && system(cmd) == 0) {
        rc = bench_history(dir, 100, per_user, calls);
    }

    (void) snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);

    if (system(cmd) != 0) {
        rc = -1;
    }

    return rc == 0 ? 0 : 1;
}

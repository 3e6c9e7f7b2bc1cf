/*
 * The scoring alone (lib/score*.c): every brief of the quality benchmark
 * (bench/quality/briefs.json, every field) against the sample creators
 * (t/data/creators.json), ROUNDS times, two ways:
 *
 *   prepared  mt_brief_init() once per brief, mt_score_brief() per
 *             creator: what POST /matches does (one request, one brief);
 *   per_pair  mt_score() per creator, which prepares the brief each time.
 *
 * Not part of the tests.  From the repository root:
 *
 *   gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Ilib bench/score_bench.c \
 *       lib/score.c lib/score_words.c lib/score_concepts.c \
 *       lib/score_text.c lib/score_buf.c lib/json.c lib/json_write.c \
 *       lib/util.c $(pkg-config --cflags --libs yajl) -lm -lpthread \
 *       -o /tmp/sbench
 *   /tmp/sbench [ROUNDS]
 *
 * Prints one "metric value" line per metric: microseconds a pair and a
 * request of 17 creators, each way, and a checksum of the scores (the
 * two ways must agree).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "score.h"


#define BRIEFS    "bench/quality/briefs.json"
#define CREATORS  "t/data/creators.json"


static mt_json_doc_t *
load(const char *path)
{
    long            n;
    char           *s, errbuf[128];
    FILE           *f;
    mt_json_err_t   err;
    mt_json_doc_t  *doc;

    f = fopen(path, "rb");

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fprintf(stderr, "score_bench: cannot read %s\n", path);
        exit(1);
    }

    s = malloc((size_t) n + 1);

    if (s == NULL || fread(s, 1, (size_t) n, f) != (size_t) n) {
        fprintf(stderr, "score_bench: cannot read %s\n", path);
        exit(1);
    }

    fclose(f);
    doc = mt_json_parse(s, (size_t) n, NULL, &err, errbuf, sizeof(errbuf));

    if (doc == NULL) {
        fprintf(stderr, "score_bench: %s: %s\n", path, errbuf);
        exit(1);
    }

    free(s);
    return doc;
}


static double
now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}


/* every brief against every creator, rounds times; the sum of the scores */
static double
run(const mt_json_t *briefs, const mt_json_t *creators, int rounds,
    int prepared, double *us)
{
    int               r;
    size_t            i, j;
    double            sum, t;
    mt_brief_t        br;
    mt_breakdown_t    b;
    const mt_json_t  *a, *c;

    sum = 0.0;
    t = now_us();

    for (r = 0; r < rounds; r++) {
        for (i = 0; i < briefs->u.array.n; i++) {
            a = briefs->u.array.items[i];

            if (prepared) {
                mt_brief_init(&br, a);
            }

            for (j = 0; j < creators->u.object.n; j++) {
                c = creators->u.object.pairs[j].value;

                if (prepared) {
                    mt_score_brief(&br, c, 0.3, 0.5, 1, &b);

                } else {
                    mt_score(a, c, 0.3, 0.5, 1, &b);
                }

                sum += b.score;
            }
        }
    }

    *us = now_us() - t;

    return sum;
}


int
main(int argc, char **argv)
{
    int               rounds, way;
    double            us, sum, pairs;
    mt_json_doc_t    *bd, *cd;
    const mt_json_t  *briefs, *creators;

    static const char *const  names[] = { "per_pair", "prepared" };

    rounds = (argc > 1) ? atoi(argv[1]) : 200;
    rounds = (rounds > 0) ? rounds : 200;

    bd = load(BRIEFS);
    cd = load(CREATORS);
    briefs = mt_json_get(mt_json_root(bd), "briefs");
    creators = mt_json_root(cd);

    if (briefs == NULL || briefs->type != MT_JSON_ARRAY
        || creators->type != MT_JSON_OBJECT || creators->u.object.n == 0)
    {
        fprintf(stderr, "score_bench: unexpected files\n");
        return 1;
    }

    pairs = (double) rounds * (double) briefs->u.array.n
            * (double) creators->u.object.n;

    /* once untimed: the word table is built on first use */
    (void) run(briefs, creators, 1, 1, &us);

    for (way = 0; way < 2; way++) {
        sum = run(briefs, creators, rounds, way, &us);
        printf("%s_us_per_pair %.2f\n", names[way], us / pairs);
        printf("%s_us_per_request %.1f\n", names[way],
               us / pairs * (double) creators->u.object.n);
        printf("%s_checksum %.6f\n", names[way], sum);
    }

    mt_json_free(bd);
    mt_json_free(cd);

    return 0;
}

/*
 * hnswlib (Debian's libhnswlib-dev, header-only) on the data of
 * bench/ann/gen.c: an inner-product space (the vectors are unit length:
 * cosine), built by addPoint in one thread, each M and ef_construction
 * given, then single-threaded searches (k 10), one query at a time,
 * with an ef sweep.  bytes_per_creator: the size of saveIndex's file / N
 * (the in-memory index is the same within a few bytes a creator).
 *
 *   hnsw [-m 16,32] [-c 100[,200]] [-w warmup] [-s] dir
 *
 * -s: skip saveIndex, print the size of the memory formula instead.
 * Prints "# ..." lines and one TSV line a configuration (ann_io.h).
 */

#include <hnswlib/hnswlib.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "ann_io.h"


static std::vector<unsigned>
list(const char *s)
{
    char                   *end;
    unsigned long           x;
    std::vector<unsigned>   v;

    for ( ;; ) {
        x = strtoul(s, &end, 10);
        if (end == s) {
            break;
        }

        v.push_back((unsigned) x);

        if (*end != ',') {
            break;
        }

        s = end + 1;
    }

    return v;
}


int
main(int argc, char **argv)
{
    int                     c;
    char                    params[96];
    float                  *base;
    double                  t0, build_s, bytes, *lat;
    size_t                  i, j, found, n;
    int64_t                 ids[ANN_K];
    uint32_t                nb, dims;
    unsigned                warmup;
    bool                    save;
    ann_qset_t              qsets[2];
    std::string             dir, path;
    std::vector<unsigned>   ms, efcs;
    static const unsigned   efs[] = { 16, 24, 32, 48, 64, 96, 128,
                                      192, 256, 384 };

    ms = list("16,32");
    efcs = list("100");
    warmup = 100;
    save = true;

    while ((c = getopt(argc, argv, "m:c:w:s")) != -1) {
        switch (c) {
        case 'm': ms = list(optarg); break;
        case 'c': efcs = list(optarg); break;
        case 'w': warmup = (unsigned) strtoul(optarg, NULL, 10); break;
        case 's': save = false; break;
        default: optind = argc + 1; break;
        }
    }

    if (optind != argc - 1) {
        fprintf(stderr, "usage: hnsw [-m M,..] [-c efc,..] [-w warmup] [-s] "
                "dir\n");
        return 2;
    }

    dir = argv[optind];
    dims = 0;
    base = ann_load_vecs(dir.c_str(), "base.f32", &nb, &dims);
    ann_load_qset(dir.c_str(), "brief", dims, &qsets[0]);
    ann_load_qset(dir.c_str(), "self", dims, &qsets[1]);
    path = dir + "/hnswlib.idx";

    printf("# hnswlib %s, SIMD: %s\n", "0.6.2 (Debian libhnswlib-dev)",
#if defined(USE_AVX512)
           "AVX512"
#elif defined(USE_AVX)
           "AVX"
#elif defined(USE_SSE)
           "SSE"
#else
           "none"
#endif
           );

    for (unsigned m : ms) {
        for (unsigned efc : efcs) {
            hnswlib::InnerProductSpace  space(dims);
            hnswlib::HierarchicalNSW<float>  *alg;

            alg = new hnswlib::HierarchicalNSW<float>(&space, nb, m, efc,
                                                      100);

            t0 = ann_now_s();
            for (i = 0; i < nb; i++) {
                alg->addPoint(&base[i * dims], (hnswlib::labeltype) i);
            }
            build_s = ann_now_s() - t0;

            /* the memory: level 0 and data, then the upper levels' lists */
            bytes = (double) alg->cur_element_count
                    * (double) alg->size_data_per_element_;
            for (i = 0; i < alg->cur_element_count; i++) {
                bytes += (double) alg->element_levels_[i]
                         * (double) alg->size_links_per_element_;
            }

            printf("# hnswlib M %u efc %u: build_s %.2f, memory formula "
                   "%.0f bytes a creator\n", m, efc, build_s,
                   bytes / (double) nb);

            if (save) {
                alg->saveIndex(path);
                bytes = ann_file_size(path.c_str());
                (void) unlink(path.c_str());
                printf("# hnswlib M %u efc %u: saveIndex %.0f bytes a "
                       "creator\n", m, efc, bytes / (double) nb);
            }

            fflush(stdout);

            for (int q = 0; q < 2; q++) {
                ann_qset_t  *qs = &qsets[q];

                lat = (double *) ann_xmalloc(qs->n * sizeof(double));

                for (unsigned ef : efs) {
                    alg->setEf(ef);

                    for (i = 0; i < warmup && i < qs->n; i++) {
                        (void) alg->searchKnn(&qs->v[i * dims], ANN_K);
                    }

                    found = 0;

                    for (i = 0; i < qs->n; i++) {
                        t0 = ann_now_s();
                        auto r = alg->searchKnn(&qs->v[i * dims], ANN_K);
                        lat[i] = ann_now_s() - t0;

                        /* a max-heap of distances: the worst first */
                        n = r.size();
                        for (j = n; j-- > 0; ) {
                            ids[j] = (int64_t) r.top().second;
                            r.pop();
                        }

                        found += ann_found(qs, i, ids, n);
                    }

                    (void) snprintf(params, sizeof(params),
                                    "M=%u,efc=%u,ef=%u", m, efc, ef);
                    ann_report("hnswlib", "hnsw", params, nb, qs, build_s,
                               bytes / (double) nb, lat, found);
                }

                free(lat);
            }

            delete alg;
        }
    }

    free(base);
    ann_free_qset(&qsets[0]);
    ann_free_qset(&qsets[1]);

    return 0;
}

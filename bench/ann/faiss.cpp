/*
 * faiss 1.7.3 (Debian's libfaiss-dev: a static library built for plain
 * x86-64, no AVX2 kernels) on the data of bench/ann/gen.c, one OpenMP
 * thread (omp_set_num_threads(1); run.sh also sets OMP_NUM_THREADS and
 * OPENBLAS_NUM_THREADS to 1), inner product (the vectors are unit
 * length: cosine):
 *
 *   IndexHNSWFlat, M 32 (-m), efConstruction 100 (-c; faiss's default
 *   is 40), then an efSearch sweep;
 *   IndexIVFFlat, nlist round(4 sqrt(N)) (-l), a flat inner-product
 *   quantizer, k-means on at most 100 nlist of the base vectors (the
 *   first ones: the base is in random order), then an nprobe sweep.
 *
 * One query at a time (search with n 1), k 10.  bytes_per_creator: the
 * size of write_index's file / N.
 *
 *   faiss [-m 32] [-c 100] [-l nlist] [-w warmup] [-x hnsw|ivf] dir
 *
 * -x: skip that index.  Prints "# ..." lines and one TSV line a
 * configuration (ann_io.h).
 */

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/index_io.h>
#include <omp.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

#include "ann_io.h"


static uint32_t  dims;


/* one query at a time over a query set; the index's parameters set */
static void
sweep(faiss::Index *index, const ann_qset_t *qs, const char *method,
    const char *params, size_t nb, double build_s, double bytes,
    unsigned warmup)
{
    size_t              i, found;
    double             *lat, t0;
    float               d[ANN_K];
    int64_t             ids[ANN_K];
    faiss::Index::idx_t lab[ANN_K];

    lat = (double *) ann_xmalloc(qs->n * sizeof(double));

    for (i = 0; i < warmup && i < qs->n; i++) {
        index->search(1, &qs->v[i * dims], ANN_K, d, lab);
    }

    found = 0;

    for (i = 0; i < qs->n; i++) {
        t0 = ann_now_s();
        index->search(1, &qs->v[i * dims], ANN_K, d, lab);
        lat[i] = ann_now_s() - t0;

        for (int j = 0; j < ANN_K; j++) {
            ids[j] = (int64_t) lab[j];      /* -1 when fewer */
        }

        found += ann_found(qs, i, ids, ANN_K);
    }

    ann_report("faiss", method, params, nb, qs, build_s, bytes, lat, found);
    free(lat);
}


static double
index_bytes(const faiss::Index *index, const std::string &path)
{
    double  bytes;

    faiss::write_index(index, path.c_str());
    bytes = ann_file_size(path.c_str());
    (void) unlink(path.c_str());

    return bytes;
}


int
main(int argc, char **argv)
{
    int                    c;
    char                   params[96];
    float                 *base;
    double                 t0, t1, build_s, bytes;
    size_t                 ntrain;
    uint32_t               nb;
    unsigned               m, efc, nlist, warmup;
    bool                   do_hnsw, do_ivf;
    ann_qset_t             qsets[2];
    std::string            dir, path;
    static const unsigned  efs[] = { 16, 24, 32, 48, 64, 96, 128,
                                     192, 256, 384 };
    static const unsigned  nprobes[] = { 4, 8, 16, 32, 64, 128, 256 };

    m = 32;
    efc = 100;
    nlist = 0;
    warmup = 100;
    do_hnsw = true;
    do_ivf = true;

    while ((c = getopt(argc, argv, "m:c:l:w:x:")) != -1) {
        switch (c) {
        case 'm': m = (unsigned) strtoul(optarg, NULL, 10); break;
        case 'c': efc = (unsigned) strtoul(optarg, NULL, 10); break;
        case 'l': nlist = (unsigned) strtoul(optarg, NULL, 10); break;
        case 'w': warmup = (unsigned) strtoul(optarg, NULL, 10); break;
        case 'x':
            do_hnsw = do_hnsw && strcmp(optarg, "hnsw") != 0;
            do_ivf = do_ivf && strcmp(optarg, "ivf") != 0;
            break;
        default: optind = argc + 1; break;
        }
    }

    if (optind != argc - 1) {
        fprintf(stderr, "usage: faiss [-m M] [-c efc] [-l nlist] "
                "[-w warmup] [-x hnsw|ivf] dir\n");
        return 2;
    }

    omp_set_num_threads(1);

    dir = argv[optind];
    dims = 0;
    base = ann_load_vecs(dir.c_str(), "base.f32", &nb, &dims);
    ann_load_qset(dir.c_str(), "brief", dims, &qsets[0]);
    ann_load_qset(dir.c_str(), "self", dims, &qsets[1]);
    path = dir + "/faiss.idx";

    if (nlist == 0) {
        nlist = (unsigned) std::lround(4.0 * std::sqrt((double) nb));
    }

    printf("# faiss 1.7.3 (Debian libfaiss-dev, generic x86-64 build), "
           "omp threads %d\n", omp_get_max_threads());

    if (do_hnsw) {
        faiss::IndexHNSWFlat  index(dims, m, faiss::METRIC_INNER_PRODUCT);

        index.hnsw.efConstruction = efc;

        t0 = ann_now_s();
        index.add(nb, base);
        build_s = ann_now_s() - t0;
        bytes = index_bytes(&index, path);

        printf("# faiss HNSWFlat M %u efc %u: build_s %.2f, write_index "
               "%.0f bytes a creator\n", m, efc, build_s,
               bytes / (double) nb);
        fflush(stdout);

        for (int q = 0; q < 2; q++) {
            for (unsigned ef : efs) {
                index.hnsw.efSearch = ef;
                (void) snprintf(params, sizeof(params), "M=%u,efc=%u,ef=%u",
                                m, efc, ef);
                sweep(&index, &qsets[q], "hnsw", params, nb, build_s,
                      bytes / (double) nb, warmup);
            }
        }
    }

    if (do_ivf) {
        faiss::IndexFlatIP    quantizer(dims);
        faiss::IndexIVFFlat   index(&quantizer, dims, nlist,
                                    faiss::METRIC_INNER_PRODUCT);

        ntrain = (size_t) nlist * 100;
        ntrain = ntrain < nb ? ntrain : nb;
        index.cp.max_points_per_centroid = 256;

        t0 = ann_now_s();
        index.train(ntrain, base);
        t1 = ann_now_s();
        index.add(nb, base);
        build_s = ann_now_s() - t0;
        bytes = index_bytes(&index, path);

        printf("# faiss IVFFlat nlist %u: train_s %.2f on %zu vectors "
               "(%d iterations), add_s %.2f, write_index %.0f bytes a "
               "creator\n", nlist, t1 - t0, ntrain, index.cp.niter,
               build_s - (t1 - t0), bytes / (double) nb);
        fflush(stdout);

        for (int q = 0; q < 2; q++) {
            for (unsigned np : nprobes) {
                index.nprobe = np;
                (void) snprintf(params, sizeof(params), "nlist=%u,nprobe=%u",
                                nlist, np);
                sweep(&index, &qsets[q], "ivf-flat", params, nb, build_s,
                      bytes / (double) nb, warmup);
            }
        }
    }

    free(base);
    ann_free_qset(&qsets[0]);
    ann_free_qset(&qsets[1]);

    return 0;
}

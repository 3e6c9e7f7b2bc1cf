/*
 * libFuzzer target: NDJSON ingest, mt_ingest(MT_INGEST_NDJSON), into an
 * LMDB store in a temporary directory: on /dev/shm when there is one, as
 * every batch commits and a commit syncs.  The store is made anew every
 * FUZZ_RESET inputs so that it never fills up; a crash that needs what an
 * earlier input stored is rare, and each line can hold the same creator
 * twice.  The counts of the result must add up.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "json.h"
#include "store.h"


#define FUZZ_RESET     4096
#define FUZZ_MAP_SIZE  ((size_t) 256 << 20)


static char         fuzz_dir[64];
static mt_store_t  *fuzz_store;
static unsigned     fuzz_runs;


static void
fuzz_rm_store(void)
{
    char  path[128];

    if (fuzz_store != NULL) {
        fuzz_store->ops->close(fuzz_store);
        fuzz_store = NULL;
    }

    if (fuzz_dir[0] == '\0') {
        return;
    }

    /* LMDB's two files, and the directory */
    snprintf(path, sizeof(path), "%s/data.mdb", fuzz_dir);
    (void) unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", fuzz_dir);
    (void) unlink(path);

    if (rmdir(fuzz_dir) != 0) {
        fprintf(stderr, "fuzz_ingest: %s left behind\n", fuzz_dir);
    }

    fuzz_dir[0] = '\0';
}


static void
fuzz_new_store(void)
{
    char  err[256];

    fuzz_rm_store();

    snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/mt-fuzz-ingest-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");

    if (mkdtemp(fuzz_dir) == NULL) {
        perror("fuzz_ingest: mkdtemp");
        abort();
    }

    fuzz_store = mt_store_lmdb_open(fuzz_dir, FUZZ_MAP_SIZE, err,
                                    sizeof(err));
    if (fuzz_store == NULL) {
        fprintf(stderr, "fuzz_ingest: store %s: %s\n", fuzz_dir, err);
        abort();
    }
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    fuzz_new_store();

    if (atexit(fuzz_rm_store) != 0) {
        abort();
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    mt_json_limits_t    limits;
    mt_ingest_result_t  res;

    if (++fuzz_runs % FUZZ_RESET == 0) {
        fuzz_new_store();
    }

    /* the module's limits for an ingest body */
    memset(&limits, 0, sizeof(limits));
    limits.max_size = (size_t) 64 << 20;
    limits.max_depth = 32;
    limits.max_string = (size_t) 64 << 20;

    rc = mt_ingest(fuzz_store, (const char *) data, size, MT_INGEST_NDJSON,
                   &limits, 1709210096789LL, &res);

    if (rc == 0
        && res.count != res.inserted + res.updated + res.unchanged)
    {
        abort();
    }

    mt_ingest_result_free(&res);

    return 0;
}

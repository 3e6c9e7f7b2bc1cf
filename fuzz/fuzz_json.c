/*
 * libFuzzer target: mt_json_parse() with the module's limits, then the
 * hash and the writer.  Beyond "no crash, no leak": a parsed document
 * written back is valid UTF-8, parses again, hashes the same and writes
 * the same bytes a second time (the writer's output is a fixed point).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"


#define FUZZ_MAX_DEPTH  32          /* the module's default json depth */


static char *
fuzz_write(const mt_json_t *v, size_t *len)
{
    mt_jw_t  w;

    mt_jw_init(&w);
    mt_jw_value(&w, v);

    return mt_jw_take(&w, len);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char              errbuf[128], *out, *out2;
    size_t            len, len2;
    uint64_t          h;
    mt_json_err_t     err;
    mt_json_doc_t    *doc, *doc2;
    mt_json_limits_t  limits;

    memset(&limits, 0, sizeof(limits));
    limits.max_size = 1 << 20;
    limits.max_depth = FUZZ_MAX_DEPTH;
    limits.max_string = 65536;
    limits.max_members = 256;
    limits.max_values = 4096;

    errbuf[0] = '\0';
    err = MT_JSON_OK;

    doc = mt_json_parse((const char *) data, size, &limits, &err, errbuf,
                        sizeof(errbuf));

    if (doc == NULL) {
        /* every failure says what and why */
        if (err == MT_JSON_OK || err > MT_JSON_ENOMEM || errbuf[0] == '\0') {
            abort();
        }

        return 0;
    }

    if (err != MT_JSON_OK || mt_json_root(doc) == NULL) {
        abort();
    }

    h = mt_json_hash(mt_json_root(doc));

    /* nesting within the limit always fits the writer's 64 levels */
    out = fuzz_write(mt_json_root(doc), &len);
    if (out == NULL || !mt_utf8_valid(out, len) || strlen(out) != len) {
        abort();
    }

    doc2 = mt_json_parse(out, len, NULL, &err, NULL, 0);
    if (doc2 == NULL || mt_json_hash(mt_json_root(doc2)) != h) {
        abort();
    }

    out2 = fuzz_write(mt_json_root(doc2), &len2);
    if (out2 == NULL || len2 != len || memcmp(out, out2, len) != 0) {
        abort();
    }

    free(out);
    free(out2);
    mt_json_free(doc2);
    mt_json_free(doc);

    return 0;
}

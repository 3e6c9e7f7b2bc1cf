/*
 * libFuzzer target: a JSON body's filter through mt_filter_compile(),
 * then mt_filter_match() against a few fixed creators.  A filter that
 * compiles also compiles wrapped in a one-clause $and and $or, and
 * matches the same creators each way.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "json.h"
#include "model.h"


static const char  *fuzz_creators[] = {
    "{}",
    "{\"uniqueId\":\"a\",\"region\":\"US\",\"followerCount\":5000,"
    "\"verified\":true,\"analysis\":{\"primaryNiches\":[\"Tech\","
    "\"Gaming\"],\"secondaryNiches\":[\"Personal Finance\"],"
    "\"apparentValues\":[\"Honesty\",\"Community\"]}}",
    "{\"uniqueId\":\"b\",\"region\":\"UK\",\"followerCount\":120,"
    "\"verified\":false,\"analysis\":{\"primaryNiches\":[],"
    "\"secondaryNiches\":[\"Gaming\",\"\"],\"apparentValues\":[]}}",
    "{\"uniqueId\":\"c\",\"region\":5,\"followerCount\":-1e300,"
    "\"verified\":\"yes\",\"analysis\":{\"primaryNiches\":\"Tech\"}}",
    "{\"region\":\"EU\",\"followerCount\":9007199254740993,"
    "\"analysis\":{\"apparentValues\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\","
    "\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\",\"r\","
    "\"s\",\"t\",\"u\",\"v\",\"w\",\"x\",\"y\",\"z\",\"A\",\"B\",\"C\",\"D\","
    "\"E\",\"F\",\"G\",\"H\",\"I\",\"J\",\"K\",\"L\",\"M\",\"N\",\"O\",\"P\","
    "\"Q\",\"R\",\"S\",\"T\",\"U\",\"V\",\"W\",\"X\",\"Y\",\"Z\"]}}"
};

#define FUZZ_NMETA  (sizeof(fuzz_creators) / sizeof(fuzz_creators[0]))

static mt_meta_t  fuzz_meta[FUZZ_NMETA];


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t          i;
    mt_json_err_t   err;
    mt_json_doc_t  *doc;

    (void) argc;
    (void) argv;

    for (i = 0; i < FUZZ_NMETA; i++) {
        doc = mt_json_parse(fuzz_creators[i], strlen(fuzz_creators[i]),
                            NULL, &err, NULL, 0);
        if (doc == NULL) {
            fprintf(stderr, "fuzz_filter: creator %zu does not parse\n", i);
            abort();
        }

        mt_meta_from_creator(mt_json_root(doc), &fuzz_meta[i]);
        mt_json_free(doc);
    }

    return 0;
}


/* the matches of f as a bit mask, -1 when it does not compile */
static int
fuzz_matches(const char *text, size_t len, int *compiled)
{
    int                mask, r;
    size_t             i;
    mt_errs_t          errs;
    mt_filter_t       *f;
    mt_json_err_t      err;
    mt_json_doc_t     *doc;
    mt_json_limits_t   limits;

    *compiled = 0;

    /* the module's limits for a search body */
    memset(&limits, 0, sizeof(limits));
    limits.max_size = 1 << 20;
    limits.max_depth = 64;
    limits.max_string = 65536;
    limits.max_members = 4096;
    limits.max_values = 16384;

    doc = mt_json_parse(text, len, &limits, &err, NULL, 0);
    if (doc == NULL) {
        return -1;
    }

    mt_errs_init(&errs);
    f = mt_filter_compile(mt_json_root(doc), &errs);

    /* compiled, or failed with a reason, or out of memory */
    if ((f != NULL && errs.n != 0) || (f == NULL && errs.n == 0 && !errs.oom))
    {
        abort();
    }

    mt_errs_free(&errs);
    mt_json_free(doc);

    if (f == NULL) {
        return -1;
    }

    *compiled = 1;
    mask = 0;

    for (i = 0; i < FUZZ_NMETA; i++) {
        r = mt_filter_match(f, &fuzz_meta[i]);
        if (r != 0 && r != 1) {
            abort();
        }

        mask |= r << i;
    }

    mt_filter_free(f);

    return mask;
}


static void
fuzz_wrapped(const uint8_t *data, size_t size, const char *op, int want)
{
    int     got, compiled;
    char   *text;
    size_t  n, len;

    len = strlen(op) + 7 + size;

    text = malloc(len + 1);
    if (text == NULL) {
        return;
    }

    /* {"$and":[ + filter + ]} */
    n = (size_t) snprintf(text, len + 1, "{\"%s\":[", op);
    memcpy(text + n, data, size);
    memcpy(text + n + size, "]}", sizeof("]}"));

    got = fuzz_matches(text, len, &compiled);

    /* one level deeper may meet a limit; if not, the same answers */
    if (compiled && got != want) {
        abort();
    }

    free(text);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int  mask, compiled;

    mask = fuzz_matches((const char *) data, size, &compiled);

    if (compiled) {
        fuzz_wrapped(data, size, "$and", mask);
        fuzz_wrapped(data, size, "$or", mask);
    }

    return 0;
}

/*
 * What every store backend shares.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "store.h"


#define MT_STORE_ERROR_LEN  256

static _Thread_local char  mt_store_errbuf[MT_STORE_ERROR_LEN];


const char *
mt_store_error(const mt_store_t *s)
{
    (void) s;

    return mt_store_errbuf;
}


void
mt_store_set_error(const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    (void) vsnprintf(mt_store_errbuf, sizeof(mt_store_errbuf), fmt, args);
    va_end(args);
}


void
mt_texts_free(mt_text_t *texts, size_t n)
{
    size_t  i;

    if (texts == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        free(texts[i].data);
    }

    free(texts);
}

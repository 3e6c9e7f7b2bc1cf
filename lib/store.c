/*
 * What every store backend shares.
 */

#include <stdlib.h>

#include "store.h"


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

/* Helpers shared by the unit tests (tests/unit/unit.c). */

#ifndef UNIT_H
#define UNIT_H

#include <stddef.h>

#include "store.h"

/* a store in a fresh temporary directory, for cmocka setup/teardown */
typedef struct {
    char                    dir[64];
    mt_store_t             *s;
} fx_t;

void unit_rm_rf(const char *path);
char *unit_read_file(const char *path, size_t *len);
mt_store_t *unit_open_store(const char *dir, size_t size);
fx_t *unit_fx_new(const char *name, size_t size);
int unit_fx_teardown(void **state);

#endif /* UNIT_H */

/* Helpers shared by the unit tests (tests/unit/unit.c). */

#ifndef UNIT_H
#define UNIT_H

#include <stddef.h>

#include "store.h"

void unit_rm_rf(const char *path);
mt_store_t *unit_open_store(const char *dir, size_t size);

#endif /* UNIT_H */

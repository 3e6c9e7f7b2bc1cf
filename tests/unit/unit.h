/* Helpers shared by the unit tests (tests/unit/unit.c). */

#ifndef UNIT_H
#define UNIT_H

#include <stddef.h>

#include <stdint.h>

#include "filter.h"
#include "json.h"
#include "model.h"
#include "store.h"
#include "vindex.h"

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

/* xorshift64*, a roughly normal unit vector, a compiled filter */
uint64_t unit_rnd(uint64_t *s);
void unit_vec(float *v, unsigned dims, uint64_t *s);
mt_filter_t *unit_compile(const char *json, mt_json_doc_t **doc);

/* the vector index's: a file in a fresh directory, creator i's id */
typedef struct {
    char                    dir[64];
    char                    path[96];
} vfx_t;

int unit_vfx_setup(void **state);
int unit_vfx_teardown(void **state);
void unit_vmeta(size_t i, mt_meta_t *m);
void unit_vid(size_t i, char *id, size_t *len);
mt_vindex_t *unit_vopen_r(const char *path);
double unit_vrecall(mt_vindex_t *r, const float *qs, size_t nq,
    unsigned dims, int mode, unsigned param, const mt_filter_t *f);

#endif /* UNIT_H */

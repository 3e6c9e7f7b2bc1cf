/*
 * What several unit tests need: a temporary store directory, removed
 * again, and a store opened on it or the test stops.
 */

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"


void
unit_rm_rf(const char *path)
{
    DIR            *d;
    char            sub[1024];
    struct stat     st;
    struct dirent  *de;

    if (lstat(path, &st) != 0) {
        return;
    }

    if (S_ISDIR(st.st_mode)) {
        d = opendir(path);

        if (d != NULL) {
            while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0
                    || strcmp(de->d_name, "..") == 0)
                {
                    continue;
                }

                (void) snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
                unit_rm_rf(sub);
            }

            (void) closedir(d);
        }

        (void) rmdir(path);

    } else {
        (void) unlink(path);
    }
}


mt_store_t *
unit_open_store(const char *dir, size_t size)
{
    char         err[256];
    mt_store_t  *s;

    s = mt_store_lmdb_open(dir, size, err, sizeof(err));
    if (s == NULL) {
        /* not fail(): the analyzer does not know that it does not return */
        print_message("open %s: %s\n", dir, err);
        abort();
    }

    return s;
}


/* name is a short tag for the directory: /tmp/mt_<name>_XXXXXX */

fx_t *
unit_fx_new(const char *name, size_t size)
{
    fx_t  *fx;

    fx = calloc(1, sizeof(fx_t));
    assert_non_null(fx);

    (void) snprintf(fx->dir, sizeof(fx->dir), "/tmp/mt_%s_XXXXXX", name);
    assert_non_null(mkdtemp(fx->dir));

    fx->s = unit_open_store(fx->dir, size);

    return fx;
}


int
unit_fx_teardown(void **state)
{
    fx_t  *fx = *state;

    if (fx->s != NULL) {
        fx->s->ops->close(fx->s);
    }

    unit_rm_rf(fx->dir);
    free(fx);

    return 0;
}


/* a whole file, NUL-terminated; the test stops when it cannot be read */

char *
unit_read_file(const char *path, size_t *len)
{
    FILE   *f;
    char   *buf;
    long    size;

    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size > 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);

    buf = malloc((size_t) size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t) size, f), (size_t) size);
    buf[size] = '\0';
    (void) fclose(f);

    *len = (size_t) size;
    return buf;
}

/*
 * The API key file's lines (see apikey.h).
 */

#include <string.h>

#include "apikey.h"


static int
mt_apikey_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}


static int
mt_apikey_scopes(const char *p, size_t len, unsigned *scopes)
{
    size_t       n;
    const char  *end, *comma;

    *scopes = 0;
    end = p + len;

    for ( ;; ) {
        comma = memchr(p, ',', (size_t) (end - p));
        n = (size_t) ((comma ? comma : end) - p);

        if (n == 4 && memcmp(p, "read", 4) == 0) {
            *scopes |= MT_APIKEY_READ;

        } else if (n == 5 && memcmp(p, "write", 5) == 0) {
            *scopes |= MT_APIKEY_WRITE;

        } else {
            return -1;
        }

        if (comma == NULL) {
            return 0;
        }

        p = comma + 1;
    }
}


int
mt_apikey_parse(const char *line, size_t len, mt_apikey_t *key,
    const char **err)
{
    size_t       i;
    const char  *p, *end, *c1, *c2, *hash;

    p = line;
    end = line + len;

    /* a comment runs to the end of the line; no field holds a "#" */

    c1 = memchr(p, '#', len);
    if (c1) {
        end = c1;
    }

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (end > p && (end[-1] == ' ' || end[-1] == '\t'
                       || end[-1] == '\r'))
    {
        end--;
    }

    if (p == end) {
        return 0;
    }

    c1 = memchr(p, ':', (size_t) (end - p));
    c2 = c1 ? memchr(c1 + 1, ':', (size_t) (end - c1 - 1)) : NULL;

    if (c2 == NULL || memchr(c2 + 1, ':', (size_t) (end - c2 - 1))) {
        *err = "expected name:scopes:sha256hex";
        return -1;
    }

    if (c1 == p || (size_t) (c1 - p) > MT_APIKEY_NAME_MAX) {
        *err = "the name must be 1 to 64 characters";
        return -1;
    }

    for (i = 0; i < (size_t) (c1 - p); i++) {
        if (!mt_apikey_name_char(p[i])) {
            *err = "the name may hold only A-Z, a-z, 0-9, \".\", \"_\" "
                   "and \"-\"";
            return -1;
        }
    }

    if (mt_apikey_scopes(c1 + 1, (size_t) (c2 - c1 - 1), &key->scopes)
        != 0)
    {
        *err = "scopes must be a comma list of \"read\" and \"write\"";
        return -1;
    }

    hash = c2 + 1;

    if (mt_sha256_from_hex(hash, (size_t) (end - hash), key->hash) != 0) {
        *err = "the hash must be 64 hex digits (the SHA-256 of the key)";
        return -1;
    }

    key->name = p;
    key->name_len = (size_t) (c1 - p);

    return 1;
}

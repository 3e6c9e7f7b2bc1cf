/*
 * The API key file (matcher_api_keys): one key a line, in the htpasswd
 * spirit, so the file holds no key:
 *
 *     name:scopes:sha256hex     # scopes a comma list: read, write
 *
 * "#" starts a comment; blank lines are skipped.
 */

#ifndef MT_APIKEY_H
#define MT_APIKEY_H

#include <stddef.h>

#include "sha256.h"


#define MT_APIKEY_READ       0x01
#define MT_APIKEY_WRITE      0x02

#define MT_APIKEY_NAME_MAX   64

typedef struct {
    const char             *name;       /* into the line, not NUL-ended */
    size_t                  name_len;
    unsigned                scopes;     /* MT_APIKEY_* */
    unsigned char           hash[MT_SHA256_LEN];
} mt_apikey_t;

/*
 * One line, without its newline: 1 and *key set, 0 for a blank or
 * comment line, -1 and *err for anything else.  Names are 1 to 64 of
 * [A-Za-z0-9._-]: they go into logs, limit_req keys and metrics.
 */
int mt_apikey_parse(const char *line, size_t len, mt_apikey_t *key,
    const char **err);

#endif /* MT_APIKEY_H */

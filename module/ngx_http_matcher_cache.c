
/*
 * The shared cache: "matcher_cache_zone name:size" is one shared memory
 * zone that every worker reads and writes, holding values (embeddings,
 * match results) keyed by kind and key.  An rbtree on a 64-bit hash finds
 * an entry, a queue keeps the entries in least recently used order for
 * eviction, and an entry expires matcher_cache_ttl after it was stored.
 *
 * The cache is an optimisation, never a reason to fail a request: when a
 * value does not fit it is not stored, and the caller never learns.
 *
 * Counters: hits, misses and expired count lookups; evictions count
 * entries dropped to make room; bypasses count values that could not be
 * stored (too large, or no room after evicting).  A lookup in a location
 * with "matcher_cache off" reports BYPASS in $matcher_cache_status but is
 * not counted: the zone's numbers describe the zone, not the locations
 * that chose not to use it.
 */


#include "ngx_http_matcher_module.h"
#include "util.h"


/*
 * Bumped whenever the shared structures below change: a reload whose
 * module has another layout must not reuse the zone.
 */
#define NGX_HTTP_MATCHER_CACHE_LAYOUT     1

/* stale entries dropped from the LRU tail before each store */
#define NGX_HTTP_MATCHER_CACHE_EXPIRE     2

/* a store gives up after evicting this many entries */
#define NGX_HTTP_MATCHER_CACHE_EVICT      16


typedef struct {
    ngx_rbtree_node_t             node;       /* node.key: the hash */
    ngx_queue_t                   queue;      /* most recently used first */
    time_t                        expires;
    uint32_t                      key_len;
    uint32_t                      value_len;
    u_char                        kind;
    u_char                        data[1];    /* the key, then the value */
} ngx_http_matcher_cache_node_t;


typedef struct {
    ngx_uint_t                    layout;     /* first: read by any layout */
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   lru;
    ngx_uint_t                    entries;
    ngx_atomic_t                  hits;
    ngx_atomic_t                  misses;
    ngx_atomic_t                  expired;
    ngx_atomic_t                  evictions;
    ngx_atomic_t                  bypasses;
} ngx_http_matcher_cache_sh_t;


/* per cycle, in the configuration pool: shm_zone->data */

typedef struct {
    ngx_http_matcher_cache_sh_t  *sh;
    ngx_slab_pool_t              *shpool;
} ngx_http_matcher_cache_ctx_t;


static ngx_int_t ngx_http_matcher_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_matcher_cache_check_layout(
    ngx_shm_zone_t *shm_zone, ngx_http_matcher_cache_sh_t *sh);
static void ngx_http_matcher_cache_rbtree_insert_value(
    ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel);
static ngx_http_matcher_cache_ctx_t *ngx_http_matcher_cache_ctx(
    ngx_http_request_t *r);
static ngx_rbtree_key_t ngx_http_matcher_cache_hash(ngx_uint_t kind,
    ngx_str_t *key);
static ngx_http_matcher_cache_node_t *ngx_http_matcher_cache_lookup(
    ngx_http_matcher_cache_sh_t *sh, ngx_rbtree_key_t hash, ngx_uint_t kind,
    ngx_str_t *key);
static void ngx_http_matcher_cache_delete(ngx_http_matcher_cache_ctx_t *cctx,
    ngx_http_matcher_cache_node_t *cn);
static void ngx_http_matcher_cache_expire(ngx_http_matcher_cache_ctx_t *cctx,
    time_t now, ngx_uint_t n);


static ngx_str_t  ngx_http_matcher_cache_status_names[] = {
    ngx_null_string,                   /* NGX_HTTP_MATCHER_CACHE_NONE */
    ngx_string("BYPASS"),
    ngx_string("MISS"),
    ngx_string("HIT"),
    ngx_string("EXPIRED")
};


/* matcher_cache_zone <name>:<size> */

char *
ngx_http_matcher_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_matcher_main_conf_t  *mmcf = conf;

    u_char                        *p, *last;
    ssize_t                        size, min;
    ngx_str_t                     *value, name, s;
    ngx_shm_zone_t                *shm_zone;
    ngx_http_matcher_cache_ctx_t  *cctx;

    if (mmcf->cache_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;
    last = value[1].data + value[1].len;

    p = ngx_strlchr(value[1].data, last, ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\" in \"%V\": expected "
                           "\"name:size\"", &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = last - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\" in \"%V\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    /* the slab allocator needs a few pages for itself */

    min = (ssize_t) (8 * ngx_pagesize);

    if (size < min) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V \"%V\" is too small: the minimum is %uzk",
                           &cmd->name, &value[1], (size_t) min / 1024);
        return NGX_CONF_ERROR;
    }

    cctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_matcher_cache_ctx_t));
    if (cctx == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_matcher_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" in \"%V\" is already in use",
                           &name, &cmd->name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_matcher_cache_init_zone;
    shm_zone->data = cctx;

    mmcf->cache_zone = shm_zone;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_matcher_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_matcher_cache_ctx_t  *octx = data;

    size_t                         len;
    ngx_http_matcher_cache_ctx_t  *cctx;

    cctx = shm_zone->data;

    if (octx) {

        /*
         * A reload kept the zone (same name, size and module).  The old
         * workers still use it, so it can only be taken over as it is.
         */

        if (ngx_http_matcher_cache_check_layout(shm_zone, octx->sh)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        cctx->sh = octx->sh;
        cctx->shpool = octx->shpool;

        return NGX_OK;
    }

    cctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cctx->sh = cctx->shpool->data;

        return ngx_http_matcher_cache_check_layout(shm_zone, cctx->sh);
    }

    cctx->sh = ngx_slab_calloc(cctx->shpool,
                               sizeof(ngx_http_matcher_cache_sh_t));
    if (cctx->sh == NULL) {
        return NGX_ERROR;
    }

    cctx->shpool->data = cctx->sh;
    cctx->sh->layout = NGX_HTTP_MATCHER_CACHE_LAYOUT;

    ngx_rbtree_init(&cctx->sh->rbtree, &cctx->sh->sentinel,
                    ngx_http_matcher_cache_rbtree_insert_value);

    ngx_queue_init(&cctx->sh->lru);

    len = sizeof(" in matcher cache zone \"\"") + shm_zone->shm.name.len;

    cctx->shpool->log_ctx = ngx_slab_alloc(cctx->shpool, len);
    if (cctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cctx->shpool->log_ctx, " in matcher cache zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is routine for a cache: the LRU makes room, no alerts */

    cctx->shpool->log_nomem = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_matcher_cache_check_layout(ngx_shm_zone_t *shm_zone,
    ngx_http_matcher_cache_sh_t *sh)
{
    if (sh == NULL || sh->layout != NGX_HTTP_MATCHER_CACHE_LAYOUT) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "matcher cache zone \"%V\" was made by a module "
                      "with another layout (%ui, this one is %d): "
                      "rename the zone, change its size or restart nginx",
                      &shm_zone->shm.name, sh ? sh->layout : 0,
                      NGX_HTTP_MATCHER_CACHE_LAYOUT);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* equal hashes: ordered by kind, then by the whole key */

static void
ngx_http_matcher_cache_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_int_t                       rc;
    ngx_rbtree_node_t             **p;
    ngx_http_matcher_cache_node_t  *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            cn = (ngx_http_matcher_cache_node_t *) node;
            cnt = (ngx_http_matcher_cache_node_t *) temp;

            rc = (ngx_int_t) cn->kind - (ngx_int_t) cnt->kind;

            if (rc == 0) {
                rc = ngx_memn2cmp(cn->data, cnt->data, cn->key_len,
                                  cnt->key_len);
            }

            p = (rc < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* NULL: no zone, or "matcher_cache off" in this location */

static ngx_http_matcher_cache_ctx_t *
ngx_http_matcher_cache_ctx(ngx_http_request_t *r)
{
    ngx_http_matcher_loc_conf_t   *mlcf;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_matcher_module);

    if (mmcf->cache_zone == NULL || !mlcf->cache) {
        return NULL;
    }

    return mmcf->cache_zone->data;
}


static ngx_rbtree_key_t
ngx_http_matcher_cache_hash(ngx_uint_t kind, ngx_str_t *key)
{
    u_char    k;
    uint64_t  h;

    k = (u_char) kind;

    h = mt_hash64(&k, 1, MT_HASH_SEED);
    h = mt_hash64(key->data, key->len, h);

    /* truncated on 32-bit platforms: ties are resolved by the key anyway */

    return (ngx_rbtree_key_t) mt_hash_mix(h);
}


static ngx_http_matcher_cache_node_t *
ngx_http_matcher_cache_lookup(ngx_http_matcher_cache_sh_t *sh,
    ngx_rbtree_key_t hash, ngx_uint_t kind, ngx_str_t *key)
{
    ngx_int_t                       rc;
    ngx_rbtree_node_t              *node, *sentinel;
    ngx_http_matcher_cache_node_t  *cn;

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        /* hash == node->key */

        cn = (ngx_http_matcher_cache_node_t *) node;

        rc = (ngx_int_t) kind - (ngx_int_t) cn->kind;

        if (rc == 0) {
            rc = ngx_memn2cmp(key->data, cn->data, key->len, cn->key_len);

            if (rc == 0) {
                return cn;
            }
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* the callers hold the zone's mutex */

static void
ngx_http_matcher_cache_delete(ngx_http_matcher_cache_ctx_t *cctx,
    ngx_http_matcher_cache_node_t *cn)
{
    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cctx->sh->rbtree, &cn->node);
    ngx_slab_free_locked(cctx->shpool, cn);

    cctx->sh->entries--;
}


/*
 * The tail is the least recently used entry, and with one ttl for every
 * entry usually the oldest: checking a couple of entries there keeps
 * stale values from holding memory without walking the whole queue.
 */

static void
ngx_http_matcher_cache_expire(ngx_http_matcher_cache_ctx_t *cctx, time_t now,
    ngx_uint_t n)
{
    ngx_queue_t                    *q;
    ngx_http_matcher_cache_node_t  *cn;

    while (n-- && !ngx_queue_empty(&cctx->sh->lru)) {

        q = ngx_queue_last(&cctx->sh->lru);
        cn = ngx_queue_data(q, ngx_http_matcher_cache_node_t, queue);

        if (cn->expires > now) {
            return;
        }

        ngx_http_matcher_cache_delete(cctx, cn);
    }
}


ngx_int_t
ngx_http_matcher_cache_get(ngx_http_request_t *r,
    ngx_http_matcher_ctx_t *ctx, ngx_uint_t kind, ngx_str_t *key,
    ngx_str_t *value)
{
    u_char                         *p;
    size_t                          len;
    time_t                          now;
    ngx_uint_t                      status;
    ngx_rbtree_key_t                hash;
    ngx_http_matcher_cache_ctx_t   *cctx;
    ngx_http_matcher_cache_node_t  *cn;

    cctx = ngx_http_matcher_cache_ctx(r);

    if (cctx == NULL) {
        ctx->cache_status = NGX_HTTP_MATCHER_CACHE_BYPASS;
        return NGX_DECLINED;
    }

    hash = ngx_http_matcher_cache_hash(kind, key);
    now = ngx_time();
    p = NULL;
    len = 0;

    ngx_shmtx_lock(&cctx->shpool->mutex);

    cn = ngx_http_matcher_cache_lookup(cctx->sh, hash, kind, key);

    if (cn == NULL) {
        status = NGX_HTTP_MATCHER_CACHE_MISS;

    } else if (cn->expires <= now) {
        ngx_http_matcher_cache_delete(cctx, cn);
        status = NGX_HTTP_MATCHER_CACHE_EXPIRED;

    } else {

        /*
         * Copied out under the lock: another worker may replace or evict
         * the entry as soon as it is released.  Without the memory for a
         * copy the request goes on as after a miss.
         */

        len = cn->value_len;
        p = ngx_pnalloc(r->pool, len);

        if (p != NULL) {
            ngx_memcpy(p, cn->data + cn->key_len, len);

            ngx_queue_remove(&cn->queue);
            ngx_queue_insert_head(&cctx->sh->lru, &cn->queue);
        }

        status = p ? NGX_HTTP_MATCHER_CACHE_HIT : NGX_HTTP_MATCHER_CACHE_MISS;
    }

    ngx_shmtx_unlock(&cctx->shpool->mutex);

    if (status == NGX_HTTP_MATCHER_CACHE_HIT) {
        (void) ngx_atomic_fetch_add(&cctx->sh->hits, 1);

    } else if (status == NGX_HTTP_MATCHER_CACHE_MISS) {
        (void) ngx_atomic_fetch_add(&cctx->sh->misses, 1);

    } else {
        (void) ngx_atomic_fetch_add(&cctx->sh->expired, 1);
    }

    ctx->cache_status = status;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "matcher cache get kind:%ui key:%uz bytes: %V",
                   kind, key->len,
                   &ngx_http_matcher_cache_status_names[status]);

    if (status != NGX_HTTP_MATCHER_CACHE_HIT) {
        return NGX_DECLINED;
    }

    value->data = p;
    value->len = len;

    return NGX_OK;
}


void
ngx_http_matcher_cache_put(ngx_http_request_t *r, ngx_uint_t kind,
    ngx_str_t *key, ngx_str_t *value)
{
    size_t                          size;
    time_t                          now;
    ngx_uint_t                      evicted;
    ngx_queue_t                    *q;
    ngx_rbtree_key_t                hash;
    ngx_http_matcher_cache_ctx_t   *cctx;
    ngx_http_matcher_cache_node_t  *cn, *old;
    ngx_http_matcher_main_conf_t   *mmcf;

    cctx = ngx_http_matcher_cache_ctx(r);

    if (cctx == NULL) {
        return;
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_matcher_module);

    /* "matcher_cache_ttl 0": every entry would be stale when stored */

    if (mmcf->cache_ttl <= 0) {
        return;
    }

    size = offsetof(ngx_http_matcher_cache_node_t, data)
           + key->len + value->len;

    /*
     * A value this large would push out most of the zone, and the slab
     * allocator may find no run of free pages long enough anyway.
     */

    if (key->len > NGX_MAX_UINT32_VALUE || value->len > NGX_MAX_UINT32_VALUE
        || size > mmcf->cache_zone->shm.size / 8)
    {
        (void) ngx_atomic_fetch_add(&cctx->sh->bypasses, 1);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "matcher cache: %uz bytes are too many to store%s",
                      size, cctx->shpool->log_ctx);
        return;
    }

    hash = ngx_http_matcher_cache_hash(kind, key);
    now = ngx_time();
    evicted = 0;

    ngx_shmtx_lock(&cctx->shpool->mutex);

    old = ngx_http_matcher_cache_lookup(cctx->sh, hash, kind, key);

    if (old) {
        ngx_http_matcher_cache_delete(cctx, old);
    }

    ngx_http_matcher_cache_expire(cctx, now, NGX_HTTP_MATCHER_CACHE_EXPIRE);

    for ( ;; ) {
        cn = ngx_slab_alloc_locked(cctx->shpool, size);

        if (cn != NULL
            || evicted == NGX_HTTP_MATCHER_CACHE_EVICT
            || ngx_queue_empty(&cctx->sh->lru))
        {
            break;
        }

        q = ngx_queue_last(&cctx->sh->lru);
        old = ngx_queue_data(q, ngx_http_matcher_cache_node_t, queue);

        ngx_http_matcher_cache_delete(cctx, old);

        evicted++;
    }

    if (cn != NULL) {
        cn->node.key = hash;
        cn->expires = now + mmcf->cache_ttl;
        cn->key_len = (uint32_t) key->len;
        cn->value_len = (uint32_t) value->len;
        cn->kind = (u_char) kind;

        ngx_memcpy(cn->data, key->data, key->len);
        ngx_memcpy(cn->data + key->len, value->data, value->len);

        ngx_rbtree_insert(&cctx->sh->rbtree, &cn->node);
        ngx_queue_insert_head(&cctx->sh->lru, &cn->queue);

        cctx->sh->entries++;
    }

    ngx_shmtx_unlock(&cctx->shpool->mutex);

    if (evicted) {
        (void) ngx_atomic_fetch_add(&cctx->sh->evictions, evicted);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "matcher cache put kind:%ui size:%uz evicted:%ui",
                   kind, size, evicted);

    if (cn == NULL) {
        (void) ngx_atomic_fetch_add(&cctx->sh->bypasses, 1);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "matcher cache: no room for %uz bytes after "
                      "evicting %ui entries%s",
                      size, evicted, cctx->shpool->log_ctx);
    }
}


ngx_int_t
ngx_http_matcher_cache_stats(ngx_http_matcher_cache_stats_t *st)
{
    ngx_http_matcher_cache_ctx_t  *cctx;
    ngx_http_matcher_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_matcher_module);

    if (mmcf == NULL || mmcf->cache_zone == NULL) {
        return NGX_DECLINED;
    }

    cctx = mmcf->cache_zone->data;

    ngx_shmtx_lock(&cctx->shpool->mutex);

    st->entries = cctx->sh->entries;

    /* whole free pages: room left in partly used slab pages is not seen */

    st->free = (size_t) cctx->shpool->pfree * ngx_pagesize;

    ngx_shmtx_unlock(&cctx->shpool->mutex);

    st->hits = cctx->sh->hits;
    st->misses = cctx->sh->misses;
    st->expired = cctx->sh->expired;
    st->evictions = cctx->sh->evictions;
    st->bypasses = cctx->sh->bypasses;
    st->size = mmcf->cache_zone->shm.size;

    return NGX_OK;
}


/*
 * The status lives in the main request's ctx, as $matcher_error_code's
 * does: a subrequest's log line shows its parent's cache status.
 */

ngx_int_t
ngx_http_matcher_cache_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_matcher_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_matcher_module);

    if (ctx == NULL
        || ctx->cache_status == NGX_HTTP_MATCHER_CACHE_NONE
        || ctx->cache_status > NGX_HTTP_MATCHER_CACHE_EXPIRED)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ngx_http_matcher_cache_status_names[ctx->cache_status].data;
    v->len = ngx_http_matcher_cache_status_names[ctx->cache_status].len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}

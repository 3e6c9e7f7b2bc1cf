/*
 * CSV export (csv.h): one streaming pass of yajl over the JSON reply,
 * no tree.  A tree of a page of 100 creators whose unknown fields are
 * arrays of small numbers would take some 25 times its 6 MB of JSON;
 * the stream holds only the row being read, and skips every subtree
 * that is not on a column's path without looking at it.
 *
 * The pass keeps a stack of frames, one for each open object or array,
 * each with its role: on the way to the rows array (OUTER), the rows
 * array (ROWS), a row (ROW), an object inside a row on a column's path
 * (INROW), an array that is a column's value (LIST), a value written as
 * compact JSON into a cell (CAPTURE), or anything else (SKIP).  A row's
 * cells are gathered as raw text in one buffer, in the order they come;
 * at the row's end they are escaped into the output in column order.
 */

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "csv.h"
#include "util.h"


#define MT_CSV_MAX_DEPTH   128
#define MT_CSV_MAX_ROWS    1000     /* the endpoints send at most 100 */
#define MT_CSV_KEY_MAX     64       /* longer keys name no column */
#define MT_CSV_PATH_MAX    128      /* a column's dotted path */
#define MT_CSV_MAX_COLS    64


typedef enum {
    MT_CSV_SKIP = 0,
    MT_CSV_OUTER,
    MT_CSV_ROWS,
    MT_CSV_ROW,
    MT_CSV_INROW,
    MT_CSV_LIST,
    MT_CSV_CAPTURE
} mt_csv_role_t;


typedef struct {
    mt_csv_role_t           role;
    int                     object;
    size_t                  level;      /* OUTER: keys matched */
    size_t                  path_len;   /* ROW, INROW: the path's bytes */
    size_t                  col;        /* LIST, CAPTURE: the cell's */
    size_t                  items;      /* LIST, CAPTURE: so far */
} mt_csv_frame_t;


typedef struct {
    char                   *data;
    size_t                  len;
    size_t                  cap;
    size_t                  max;        /* 0: none */
    int                     failed;
} mt_csv_buf_t;


typedef struct {
    size_t                  off;
    size_t                  len;
    unsigned                set:1;
    unsigned                number:1;
} mt_csv_cell_t;


typedef struct {
    const char *const      *cols;
    size_t                  ncols;
    const char *const      *rows_path;  /* keys, NULL-terminated */
} mt_csv_spec_t;


typedef struct {
    const mt_csv_spec_t    *spec;
    mt_csv_buf_t            out;
    mt_csv_buf_t            row;        /* this row's cells, raw */
    mt_csv_cell_t          *cells;
    size_t                  col_len[MT_CSV_MAX_COLS];
    size_t                  rows;
    int                     found;      /* the rows array was seen */
    const char             *error;

    mt_csv_frame_t          stack[MT_CSV_MAX_DEPTH];
    size_t                  depth;

    char                    key[MT_CSV_KEY_MAX];
    size_t                  key_len;    /* > MT_CSV_KEY_MAX: too long */

    char                    path[MT_CSV_PATH_MAX];
} mt_csv_conv_t;


/* a match: the result's fields, then the creator summary it carries */
static const char *const  mt_csv_match_cols[] = {
    "creatorId", "matchScore", "reasoning", "framingSuggestion",
    "scoreBreakdown.semanticSimilarity", "scoreBreakdown.nicheAlignment",
    "scoreBreakdown.audienceMatch", "scoreBreakdown.valueAlignment",
    "scoreBreakdown.engagementFit", "scoreBreakdown.toneAlignment",
    "creator.uniqueId", "creator.nickname", "creator.avatarUrl",
    "creator.profileUrl", "creator.region", "creator.followerCount",
    "creator.verified", "creator.bio", "creator.analysis.primaryNiches",
    "creator.analysis.secondaryNiches", "creator.analysis.apparentValues",
    "creator.analysis.engagementStyle.tone"
};

/* the contract's creator, server-managed fields last */
#define MT_CSV_CREATOR_COLS(p)                                               \
    p "uniqueId", p "nickname", p "bio", p "followerCount", p "region",      \
    p "verified", p "avatarUrl", p "profileUrl", p "followingCount",         \
    p "heartCount", p "videoCount", p "topHashtags", p "analysis.summary",   \
    p "analysis.primaryNiches", p "analysis.secondaryNiches",                \
    p "analysis.apparentValues", p "analysis.audienceInterests",             \
    p "analysis.identifiedCauses", p "analysis.socialStances",               \
    p "analysis.engagementStyle.tone",                                       \
    p "analysis.engagementStyle.contentStyle",                               \
    p "analysis.engagementStyle.callsToAction",                              \
    p "analysis.partnershipPotential.alignedOrganizationTypes",              \
    p "analysis.partnershipPotential.contentStrengths",                      \
    p "analysis.partnershipPotential.considerations",                        \
    p "analysis.topHashtags", p "analysis.evidenceNotes", p "createdAt",     \
    p "updatedAt", p "embedding.model", p "embedding.dimensions",            \
    p "embedding.textHash", p "embedding.updatedAt", p "embedding.status"

static const char *const  mt_csv_creator_cols[] = {
    MT_CSV_CREATOR_COLS("")
};

/* a hit: its id and score, the index's metadata, the creator */
static const char *const  mt_csv_search_cols[] = {
    "id", "score", "metadata.region", "metadata.followerCount",
    "metadata.verified", "metadata.primaryNiches",
    "metadata.secondaryNiches", "metadata.apparentValues",
    MT_CSV_CREATOR_COLS("creator.")
};

static const char *const  mt_csv_match_rows[] = { "data", "matches", NULL };
static const char *const  mt_csv_creator_rows[] = { "creators", NULL };
static const char *const  mt_csv_search_rows[] = { "results", NULL };

#define MT_CSV_N(a)  (sizeof(a) / sizeof((a)[0]))

static const mt_csv_spec_t  mt_csv_specs[] = {
    { NULL, 0, NULL },
    { mt_csv_match_cols, MT_CSV_N(mt_csv_match_cols), mt_csv_match_rows },
    { mt_csv_creator_cols, MT_CSV_N(mt_csv_creator_cols),
      mt_csv_creator_rows },
    { mt_csv_search_cols, MT_CSV_N(mt_csv_search_cols), mt_csv_search_rows }
};


_Static_assert(MT_CSV_N(mt_csv_search_cols) <= MT_CSV_MAX_COLS,
               "col_len[] holds every column");


const char *const *
mt_csv_columns(mt_csv_kind_t kind, size_t *n)
{
    if (kind <= MT_CSV_NONE || kind > MT_CSV_SEARCH) {
        *n = 0;
        return NULL;
    }

    *n = mt_csv_specs[kind].ncols;

    return mt_csv_specs[kind].cols;
}


/* buffers */

static int
mt_csv_reserve(mt_csv_buf_t *b, size_t n)
{
    char    *p;
    size_t   cap;

    if (b->failed) {
        return -1;
    }

    if (n <= b->cap - b->len) {
        return 0;
    }

    if (n > SIZE_MAX / 2 - b->len
        || (b->max && b->len + n > b->max))
    {
        b->failed = 1;
        return -1;
    }

    cap = b->cap ? b->cap : 256;

    while (cap - b->len < n) {
        cap *= 2;
    }

    if (b->max && cap > b->max) {
        cap = b->max;
    }

    p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }

    b->data = p;
    b->cap = cap;

    return 0;
}


static void
mt_csv_put(mt_csv_buf_t *b, const void *s, size_t n)
{
    if (n == 0 || mt_csv_reserve(b, n) != 0) {
        return;
    }

    memcpy(b->data + b->len, s, n);
    b->len += n;
}


#define mt_csv_puts(b, lit)  mt_csv_put(b, lit, sizeof(lit) - 1)


/*
 * One cell, escaped (csv.h).  Two passes: whether it needs quotes, then
 * the copy, in runs between the bytes that change.
 */
static void
mt_csv_escape(mt_csv_buf_t *b, const char *s, size_t n, int number)
{
    int                   k, quote;
    size_t                i, run;
    const unsigned char  *p;

    p = (const unsigned char *) s;
    quote = 0;

    for (i = 0; i < n; i++) {
        if (p[i] == '"' || p[i] == ',' || p[i] == ';' || p[i] == '\r'
            || p[i] == '\n')
        {
            quote = 1;
            break;
        }
    }

    if (quote) {
        mt_csv_puts(b, "\"");
    }

    if (!number && n > 0
        && (p[0] == '=' || p[0] == '+' || p[0] == '-' || p[0] == '@'
            || p[0] == '\t' || p[0] == '\r'))
    {
        mt_csv_puts(b, "'");
    }

    for (i = 0, run = 0; i < n; /* void */ ) {

        if (p[i] < 0x80) {
            if (p[i] == '"') {
                mt_csv_put(b, s + run, i + 1 - run);
                mt_csv_puts(b, "\"");
                run = i + 1;
            }

            i++;
            continue;
        }

        k = mt_utf8_seq(p + i, n - i);

        if (k > 0) {
            i += (size_t) k;
            continue;
        }

        mt_csv_put(b, s + run, i - run);
        mt_csv_puts(b, "\xef\xbf\xbd");
        i += (size_t) -k;
        run = i;
    }

    mt_csv_put(b, s + run, n - run);

    if (quote) {
        mt_csv_puts(b, "\"");
    }
}


int
mt_csv_cell(char **buf, size_t *len, size_t *cap, const char *s, size_t n,
    int number)
{
    mt_csv_buf_t  b;

    b.data = *buf;
    b.len = *len;
    b.cap = *cap;
    b.max = 0;
    b.failed = 0;

    mt_csv_escape(&b, s, n, number);

    *buf = b.data;
    *len = b.len;
    *cap = b.cap;

    return b.failed ? -1 : 0;
}


/* the conversion */

static int
mt_csv_fail(mt_csv_conv_t *cv, const char *error)
{
    if (cv->error == NULL) {
        cv->error = error;
    }

    return 0;
}


static void
mt_csv_emit_row(mt_csv_conv_t *cv, int empty)
{
    size_t          i;
    mt_csv_cell_t  *c;

    if (++cv->rows > MT_CSV_MAX_ROWS) {
        mt_csv_fail(cv, "more rows than a reply has");
        return;
    }

    for (i = 0; i < cv->spec->ncols; i++) {
        if (i) {
            mt_csv_puts(&cv->out, ",");
        }

        c = &cv->cells[i];

        if (!empty && c->set) {
            mt_csv_escape(&cv->out, cv->row.data + c->off, c->len,
                          c->number);
        }
    }

    mt_csv_puts(&cv->out, "\r\n");
}


static void
mt_csv_row_start(mt_csv_conv_t *cv)
{
    memset(cv->cells, 0, cv->spec->ncols * sizeof(mt_csv_cell_t));
    cv->row.len = 0;
}


/* compact JSON of a captured value: strings as JSON, UTF-8 kept */
static void
mt_csv_json_str(mt_csv_buf_t *b, const char *s, size_t n)
{
    char                  esc[8];
    size_t                i, run;
    const unsigned char  *p;

    static const char  hex[] = "0123456789abcdef";

    p = (const unsigned char *) s;

    mt_csv_puts(b, "\"");

    for (i = 0, run = 0; i < n; i++) {

        if (p[i] >= 0x20 && p[i] != '"' && p[i] != '\\') {
            continue;
        }

        mt_csv_put(b, s + run, i - run);
        run = i + 1;

        esc[0] = '\\';

        switch (p[i]) {
        case '"':  esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[p[i] >> 4];
            esc[5] = hex[p[i] & 0xf];
            mt_csv_put(b, esc, 6);
            continue;
        }

        mt_csv_put(b, esc, 2);
    }

    mt_csv_put(b, s + run, n - run);
    mt_csv_puts(b, "\"");
}


/* the key's path below the row, in cv->path; 0, or -1: names no column */
static int
mt_csv_rel_path(mt_csv_conv_t *cv, const mt_csv_frame_t *parent,
    size_t *len)
{
    size_t  n;

    n = parent->role == MT_CSV_INROW ? parent->path_len + 1 : 0;

    if (cv->key_len > MT_CSV_KEY_MAX || n + cv->key_len >= MT_CSV_PATH_MAX) {
        return -1;
    }

    if (n) {
        cv->path[n - 1] = '.';
    }

    memcpy(cv->path + n, cv->key, cv->key_len);
    *len = n + cv->key_len;

    return 0;
}


/* the column named by path, or ncols; *prefix: a column lies below it */
static size_t
mt_csv_column(const mt_csv_conv_t *cv, const char *path, size_t len,
    int *prefix)
{
    size_t       i, n;
    const char  *col;

    *prefix = 0;

    for (i = 0; i < cv->spec->ncols; i++) {
        col = cv->spec->cols[i];
        n = cv->col_len[i];

        if (n < len || memcmp(col, path, len) != 0) {
            continue;
        }

        if (n == len) {
            return i;
        }

        if (col[len] == '.') {
            *prefix = 1;
        }
    }

    return cv->spec->ncols;
}


static mt_csv_frame_t *
mt_csv_push(mt_csv_conv_t *cv, mt_csv_role_t role, int object)
{
    mt_csv_frame_t  *f;

    if (cv->depth == MT_CSV_MAX_DEPTH) {
        mt_csv_fail(cv, "nested too deep");
        return NULL;
    }

    f = &cv->stack[cv->depth++];
    memset(f, 0, sizeof(*f));
    f->role = role;
    f->object = object;

    return f;
}


/*
 * An item of a list or of a captured value, in its parent's cell: a
 * scalar's text, or an object or array captured as compact JSON.
 */
static int
mt_csv_item(mt_csv_conv_t *cv, const mt_csv_frame_t *parent, int open,
    const char *text, size_t n)
{
    mt_csv_frame_t  *f;

    if (open < 0) {
        mt_csv_put(&cv->row, text, n);
        return 1;
    }

    f = mt_csv_push(cv, MT_CSV_CAPTURE, open);
    if (f == NULL) {
        return 0;
    }

    f->col = parent->col;
    mt_csv_put(&cv->row, open ? "{" : "[", 1);
    return 1;
}


/*
 * A value begins: a scalar (open < 0; text is what a cell holds, json
 * what a captured value writes) or an object or array (open 1, 0).
 */
static int
mt_csv_value(mt_csv_conv_t *cv, int open, const char *text, size_t n,
    const char *json, size_t jn, int number)
{
    int              prefix;
    size_t           col, len;
    mt_csv_cell_t   *c;
    mt_csv_frame_t  *parent, *f;
    const char      *want;

    if (cv->depth == 0) {
        if (open == 1) {
            return mt_csv_push(cv, MT_CSV_OUTER, 1) != NULL;
        }

        return open < 0 || mt_csv_push(cv, MT_CSV_SKIP, 0) != NULL;
    }

    parent = &cv->stack[cv->depth - 1];

    switch (parent->role) {

    case MT_CSV_OUTER:
        want = cv->spec->rows_path[parent->level];

        if (open < 0 || cv->key_len != strlen(want)
            || memcmp(cv->key, want, cv->key_len) != 0)
        {
            break;
        }

        if (cv->spec->rows_path[parent->level + 1] == NULL) {
            if (open == 0 && !cv->found) {
                cv->found = 1;
                return mt_csv_push(cv, MT_CSV_ROWS, 0) != NULL;
            }

            break;
        }

        if (open == 1) {
            f = mt_csv_push(cv, MT_CSV_OUTER, 1);
            if (f != NULL) {
                f->level = parent->level + 1;
            }

            return f != NULL;
        }

        break;

    case MT_CSV_ROWS:
        if (open == 1) {
            mt_csv_row_start(cv);
            return mt_csv_push(cv, MT_CSV_ROW, 1) != NULL;
        }

        /* not an object: a row all the same, every cell empty */
        mt_csv_emit_row(cv, 1);
        break;

    case MT_CSV_ROW:
    case MT_CSV_INROW:
        if (mt_csv_rel_path(cv, parent, &len) != 0) {
            break;
        }

        col = mt_csv_column(cv, cv->path, len, &prefix);

        if (col == cv->spec->ncols) {
            if (prefix && open == 1) {
                f = mt_csv_push(cv, MT_CSV_INROW, 1);
                if (f != NULL) {
                    f->path_len = len;
                }

                return f != NULL;
            }

            break;
        }

        /* a later member of the same key wins, as in JSON.parse() */
        c = &cv->cells[col];
        c->set = 1;
        c->off = cv->row.len;
        c->number = (open < 0 && number);

        if (open < 0) {
            mt_csv_put(&cv->row, text, n);
            c->len = n;
            return 1;
        }

        f = mt_csv_push(cv, open ? MT_CSV_CAPTURE : MT_CSV_LIST, open);
        if (f == NULL) {
            return 0;
        }

        f->col = col;

        if (open) {
            mt_csv_puts(&cv->row, "{");
        }

        return 1;

    case MT_CSV_LIST:
        if (parent->items++) {
            mt_csv_puts(&cv->row, "; ");
        }

        return mt_csv_item(cv, parent, open, text, n);

    case MT_CSV_CAPTURE:
        /* in an object the key placed the comma */
        if (!parent->object && parent->items++) {
            mt_csv_puts(&cv->row, ",");
        }

        return mt_csv_item(cv, parent, open, json, jn);

    case MT_CSV_SKIP:
        break;
    }

    return open < 0 || mt_csv_push(cv, MT_CSV_SKIP, open) != NULL;
}


static int
mt_csv_close(mt_csv_conv_t *cv)
{
    mt_csv_frame_t  *f, *parent;

    if (cv->depth == 0) {
        return mt_csv_fail(cv, "unbalanced");
    }

    f = &cv->stack[--cv->depth];
    parent = cv->depth ? &cv->stack[cv->depth - 1] : NULL;

    switch (f->role) {

    case MT_CSV_ROW:
        mt_csv_emit_row(cv, 0);
        break;

    case MT_CSV_LIST:
        cv->cells[f->col].len = cv->row.len - cv->cells[f->col].off;
        break;

    case MT_CSV_CAPTURE:
        mt_csv_put(&cv->row, f->object ? "}" : "]", 1);

        if (parent && (parent->role == MT_CSV_ROW
                       || parent->role == MT_CSV_INROW))
        {
            cv->cells[f->col].len = cv->row.len - cv->cells[f->col].off;
        }

        break;

    default:
        break;
    }

    return cv->error == NULL && !cv->out.failed && !cv->row.failed;
}


static int
mt_csv_done(mt_csv_conv_t *cv)
{
    return cv->error == NULL && !cv->out.failed && !cv->row.failed;
}


static int
mt_csv_on_null(void *data)
{
    mt_csv_conv_t  *cv = data;

    return mt_csv_value(cv, -1, "", 0, "null", 4, 0) && mt_csv_done(cv);
}


static int
mt_csv_on_bool(void *data, int b)
{
    mt_csv_conv_t  *cv = data;

    const char  *s = b ? "true" : "false";

    return mt_csv_value(cv, -1, s, strlen(s), s, strlen(s), 0)
           && mt_csv_done(cv);
}


static int
mt_csv_on_number(void *data, const char *s, size_t n)
{
    mt_csv_conv_t  *cv = data;

    return mt_csv_value(cv, -1, s, n, s, n, 1) && mt_csv_done(cv);
}


static int
mt_csv_on_string(void *data, const unsigned char *s, size_t n)
{
    mt_csv_conv_t   *cv = data;
    mt_csv_frame_t  *parent;

    parent = cv->depth ? &cv->stack[cv->depth - 1] : NULL;

    if (parent == NULL || parent->role != MT_CSV_CAPTURE) {
        return mt_csv_value(cv, -1, (const char *) s, n, NULL, 0, 0)
               && mt_csv_done(cv);
    }

    /* captured: the comma first, then the string as JSON */
    if (!mt_csv_value(cv, -1, NULL, 0, NULL, 0, 0)) {
        return 0;
    }

    mt_csv_json_str(&cv->row, (const char *) s, n);

    return mt_csv_done(cv);
}


static int
mt_csv_on_key(void *data, const unsigned char *s, size_t n)
{
    mt_csv_conv_t   *cv = data;
    mt_csv_frame_t  *f;

    f = &cv->stack[cv->depth - 1];

    if (f->role == MT_CSV_CAPTURE) {
        if (f->items++) {
            mt_csv_puts(&cv->row, ",");
        }

        mt_csv_json_str(&cv->row, (const char *) s, n);
        mt_csv_puts(&cv->row, ":");

        return mt_csv_done(cv);
    }

    if (f->role == MT_CSV_SKIP) {
        return 1;
    }

    cv->key_len = n;

    if (n <= MT_CSV_KEY_MAX) {
        memcpy(cv->key, s, n);
    }

    return 1;
}


static int
mt_csv_on_start_map(void *data)
{
    mt_csv_conv_t  *cv = data;

    return mt_csv_value(cv, 1, NULL, 0, NULL, 0, 0) && mt_csv_done(cv);
}


static int
mt_csv_on_start_array(void *data)
{
    mt_csv_conv_t  *cv = data;

    return mt_csv_value(cv, 0, NULL, 0, NULL, 0, 0) && mt_csv_done(cv);
}


static int
mt_csv_on_end(void *data)
{
    return mt_csv_close(data);
}


static const yajl_callbacks  mt_csv_callbacks = {
    mt_csv_on_null,
    mt_csv_on_bool,
    NULL,                               /* yajl_number takes all numbers */
    NULL,
    mt_csv_on_number,
    mt_csv_on_string,
    mt_csv_on_start_map,
    mt_csv_on_key,
    mt_csv_on_end,
    mt_csv_on_start_array,
    mt_csv_on_end
};


static void
mt_csv_message(char *err, size_t errlen, const char *msg)
{
    size_t  n;

    if (errlen == 0) {
        return;
    }

    n = strlen(msg);
    n = n < errlen - 1 ? n : errlen - 1;
    memcpy(err, msg, n);
    err[n] = '\0';
}


int
mt_csv_convert(mt_csv_kind_t kind, const char *json, size_t len,
    char **out, size_t *out_len, char *err, size_t errlen)
{
    size_t          i;
    yajl_handle     h;
    yajl_status     st;
    mt_csv_conv_t  *cv;

    *out = NULL;
    *out_len = 0;

    if (kind <= MT_CSV_NONE || kind > MT_CSV_SEARCH) {
        mt_csv_message(err, errlen, "no such kind");
        return -1;
    }

    cv = calloc(1, sizeof(mt_csv_conv_t));
    if (cv == NULL) {
        mt_csv_message(err, errlen, "out of memory");
        return -1;
    }

    cv->spec = &mt_csv_specs[kind];
    cv->out.max = MT_CSV_BOUND(len);
    cv->cells = calloc(cv->spec->ncols, sizeof(mt_csv_cell_t));

    /* most CSV is smaller than its JSON: one allocation, usually */
    if (cv->cells == NULL || mt_csv_reserve(&cv->out, len / 2 + 1024) != 0) {
        free(cv->cells);
        free(cv->out.data);
        free(cv);
        mt_csv_message(err, errlen, "out of memory");
        return -1;
    }

    for (i = 0; i < cv->spec->ncols; i++) {
        if (i) {
            mt_csv_puts(&cv->out, ",");
        }

        cv->col_len[i] = strlen(cv->spec->cols[i]);
        mt_csv_escape(&cv->out, cv->spec->cols[i], cv->col_len[i], 0);
    }

    mt_csv_puts(&cv->out, "\r\n");

    h = yajl_alloc(&mt_csv_callbacks, NULL, cv);

    if (h == NULL) {
        st = yajl_status_error;
        mt_csv_fail(cv, "out of memory");

    } else {
        /* every yajl option off, as in mt_json_parse(): one value */
        st = yajl_parse(h, (const unsigned char *) json, len);

        if (st == yajl_status_ok) {
            st = yajl_complete_parse(h);
        }

        yajl_free(h);
    }

    if (cv->out.failed || cv->row.failed) {
        mt_csv_fail(cv, "out of memory");
    }

    if (st != yajl_status_ok) {
        mt_csv_fail(cv, "not JSON");
    }

    if (!cv->found) {
        mt_csv_fail(cv, "no rows in the reply");
    }

    free(cv->row.data);
    free(cv->cells);

    if (cv->error) {
        mt_csv_message(err, errlen, cv->error);
        free(cv->out.data);
        free(cv);
        return -1;
    }

    *out = cv->out.data;
    *out_len = cv->out.len;
    free(cv);

    return 0;
}


/* Accept */

void
mt_csv_accept_init(mt_csv_accept_t *a)
{
    a->csv_q = -1;
    a->json_q = 0;
    a->json_level = 0;
}


static int
mt_csv_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}


static int
mt_csv_is(const char *s, size_t n, const char *lit)
{
    size_t  i;

    if (n != strlen(lit)) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (mt_csv_lower((unsigned char) s[i]) != lit[i]) {
            return 0;
        }
    }

    return 1;
}


/* RFC 9110's qvalue in thousandths, or -1 */
static int
mt_csv_qvalue(const char *s, size_t n)
{
    int     q;
    size_t  i;

    if (n == 0 || (s[0] != '0' && s[0] != '1')) {
        return -1;
    }

    q = (s[0] - '0') * 1000;

    if (n == 1) {
        return q;
    }

    if (s[1] != '.' || n > 5) {
        return -1;
    }

    for (i = 2; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || (q == 1000 && s[i] != '0')) {
            return -1;
        }

        q += (s[i] - '0') * (i == 2 ? 100 : i == 3 ? 10 : 1);
    }

    return q;
}


static int
mt_csv_ows(int c)
{
    return c == ' ' || c == '\t';
}


/* one media range [s, e): its q, its type in *t, *tn; -1: ignored */
static int
mt_csv_range(const char *s, const char *e, const char **t, size_t *tn)
{
    int          q;
    const char  *p, *name, *val;
    size_t       nn, vn;

    while (s < e && mt_csv_ows(*s)) {
        s++;
    }

    for (p = s; p < e && *p != ';' && !mt_csv_ows(*p); p++) {
        /* void */
    }

    *t = s;
    *tn = (size_t) (p - s);

    if (memchr(s, '/', *tn) == NULL) {
        return -1;
    }

    q = 1000;

    while (p < e) {
        while (p < e && (mt_csv_ows(*p) || *p == ';')) {
            p++;
        }

        for (name = p; p < e && *p != '=' && *p != ';'; p++) {
            /* void */
        }

        nn = (size_t) (p - name);

        while (nn && mt_csv_ows(name[nn - 1])) {
            nn--;
        }

        if (p == e || *p == ';') {
            continue;
        }

        p++;

        while (p < e && mt_csv_ows(*p)) {
            p++;
        }

        val = p;

        if (p < e && *p == '"') {
            for (p++; p < e && *p != '"'; p++) {
                if (*p == '\\' && p + 1 < e) {
                    p++;
                }
            }

            p += (p < e);

        } else {
            while (p < e && *p != ';' && !mt_csv_ows(*p)) {
                p++;
            }
        }

        vn = (size_t) (p - val);

        if (mt_csv_is(name, nn, "q")) {
            q = mt_csv_qvalue(val, vn);
            if (q < 0) {
                return -1;
            }
        }
    }

    return q;
}


void
mt_csv_accept_feed(mt_csv_accept_t *a, const char *value, size_t len)
{
    int          q, level, quoted;
    size_t       tn;
    const char  *p, *e, *start, *t;

    p = value;
    e = value + len;

    while (p < e) {
        start = p;
        quoted = 0;

        /* a comma inside a quoted parameter value separates nothing */
        for ( /* void */ ; p < e && (quoted || *p != ','); p++) {
            if (*p == '"') {
                quoted = !quoted;

            } else if (quoted && *p == '\\' && p + 1 < e) {
                p++;
            }
        }

        q = mt_csv_range(start, p, &t, &tn);
        p += (p < e);

        if (q < 0) {
            continue;
        }

        if (mt_csv_is(t, tn, "text/csv")) {
            a->csv_q = q > a->csv_q ? q : a->csv_q;
            continue;
        }

        level = mt_csv_is(t, tn, "application/json") ? 3
                : mt_csv_is(t, tn, "application/*") ? 2
                : mt_csv_is(t, tn, "*/*") ? 1 : 0;

        if (level > a->json_level) {
            a->json_level = level;
            a->json_q = q;

        } else if (level && level == a->json_level && q > a->json_q) {
            a->json_q = q;
        }
    }
}


int
mt_csv_accept_wants_csv(const mt_csv_accept_t *a)
{
    int  json;

    if (a->csv_q <= 0) {
        return 0;
    }

    json = a->json_level ? a->json_q : 0;

    return a->csv_q > json || (a->csv_q == json && a->json_level < 3);
}

/*
 * CSV export of the list endpoints' replies (RFC 4180): the JSON reply,
 * as built for a JSON client, is converted row by row, so that a CSV
 * client gets by construction the JSON's rows, in its order.  No nginx
 * types: the module calls mt_csv_convert(), the unit tests too.
 *
 * Each kind has a fixed column list (mt_csv_columns()): the header row
 * names them with the JSON's field names, an object's members as dotted
 * paths ("scoreBreakdown.semanticSimilarity"); a row that lacks a field
 * has an empty cell there, and fields that are not in the list (a
 * creator's unknown fields) are not exported.  A cell holds:
 *   string       its text;
 *   number       its JSON text, unchanged;
 *   true, false  "true", "false";
 *   null         nothing (an empty cell);
 *   array        its items joined with "; ", each as above; an item that
 *                is an object or array is written as compact JSON;
 *   object       compact JSON (no column of ours names one).
 * Then every cell is escaped: a cell that begins with '=', '+', '-',
 * '@', a tab or a CR gets a leading "'" (a spreadsheet would run it as a
 * formula; OWASP's "CSV injection"), unless it is a JSON number, which
 * is no formula; a cell that holds '"', ',', ';', CR or LF is quoted, its
 * quotes doubled (';': spreadsheets in locales whose list separator it
 * is split on it, and the lists' "; "); invalid UTF-8 becomes U+FFFD.
 * Rows end with CRLF, the header row too.
 */

#ifndef MT_CSV_H
#define MT_CSV_H

#include <stddef.h>


typedef enum {
    MT_CSV_NONE = 0,
    MT_CSV_MATCHES,         /* POST /matches: data.matches */
    MT_CSV_CREATORS,        /* GET /creators: creators */
    MT_CSV_SEARCH           /* POST /creators/search: results */
} mt_csv_kind_t;


/* the kind's column names, in order, and their number */
const char *const *mt_csv_columns(mt_csv_kind_t kind, size_t *n);

/*
 * Converts a reply of the kind into CSV, the header row first.  Returns
 * 0 and a malloc'd *out (free()), or -1 with a message in err: the text
 * is not JSON, not the kind's shape (no rows array), or memory ran out.
 *
 * The output is at most MT_CSV_BOUND(len) bytes (3 for 1 for invalid
 * UTF-8 at worst, two quotes and a "'" a cell, a comma for each absent
 * one); besides it, the conversion holds one row's cells, at most the
 * row's JSON.  In practice a CSV is about half its JSON: the keys go.
 */
#define MT_CSV_BOUND(len)  (3 * (len) + 65536)

int mt_csv_convert(mt_csv_kind_t kind, const char *json, size_t len,
    char **out, size_t *out_len, char *err, size_t errlen);

/*
 * One cell, escaped as above, appended to a growing malloc'd buffer
 * (*buf may be NULL with *cap 0).  number: the text is a JSON number (no
 * guard).  0, or -1 when memory ran out.  For the tests and for callers
 * that write CSV of their own.
 */
int mt_csv_cell(char **buf, size_t *len, size_t *cap, const char *s,
    size_t n, int number);


/*
 * Accept negotiation: feed every Accept header's value, then ask.  CSV
 * is chosen when "text/csv" itself is listed with a q above 0 and above
 * JSON's: the q of the most specific range listed that covers
 * application/json (itself, then "application/" with a star, then the
 * star-slash-star of "anything").  Equal is enough when JSON is reached
 * by a wildcard only, as in "text/csv, anything".  No Accept, anything,
 * "text/" with a star, or application/json listed with the same q: JSON,
 * as before.  A range whose q is not RFC 9110's form is ignored.
 */
typedef struct {
    int                     csv_q;      /* thousandths, -1: not listed */
    int                     json_q;     /* thousandths, of json_level */
    int                     json_level; /* 0 none, 1 any, 2 application,
                                           3 application/json */
} mt_csv_accept_t;

void mt_csv_accept_init(mt_csv_accept_t *a);
void mt_csv_accept_feed(mt_csv_accept_t *a, const char *value, size_t len);
int mt_csv_accept_wants_csv(const mt_csv_accept_t *a);

#endif /* MT_CSV_H */

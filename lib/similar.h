/*
 * Lookalike creators: what two creators have in common (niches, region,
 * tone, values), as structured fields and as a short human string, and
 * the note a POST /matches summary gets when minScore left matches out.
 * No nginx types.
 */

#ifndef MT_SIMILAR_H
#define MT_SIMILAR_H

#include <stddef.h>

#include "json.h"


/*
 * Items named per signal at most, and items of a list looked at: a
 * document with thousands of niches costs a bounded compare.
 */
#define MT_SHARED_MAX       8
#define MT_SHARED_SCAN_MAX  64

/* the longest human string, NUL included */
#define MT_SHARED_TEXT_MAX  512


/* the pointers are into the first creator's document */
typedef struct {
    const mt_json_t        *niches[MT_SHARED_MAX];
    size_t                  nniches;
    const mt_json_t        *region;     /* NULL: not the same */
    const mt_json_t        *tones[MT_SHARED_MAX];
    size_t                  ntones;
    const mt_json_t        *values[MT_SHARED_MAX];
    size_t                  nvalues;
} mt_shared_t;


/*
 * The signals creators a and b (documents as stored) share.  Strings
 * compare case-insensitively (ASCII); niches are primary and secondary
 * taken together, tone is analysis.engagementStyle.tone, values
 * analysis.apparentValues.  Missing fields share nothing.
 */
void mt_shared(const mt_json_t *a, const mt_json_t *b, mt_shared_t *out);

/*
 * "both post about personal finance, both US, both humorous" into buf
 * (NUL-terminated, cut between items when size is short); the length.
 * Nothing shared: "nothing in common beyond their content's wording".
 */
size_t mt_shared_text(const mt_shared_t *s, char *buf, size_t size);

/*
 * {"summary", "niches", "region", "tone", "values"}: region null when
 * not the same, lists possibly empty.
 */
void mt_shared_write(const mt_shared_t *s, mt_jw_t *w);

/*
 * The note of a match summary when minScore left dropped matches out,
 * into buf; the length (0 and "" when dropped is 0).  kept matches
 * remained: "2 weaker matches (below minScore 0.5) left out.", to
 * append to the summary; none did: a whole summary of its own, "None
 * of the 17 creators reaches minScore 0.99: 3 weaker matches (below
 * minScore 0.99) left out."
 */
size_t mt_min_score_note(size_t dropped, size_t kept, size_t ncreators,
    double min_score, char *buf, size_t size);

/*
 * Writes to w the JSON string summary (a JSON string, as mt_summary()
 * wrote it) with " " and note appended; 0, or -1 when summary is not a
 * JSON string or memory ran out (nothing written).
 */
int mt_summary_append(mt_jw_t *w, const char *summary, size_t len,
    const char *note, size_t note_len);

#endif /* MT_SIMILAR_H */

/*
 * Match scoring: the structured signals between an assignment and a
 * creator, the final matchScore, and the texts that explain it (reasoning
 * and framing suggestion, from templates: specific to the pair).  No
 * nginx types.  The formula and every weight are explained in README.md.
 */

#ifndef MT_SCORE_H
#define MT_SCORE_H

#include <stddef.h>

#include "json.h"


typedef struct {
    double                  semantic;   /* semanticSimilarity */
    double                  niche;      /* nicheAlignment */
    double                  audience;   /* audienceMatch */
    double                  value;      /* valueAlignment */
    double                  engagement; /* engagementFit */
    double                  tone;       /* toneStyle vs engagementStyle */
    double                  score;      /* matchScore, in [0, 1] */
} mt_breakdown_t;

#define MT_CONCEPTS_MAX  64     /* concepts of the topic map */


/*
 * An assignment prepared for scoring: what every pair's score needs from
 * the brief alone, worked out once per request instead of once per
 * creator.  It points into the assignment, which must outlive it.  No
 * allocation: it lives on the caller's stack.
 */
typedef struct {
    const mt_json_t        *a;
    double                  bag[MT_CONCEPTS_MAX];   /* the brief's topic */
    double                  bag_norm;   /* 0: no concept named */
} mt_brief_t;

void mt_brief_init(mt_brief_t *br, const mt_json_t *assignment);

/*
 * Scores one pair: the prepared assignment (mt_brief_init) against a
 * creator.  The assignment and creator are the documents (the
 * contract's fields; anything missing counts as no signal).  cosine is
 * the embedding similarity of the pair in [-1, 1]; best_cosine the best
 * among the candidates of this request (the scale of cosines differs
 * between embedders, the ranking within one request does not);
 * semantic_ok 0 means no embedding was available (isFallback): the score
 * then rests on the structured signals alone.  Every field of b ends in
 * [0, 1].
 */
void mt_score_brief(const mt_brief_t *br, const mt_json_t *creator,
    double cosine, double best_cosine, int semantic_ok, mt_breakdown_t *b);
/* the same for one pair alone: prepares the assignment for this call */
void mt_score(const mt_json_t *assignment, const mt_json_t *creator,
    double cosine, double best_cosine, int semantic_ok, mt_breakdown_t *b);

/*
 * Writes the texts as JSON strings (mt_jw_str) to w: 1 to 3 sentences on
 * why this creator fits (and what is missing when the fit is weak), and
 * how the creator could frame the post in its own tone, niches and
 * audience, tied to the assignment's key takeaway.
 */
void mt_reasoning(const mt_json_t *assignment, const mt_json_t *creator,
    const mt_breakdown_t *b, mt_jw_t *w);
void mt_framing(const mt_json_t *assignment, const mt_json_t *creator,
    mt_jw_t *w);

/* the overall "reasoning" of a POST /matches reply, as a JSON string */
void mt_summary(const mt_json_t *assignment, const mt_breakdown_t *best,
    size_t nmatches, size_t ncreators, int fallback, mt_jw_t *w);

/*
 * The text embedded for an assignment, malloc'd, NUL-terminated: topic,
 * key takeaway, additional context, then "Niches: " creatorNiches and
 * "Values: " creatorValues, the same labels as the creator text so the
 * two line up.  NULL when out of memory.
 */
char *mt_assignment_text(const mt_json_t *assignment, size_t *len);

#endif /* MT_SCORE_H */

/*
 * The texts of a match (score.h): reasoning, framing suggestion, the
 * reply's summary and the text embedded for an assignment.  They are
 * templates filled with what the matching in score.c found for the pair
 * (the niches, values and tone words that matched, the region, the
 * audience), so that two creators do not get the same words.
 *
 * The small accessors of the documents that score.c uses too, and the
 * buffer the texts are built in, are in score_buf.c.  A text is built in
 * a fixed buffer.  Every quoted piece is cut to a few
 * dozen bytes on a UTF-8 boundary, so the buffer only fills up on absurd
 * input, and then the text is cut there too, never overrun.
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"
#include "score_int.h"




static void mt_reason_niches(mt_buf_t *b, const mt_json_t *a,
    const mt_json_t *c, const mt_breakdown_t *bd);
static void mt_reason_values(mt_buf_t *b, const mt_json_t *a,
    const mt_json_t *c);
static void mt_reason_audience(mt_buf_t *b, const mt_json_t *a,
    const mt_json_t *c);
static const mt_json_t *mt_framing_niche(const mt_json_t *a,
    const mt_json_t *c);
static char *mt_join(char *p, const mt_json_t *obj, const char *key);
static size_t mt_join_len(const mt_json_t *obj, const char *key);
static char *mt_cat(char *p, const char *s, size_t n);


void
mt_reasoning(const mt_json_t *assignment, const mt_json_t *creator,
    const mt_breakdown_t *b, mt_jw_t *w)
{
    mt_buf_t  buf;

    static const mt_breakdown_t  none;

    /* without a breakdown: as if there were no embedding */
    if (b == NULL) {
        b = &none;
    }

    buf.len = 0;

    mt_reason_niches(&buf, assignment, creator, b);
    mt_reason_values(&buf, assignment, creator);
    mt_reason_audience(&buf, assignment, creator);

    mt_put_end(&buf, w);
}


/* the niches that matched and those that did not, or that none did */
static void
mt_reason_niches(mt_buf_t *b, const mt_json_t *a, const mt_json_t *c,
    const mt_breakdown_t *bd)
{
    size_t      i;
    double      full;
    mt_match_t  m;
    mt_names_t  have, want, miss, own;

    (void) mt_match_niches(a, c, &m);

    have.n = 0;
    want.n = 0;
    miss.n = 0;
    full = 0.0;

    for (i = 0; i < m.n; i++) {
        if (m.sim[i] >= MT_HIT) {
            mt_names_add(&have, m.hit[i]);
            mt_names_add(&want, m.want[i]);
            full = m.sim[i] > full ? m.sim[i] : full;

        } else {
            mt_names_add(&miss, m.want[i]);
        }
    }

    mt_names_of(&own, mt_json_get(c, "analysis"), "primaryNiches");

    if (m.n == 0) {
        mt_put_nick(b, c, 0);

        if (own.n > 0) {
            mt_puts(b, " covers ");
            mt_put_names(b, &own, MT_LOWER_NONE);
            mt_puts(b, "; the brief names no niches, so ");

        } else {
            mt_puts(b, " lists no niches and the brief names none, so ");
        }

        mt_puts(b, bd->semantic > 0.0 ? "topic similarity leads the ranking. "
                                      : "values, audience and tone lead the "
                                        "ranking. ");
        return;
    }

    if (have.n > 0) {
        mt_put_nick(b, c, 1);
        mt_puts(b, " ");
        mt_put_names(b, &have, MT_LOWER_NONE);
        mt_puts(b, full >= MT_HIT_FULL ? " content lines up with the brief's "
                                       : " content partly overlaps the "
                                         "brief's ");
        mt_put_names(b, &want, MT_LOWER_NONE);
        mt_puts(b, want.n > 1 ? " niches" : " niche");

        if (miss.n > 0) {
            mt_puts(b, ", though nothing covers ");
            mt_put_names(b, &miss, MT_LOWER_NONE);
        }

        mt_puts(b, ". ");
        return;
    }

    mt_puts(b, "No overlap between ");
    mt_put_nick(b, c, 1);
    mt_puts(b, " niches");

    if (own.n > 0) {
        mt_puts(b, " (");
        mt_put_names(b, &own, MT_LOWER_NONE);
        mt_puts(b, ")");
    }

    mt_puts(b, " and the requested ones (");
    mt_put_names(b, &miss, MT_LOWER_NONE);
    mt_puts(b, bd->semantic > 0.0 ? "); ranked on topic similarity and the "
                                    "other signals. "
                                  : "); ranked on values, audience and tone "
                                    "only. ");
}


/* values in common or missing, then the tone against toneStyle */
static void
mt_reason_values(mt_buf_t *b, const mt_json_t *a, const mt_json_t *c)
{
    size_t            i, n, len, start;
    uint32_t          hits;
    const char       *style;
    mt_match_t        m;
    mt_names_t        have, want, own, tones;
    const mt_json_t  *an, *items[MT_LIST_MAX];

    an = mt_json_get(c, "analysis");
    start = b->len;

    (void) mt_match_values(a, c, &m);

    have.n = 0;
    want.n = 0;

    for (i = 0; i < m.n; i++) {
        mt_names_add(&want, m.want[i]);

        if (m.sim[i] >= MT_HIT) {
            mt_names_add(&have, m.hit[i]);
        }
    }

    if (have.n > 0) {
        mt_put_nick(b, c, 0);
        mt_puts(b, " shares the brief's values through ");
        mt_put_names(b, &have, MT_LOWER_NONE);

    } else if (want.n > 0) {
        mt_puts(b, "None of the requested values (");
        mt_put_names(b, &want, MT_LOWER_NONE);
        mt_puts(b, ") shows in the profile");
        mt_names_of(&own, an, "apparentValues");

        if (own.n > 0) {
            mt_puts(b, ", which stresses ");
            mt_put_names(b, &own, MT_LOWER_NONE);
        }
    }

    style = mt_get_str(a, "toneStyle", &len);
    (void) mt_tone(a, c, &hits);
    n = mt_get_list(mt_json_get(an, "engagementStyle"), "tone", items);

    tones.n = 0;

    for (i = 0; i < n; i++) {
        if (hits & ((uint32_t) 1 << i)) {
            mt_names_add(&tones, items[i]);
        }
    }

    if (style == NULL || n == 0) {
        mt_puts(b, b->len > start ? ". " : "");
        return;
    }

    mt_puts(b, b->len > start ? "; the " : "The ");

    if (tones.n == 0) {
        /* what the creator sounds like instead */
        for (i = 0; i < n; i++) {
            mt_names_add(&tones, items[i]);
        }
    }

    mt_put_names(b, &tones, MT_LOWER_ALL);
    mt_puts(b, hits ? " tone suits the requested \""
                    : " tone is not the requested \"");
    mt_put_cut(b, style, len, MT_CUT_PHRASE, MT_LOWER_NONE);
    mt_puts(b, "\" style. ");
}


/* region against locale, audience against demographic, reach */
static void
mt_reason_audience(mt_buf_t *b, const mt_json_t *a, const mt_json_t *c)
{
    int               how;
    size_t            i, j, n, pos, rlen, llen, dlen;
    double            demo, best[MT_PHRASE_MAX], f;
    const char       *rs, *ls, *ds;
    mt_word_t         w;
    mt_names_t        hit;
    mt_phrase_t       want;
    const mt_json_t  *ta, *items[MT_LIST_MAX];

    ta = mt_json_get(a, "targetAudience");
    rs = mt_get_str(c, "region", &rlen);
    ls = mt_get_str(ta, "locale", &llen);
    ds = mt_get_str(ta, "demographic", &dlen);

    (void) mt_region_fit(a, c, &how);
    demo = mt_demo_fit(a, c, &want, best);

    /* the audience interests that share a word with the demographic */
    n = mt_get_list(mt_json_get(c, "analysis"), "audienceInterests", items);
    hit.n = 0;

    for (j = 0; j < n; j++) {
        pos = 0;

        while (mt_word_next(items[j]->u.string.s, items[j]->u.string.len,
                            &pos, &w))
        {
            for (i = 0; i < want.n; i++) {
                if (mt_word_sim(&w, &want.w[i]) >= MT_HIT) {
                    mt_names_add(&hit, items[j]);
                }
            }
        }
    }

    if (rs != NULL) {
        mt_puts(b, "Based in ");
        mt_put_cut(b, rs, rlen, MT_CUT_ITEM, MT_LOWER_NONE);

    } else {
        mt_puts(b, "Region unknown");
    }

    if (ls != NULL) {
        mt_puts(b, how == MT_REGION_SAME ? ", matching the "
                   : how == MT_REGION_NEAR ? ", close to the requested "
                   : how == MT_REGION_OTHER ? ", outside the requested "
                   : ", not comparable with the requested ");
        mt_put_cut(b, ls, llen, MT_CUT_ITEM, MT_LOWER_NONE);
        mt_puts(b, " locale");
    }

    if (ds != NULL) {
        if (hit.n > 0) {
            mt_puts(b, ", with an audience into ");
            mt_put_names(b, &hit, MT_LOWER_ALL);
            mt_puts(b, " that fits \"");

        } else {
            mt_puts(b, demo > 0.0 ? ", and the profile touches on \""
                                  : ", but nothing in the profile points to "
                                    "\"");
        }

        mt_put_cut(b, ds, dlen, MT_CUT_PHRASE, MT_LOWER_NONE);
        mt_puts(b, "\"");

    } else if (n > 0) {
        mt_names_of(&hit, mt_json_get(c, "analysis"), "audienceInterests");
        mt_puts(b, ", with an audience into ");
        mt_put_names(b, &hit, MT_LOWER_ALL);
    }

    f = mt_get_count(c, "followerCount");

    if (f >= 0.0) {
        mt_puts(b, " (");
        mt_put_count(b, f);
        mt_puts(b, f == 1.0 ? " follower)" : " followers)");
    }

    mt_puts(b, ".");
}


void
mt_framing(const mt_json_t *assignment, const mt_json_t *creator,
    mt_jw_t *w)
{
    size_t            len;
    const char       *s;
    mt_buf_t          buf;
    mt_names_t        tones;
    const mt_json_t  *an, *es, *niche, *items[MT_LIST_MAX];

    buf.len = 0;
    an = mt_json_get(creator, "analysis");
    es = mt_json_get(an, "engagementStyle");

    mt_puts(&buf, "Use ");
    mt_put_nick(&buf, creator, 1);
    mt_names_of(&tones, es, "tone");

    if (tones.n > 0) {
        mt_puts(&buf, " ");
        mt_put_names(&buf, &tones, MT_LOWER_ALL);
        mt_puts(&buf, " voice");

    } else {
        mt_puts(&buf, " own voice");
    }

    s = mt_get_str(es, "contentStyle", &len);

    while (s != NULL && len > 0 && (s[len - 1] == '.' || s[len - 1] == ' ')) {
        len--;
    }

    if (s != NULL && len > 0) {
        mt_puts(&buf, " and usual format (");
        mt_put_cut(&buf, s, len, MT_CUT_PHRASE, MT_LOWER_FIRST);
        mt_puts(&buf, ")");
    }

    niche = mt_framing_niche(assignment, creator);

    if (niche != NULL) {
        mt_puts(&buf, strchr("AEIOUaeiou", niche->u.string.s[0]) != NULL
                      ? ": open with an " : ": open with a ");
        mt_put_cut(&buf, niche->u.string.s, niche->u.string.len,
                   MT_CUT_ITEM, MT_LOWER_ALL);
        mt_puts(&buf, " example");

    } else {
        mt_puts(&buf, ": open with a personal example");
    }

    if (mt_get_list(an, "audienceInterests", items) > 0) {
        mt_puts(&buf, " that followers into ");
        mt_put_cut(&buf, items[0]->u.string.s, items[0]->u.string.len,
                   MT_CUT_ITEM, MT_LOWER_ALL);
        mt_puts(&buf, " will recognise");

    } else {
        mt_puts(&buf, " the audience will recognise");
    }

    s = mt_get_str(assignment, "keyTakeaway", &len);

    while (s != NULL && len > 0 && (s[len - 1] == '.' || s[len - 1] == ' ')) {
        len--;
    }

    if (s != NULL && len > 0) {
        mt_puts(&buf, ", then land the key point: \"");
        mt_put_cut(&buf, s, len, MT_CUT_TAKEAWAY, MT_LOWER_NONE);
        mt_puts(&buf, "\".");

    } else if ((s = mt_get_str(assignment, "topic", &len)) != NULL) {
        mt_puts(&buf, ", then tie it to \"");
        mt_put_cut(&buf, s, len, MT_CUT_TOPIC, MT_LOWER_NONE);
        mt_puts(&buf, "\".");

    } else {
        mt_puts(&buf, ".");
    }

    s = mt_get_str(assignment, "toneStyle", &len);

    if (s != NULL) {
        mt_puts(&buf, " Keep it ");
        mt_put_cut(&buf, s, len, MT_CUT_PHRASE, MT_LOWER_ALL);
        mt_puts(&buf, ", as the brief asks.");
    }

    mt_put_end(&buf, w);
}


/* the creator's niche that best matched the brief, else its first one */
static const mt_json_t *
mt_framing_niche(const mt_json_t *a, const mt_json_t *c)
{
    size_t            i, best;
    mt_match_t        m;
    const mt_json_t  *items[MT_LIST_MAX];

    (void) mt_match_niches(a, c, &m);

    best = m.n;

    for (i = 0; i < m.n; i++) {
        if (m.sim[i] >= MT_HIT && (best == m.n || m.wsim[i] > m.wsim[best])) {
            best = i;
        }
    }

    if (best < m.n) {
        return m.hit[best];
    }

    if (mt_get_list(mt_json_get(c, "analysis"), "primaryNiches", items) > 0) {
        return items[0];
    }

    return NULL;
}


void
mt_summary(const mt_json_t *assignment, const mt_breakdown_t *best,
    size_t nmatches, size_t ncreators, int fallback, mt_jw_t *w)
{
    size_t            i, k, top[2], len;
    double            v[6];
    mt_buf_t          buf;
    const char       *topic;
    const mt_json_t  *items[MT_LIST_MAX];

    static const char  *names[6] = {
        "topic similarity", "niche alignment", "value alignment",
        "audience match", "tone", "engagement"
    };

    buf.len = 0;
    topic = mt_get_str(assignment, "topic", &len);

    if (nmatches == 0) {
        if (ncreators == 0) {
            mt_puts(&buf, "The creator set is empty, so there is nothing "
                          "to rank");

        } else {
            mt_puts(&buf, "None of the ");
            mt_put_uint(&buf, ncreators);
            mt_puts(&buf, " creators could be ranked");
        }

    } else {
        mt_puts(&buf, "Ranked ");
        mt_put_uint(&buf, ncreators > nmatches ? ncreators : nmatches);
        mt_puts(&buf, ncreators > 1 ? " creators" : " creator");
    }

    if (topic != NULL) {
        mt_puts(&buf, " for '");
        mt_put_cut(&buf, topic, len, MT_CUT_TOPIC, MT_LOWER_NONE);
        mt_puts(&buf, "'");
    }

    if (nmatches > 0 && best != NULL) {
        /* the signals the brief asks for; -1: not asked, not named */
        v[0] = fallback ? -1.0 : best->semantic;
        v[1] = mt_get_list(assignment, "creatorNiches", items) ? best->niche
                                                               : -1.0;
        v[2] = mt_get_list(assignment, "creatorValues", items) ? best->value
                                                               : -1.0;
        v[3] = mt_json_get(assignment, "targetAudience") ? best->audience
                                                         : -1.0;
        v[4] = mt_get_str(assignment, "toneStyle", &k) ? best->tone : -1.0;
        v[5] = best->engagement;

        /* the two strongest signals of the top match, earlier on ties */
        top[0] = 0;
        top[1] = 1;

        for (i = 1; i < 6; i++) {
            if (v[i] > v[top[0]]) {
                top[0] = i;
            }
        }

        top[1] = (top[0] == 0) ? 1 : 0;

        for (i = top[1] + 1; i < 6; i++) {
            if (i != top[0] && v[i] > v[top[1]]) {
                top[1] = i;
            }
        }

        mt_puts(&buf, ": the top match scores ");
        mt_put_score(&buf, best->score);
        mt_puts(&buf, ", led by ");

        for (k = 0; k < 2 && v[top[k]] >= 0.0; k++) {
            mt_puts(&buf, k == 0 ? "" : " and ");
            mt_puts(&buf, names[top[k]]);
            mt_puts(&buf, " (");
            mt_put_score(&buf, v[top[k]]);
            mt_puts(&buf, ")");
        }
    }

    if (nmatches > 1) {
        mt_puts(&buf, "; the best ");
        mt_put_uint(&buf, nmatches);
        mt_puts(&buf, " are returned");
    }

    mt_puts(&buf, ".");

    if (fallback) {
        mt_puts(&buf, " Semantic search was unavailable, so the ranking "
                      "uses structured signals only (niches, values, "
                      "audience, tone and engagement).");
    }

    mt_put_end(&buf, w);
}


/*
 * "<topic>\n<keyTakeaway>\n<additionalContext>\nNiches: <creatorNiches>
 * \nValues: <creatorValues>", lists joined with ", ", both labels always
 * there: the layout of the creator text (creator.c), so that the niche
 * and value words of both sides meet in the embedding.
 */
char *
mt_assignment_text(const mt_json_t *assignment, size_t *len)
{
    char        *text, *p;
    size_t       i, total, n[3];
    const char  *s[3];

    static const char  *keys[3] = {
        "topic", "keyTakeaway", "additionalContext"
    };

    total = 0;

    for (i = 0; i < 3; i++) {
        s[i] = mt_get_str(assignment, keys[i], &n[i]);
        total += n[i] + 1;
    }

    total += sizeof("Niches: ") - 1
             + mt_join_len(assignment, "creatorNiches")
             + sizeof("\nValues: ") - 1
             + mt_join_len(assignment, "creatorValues");

    text = malloc(total + 1);
    if (text == NULL) {
        return NULL;
    }

    p = text;

    for (i = 0; i < 3; i++) {
        p = mt_cat(p, s[i], n[i]);
        *p++ = '\n';
    }

    p = mt_cat(p, "Niches: ", sizeof("Niches: ") - 1);
    p = mt_join(p, assignment, "creatorNiches");
    p = mt_cat(p, "\nValues: ", sizeof("\nValues: ") - 1);
    p = mt_join(p, assignment, "creatorValues");
    *p = '\0';

    if (len != NULL) {
        *len = (size_t) (p - text);
    }

    return text;
}


/* the list's strings joined with ", ", written at p; returns the end */
static char *
mt_join(char *p, const mt_json_t *obj, const char *key)
{
    size_t            i, n;
    const mt_json_t  *items[MT_LIST_MAX];

    n = mt_get_list(obj, key, items);

    for (i = 0; i < n; i++) {
        if (i > 0) {
            p = mt_cat(p, MT_TEXT_SEP, sizeof(MT_TEXT_SEP) - 1);
        }

        p = mt_cat(p, items[i]->u.string.s, items[i]->u.string.len);
    }

    return p;
}


/* the bytes mt_join() writes */
static size_t
mt_join_len(const mt_json_t *obj, const char *key)
{
    size_t            i, n, len;
    const mt_json_t  *items[MT_LIST_MAX];

    n = mt_get_list(obj, key, items);
    len = 0;

    for (i = 0; i < n; i++) {
        len += (i > 0 ? sizeof(MT_TEXT_SEP) - 1 : 0)
               + items[i]->u.string.len;
    }

    return len;
}


/* copies n bytes to p, returns the end */
static char *
mt_cat(char *p, const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        *p++ = s[i];
    }

    return p;
}

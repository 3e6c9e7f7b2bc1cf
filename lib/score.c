/*
 * Match scoring (score.h; the formula and its reasons: README.md, "Matching").
 *
 * Lists of short phrases (niches, values) are compared word by word
 * (score_words.c: ASCII lowercased, stopwords dropped, light suffix
 * stripping, variant spellings folded together, small synonym groups
 * that count as a partial match).  The texts built from the matches are
 * in score_text.c; all share score_int.h.
 */

#include <math.h>
#include <string.h>

#include "score.h"
#include "score_int.h"
#include "util.h"


#define MT_NEUTRAL       0.5    /* a signal the assignment does not ask */
#define MT_MISSING       0.3    /* engagement data the creator lacks */

/* list weights of the creator's side */
#define MT_W_PRIMARY     1.0
#define MT_W_SECONDARY   0.6
#define MT_W_CAUSE       0.4
#define MT_W_STYLE       0.5    /* contentStyle words for the tone */

/* matchScore weights; they sum to 1 */
#define MT_W_SEM         0.30
#define MT_W_NICHE       0.45
#define MT_W_VALUE       0.07
#define MT_W_AUDIENCE    0.08
#define MT_W_TONE        0.05
#define MT_W_ENGAGE      0.05

/* the semantic part of the score: relative cosine, then absolute */
#define MT_SEM_REL       0.7
#define MT_SEM_SCALE     0.6    /* the smallest best cosine that scales */

/*
 * topic fit (score_concepts.c): its share of nicheAlignment when the
 * brief names niches (all of it when not), and what a creator that shares
 * no topic at all with the brief keeps of its score
 */
#define MT_TOPIC_MIX     0.4
#define MT_TOPIC_NONE    0.1    /* below: no topical overlap */
#define MT_OFF_TOPIC     0.6

/* audience: region against the demographic words */
#define MT_AUD_REGION    0.6
#define MT_DEMO_FULL     3      /* demographic words that make a full fit */


static double mt_clamp(double v);
static double mt_phrase_sim(const mt_phrase_t *a, const mt_phrase_t *b,
    double *raw);
static double mt_match(const mt_json_t *a, const char *want_key,
    const mt_json_t *c, const char *const *keys, const double *weights,
    size_t nkeys, const double *mix, mt_match_t *m);
static size_t mt_country(const char *s, size_t len, char out[3]);
static double mt_audience(const mt_json_t *a, const mt_json_t *c);
static double mt_engagement(const mt_json_t *c);


/* European countries, for the EU region */
static const char  mt_europe[] =
    " at be bg hr cy cz dk ee fi fr de gr hu ie it lv lt lu mt nl pl pt ro"
    " sk si es se gb ch no is ";


void
mt_brief_init(mt_brief_t *br, const mt_json_t *assignment)
{
    br->a = assignment;
    mt_brief_bag(br, assignment);
}


void
mt_score(const mt_json_t *assignment, const mt_json_t *creator,
    double cosine, double best_cosine, int semantic_ok, mt_breakdown_t *b)
{
    mt_brief_t  br;

    mt_brief_init(&br, assignment);
    mt_score_brief(&br, creator, cosine, best_cosine, semantic_ok, b);
}


void
mt_score_brief(const mt_brief_t *br, const mt_json_t *creator,
    double cosine, double best_cosine, int semantic_ok, mt_breakdown_t *b)
{
    double            cos, rel, sem, sum, wsum, scale, topic, niche;
    mt_match_t        m;
    const mt_json_t  *assignment;

    assignment = br->a;
    cos = isfinite(cosine) ? cosine : 0.0;

    /*
     * The niches the brief asks for, and the topic of its text: without
     * niches the topic is all there is to say what the brief is about.
     */
    topic = mt_topic_fit(br, creator);
    niche = mt_match_niches(assignment, creator, &m);

    if (topic < 0.0) {
        /* the map knows none of the brief's words: no signal from it */
        b->niche = niche < 0.0 ? MT_NEUTRAL : niche;

    } else {
        b->niche = niche < 0.0 ? topic
                               : (1.0 - MT_TOPIC_MIX) * niche
                                 + MT_TOPIC_MIX * topic;
    }
    b->value = mt_match_values(assignment, creator, &m);
    b->value = b->value < 0.0 ? MT_NEUTRAL : b->value;
    b->audience = mt_audience(assignment, creator);
    b->tone = mt_tone(assignment, creator, NULL);
    b->engagement = mt_engagement(creator);
    b->semantic = semantic_ok ? mt_clamp(cos) : 0.0;

    sum = MT_W_NICHE * b->niche + MT_W_VALUE * b->value
          + MT_W_AUDIENCE * b->audience + MT_W_TONE * b->tone
          + MT_W_ENGAGE * b->engagement;
    wsum = MT_W_NICHE + MT_W_VALUE + MT_W_AUDIENCE + MT_W_TONE
           + MT_W_ENGAGE;

    if (semantic_ok) {
        /*
         * Cosines of one embedder are comparable within a request, not
         * across embedders (TF-IDF: 0.05-0.5, ada: 0.7-0.9): the best
         * candidate of the request sets the scale.  A best below
         * MT_SEM_SCALE does not stretch it further: when even the best
         * shares little with the brief, the differences are mostly
         * noise.  The absolute cosine keeps a weak best from full marks.
         */
        scale = (isfinite(best_cosine) && best_cosine > MT_SEM_SCALE)
                ? best_cosine : MT_SEM_SCALE;
        rel = mt_clamp(cos / scale);

        sem = MT_SEM_REL * rel + (1.0 - MT_SEM_REL) * b->semantic;
        sum += MT_W_SEM * sem;
        wsum += MT_W_SEM;
    }

    b->score = mt_clamp(sum / wsum);

    /*
     * Size, engagement and a friendly tone must not lift a creator that
     * shares nothing with the brief above one that does.
     */
    if (topic >= 0.0 && topic < MT_TOPIC_NONE && niche < MT_HIT * MT_HIT) {
        b->score *= MT_OFF_TOPIC;
    }
}


/* [0, 1]; NaN is 0 */
static double
mt_clamp(double v)
{
    if (!(v > 0.0)) {
        return 0.0;
    }

    return v > 1.0 ? 1.0 : v;
}


/*
 * The harmonic mean of the two coverages, each word taking its best
 * counterpart and counting by its weight, times the weight of the best
 * shared word: "personal finance" against "finance" is 0.67, "money
 * tips" against "personal finance & money" about 0.6, "Lifestyle"
 * against "Lifestyle" MT_BROAD.  *raw gets it without that last factor:
 * how much the phrases overlap, for the texts.
 */
static double
mt_phrase_sim(const mt_phrase_t *a, const mt_phrase_t *b, double *raw)
{
    size_t  i, j;
    double  s, best, ca, cb, wa, wb, spec;

    *raw = 0.0;

    if (a->n == 0 || b->n == 0) {
        return 0.0;
    }

    ca = 0.0;
    wa = 0.0;
    spec = 0.0;

    for (i = 0; i < a->n; i++) {
        best = 0.0;

        for (j = 0; j < b->n; j++) {
            s = mt_word_sim(&a->w[i], &b->w[j]);
            best = s > best ? s : best;

            if (s > 0.0) {
                s = a->w[i].weight < b->w[j].weight ? a->w[i].weight
                                                    : b->w[j].weight;
                spec = s > spec ? s : spec;
            }
        }

        ca += a->w[i].weight * best;
        wa += a->w[i].weight;
    }

    cb = 0.0;
    wb = 0.0;

    for (j = 0; j < b->n; j++) {
        best = 0.0;

        for (i = 0; i < a->n; i++) {
            s = mt_word_sim(&a->w[i], &b->w[j]);
            best = s > best ? s : best;
        }

        cb += b->w[j].weight * best;
        wb += b->w[j].weight;
    }

    ca /= wa;
    cb /= wb;
    *raw = (ca + cb > 0.0) ? 2.0 * ca * cb / (ca + cb) : 0.0;

    return spec * *raw;
}


/* ----------------------------------------------------------------------
 * lists: niches and values
 */

/*
 * Each wanted phrase against every item of the creator's lists, scaled by
 * the list's weight; the best per wanted phrase is kept.  Also the focus:
 * how much of the first list (the creator's main niches) the brief
 * wants.  Returns the best hit and the mean over wanted phrases mixed
 * with mix[0] and mix[1] and the focus with mix[2]; -1 when nothing is
 * wanted.
 */
static double
mt_match(const mt_json_t *a, const char *want_key, const mt_json_t *c,
    const char *const *keys, const double *weights, size_t nkeys,
    const double *mix, mt_match_t *m)
{
    size_t            i, j, k, n;
    double            s, raw, best, mean, max, focus, nfocus;
    mt_phrase_t       want[MT_LIST_MAX], have;
    const mt_json_t  *items[MT_LIST_MAX], *an;

    m->n = mt_get_list(a, want_key, m->want);

    for (i = 0; i < m->n; i++) {
        mt_phrase(m->want[i]->u.string.s, m->want[i]->u.string.len,
                  &want[i]);
        m->hit[i] = NULL;
        m->sim[i] = 0.0;
        m->wsim[i] = 0.0;
    }

    if (m->n == 0) {
        return -1.0;
    }

    an = mt_json_get(c, "analysis");
    focus = 0.0;
    nfocus = 0.0;

    for (k = 0; k < nkeys; k++) {
        n = mt_get_list(an, keys[k], items);

        for (j = 0; j < n; j++) {
            mt_phrase(items[j]->u.string.s, items[j]->u.string.len, &have);
            best = 0.0;

            for (i = 0; i < m->n; i++) {
                s = mt_phrase_sim(&want[i], &have, &raw);
                best = s > best ? s : best;

                /* ties keep the earlier, more important list */
                if (s * weights[k] > m->wsim[i]) {
                    m->wsim[i] = s * weights[k];
                    m->sim[i] = raw;
                    m->hit[i] = items[j];
                }
            }

            if (k == 0) {
                focus += best;
                nfocus += 1.0;
            }
        }
    }

    mean = 0.0;
    max = 0.0;

    for (i = 0; i < m->n; i++) {
        mean += m->wsim[i];
        max = m->wsim[i] > max ? m->wsim[i] : max;
    }

    mean /= (double) m->n;
    focus = (nfocus > 0.0) ? focus / nfocus : 0.0;

    return mt_clamp(mix[0] * max + mix[1] * mean + mix[2] * focus);
}


/*
 * Niches: the best hit, so that one strong match counts; the mean, so
 * that covering every requested niche counts more; the focus, so that a
 * creator whose main niches are the brief beats one that lists it among
 * many.
 */
double
mt_match_niches(const mt_json_t *a, const mt_json_t *c, mt_match_t *m)
{
    static const char *const  keys[] = {
        "primaryNiches", "secondaryNiches", "identifiedCauses"
    };
    static const double       weights[] = {
        MT_W_PRIMARY, MT_W_SECONDARY, MT_W_CAUSE
    };
    static const double       mix[] = { 0.3, 0.2, 0.5 };

    return mt_match(a, "creatorNiches", c, keys, weights, 3, mix, m);
}


/* values: a creator stands for few, the best hit and the mean suffice */
double
mt_match_values(const mt_json_t *a, const mt_json_t *c, mt_match_t *m)
{
    static const char *const  keys[] = { "apparentValues" };
    static const double       weights[] = { MT_W_PRIMARY };
    static const double       mix[] = { 0.5, 0.5, 0.0 };

    return mt_match(a, "creatorValues", c, keys, weights, 1, mix, m);
}


/* ----------------------------------------------------------------------
 * tone, audience, engagement
 */

/*
 * Each word of toneStyle against the creator's tone words and, at half
 * weight, the words of its contentStyle; the mean over the wanted words
 * (a tone is all of its words).  hits, when not NULL, gets bit i set for
 * tone item i that matched a wanted word.  No toneStyle: neutral.
 */
double
mt_tone(const mt_json_t *a, const mt_json_t *c, uint32_t *hits)
{
    size_t            i, j, n, pos, len;
    double            s, best[MT_PHRASE_MAX], sum;
    const char       *str;
    mt_word_t         w;
    mt_phrase_t       want, have, one;
    const mt_json_t  *es, *items[MT_LIST_MAX];

    if (hits != NULL) {
        *hits = 0;
    }

    str = mt_get_str(a, "toneStyle", &len);
    mt_phrase(str, len, &want);

    if (want.n == 0) {
        return MT_NEUTRAL;
    }

    for (i = 0; i < want.n; i++) {
        best[i] = 0.0;
    }

    es = mt_json_get(mt_json_get(c, "analysis"), "engagementStyle");
    n = mt_get_list(es, "tone", items);

    for (j = 0; j < n; j++) {
        mt_phrase(items[j]->u.string.s, items[j]->u.string.len, &have);

        for (i = 0; i < want.n; i++) {
            /* the overlap: "humorous" is no umbrella word for a tone */
            one.w[0] = want.w[i];
            one.n = 1;
            (void) mt_phrase_sim(&one, &have, &s);

            if (s >= MT_HIT && hits != NULL) {
                *hits |= (uint32_t) 1 << j;
            }

            best[i] = s > best[i] ? s : best[i];
        }
    }

    str = mt_get_str(es, "contentStyle", &len);
    pos = 0;

    while (mt_word_next(str, len, &pos, &w)) {
        for (i = 0; i < want.n; i++) {
            s = MT_W_STYLE * mt_word_sim(&want.w[i], &w);
            best[i] = s > best[i] ? s : best[i];
        }
    }

    sum = 0.0;

    for (i = 0; i < want.n; i++) {
        sum += best[i];
    }

    return mt_clamp(sum / (double) want.n);
}


/* the country of "US", "en-US", "en_us"; 0 when none */
static size_t
mt_country(const char *s, size_t len, char out[3])
{
    size_t  i;

    for (i = len; i > 0; i--) {
        if (s[i - 1] == '-' || s[i - 1] == '_') {
            break;
        }
    }

    if (len - i != 2) {
        return 0;
    }

    out[0] = (char) (s[i] | 0x20);
    out[1] = (char) (s[i + 1] | 0x20);
    out[2] = '\0';

    /* the United Kingdom has two codes */
    if (out[0] == 'u' && out[1] == 'k') {
        out[0] = 'g';
        out[1] = 'b';
    }

    return 2;
}


/*
 * 1 for the same country, 0.5 between "EU" and a European country (one
 * market, not one audience), 0 otherwise; -1 when the assignment names
 * no locale, MT_NEUTRAL when the creator has no usable region.  *how
 * tells which, for the texts.
 */
double
mt_region_fit(const mt_json_t *a, const mt_json_t *c, int *how)
{
    char         want[3], have[3];
    size_t       len;
    const char  *s;

    s = mt_get_str(mt_json_get(a, "targetAudience"), "locale", &len);

    if (s == NULL || mt_country(s, len, want) == 0) {
        *how = MT_REGION_NONE;
        return -1.0;
    }

    s = mt_get_str(c, "region", &len);

    if (s == NULL || mt_country(s, len, have) == 0) {
        *how = MT_REGION_UNKNOWN;
        return MT_NEUTRAL;
    }

    if (strcmp(want, have) == 0) {
        *how = MT_REGION_SAME;
        return 1.0;
    }

    if ((strcmp(want, "eu") == 0 && mt_in(mt_europe, have, 2))
        || (strcmp(have, "eu") == 0 && mt_in(mt_europe, want, 2)))
    {
        *how = MT_REGION_NEAR;
        return 0.5;
    }

    *how = MT_REGION_OTHER;
    return 0.0;
}


/*
 * How many words of the demographic the creator's audience interests and
 * summary have (synonyms partly), MT_DEMO_FULL of them making a full fit:
 * a demographic is a long description, a few shared words already say a
 * lot.  -1 when the assignment names no demographic.
 */
double
mt_demo_fit(const mt_json_t *a, const mt_json_t *c, mt_phrase_t *want,
    double *best)
{
    size_t            i, j, n, pos, len;
    double            s, sum;
    const char       *str;
    mt_word_t         w;
    const mt_json_t  *an, *items[MT_LIST_MAX + 1];

    str = mt_get_str(mt_json_get(a, "targetAudience"), "demographic", &len);
    mt_phrase(str, len, want);

    if (want->n == 0) {
        return -1.0;
    }

    for (i = 0; i < want->n; i++) {
        best[i] = 0.0;
    }

    an = mt_json_get(c, "analysis");
    n = mt_get_list(an, "audienceInterests", items);
    items[n] = mt_json_get(an, "summary");
    if (items[n] != NULL && items[n]->type == MT_JSON_STRING) {
        n++;
    }

    for (j = 0; j < n; j++) {
        pos = 0;

        while (mt_word_next(items[j]->u.string.s, items[j]->u.string.len,
                            &pos, &w))
        {
            for (i = 0; i < want->n; i++) {
                s = mt_word_sim(&want->w[i], &w);
                best[i] = s > best[i] ? s : best[i];
            }
        }
    }

    sum = 0.0;

    for (i = 0; i < want->n; i++) {
        sum += best[i];
    }

    return mt_clamp(sum / (double) (want->n < MT_DEMO_FULL ? want->n
                                                            : MT_DEMO_FULL));
}


static double
mt_audience(const mt_json_t *a, const mt_json_t *c)
{
    int          how;
    double       region, demo, best[MT_PHRASE_MAX];
    mt_phrase_t  want;

    region = mt_region_fit(a, c, &how);
    demo = mt_demo_fit(a, c, &want, best);

    if (region < 0.0 && demo < 0.0) {
        return MT_NEUTRAL;
    }

    if (region < 0.0) {
        return demo;
    }

    if (demo < 0.0) {
        return region;
    }

    return MT_AUD_REGION * region + (1.0 - MT_AUD_REGION) * demo;
}


/*
 * Half reach, half engagement rate.  Reach is log-scaled: 1k followers
 * 0, 10k 0.28, 100k 0.56, 1M 0.83, 4M and more 1.  The rate is likes per
 * video per follower, r / (r + 0.05): 5% gives 0.5, 15% 0.75.  What the
 * creator lacks counts as MT_MISSING: low, but not a penalty to zero.
 */
static double
mt_engagement(const mt_json_t *c)
{
    double  f, h, v, reach, rate, r;

    f = mt_get_count(c, "followerCount");
    h = mt_get_count(c, "heartCount");
    v = mt_get_count(c, "videoCount");

    reach = (f < 0.0) ? MT_MISSING
                      : (f < 1.0) ? 0.0 : mt_clamp((log10(f) - 3.0) / 3.6);

    if (f >= 1.0 && h >= 0.0 && v >= 1.0) {
        r = h / v / f;
        rate = r / (r + 0.05);

    } else {
        rate = MT_MISSING;
    }

    return mt_clamp(0.5 * reach + 0.5 * rate);
}

/*
 * Topic fit (score_int.h): what a brief is about against what a creator
 * covers, through a small map of concepts.  A brief says "the price of
 * eggs", a profile says "Personal Finance" and "Spending habits": no
 * word in common, and the embedding of a few lines of text cannot know
 * they meet.  Each concept below lists the everyday words and the niche
 * words that point to it; both sides become a bag of concepts and the
 * fit is how much the two bags overlap.
 *
 * The lists are a general taxonomy of creator niches, written once from
 * what briefs and profiles talk about, not from any one brief.  A word
 * may point to several concepts ("grocery": money and food).  Words are
 * given in plain form and go through the stemming of score_words.c when
 * the table is built, so "prices", "price" and "pricing" all count.
 */

#include <math.h>
#include <string.h>

#include "score.h"
#include "score_int.h"


/* what each field of a side counts for in its bag */
#define MT_CB_TOPIC       1.0
#define MT_CB_TAKEAWAY    0.7
#define MT_CB_CONTEXT     0.4
#define MT_CB_NICHE       1.0     /* creatorNiches, primaryNiches */
#define MT_CB_SECONDARY   0.6
#define MT_CB_INTERESTS   0.6
#define MT_CB_CAUSES      0.5
#define MT_CB_STANCES     0.3
#define MT_CB_BIO         0.5
#define MT_CB_TAGS        0.3

/* the power the brief's bag is raised to (the creator's: 0.5) */
#define MT_BRIEF_DAMP     0.5


/* one concept a line: its words; at most MT_CONCEPTS_MAX lines */
const char *const  mt_concept_words[] = {
    /* 0 money, personal finance, consumer spending */
    " money budget budgeting saving savings save spend spending price"
    " pricing cost costs expensive cheap cheaper afford affordable"
    " inflation shrinkflation debt loan loans credit bank banking"
    " paycheck income tax taxes bill bills fee fees refund coupon"
    " coupons discount deal deals grocery groceries receipt receipts"
    " subscription subscriptions overdraft wallet purchase purchases"
    " shopping shopper consumer consumers checkout frugal finance"
    " financial finances economic economics wealth retirement pension"
    " charge charges spent pay paying dollar dollars cash rent"
    " deposit hustle hustles freelancer freelance ",
    /* 1 investing and markets */
    " invest investing investor investors investment stock stocks"
    " market markets index fund funds portfolio dividend dividends"
    " etf bond bonds retirement compound interest returns crypto"
    " broker brokerage ",
    /* 2 careers, jobs, the workplace */
    " job jobs career careers hiring hire hired recruiter recruiting"
    " recruitment interview interviews resume resumes cv boss bosses"
    " coworker coworkers colleague colleagues employee employees"
    " employer employers manager managers workplace office salary"
    " salaries raise promotion linkedin layoff layoffs quit team"
    " teams duties title paycheck negotiate negotiation posting"
    " postings applicant applicants onboarding workers worker labor"
    " labour ",
    /* 3 law, rights, civic life */
    " law laws legal lawyer attorney right rights court courts"
    " landlord landlords tenant tenants lease contract dispute"
    " claim claims scam scams fraud policy policies vote voting"
    " election government regulation regulations protection"
    " complaint sue lawsuit civic citizen citizens advocacy"
    " transparency deposit paperwork compliance permit permits license"
    " licenses ",
    /* 4 health and medicine */
    " health healthy doctor doctors medical medicine vaccine vaccines"
    " flu virus sleep stress disease symptoms nutrition diet protein"
    " pain ache aching back headache hospital wellness burnout"
    " myth myths immune evidence science body clinic ",
    /* 5 fitness and movement */
    " workout workouts exercise exercises gym fitness reps stretch"
    " stretches stretching mobility run running runner strength"
    " muscle muscles training move movement yoga posture walk"
    " walking cardio sweat band bands ",
    /* 6 mental health and wellbeing */
    " mental anxiety stress burnout therapy selfcare mood wellbeing"
    " overwhelm overwhelmed calm rest neutrality acceptance image"
    " confidence ",
    /* 7 food and cooking */
    " cook cooking recipe recipes meal meals dinner dinners lunch"
    " breakfast kitchen food foods ingredient ingredients grocery"
    " groceries egg eggs produce vegetable vegetables leftover"
    " leftovers pantry fridge farmer farmers bake baking snack snacks"
    " chips cereal eat eating seasonal dish dishes prep ",
    /* 8 parenting and family */
    " kid kids child children toddler toddlers baby babies parent"
    " parents parenting mom moms dad dads family families bedtime"
    " teen teens caregiver caregivers caregiving screen ",
    /* 9 home, repairs, DIY */
    " home house houses repair repairs fix fixes diy tool tools door"
    " doors table faucet plumbing plumber leak leaky drip drawer wall"
    " walls paint renovation renovate furniture squeak squeaky wobble"
    " wobbly hinge drill weatherstripping insulation draft drafts"
    " appliance appliances thermostat winterize ",
    /* 10 technology and digital life */
    " phone phones app apps software computer laptop tablet internet"
    " online privacy security password passwords hack hacker gadget"
    " gadgets ai device devices settings text texts email data cloud"
    " digital wifi tech technology smartphone tracking electronics"
    " battery batteries charger screen screens ",
    /* 11 climate, energy, environment */
    " climate carbon emission emissions energy solar wind electricity"
    " grid heat heatwave weather warming sustainability sustainable"
    " environment environmental recycling waste conditioning cooling"
    " hotter summer summers ",
    /* 12 travel and transit */
    " travel traveling trip trips city cities bus buses train trains"
    " tram trams metro transit subway flight flights hotel backpack"
    " backpacking tourist tourists tourism vacation passport commute"
    " destination destinations visit visitors car ",
    /* 13 study and school */
    " study studying exam exams test tests cram cramming homework"
    " class classes school schools college university student"
    " students learn learning notes revision tutor grade grades"
    " semester teacher teachers ",
    /* 14 games */
    " game games gaming gamer gamers console switch pc steam player"
    " players playthrough stream streaming twitch indie ",
    /* 15 art and creativity */
    " art arts artist drawing draw sketch sketching sketchbook"
    " painting illustration creative creativity music museum design ",
    /* 16 the outdoors and motorsport */
    " outdoor outdoors trail trails hiking rally race races racing"
    " motorsport motorsports forest camping ",
    /* 17 humour and entertainment */
    " funny comedy humor meme memes joke jokes entertainment ",
    /* 18 productivity and habits */
    " productivity focus habit habits routine routines planner"
    " planning schedule organize organized ",
    /* 19 skilled trades and manual work */
    " trade trades tradesperson hands handy tool tools workshop welding"
    " welder construction carpentry carpenter electrician plumber"
    " mechanic mechanics machinery labor labour shift manufacturing"
    " manufacturer factory factories industrial industry steel"
    " equipment warehouse ",
    NULL
};


static void mt_cbag_text(double *bag, const char *s, size_t len,
    double weight);
static void mt_cbag_list(double *bag, const mt_json_t *obj,
    const char *key, double weight);


/*
 * The brief's bag, once per request: each concept's weight damped by
 * MT_BRIEF_DAMP, and the norm of the result.
 */
void
mt_brief_bag(mt_brief_t *br, const mt_json_t *a)
{
    size_t       i, len;
    double       bag[MT_CONCEPTS_MAX], sum;
    const char  *s;

    for (i = 0; i < MT_CONCEPTS_MAX; i++) {
        bag[i] = 0.0;
    }

    s = mt_get_str(a, "topic", &len);
    mt_cbag_text(bag, s, len, MT_CB_TOPIC);
    s = mt_get_str(a, "keyTakeaway", &len);
    mt_cbag_text(bag, s, len, MT_CB_TAKEAWAY);
    s = mt_get_str(a, "additionalContext", &len);
    mt_cbag_text(bag, s, len, MT_CB_CONTEXT);
    mt_cbag_list(bag, a, "creatorNiches", MT_CB_NICHE);

    sum = 0.0;

    for (i = 0; i < MT_CONCEPTS_MAX; i++) {
        br->bag[i] = (bag[i] > 0.0) ? pow(bag[i], MT_BRIEF_DAMP) : 0.0;
        sum += br->bag[i] * br->bag[i];
    }

    br->bag_norm = sqrt(sum);
}


/*
 * The cosine of the two concept bags.  The creator's weights are damped
 * by a square root so that a profile that repeats one word does not own
 * the concept, and a creator spread over many concepts fits each less
 * than one that covers a few.  -1 when the brief names no concept at all
 * (nothing to say), 0 when the creator has none.
 */
double
mt_topic_fit(const mt_brief_t *br, const mt_json_t *c)
{
    size_t            i, len;
    double            cb[MT_CONCEPTS_MAX];
    double            dot, nc;
    const char       *s;
    const mt_json_t  *an;

    if (br->bag_norm <= 0.0) {
        return -1.0;
    }

    for (i = 0; i < MT_CONCEPTS_MAX; i++) {
        cb[i] = 0.0;
    }

    an = mt_json_get(c, "analysis");
    mt_cbag_list(cb, an, "primaryNiches", MT_CB_NICHE);
    mt_cbag_list(cb, an, "secondaryNiches", MT_CB_SECONDARY);
    mt_cbag_list(cb, an, "audienceInterests", MT_CB_INTERESTS);
    mt_cbag_list(cb, an, "identifiedCauses", MT_CB_CAUSES);
    mt_cbag_list(cb, an, "socialStances", MT_CB_STANCES);
    s = mt_get_str(c, "bio", &len);
    mt_cbag_text(cb, s, len, MT_CB_BIO);
    mt_cbag_list(cb, c, "sourceHashtags", MT_CB_TAGS);

    dot = 0.0;
    nc = 0.0;

    for (i = 0; i < MT_CONCEPTS_MAX; i++) {
        if (cb[i] > 0.0) {
            dot += br->bag[i] * sqrt(cb[i]);
            nc += cb[i];
        }
    }

    if (nc <= 0.0) {
        return 0.0;
    }

    return dot / (br->bag_norm * sqrt(nc));
}


/* every word of s counts weight (less for umbrella words) per concept */
static void
mt_cbag_text(double *bag, const char *s, size_t len, double weight)
{
    size_t     i, pos;
    mt_word_t  w;

    pos = 0;

    while (s != NULL && mt_word_next(s, len, &pos, &w)) {
        for (i = 0; i < MT_CONCEPTS_MAX && (w.concepts >> i) != 0; i++) {
            if (w.concepts & ((uint64_t) 1 << i)) {
                bag[i] += weight * w.weight;
            }
        }
    }
}


static void
mt_cbag_list(double *bag, const mt_json_t *obj, const char *key,
    double weight)
{
    size_t            i, n;
    const mt_json_t  *items[MT_LIST_MAX];

    n = mt_get_list(obj, key, items);

    for (i = 0; i < n; i++) {
        mt_cbag_text(bag, items[i]->u.string.s, items[i]->u.string.len,
                     weight);
    }
}

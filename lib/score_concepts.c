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
#define MT_BRIEF_DAMP     0.85


/* the concepts of mt_concept_words, in its order */
enum {
    MT_C_MONEY = 0, MT_C_INVEST, MT_C_CAREER, MT_C_LAW, MT_C_HEALTH,
    MT_C_FITNESS, MT_C_MENTAL, MT_C_FOOD, MT_C_FAMILY, MT_C_HOME, MT_C_TECH,
    MT_C_CLIMATE, MT_C_TRAVEL, MT_C_STUDY, MT_C_GAMES, MT_C_ART,
    MT_C_OUTDOOR, MT_C_HUMOUR, MT_C_HABITS, MT_C_TRADES
};

#define MT_C(c)  ((uint64_t) 1 << MT_C_##c)

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
    " law laws legal lawyer attorney rights court courts"
    " landlord landlords tenant tenants lease contract dispute"
    " claim claims scam scams fraud policy policies vote voting"
    " election government regulation regulations protection"
    " complaint sue lawsuit civic citizen citizens advocacy"
    " transparency deposit paperwork compliance permit permits license"
    " licenses ",
    /* 4 health and medicine */
    " health healthy doctor doctors medical medicine vaccine vaccines"
    " flu virus sleep stress disease symptoms nutrition diet protein"
    " pain ache aching headache hospital wellness burnout"
    " myth myths immune evidence science body clinic ",
    /* 5 fitness and movement */
    " workout workouts exercise exercises gym fitness reps stretch"
    " stretches stretching mobility run running runner strength"
    " muscle muscles training move movement yoga posture walk"
    " walking cardio sweat band bands ",
    /* 6 mental health and wellbeing */
    " mental anxiety stress burnout therapy selfcare mood wellbeing"
    " overwhelm overwhelmed calm rest neutrality acceptance"
    " confidence ",
    /* 7 food and cooking */
    " cook cooking recipe recipes meal meals dinner dinners lunch"
    " breakfast kitchen food foods ingredient ingredients grocery"
    " groceries egg eggs vegetable vegetables leftover"
    " leftovers pantry fridge farmer farmers bake baking snack snacks"
    " chips cereal eat eating seasonal dish dishes ",
    /* 8 parenting and family */
    " kid kids child children toddler toddlers baby babies parent"
    " parents parenting mom moms dad dads family families bedtime"
    " teen teens caregiver caregivers caregiving ",
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
    " mechanic mechanics machinery labor labour manufacturing"
    " manufacturer factory factories industrial steel"
    " equipment warehouse ",
    NULL
};


/*
 * Expressions that use a word of the map for something else: "game
 * plan" is no game, "farmers' market" no stock market, "running a
 * business" no run, "the rest of" no rest, "deal with" no bargain.  They
 * count as a whole, for the concepts given (0: none), and their words no
 * longer count alone.  Some also keep a literal sense that a single word
 * of the map would give too often in its other senses ("back pain",
 * "meal prep", "screen time", "right to").  Written from common English
 * usage of the map's words, not from any brief: a general list.
 * Stopwords are part of an expression ("deal with"), one-letter words
 * are not ("running a business": "running business").
 */
const mt_idiom_t  mt_idioms[] = {
    /* games and play */
    { "game plan", 0 }, { "long game", 0 }, { "game changer", 0 },
    { "ahead of the game", 0 }, { "name of the game", 0 },
    { "level up", 0 }, { "team player", MT_C(CAREER) },
    { "key player", 0 }, { "make the switch", 0 },
    { "run out of steam", 0 }, { "let off steam", 0 },
    { "full steam ahead", 0 }, { "fair game", 0 },
    { "streaming service", MT_C(HUMOUR) },
    { "income stream", MT_C(MONEY) }, { "revenue stream", MT_C(MONEY) },
    { "blue chip", MT_C(INVEST) },

    /* money */
    { "pay attention", 0 }, { "pay the price", 0 }, { "pay it forward", 0 },
    { "deal with", 0 }, { "big deal", 0 },
    { "great deal of", 0 }, { "take credit", 0 }, { "give credit", 0 },
    { "bank on", 0 }, { "cash in on", 0 }, { "at all costs", 0 },
    { "at any cost", 0 }, { "spend time", 0 }, { "spent time", 0 },
    { "spend more time", 0 }, { "in charge", 0 }, { "take charge", 0 },
    { "free of charge", MT_C(MONEY) }, { "bill of rights", MT_C(LAW) },
    { "cook the books", MT_C(MONEY) | MT_C(LAW) },
    { "stretch your budget", MT_C(MONEY) },
    { "stretch a budget", MT_C(MONEY) },
    { "stretch your dollar", MT_C(MONEY) },
    { "stretch a paycheck", MT_C(MONEY) },
    { "stretch your paycheck", MT_C(MONEY) },
    { "raise money", MT_C(MONEY) }, { "raise funds", MT_C(MONEY) },

    /* markets and investing */
    { "farmers market", MT_C(FOOD) }, { "farmer market", MT_C(FOOD) },
    { "flea market", MT_C(MONEY) }, { "black market", 0 },
    { "job market", MT_C(CAREER) }, { "labor market", MT_C(CAREER) },
    { "labour market", MT_C(CAREER) },
    { "housing market", MT_C(HOME) | MT_C(MONEY) },
    { "market research", MT_C(CAREER) }, { "market stall", MT_C(FOOD) },
    { "take stock", 0 }, { "stock up", MT_C(MONEY) },
    { "interest in", 0 }, { "best interest", 0 }, { "public interest", 0 },
    { "conflict of interest", 0 }, { "self interest", 0 },
    { "in return", 0 }, { "return to", 0 },
    { "tax return", MT_C(MONEY) }, { "return policy", MT_C(MONEY) },
    { "bond with", MT_C(FAMILY) }, { "wall street", MT_C(INVEST) },

    /* careers */
    { "raise awareness", 0 }, { "raise concerns", 0 },
    { "raise concern", 0 }, { "raise your hand", 0 },
    { "raise kids", MT_C(FAMILY) }, { "raise children", MT_C(FAMILY) },
    { "call it quits", 0 }, { "quit smoking", MT_C(HEALTH) },
    { "work from home", MT_C(CAREER) },
    { "home office", MT_C(CAREER) | MT_C(HOME) },
    { "password manager", MT_C(TECH) },
    { "management training", MT_C(CAREER) },
    { "job training", MT_C(CAREER) }, { "staff training", MT_C(CAREER) },
    { "employee training", MT_C(CAREER) },
    { "interview prep", MT_C(CAREER) }, { "rat race", MT_C(CAREER) },
    { "small business", MT_C(CAREER) },
    { "run business", MT_C(CAREER) }, { "running business", MT_C(CAREER) },
    { "run a business", MT_C(CAREER) }, { "business plan", MT_C(CAREER) },

    /* law and civic life */
    { "right to", MT_C(LAW) }, { "exercise your rights", MT_C(LAW) },
    { "city council", MT_C(LAW) }, { "city hall", MT_C(LAW) },
    { "class action", MT_C(LAW) }, { "run for office", MT_C(LAW) },
    { "paper trail", MT_C(LAW) | MT_C(MONEY) },
    { "social security", MT_C(MONEY) | MT_C(LAW) },
    { "political climate", MT_C(LAW) }, { "political rally", MT_C(LAW) },

    /* health and the body */
    { "back pain", MT_C(HEALTH) }, { "lower back", MT_C(HEALTH) },
    { "upper back", MT_C(HEALTH) }, { "back ache", MT_C(HEALTH) },
    { "sore back", MT_C(HEALTH) }, { "bad back", MT_C(HEALTH) },
    { "back injury", MT_C(HEALTH) },
    { "body image", MT_C(MENTAL) | MT_C(HEALTH) },
    { "self image", MT_C(MENTAL) },
    { "pain point", 0 }, { "growing pains", 0 }, { "stress test", 0 },
    { "under the weather", MT_C(HEALTH) },
    { "fight or flight", MT_C(MENTAL) },
    { "energy level", MT_C(HEALTH) }, { "low energy", MT_C(HEALTH) },
    { "more energy", MT_C(HEALTH) },
    { "job security", MT_C(CAREER) }, { "food security", MT_C(FOOD) },
    { "doctor visit", MT_C(HEALTH) }, { "eye exam", MT_C(HEALTH) },
    { "nursing home", MT_C(HEALTH) | MT_C(FAMILY) },
    { "home care", MT_C(HEALTH) | MT_C(FAMILY) },

    /* fitness and movement */
    { "run out", 0 }, { "run out of", 0 }, { "in the long run", 0 },
    { "long run", 0 }, { "short run", 0 }, { "dry run", 0 },
    { "run errands", 0 }, { "run into", 0 }, { "up and running", 0 },
    { "running costs", MT_C(MONEY) }, { "run the numbers", 0 },
    { "run ads", MT_C(CAREER) }, { "run a campaign", 0 },
    { "move in", MT_C(HOME) }, { "move out", MT_C(HOME) },
    { "move on", 0 }, { "move forward", 0 }, { "smart move", 0 },
    { "bold move", 0 }, { "walk through", 0 }, { "walk you through", 0 },
    { "walk away", 0 }, { "walk the talk", 0 }, { "at a stretch", 0 },
    { "don't sweat it", 0 }, { "sweat the small stuff", 0 },
    { "strength training", MT_C(FITNESS) },
    { "weight training", MT_C(FITNESS) }, { "in the running", 0 },

    /* rest and calm */
    { "the rest of", 0 }, { "rest of", 0 }, { "the rest", 0 },
    { "rest assured", 0 }, { "net neutrality", MT_C(TECH) },
    { "body neutrality", MT_C(MENTAL) | MT_C(FITNESS) },

    /* food and cooking */
    { "recipe for disaster", 0 }, { "recipe for success", 0 },
    { "key ingredient", 0 }, { "secret ingredient", 0 },
    { "secret sauce", 0 }, { "food for thought", 0 },
    { "bread and butter", 0 }, { "piece of cake", 0 },
    { "cup of tea", 0 }, { "half baked", 0 }, { "meal ticket", 0 },
    { "eat into", 0 }, { "spill the beans", 0 },
    { "fresh produce", MT_C(FOOD) }, { "seasonal produce", MT_C(FOOD) },
    { "local produce", MT_C(FOOD) }, { "produce aisle", MT_C(FOOD) },
    { "produce section", MT_C(FOOD) },
    { "meal prep", MT_C(FOOD) }, { "food prep", MT_C(FOOD) },
    { "exam prep", MT_C(STUDY) }, { "test prep", MT_C(STUDY) },
    { "home cook", MT_C(FOOD) }, { "home cooking", MT_C(FOOD) },
    { "food waste", MT_C(FOOD) | MT_C(CLIMATE) },
    { "computer chips", MT_C(TECH) },

    /* family */
    { "screen time", MT_C(FAMILY) | MT_C(TECH) },
    { "just kidding", 0 }, { "no kidding", 0 }, { "baby steps", 0 },
    { "baby boomers", 0 }, { "parent company", 0 },
    { "stay at home", MT_C(FAMILY) },

    /* home */
    { "at home", 0 }, { "bring home", 0 }, { "hit home", 0 },
    { "drive home", 0 }, { "home run", 0 }, { "home page", MT_C(TECH) },
    { "home screen", MT_C(TECH) }, { "quick fix", 0 },
    { "hit a wall", 0 }, { "door to door", 0 }, { "next door", 0 },
    { "open the door", 0 }, { "on the table", 0 },
    { "at the table", 0 }, { "seat at the table", 0 },
    { "paint a picture", 0 }, { "fire drill", 0 }, { "drill down", 0 },
    { "first draft", 0 }, { "rough draft", 0 }, { "in house", 0 },
    { "house of cards", 0 }, { "data leak", MT_C(TECH) },

    /* technology */
    { "life hack", 0 }, { "budget hack", MT_C(MONEY) },
    { "money hack", MT_C(MONEY) }, { "growth hack", MT_C(CAREER) },
    { "keep track", 0 }, { "keep track of", 0 }, { "on track", 0 },
    { "track record", 0 }, { "fast track", 0 },
    { "habit tracking", MT_C(HABITS) }, { "habit tracker", MT_C(HABITS) },
    { "recharge your batteries", MT_C(MENTAL) },
    { "ai tools", MT_C(TECH) }, { "budgeting tools", MT_C(MONEY) },
    { "budget tool", MT_C(MONEY) },

    /* climate and weather */
    { "economic climate", MT_C(MONEY) }, { "business climate", 0 },
    { "workplace climate", MT_C(CAREER) },
    { "heat of the moment", 0 }, { "take the heat", 0 },
    { "turn up the heat", 0 }, { "weather the storm", 0 },
    { "waste of time", MT_C(HABITS) }, { "waste time", MT_C(HABITS) },
    { "wind down", MT_C(MENTAL) }, { "second wind", 0 },
    { "wind up", 0 }, { "off the grid", MT_C(OUTDOOR) },
    { "cooling off", 0 },

    /* travel */
    { "guilt trip", 0 }, { "trip up", 0 }, { "under the bus", 0 },
    { "train your brain", 0 }, { "train staff", MT_C(CAREER) },
    { "train employees", MT_C(CAREER) },

    /* study */
    { "put to the test", 0 }, { "test drive", 0 }, { "taste test", 0 },
    { "test results", MT_C(HEALTH) }, { "middle class", MT_C(MONEY) },
    { "working class", MT_C(MONEY) }, { "first class", MT_C(TRAVEL) },
    { "learn more", 0 }, { "old school", 0 },
    { "school of thought", 0 }, { "note that", 0 }, { "take note", 0 },
    { "do your homework", 0 },

    /* art */
    { "by design", 0 }, { "draw attention", 0 }, { "draw the line", 0 },
    { "draw up", 0 },
    { "draw conclusions", 0 }, { "art of", 0 },
    { "hand drawn", MT_C(ART) },

    /* the outdoors */
    { "blaze a trail", 0 }, { "race against", 0 },
    { "rally support", 0 }, { "rally behind", 0 }, { "rally around", 0 },

    /* humour, habits */
    { "no joke", 0 }, { "focus on", 0 }, { "focus group", MT_C(CAREER) },
    { "retirement plan", MT_C(INVEST) | MT_C(MONEY) },
    { "retirement planning", MT_C(INVEST) | MT_C(MONEY) },
    { "meal plan", MT_C(FOOD) }, { "meal planning", MT_C(FOOD) },
    { "data plan", MT_C(TECH) | MT_C(MONEY) },
    { "phone plan", MT_C(TECH) | MT_C(MONEY) },
    { "health plan", MT_C(HEALTH) | MT_C(MONEY) },
    { "lesson plan", MT_C(STUDY) },

    /* trades and work */
    { "trade off", 0 }, { "tricks of the trade", 0 },
    { "trade war", MT_C(MONEY) }, { "trade school", MT_C(STUDY)
      | MT_C(TRADES) }, { "fair trade", MT_C(MONEY) },
    { "on the other hand", 0 }, { "on one hand", 0 },
    { "hands down", 0 }, { "hand in hand", 0 }, { "first hand", 0 },
    { "at hand", 0 }, { "lend a hand", 0 }, { "hand over", 0 },
    { "hands on", MT_C(TRADES) },
    { "night shift", MT_C(CAREER) | MT_C(TRADES) },
    { "day shift", MT_C(CAREER) | MT_C(TRADES) },
    { "shift work", MT_C(CAREER) | MT_C(TRADES) },
    { "shift worker", MT_C(CAREER) | MT_C(TRADES) },
    { "labor law", MT_C(LAW) | MT_C(CAREER) },
    { "labor day", 0 }, { "gym equipment", MT_C(FITNESS) },

    { NULL, 0 }
};


static void mt_cbag_text(double *bag, const char *s, size_t len,
    double weight);
static void mt_cbag_list(double *bag, const mt_json_t *obj,
    const char *key, double weight);


/*
 * The brief's bag, once per request: each concept's weight damped by
 * MT_BRIEF_DAMP, and the norm of the result.  The damping is milder than
 * the creator's square root: the brief names its subject in every field,
 * and a word it uses once in passing ("less stress" in a study brief)
 * must not weigh almost as much as that subject.
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


/*
 * Every word of s counts weight (less for umbrella words) per concept,
 * but the words of an expression of mt_idioms count once, for the
 * concepts of the expression.
 */
static void
mt_cbag_text(double *bag, const char *s, size_t len, double weight)
{
    size_t     i, n, used, pos;
    uint64_t   concepts;
    double     wt;
    mt_word_t  win[MT_IDIOM_WORDS];

    pos = 0;
    n = 0;

    while (s != NULL) {
        while (n < MT_IDIOM_WORDS && mt_token_next(s, len, &pos, &win[n])) {
            n++;
        }

        if (n == 0) {
            break;
        }

        used = mt_idiom_at(win, n, &concepts);
        wt = weight;

        if (used == 0) {
            used = 1;
            concepts = win[0].concepts;
            wt = weight * win[0].weight;
        }

        for (i = 0; i < MT_CONCEPTS_MAX && (concepts >> i) != 0; i++) {
            if (concepts & ((uint64_t) 1 << i)) {
                bag[i] += wt;
            }
        }

        n -= used;
        memmove(win, win + used, n * sizeof(mt_word_t));
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

/*
 * The words of match scoring (score_int.h): how a phrase ("Personal
 * Finances") becomes words ("personal", "financ"), and how much two words
 * have in common.  ASCII is lowercased, stopwords dropped, plurals and
 * common suffixes stripped, a few variant spellings folded together, and
 * small synonym groups count as a partial match.
 */

#include <pthread.h>
#include <string.h>

#include "score.h"
#include "score_int.h"
#include "util.h"


static int mt_is_word(unsigned char c);
static void mt_stem_suffix(mt_word_t *w);
static void mt_stem_variant(mt_word_t *w, const char *to);

/* a word of the lists below: see mt_lex_find() */
typedef struct {
    uint64_t                hash;       /* 0: empty */
    uint64_t                concepts;   /* score_concepts.c, 1 << i */
    uint32_t                groups;     /* synonym groups, 1 << i */
    uint8_t                 stop;
    uint8_t                 broad;
    uint8_t                 whole;      /* no suffix stripping */
    uint16_t                idiom;      /* the first expression it starts,
                                           in mt_idiom_words, + 1; 0 none */
    int16_t                 variant;    /* in mt_variants, -1: none */
} mt_lex_t;

static const mt_lex_t *mt_lex_find(const char *s, size_t len);
static mt_lex_t *mt_lex_slot(const char *s, size_t len, int add);
static const mt_lex_t *mt_stem(mt_word_t *w, const mt_lex_t *surface);
static void mt_lex_concept(const char *list, uint64_t bit);
static void mt_lex_idiom(const mt_idiom_t *idiom);
static int mt_lex_token(const char *s, size_t len, size_t *pos,
    mt_word_t *w);


/*
 * mt_idioms as tokens, built with the table; the expressions that start
 * with the same token are chained, from that token's entry in the table
 */
typedef struct {
    char                    w[MT_IDIOM_WORDS][MT_WORD_MAX + 1];
    size_t                  n;
    uint64_t                concepts;
    uint16_t                next;       /* + 1; 0: the last */
} mt_idiom_words_t;

static mt_idiom_words_t  mt_idiom_words[MT_IDIOMS_MAX];
static size_t            mt_nidioms;


/*
 * Function words, and words every brief or profile uses ("audience",
 * "content"): they would make everything match everything.
 */
static const char  mt_stopwords[] =
    " about all an and any are as at be but by for from has have in into is"
    " it its more most not of on or our so than that the their them they"
    " this those to very was we who whose with you your especially lightly"
    " slightly somewhat mostly mainly really just also feel feeling like"
    " people audience audiences viewer viewers creator creators content"
    " video videos style tone ";

/* forms the suffix rules leave apart, after stemming: from, to */
static const char  *mt_variants[][2] = {
    { "honesty", "honest" }, { "transparency", "transparent" },
    { "authenticity", "authentic" }, { "relatability", "relatabl" },
    { "educational", "education" }, { "educat", "education" },
    { "educator", "education" }, { "informativ", "inform" },
    { "information", "inform" }, { "informational", "inform" },
    { "financial", "financ" }, { "economy", "economic" },
    { "humorous", "humor" }, { "humour", "humor" }, { "comedic", "comedy" },
    { "comedian", "comedy" }, { "psychological", "psychology" },
    { "conversational", "conversation" }, { "explainer", "explain" },
    { "explanation", "explain" }, { "investment", "invest" },
    { "investor", "invest" }, { "gaming", "game" }, { "shopper", "shop" },
    { "customer", "consumer" }
};

/*
 * Words close enough to count as a partial match (MT_SYN), in stemmed
 * form; a word may be in several groups.  At most 32 groups.
 */
static const char  *mt_synonyms[] = {
    " honest authentic genuin sincer candid real relatabl trust"
        " trustworthy ",
    " honest transparent integrity trust accountability truth truthful"
        " disclosur ",
    " humor comedy funny witty playful lighthearted lightness joke silly"
        " entertain entertainment ",
    " education inform explain teach tutorial literacy learn knowledg"
        " insight ",
    " relatabl conversation casual friendly approachabl chatty"
        " lighthearted ",
    " serious professional formal expert authoritativ ",
    " financ money budget saving spend wealth invest economic frugal debt"
        " cost pric afford affordabl inflation ",
    " consumer shop purchas buyer ",
    " lifestyl daily routin ",
    " awareness literacy right protection advocacy ",
    " health wellness fitness nutrition wellb ",
    " community civic local ",
    " empathy kindness care compassion support "
};

/*
 * Words the suffix rules must leave whole: "training" is not a "train",
 * "marketing" no "market", and "rights" (the law's) are not "right" (as
 * in "the right way").
 */
static const char  mt_whole[] = " training marketing rights ";

/*
 * Umbrella words many profiles claim ("Lifestyle", "Education",
 * "Current Events"): a match on them alone says less than one on a
 * specific word, so they weigh MT_BROAD.  A static stand-in for an IDF,
 * which a single pair cannot compute.
 */
static const char  mt_broad[] =
    " lifestyl education humor comedy entertain entertainment daily life"
    " tip new trend culture general vlog review current event ";


/* ----------------------------------------------------------------------
 * words and phrases
 */

/* UTF-8 bytes count as letters: "café" stays one word */
static int
mt_is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c >= 0x80;
}


int
mt_word_next(const char *s, size_t len, size_t *pos, mt_word_t *w)
{
    while (mt_token_next(s, len, pos, w)) {
        if (!w->stop) {
            return 1;
        }
    }

    return 0;
}


int
mt_token_next(const char *s, size_t len, size_t *pos, mt_word_t *w)
{
    size_t           i, start, k;
    unsigned char    c;
    const mt_lex_t  *lex;

    i = *pos;

    while (i < len) {
        while (i < len && !mt_is_word((unsigned char) s[i])) {
            i++;
        }

        start = i;

        while (i < len && mt_is_word((unsigned char) s[i])) {
            i++;
        }

        /* a longer word is cut: only compared, never shown */
        w->len = 0;

        for (k = start; k < i && w->len < MT_WORD_MAX; k++) {
            c = (unsigned char) s[k];
            w->s[w->len++] = (char) ((c >= 'A' && c <= 'Z') ? c + 32 : c);
        }

        w->s[w->len] = '\0';

        if (w->len < 2) {
            continue;
        }

        *pos = i;
        lex = mt_lex_find(w->s, w->len);

        if (lex != NULL && lex->stop) {
            w->stop = 1;
            w->idiom = lex->idiom;
            w->groups = 0;
            w->concepts = 0;
            w->weight = 0.0;
            return 1;
        }

        lex = mt_stem(w, lex);
        w->stop = 0;
        w->idiom = lex ? lex->idiom : 0;
        w->groups = lex ? lex->groups : 0;
        w->concepts = lex ? lex->concepts : 0;
        w->weight = (lex && lex->broad) ? MT_BROAD : 1.0;

        return 1;
    }

    *pos = len;
    return 0;
}


#define mt_ends(w, sfx)                                                     \
    ((w)->len >= sizeof(sfx) - 1                                            \
     && memcmp((w)->s + (w)->len - (sizeof(sfx) - 1), sfx,                \
               sizeof(sfx) - 1) == 0)

/*
 * Plurals, "-ing" and a final "e", so that "niche" and "niches",
 * "price" and "prices", "budget" and "budgeting" meet: both sides go
 * through the same rules, only equality of the results counts.  surface
 * is the table's entry of the word as written (mt_whole), NULL for none.
 * The table is built (mt_lex_find() was called, or this is the build).
 * Returns the entry of the result, NULL for none.
 */
static const mt_lex_t *
mt_stem(mt_word_t *w, const mt_lex_t *surface)
{
    const mt_lex_t  *lex;

    if (surface == NULL || !surface->whole) {
        mt_stem_suffix(w);
    }

    lex = mt_lex_slot(w->s, w->len, 0);

    if (lex != NULL && lex->variant >= 0) {
        mt_stem_variant(w, mt_variants[lex->variant][1]);
        lex = mt_lex_slot(w->s, w->len, 0);
    }

    return lex;
}


/* the suffix rules alone: the table is built with them (mt_lex_init) */
static void
mt_stem_suffix(mt_word_t *w)
{
    char  c;

    if (w->len > 4 && mt_ends(w, "ies")) {
        w->len -= 2;
        w->s[w->len - 1] = 'y';

    } else if (w->len > 3 && w->s[w->len - 1] == 's' && !mt_ends(w, "ss")
               && !mt_ends(w, "us") && !mt_ends(w, "is"))
    {
        if (w->len > 4
            && (mt_ends(w, "xes") || mt_ends(w, "zes") || mt_ends(w, "ches")
                || mt_ends(w, "shes") || mt_ends(w, "sses")))
        {
            w->len -= 2;

        } else {
            w->len--;
        }
    }

    if (w->len > 6 && mt_ends(w, "ing")) {
        w->len -= 3;
        c = w->s[w->len - 1];

        /* "shopping": "shop" */
        if (c == w->s[w->len - 2] && strchr("aeioulsz", c) == NULL) {
            w->len--;
        }
    }

    /* "care" stays apart from "car" */
    if (w->len > 4 && w->s[w->len - 1] == 'e') {
        w->len--;
    }

    w->s[w->len] = '\0';
}


static void
mt_stem_variant(mt_word_t *w, const char *to)
{
    for (w->len = 0; to[w->len] != '\0' && w->len < MT_WORD_MAX; w->len++) {
        w->s[w->len] = to[w->len];
    }

    w->s[w->len] = '\0';
}


/*
 * 1 when s (NUL-terminated, len bytes) is one of the words of list, which
 * starts and ends with a space
 */
int
mt_in(const char *list, const char *s, size_t len)
{
    const char  *p;

    if (len == 0) {
        return 0;
    }

    for (p = strstr(list, s); p != NULL; p = strstr(p + 1, s)) {
        if (p > list && p[-1] == ' ' && p[len] == ' ') {
            return 1;
        }
    }

    return 0;
}


/*
 * The word lists above as one hash table, built once: a word's stopword
 * and umbrella flags, synonym groups and variant in one probe, instead of
 * a scan of every list for every word of every pair (which was most of a
 * score's time).  Words are told apart by a 64-bit hash alone.
 */

#define MT_LEX_SLOTS  4096          /* a power of two, over 4x the words */


static mt_lex_t        mt_lex[MT_LEX_SLOTS];
static pthread_once_t  mt_lex_once = PTHREAD_ONCE_INIT;


static mt_lex_t *
mt_lex_slot(const char *s, size_t len, int add)
{
    size_t    i;
    uint64_t  h;

    h = mt_hash_mix(mt_hash64(s, len, MT_HASH_SEED)) | 1;

    for (i = h & (MT_LEX_SLOTS - 1);
         mt_lex[i].hash != 0;
         i = (i + 1) & (MT_LEX_SLOTS - 1))
    {
        if (mt_lex[i].hash == h) {
            return &mt_lex[i];
        }
    }

    if (!add) {
        return NULL;
    }

    mt_lex[i].hash = h;
    mt_lex[i].variant = -1;

    return &mt_lex[i];
}


/*
 * every space-separated word of list, flagged as what (1 stop, 2 broad,
 * 3 whole)
 */
static void
mt_lex_add(const char *list, int what, uint32_t groups)
{
    const char  *p, *e;
    mt_lex_t    *l;

    for (p = list; *p != '\0'; p = e) {
        while (*p == ' ') {
            p++;
        }

        for (e = p; *e != '\0' && *e != ' '; e++) {
            /* void */
        }

        if (e == p) {
            continue;
        }

        l = mt_lex_slot(p, (size_t) (e - p), 1);
        l->stop |= (what == 1);
        l->broad |= (what == 2);
        l->whole |= (what == 3);
        l->groups |= groups;
    }
}


static void
mt_lex_init(void)
{
    size_t     i;
    mt_lex_t  *l;

    mt_lex_add(mt_stopwords, 1, 0);
    mt_lex_add(mt_broad, 2, 0);
    mt_lex_add(mt_whole, 3, 0);

    for (i = 0; i < sizeof(mt_synonyms) / sizeof(mt_synonyms[0]); i++) {
        mt_lex_add(mt_synonyms[i], 0, (uint32_t) 1 << i);
    }

    for (i = 0; i < sizeof(mt_variants) / sizeof(mt_variants[0]); i++) {
        l = mt_lex_slot(mt_variants[i][0], strlen(mt_variants[i][0]), 1);
        l->variant = (int16_t) i;
    }

    /* after the variants: a concept word is stemmed as a text word is */
    for (i = 0; i < MT_CONCEPTS_MAX && mt_concept_words[i] != NULL; i++) {
        mt_lex_concept(mt_concept_words[i], (uint64_t) 1 << i);
    }

    for (i = 0; i < MT_IDIOMS_MAX && mt_idioms[i].words != NULL; i++) {
        mt_lex_idiom(&mt_idioms[i]);
    }
}


/*
 * The next token of s as mt_token_next() makes it, without a lookup
 * (this runs inside mt_lex_once): stopwords whole, other words stemmed.
 */
static int
mt_lex_token(const char *s, size_t len, size_t *pos, mt_word_t *w)
{
    size_t           i, start;
    unsigned char    c;
    const mt_lex_t  *l;

    for (i = *pos; i < len; ) {
        while (i < len && !mt_is_word((unsigned char) s[i])) {
            i++;
        }

        for (start = i, w->len = 0; i < len && mt_is_word((unsigned char) s[i]);
             i++)
        {
            c = (unsigned char) s[i];

            if (w->len < MT_WORD_MAX) {
                w->s[w->len++] = (char) ((c >= 'A' && c <= 'Z') ? c + 32 : c);
            }
        }

        w->s[w->len] = '\0';

        if (i == start || w->len < 2) {
            continue;
        }

        *pos = i;
        l = mt_lex_slot(w->s, w->len, 0);

        if (l == NULL || !l->stop) {
            mt_stem(w, l);
        }

        return 1;
    }

    *pos = len;
    return 0;
}


/* an expression as its tokens; its first token is flagged */
static void
mt_lex_idiom(const mt_idiom_t *idiom)
{
    size_t             pos, len;
    mt_lex_t          *l;
    mt_word_t          w;
    mt_idiom_words_t  *iw;

    iw = &mt_idiom_words[mt_nidioms];
    iw->n = 0;
    pos = 0;
    len = strlen(idiom->words);

    while (iw->n < MT_IDIOM_WORDS
           && mt_lex_token(idiom->words, len, &pos, &w))
    {
        memcpy(iw->w[iw->n++], w.s, w.len + 1);
    }

    /* a single word is the concept map's business, not an expression's */
    if (iw->n < 2) {
        return;
    }

    iw->concepts = idiom->concepts;
    l = mt_lex_slot(iw->w[0], strlen(iw->w[0]), 1);
    iw->next = l->idiom;
    l->idiom = (uint16_t) ++mt_nidioms;
}


size_t
mt_idiom_at(const mt_word_t *w, size_t n, uint64_t *concepts)
{
    size_t                   i, k, best;
    const mt_idiom_words_t  *iw;

    best = 0;
    *concepts = 0;

    if (n == 0) {
        return 0;
    }

    for (i = w[0].idiom; i != 0; i = iw->next) {
        iw = &mt_idiom_words[i - 1];

        if (iw->n > n || iw->n <= best) {
            continue;
        }

        for (k = 0; k < iw->n && strcmp(iw->w[k], w[k].s) == 0; k++) {
            /* void */
        }

        if (k == iw->n) {
            best = iw->n;
            *concepts = iw->concepts;
        }
    }

    return best;
}


/*
 * Every word of list, stemmed as mt_word_next() stems a word of a text
 * (without a lookup: this runs inside mt_lex_once), gets concept bit.
 */
static void
mt_lex_concept(const char *list, uint64_t bit)
{
    size_t       n;
    mt_word_t    w;
    mt_lex_t    *l;
    const char  *p, *e;

    for (p = list; *p != '\0'; p = e) {
        while (*p == ' ') {
            p++;
        }

        for (e = p; *e != '\0' && *e != ' '; e++) {
            /* void */
        }

        n = (size_t) (e - p);

        if (n < 2 || n > MT_WORD_MAX) {
            continue;
        }

        memcpy(w.s, p, n);
        w.s[n] = '\0';
        w.len = n;
        mt_stem(&w, mt_lex_slot(w.s, w.len, 0));

        l = mt_lex_slot(w.s, w.len, 1);
        l->concepts |= bit;
    }
}


static const mt_lex_t *
mt_lex_find(const char *s, size_t len)
{
    (void) pthread_once(&mt_lex_once, mt_lex_init);

    return mt_lex_slot(s, len, 0);
}


double
mt_word_sim(const mt_word_t *a, const mt_word_t *b)
{
    if (a->len == b->len && memcmp(a->s, b->s, a->len) == 0) {
        return 1.0;
    }

    return (a->groups & b->groups) ? MT_SYN : 0.0;
}


void
mt_phrase(const char *s, size_t len, mt_phrase_t *p)
{
    size_t  pos;

    pos = 0;
    p->n = 0;

    while (p->n < MT_PHRASE_MAX && mt_word_next(s, len, &pos, &p->w[p->n])) {
        p->n++;
    }
}

/*
 * Shared by score.c (the numbers) and score_text.c (the texts that
 * explain them): the word matching and the matches it finds.  Private to
 * those two files.
 */

#ifndef MT_SCORE_INT_H
#define MT_SCORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"


#define MT_WORD_MAX      23     /* bytes of a word kept, longer cut */
#define MT_PHRASE_MAX    16     /* words of one phrase looked at */
#define MT_LIST_MAX      20     /* items of one list looked at */
#define MT_HIT           0.5    /* an overlap that the texts name */
#define MT_HIT_FULL      0.75   /* one they call a full match */

/* how a creator's region relates to the locale wanted */
#define MT_REGION_NONE     0    /* no locale wanted */
#define MT_REGION_UNKNOWN  1    /* the creator has no usable region */
#define MT_REGION_SAME     2
#define MT_REGION_NEAR     3    /* EU and a European country */
#define MT_REGION_OTHER    4


/* one word: lowercased, stemmed, with its synonym groups */
typedef struct {
    char                    s[MT_WORD_MAX + 1];
    size_t                  len;
    uint32_t                groups;
    uint64_t                concepts;   /* score_concepts.c, 1 << i */
    double                  weight;     /* 1, less for umbrella words */
    uint8_t                 stop;       /* a stopword (mt_token_next) */
    uint16_t                idiom;      /* may start one of mt_idioms */
} mt_word_t;

typedef struct {
    mt_word_t               w[MT_PHRASE_MAX];
    size_t                  n;
} mt_phrase_t;

/* the best item of the creator's lists for each wanted item */
typedef struct {
    size_t                  n;
    const mt_json_t        *want[MT_LIST_MAX];
    const mt_json_t        *hit[MT_LIST_MAX];   /* NULL: none */
    double                  sim[MT_LIST_MAX];   /* overlap of the phrases */
    double                  wsim[MT_LIST_MAX];  /* the score's share */
} mt_match_t;


/* the next word of s[0..len) from *pos; 0 at the end */
int mt_word_next(const char *s, size_t len, size_t *pos, mt_word_t *w);
/* the same with the stopwords, which come unstemmed with stop set */
int mt_token_next(const char *s, size_t len, size_t *pos, mt_word_t *w);
void mt_phrase(const char *s, size_t len, mt_phrase_t *p);
/* 1 for equal words, MT_SYN within a synonym group, else 0 */
double mt_word_sim(const mt_word_t *a, const mt_word_t *b);

/* a non-empty string member or NULL; a list's non-empty strings */
const char *mt_get_str(const mt_json_t *obj, const char *key, size_t *len);
size_t mt_get_list(const mt_json_t *obj, const char *key,
    const mt_json_t **items);
/* a non-negative number member, or -1 */
double mt_get_count(const mt_json_t *obj, const char *key);

/* the components with their details; -1 when the assignment asks none */
double mt_match_niches(const mt_json_t *a, const mt_json_t *c,
    mt_match_t *m);
double mt_match_values(const mt_json_t *a, const mt_json_t *c,
    mt_match_t *m);
double mt_tone(const mt_json_t *a, const mt_json_t *c, uint32_t *hits);
double mt_demo_fit(const mt_json_t *a, const mt_json_t *c,
    mt_phrase_t *want, double *best);
double mt_region_fit(const mt_json_t *a, const mt_json_t *c, int *how);

/* score_concepts.c */

/* the words of each concept, NULL-ended; at most MT_CONCEPTS_MAX */
extern const char *const  mt_concept_words[];

/*
 * Expressions whose words mean something else together ("game plan",
 * "farmers' market"): the concepts they point to instead of their
 * words' (0: none), at most MT_IDIOM_WORDS words, stopwords included;
 * NULL-ended.
 */
#define MT_IDIOM_WORDS   4
#define MT_IDIOMS_MAX    512

typedef struct {
    const char             *words;
    uint64_t                concepts;
} mt_idiom_t;

extern const mt_idiom_t  mt_idioms[];

/*
 * how much the brief's topic and the creator's profile share, [0, 1]; -1
 * when the brief's words name no concept of the map
 */
double mt_topic_fit(const mt_brief_t *br, const mt_json_t *c);
/* br->bag and br->bag_norm from the assignment a */
void mt_brief_bag(mt_brief_t *br, const mt_json_t *a);

/* score_words.c */

#define MT_SYN           0.7    /* two words of one synonym group */
#define MT_BROAD         0.4    /* weight of an umbrella word */

/* 1 when s (len bytes, NUL-ended) is a word of list, " a b c " */
int mt_in(const char *list, const char *s, size_t len);
/*
 * The expression of mt_idioms that the tokens w[0..n) start with, the
 * longest when several do: its number of tokens, its concepts in
 * *concepts; 0 when none.
 */
size_t mt_idiom_at(const mt_word_t *w, size_t n, uint64_t *concepts);


/* score_buf.c: the buffer the texts are built in */

#define MT_TEXT_MAX      4096   /* bytes of one generated text */

/* lengths quoted pieces are cut to, in bytes */
#define MT_CUT_NAME      60
#define MT_CUT_ITEM      60
#define MT_CUT_PHRASE    90
#define MT_CUT_TOPIC     100
#define MT_CUT_TAKEAWAY  160

#define MT_SHOW_ITEMS    3      /* items of a list named, then "N more" */

#define MT_LOWER_NONE    0
#define MT_LOWER_ALL     1      /* "Personal Finance": "personal finance" */
#define MT_LOWER_FIRST   2      /* only the first word */

#define MT_TEXT_SEP      ", "


typedef struct {
    char                    p[MT_TEXT_MAX];
    size_t                  len;
} mt_buf_t;

/* the items of a list to name, without repeats */
typedef struct {
    const mt_json_t        *v[MT_LIST_MAX];
    size_t                  n;
} mt_names_t;

void mt_put(mt_buf_t *b, const char *s, size_t len);
void mt_puts(mt_buf_t *b, const char *s);
void mt_put_cut(mt_buf_t *b, const char *s, size_t len, size_t max,
    int lower);
void mt_put_names(mt_buf_t *b, const mt_names_t *l, int lower);
void mt_put_nick(mt_buf_t *b, const mt_json_t *c, int possessive);
void mt_put_uint(mt_buf_t *b, uint64_t v);
void mt_put_score(mt_buf_t *b, double v);
void mt_put_count(mt_buf_t *b, double v);
void mt_put_end(mt_buf_t *b, mt_jw_t *w);
void mt_lower_words(char *p, size_t len, int lower);
void mt_names_add(mt_names_t *l, const mt_json_t *v);
void mt_names_of(mt_names_t *l, const mt_json_t *obj, const char *key);

#endif /* MT_SCORE_INT_H */

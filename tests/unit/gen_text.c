/*
 * Made-up creator bios and assignment briefs for the vector index's
 * tests and benchmark (tests/unit/test_vindex.c, bench/vindex_bench.c):
 * 40 niches of 8 topical words each, 30 values, generic filler and
 * cities, so that the vectors cluster (and overlap) like embeddings of
 * real ones do.  The same state gives the same texts.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gen_text.h"


/* xorshift64* */
static uint64_t
gen_rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}


static const char  *niches[][9] = {
    { "fitness", "workout", "gym", "strength", "hiit", "muscle", "cardio",
      "trainer", "reps" },
    { "running", "marathon", "trail", "pace", "sneakers", "ultra",
      "stride", "racing", "miles" },
    { "yoga", "mindfulness", "meditation", "breathwork", "flexibility",
      "asana", "retreat", "calm", "flow" },
    { "nutrition", "protein", "macros", "dietitian", "supplements",
      "mealprep", "vitamins", "wholefood", "fiber" },
    { "vegan", "plantbased", "tofu", "dairyfree", "lentils", "crueltyfree",
      "veggie", "seitan", "oatmilk" },
    { "baking", "sourdough", "pastry", "bread", "cakes", "oven", "flour",
      "cookies", "dough" },
    { "cooking", "recipes", "kitchen", "chef", "dinner", "spices", "pasta",
      "grill", "flavors" },
    { "coffee", "espresso", "barista", "latte", "roastery", "beans",
      "brewing", "cafe", "pourover" },
    { "wine", "sommelier", "vineyard", "tasting", "cellar", "vintage",
      "grapes", "pairing", "winery" },
    { "travel", "backpacking", "wanderlust", "flights", "hostels",
      "itinerary", "passport", "destinations", "journeys" },
    { "hiking", "mountains", "camping", "outdoors", "wilderness", "summit",
      "backcountry", "tents", "trails" },
    { "surfing", "waves", "surfboard", "ocean", "beach", "swell", "reef",
      "wetsuit", "coast" },
    { "skincare", "serum", "moisturizer", "acne", "sunscreen", "retinol",
      "dermatology", "cleanser", "glow" },
    { "makeup", "lipstick", "eyeshadow", "foundation", "contour",
      "cosmetics", "brushes", "palette", "mascara" },
    { "fashion", "outfits", "streetwear", "runway", "designer", "style",
      "lookbook", "wardrobe", "trends" },
    { "sustainable", "thrifting", "secondhand", "upcycling", "slowfashion",
      "ecofriendly", "zerowaste", "recycling", "reuse" },
    { "parenting", "toddlers", "motherhood", "babies", "family",
      "homeschool", "kids", "newborn", "dad" },
    { "pets", "dogs", "puppies", "cats", "kittens", "veterinary",
      "grooming", "adoption", "training" },
    { "gaming", "esports", "streamer", "console", "gameplay", "twitch",
      "speedrun", "multiplayer", "rpg" },
    { "tech", "gadgets", "smartphones", "laptops", "unboxing", "reviews",
      "hardware", "chips", "wearables" },
    { "coding", "programming", "developer", "javascript", "python",
      "software", "opensource", "algorithms", "debugging" },
    { "ai", "machinelearning", "chatbots", "neural", "automation",
      "datasets", "robotics", "models", "prompts" },
    { "finance", "investing", "stocks", "budgeting", "savings",
      "retirement", "dividends", "portfolio", "money" },
    { "crypto", "bitcoin", "blockchain", "ethereum", "defi", "tokens",
      "wallets", "nft", "mining" },
    { "entrepreneur", "startup", "founders", "business", "marketing",
      "growth", "funding", "leadership", "productivity" },
    { "photography", "camera", "lenses", "portraits", "editing",
      "lightroom", "landscape", "shutter", "film" },
    { "filmmaking", "cinematography", "directing", "shortfilm",
      "screenplay", "drones", "footage", "editing", "studio" },
    { "music", "guitar", "songwriting", "producer", "beats", "vocals",
      "concerts", "album", "piano" },
    { "dance", "choreography", "ballet", "hiphop", "salsa", "routines",
      "dancers", "tiktok", "moves" },
    { "art", "painting", "illustration", "watercolor", "sketching",
      "canvas", "gallery", "drawing", "murals" },
    { "diy", "crafts", "woodworking", "knitting", "sewing", "handmade",
      "pottery", "tools", "projects" },
    { "home", "interior", "decor", "furniture", "renovation", "minimalist",
      "apartment", "design", "plants" },
    { "gardening", "vegetables", "compost", "seeds", "houseplants",
      "permaculture", "flowers", "harvest", "soil" },
    { "books", "reading", "novels", "booktok", "authors", "fantasy",
      "library", "reviews", "literature" },
    { "comedy", "sketches", "standup", "memes", "pranks", "jokes",
      "improv", "funny", "parody" },
    { "education", "teaching", "students", "science", "math", "history",
      "lessons", "tutoring", "exams" },
    { "cars", "automotive", "supercars", "engines", "racing", "motorsport",
      "detailing", "electric", "roadtrips" },
    { "cycling", "bikes", "peloton", "gravel", "mountainbike", "commuting",
      "tour", "helmets", "watts" },
    { "mentalhealth", "therapy", "anxiety", "selfcare", "wellbeing",
      "burnout", "journaling", "healing", "support" },
    { "luxury", "watches", "jewelry", "hotels", "yachts", "highend",
      "designer", "champagne", "exclusive" },
};

#define NNICHES  (sizeof(niches) / sizeof(niches[0]))

static const char  *values[] = {
    "authenticity", "sustainability", "inclusivity", "diversity",
    "transparency", "creativity", "community", "education", "kindness",
    "empowerment", "wellness", "adventure", "family", "humor", "honesty",
    "innovation", "quality", "accessibility", "mindfulness", "ambition",
    "positivity", "curiosity", "equality", "resilience", "craftsmanship",
    "affordability", "ethics", "fun", "excellence", "simplicity",
};

#define NVALUES  (sizeof(values) / sizeof(values[0]))

static const char  *fillers[] = {
    "daily", "weekly", "videos", "tips", "stories", "content", "creator",
    "sharing", "honest", "guides", "tutorials", "vlogs", "behind",
    "scenes", "favorite", "beginner", "advanced", "journey", "lifestyle",
    "collabs", "live", "podcast", "newsletter", "shorts", "series",
};

#define NFILLERS  (sizeof(fillers) / sizeof(fillers[0]))

static const char  *cities[] = {
    "Berlin", "London", "Paris", "Madrid", "Lisbon", "Austin", "Toronto",
    "Sydney", "Tokyo", "Seoul", "Mumbai", "Lagos", "Nairobi", "Denver",
    "Miami", "Chicago", "Dublin", "Vienna", "Oslo", "Milan",
};

#define NCITIES  (sizeof(cities) / sizeof(cities[0]))


static size_t
gen_cat(char *t, size_t n, size_t cap, const char *w)
{
    size_t  len;

    len = strlen(w);
    if (n + len + 2 >= cap) {
        return n;
    }

    if (n > 0) {
        t[n++] = ' ';
    }

    memcpy(t + n, w, len);
    t[n + len] = '\0';

    return n + len;
}


/* a niche word: the niche's own mostly, a neighbour's now and then */
static const char *
gen_word(uint64_t *s, size_t niche, size_t other)
{
    size_t  r;

    r = gen_rnd(s) % 100;

    if (r < 70) {
        return niches[niche][gen_rnd(s) % 9];
    }

    if (r < 88) {
        return niches[other][gen_rnd(s) % 9];
    }

    return fillers[gen_rnd(s) % NFILLERS];
}


/*
 * An assignment brief as the module embeds one: a topic sentence (a
 * niche's words and filler), then two niches and two values, not the
 * topic's as a rule: they pull the query between clusters.
 */
size_t
gen_brief(uint64_t *s, char *t, size_t cap)
{
    size_t  n, i, words, topic;

    topic = gen_rnd(s) % NNICHES;
    words = 6 + gen_rnd(s) % 4;
    n = 0;
    t[0] = '\0';

    for (i = 0; i < words; i++) {
        n = gen_cat(t, n, cap,
                    gen_rnd(s) % 2 ? niches[topic][1 + gen_rnd(s) % 8]
                                       : fillers[gen_rnd(s) % NFILLERS]);
    }

    n = gen_cat(t, n, cap, "niches");
    n = gen_cat(t, n, cap, niches[gen_rnd(s) % NNICHES][0]);
    n = gen_cat(t, n, cap, niches[gen_rnd(s) % NNICHES][0]);
    n = gen_cat(t, n, cap, "values");
    n = gen_cat(t, n, cap, values[gen_rnd(s) % NVALUES]);
    n = gen_cat(t, n, cap, values[gen_rnd(s) % NVALUES]);

    return n;
}


/* a creator's bio, or (brief) an assignment's; returns its length */
size_t
gen_text(uint64_t *s, char *t, size_t cap, int brief)
{
    size_t  n, i, words, niche, other;

    niche = gen_rnd(s) % NNICHES;
    other = gen_rnd(s) % NNICHES;
    n = 0;
    t[0] = '\0';

    n = gen_cat(t, n, cap, brief ? "looking for a" : "");
    n = gen_cat(t, n, cap, niches[niche][0]);
    n = gen_cat(t, n, cap, brief ? "creator to promote" : "creator sharing");

    words = brief ? 4 + gen_rnd(s) % 3 : 6 + gen_rnd(s) % 7;

    for (i = 0; i < words; i++) {
        n = gen_cat(t, n, cap, gen_word(s, niche, other));
    }

    n = gen_cat(t, n, cap, brief ? "brand values" : "values");

    for (i = 0; i < 2 + gen_rnd(s) % 2; i++) {
        n = gen_cat(t, n, cap, values[gen_rnd(s) % NVALUES]);
    }

    if (!brief || gen_rnd(s) % 2) {
        n = gen_cat(t, n, cap, "based in");
        n = gen_cat(t, n, cap, cities[gen_rnd(s) % NCITIES]);
    }

    return n;
}

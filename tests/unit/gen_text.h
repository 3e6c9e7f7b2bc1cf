/* Made-up creator texts for the index's tests and bench (gen_text.c). */

#ifndef GEN_TEXT_H
#define GEN_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* a creator's bio, or (brief) a short assignment; returns its length */
size_t gen_text(uint64_t *s, char *t, size_t cap, int brief);
/* a brief as the module embeds one: a topic, two niches, two values */
size_t gen_brief(uint64_t *s, char *t, size_t cap);

#endif /* GEN_TEXT_H */

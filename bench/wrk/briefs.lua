-- Shared by post-match.lua and search.lua: request bodies built from a
-- number, so that a scenario can send a different body every request
-- (uncached) or rotate over a few (cached).  The vocabulary is the one
-- bench/gen-creators.py gives the creators (the 59 niches and 41 values
-- of t/data/creators.json, the 6 regions), so the structured signals of
-- the matching have something to agree or disagree with.
--
-- match_body(c, topk) and search_body(c, topk, filter) are distinct for
-- every c below 2 million (search: 464,448): c, scrambled by a
-- multiplication modulo the number of combinations (a bijection), is read
-- as a mixed-radix number whose digits pick the topic, two different
-- niches and two different values (the search: phrase, niche, audience,
-- value), all of which are part of the text that is embedded, so no two
-- requests share a query vector, and consecutive requests differ in
-- every part.

local topics = {
   "Shrinkflation: paying the same price for smaller products",
   "How to read a nutrition label in 30 seconds",
   "Renters' rights everyone should know",
   "Spotting a phishing text before you tap",
   "Budget travel by train across a region",
   "Cozy games that teach money habits",
   "Repair before you replace: small home fixes",
   "Heat pumps and rebates for home heating",
   "Meal prep for a week on a student budget",
   "Five-minute workouts for busy parents",
   "Negotiating your first salary offer",
   "What an index fund actually is",
   "Using AI tools without giving away your data",
   "Reading the news without doom-scrolling",
   "Note-taking systems that survive exam week",
   "Sketching every day for thirty days",
   "Understanding a medical bill line by line",
   "Voting early: how it works where you live",
   "Cheap weekend trips by public transit",
   "Fixing a leaky faucet yourself",
   "Indie games made by tiny teams",
   "Sleep habits backed by research",
   "Spotting greenwashing on product labels",
   "Talking to kids about screen time",
}

local takeaways = {
   "Help people see how it shows up in everyday life, with one concrete example they can check today.",
   "Make the first step feel small and doable, and say what it costs.",
   "Give the audience one habit to try this week and a way to tell whether it worked.",
   "Clear up the most common misconception in under a minute.",
   "Show the before and after honestly, including what did not work.",
   "Point people to a free, trustworthy resource they can use right away.",
}

local contexts = {
   "Explain it with personal examples. Keep it honest and authentic. No political endorsements, no paid products, video 90 seconds or less.",
   "A nonprofit campaign: no sponsorship language, cite one public source, short-form video.",
   "Part of a month-long series; the tone should invite questions in the comments.",
   "Aimed at people who feel overwhelmed by the topic; avoid jargon and shaming.",
   "A brand-neutral explainer; disclose any partnership clearly if you mention products.",
}

local tones = {
   "Conversational, relatable, lightly educational",
   "Calm and reassuring",
   "Playful and energetic",
   "Direct and practical",
   "Warm, honest, a little funny",
}

local audiences = {
   { "Everyday U.S. consumers", "US" },
   { "First-time renters in the UK", "UK" },
   { "Young families in Canada", "CA" },
   { "Students across Europe", "EU" },
   { "Young professionals in Australia", "AU" },
   { "College students in India", "IN" },
   { "Retirees on a fixed income", "US" },
   { "Gamers in their twenties", "UK" },
}

local niches = {
   "Personal Finance", "Behavioral Economics", "Consumer Psychology",
   "Economic Trends", "Investing", "Financial Literacy", "Market News",
   "Risk Management", "Recruiting", "Career Development",
   "Workplace Productivity", "Job Market Trends", "Legal Education",
   "Civic Engagement", "Current Events", "Consumer Rights", "Humor",
   "Lifestyle", "Pop Culture", "Outdoor Trades", "Motorsports",
   "Local Events", "Gaming", "Game Reviews", "Indie Games", "Streaming",
   "Health Education", "Public Health", "Science Communication", "Wellness",
   "Home Improvement", "DIY", "Tools", "Budget Renovation",
   "Climate Education", "Energy Transition", "Policy", "Cooking",
   "Food Science", "Meal Prep", "Sustainability", "Fitness", "Mental Health",
   "Education", "Productivity", "Study Tips", "Note-taking", "Art",
   "Creativity", "Illustration", "Parenting", "Tech Education",
   "Product Reviews", "AI Tools", "Digital Literacy", "Travel",
   "Budget Travel", "Urban Exploration", "Photography",
}

local values = {
   "Clarity", "Empowerment", "Transparency", "Education", "Responsibility",
   "Integrity", "Pragmatism", "Equity", "Justice", "Community",
   "Relatability", "Lightness", "Honesty", "Authenticity", "Craft",
   "Curiosity", "Creativity", "Accuracy", "Care", "Accessibility",
   "Practicality", "Confidence", "Sustainability", "Urgency", "Hope",
   "Accountability", "Resourcefulness", "Joy", "Consistency", "Kindness",
   "Balance", "Calm", "Structure", "Growth", "Play", "Expression", "Empathy",
   "Skepticism", "Utility", "Respect", "Wonder",
}

local phrases = {
   "budget meal prep ideas", "how to start investing small amounts",
   "renter rights and deposits", "fixing things at home on a budget",
   "cozy indie games", "travel by train on a budget",
   "explaining inflation simply", "quick workouts at home",
   "study tips for exams", "spotting misinformation online",
   "mental health check-ins", "climate change and energy bills",
   "job interview advice", "drawing for beginners",
   "parenting hacks that actually work", "reviews of AI tools",
   "reading food labels", "weekend city trips",
   "understanding health insurance", "career change in your thirties",
   "small business side hustles", "photography with a phone",
   "sleep and productivity", "consumer rights when shopping online",
}

local floor = math.floor

-- the digit of c in base b, and what is left
local function digit(c, b)
   return c % b, floor(c / b)
end

-- two different entries of list, from c: any one, and one of the NEAR
-- after it (the lists go sample by sample, so neighbours belong together:
-- "Budget Travel" goes with "Travel" or "Urban Exploration" rather than
-- with "Legal Education"); returns them and what is left
local NEAR = 6

local function two(list, c)
   local n = #list
   local i, j
   i, c = digit(c, n)
   j, c = digit(c, NEAR)
   j = (i + 1 + j) % n
   return list[i + 1], list[j + 1], c
end

-- c * P mod m, a bijection of [0, m) as P is a prime that divides no m
-- here; exact in doubles while c < 2^53 / P
local P = 1000003

local function scramble(c, m)
   return (c % m) * P % m
end

function match_body(c, topk)
   local t, n1, n2, v1, v2, rest
   local m = #topics * #niches * NEAR * #values * NEAR
   t, rest = digit(scramble(c, m), #topics)
   n1, n2, rest = two(niches, rest)
   v1, v2, rest = two(values, rest)
   local a = audiences[c % #audiences + 1]
   return string.format(
      '{"assignment":{"topic":"%s","keyTakeaway":"%s",' ..
      '"additionalContext":"%s","creatorNiches":["%s","%s"],' ..
      '"creatorValues":["%s","%s"],"toneStyle":"%s",' ..
      '"targetAudience":{"demographic":"%s","locale":"%s"}},"topK":%d}',
      topics[t + 1], takeaways[c % #takeaways + 1],
      contexts[c % #contexts + 1], n1, n2, v1, v2, tones[c % #tones + 1],
      a[1], a[2], topk)
end

function search_body(c, topk, filter)
   local p, n, a, v, rest
   local m = #phrases * #niches * #audiences * #values
   p, rest = digit(scramble(c, m), #phrases)
   n, rest = digit(rest, #niches)
   a, rest = digit(rest, #audiences)
   v, rest = digit(rest, #values)
   local q = string.format("%s: %s for %s, with %s", phrases[p + 1],
                           niches[n + 1]:lower(), audiences[a + 1][1]:lower(),
                           values[v + 1]:lower())
   if filter ~= nil and filter ~= "" then
      return string.format('{"query":"%s","topK":%d,"filter":%s}', q, topk,
                           filter)
   end
   return string.format('{"query":"%s","topK":%d}', q, topk)
end

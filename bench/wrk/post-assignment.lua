-- POST /api/assignments: a valid assignment (application/json) for one of
-- $BENCH_USERS users (default 100, "bench-user-000" ...), topics varying.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")
dynamic()

local topics = {
   "Shrinkflation: paying the same price for smaller products",
   "How to read a nutrition label in 30 seconds",
   "Renters' rights everyone should know",
   "Spotting a phishing text before you tap",
   "Budget travel by train across a region",
   "Cozy games that teach money habits",
   "Repair before you replace: small home fixes",
}
local niches = { "Personal Finance", "Lifestyle", "Consumer Awareness",
                 "Travel", "Gaming", "Home Improvement", "Public Health" }
local values = { "Honesty", "Transparency", "Empowerment", "Clarity" }

function init(args)
   local users = tonumber(os.getenv("BENCH_USERS") or "100")
   local headers = { ["Content-Type"] = "application/json" }
   local reqs = {}
   for i = 0, 999 do
      local body = string.format(
         '{"topic":"%s (#%d)",' ..
         '"keyTakeaway":"Help people see how it shows up in everyday ' ..
         'life, with one concrete example they can check today.",' ..
         '"additionalContext":"Explain it to your audience with personal ' ..
         'examples. Keep it honest and authentic. No political ' ..
         'endorsements, no paid products, video 90 seconds or less.",' ..
         '"targetAudience":{"demographic":"Everyday U.S. consumers",' ..
         '"locale":"US"},' ..
         '"creatorValues":["%s","%s"],"creatorNiches":["%s","%s"],' ..
         '"toneStyle":"Conversational, relatable, lightly educational",' ..
         '"userId":"bench-user-%03d"}',
         topics[i % #topics + 1], i,
         values[i % #values + 1], values[(i + 1) % #values + 1],
         niches[i % #niches + 1], niches[(i + 3) % #niches + 1],
         i % users)
      reqs[#reqs + 1] = wrk.format("POST", "/api/assignments", headers, body)
   end
   rotate(reqs)
end

-- POST /api/matches with an inline assignment (application/json).
--   $BENCH_MATCH_MODE  "uncached" (default): a different assignment every
--                      request, built from a counter, so every request
--                      misses the cache and is ranked;
--                      "cached": rotate over $BENCH_MATCH_BRIEFS (100)
--                      assignments, which a warm-up run put in the cache
--   $BENCH_SALT        where the counter starts (rows use disjoint ranges)
--   $BENCH_TOPK        topK (3, the contract's default)
local dir = os.getenv("BENCH_WRK_DIR") or "bench/wrk"
dofile(dir .. "/report.lua")
dofile(dir .. "/briefs.lua")

local headers = { ["Content-Type"] = "application/json" }
local salt = tonumber(os.getenv("BENCH_SALT") or "0")
local topk = tonumber(os.getenv("BENCH_TOPK") or "3")

if (os.getenv("BENCH_MATCH_MODE") or "uncached") == "cached" then
   dynamic()

   function init(args)
      local k = tonumber(os.getenv("BENCH_MATCH_BRIEFS") or "100")
      local reqs = {}
      for i = 0, k - 1 do
         reqs[#reqs + 1] = wrk.format("POST", nil, headers,
                                      match_body(salt + i, topk))
      end
      rotate(reqs)
   end

else
   -- each wrk thread counts from its own 100,000
   local n = 0

   function request()
      n = n + 1
      return wrk.format("POST", nil, headers,
         match_body(salt + (tonumber(tid) or 0) * 100000 + n, topk))
   end
end

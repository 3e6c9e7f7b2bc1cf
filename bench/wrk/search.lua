-- POST /api/creators/search, a different query every request (built from
-- a counter, see briefs.lua), so no query vector comes from the cache.
--   $BENCH_SEARCH_FILTER  a Pinecone-style filter, JSON (default none)
--   $BENCH_SALT           where the counter starts
--   $BENCH_TOPK           topK (10)
local dir = os.getenv("BENCH_WRK_DIR") or "bench/wrk"
dofile(dir .. "/report.lua")
dofile(dir .. "/briefs.lua")

local headers = { ["Content-Type"] = "application/json" }
local salt = tonumber(os.getenv("BENCH_SALT") or "0")
local topk = tonumber(os.getenv("BENCH_TOPK") or "10")
local filter = os.getenv("BENCH_SEARCH_FILTER")
local n = 0

function request()
   n = n + 1
   return wrk.format("POST", nil, headers,
      search_body(salt + (tonumber(tid) or 0) * 100000 + n, topk, filter))
end

-- GET /api/assignments/history/{userId} over the users the POST scenario
-- filled ($BENCH_USERS, default 100), with $BENCH_HISTORY_QUERY appended
-- (default none: the contract's defaults, limit=50 newest first).
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")
dynamic()

function init(args)
   local users = tonumber(os.getenv("BENCH_USERS") or "100")
   local query = os.getenv("BENCH_HISTORY_QUERY") or ""
   local reqs = {}
   for i = 0, users - 1 do
      reqs[#reqs + 1] = wrk.format("GET", string.format(
         "/api/assignments/history/bench-user-%03d%s", i, query))
   end
   rotate(reqs)
end

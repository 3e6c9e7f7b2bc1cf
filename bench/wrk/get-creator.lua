-- GET /api/creators/{uniqueId}, rotating over the ingested ids: one id a
-- line in $BENCH_IDS (bench/run.sh writes it from the generated NDJSON).
-- $BENCH_API_KEY, when set, goes in an X-Api-Key header (bench/auth.sh).
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")
dynamic()

function init(args)
   local path = os.getenv("BENCH_IDS") or "bench/out/ids.txt"
   local f = assert(io.open(path, "r"))
   local key = os.getenv("BENCH_API_KEY")
   local headers = (key and key ~= "") and { ["X-Api-Key"] = key } or nil
   local reqs = {}
   for id in f:lines() do
      if id ~= "" then
         reqs[#reqs + 1] = wrk.format("GET", "/api/creators/" .. id, headers)
      end
   end
   f:close()
   rotate(reqs)
end

-- POST /api/matches with one brief, the same every request (the match
-- cache answers it): the body is read from $BENCH_BODY_FILE, which
-- bench/remote/bench.py cached-check writes after checking that the
-- brief is a HIT.  A static request: wrk's fastest path, as for GET /ok.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

local f = assert(io.open(assert(os.getenv("BENCH_BODY_FILE"),
                                "BENCH_BODY_FILE not set"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

-- GET /ref: nginx's own `return 200`, the reference.  No request()
-- function: wrk sends its one static request, its fastest path.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

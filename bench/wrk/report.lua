-- Shared by the scenario scripts: wrk's done() callback, one
-- machine-readable line that bench/run.sh parses:
--   BENCH rps=<req/s> p50_ms=<ms> p99_ms=<ms> requests=<n> bytes=<n>
--         errors=<connect+read+write+timeout> non2xx=<status errors>
-- (wrk counts a status >= 400 as a "status" error; latencies are in µs.)

function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "BENCH rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d bytes=%d " ..
      "errors=%d non2xx=%d\n",
      summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      summary.requests, summary.bytes,
      e.connect + e.read + e.write + e.timeout, e.status))
end

-- each thread gets a distinct number, to start at a different place
local counter = 0
function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
end

-- Scenario scripts call rotate(list) in init(): request() then serves the
-- prebuilt raw requests round robin, from an offset that depends on the
-- thread, at the cost of a table lookup.  request() must exist when the
-- script is loaded (wrk decides then whether requests are dynamic), so
-- scripts that use it call dynamic() at top level.
local reqs, n, i = nil, 0, 0

function rotate(list)
   assert(#list > 0, "no requests")
   reqs, n = list, #list
   i = ((tonumber(tid) or 0) * 7919) % n
end

function dynamic()
   request = function()
      i = i % n + 1
      return reqs[i]
   end
end

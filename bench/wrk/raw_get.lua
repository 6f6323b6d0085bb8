-- The raw backend request a tool call costs (GET /call/{id} or GET /call?limit=10), with a key.
--   wrk -t2 -c32 -d5s --latency -s bench/wrk/raw_get.lua http://127.0.0.1:PORT/call/ID -- EXPECT

bad = 0  -- global: done() reads each thread's count with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  expect = args[1]
  wrk.headers["Authorization"] = "Bearer bench"
  wrk.headers["Accept"] = "application/json"
end

function response(status, headers, body)
  if status ~= 200 or not body:find(expect, 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("bad") or 0)
  end
  io.write(string.format("RESULT requests=%d seconds=%.3f bad=%d errors=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end

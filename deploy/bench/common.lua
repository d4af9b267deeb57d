-- Shared by the wrk scripts: the ids and credentials prepare.py wrote (BENCH_IDS), the
-- count of answers that were not 2xx, and one JSON line of figures at the end, which
-- run.py reads (wrk's own "Non-2xx" count includes 3xx answers, which are errors here).
local common = {}

common.ids = dofile(os.getenv("BENCH_IDS"))

local threads = {}
local counter = 0

function common.setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

function common.init()
  math.randomseed(os.time() + thread_id * 7919)
  non2xx = 0
end

function common.response(status)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function common.done(summary, latency)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, '
      .. '"p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "non2xx": %d, '
      .. '"socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, non2xx_total,
    e.connect + e.read + e.write + e.timeout))
end

return common

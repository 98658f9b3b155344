-- Shared by the wrk scenarios: the key from the environment, per-thread status counts
-- collected in done(), and one machine-readable result line that bench/run parses.
local common = {}

common.key = os.getenv("THREADSD_BENCH_KEY") or ""
common.agents = {}
for agent in string.gmatch(os.getenv("THREADSD_BENCH_AGENTS") or "", "[^,]+") do
  table.insert(common.agents, agent)
end
common.ids = {}
-- Ids of existing threads, for get and patch; the file is written after the create run.
local ids_file = io.open(os.getenv("THREADSD_BENCH_IDS") or "", "r")
if ids_file then
  for line in ids_file:lines() do
    table.insert(common.ids, line)
  end
  ids_file:close()
end

local threads = {}

-- Call from setup(thread): keeps each wrk thread so done() can read its counters.
function common.setup(thread)
  table.insert(threads, thread)
end

-- Call from response(): counts 200s and everything else, per wrk thread.
function common.count(status)
  if status == 200 then
    ok = (ok or 0) + 1
  else
    other = (other or 0) + 1
  end
end

-- Call from done(): prints `RESULT key=value ...` for bench/run.
function common.report(summary, latency)
  local ok_total, other_total = 0, 0
  for _, thread in ipairs(threads) do
    ok_total = ok_total + (thread:get("ok") or 0)
    other_total = other_total + (thread:get("other") or 0)
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d rps=%.0f p50_ms=%.3f p99_ms=%.3f ok=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, ok_total, other_total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

return common

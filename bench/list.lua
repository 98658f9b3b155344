-- GET /api/v1/threads?limit=10: the newest page, the most common list call.
package.path = package.path .. ";" .. (os.getenv("THREADSD_BENCH_DIR") or "bench") .. "/?.lua"
local common = require("common")

function setup(thread) common.setup(thread) end

function request()
  return wrk.format("GET", "/api/v1/threads?limit=10", {["X-API-Key"] = common.key})
end

function response(status) common.count(status) end
function done(summary, latency) common.report(summary, latency) end

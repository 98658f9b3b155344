-- GET /api/v1/threads/{id} for random ids of existing threads, with a Clerk session token
-- (Authorization: Bearer) instead of an API key.
package.path = package.path .. ";" .. (os.getenv("THREADSD_BENCH_DIR") or "bench") .. "/?.lua"
local common = require("common")
local authorization = "Bearer " .. (os.getenv("THREADSD_BENCH_BEARER") or "")

function setup(thread) common.setup(thread) end

function request()
  local id = common.ids[math.random(#common.ids)]
  return wrk.format("GET", "/api/v1/threads/" .. id, {["Authorization"] = authorization})
end

function response(status) common.count(status) end
function done(summary, latency) common.report(summary, latency) end

-- PATCH /api/v1/threads/{id}: set one metadata key on random existing threads.
package.path = package.path .. ";" .. (os.getenv("THREADSD_BENCH_DIR") or "bench") .. "/?.lua"
local common = require("common")

local counter = 0
function setup(thread) common.setup(thread) end

function request()
  counter = counter + 1
  local id = common.ids[math.random(#common.ids)]
  local body = string.format('{"metadata":{"step":"%d"}}', counter)
  return wrk.format("PATCH", "/api/v1/threads/" .. id,
                    {["X-API-Key"] = common.key, ["Content-Type"] = "application/json"}, body)
end

function response(status) common.count(status) end
function done(summary, latency) common.report(summary, latency) end

-- POST /api/v1/threads/web with a random agent and small metadata and variables.
package.path = package.path .. ";" .. (os.getenv("THREADSD_BENCH_DIR") or "bench") .. "/?.lua"
local common = require("common")

local counter = 0
function setup(thread) common.setup(thread) end

function request()
  counter = counter + 1
  local agent = common.agents[math.random(#common.agents)]
  local body = string.format(
    '{"agentId":"%s","metadata":{"source":"wrk","n":"%d"},"variables":{"firstName":"Ada"}}',
    agent, counter)
  return wrk.format("POST", "/api/v1/threads/web",
                    {["X-API-Key"] = common.key, ["Content-Type"] = "application/json"}, body)
end

function response(status) common.count(status) end
function done(summary, latency) common.report(summary, latency) end

-- POST /api/v1/threads/{id}/messages: an end user's message (INBOUND, the text 96 bytes) to
-- random threads of THREADSD_BENCH_IDS, which bench/run points at threads made by the
-- create run, whose conversation window is open.
package.path = package.path .. ";" .. (os.getenv("THREADSD_BENCH_DIR") or "bench") .. "/?.lua"
local common = require("common")

local counter = 0
function setup(thread) common.setup(thread) end

function request()
  counter = counter + 1
  local id = common.ids[math.random(#common.ids)]
  local body = string.format('{"message":"Hello, I would like to change the delivery address' ..
    ' of my order, number %08d, to my new flat."}', counter)
  return wrk.format("POST", "/api/v1/threads/" .. id .. "/messages",
                    {["X-API-Key"] = common.key, ["Content-Type"] = "application/json"}, body)
end

function response(status) common.count(status) end
function done(summary, latency) common.report(summary, latency) end

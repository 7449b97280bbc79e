-- scimd_patch.lua — wrk script for bench/scimd_bench.sh: PATCH deactivations
-- and reactivations of Users whose ids are in $SCIMD_IDS (one per line).
-- Each wrk thread owns a disjoint slice of the users and walks it: first
-- pass active=false for all of them, second pass true, and so on, so every
-- request is a real change (a journalled event), never a no-op retry.
local ids = {}
for line in io.lines(os.getenv("SCIMD_IDS")) do ids[#ids + 1] = line end
local token = os.getenv("SCIMD_TOKEN")
local counter = 0
local threads = {}

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(os.getenv("SCIMD_THREADS") or "1")
  local per = math.floor(#ids / n)
  first = index * per + 1
  count = per
  i = 0
  headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/scim+json" }
end

function request()
  local id = ids[first + (i % count)]
  local active = (math.floor(i / count) % 2) == 1
  i = i + 1
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":' ..
               tostring(active) .. '}]}'
  return wrk.format("PATCH", "/scim/v2/Users/" .. id, headers, body)
end

errors = 0
function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + (t:get("errors") or 0) end
  io.write(string.format("PATCH: %d requests, %d not 200, p99 %.2f ms\n", summary.requests, failed,
                         latency:percentile(99) / 1000))
end

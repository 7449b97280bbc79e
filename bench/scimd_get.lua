-- scimd_get.lua — wrk script for bench/scimd_bench.sh: GET /Users?filter=
-- userName eq "<random user>" against the seeded users (bench<N>@example.com).
local token = os.getenv("SCIMD_TOKEN")
local users = tonumber(os.getenv("SCIMD_USERS") or "100000")

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  headers = { ["Authorization"] = "Bearer " .. token }
end

function request()
  local n = math.random(0, users - 1)
  return wrk.format("GET", "/scim/v2/Users?filter=userName%20eq%20%22bench" .. n .. "%40example.com%22", headers)
end

function done(summary, latency, requests)
  io.write(string.format("GET: %d requests, p99 %.2f ms\n", summary.requests, latency:percentile(99) / 1000))
end

-- wrk script for bench/resilience: optional Host rotation, and one JSON line with the counts
-- wrk's text output spreads over several lines (or leaves out when zero).
--
--   WRK_HOSTS="a.example,b.example" wrk -s report.lua ...   each request takes the next Host
--
-- done() prints: WRKJSON {"requests":N,"duration_us":N,"bytes":N,"connect":N,"read":N,
-- "write":N,"status":N,"timeout":N,"p50_us":N,"p99_us":N,"max_us":N}
-- "status" is wrk's count of responses with a status >= 400 (its "Non-2xx or 3xx responses").

local hosts = {}
for h in string.gmatch(os.getenv("WRK_HOSTS") or "", "[^,]+") do
  hosts[#hosts + 1] = h
end

local requests = {}
local next_host = 1

init = function(args)
  if #hosts == 0 then
    return
  end
  -- Pre-format one request per Host: request() then costs a table lookup, not a format.
  for i, h in ipairs(hosts) do
    requests[i] = wrk.format(nil, nil, { Host = h })
  end
end

request = function()
  if #hosts == 0 then
    return wrk.request()
  end
  local r = requests[next_host]
  next_host = next_host % #hosts + 1
  return r
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end

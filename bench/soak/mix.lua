-- wrk request mix for bench/soak/run.sh: every connection cycles through 20 requests
-- (a fixed order, so every run sends the same mix):
--   12 GET /small (13 bytes) on a keep-alive connection
--    2 GET /small with "Connection: close" (baton closes, wrk reconnects)
--    1 GET /big (1 MiB response)
--    1 GET /mid (16 KiB response)
--    3 POST /upload with a 4 KiB body (nginx reads it whole, answers 13 bytes)
--    1 POST /upload with a 256 KiB body and "Connection: close"
-- Client aborts mid-body are sent by bench/soak/aborts.py beside wrk (wrk cannot abort).

local small_body
local large_body
local n = 0

function init(args)
  small_body = string.rep("a", 4096)
  large_body = string.rep("b", 256 * 1024)
end

function request()
  n = n + 1
  local k = n % 20
  if k < 12 then
    return wrk.format("GET", "/small")
  elseif k < 14 then
    return wrk.format("GET", "/small", { ["Connection"] = "close" })
  elseif k < 15 then
    return wrk.format("GET", "/big")
  elseif k < 16 then
    return wrk.format("GET", "/mid")
  elseif k < 19 then
    return wrk.format("POST", "/upload", nil, small_body)
  end
  return wrk.format("POST", "/upload", { ["Connection"] = "close" }, large_body)
end

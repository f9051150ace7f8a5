-- wrk script: POSTs one request body read from a file, counts every response that is not 2xx, and
-- prints one JSON line (prefixed "WRK_RESULT ") with the totals and the latency percentiles.
--
--   BODY_FILE=traces-100.pb CONTENT_TYPE=application/x-protobuf [CONTENT_ENCODING=gzip] [URL_PATH=/v1/traces] \
--     wrk -t2 -c16 -d10s --latency -s bench/post.lua http://127.0.0.1:4318
--
-- The caller (bench/collector_load.py) fails the run when non2xx or any socket error is not 0.

local body_file = os.getenv("BODY_FILE") or error("BODY_FILE is not set")
local file = io.open(body_file, "rb") or error("cannot open BODY_FILE " .. body_file)
local body = file:read("*a")
file:close()
if #body == 0 and os.getenv("ALLOW_EMPTY_BODY") ~= "1" then error("BODY_FILE " .. body_file .. " is empty") end

wrk.method = "POST"
wrk.path = os.getenv("URL_PATH") or "/v1/traces"
wrk.body = body
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/x-protobuf"
local encoding = os.getenv("CONTENT_ENCODING")
if encoding and encoding ~= "" then wrk.headers["Content-Encoding"] = encoding end

-- Per-thread counters, collected in done() through the thread objects.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

ok2xx = 0
non2xx = 0
first_bad_status = 0
function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok2xx = ok2xx + 1
  else
    non2xx = non2xx + 1
    if first_bad_status == 0 then first_bad_status = status end
  end
end

function done(summary, latency, requests)
  local ok, bad, first_bad = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("ok2xx")
    bad = bad + thread:get("non2xx")
    local status = thread:get("first_bad_status")
    if first_bad == 0 and status ~= 0 then first_bad = status end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "ok2xx": %d, "non2xx": %d, "first_bad_status": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d}, "body_bytes": %d}\n',
    summary.requests, ok, bad, first_bad, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    #body))
end

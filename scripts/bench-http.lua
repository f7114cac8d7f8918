-- wrk script of scripts/bench-http.sh: one kind of request per run, chosen by environment.
--
--   BENCH_METHOD   GET (default) or POST
--   BENCH_PATH     the path; "{id}" becomes a random customer id from BENCH_ID_MIN..BENCH_ID_MAX,
--                  "{term}" a random entry of BENCH_TERMS (comma-separated, URL-encoded)
--   BENCH_TOKEN    the API token (Authorization: Bearer)
--   BENCH_BODY     "customer": a new customer as JSON, unique per request;
--                  otherwise a file sent as is, with BENCH_CONTENT_TYPE
--
-- done() prints one JSON line: requests, seconds, req/s, latency percentiles in microseconds,
-- and errors (non-2xx answers, connection errors and timeouts).

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/healthz"
local token = os.getenv("BENCH_TOKEN")
local body_kind = os.getenv("BENCH_BODY")
if body_kind == "" then
  body_kind = nil
end
local id_min = tonumber(os.getenv("BENCH_ID_MIN") or "1")
local id_max = tonumber(os.getenv("BENCH_ID_MAX") or "1")
local terms = {}
for term in string.gmatch(os.getenv("BENCH_TERMS") or "", "[^,]+") do
  terms[#terms + 1] = term
end

local threads = {}
-- Globals of each thread's own Lua state (set and read through wrk's thread:set/get).
thread_id = 0
non_2xx = 0
local counter = 0
local file_body = nil
local headers = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  math.randomseed(os.time() * 1000 + thread_id)
  if token then
    headers["Authorization"] = "Bearer " .. token
  end
  if body_kind == "customer" then
    headers["Content-Type"] = "application/json"
  elseif body_kind then
    local file = assert(io.open(body_kind, "rb"))
    file_body = file:read("*a")
    file:close()
    headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")
  end
end

local function expand(template)
  local out = template:gsub("{id}", function()
    return tostring(math.random(id_min, id_max))
  end)
  out = out:gsub("{term}", function()
    return terms[math.random(#terms)]
  end)
  return out
end

function request()
  local body = file_body
  if body_kind == "customer" then
    counter = counter + 1
    body = string.format(
      '{"name":"Bench Customer %d-%d","phone":"+1415%d%06d","notes":"Made by the load benchmark."}',
      thread_id, counter, 2 + thread_id % 8, counter % 1000000)
  end
  return wrk.format(method, expand(path), headers, body)
end

-- Counts answers other than 2xx; the first of each thread is shown, to say what went wrong.
function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
    if non_2xx == 1 then
      io.stderr:write(string.format("first error answer: %d %s\n", status, (body or ""):sub(1, 300)))
    end
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non_2xx") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"seconds":%.2f,"rps":%.0f,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,' ..
    '"non_2xx":%d,"socket_errors":%d,"timeouts":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    bad, e.connect + e.read + e.write, e.timeout))
end

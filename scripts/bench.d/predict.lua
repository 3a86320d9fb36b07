-- scripts/bench: wrk posts the same request on every connection, and at the end prints one line that
-- scripts/bench reads (latencies in microseconds, straight from wrk's histogram, so no unit parsing).
-- Each row sets its own request through the environment; unset, it is the TF Serving style JSON predict below.
--   BENCH_BODY_FILE      the body, byte for byte (MessagePack and Protobuf are binary: read as it is, never as text)
--   BENCH_CONTENT_TYPE   its Content-Type (default application/json)
--   BENCH_ACCEPT         an Accept header, when the row asks for a media type other than its default answer
--   BENCH_AUTHORIZATION  an Authorization header, for rows behind authentication (gateway-jwt, gateway-full)
local function env(name)
  local value = os.getenv(name)
  if value == nil or value == "" then return nil end
  return value
end

wrk.method = "POST"
wrk.body = '{"instances":[[5.1,3.5,1.4,0.2]]}'
wrk.headers["Content-Type"] = env("BENCH_CONTENT_TYPE") or "application/json"

local body_file = env("BENCH_BODY_FILE")
if body_file ~= nil then
  local file = assert(io.open(body_file, "rb"))
  wrk.body = file:read("*a")
  file:close()
end
local accept = env("BENCH_ACCEPT")
if accept ~= nil then
  wrk.headers["Accept"] = accept
end
local authorization = env("BENCH_AUTHORIZATION")
if authorization ~= nil then
  wrk.headers["Authorization"] = authorization
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "modelgate-bench requests=%d duration_us=%d p50_us=%d p99_us=%d status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0),
    e.status, e.connect, e.read, e.write, e.timeout))
end

-- scripts/bench: wrk posts the same predict request on every connection, and at the end prints one line that
-- scripts/bench reads (latencies in microseconds, straight from wrk's histogram, so no unit parsing).
wrk.method = "POST"
wrk.body = '{"instances":[[5.1,3.5,1.4,0.2]]}'
wrk.headers["Content-Type"] = "application/json"
-- Set by scripts/bench for targets behind authentication (the gateway-jwt row).
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization ~= nil and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "modelgate-bench requests=%d duration_us=%d p50_us=%d p99_us=%d status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0),
    e.status, e.connect, e.read, e.write, e.timeout))
end

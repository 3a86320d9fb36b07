# scripts/bench's footprint sections (issue 14's jar, memory and start targets) and the closing list of every issue 14
# target with its figure and "met" or "not met". Sourced by scripts/bench, whose helpers (start/stop, ports, wrk) and
# variables (tmp, jar, backend_port, the medians) it uses.

IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-1000}
ACTIVE_CONNECTIONS=${ACTIVE_CONNECTIONS:-64}
START_RUNS=${START_RUNS:-3}

# met CONDITION: "met" when the awk condition holds, else "not met".
met() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "not met"; fi; }

declare -A footprint=()
# The throughput targets' lines, kept by scripts/bench's targets section for issue14_targets.
issue14_lines=()

# The jar as built: its size and the platforms whose ONNX Runtime libraries it carries.
footprint_jar() {
  local bytes platforms
  bytes=$(stat -c %s "$jar")
  platforms=$(unzip -Z1 "$jar" 'ai/onnxruntime/native/*' 2>/dev/null | awk -F/ 'NF > 4 { print $4 }' | sort -u |
    paste -sd, -)
  footprint[jar_mb]=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
  footprint[jar_platforms]=${platforms:-none}
  echo "jar: target/gateway.jar ${footprint[jar_mb]} MB, ONNX Runtime libraries for ${footprint[jar_platforms]}"
}

# Start: java -jar with the shipped default configuration (the embedded demo model, ONNX Runtime and all) from an
# empty folder, to /readyz answering 200; START_RUNS starts after one that records a class-data-sharing archive,
# best of them. The archive is an AOT cache where the JDK has them (25 and later: -XX:AOTCacheOutput, then
# -XX:AOTCache; CDS with the classes also linked ahead of time, JEP 483), else a dynamic archive
# (-XX:SharedArchiveFile with -XX:+AutoCreateSharedArchive).
footprint_start() {
  local folder="$tmp/start" run pid began ms best="" api admin grpc record use
  mkdir -p "$folder"
  if "$JAVA_HOME/bin/java" -XX:+PrintFlagsFinal -version 2>/dev/null | grep -q ' AOTCacheOutput '; then
    record=(-XX:AOTCacheOutput="$folder/gateway.aot")
    use=(-XX:AOTCache="$folder/gateway.aot")
    footprint[start_archive]="an AOT cache"
  else
    record=(-XX:SharedArchiveFile="$folder/gateway.jsa" -XX:+AutoCreateSharedArchive)
    use=("${record[@]}")
    footprint[start_archive]="a dynamic CDS archive"
  fi
  pick_free_port api
  pick_free_port admin
  pick_free_port grpc
  for ((run = 0; run <= START_RUNS; run++)); do
    began=$(date +%s%N)
    if [ "$run" -eq 0 ]; then set -- "${record[@]}"; else set -- "${use[@]}"; fi
    (cd "$folder" && exec "$JAVA_HOME/bin/java" "$@" -jar "$jar" --port "$api" --admin-port "$admin" \
      --grpc-port "$grpc") >"$folder/run-$run.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$admin/readyz" || true)" \
        = 200 ]; do
      kill -0 "$pid" 2>/dev/null || { tail -n 30 "$folder/run-$run.log" >&2; die "the gateway exited while starting"; }
      [ $(( ($(date +%s%N) - began) / 1000000000 )) -lt "$READY_TIMEOUT" ] || die "no /readyz within ${READY_TIMEOUT}s"
      sleep 0.01
    done
    ms=$(( ($(date +%s%N) - began) / 1000000 ))
    if [ "$run" -eq 0 ]; then
      # The archive is written as the JVM exits, which may take longer than stop_process waits before a KILL.
      kill -TERM "$pid"
      wait "$pid" || true
    else
      stop_process "$pid"
    fi
    if [ "$run" -eq 0 ]; then
      [ -s "$folder/gateway.aot" ] || [ -s "$folder/gateway.jsa" ] ||
        { tail -n 30 "$folder/run-0.log" >&2; die "the first start wrote no ${footprint[start_archive]#* }"; }
      echo "start: ${ms} ms recording ${footprint[start_archive]} (not counted)"
      continue
    fi
    echo "start: ${ms} ms"
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  footprint[start_ms]=$best
}

# Memory: the gateway with the edge JVM options (lib.sh) and an http route to the backend (no ONNX), IDLE_CONNECTIONS
# keep-alive clients that asked once and stay silent, and wrk on ACTIVE_CONNECTIONS at full speed for DURATION;
# resident memory (VmRSS) sampled every 100 ms from before the idle clients connect to the end of the load, the max.
footprint_memory() {
  local folder="$tmp/memory" api admin pid sampler idle_pid line rps st so errors closed
  mkdir -p "$folder"
  pick_free_port api
  pick_free_port admin
  cat >"$folder/gateway.yaml" <<EOF
# Written by scripts/bench: the memory target's gateway, an http route and no ONNX.
server:
  address: 127.0.0.1
  grpc-port: 0
middlewares:
  - type: request-id
backends:
  remote:
    type: http
    url: http://127.0.0.1:$backend_port/v1/models/m:predict
    max-connections: $ACTIVE_CONNECTIONS
routes:
  - model: remote
    backend: remote
EOF
  # shellcheck disable=SC2086  # the options are a list of flags
  (cd "$folder" && exec env MALLOC_ARENA_MAX="$edge_malloc_arenas" "$JAVA_HOME/bin/java" $edge_java_opts -jar "$jar" \
    --config "$folder/gateway.yaml" --port "$api" --admin-port "$admin") >"$folder/gateway.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_ready "gateway (memory)" "http://127.0.0.1:$admin/readyz" "$pid" "$folder/gateway.log"
  (while kill -0 "$pid" 2>/dev/null; do
     awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null
     sleep 0.1
   done) >"$folder/rss.kb" &
  sampler=$!
  # The idle clients hold their connections until their stdin (this fifo) is closed.
  mkfifo "$folder/idle.fifo"
  "$python" "$bench_dir/idle_connections.py" 127.0.0.1 "$api" "$IDLE_CONNECTIONS" /v1/models \
    <"$folder/idle.fifo" >"$folder/idle.out" 2>&1 &
  idle_pid=$!
  exec 7>"$folder/idle.fifo"
  until grep -qs '^open ' "$folder/idle.out"; do
    kill -0 "$idle_pid" 2>/dev/null || { exec 7>&-; cat "$folder/idle.out" >&2; die "the idle clients failed"; }
    sleep 0.1
  done
  # wrk with the bench's script and its default request, the Iris row in TF Serving JSON.
  timeout -k 5 $(( $(duration_seconds "$DURATION") + 30 )) wrk -t"$THREADS" -c"$ACTIVE_CONNECTIONS" -d"$DURATION" \
    --timeout "$WRK_TIMEOUT" --latency -s "$bench_dir/predict.lua" "http://127.0.0.1:$api/v1/models/remote:predict" \
    >"$folder/wrk.log" 2>&1 || { exec 7>&-; cat "$folder/wrk.log" >&2; die "wrk failed against the memory gateway"; }
  line=$(grep '^modelgate-bench ' "$folder/wrk.log" | tail -n 1)
  read -r rps st so < <(awk '{
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%.0f %d %d\n", v["requests"] / (v["duration_us"] / 1e6), v["status"],
        v["connect"] + v["read"] + v["write"] + v["timeout"]
    }' <<<"$line")
  exec 7>&-
  wait "$idle_pid" || true
  kill "$sampler" 2>/dev/null || true
  stop_process "$pid"
  closed=$(sed -n 's/^closed //p' "$folder/idle.out")
  errors=$((st + so + ${closed:-$IDLE_CONNECTIONS}))
  footprint[rss_mb]=$(sort -n "$folder/rss.kb" | tail -n 1 | awk '{ printf "%.0f", $1 / 1024 }')
  footprint[memory_errors]=$errors
  echo "memory: max resident ${footprint[rss_mb]} MB with $IDLE_CONNECTIONS idle keep-alive connections and" \
    "$ACTIVE_CONNECTIONS active ($rps req/s); $st non-2xx, $so socket errors, ${closed:-all} idle" \
    "connections closed by the gateway; JVM: $edge_java_opts, MALLOC_ARENA_MAX=$edge_malloc_arenas"
  [ "$errors" -eq 0 ] || failed=1
}

# footprint_sections: the jar, start and memory rows, in that order.
footprint_sections() {
  echo
  footprint_jar
  footprint_start
  footprint_memory
}

# The rate limiter alone (plugins/rate-limit's LimiterThroughput): the local and the Redis store, its output also in
# $tmp/limiter.out for issue14_targets.
limiter_section() {
  local limiter_dir="$modelgate_root/plugins/rate-limit" limiter_classpath=""
  echo
  if [ -n "${MODELGATE_SKIP_BUILD:-}" ]; then
    # No Maven: the benchmark's own classes as built, over the gateway jar, which holds the limiter, the kernel and
    # Jedis.
    if [ -d "$limiter_dir/target/test-classes" ]; then
      limiter_classpath="$limiter_dir/target/test-classes:$jar"
    fi
  else
    # In the reactor (-pl ... -am) the project's own modules resolve to this checkout's target/classes, not to the
    # jars in ~/.m2, which any other checkout's mvn install on this machine may be rewriting at that very moment.
    # Every module of the reactor writes the classpath file; the rate limiter, which needs all the others, comes last.
    (cd "$modelgate_root" && mvn -B -q -o -pl plugins/rate-limit -am test-compile dependency:build-classpath \
        -Dmdep.includeScope=test -Dmdep.outputFile="$tmp/limiter-classpath.txt") >"$tmp/limiter-build.log" 2>&1 ||
      { cat "$tmp/limiter-build.log" >&2; die "could not build the rate limiter's benchmark"; }
    limiter_classpath="$(cat "$tmp/limiter-classpath.txt"):$limiter_dir/target/classes:$limiter_dir/target/test-classes"
  fi
  if [ -n "$limiter_classpath" ]; then
    ensure_packages redis-server || die "cannot install redis-server"
    (cd "$limiter_dir" && "$JAVA_HOME/bin/java" -cp "$limiter_classpath" \
        dev.modelgate.plugins.ratelimit.LimiterThroughput "${LIMITER_SECONDS:-5}" "${LIMITER_THREADS:-32}") |
      tee "$tmp/limiter.out"
  else
    echo "rate limiter: skipped (MODELGATE_SKIP_BUILD is set and plugins/rate-limit/target/test-classes is not built)"
  fi
}

# The Redis limiter's figure over 10000 keys, from LimiterThroughput's output in $tmp/limiter.out.
footprint_limiter() {
  [ -f "$tmp/limiter.out" ] || return 0   # the limiter section did not run
  footprint[redis_rate]=$(sed -n 's/^ *redis *10,000 keys *\([0-9,]*\)\/s$/\1/p' "$tmp/limiter.out" |
    tr -d , | tail -n 1)
}

# issue14_targets: every target of issue 14 with this run's figure and "met" or "not met" ("not measured" for a
# section this run skipped).
issue14_targets() {
  footprint_limiter
  echo
  echo "issue 14 targets, this run"
  if [ "${#issue14_lines[@]}" -gt 0 ]; then
    printf '%s\n' "${issue14_lines[@]}"
  else
    echo "  bare http route, whole pipeline, one connection: not measured (--footprint, or no targets in SECTIONS)"
  fi
  if [ -z "${footprint[jar_mb]:-}" ]; then
    echo "  jar, memory, start: not measured (no footprint in SECTIONS)"
  else
    echo "  jar: ${footprint[jar_mb]} MB for ${footprint[jar_platforms]} (target <= 40 MB for one platform:" \
      "$(met "${footprint[jar_mb]} <= 40 && \"${footprint[jar_platforms]}\" !~ /,/"))"
    echo "  memory: ${footprint[rss_mb]} MB resident at most, ${footprint[memory_errors]} failed (target <= 128 MB," \
      "none failed: $(met "${footprint[rss_mb]} <= 128 && ${footprint[memory_errors]} == 0"))"
    echo "  start: ${footprint[start_ms]} ms from java -jar to /readyz ready, best of $START_RUNS with" \
      "${footprint[start_archive]} (target <= 1000 ms: $(met "${footprint[start_ms]} <= 1000"))"
  fi
  if [ -n "${footprint[redis_rate]:-}" ]; then
    echo "  Redis rate limiter: ${footprint[redis_rate]} decisions/s over 10000 keys (target >= 50000:" \
      "$(met "${footprint[redis_rate]} >= 50000"))"
  else
    echo "  Redis rate limiter: not measured (its benchmark did not run)"
  fi
}

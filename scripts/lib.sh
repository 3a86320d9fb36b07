# Shared by the scripts: find a JDK 21+ and Maven. Source it; it sets JAVA_HOME and PATH or exits with a message.

modelgate_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The JVM options Modelgate ships with: scripts/run, scripts/dist's bin/modelgate (so the Docker image), the Kubernetes
# base, and scripts/bench's gateway. A fixed 256 MB heap and the serial collector: a gateway's heap is almost all
# garbage of the requests in flight, and a young collection of its small live set takes about a millisecond on one
# thread. Measured at 32 connections on this busy 2-core machine (-Xlog:gc, 10 s of load): serial pauses averaged
# 1.0-1.3 ms, G1's 3-5 ms and parallel's 2.7 ms (their worker threads wait for each other on busy cores), and G1's
# barriers cost CPU on every request. The heap starts whole because a young generation sized from -Xms32m was
# collected 21 times a second (0.8 ms each, a pause in 1 request of 25 at 32 connections) against 3 times a second;
# the price is idle resident memory: 176 MB against 127 MB.
server_java_opts="-Xms256m -Xmx256m -XX:+UseSerialGC"

# The "edge" JVM options, for a small VM (issue 14's memory target: -Xmx64m, 1000 idle and 64 busy connections within
# 128 MB resident): a 64 MB heap that starts at 16 MB and gives memory back (G1, whose mixed collections reclaim the
# old generation as it goes where the serial collector let it fill up to the full 64 MB before collecting, with a
# periodic collection when idle and the free ratios), C1 alone (C2's compiler arenas and larger code were 20-30 MB of
# the peak, and on this busy 2-core machine C2's compile threads cost more than its code won in runs of seconds), and
# the C heap trimmed every second. scripts/run (MODELGATE_EDGE=1), scripts/dist's bin/modelgate (MODELGATE_EDGE=1) and
# scripts/bench's memory row use them, with MALLOC_ARENA_MAX=2 in the environment (glibc's per-thread arenas
# otherwise hold freed memory).
edge_java_opts="-Xms16m -Xmx64m -XX:+UseG1GC -XX:G1PeriodicGCInterval=2000 -XX:MinHeapFreeRatio=10 \
-XX:MaxHeapFreeRatio=30 -XX:TieredStopAtLevel=1 -XX:TrimNativeHeapInterval=1000"
edge_malloc_arenas=2

# Prints the feature version (17, 21, 25, ...) of the JDK at $1, or nothing.
jdk_feature_version() {
  local home=$1 version
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -f "$home/release" ]; then
    version=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  fi
  if [ -z "$version" ]; then
    version=$("$home/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
  fi
  echo "$version"
}

# Uses JAVA_HOME when it is 21 or newer, else the newest JDK 21+ under /usr/lib/jvm.
use_jdk21() {
  local candidate version best="" best_version=0
  if [ -n "${JAVA_HOME:-}" ]; then
    version=$(jdk_feature_version "$JAVA_HOME")
    if [ -n "$version" ] && [ "$version" -ge 21 ]; then best=$JAVA_HOME; best_version=$version; fi
  fi
  if [ -z "$best" ]; then
    for candidate in /usr/lib/jvm/*; do
      [ -d "$candidate" ] || continue
      version=$(jdk_feature_version "$candidate")
      if [ -n "$version" ] && [ "$version" -ge 21 ] && [ "$version" -gt "$best_version" ]; then
        best=$candidate; best_version=$version
      fi
    done
  fi
  if [ -z "$best" ]; then
    echo "modelgate: no JDK 21 or newer found (looked at JAVA_HOME=${JAVA_HOME:-unset} and /usr/lib/jvm/*)." >&2
    echo "modelgate: install one (for example: apt-get install openjdk-21-jdk-headless) or set JAVA_HOME." >&2
    exit 1
  fi
  export JAVA_HOME=$best
  export PATH="$JAVA_HOME/bin:$PATH"
}

# Installs Debian packages that are missing, when running as root; otherwise says what to install.
ensure_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "modelgate: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "modelgate: please install: ${missing[*]}" >&2
    return 1
  fi
}

use_maven() {
  command -v mvn >/dev/null || ensure_packages maven || exit 1
}

# Builds target/gateway.jar (tests skipped) when it is missing or older than any source.
build_gateway_jar() {
  local jar="$modelgate_root/target/gateway.jar"
  if [ -f "$jar" ] && [ -z "$(find "$modelgate_root" -path "$modelgate_root/target" -prune -o \
      \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' -o -name 'gateway.yaml' \) \
      -newer "$jar" -print -quit)" ]; then
    return 0
  fi
  echo "modelgate: building target/gateway.jar with Maven, tests skipped (a first build also downloads the" \
    "dependencies: a minute or more)" >&2
  # One line per module as Maven reaches it, so a long first build shows where it is; the whole log on failure.
  local log
  log=$(mktemp)
  if ! (cd "$modelgate_root" && mvn -B -ntp -DskipTests install 2>&1 | tee "$log" |
      sed -nu 's/^\[INFO\] Building \(.*[^ ]\) \+[0-9][^ ]* \+\[\([0-9]*\/[0-9]*\)\]$/modelgate:   [\2] \1/p' >&2
      exit "${PIPESTATUS[0]}"); then
    cat "$log" >&2
    rm -f "$log"
    echo "modelgate: the build failed (Maven's output above)" >&2
    exit 1
  fi
  rm -f "$log"
  echo "modelgate: built target/gateway.jar" >&2
}

# pick_free_port VAR: sets VAR to a port on 127.0.0.1 nothing listens on, below the ephemeral range (32768 and up on
# Linux), where the kernel's own picks for outgoing connections cannot take it meanwhile; never one picked before by
# this script.
picked_ports=" "
pick_free_port() {
  local port i
  for ((i = 0; i < 200; i++)); do
    port=$(shuf -i 10000-30000 -n 1)
    case "$picked_ports" in *" $port "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      picked_ports+="$port "
      printf -v "$1" '%s' "$port"
      return 0
    fi
  done
  echo "modelgate: found no free port in 10000-30000" >&2
  exit 1
}

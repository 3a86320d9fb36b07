#!/usr/bin/env bash
# A CI step for GitOps: runs `gateway.jar validate` on every gateway configuration in the repository, so that a
# configuration that would not load is refused before it is merged and rolled out (by Argo CD, Flux, kubectl apply).
#
#   deploy/ci/validate-configs.sh [REPOSITORY]      (default: the repository this script is in)
#
# Checks conf/*.yaml, conf/examples/*.yaml and every gateway.yaml under deploy/kubernetes (the files kustomize's
# configMapGenerator puts in the ConfigMaps). Prints one line per file and every problem with its key path; exits 1
# when any file is invalid. MODELGATE_JAR names the jar (default REPOSITORY/target/gateway.jar); Java 21 or newer is
# taken from JAVA_HOME, else the PATH. A plain shell step, for any CI:
#
#   GitHub Actions:  - run: deploy/ci/validate-configs.sh
#   GitLab CI:       script: [deploy/ci/validate-configs.sh]
set -euo pipefail

root=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
jar=${MODELGATE_JAR:-$root/target/gateway.jar}
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
[[ -f "$jar" ]] || { echo "validate-configs: no $jar (build it with mvn package, or set MODELGATE_JAR)" >&2; exit 2; }

# Values for the variables the examples read without a default: validate checks each configuration's shape and
# files, and connects to nothing. A variable the environment already sets wins.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$scratch/jwt.key" 2>/dev/null
openssl pkey -in "$scratch/jwt.key" -pubout -out "$scratch/jwt.pub"
: "${MODELGATE_BACKEND_URL:=http://127.0.0.1:8501/v1/models/m:predict}"
: "${MODELGATE_CANARY_URL:=http://127.0.0.1:8503/v1/models/m:predict}"
: "${MODELGATE_TFSERVING_URL:=http://127.0.0.1:8501}"
: "${MODELGATE_KSERVE_URL:=http://127.0.0.1:8000}"
: "${MODELGATE_GRPC_KSERVE_URL:=grpc://127.0.0.1:8001}"
: "${MODELGATE_MODEL_SERVICE_URL:=grpc://127.0.0.1:50051}"
: "${MODELGATE_JWT_SECRET:=a-placeholder-secret-long-enough-for-hs256}"
: "${MODELGATE_JWT_PUBLIC_KEY:=$scratch/jwt.pub}"
: "${MODELGATE_JWKS_URL:=http://127.0.0.1:8502/.well-known/jwks.json}"
: "${MODELGATE_OPENAI_BASE_URL:=http://127.0.0.1:11434/v1}"
: "${MODELGATE_OPENAI_FALLBACK_URL:=http://127.0.0.1:8000/v1}"
: "${MODELGATE_EU_1_URL:=http://127.0.0.1:8511/v1/models/m:predict}"
: "${MODELGATE_EU_2_URL:=http://127.0.0.1:8512/v1/models/m:predict}"
: "${MODELGATE_US_1_URL:=http://127.0.0.1:8521/v1/models/m:predict}"
: "${MODELGATE_US_2_URL:=http://127.0.0.1:8522/v1/models/m:predict}"
: "${MODELGATE_ADMIN_TOKEN:=a-placeholder-admin-token-of-32-characters-or-more}"
export MODELGATE_BACKEND_URL MODELGATE_CANARY_URL MODELGATE_TFSERVING_URL MODELGATE_KSERVE_URL \
  MODELGATE_GRPC_KSERVE_URL MODELGATE_MODEL_SERVICE_URL MODELGATE_JWT_SECRET MODELGATE_JWT_PUBLIC_KEY \
  MODELGATE_JWKS_URL MODELGATE_OPENAI_BASE_URL MODELGATE_OPENAI_FALLBACK_URL MODELGATE_EU_1_URL MODELGATE_EU_2_URL \
  MODELGATE_US_1_URL MODELGATE_US_2_URL MODELGATE_ADMIN_TOKEN

cd "$root"
# conf/reference.yaml lists every key for config-reference and names TLS files the repository does not ship: it is
# documentation, not a configuration to serve.
shopt -s nullglob
configs=()
for config in conf/*.yaml conf/examples/*.yaml; do
  [[ $config == conf/reference.yaml ]] || configs+=("$config")
done
if [[ -d deploy/kubernetes ]]; then
  mapfile -t -O "${#configs[@]}" configs < <(find deploy/kubernetes -name gateway.yaml | sort)
fi
(( ${#configs[@]} )) || { echo "validate-configs: no configuration under $root" >&2; exit 2; }
failed=0
for config in "${configs[@]}"; do
  # A short run: the JIT's first tier and the serial collector start fastest.
  if problems=$("$java" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$jar" validate "$config" 2>&1 >/dev/null); then
    echo "ok      $config"
  else
    echo "INVALID $config"
    sed 's/^/        /' <<<"$problems"
    failed=1
  fi
done
echo "${#configs[@]} configurations checked"
exit "$failed"

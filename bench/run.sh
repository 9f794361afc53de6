#!/usr/bin/env bash
# make bench: Verdict against OPA on the same workload, in the same run.
# Writes raw outputs to bench/out/ and prints the summary; bench/RESULTS.md
# records the numbers with the commands that produced them.
#
#   BENCH_COUNT   go test -count (default 6, benchstat-friendly)
#   WRK_DURATION  seconds per wrk run (default 20)
#   DELIVERY_PUSHES      pushes per delivery benchmark (default 20)
#   BENCH_DELIVERY_1000  0 skips delivery to 1,000 PDPs (default 1)
#   DECISIONLOG_DURATION seconds per wrk run of bench/decisionlog.sh (default 10)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=bench/out
mkdir -p "$out"
count=${BENCH_COUNT:-6}
dur=${WRK_DURATION:-20}
ref=${OPA_TODO_DIR:-$root/../shared/bench/opa-todo}
opa_version=$(go list -m -f '{{.Version}}' github.com/open-policy-agent/opa)

echo "== Go benchmarks (count=$count)"
go test -run '^$' -bench 'BenchmarkSynth' -benchmem -count "$count" -timeout 60m ./pap/build/ | tee "$out/synth.txt"
go test -run '^$' -bench 'Todo|RBAC|Middleware' -benchmem -count "$count" -timeout 60m ./sdk/ | tee "$out/sdk.txt"
go test -run '^$' -bench 'Verify' -benchmem -count "$count" ./token/ | tee "$out/token.txt"
go test -run '^$' -bench 'HotSwap' -benchtime 1x -timeout 60m ./sdk/ -args -sdk.swaprules=10000 | tee "$out/hotswap.txt"
go test -run '^$' -bench RevocationPropagation -benchtime 1x ./pki/revocation/ | tee "$out/revocation.txt"
go test -run '^$' -bench 'Issue' -benchmem ./pki/ca/ | tee "$out/ca.txt"
go test -run '^$' -bench 'OCSP' ./pki/caserver/ | tee -a "$out/ca.txt"
# Policy distribution: push -> N embedded PDPs (each on its own NATS
# connection) until the last one verified it, and per-PDP activation.
# N=1000 needs about 3 file descriptors per PDP (client and server side of
# its connection, JetStream files): it runs when the soft limit can be
# raised to 8192; BENCH_DELIVERY_1000=0 skips it.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
n1000=${BENCH_DELIVERY_1000:-1}
if [ "$n1000" = 1 ] && [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 8192 ]; then
  echo "delivery N=1000 skipped: ulimit -n is $(ulimit -n), below 8192"
  n1000=0
fi
# The PDPs talk to a separate nats-server process when one is installed,
# as they would in production; an in-process server would share the
# benchmark's CPUs and garbage collector with a thousand PDPs.
nats_url=${VERDICT_TEST_NATS_URL:-}
nats_pid=""
if [ -z "$nats_url" ] && command -v nats-server >/dev/null; then
  nats_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  nats_dir=$(mktemp -d)
  nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$nats_dir" >"$out/nats-server.log" 2>&1 &
  nats_pid=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break; sleep 0.1; done
  nats_url="nats://127.0.0.1:$nats_port"
fi
VERDICT_TEST_NATS_URL=$nats_url VERDICT_BENCH_1000=$n1000 go test -run '^$' -bench 'Delivery' -benchtime "${DELIVERY_PUSHES:-20}x" -timeout 60m ./integration/ | tee "$out/delivery.txt"
if [ -n "$nats_pid" ]; then kill "$nats_pid"; wait "$nats_pid" 2>/dev/null || true; rm -rf "$nats_dir"; fi
go test -run '^$' -bench 'Activation' -benchmem -count "$count" -timeout 60m ./integration/ | tee "$out/activation.txt"
for f in synth sdk token; do
  go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$out/$f.txt" > "$out/$f.benchstat.txt" || true
done

echo "== HTTP load: Verdict AuthZEN vs opa run --server ($dur s each, wrk -t1 -c64)"
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk
fi
GOBIN="$root/bin" go install "github.com/open-policy-agent/opa@$opa_version"
go build -o bin/verdict ./cmd/verdict
log=$(mktemp)
bin/verdict pdp serve --config policies/authzen-todo/pdp.yaml --http 127.0.0.1:0 --grpc 127.0.0.1:0 >"$log" 2>&1 &
vpid=$!
opaport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bin/opa run --server --addr "127.0.0.1:$opaport" --log-level error "$ref/policy.rego" "$ref/data.json" >"$out/opa.log" 2>&1 &
opid=$!
trap 'kill $vpid $opid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'listening http=' "$log" && break; sleep 0.1; done
vaddr=$(sed -n 's/.*listening http=\([^ ]*\).*/\1/p' "$log" | head -1)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$opaport/health" >/dev/null && break; sleep 0.1; done
cd "$ref"
for round in 1 2; do
  REQS="$ref/requests.jsonl" wrk -t1 -c64 -d"${dur}s" --latency -s requests.lua "http://$vaddr/access/v1/evaluation" | tee "$root/$out/wrk-verdict-$round.txt" | grep RESULT
  WRAP=1 REQS="$ref/requests.jsonl" wrk -t1 -c64 -d"${dur}s" --latency -s requests.lua "http://127.0.0.1:$opaport/v1/data/todo/decision" | tee "$root/$out/wrk-opa-$round.txt" | grep RESULT
done

echo "== gRPC and mTLS load (Go load client, pdp/server BenchmarkLoad)"
cd "$root"
go test -run '^$' -bench BenchmarkLoad -benchtime "${dur}s" ./pdp/server/ | tee "$out/load-grpc-mtls.txt"

echo "== Decision logging on vs off (bench/decisionlog.sh)"
WRK_DURATION=${DECISIONLOG_DURATION:-10} bash bench/decisionlog.sh | tee "$out/decisionlog.txt"

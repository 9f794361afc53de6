#!/usr/bin/env bash
# Decision-log cost: remote PDP throughput (wrk, AuthZEN Todo workload) with
# decision logging on and off, in the same run, and the audit collector's
# CPU reported separately. bench/run.sh calls it; it runs alone as well.
#
# Two `verdict pdp serve` processes run side by side on the same policies:
# "off" has no decision_log section, "on" ships every decision to a local
# NATS JetStream server, where `verdict audit serve` (SQLite store) collects
# them. wrk alternates between them, ROUNDS times. The collector is paused
# (SIGSTOP) while wrk runs, so that on this small machine it does not
# compete with the PDP for the same cores (in production it runs
# elsewhere); once the rounds are over it is resumed and timed while it
# drains the stream, which gives its CPU cost per record. For reference,
# OPA runs the same workload with and without its console decision logs.
#
#   WRK_DURATION  seconds per wrk run (default 10)
#   ROUNDS        off/on rounds, alternating which goes first (default 4)
#   OPA_TODO_DIR  the OPA reference policy (default ../shared/bench/opa-todo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=bench/out
mkdir -p "$out"
dur=${WRK_DURATION:-10}
rounds=${ROUNDS:-4}
ref=${OPA_TODO_DIR:-$root/../shared/bench/opa-todo}
opa_version=$(go list -m -f '{{.Version}}' github.com/open-policy-agent/opa)

[ -f "$ref/requests.jsonl" ] || { echo "decisionlog.sh: no OPA reference in $ref (set OPA_TODO_DIR)" >&2; exit 2; }
for tool in wrk nats-server python3 curl; do
  command -v "$tool" >/dev/null || { echo "decisionlog.sh: $tool is required" >&2; exit 2; }
done
[ -x bin/opa ] || GOBIN="$root/bin" go install "github.com/open-policy-agent/opa@$opa_version"
go build -o bin/verdict ./cmd/verdict

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# cpu PID: user+system CPU seconds the process has used so far.
cpu() { python3 -c 'import os,sys; f=open("/proc/%s/stat"%sys.argv[1]).read().rsplit(")",1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK"))' "$1"; }
waitfor() { for _ in $(seq 200); do grep -q "$2" "$1" && return 0; sleep 0.1; done; echo "timeout waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1; }

natsport=$(freeport)
nats-server -a 127.0.0.1 -p "$natsport" -js -sd "$work/nats" >"$work/nats.log" 2>&1 &
natspid=$!; pids+=("$natspid")
waitfor "$work/nats.log" "Server is ready"

todo=$root/policies/authzen-todo
pdpconf() { # NAME [extra yaml]
  cat >"$work/pdp-$1.yaml" <<EOF
listen: {http: 127.0.0.1:0, grpc: 127.0.0.1:0}
insecure_plaintext: true
service: todo
policies: [$todo/todo.xml]
pips:
  - type: json-file
    file: $todo/users.json
    key: {category: subject, attribute: id}
    entity_type: user
$2
EOF
}
pdpconf off ""
pdpconf on "decision_log:
  nats: nats://127.0.0.1:$natsport
  spool: $work/spool
  instance: bench-pdp"
cat >"$work/audit.yaml" <<EOF
listen: 127.0.0.1:0
insecure_plaintext: true
nats: {url: "nats://127.0.0.1:$natsport"}
store: {sqlite: $work/audit.db}
signing_key: $work/audit-key.pem
checkpoints: $work/checkpoints.jsonl
EOF

bin/verdict audit serve --config "$work/audit.yaml" >"$work/audit.log" 2>&1 &
apid=$!; pids+=("$apid")
waitfor "$work/audit.log" "listening audit="
declare -A addr pid
for mode in off on; do
  bin/verdict pdp serve --config "$work/pdp-$mode.yaml" >"$work/pdp-$mode.log" 2>&1 &
  pid[$mode]=$!; pids+=("$!")
  waitfor "$work/pdp-$mode.log" "listening http="
  addr[$mode]=$(sed -n 's/.*listening http=\([^ ]*\).*/\1/p' "$work/pdp-$mode.log" | head -1)
done
opaport=$(freeport); opalogport=$(freeport)
bin/opa run --server --addr "127.0.0.1:$opaport" --log-level error "$ref/policy.rego" "$ref/data.json" >"$work/opa-off.log" 2>&1 &
pids+=("$!")
bin/opa run --server --addr "127.0.0.1:$opalogport" --log-level error --set decision_logs.console=true "$ref/policy.rego" "$ref/data.json" >/dev/null 2>"$work/opa-on.log" &
pids+=("$!")
for p in "$opaport" "$opalogport"; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$p/health" >/dev/null && break; sleep 0.1; done
done

# Pause the collector for the load phase: decisions queue in JetStream.
kill -STOP "$apid"
natscpu0=$(cpu "$natspid")
cd "$ref"
declare -A sum cpus reqs
for round in $(seq "$rounds"); do
  # Alternate which mode goes first, so neither always gets the cooler machine.
  order="off on"; [ $((round % 2)) -eq 0 ] && order="on off"
  for mode in $order; do
    c0=$(cpu "${pid[$mode]}")
    r=$(REQS="$ref/requests.jsonl" wrk -t1 -c64 -d"${dur}s" --latency -s requests.lua "http://${addr[$mode]}/access/v1/evaluation" | tee "$root/$out/wrk-dlog-$mode-$round.txt" | grep RESULT)
    c1=$(cpu "${pid[$mode]}")
    rps=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$r")
    sum[$mode]=$(( ${sum[$mode]:-0} + rps ))
    reqs[$mode]=$(( ${reqs[$mode]:-0} + rps * dur ))
    cpus[$mode]=$(python3 -c "print(${cpus[$mode]:-0} + $c1 - $c0)")
    echo "verdict log=$mode round=$round $r pdp_cpu_us_per_req=$(python3 -c "print(round(1e6*($c1-$c0)/max($rps*$dur,1)))")"
  done
  for mode in $order; do
    port=$opaport; [ "$mode" = on ] && port=$opalogport
    r=$(WRAP=1 REQS="$ref/requests.jsonl" wrk -t1 -c64 -d"${dur}s" --latency -s requests.lua "http://127.0.0.1:$port/v1/data/todo/decision" | tee "$root/$out/wrk-dlog-opa-$mode-$round.txt" | grep RESULT)
    rps=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$r")
    sum[opa$mode]=$(( ${sum[opa$mode]:-0} + rps ))
    echo "opa     log=$mode round=$round $r"
  done
done
cd "$root"
natscpu1=$(cpu "$natspid")

# Drain: resume the collector and time it until it has stored every record
# the PDP published (the logger's sent counter, from its /metrics).
sent=$(curl -fs "http://${addr[on]}/metrics" | awk '/^verdict_decisionlog_sent_total/ {print $2}')
sent=${sent:-0}
a0=$(cpu "$apid"); t0=$(date +%s.%N)
kill -CONT "$apid"
stored=0
for _ in $(seq 3000); do
  stored=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from decisions").fetchone()[0])' "$work/audit.db" 2>/dev/null || echo 0)
  python3 -c "import sys; sys.exit(0 if float($stored) >= float($sent) else 1)" && break
  sleep 0.2
done
a1=$(cpu "$apid"); t1=$(date +%s.%N)
python3 - "$rounds" "${sum[off]}" "${sum[on]}" "${sum[opaoff]}" "${sum[opaon]}" "$sent" "$stored" "$a0" "$a1" "$t0" "$t1" "$natscpu0" "$natscpu1" \
  "${cpus[off]}" "${reqs[off]}" "${cpus[on]}" "${reqs[on]}" <<'EOF' | tee "$out/decisionlog-summary.txt"
import sys
rounds, off, on, opaoff, opaon = (float(x) for x in sys.argv[1:6])
sent, stored, a0, a1, t0, t1, n0, n1 = (float(x) for x in sys.argv[6:14])
cpuoff, reqoff, cpuon, reqon = (float(x) for x in sys.argv[14:18])
print(f"verdict PDP: log off {off/rounds:.0f} rps, log on {on/rounds:.0f} rps: on/off = {on/off:.3f} (cost {100*(1-on/off):.1f}%)")
# On a shared machine CPU time per request is steadier than throughput: a
# CPU-bound server's throughput cost is its extra CPU per request.
print(f"verdict PDP CPU per request: log off {1e6*cpuoff/reqoff:.0f} us, log on {1e6*cpuon/reqon:.0f} us: "
      f"on/off = {(cpuon/reqon)/(cpuoff/reqoff):.3f} (cost {100*(1-(cpuoff/reqoff)/(cpuon/reqon)):.1f}% of throughput)")
print(f"opa:         console log off {opaoff/rounds:.0f} rps, on {opaon/rounds:.0f} rps: on/off = {opaon/opaoff:.3f} (cost {100*(1-opaon/opaoff):.1f}%)")
cpu = a1 - a0
print(f"collector (SQLite): {stored:.0f}/{sent:.0f} records stored in {t1-t0:.1f} s wall, {cpu:.1f} CPU s: "
      f"{stored/max(t1-t0,1e-9):.0f} records/s, {stored/max(cpu,1e-9):.0f} records per CPU second")
print(f"nats-server CPU during the load phase: {n1-n0:.1f} s")
EOF

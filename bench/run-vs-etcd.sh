#!/usr/bin/env bash
# Side by side in one run: 256 concurrent HTTP clients reporting events to a
# 3-replica Fengqiao group (separate processes, loopback) vs putting values of
# the same size into a 3-member etcd cluster (Debian's etcd-server 3.4,
# v3 JSON gateway). Needs: apt-get install etcd-server.
#   bench/run-vs-etcd.sh [N] [CLIENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-30000}
CLIENTS=${2:-256}
command -v etcd >/dev/null || { echo "install etcd-server first (apt-get install etcd-server)"; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/fengqiao" ./node/cmd/fengqiao
go build -o "$work/httpload" ./bench/httpload
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr); etcd $(etcd --version | head -1 | awk '{print $3}')"

# Fengqiao: three replicas of 500110.
"$work/fengqiao" keygen --out "$work/keys.json" >/dev/null
TOKEN=fq_bench_token_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
peers='[{"id":"n0","raft":"127.0.0.1:17100","http":"127.0.0.1:18100"},{"id":"n1","raft":"127.0.0.1:17101","http":"127.0.0.1:18101"},{"id":"n2","raft":"127.0.0.1:17102","http":"127.0.0.1:18102"}]'
for i in 0 1 2; do
  cat > "$work/n$i.json" <<JSON
{"node_id":"n$i","jurisdiction":"500110","data_dir":"$work/n$i","http":"127.0.0.1:1810$i","raft":"127.0.0.1:1710$i","key_file":"$work/keys.json","peers":$peers,"log_level":"error"}
JSON
  FENGQIAO_TOKEN=$TOKEN "$work/fengqiao" serve --config "$work/n$i.json" > "$work/n$i.out" 2> "$work/n$i.err" &
  pids+=($!)
done
for i in $(seq 1 300); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"category":"dispute","description":"warm","jurisdiction":"500110001"}' http://127.0.0.1:18100/api/v1/events || true)
  [ "$code" = 201 ] && break; sleep 0.2
done
FENGQIAO_TOKEN=$TOKEN "$work/httpload" -target fengqiao -urls http://127.0.0.1:18100,http://127.0.0.1:18101,http://127.0.0.1:18102 -clients "$CLIENTS" -n "$N"
for p in "${pids[@]}"; do kill "$p"; done; wait 2>/dev/null || true; pids=()

# etcd: three members.
cluster="e0=http://127.0.0.1:12380,e1=http://127.0.0.1:12381,e2=http://127.0.0.1:12382"
for i in 0 1 2; do
  etcd --name e$i --data-dir "$work/e$i" --listen-client-urls http://127.0.0.1:1237$i --advertise-client-urls http://127.0.0.1:1237$i \
    --listen-peer-urls http://127.0.0.1:1238$i --initial-advertise-peer-urls http://127.0.0.1:1238$i \
    --initial-cluster "$cluster" --initial-cluster-state new --log-level error > "$work/e$i.log" 2>&1 &
  pids+=($!)
done
for i in $(seq 1 100); do
  curl -s -X POST -d '{"key":"d2FybQ==","value":"d2FybQ=="}' http://127.0.0.1:12370/v3/kv/put >/dev/null && break; sleep 0.2
done
"$work/httpload" -target etcd -urls http://127.0.0.1:12370,http://127.0.0.1:12371,http://127.0.0.1:12372 -clients "$CLIENTS" -n "$N"

#!/usr/bin/env bash
# Side by side in one run: 256 concurrent HTTP clients reporting events to a
# 3-replica Fengqiao group (separate processes, loopback) vs putting values of
# the same size into a 3-member etcd cluster (Debian's etcd-server 3.4,
# v3 JSON gateway). Both replicate over mutual TLS with the same
# certificates; clients speak plain HTTP to both. Needs: apt-get install
# etcd-server oathtool.
#   bench/run-vs-etcd.sh [N] [CLIENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-30000}
CLIENTS=${2:-256}
command -v etcd >/dev/null || { echo "install etcd-server first (apt-get install etcd-server)"; exit 1; }
command -v oathtool >/dev/null || { echo "install oathtool first (apt-get install oathtool): the bootstrap token needs TOTP codes"; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/fengqiao" ./node/cmd/fengqiao
go build -o "$work/httpload" ./bench/httpload
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr); etcd $(etcd --version | head -1 | awk '{print $3}')"

# Fengqiao: three replicas of 500110, Raft over mutual TLS (a group of three
# requires it), the API plain HTTP on loopback as etcd's.
"$work/fengqiao" keygen --out "$work/keys.json" >/dev/null
"$work/fengqiao" tls ca --out "$work/ca" >/dev/null
BOOT=fq_bench_token_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOTP=$(head -c 20 /dev/urandom | base32 | tr -d '=')
peers='[{"id":"n0","raft":"127.0.0.1:17100","http":"127.0.0.1:18100"},{"id":"n1","raft":"127.0.0.1:17101","http":"127.0.0.1:18101"},{"id":"n2","raft":"127.0.0.1:17102","http":"127.0.0.1:18102"}]'
for i in 0 1 2; do
  "$work/fengqiao" tls cert --ca "$work/ca" --jurisdiction 500110 --node n$i --hosts 127.0.0.1 --out "$work/certs" >/dev/null
  cat > "$work/n$i.json" <<JSON
{"node_id":"n$i","jurisdiction":"500110","data_dir":"$work/n$i","http":"127.0.0.1:1810$i","raft":"127.0.0.1:1710$i","key_file":"$work/keys.json","peers":$peers,"log_level":"error",
 "tls":{"ca_file":"$work/ca/ca.pem","cert_file":"$work/certs/n$i.pem","key_file":"$work/certs/n$i-key.pem"},"plain_http":true}
JSON
  FENGQIAO_TOKEN=$BOOT FENGQIAO_TOTP_SECRET=$TOTP "$work/fengqiao" serve --config "$work/n$i.json" > "$work/n$i.out" 2> "$work/n$i.err" &
  pids+=($!)
done
# The bootstrap token (a security administrator's) issues the reporting
# token: a township operator's, which needs no second factor.
for i in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18100/readyz)" = 200 ] && break; sleep 0.2
done
TOKEN=
for i in $(seq 1 30); do
  TOKEN=$(curl -s -H "Authorization: Bearer $BOOT" -H "X-Fengqiao-OTP: $(oathtool --totp -b "$TOTP")" -H 'Content-Type: application/json' \
    -d '{"name":"bench","role":"township_operator","scope":"500110"}' http://127.0.0.1:18100/api/v1/tokens | sed -n 's/.*"secret":"\([^"]*\)".*/\1/p')
  [ -n "$TOKEN" ] && break; sleep 1
done
[ -n "$TOKEN" ] || { echo "no reporting token from the group"; cat "$work/n0.err"; exit 1; }
for i in $(seq 1 300); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"category":"dispute","description":"warm","jurisdiction":"500110001"}' http://127.0.0.1:18100/api/v1/events || true)
  [ "$code" = 201 ] && break; sleep 0.2
done
FENGQIAO_TOKEN=$TOKEN "$work/httpload" -target fengqiao -urls http://127.0.0.1:18100,http://127.0.0.1:18101,http://127.0.0.1:18102 -clients "$CLIENTS" -n "$N"
for p in "${pids[@]}"; do kill "$p"; done; wait 2>/dev/null || true; pids=()

# etcd: three members, peers over mutual TLS with the same certificates, so
# both groups pay for encrypted replication; clients plain HTTP as above.
cluster="e0=https://127.0.0.1:12380,e1=https://127.0.0.1:12381,e2=https://127.0.0.1:12382"
for i in 0 1 2; do
  etcd --name e$i --data-dir "$work/e$i" --listen-client-urls http://127.0.0.1:1237$i --advertise-client-urls http://127.0.0.1:1237$i \
    --listen-peer-urls https://127.0.0.1:1238$i --initial-advertise-peer-urls https://127.0.0.1:1238$i \
    --peer-cert-file "$work/certs/n$i.pem" --peer-key-file "$work/certs/n$i-key.pem" \
    --peer-trusted-ca-file "$work/ca/ca.pem" --peer-client-cert-auth \
    --initial-cluster "$cluster" --initial-cluster-state new --log-level error > "$work/e$i.log" 2>&1 &
  pids+=($!)
done
for i in $(seq 1 100); do
  curl -s -X POST -d '{"key":"d2FybQ==","value":"d2FybQ=="}' http://127.0.0.1:12370/v3/kv/put >/dev/null && break; sleep 0.2
done
"$work/httpload" -target etcd -urls http://127.0.0.1:12370,http://127.0.0.1:12371,http://127.0.0.1:12372 -clients "$CLIENTS" -n "$N"

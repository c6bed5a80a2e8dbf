#!/usr/bin/env bash
# Runs the core benchmarks quoted in docs/benchmarks.md, side by side in one run.
#   bench/run-core.sh            # micro benchmarks + 1,000,000-event scale run
#   EVENTS=200000 bench/run-core.sh
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $(go version | cut -d' ' -f3)"
echo "== point → grid, 100,000 grids"
go test ./core/geo/ -run '^$' -bench BenchmarkLocate100k -benchtime 500000x
echo "== durable report vs bare fsync'd bbolt put (same run)"
go test ./core/ -run '^$' -bench BenchmarkReportDurable -benchtime 3000x
echo "== bulk import, 100,000 events into a fresh store"
go test ./core/ -run '^$' -bench BenchmarkImport -benchtime 3x
echo "== scale: ${EVENTS:-1000000} events"
go run ./bench/corebench -events "${EVENTS:-1000000}"

// Package bench holds benchmark harnesses that are not part of the library.
// The core benchmarks live beside the code (go test -bench); bench/run-core.sh
// runs them with the flags docs/benchmarks.md quotes.
package bench

// Package procstat reads what the benchmark harnesses report about
// themselves: resident memory from the kernel, and latency percentiles.
package procstat

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// RSS reads the kernel's accounting: VmRSS (all resident pages), VmHWM (its
// peak), and the split of VmRSS into anonymous memory (heap, stacks) and
// file-backed pages (bbolt's read-only mmap of the state file, which the
// kernel reclaims under pressure).
func RSS() (cur, peak string) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "?", "?"
	}
	defer f.Close()
	var anon, file string
	defer func() { cur = fmt.Sprintf("%s (anon %s, file-backed %s)", cur, anon, file) }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			cur = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			peak = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			anon = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			file = strings.TrimSpace(v)
		}
	}
	return
}

// Percentiles sorts lat and returns its median and 99th percentile.
func Percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100]
}

// Command httpload drives a 3-replica Fengqiao group or a 3-member etcd
// cluster over HTTP with many concurrent clients, side by side, and reports
// throughput and latency. bench/run-vs-etcd.sh starts both and runs it.
//
//	httpload -target fengqiao -urls http://127.0.0.1:8080,... -token T -clients 256 -n 50000
//	httpload -target etcd -urls http://127.0.0.1:2379,... -clients 256 -n 50000 -value 150
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	target := flag.String("target", "fengqiao", "fengqiao or etcd")
	urls := flag.String("urls", "", "comma-separated base URLs; clients spread over them")
	token := flag.String("token", os.Getenv("FENGQIAO_TOKEN"), "fengqiao API token")
	clients := flag.Int("clients", 256, "concurrent clients")
	n := flag.Int("n", 50000, "requests in all")
	value := flag.Int("value", 0, "etcd value size in bytes (default: the size of a fengqiao report body)")
	flag.Parse()
	bases := strings.Split(*urls, ",")
	if *urls == "" {
		log.Fatal("-urls is required")
	}
	report, _ := json.Marshal(map[string]any{"category": "dispute", "description": "邻里纠纷，双方因噪音发生争执，请求调解",
		"jurisdiction": "500110001", "source": "resident"})
	size := *value
	if size == 0 {
		size = len(report)
	}
	val := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), size))
	tr := &http.Transport{MaxIdleConns: *clients * 2, MaxIdleConnsPerHost: *clients, IdleConnTimeout: time.Minute}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	do := func(i int, base string) error {
		var req *http.Request
		switch *target {
		case "fengqiao":
			req, _ = http.NewRequest("POST", base+"/api/v1/events", bytes.NewReader(report))
			req.Header.Set("Authorization", "Bearer "+*token)
		case "etcd":
			body, _ := json.Marshal(map[string]string{"key": base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("bench/%09d", i))), "value": val})
			req, _ = http.NewRequest("POST", base+"/v3/kv/put", bytes.NewReader(body))
		default:
			return fmt.Errorf("unknown target %q", *target)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	// Warm up connections and leaders.
	for i := 0; i < 100; i++ {
		do(-i-1, bases[i%len(bases)])
	}
	var next, failed atomic.Int64
	lat := make([][]time.Duration, *clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := bases[c%len(bases)]
			for {
				i := next.Add(1)
				if i > int64(*n) {
					return
				}
				t0 := time.Now()
				if err := do(int(i), base); err != nil {
					failed.Add(1)
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) == 0 {
		log.Fatalf("%s: every request failed", *target)
	}
	fmt.Printf("%-8s clients %d, %d ok, %d failed, %.0f req/s, p50 %v, p99 %v, value %d B\n", *target, *clients, len(all), failed.Load(),
		float64(len(all))/el.Seconds(), all[len(all)/2].Round(time.Microsecond), all[len(all)*99/100].Round(time.Microsecond), size)
}

package main

import (
	"bufio"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 21 point 6, across processes: the demo federation runs as its own
// OS process; every county sends its audit chain's head to its city, and
// `fengqiao audit verify --witness` checks 綦江区's chain against the heads
// 重庆市 holds. A node that is not the parent holds none, and says so.
func TestAuditVerifyAgainstTheParentsWitnesses(t *testing.T) {
	const token = "fq_witness_test_demo_root_token_77"
	base := 8000 + rand.IntN(9)*100 // below the cluster tests' ports and the ephemeral range
	cmd := exec.Command(binary(t), "demo", "--base-port", strconv.Itoa(base), "--data", t.TempDir())
	cmd.Env = append(os.Environ(), "FENGQIAO_TOKEN="+token)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	urls := map[string]string{}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for deadline := time.After(120 * time.Second); urls["500110"] == "" || urls["500000"] == "" || urls["500153"] == ""; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the demo stopped; stderr:\n%s", logs.String())
			}
			if f := strings.Fields(l); len(f) == 3 && strings.HasPrefix(f[2], "http") {
				urls[f[0]] = f[2]
			}
		case <-deadline:
			t.Fatalf("the demo did not print its nodes; stderr:\n%s", logs.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	verify := func(parent string) (string, error) {
		c := exec.Command(binary(t), "audit", "verify", "--addr", urls["500110"], "--witness", parent)
		c.Env = append(os.Environ(), "FENGQIAO_TOKEN="+token, "FENGQIAO_WITNESS_TOKEN="+token)
		b, err := c.CombinedOutput()
		return string(b), err
	}
	var got string
	eventually(t, 90*time.Second, func() string {
		var err error
		if got, err = verify(urls["500000"]); err != nil {
			return "verify against 重庆市: " + got
		}
		return ""
	})
	if !strings.Contains(got, "audit chain OK") || !strings.Contains(got, "witnesses held by "+urls["500000"]+" agree") {
		t.Fatalf("verify: %s", got)
	}
	if got, err := verify(urls["500153"]); err == nil || !strings.Contains(got, "holds no witness") {
		t.Fatalf("verify against a node that is not the parent: %v %s", err, got)
	}
}

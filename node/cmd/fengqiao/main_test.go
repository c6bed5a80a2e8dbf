package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeDevAsAProcess builds the binary, runs serve --dev as a separate OS
// process, uses the API with FENGQIAO_TOKEN, and stops it with SIGTERM.
func TestServeDevAsAProcess(t *testing.T) {
	bin := binary(t)
	const token = "fq_process_test_token_0123456789"
	cmd, url := startDev(t, bin, token)
	get := func(path string, auth bool) (int, map[string]any) {
		req, _ := http.NewRequest("GET", url+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if code, _ := get("/readyz", false); code != 200 {
		t.Fatalf("readyz: %d", code)
	}
	code, j := get("/api/v1/jurisdictions/500110", true)
	if code != 200 || j["name"] != "綦江区" || len(j["children"].([]any)) < 20 {
		t.Fatalf("jurisdiction: %d %v", code, j["name"])
	}
	if code, st := get("/api/v1/stats", true); code != 200 || st["reported"].(float64) < 100 {
		t.Fatalf("stats: %d %v", code, st)
	}
	if code, _ := get("/api/v1/stats", false); code != 401 {
		t.Fatalf("stats without a token: %d", code)
	}
	// Prometheus metrics: HTTP by route and code, apply batches, Raft state.
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`fengqiao_http_requests_total{code="401",method="GET",route="/api/v1/stats"} 1`,
		`fengqiao_raft_state{state="Leader"} 1`,
		"fengqiao_apply_batch_entries_count", "fengqiao_state_applied_index", "fengqiao_replica_diverged 0", "fengqiao_replica_voters_diverged 0", "fengqiao_commit_seconds_count",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(string(body), token) {
		t.Fatal("metrics hold the token")
	}
	// A group of one opens no Raft or forwarding port: the process listens
	// on its API's port and nothing else.
	if ports := listening(t, cmd.Process.Pid); len(ports) != 1 || !strings.HasSuffix(url, fmt.Sprint(":", ports[0])) {
		t.Fatalf("serve --dev listens on %v; want only the API at %s", ports, url)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
}

func TestServeWithoutDevIsAnError(t *testing.T) {
	cmd := root()
	cmd.SetArgs([]string{"serve"})
	cmd.SetOut(new(strings.Builder))
	cmd.SetErr(new(strings.Builder))
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "--dev") {
		t.Fatalf("serve without --dev: %v", err)
	}
}

// startDev runs serve --dev as a process and returns it with the URL from
// its first line, which must be "CODE NAME URL". The process is killed when
// the test ends (a test may stop it sooner).
// listening returns the TCP ports the process pid listens on, from the
// sockets among its open files and the kernel's socket tables.
func listening(t *testing.T, pid int) []int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("the process's open files: %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		if link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil {
			if ino, ok := strings.CutPrefix(link, "socket:["); ok {
				inodes[strings.TrimSuffix(ino, "]")] = true
			}
		}
	}
	var ports []int
	for _, table := range []string{"tcp", "tcp6"} {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(raw), "\n")[1:] {
			f := strings.Fields(line)
			// local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 the inode.
			if len(f) > 9 && f[3] == "0A" && inodes[f[9]] {
				port, _ := strconv.ParseInt(f[1][strings.LastIndexByte(f[1], ':')+1:], 16, 32)
				ports = append(ports, int(port))
			}
		}
	}
	return ports
}

// startDev runs serve --dev and returns the process and its URL. Lines it
// prints before the URL (serve --dev --plugins names each plugin's
// checksum there) go to before, when given.
func startDev(t *testing.T, bin, token string, extra ...string) (*exec.Cmd, string) {
	return startDevSaying(t, bin, token, nil, extra...)
}

func startDevSaying(t *testing.T, bin, token string, before *[]string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--dev", "--http", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "warn"}, extra...)...)
	cmd.Env = append(os.Environ(), "FENGQIAO_TOKEN="+token)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "plugin ") && before != nil {
				*before = append(*before, line)
				continue
			}
			lines <- sc.Text()
			break
		}
		for sc.Scan() {
		}
	}()
	select {
	case line := <-lines:
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "500110" || !strings.HasPrefix(f[2], "http://") {
			t.Fatalf("first line %q, want \"CODE NAME URL\"", line)
		}
		return cmd, f[2]
	case <-time.After(60 * time.Second):
		t.Fatal("serve --dev did not start")
	}
	return nil, ""
}

// serve --dev --data DIR starts again on its own state, with the same
// FENGQIAO_TOKEN, and the token still opens the API (issue 24).
func TestServeDevRestartsOnItsData(t *testing.T) {
	bin := binary(t)
	const token = "fq_dev_restart_token_0123456789abc"
	data := t.TempDir()
	for round := range 2 {
		cmd, url := startDev(t, bin, token, "--data", data)
		req, _ := http.NewRequest("GET", url+"/api/v1/jurisdictions/500110", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("round %d: the token answers %d", round, resp.StatusCode)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("round %d: serve --dev stopped with %v", round, err)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/idcard"
)

// The keys commands rotate a key file in two steps through the real binary,
// and refuse bad input with the offending field, leaving the file alone.
func TestKeysCommands(t *testing.T) {
	bin := binary(t)
	file := filepath.Join(t.TempDir(), "keys.json")
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"keygen", "--out", file, "--cipher", "sm4-gcm"}, "wrote sm4-gcm keys"},
		{[]string{"keys", "list", file}, "cipher sm4-gcm, current generation 1, generations 1\n"},
		{[]string{"keys", "add", file}, "added generation 2"},
		{[]string{"keys", "list", file}, "current generation 1, generations 1 2; with their own ID-number index key: 2\n"},
		{[]string{"keys", "use", file, "2"}, "generation 2 is current"},
		{[]string{"keys", "list", file}, "current generation 2, generations 1 2; with their own ID-number index key: 2\n"},
	}
	for _, s := range steps {
		out, err := run(s.args...)
		if err != nil || !strings.Contains(out, s.want) {
			t.Fatalf("%v: %v\n%s", s.args, err, out)
		}
	}
	before, _ := os.ReadFile(file)
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"keys", "use", file, "9"}, "id: key file"},
		{[]string{"keys", "use", file, "x"}, "id: generation id must be"},
		{[]string{"keys", "use", file, "256"}, "id: generation id must be"},
		{[]string{"keys", "add", filepath.Join(t.TempDir(), "none.json")}, "read key file"},
		{[]string{"keys", "list"}, "accepts 1 arg"},
	} {
		out, err := run(bad.args...)
		if err == nil || !strings.Contains(out, bad.want) {
			t.Errorf("%v: %v, want an error containing %q\n%s", bad.args, err, bad.want, out)
		}
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
		t.Fatal("a refused keys command changed the key file")
	}
	if out, _ := run("keys", "list", file); strings.Contains(out, `"enc"`) || strings.Contains(out, `"index"`) || len(out) > 120 {
		t.Fatalf("keys list printed more than the generations: %s", out)
	}
}

// TestKeyRotationAcrossProcesses retires a sealing-key generation from a
// group of three processes as operations.md describes: add, roll, use,
// roll, reseal, check the census, remove, roll. Every replica then reveals
// every person with the new generation alone.
func TestKeyRotationAcrossProcesses(t *testing.T) {
	const token = "fq_key_rotation_test_admin_token_31"
	procs := startCluster(t, token)
	file := filepath.Join(filepath.Dir(procs[0].cfg), "keys.json")
	c := &client{token: token, http: &http.Client{Timeout: 10 * time.Second}}
	addr := "http://" + procs[0].http
	staff := staffOf(t, c, addr)
	c.token = staff[access.CenterAdmin]
	ops := staff[access.SystemAdmin]
	writes := func(p *proc) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if code, _, _ := c.do("POST", "http://"+p.http+"/api/v1/events", map[string]any{"category": "dispute", "description": "rotation", "jurisdiction": "500110001"}, nil); code == 201 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never took a write", p.id)
			}
		}
	}
	roll := func() {
		t.Helper()
		for _, p := range procs {
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()
			startProc(t, p, token)
			writes(p)
		}
	}
	writes(procs[0])
	names := map[string]string{}
	for i, name := range []string{"王秀兰", "李建华", "张桂英"} {
		first := fmt.Sprintf("50011019800101%03d", i)
		var p struct{ ID string }
		code, m, err := c.do("POST", addr+"/api/v1/people", map[string]any{"name": name, "id_number": first + string(idcard.CheckDigit(first)), "kind": "registered", "jurisdiction": "500110001001"}, nil)
		if err != nil || code != 201 {
			t.Fatalf("person: %d %v %v", code, m, err)
		}
		raw, _ := json.Marshal(m)
		json.Unmarshal(raw, &p)
		names[p.ID] = name
	}
	step := func(want string, args ...string) string {
		t.Helper()
		out, err := cli(t, ops, args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("%v: %v, want %q\n%s", args, err, want, out)
		}
		return out
	}
	backup := filepath.Join(t.TempDir(), "before-rotation.db")
	step("saved", "backup", "--addr", addr, "--out", backup)
	// Every replica reads the key file again within a second (reload_seconds
	// 1): the first two steps need no restart.
	awaitMetric := func(line string) {
		t.Helper()
		for _, p := range procs {
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				resp, err := c.http.Get("http://" + p.http + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if strings.Contains(string(body), "\n"+line+"\n") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s never showed %q", p.id, line)
				}
			}
		}
	}
	step("added generation 2", "keys", "add", file)
	awaitMetric("fengqiao_sealing_key_generations 2")
	step("generation 2 is current", "keys", "use", file, "2")
	awaitMetric("fengqiao_sealing_key_generation 2")
	// Six people's values and four administrators' TOTP secrets; the
	// system administrator's token, used since, is hashed under the new
	// index key already.
	step("current generation 2; sealed values: generation 1: 10; ID-number indexes: shared key: 3; older generations: 13; handover offers waiting: 0; token hashes: shared key: 3, generation 2: 1 (under older index keys: 3)", "keys", "census", "--addr", addr)

	// Refused input changes nothing.
	before, _ := os.ReadFile(file)
	for _, bad := range []struct {
		want string
		args []string
	}{
		{"batch: --batch must be 1..500", []string{"keys", "reseal", "--addr", addr, "--batch", "0"}},
		{"id: generation 2 is current", []string{"keys", "remove", file, "2"}},
		{"id: key file", []string{"keys", "remove", file, "7"}},
		{"id: generation id must be", []string{"keys", "remove", file, "0"}},
	} {
		if out, err := cli(t, ops, bad.args...); err == nil || !strings.Contains(out, bad.want) {
			t.Errorf("%v: %v, want an error containing %q\n%s", bad.args, err, bad.want, out)
		}
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
		t.Fatal("a refused keys command changed the key file")
	}

	out := step("sealed values: generation 2: 10; ID-number indexes: generation 2: 3; older generations: 0; handover offers waiting: 0", "keys", "reseal", "--addr", "http://"+procs[2].http, "--batch", "4")
	if !strings.Contains(out, "resealed 13/13 (100%)") {
		t.Fatalf("reseal printed no progress:\n%s", out)
	}
	// A token's hash moves to the new index key when the token is next
	// used; the others' holders use theirs before the old key goes.
	if code, m, err := c.do("GET", addr+"/api/v1/stats", nil, nil); code != 200 {
		t.Fatalf("the center admin's token: %d %v %v", code, m, err)
	}
	if out, err := cli(t, token, "token", "list", "--addr", addr); err != nil {
		t.Fatalf("token list: %v %s", err, out)
	}
	if out, err := cli(t, staff[access.AuditAdmin], "audit", "verify", "--addr", addr); err != nil {
		t.Fatalf("audit verify: %v %s", err, out)
	}
	step("token hashes: generation 2: 4 (under older index keys: 0)", "keys", "census", "--addr", addr)
	step("removed generation 1", "keys", "remove", file, "1")
	step("current generation 2, generations 2; with their own ID-number index key: 2\n", "keys", "list", file)
	roll()
	// The backup from before the rotation holds what generation 1 sealed:
	// restoring it now is refused, and changes nothing.
	if out, err := cli(t, ops, "restore", "--addr", addr, "--in", backup); err == nil || !strings.Contains(out, "409") || !strings.Contains(out, "generation 1 (10 values)") {
		t.Fatalf("restoring a backup sealed with a removed generation: %v\n%s", err, out)
	}
	for _, p := range procs {
		for id, name := range names {
			code, m, err := c.do("GET", "http://"+p.http+"/api/v1/people/"+id+"?reveal=true&basis=visit&purpose=核实&stale=true", nil, nil)
			if err != nil || code != 200 {
				t.Fatalf("%s reveals %s with generation 2 alone: %d %v %v", p.id, id, code, m, err)
			}
			if got := m["revealed"].(map[string]any)["name"]; got != name {
				t.Fatalf("%s reveals %s as %v, want %s", p.id, id, got, name)
			}
		}
	}
}

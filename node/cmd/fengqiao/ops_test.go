package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"go.etcd.io/bbolt"
)

// cli runs the fengqiao binary with the token in its environment and, for
// an administrator's, a TOTP code of now.
func cli(t *testing.T, token string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "FENGQIAO_TOKEN="+token, "FENGQIAO_OTP="+otpNow(token))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestOperatorCommandsAgainstACluster drives the operator CLI against three
// replicas running as separate processes.
func TestOperatorCommandsAgainstACluster(t *testing.T) {
	const token = "fq_operator_test_admin_token_777777"
	procs := startCluster(t, token)
	c := &client{token: token, http: &http.Client{Timeout: 10 * time.Second}}
	addr := "http://" + procs[0].http
	staff := staffOf(t, c, addr)
	c.token = staff[access.CenterAdmin]
	ops, aud := staff[access.SystemAdmin], staff[access.AuditAdmin]
	reported := func() float64 {
		_, m, err := c.do("GET", addr+"/api/v1/stats", nil, nil)
		if err != nil || m["reported"] == nil {
			return -1
		}
		return m["reported"].(float64)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if code, _, _ := c.do("POST", addr+"/api/v1/events", map[string]any{"category": "dispute", "description": "ops", "jurisdiction": "500110001"}, nil); code == 201 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cluster never took a write")
		}
	}
	out, err := cli(t, ops, "operator", "raft", "list-peers", "--addr", addr)
	if err != nil || strings.Count(out, "\n") != 4 || !strings.Contains(out, "leader") {
		t.Fatalf("list-peers: %v\n%s", err, out)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if out, err := cli(t, ops, "backup", "--addr", addr, "--out", backup); err != nil || !strings.Contains(out, "saved") {
		t.Fatalf("backup: %v %s", err, out)
	}
	keyFile := filepath.Join(filepath.Dir(procs[0].cfg), "keys.json")
	if out, err := cli(t, aud, "audit", "verify", backup); err == nil || !strings.Contains(out, "--key-file") {
		t.Fatalf("offline verify of a keyed chain without the key file: %v %s", err, out)
	}
	if out, err := cli(t, aud, "audit", "verify", backup, "--key-file", keyFile); err != nil || !strings.Contains(out, "audit chain OK") {
		t.Fatalf("offline verify: %v %s", err, out)
	}
	if out, err := cli(t, aud, "audit", "verify", "--addr", addr); err != nil || !strings.Contains(out, "audit chain OK") {
		t.Fatalf("online verify: %v %s", err, out)
	}
	atBackup := reported()
	// Tamper with copies of the backup: the report as the audit chain
	// holds it (the chain breaks), or the event alone (the deep check,
	// rebuilding the state from the chain, catches it).
	raw, _ := os.ReadFile(backup)
	for bucket, flags := range map[string][]string{"audit": nil, "event": {"--deep"}} {
		bad := filepath.Join(t.TempDir(), "tampered.db")
		os.WriteFile(bad, raw, 0o600)
		edited := 0
		db, err := bbolt.Open(bad, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte(bucket))
			var keys, vals [][]byte
			b.ForEach(func(k, v []byte) error {
				// Reports are binary: a length byte, then the text.
				if bytes.Contains(v, []byte("\x03ops")) {
					keys, vals = append(keys, append([]byte(nil), k...)), append(vals, bytes.Replace(v, []byte("\x03ops"), []byte("\x03OPS"), 1))
				}
				return nil
			})
			for i := range keys {
				b.Put(keys[i], vals[i])
				edited++
			}
			return nil
		})
		db.Close()
		if edited == 0 {
			t.Fatalf("no %s record to tamper with", bucket)
		}
		if out, err := cli(t, aud, append([]string{"audit", "verify", bad, "--key-file", keyFile}, flags...)...); err == nil || !strings.Contains(out, "BROKEN") {
			t.Fatalf("tampered backup (%s, %v) verified: %v %s", bucket, flags, err, out)
		}
	}
	if out, err := cli(t, aud, "audit", "verify", "--deep", "--key-file", keyFile, backup); err != nil || !strings.Contains(out, "state matches") {
		t.Fatalf("deep verify of a good backup: %v %s", err, out)
	}
	// Transfer leadership, then write more.
	if out, err := cli(t, ops, "operator", "raft", "transfer-leader", "--addr", addr); err != nil {
		t.Fatalf("transfer-leader: %v %s", err, out)
	}
	for i := 0; i < 5; {
		if code, _, _ := c.do("POST", addr+"/api/v1/events", map[string]any{"category": "dispute", "description": fmt.Sprint("after ", i), "jurisdiction": "500110001"}, nil); code == 201 {
			i++
		}
	}
	if reported() != atBackup+5 {
		t.Fatalf("reported %v, want %v", reported(), atBackup+5)
	}
	// Restore the backup: the group goes back to it, on every replica.
	// The backup is older than the group's chain: refused, then forced.
	if out, err := cli(t, ops, "restore", "--addr", addr, "--in", backup); err == nil || !strings.Contains(out, "409") || !strings.Contains(out, "force") {
		t.Fatalf("restore backwards without --force: %v %s", err, out)
	}
	if out, err := cli(t, ops, "restore", "--force", "--addr", addr, "--in", backup); err != nil || !strings.Contains(out, "forced") {
		t.Fatalf("restore: %v %s", err, out)
	}
	for _, p := range procs {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			_, m, _ := c.do("GET", "http://"+p.http+"/api/v1/stats?stale=true", nil, nil)
			if m != nil && m["reported"] == atBackup {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s after restore: %v, want %v", p.id, m["reported"], atBackup)
			}
		}
	}
	// Tokens from the CLI: issue, use, list, revoke.
	out, err = cli(t, token, "token", "create", "--name", "网格员", "--role", "grid_worker", "--scope", "500110001", "--addr", addr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 2 || !strings.HasPrefix(lines[1], "fq_") {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	id, secret := strings.Fields(lines[0])[0], lines[1]
	worker := &client{token: secret, http: c.http}
	if code, _, _ := worker.do("GET", addr+"/api/v1/events?jurisdiction=500110001", nil, nil); code != 200 {
		t.Fatalf("new token: %d", code)
	}
	out, err = cli(t, token, "token", "create", "--name", "临时", "--role", "audit_admin", "--scope", "500110", "--ttl", "7d", "--addr", addr)
	if err != nil {
		t.Fatalf("token create --ttl: %v\n%s", err, out)
	}
	temp := strings.Fields(out)[0]
	if out, err := cli(t, token, "token", "create", "--name", "x", "--role", "audit_admin", "--scope", "500110", "--ttl", "soon", "--addr", addr); err == nil || !strings.Contains(out, "ttl") {
		t.Fatalf("token create with a bad ttl: %v\n%s", err, out)
	}
	out, err = cli(t, token, "token", "list", "--addr", addr)
	if err != nil || !strings.Contains(out, id) {
		t.Fatalf("token list: %v\n%s", err, out)
	}
	expiries := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 4 {
			expiries[f[0]] = f[4]
		}
	}
	exp, perr := time.Parse(time.RFC3339, expiries[temp])
	if expiries[id] != "never" || perr != nil || time.Until(exp) < 6*24*time.Hour || time.Until(exp) > 7*24*time.Hour {
		t.Fatalf("token list expiry column: %q for %s, %q for %s\n%s", expiries[id], id, expiries[temp], temp, out)
	}
	if out, err := cli(t, token, "token", "revoke", id, "--addr", addr); err != nil {
		t.Fatalf("token revoke: %v %s", err, out)
	}
	if code, _, _ := worker.do("GET", addr+"/api/v1/events?jurisdiction=500110001", nil, nil); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
	// Tidying deletes the revoked token, and only it.
	if out, err := cli(t, token, "token", "tidy", "--expired-before", "soon", "--addr", addr); err == nil || !strings.Contains(out, "expired_before") {
		t.Fatalf("token tidy with a bad time: %v\n%s", err, out)
	}
	if out, err := cli(t, token, "token", "tidy", "--addr", addr); err != nil || !strings.Contains(out, "removed 1 tokens") {
		t.Fatalf("token tidy: %v\n%s", err, out)
	}
	if out, err := cli(t, token, "token", "list", "--addr", addr); err != nil || strings.Contains(out, id) || !strings.Contains(out, temp) {
		t.Fatalf("token list after tidy: %v\n%s", err, out)
	}
	if out, err := cli(t, ops, "operator", "raft", "add-peer", "n9", "nowhere", "--addr", addr); err == nil || !strings.Contains(out, "address") {
		t.Fatalf("add-peer with a bad address: %v %s", err, out)
	}
	// Bad operator input is refused.
	if out, err := cli(t, ops, "operator", "raft", "remove-peer", "ghost", "--addr", addr); err == nil || !strings.Contains(out, "404") {
		t.Fatalf("remove unknown peer: %v %s", err, out)
	}
	if out, err := cli(t, "", "operator", "raft", "list-peers", "--addr", addr); err == nil || !strings.Contains(out, "FENGQIAO_TOKEN") {
		t.Fatalf("no token: %v %s", err, out)
	}

	// The leader leaves: it hands leadership over, the group removes it,
	// and the two that stay take writes.
	var l *proc
	for _, p := range procs {
		if c.leads(p) {
			l = p
		}
	}
	if l == nil {
		t.Fatal("no leader")
	}
	out, err = cli(t, ops, "operator", "raft", "leave", "--addr", "http://"+l.http)
	if err != nil || !strings.Contains(out, "handing leadership over") || !strings.Contains(out, l.id+" left its group") {
		t.Fatalf("leave: %v\n%s", err, out)
	}
	var stay []*proc
	for _, p := range procs {
		if p != l {
			stay = append(stay, p)
		}
	}
	peerIDs := func(p *proc) []string {
		var v peersView
		raw, _ := json.Marshal(mustDo(t, c, "GET", "http://"+p.http+"/api/v1/cluster/peers"))
		json.Unmarshal(raw, &v)
		var ids []string
		for _, q := range v.Peers {
			ids = append(ids, q.ID)
		}
		return ids
	}
	if ids := peerIDs(stay[0]); len(ids) != 2 || slices.Contains(ids, l.id) {
		t.Fatalf("peers after %s left: %v", l.id, ids)
	}
	for _, p := range stay {
		if code, m, _ := c.do("POST", "http://"+p.http+"/api/v1/events", map[string]any{"category": "dispute", "description": "after leave", "jurisdiction": "500110001"}, nil); code != 201 {
			t.Fatalf("write through %s after the leave: %d %v", p.id, code, m)
		}
	}
	// A follower leaves without a hand-over; the last voter may not leave.
	follower, last := stay[0], stay[1]
	if c.leads(follower) {
		follower, last = stay[1], stay[0]
	}
	out, err = cli(t, ops, "operator", "raft", "leave", "--addr", "http://"+follower.http)
	if err != nil || strings.Contains(out, "handing") || !strings.Contains(out, follower.id+" left its group") {
		t.Fatalf("a follower's leave: %v\n%s", err, out)
	}
	if ids := peerIDs(last); len(ids) != 1 || ids[0] != last.id {
		t.Fatalf("peers after two left: %v", ids)
	}
	out, err = cli(t, ops, "operator", "raft", "leave", "--addr", "http://"+last.http)
	if err == nil || !strings.Contains(out, "only voter") {
		t.Fatalf("the last voter's leave: %v\n%s", err, out)
	}
	if ids := peerIDs(last); len(ids) != 1 {
		t.Fatalf("a refused leave changed the group: %v", ids)
	}
	if code, m, _ := c.do("POST", "http://"+last.http+"/api/v1/events", map[string]any{"category": "dispute", "description": "alone", "jurisdiction": "500110001"}, nil); code != 201 {
		t.Fatalf("write through the last voter: %d %v", code, m)
	}
}

// mustDo sends a GET and returns the decoded answer, failing the test on
// anything but 200.
func mustDo(t *testing.T, c *client, method, url string) map[string]any {
	t.Helper()
	code, m, err := c.do(method, url, nil, nil)
	if err != nil || code != 200 {
		t.Fatalf("%s %s: %d %v %v", method, url, code, m, err)
	}
	return m
}

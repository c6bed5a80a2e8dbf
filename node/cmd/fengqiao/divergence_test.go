package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/access"
)

// TestDivergedReplicaAcrossProcesses alters a stopped follower's state file
// as a faulty apply would leave it (its audit chain head), restarts it, and
// checks the divergence check end to end on three processes: the follower
// flags itself once a checkpoint passes (/readyz 503,
// fengqiao_replica_diverged 1) and the sound replicas stay ready. The
// leader lists it as diverged and refuses to hand it leadership; forced to
// lead, it finds a majority of voters against it and hands leadership back.
func TestDivergedReplicaAcrossProcesses(t *testing.T) {
	const token = "fq_divergence_test_admin_token_5151"
	procs := startClusterWith(t, token, "", map[string]any{"divergence_check_seconds": 1})
	c := &client{token: token, http: &http.Client{Timeout: 10 * time.Second}}
	staff := staffOf(t, c, "http://"+procs[0].http)
	c.token = staff[access.CenterAdmin]
	ops := staff[access.SystemAdmin]
	n := 0
	write := func(p *proc) bool {
		n++
		code, _, err := c.do("POST", "http://"+p.http+"/api/v1/events", map[string]any{"category": "dispute",
			"description": fmt.Sprint("divergence write ", n), "jurisdiction": "500110001"}, nil)
		return err == nil && code == 201
	}
	leader := func() *proc {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			for _, p := range procs {
				if c.leads(p) {
					return p
				}
			}
		}
		t.Fatal("no leader")
		return nil
	}
	ready := func(p *proc) int {
		code, _, _ := c.do("GET", "http://"+p.http+"/readyz", nil, nil)
		return code
	}
	eventually(t, 60*time.Second, func() string {
		if !write(procs[0]) {
			return "the cluster never took a write"
		}
		return ""
	})

	l := leader()
	var f *proc // the follower whose file is altered
	for _, p := range procs {
		if p != l {
			f = p
			break
		}
	}
	f.cmd.Process.Signal(syscall.SIGTERM)
	f.cmd.Wait()
	alterAuditHead(t, filepath.Join(f.dir, "state.db"))
	startProc(t, f, token)
	// Its own chain no longer verifies: the check at start says so at once
	// (and keeps it out of traffic); the checkpoint comparison below finds
	// the divergence from the group's side as well.
	eventually(t, 30*time.Second, func() string {
		if got := metricSum(t, c, "http", []*proc{f}, "fengqiao_audit_chain_ok"); got != 0 {
			return fmt.Sprintf("%s: fengqiao_audit_chain_ok %v after its restart, want 0", f.id, got)
		}
		if ready(f) != 503 {
			return f.id + " is ready with a chain that does not verify"
		}
		return ""
	})
	if !strings.Contains(f.logs.String(), "the audit chain fails verification") {
		t.Fatalf("%s did not log its chain's failure:\n%s", f.id, f.logs.String())
	}

	// One writer, so every write is an entry of its own: a checkpoint falls
	// every 1,024 entries.
	const (
		followerMsg = "this replica's state differs from the leader's"
		leaderMsg   = "this leader's state differs from a majority of the voters'"
	)
	for deadline := time.Now().Add(120 * time.Second); !strings.Contains(f.logs.String(), followerMsg); {
		if time.Now().After(deadline) {
			t.Fatalf("%s never flagged itself after %d writes; its log:\n%s", f.id, n, f.logs.String())
		}
		if !write(l) {
			l = leader()
		}
	}
	// A replica that loses sight of its leader for a moment is not ready
	// either, so each state is waited for, not sampled once.
	for _, p := range procs {
		want, code := 0.0, 200
		if p == f {
			want, code = 1, 503
		}
		eventually(t, 10*time.Second, func() string {
			if got := metricSum(t, c, "http", []*proc{p}, "fengqiao_replica_diverged"); got != want {
				return fmt.Sprintf("%s: fengqiao_replica_diverged %v, want %v", p.id, got, want)
			}
			if got := ready(p); got != code {
				return fmt.Sprintf("%s: /readyz %d, want %d", p.id, got, code)
			}
			return ""
		})
		if logs := p.logs.String(); p != f && (strings.Contains(logs, followerMsg) || strings.Contains(logs, leaderMsg)) {
			t.Errorf("%s, a sound replica, logged a divergence:\n%s", p.id, p.logs.String())
		}
	}

	// The leader's own check finds the follower outvoted too: list-peers
	// shows it, and transfer-leader refuses it, changing nothing.
	eventually(t, 30*time.Second, func() string {
		l = leader()
		out, err := cli(t, ops, "operator", "raft", "list-peers", "--addr", "http://"+l.http)
		for _, line := range strings.Split(out, "\n") {
			if err == nil && strings.HasPrefix(line, f.id+" ") && strings.Contains(line, "diverged at checkpoint") {
				return ""
			}
		}
		return fmt.Sprintf("the leader does not list %s as diverged: %v\n%s", f.id, err, out)
	})
	if got := metricSum(t, c, "http", procs, "fengqiao_replica_voters_diverged"); got != 1 {
		t.Fatalf("fengqiao_replica_voters_diverged summed over the replicas: %v, want 1 (the leader's)", got)
	}
	out, err := cli(t, ops, "operator", "raft", "transfer-leader", f.id, "--addr", "http://"+l.http)
	if err == nil || !strings.Contains(out, "409") || !strings.Contains(out, "diverged") {
		t.Fatalf("transfer-leader to the diverged %s: %v %s", f.id, err, out)
	}
	if time.Sleep(time.Second); leader() != l {
		t.Fatalf("the refused transfer moved leadership from %s", l.id)
	}

	// Forced, the diverged replica leads: its voter check finds both other
	// voters against it and hands leadership to one of them.
	if out, err := cli(t, ops, "operator", "raft", "transfer-leader", "--force", f.id, "--addr", "http://"+l.http); err != nil {
		t.Fatalf("transfer-leader --force %s: %v %s", f.id, err, out)
	}
	eventually(t, 30*time.Second, func() string {
		if !strings.Contains(f.logs.String(), leaderMsg) || leader() == f {
			return fmt.Sprintf("%s led without being outvoted; its log:\n%s", f.id, f.logs.String())
		}
		return ""
	})
	// While the diverged replica led, the sound followers found it differing
	// too and flagged themselves; the next sound leader's voter check (or a
	// follower's agreement with it) clears them. The diverged one stays
	// flagged.
	eventually(t, 30*time.Second, func() string {
		l = leader()
		for _, p := range procs {
			if p == f {
				continue
			}
			if got := metricSum(t, c, "http", []*proc{p}, "fengqiao_replica_diverged"); got != 0 {
				return p.id + " still flagged"
			}
			if got := ready(p); got != 200 {
				return fmt.Sprintf("%s: /readyz %d", p.id, got)
			}
		}
		if !write(l) {
			return "no write through " + l.id
		}
		return ""
	})
	if ready(f) != 503 || metricSum(t, c, "http", []*proc{f}, "fengqiao_replica_diverged") != 1 {
		t.Fatalf("%s no longer flagged after the hand-back", f.id)
	}
	t.Logf("%s flagged itself after %d writes, and was outvoted as leader", f.id, n)
}

// alterAuditHead changes the last byte of the audit chain head in a stopped
// replica's state file, as an apply bug that accepted a different command
// would: every head from then on differs from the other replicas'.
func alterAuditHead(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		head := append([]byte(nil), meta.Get([]byte("audit_head"))...)
		if len(head) != 40 {
			return fmt.Errorf("audit head is %d bytes, want 40", len(head))
		}
		head[39] ^= 0xff
		return meta.Put([]byte("audit_head"), head)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// eventually retries check, which returns what is still wrong ("" once
// right), until it passes or d runs out.
func eventually(t *testing.T, d time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

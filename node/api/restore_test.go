package api

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/state"

	"go.etcd.io/bbolt"
)

// A backup is an audit record; restoring one that moves the chain back is
// refused unless forced, and the forced restore is an audit record in the
// restored chain; a backup whose chain does not verify is refused.
func TestBackupAndRestoreAreAudited(t *testing.T) {
	f := newFixture(t)
	if _, err := f.b.s.KeyAuditChain(context.Background()); err != nil {
		t.Fatal(err)
	}
	get := func() []byte {
		resp := f.raw("GET", "/api/v1/backup", f.sys, nil)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("backup: %d %s", resp.StatusCode, raw)
		}
		return raw
	}
	head := f.auditHead()
	backup := get()
	if evs := f.auditEvents(head); len(evs) != 1 || evs[0].Kind != state.AuditBackup || evs[0].Role != "system_admin" {
		t.Fatalf("backup audit: %+v", evs)
	}
	// Later writes: the backup is behind now.
	if resp, m := f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "x", "grid": "511083001001001"}, nil); resp.StatusCode != 201 {
		t.Fatalf("report: %d %v", resp.StatusCode, m)
	}
	restore := func(body []byte, query string) (*http.Response, map[string]any) {
		return f.do("POST", "/api/v1/restore"+query, f.sys, body, nil)
	}
	before := f.digest()
	resp, m := restore(backup, "")
	expectProblem(t, "restore backwards", resp, m, 409, "force")
	resp, m = restore(backup, "?force=maybe")
	expectProblem(t, "force not a boolean", resp, m, 400, "force")
	// A backup whose chain was edited.
	path := filepath.Join(t.TempDir(), "bad.db")
	os.WriteFile(path, backup, 0o600)
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		k, v := b.Cursor().Last()
		return b.Put(append([]byte(nil), k...), append(append([]byte(nil), v...), ' '))
	})
	db.Close()
	bad, _ := os.ReadFile(path)
	resp, m = restore(bad, "?force=true")
	expectProblem(t, "a backup whose chain does not verify", resp, m, 400, "backup")
	if f.digest() != before {
		t.Fatal("refused restores changed the state")
	}
	resp, m = restore(backup, "?force=true")
	if resp.StatusCode != 200 || m["backwards"] != true {
		t.Fatalf("forced restore: %d %v", resp.StatusCode, m)
	}
	recs, _ := f.b.s.Engine().AuditPage(f.auditHead()-1, 1)
	if len(recs) != 1 || !strings.Contains(string(recs[0].Command), `"kind":"restore"`) || !strings.Contains(string(recs[0].Command), "forced backwards") {
		t.Fatalf("the restored chain's last record: %s", recs[0].Command)
	}
	if rep, err := f.b.s.Engine().VerifyAudit(); err != nil || !rep.OK {
		t.Fatalf("the restored chain: %+v %v", rep, err)
	}
}

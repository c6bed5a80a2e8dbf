package replica

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
)

// A group of one has no Raft port: it bootstraps itself, leads, applies and
// restarts on its in-memory transport, and refuses to take a member.
func TestGroupOfOneOpensNoPort(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "solo")
	open := func() *Replica {
		r, err := Open(Config{ID: "solo", Dir: dir, Alone: true, Timeout: 200 * time.Millisecond,
			Bootstrap: []raft.Server{{ID: "solo", Address: "ignored:1"}}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := open()
	if r.stream != nil || r.transport != nil {
		t.Fatal("a group of one opened a listener")
	}
	for deadline := time.Now().Add(10 * time.Second); r.ReadBarrier() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a group of one never led")
		}
	}
	s := core.New(r.Engine, r.Proposer(), core.Options{Keyring: keyring(t)})
	if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	report(t, s, 3)
	if err := r.Join("r9", "127.0.0.1:7009", true); !errors.Is(err, errs.ErrConflict) || errs.Field(err) != "id" {
		t.Fatalf("join: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = open()
	defer r.Close()
	for deadline := time.Now().Add(10 * time.Second); r.ReadBarrier() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a group of one never led after a restart")
		}
	}
	f, _ := core.New(r.Engine, r.Proposer(), core.Options{Keyring: keyring(t)}).Events.Figures("511083", "", "")
	if f.Reported != 3 {
		t.Fatalf("after a restart: %d reported", f.Reported)
	}
	if _, err := Open(Config{ID: "x", Dir: t.TempDir(), Alone: true, Bind: "127.0.0.1:0"}); err == nil {
		t.Fatal("alone with a bind address opened")
	}
}

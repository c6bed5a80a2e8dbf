package replica

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/keyfile"
	"github.com/fengqiao/fengqiao/internal/tarball"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
)

// fixtureV1 is the data directory of a group of one, written by the code
// before issue 22 changed the package layout and the record format: a Raft
// log (raft.db), a snapshot taken part way and the state file, all in
// format 1. Every later version must open it and rebuild the same state
// from its log. Never regenerate it.
const fixtureV1 = "testdata/v1/replica.tar.gz"

type replicaExpect struct {
	Applied uint64        `json:"applied"`
	Figures model.Figures `json:"figures"`
	Records uint64        `json:"records"`
}

func TestFixtureV1LogReplays(t *testing.T) {
	if os.Getenv("FENGQIAO_WRITE_FIXTURES") != "" {
		writeReplicaFixtureV1(t)
	}
	var want replicaExpect
	digests := map[string]string{}
	// As it was left; without its state file (the snapshot and the log
	// after it rebuild it); and without the snapshot too (the whole log).
	for _, drop := range [][]string{nil, {"state.db"}, {"state.db", "snapshots"}} {
		dir := filepath.Join(t.TempDir(), "solo")
		if err := tarball.Unpack(fixtureV1, dir); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, "expect.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		for _, d := range drop {
			os.RemoveAll(filepath.Join(dir, d))
		}
		kr, err := keyfile.Read(filepath.Join(dir, "keys.json"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Open(Config{ID: "solo", Dir: dir, Alone: true, Timeout: 200 * time.Millisecond, AuditKeys: kr})
		if err != nil {
			t.Fatalf("open without %v: %v", drop, err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if got, _ := r.Engine.AppliedIndex(); got >= want.Applied && r.ReadBarrier() == nil {
				break
			}
			if time.Now().After(deadline) {
				r.Close()
				t.Fatalf("without %v: the log did not replay to %d", drop, want.Applied)
			}
		}
		rep, err := r.Engine.VerifyAudit()
		if err != nil || rep.Records < want.Records {
			r.Close()
			t.Fatalf("without %v: audit %+v, %v", drop, rep, err)
		}
		s := core.New(r.Engine, r.Proposer(), core.Options{Keyring: kr})
		f, err := s.Events.Figures("511083", "", "")
		if err != nil || !reflect.DeepEqual(f, want.Figures) {
			r.Close()
			t.Fatalf("without %v: figures %+v, want %+v (%v)", drop, f, want.Figures, err)
		}
		if digests[fmt.Sprint(drop)], err = r.Engine.ContentDigest(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	first := digests["[]"]
	for k, d := range digests {
		if d != first {
			t.Fatalf("state rebuilt without %s differs from the state file", k)
		}
	}
}

func writeReplicaFixtureV1(t *testing.T) {
	if _, err := os.Stat(fixtureV1); err == nil {
		t.Fatalf("%s exists; fixtures are never rewritten", fixtureV1)
	}
	dir := filepath.Join(t.TempDir(), "solo")
	if err := keyfile.WriteNew(filepath.Join(dir, "keys.json"), ""); err != nil {
		t.Fatal(err)
	}
	kr, err := keyfile.Read(filepath.Join(dir, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(Config{ID: "solo", Dir: dir, Alone: true, Timeout: 200 * time.Millisecond, AuditKeys: kr,
		Bootstrap: []raft.Server{{ID: "solo", Address: "solo"}}})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); r.ReadBarrier() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no leader")
		}
	}
	s := core.New(r.Engine, r.Proposer(), core.Options{Keyring: kr})
	ctx := core.WithActor(context.Background(), "fixture")
	if _, err := s.KeyAuditChain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Jurisdictions.LoadCounty(ctx, "511083", 1); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 40 {
		ev, err := s.Events.Report(ctx, model.Report{Category: "dispute", Description: fmt.Sprint("回放 ", i), Grid: "511083001001001"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
		if i == 20 {
			if err := r.Raft.Snapshot().Error(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, id := range ids[:30] {
		for _, a := range []model.Action{{Action: "accept"}, {Action: "dispatch", Handler: "综治办"}, {Action: "sign"}}[:1+i%3] {
			if _, err := s.Events.Act(ctx, id, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	p, err := s.People.Add(ctx, model.PersonInput{Name: "居民", IDNumber: "511083196001010016", Kind: "registered", Jurisdiction: "511083001001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.People.SetSpecial(ctx, p.ID, model.SpecialInput{Category: model.SpecialReleased, Level: 2,
		Since: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Details: model.SpecialDetails{ReleaseDate: "2025-06-01"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Tokens.Create(ctx, "值班员", "township_operator", "511083001", ""); err != nil {
		t.Fatal(err)
	}
	var x replicaExpect
	if x.Applied, err = r.Engine.AppliedIndex(); err != nil {
		t.Fatal(err)
	}
	if x.Figures, err = s.Events.Figures("511083", "", ""); err != nil {
		t.Fatal(err)
	}
	rep, err := r.Engine.VerifyAudit()
	if err != nil {
		t.Fatal(err)
	}
	x.Records = rep.Records
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.MarshalIndent(x, "", " ")
	if err := os.WriteFile(filepath.Join(dir, "expect.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(fixtureV1), 0o755)
	if err := tarball.Pack(fixtureV1, dir); err != nil {
		t.Fatal(err)
	}
}

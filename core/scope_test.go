package core

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Two townships of 隆昌市: A (古湖街道 511083001) and B (511083002).
const (
	townA, townB       = "511083001", "511083002"
	villageA, villageB = "511083001001", "511083002001"
)

// scoped returns e's context limited to a township, as a token of that
// township's operator would be.
func (e *env) scoped(scope string) context.Context { return WithScope(e.ctx, scope) }

// refusedUnchanged runs f, wants an error matching kind on field, and
// checks the state did not change.
func refusedUnchanged(t *testing.T, e *env, what string, kind error, field string, f func() error) error {
	t.Helper()
	before := mustDigest(t, e.Engine())
	err := f()
	if !errors.Is(err, kind) || errs.Field(err) != field {
		t.Fatalf("%s: want %v on field %s, got %v", what, kind, field, err)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatalf("%s: refused, yet the state changed", what)
	}
	return err
}

// sameAsMissing wants the error for an out-of-scope id to read exactly as
// the one for an id that does not exist, but for the id itself.
func sameAsMissing(t *testing.T, what string, hiddenErr, missingErr error, hiddenID, missingID string) {
	t.Helper()
	h := strings.ReplaceAll(hiddenErr.Error(), hiddenID, "ID")
	m := strings.ReplaceAll(missingErr.Error(), missingID, "ID")
	if h != m || errs.Field(hiddenErr) != errs.Field(missingErr) {
		t.Fatalf("%s: out of scope says %q, missing says %q", what, h, m)
	}
}

func TestScopedWritesCheckTheRecordAsItStands(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	// Township B's party tree, made by the node itself.
	for _, o := range []model.Org{
		{ID: "bc", Name: "B党委", Kind: model.OrgCommittee, Jurisdiction: townB},
		{ID: "bb", Name: "B支部", Kind: model.OrgBranch, Parent: "bc", Jurisdiction: villageB},
	} {
		if _, err := e.Party.PutOrg(e.ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Party.PutMember(e.ctx, model.Member{ID: "bm", Name: "党员", Org: "bb", Status: "full"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Party.PutOrg(e.ctx, model.Org{ID: "ac", Name: "A党委", Kind: model.OrgCommittee, Jurisdiction: townA}); err != nil {
		t.Fatal(err)
	}
	a := e.scoped(townA)

	// Re-homing B's org into A, by its id: refused, and nothing says it exists.
	err := refusedUnchanged(t, e, "re-home org", errs.ErrConflict, "id", func() error {
		_, err := e.Party.PutOrg(a, model.Org{ID: "bb", Name: "夺走", Kind: model.OrgCommittee, Jurisdiction: townA})
		return err
	})
	if strings.Contains(err.Error(), townB) || strings.Contains(err.Error(), "B支部") {
		t.Fatalf("the refusal names the record: %v", err)
	}
	// Moving B's member into A's org.
	refusedUnchanged(t, e, "move member", errs.ErrConflict, "id", func() error {
		_, err := e.Party.PutMember(a, model.Member{ID: "bm", Name: "党员", Org: "ac", Status: "full"})
		return err
	})
	// A member put into B's org reads as an org that does not exist.
	hid := refusedUnchanged(t, e, "member into B's org", errs.ErrNotFound, "org", func() error {
		_, err := e.Party.PutMember(a, model.Member{ID: "am", Name: "党员", Org: "bb", Status: "full"})
		return err
	})
	missing := refusedUnchanged(t, e, "member into no org", errs.ErrNotFound, "org", func() error {
		_, err := e.Party.PutMember(a, model.Member{ID: "am", Name: "党员", Org: "nosuch", Status: "full"})
		return err
	})
	sameAsMissing(t, "member org", hid, missing, "bb", "nosuch")
	// A parent out of scope answers as a missing parent.
	hid = refusedUnchanged(t, e, "parent in B", errs.ErrNotFound, "parent", func() error {
		_, err := e.Party.PutOrg(a, model.Org{ID: "ab", Name: "A支部", Kind: model.OrgBranch, Parent: "bc", Jurisdiction: villageA})
		return err
	})
	missing = refusedUnchanged(t, e, "no parent", errs.ErrNotFound, "parent", func() error {
		_, err := e.Party.PutOrg(a, model.Org{ID: "ab", Name: "A支部", Kind: model.OrgBranch, Parent: "nosuch", Jurisdiction: villageA})
		return err
	})
	sameAsMissing(t, "parent", hid, missing, "bc", "nosuch")
	// An activity of B's org.
	refusedUnchanged(t, e, "activity in B", errs.ErrNotFound, "org", func() error {
		_, err := e.Party.RecordActivity(a, model.Activity{Org: "bb", Kind: "theme_day", Date: "2026-11-01", Topic: "主题党日"})
		return err
	})
	// The same writes within the scope go through.
	if _, err := e.Party.PutOrg(e.scoped(townB), model.Org{ID: "bb", Name: "B支部改", Kind: model.OrgBranch, Parent: "bc", Jurisdiction: villageB}); err != nil {
		t.Fatalf("in scope: %v", err)
	}
	if _, err := e.Party.PutMember(e.scoped(townB), model.Member{ID: "bm", Name: "党员", Org: "bb", Status: "probationary"}); err != nil {
		t.Fatalf("in scope: %v", err)
	}

	// Grids: B's grid cannot be updated or retired from A.
	gridB := villageB + "001"
	refusedUnchanged(t, e, "retire B's grid", errs.ErrNotFound, "code", func() error {
		return e.Grids.Retire(a, gridB, "x")
	})

	// People: B's person, by id and by ID number.
	pb, err := e.People.Add(e.ctx, model.PersonInput{ID: "pb", Name: "张三", IDNumber: idNumber(7), Kind: "registered", Jurisdiction: villageB})
	if err != nil {
		t.Fatal(err)
	}
	err = refusedUnchanged(t, e, "same ID number in A", errs.ErrConflict, "id_number", func() error {
		_, err := e.People.Add(a, model.PersonInput{ID: "pa", Name: "张三", IDNumber: idNumber(7), Kind: "registered", Jurisdiction: villageA})
		return err
	})
	if !errors.Is(err, state.ErrRegisteredElsewhere) || strings.Contains(err.Error(), pb.ID) || strings.Contains(err.Error(), villageB) {
		t.Fatalf("registered elsewhere must name neither record nor place: %v", err)
	}
	// Within B's scope the clash names the record, which the caller may see.
	err = refusedUnchanged(t, e, "same ID number in B", errs.ErrConflict, "id_number", func() error {
		_, err := e.People.Add(e.scoped(townB), model.PersonInput{ID: "pb2", Name: "张三", IDNumber: idNumber(7), Kind: "registered", Jurisdiction: villageB})
		return err
	})
	if !strings.Contains(err.Error(), pb.ID) {
		t.Fatalf("in scope the clash should name %s: %v", pb.ID, err)
	}
	refusedUnchanged(t, e, "person id held in B", errs.ErrConflict, "id", func() error {
		_, err := e.People.Add(a, model.PersonInput{ID: "pb", Name: "李四", IDNumber: idNumber(8), Kind: "registered", Jurisdiction: villageA})
		return err
	})
	in := model.SpecialInput{Category: model.SpecialReleased, Level: 1, Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Details: model.SpecialDetails{ReleaseDate: "2025-06-01"}}
	hid = refusedUnchanged(t, e, "special in B", errs.ErrNotFound, "id", func() error {
		_, err := e.People.SetSpecial(a, "pb", in)
		return err
	})
	missing = refusedUnchanged(t, e, "special for nobody", errs.ErrNotFound, "id", func() error {
		_, err := e.People.SetSpecial(a, "nosuch", in)
		return err
	})
	sameAsMissing(t, "special", hid, missing, "pb", "nosuch")

	// Events: B's event cannot be acted on from A, nor merged into.
	evB, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "B", Grid: gridB})
	if err != nil {
		t.Fatal(err)
	}
	hid = refusedUnchanged(t, e, "act on B's event", errs.ErrNotFound, "id", func() error {
		_, err := e.Events.Act(a, evB.ID, model.Action{Action: "accept"})
		return err
	})
	missing = refusedUnchanged(t, e, "act on no event", errs.ErrNotFound, "id", func() error {
		_, err := e.Events.Act(a, "nosuch", model.Action{Action: "accept"})
		return err
	})
	sameAsMissing(t, "event", hid, missing, evB.ID, "nosuch")
	refusedUnchanged(t, e, "report into B", errs.ErrNotFound, "grid", func() error {
		_, err := e.Events.Report(a, model.Report{Category: "dispute", Description: "A", Grid: gridB})
		return err
	})

	// Tokens: B's token cannot be revoked from A; none can be made for B.
	tkB, _, err := e.Tokens.Create(e.ctx, "b", access.TownshipOperator, townB, "")
	if err != nil {
		t.Fatal(err)
	}
	refusedUnchanged(t, e, "revoke B's token", errs.ErrNotFound, "id", func() error {
		return e.Tokens.Revoke(a, tkB.ID)
	})
	refusedUnchanged(t, e, "token for B", errs.ErrNotFound, "scope", func() error {
		_, _, err := e.Tokens.Create(a, "b2", access.GridWorker, townB, "")
		return err
	})
}

// An alias is a way into another subtree unless both of its codes lie in
// the scope of whoever loads it.
func TestScopedAliasLoad(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	a := e.scoped(townA)
	refusedUnchanged(t, e, "alias from A into B", errs.ErrNotFound, "aliases."+townA+"999", func() error {
		return e.Jurisdictions.Load(a, nil, map[string]string{townA + "999": villageB})
	})
	refusedUnchanged(t, e, "alias in B", errs.ErrNotFound, "aliases."+townB+"999", func() error {
		return e.Jurisdictions.Load(a, nil, map[string]string{townB + "999": villageA})
	})
	if err := e.Jurisdictions.Load(a, nil, map[string]string{townA + "999": villageA}); err != nil {
		t.Fatalf("an alias within A: %v", err)
	}
	// A's load may carry its ancestors unchanged, never changed.
	county, err := e.Jurisdictions.Get("511083")
	if err != nil {
		t.Fatal(err)
	}
	same := divisions.Division{Code: county.Code, Name: county.Name, Parent: county.Parent, Tier: county.Tier}
	if err := e.Jurisdictions.Load(a, []divisions.Division{same}, nil); err != nil {
		t.Fatalf("an unchanged ancestor: %v", err)
	}
	renamed := same
	renamed.Name = "改名市"
	refusedUnchanged(t, e, "rename the county", errs.ErrForbidden, "divisions[0].code", func() error {
		return e.Jurisdictions.Load(a, []divisions.Division{renamed}, nil)
	})
}

package core

import (
	"errors"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
)

// An audit event of an unknown kind is refused with a typed error naming the
// field and adds nothing to the chain; an oversize field is cut, not a
// reason to keep the event off the record.
func TestAuditEventInput(t *testing.T) {
	e := newEnv(t, false)
	records := func() uint64 {
		t.Helper()
		rep, err := e.Engine().VerifyAudit()
		if err != nil {
			t.Fatal(err)
		}
		return rep.Records
	}
	before, digest := records(), mustDigest(t, e.Engine())
	err := e.Audit.Record(e.ctx, state.AuditEvent{Kind: "coffee_break"})
	var fe *errs.FieldError
	if !errors.Is(err, errs.ErrInvalid) || !errors.As(err, &fe) || fe.Field != "kind" {
		t.Fatalf("unknown kind: %v", err)
	}
	if records() != before || mustDigest(t, e.Engine()) != digest {
		t.Fatal("a refused audit event changed the state")
	}

	long := strings.Repeat("长", 3*state.MaxAuditField)
	if err := e.Audit.Record(e.ctx, state.AuditEvent{Kind: state.AuditDenied, Route: long, Detail: "\xff" + long}); err != nil {
		t.Fatal(err)
	}
	if records() != before+1 {
		t.Fatal("the audit event was not recorded")
	}

	// A command from before input rules moved out of apply is checked in
	// apply as it was then, and every replica names the same field: the
	// first bad one in field order.
	for range 20 {
		c, err := e.command(e.ctx, "audit.event", "", state.AuditEvent{Kind: state.AuditDenied, Remote: long, Token: long, Detail: long})
		if err != nil {
			t.Fatal(err)
		}
		c.Level = state.LevelFeed
		res, err := e.applyCommands(e.ctx, []*state.Command{c})
		if err != nil {
			t.Fatal(err)
		}
		if err := res[0].Err; !errors.Is(err, errs.ErrInvalid) || !errors.As(err, &fe) || fe.Field != "remote" {
			t.Fatalf("oversize fields in apply: %v", err)
		}
	}
	if records() != before+1 {
		t.Fatal("a refused audit event reached the chain")
	}
}

package core

import (
	"context"

	"github.com/fengqiao/fengqiao/core/state"
)

// Audit events are what the audit chain must hold besides the changes
// commands make: refused authentications and authorizations, backups,
// restores and key rotations (等保 2.0 level 3 security audit). Each is a
// command that changes nothing but the chain, like a reveal (audit.read).

// Audit is the typed API for audit events.
type Audit struct{ s *Store }

// Record writes an audit event to the chain. Oversize fields are cut to
// maxAuditField characters first: an attacker's input never keeps its own
// refusal off the record.
func (a *Audit) Record(ctx context.Context, ev state.AuditEvent) error {
	for _, f := range ev.Fields() {
		*f = state.Cut(*f, state.MaxAuditField)
	}
	if err := ev.Check(); err != nil {
		return err
	}
	_, err := a.s.apply(withoutKey(ctx), "audit.event", "", ev)
	return err
}

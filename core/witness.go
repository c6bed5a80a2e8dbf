package core

import (
	"context"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Witnesses anchor each jurisdiction's audit chain outside it. At least
// once a minute a jurisdiction sends its chain's head (sequence and hash)
// to its parent over the exchange; the parent keeps it as a witness, which
// its own chain records as it records every received message. A chain
// rewritten at or before a witnessed record no longer has the witnessed
// hash there, whoever rewrote it and whatever key they held: verifying the
// chain against the parent's witnesses (CheckWitnesses) finds it. This is
// the tamper-evident, cross-department record the 综治 seed documents ask a
// blockchain for, built on the exchange the federation already runs.

// SendWitness sends this jurisdiction's chain head to its parent, unless
// nothing but the previous witness was recorded since: an idle chain is not
// witnessed over and over. It reports whether it sent one.
func (f *Federation) SendWitness(ctx context.Context) (bool, error) {
	if parent, err := f.hasParent(); err != nil || !parent {
		return false, err // no parent: nothing to witness this chain
	}
	last, err := f.s.engine.LastAudit()
	if err != nil || last == "audit.witness.send" {
		return false, err
	}
	n, err := applyAs[uint64](withoutKey(ctx), f.s, "audit.witness.send", "", struct{}{})
	return n > 0, err
}

// hasParent reports whether a link to the tier above is configured.
func (f *Federation) hasParent() (bool, error) {
	cfg, err := f.Config()
	return err == nil && slices.ContainsFunc(cfg.Links, func(l model.Link) bool { return l.Relation == model.RelParent }), err
}

// Witnesses lists what this jurisdiction holds of origin's chain, by
// sequence, after seq (exclusive), at most limit (1..1000, else 1000).
func (f *Federation) Witnesses(origin string, after uint64, limit int) ([]model.Witness, error) {
	return f.s.engine.Witnesses(origin, after, limit)
}

// ErrChainBackwards marks a restore that would move the audit chain back:
// the backup's chain is shorter than the group's, or is not a continuation
// of it. It wraps errs.ErrConflict; force overrides it, audited.
var ErrChainBackwards = errs.Conflict("force", "backwards", "the backup's audit chain does not continue this group's: restoring it would drop audit records; send force to restore it anyway (the restore is audited and reported to the parent)")

// BackupCheck is what CheckBackup found of a backup's audit chain against
// this group's.
type BackupCheck struct {
	From      uint64 `json:"from"` // this group's chain length now
	To        uint64 `json:"to"`   // the backup's
	Backwards bool   `json:"backwards"`
}

// CheckBackup refuses a backup (a state file at path) that this group must
// not be restored to: one holding values this node's keys cannot open
// (CheckBackupKeys), one whose audit chain does not verify under this
// node's key file (errs.ErrInvalid, rule audit_chain), and, unless force, one whose chain would
// move this group's backwards (ErrChainBackwards).
func (s *Store) CheckBackup(path string, force bool) (BackupCheck, error) {
	var bc BackupCheck
	if err := s.CheckBackupKeys(path); err != nil {
		return bc, err
	}
	b, err := state.OpenStateFileReadOnly(path)
	if err != nil {
		return bc, err
	}
	defer b.Close()
	b.SetAuditKeys(s.keyring())
	theirs, err := b.VerifyAudit()
	if err != nil {
		return bc, errs.Invalid("backup", "audit_chain", "the backup's audit chain does not verify under this group's key file: %s", theirs.Problem)
	}
	ours, err := s.engine.VerifyAudit()
	if err != nil && ours.FirstBad == 0 {
		return bc, err
	}
	bc.From, bc.To = ours.Records, theirs.Records
	// The backup continues this chain when it holds this chain's head.
	continues := ours.Records == 0
	if !continues && theirs.Records >= ours.Records {
		h, ok, err := b.AuditHash(ours.Records)
		if err != nil {
			return bc, err
		}
		continues = ok && h == ours.Head
	}
	bc.Backwards = !continues
	if bc.Backwards && !force {
		return bc, ErrChainBackwards
	}
	return bc, nil
}

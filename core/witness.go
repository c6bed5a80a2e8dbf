package core

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
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

type witnessBody struct {
	Seq  uint64 `json:"seq"`
	Head string `json:"head"`
}

// applyWitnessSend sends the chain's head as it stands before this
// command's own record to the parent, if there is one.
func applyWitnessSend(t *txn, c *Command, _ *struct{}) (any, error) {
	pl, err := t.parentLink()
	if err != nil || pl == nil {
		return uint64(0), err
	}
	seq, head := t.auditHead()
	if seq == 0 {
		return uint64(0), nil
	}
	return seq, t.send(c, pl.Peer, model.KindWitness, witnessBody{Seq: seq, Head: hex.EncodeToString(head)})
}

func receiveWitness(t *txn, c *Command, l *model.Link, m *model.Message) error {
	if l.Relation != model.RelChild {
		return errs.Forbidden("kind", "policy", "only a child's chain is witnessed here, not %s's", m.Origin)
	}
	var b witnessBody
	if err := decodeBody(m, &b); err != nil {
		return err
	}
	head, err := hex.DecodeString(b.Head)
	if err != nil || len(head) != 32 || b.Seq == 0 {
		return errs.Invalid("body", "witness", "a witness is a sequence above 0 and a 32-byte head in hex")
	}
	// A second head for one sequence, or a sequence lower than one already
	// witnessed, is kept too: it is the evidence of a rewrite or a restore.
	return t.putRecord(bWitness, witnessKey(m.Origin, b.Seq, head), model.Witness{Origin: m.Origin, Seq: b.Seq, Head: b.Head, At: m.At})
}

func witnessKey(origin string, seq uint64, head []byte) []byte {
	k := append([]byte(origin+"/"), u64(seq)...)
	return append(append(k, '/'), head...)
}

// SendWitness sends this jurisdiction's chain head to its parent, unless
// nothing but the previous witness was recorded since: an idle chain is not
// witnessed over and over. It reports whether it sent one.
func (f *Federation) SendWitness(ctx context.Context) (bool, error) {
	if parent, err := f.hasParent(); err != nil || !parent {
		return false, err // no parent: nothing to witness this chain
	}
	last, err := f.s.engine.lastAudit()
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

// lastAudit is the command type of the chain's last record ("" if empty).
func (e *Engine) lastAudit() (string, error) {
	var typ string
	err := e.View(func(tx *bbolt.Tx) error {
		_, v := tx.Bucket(bAudit).Cursor().Last()
		if v == nil {
			return nil
		}
		r, err := decodeAudit(v)
		if err != nil {
			return err
		}
		c, err := DecodeCommand(r.Command)
		if err == nil {
			typ = c.Type
		}
		return nil
	})
	return typ, err
}

// Witnesses lists what this jurisdiction holds of origin's chain, by
// sequence, after seq (exclusive), at most limit (1..1000, else 1000).
func (f *Federation) Witnesses(origin string, after uint64, limit int) ([]model.Witness, error) {
	return f.s.engine.Witnesses(origin, after, limit)
}

// WitnessReport is what CheckWitnesses found.
type WitnessReport struct {
	Witnesses uint64 `json:"witnesses"` // witnesses checked
	Latest    uint64 `json:"latest"`    // the highest witnessed sequence
	OK        bool   `json:"ok"`
	FirstBad  uint64 `json:"first_bad,omitempty"`
	Problem   string `json:"problem,omitempty"`
}

// CheckWitnesses compares this chain with the witnesses its parent holds:
// every witnessed record must be here with the witnessed hash. Run it with
// VerifyAudit, which proves the records between witnesses. A failure
// returns the report and an error wrapping errs.ErrTampered.
func (e *Engine) CheckWitnesses(ws []model.Witness) (WitnessReport, error) {
	rep := WitnessReport{}
	err := e.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bAudit)
		for _, w := range ws {
			rep.Witnesses++
			rep.Latest = max(rep.Latest, w.Seq)
			v := b.Get(u64(w.Seq))
			if v == nil {
				rep.FirstBad, rep.Problem = w.Seq, fmt.Sprintf("record %d, witnessed by the parent at %s, is not in this chain (rolled back or truncated)", w.Seq, w.At.Format(time.RFC3339))
				return errStop
			}
			r, err := decodeAudit(v)
			if err != nil {
				return err
			}
			if r.Hash != w.Head {
				rep.FirstBad, rep.Problem = w.Seq, fmt.Sprintf("record %d differs from what the parent witnessed at %s (the chain was rewritten)", w.Seq, w.At.Format(time.RFC3339))
				return errStop
			}
		}
		return nil
	})
	if err == errStop {
		return rep, fmt.Errorf("audit: %s: %w", rep.Problem, errs.ErrTampered)
	}
	if err != nil {
		return rep, err
	}
	rep.OK = true
	return rep, nil
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
	b, err := OpenStateFileReadOnly(path)
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

// Witnesses lists what this jurisdiction holds of origin's chain, by
// sequence, after seq (exclusive), at most limit (1..1000, else 1000).
func (eng *Engine) Witnesses(origin string, after uint64, limit int) ([]model.Witness, error) {
	if !model.ValidCode(origin) {
		return nil, errs.Invalid("origin", "format", "origin must be a division code")
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var out []model.Witness
	err := eng.View(func(tx *bbolt.Tx) error {
		pre := []byte(origin + "/")
		c := tx.Bucket(bWitness).Cursor()
		for k, v := c.Seek(append(pre, u64(after+1)...)); k != nil && bytes.HasPrefix(k, pre) && len(out) < limit; k, v = c.Next() {
			var w model.Witness
			if err := json.Unmarshal(v, &w); err != nil {
				return err
			}
			out = append(out, w)
		}
		return nil
	})
	return out, err
}

// AuditHash is the hash of audit record seq, and whether it is held and
// well formed.
func (eng *Engine) AuditHash(seq uint64) (string, bool, error) {
	var h string
	var ok bool
	err := eng.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bAudit).Get(u64(seq)); v != nil {
			r, err := decodeAudit(v)
			h, ok = r.Hash, err == nil
		}
		return nil
	})
	return h, ok, err
}

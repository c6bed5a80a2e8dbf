package state

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

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
	if err := DecodeBody(m, &b); err != nil {
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
	k := append([]byte(origin+"/"), U64(seq)...)
	return append(append(k, '/'), head...)
}

// LastAudit is the command type of the chain's last record ("" if empty).
func (e *Engine) LastAudit() (string, error) {
	var typ string
	err := e.View(func(tx *bbolt.Tx) error {
		_, v := tx.Bucket(BucketAudit).Cursor().Last()
		if v == nil {
			return nil
		}
		r, err := DecodeAudit(v)
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
		b := tx.Bucket(BucketAudit)
		for _, w := range ws {
			rep.Witnesses++
			rep.Latest = max(rep.Latest, w.Seq)
			v := b.Get(U64(w.Seq))
			if v == nil {
				rep.FirstBad, rep.Problem = w.Seq, fmt.Sprintf("record %d, witnessed by the parent at %s, is not in this chain (rolled back or truncated)", w.Seq, w.At.Format(time.RFC3339))
				return errStop
			}
			r, err := DecodeAudit(v)
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
		for k, v := c.Seek(append(pre, U64(after+1)...)); k != nil && bytes.HasPrefix(k, pre) && len(out) < limit; k, v = c.Next() {
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
		if v := tx.Bucket(BucketAudit).Get(U64(seq)); v != nil {
			r, err := DecodeAudit(v)
			h, ok = r.Hash, err == nil
		}
		return nil
	})
	return h, ok, err
}

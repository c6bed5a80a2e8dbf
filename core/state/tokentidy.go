package state

import (
	"bytes"
	"fmt"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// TidyPayload is the payload of token.tidy.
type TidyPayload struct {
	Under  string    `json:"under"`  // jurisdiction whose subtree is tidied
	Before time.Time `json:"before"` // tokens that expired before this go
}

// TidyRoots lists the top-level jurisdictions to tidy under when a token is
// revoked or expired before before, and nothing otherwise.
func (eng *Engine) TidyRoots(before time.Time) ([]string, error) {
	var roots []string
	due := false
	err := eng.View(func(tx *bbolt.Tx) error {
		err := tx.Bucket(BucketToken).ForEach(func(k, v []byte) error {
			var tk model.Token
			if err := decodeRecord(v, &tk); err != nil {
				return err
			}
			due = due || tk.Revoked || tk.ExpiresAt != nil && tk.ExpiresAt.Before(before)
			return nil
		})
		if err != nil || !due {
			return err
		}
		return tx.Bucket(bJur).ForEach(func(k, v []byte) error {
			var j model.Jurisdiction
			if err := decodeRecord(v, &j); err != nil {
				return err
			}
			if j.Parent == "" {
				roots = append(roots, j.Code)
			}
			return nil
		})
	})
	return roots, err
}

func applyTokenTidy(t *txn, c *Command, p *TidyPayload) (any, error) {
	if p.Before.After(c.At) {
		return nil, errs.Invalid("before", "past", "tokens that have not expired yet cannot be tidied (before %s is later than now)", p.Before.Format(time.RFC3339))
	}
	if _, err := loadIn(t, c, bJur, p.Under, "under", "jurisdiction", jurPlace); err != nil {
		return nil, err
	}
	pre := []byte(PrefixOf(p.Under))
	var gone []*model.Token
	c0 := t.b(BucketTokenScope).Cursor()
	for k, _ := c0.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, _ = c0.Next() {
		id := k[bytes.LastIndexByte(k, '/')+1:]
		var tk model.Token
		if ok, err := t.getRecord(BucketToken, id, &tk); err != nil {
			return nil, err
		} else if !ok {
			return nil, fmt.Errorf("core: token index names %q, which is not stored", id)
		}
		if tk.Revoked || (tk.ExpiresAt != nil && tk.ExpiresAt.Before(p.Before)) {
			gone = append(gone, &tk)
		}
	}
	// Deleted after the scan: a bbolt cursor does not survive deletes.
	for _, tk := range gone {
		if !tk.Revoked {
			if err := t.del(BucketTokenHash, []byte(tk.Hash)); err != nil {
				return nil, err
			}
		}
		if err := t.del(BucketTokenScope, tokenScopeKey(tk)); err != nil {
			return nil, err
		}
		if err := t.del(BucketToken, []byte(tk.ID)); err != nil {
			return nil, err
		}
	}
	if len(gone) > 0 {
		t.effect(func(e *Engine) { e.tokenGen.Add(1) })
	}
	return len(gone), nil
}

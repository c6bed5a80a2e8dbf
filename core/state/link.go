package state

import (
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

func applyFederationConfigure(t *txn, c *Command, p *model.FederationConfig) (any, error) {
	if inputRules(c) {
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	if cur := string(t.b(BucketMeta).Get(metaSelf)); cur != "" && cur != p.Self {
		return nil, errs.Conflict("self", "fixed", "this group is jurisdiction %s; it cannot become %s", cur, p.Self)
	}
	if err := t.b(BucketMeta).Put(metaSelf, []byte(p.Self)); err != nil {
		return nil, err
	}
	if err := t.b(BucketMeta).Put(metaMaxOutbox, U64(p.MaxOutbox)); err != nil {
		return nil, err
	}
	// Links not in the new set go; their outboxes stay until acknowledged.
	b := t.b(bLink)
	var old [][]byte
	b.ForEach(func(k, _ []byte) error { old = append(old, append([]byte(nil), k...)); return nil })
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return nil, err
		}
	}
	for _, l := range p.Links {
		if err := t.putRecord(bLink, []byte(l.Peer), l); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// self is this group's jurisdiction, or "" before federation.configure.
func (t *txn) self() string { return string(t.b(BucketMeta).Get(metaSelf)) }

// link returns the link to peer, or a policy error naming field.
func (t *txn) link(field, peer string) (*model.Link, error) {
	var l model.Link
	ok, err := t.getRecord(bLink, []byte(peer), &l)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.Forbidden(field, "no_link", "no link to jurisdiction %s", peer)
	}
	return &l, nil
}

// parentLink returns the link to the tier above, or nil.
func (t *txn) parentLink() (*model.Link, error) {
	ls, err := prefixValues[model.Link](t.tx, bLink, nil, 0, nil)
	for i := range ls {
		if ls[i].Relation == model.RelParent {
			return &ls[i], nil
		}
	}
	return nil, err
}

// Config returns the replicated configuration (Self is "" before Configure).
func (eng *Engine) FederationConfig() (model.FederationConfig, error) {
	var out model.FederationConfig
	err := eng.View(func(tx *bbolt.Tx) (err error) {
		out.Self = string(tx.Bucket(BucketMeta).Get(metaSelf))
		out.MaxOutbox = GetU64(tx.Bucket(BucketMeta).Get(metaMaxOutbox))
		out.Links, err = prefixValues[model.Link](tx, bLink, nil, 0, nil) // keyed by peer: sorted
		return err
	})
	return out, err
}

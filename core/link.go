package core

import (
	"context"
	"slices"
	"strconv"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Relations of a link, seen from this jurisdiction.
const (
	RelParent = "parent" // the peer is the tier above (上级)
	RelChild  = "child"  // the peer is a tier below (下级)
	RelPeer   = "peer"   // a neighbour (相邻地区), e.g. 荣昌区 ↔ 隆昌市
)

// Fields that may cross only when a link's policy shares them.
const (
	ShareReporter       = "event.reporter"  // who reported an event
	SharePersonIdentity = "person.identity" // a person's full name and ID number
	SharePersonDetails  = "person.details"  // special-population category fields (矫正、戒毒、诊断 …)
)

var (
	allKinds = []string{model.KindEscalation, model.KindDispatch, model.KindSupervision, model.KindOutcome, model.KindRollup,
		model.KindCaseOpen, model.KindCaseEntry, model.KindCaseStatus, model.KindCaseLead, model.KindHandoverOffer, model.KindHandoverReply, model.KindWitness}
	allShares = []string{ShareReporter, SharePersonIdentity, SharePersonDetails}
	// defaultKinds is what a link allows when its policy names no kinds.
	defaultKinds = map[string][]string{
		RelParent: {model.KindEscalation, model.KindDispatch, model.KindSupervision, model.KindOutcome, model.KindRollup, model.KindHandoverOffer, model.KindHandoverReply, model.KindWitness},
		RelChild:  {model.KindEscalation, model.KindDispatch, model.KindSupervision, model.KindOutcome, model.KindRollup, model.KindHandoverOffer, model.KindHandoverReply, model.KindWitness},
		RelPeer:   {model.KindCaseOpen, model.KindCaseEntry, model.KindCaseStatus, model.KindCaseLead, model.KindHandoverOffer, model.KindHandoverReply},
	}
)

// Link is this jurisdiction's sharing policy with one other jurisdiction.
// Nothing crosses without a link; sensitive fields cross only when Share
// names them (special-population details are denied by default).
type Link struct {
	Peer     string   `json:"peer"`            // the other jurisdiction's code
	Relation string   `json:"relation"`        // parent, child or peer
	Allow    []string `json:"allow,omitempty"` // message kinds; empty means the relation's defaults
	Share    []string `json:"share,omitempty"` // sensitive field groups that may cross
}

// allows reports whether kind may cross this link.
func (l *Link) allows(kind string) bool {
	if len(l.Allow) == 0 {
		return slices.Contains(defaultKinds[l.Relation], kind)
	}
	return slices.Contains(l.Allow, kind)
}

func (l *Link) shares(field string) bool { return slices.Contains(l.Share, field) }

func (l *Link) check(i int) error {
	field := func(f string) string { return "links[" + strconv.Itoa(i) + "]." + f }
	if !validCode(l.Peer) {
		return errs.Invalid(field("peer"), "format", "peer must be a 6-, 9- or 12-digit division code, got %q", l.Peer)
	}
	if _, ok := defaultKinds[l.Relation]; !ok {
		return errs.Invalid(field("relation"), "enum", "relation must be parent, child or peer, got %q", l.Relation)
	}
	for _, k := range l.Allow {
		if !slices.Contains(allKinds, k) {
			return errs.Invalid(field("allow"), "enum", "unknown message kind %q (kinds: %v)", k, allKinds)
		}
	}
	for _, s := range l.Share {
		if !slices.Contains(allShares, s) {
			return errs.Invalid(field("share"), "enum", "unknown field group %q (groups: %v)", s, allShares)
		}
	}
	return nil
}

func validCode(s string) bool {
	if len(s) != 6 && len(s) != 9 && len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// FederationConfig is this jurisdiction's identity and links, replicated so
// every replica enforces the same policy in apply.
type FederationConfig struct {
	Self  string `json:"self"`
	Links []Link `json:"links"`
	// MaxOutbox bounds each link's unacknowledged messages (default
	// DefaultMaxOutbox). Past it, new local sends are refused with
	// ErrUnavailable until the peer catches up: backpressure, not loss.
	MaxOutbox uint64 `json:"max_outbox,omitempty"`
}

// DefaultMaxOutbox is the per-link outbox bound when none is configured.
const DefaultMaxOutbox = 100_000

// Validate checks the identity and every link, naming the offending field,
// as applying the configuration would.
func (f *FederationConfig) Validate() error { return f.check() }

func (f *FederationConfig) check() error {
	if !validCode(f.Self) {
		return errs.Invalid("self", "format", "self must be a division code, got %q", f.Self)
	}
	seen := map[string]bool{}
	parents := 0
	for i := range f.Links {
		l := &f.Links[i]
		if err := l.check(i); err != nil {
			return err
		}
		if l.Peer == f.Self {
			return errs.Invalid("links["+strconv.Itoa(i)+"].peer", "self", "a jurisdiction cannot link to itself")
		}
		if seen[l.Peer] {
			return errs.Invalid("links["+strconv.Itoa(i)+"].peer", "duplicate", "peer %s is linked twice", l.Peer)
		}
		seen[l.Peer] = true
		if l.Relation == RelParent {
			parents++
		}
	}
	if parents > 1 {
		return errs.Invalid("links", "parent", "at most one parent link")
	}
	return nil
}

func applyFederationConfigure(t *txn, c *Command, p *FederationConfig) (any, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if cur := string(t.b(bMeta).Get(metaSelf)); cur != "" && cur != p.Self {
		return nil, errs.Conflict("self", "fixed", "this group is jurisdiction %s; it cannot become %s", cur, p.Self)
	}
	if err := t.b(bMeta).Put(metaSelf, []byte(p.Self)); err != nil {
		return nil, err
	}
	if err := t.b(bMeta).Put(metaMaxOutbox, u64(p.MaxOutbox)); err != nil {
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
func (t *txn) self() string { return string(t.b(bMeta).Get(metaSelf)) }

// link returns the link to peer, or a policy error naming field.
func (t *txn) link(field, peer string) (*Link, error) {
	var l Link
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
func (t *txn) parentLink() (*Link, error) {
	ls, err := prefixValues[Link](t.tx, bLink, nil, 0, nil)
	for i := range ls {
		if ls[i].Relation == RelParent {
			return &ls[i], nil
		}
	}
	return nil, err
}

// Federation is the typed API for this jurisdiction's place in the
// federation: its links, outbox and inbox.
type Federation struct{ s *Store }

// Configure sets this group's jurisdiction and links (the node does it from
// its config file when it becomes leader). Unknown kinds or fields are errors.
func (f *Federation) Configure(ctx context.Context, cfg FederationConfig) error {
	if err := cfg.check(); err != nil {
		return err
	}
	_, err := f.s.apply(ctx, "federation.configure", "", cfg)
	return err
}

// Config returns the replicated configuration (Self is "" before Configure).
func (f *Federation) Config() (FederationConfig, error) {
	var out FederationConfig
	err := f.s.engine.View(func(tx *bbolt.Tx) (err error) {
		out.Self = string(tx.Bucket(bMeta).Get(metaSelf))
		out.MaxOutbox = getU64(tx.Bucket(bMeta).Get(metaMaxOutbox))
		out.Links, err = prefixValues[Link](tx, bLink, nil, 0, nil) // keyed by peer: sorted
		return err
	})
	return out, err
}

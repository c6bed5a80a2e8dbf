package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Message kinds that cross between jurisdictions.
const (
	KindEscalation    = "escalation"     // 上报上级: an event handed up
	KindDispatch      = "dispatch"       // 交办: an event handed down with a deadline
	KindSupervision   = "supervision"    // 督办 on a dispatched event
	KindOutcome       = "outcome"        // the end of an escalated or dispatched event, back to its origin
	KindRollup        = "rollup"         // periodic figures for the tier above
	KindCaseOpen      = "case.open"      // 跨区域互涉案事件 opened by its lead
	KindCaseEntry     = "case.entry"     // a timeline entry of a case
	KindCaseStatus    = "case.status"    // a status change by the lead
	KindCaseLead      = "case.lead"      // the lead handed over
	KindHandoverOffer = "handover.offer" // 衔接: a special-population subject moves here
	KindHandoverReply = "handover.reply" // the receiver accepted
	KindWitness       = "audit.witness"  // a child's audit chain head, for its parent to keep
	KindToken         = "token"          // a token issued above, or its revocation, for the subtree
)

// Message is one unit of exchange between jurisdictions. (Origin, Seq) is
// unique: Seq counts up from 1 per (origin, dest) link, so the receiver
// applies each message once and in order.
type Message struct {
	Origin string          `json:"origin"`
	Dest   string          `json:"dest"`
	Seq    uint64          `json:"seq"`
	Kind   string          `json:"kind"`
	At     time.Time       `json:"at"` // when the sender's command ran
	Body   json.RawMessage `json:"body"`
}

// MaxMessageBody bounds one message's body.
const MaxMessageBody = 256 << 10

// MaxReceiveBatch bounds the messages in one receive command.
const MaxReceiveBatch = 1024

// MessageError says which message of a batch the receiver refused and why.
// The rest of the batch was not applied; the exchange dead-letters this one
// (Federation.Refuse) and resends the others.
type MessageError struct {
	Origin string
	Seq    uint64
	Kind   string
	Err    error
}

// Error names the message and why it was refused.
func (e *MessageError) Error() string {
	return fmt.Sprintf("message %s#%d (%s): %v", e.Origin, e.Seq, e.Kind, e.Err)
}

// Unwrap exposes the cause (a policy error is errs.ErrForbidden, and so on).
func (e *MessageError) Unwrap() error { return e.Err }

// ReceiveResult is what a receiver acknowledges: every message up to Ack
// from this origin has taken effect (now or before).
type ReceiveResult struct {
	Ack        uint64 `json:"ack"`
	Applied    int    `json:"applied"`
	Duplicates int    `json:"duplicates"`
}

// Refusal is a message the receiver would not apply, kept for audit.
type Refusal struct {
	Origin string    `json:"origin"`
	Seq    uint64    `json:"seq,omitempty"` // 0: the whole request was refused
	Kind   string    `json:"kind,omitempty"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// LinkState is one link's exchange position, as this replica knows it.
type LinkState struct {
	Link
	Sent     uint64    `json:"sent"`            // last sequence put in the outbox
	Acked    uint64    `json:"acked"`           // last sequence the peer acknowledged
	Depth    uint64    `json:"depth"`           // messages waiting
	Oldest   time.Time `json:"oldest,omitzero"` // when the oldest waiting message was made
	Received uint64    `json:"received"`        // last sequence applied from the peer
	Refused  int       `json:"refused"`         // refusals recorded against the peer
}

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

// AllKinds and AllShares list what a link policy may name; DefaultKinds is
// what a link allows, by relation, when its policy names no kinds.
var (
	AllKinds = []string{KindEscalation, KindDispatch, KindSupervision, KindOutcome, KindRollup,
		KindCaseOpen, KindCaseEntry, KindCaseStatus, KindCaseLead, KindHandoverOffer, KindHandoverReply, KindWitness, KindToken}
	AllShares    = []string{ShareReporter, SharePersonIdentity, SharePersonDetails}
	DefaultKinds = map[string][]string{
		RelParent: {KindEscalation, KindDispatch, KindSupervision, KindOutcome, KindRollup, KindHandoverOffer, KindHandoverReply, KindWitness, KindToken},
		RelChild:  {KindEscalation, KindDispatch, KindSupervision, KindOutcome, KindRollup, KindHandoverOffer, KindHandoverReply, KindWitness, KindToken},
		RelPeer:   {KindCaseOpen, KindCaseEntry, KindCaseStatus, KindCaseLead, KindHandoverOffer, KindHandoverReply},
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

// Allows reports whether kind may cross this link.
func (l *Link) Allows(kind string) bool {
	if len(l.Allow) == 0 {
		return slices.Contains(DefaultKinds[l.Relation], kind)
	}
	return slices.Contains(l.Allow, kind)
}

// Shares reports whether a sensitive field group may cross this link.
func (l *Link) Shares(field string) bool { return slices.Contains(l.Share, field) }

// Check validates the i-th link of a configuration, naming the field.
func (l *Link) Check(i int) error {
	field := func(f string) string { return "links[" + strconv.Itoa(i) + "]." + f }
	if !ValidCode(l.Peer) {
		return errs.Invalid(field("peer"), "format", "peer must be a 6-, 9- or 12-digit division code, got %q", l.Peer)
	}
	if _, ok := DefaultKinds[l.Relation]; !ok {
		return errs.Invalid(field("relation"), "enum", "relation must be parent, child or peer, got %q", l.Relation)
	}
	for _, k := range l.Allow {
		if !slices.Contains(AllKinds, k) {
			return errs.Invalid(field("allow"), "enum", "unknown message kind %q (kinds: %v)", k, AllKinds)
		}
	}
	for _, s := range l.Share {
		if !slices.Contains(AllShares, s) {
			return errs.Invalid(field("share"), "enum", "unknown field group %q (groups: %v)", s, AllShares)
		}
	}
	return nil
}

// ValidCode reports whether s looks like a division code: 6, 9 or 12 digits.
func ValidCode(s string) bool {
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
func (f *FederationConfig) Validate() error {
	if !ValidCode(f.Self) {
		return errs.Invalid("self", "format", "self must be a division code, got %q", f.Self)
	}
	seen := map[string]bool{}
	parents := 0
	for i := range f.Links {
		l := &f.Links[i]
		if err := l.Check(i); err != nil {
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

// Witness is one head of a child's chain as its parent received it.
type Witness struct {
	Origin string    `json:"origin"`
	Seq    uint64    `json:"seq"`
	Head   string    `json:"head"` // hex
	At     time.Time `json:"at"`   // when the child's command ran
}

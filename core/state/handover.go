package state

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// HandoverOffer is the wire body. Name, IDNumber and Details are plaintext
// only in flight; apply refuses them.
type HandoverOffer struct {
	Handover model.Handover  `json:"handover"`
	Name     string          `json:"name,omitempty"`
	IDNumber string          `json:"id_number,omitempty"`
	Details  json.RawMessage `json:"details,omitempty"`
}

type handoverReply struct {
	ID         string    `json:"id"`
	AcceptedAt time.Time `json:"accepted_at"`
}

// HandoverOpenPayload is the payload of handover.open.
type HandoverOpenPayload struct {
	Person   string    `json:"person"`
	To       string    `json:"to"`
	Deadline time.Time `json:"deadline"`
	Note     string    `json:"note,omitempty"`
}

// HandoverIDPayload names a handover (handover.accept).
type HandoverIDPayload struct {
	ID string `json:"id"`
}

func applyHandoverOpen(t *txn, c *Command, p *HandoverOpenPayload) (any, error) {
	if !p.Deadline.After(c.At) {
		return nil, errs.Invalid("deadline", "future", "the deadline must be in the future")
	}
	if len(p.Note) > model.MaxText {
		return nil, errs.Invalid("note", "length", "note is longer than %d bytes", model.MaxText)
	}
	person, err := t.loadPerson(c, p.Person)
	if err != nil {
		return nil, err
	}
	l, err := t.link("to", p.To)
	if err != nil {
		return nil, err
	}
	sub := model.Subject{NameMasked: person.NameMasked, IDMasked: person.IDMasked, Kind: person.Kind}
	if person.Special != nil {
		sub.Category, sub.Level = person.Special.Category, person.Special.Level
		if l.Shares(model.SharePersonDetails) {
			sub.DetailsSealed = person.Special.DetailsSealed
		}
	}
	if l.Shares(model.SharePersonIdentity) {
		sub.NameSealed, sub.IDSealed = person.NameSealed, person.IDSealed
	}
	self := t.self()
	seq, _ := t.nextSeq("handover")
	h := &model.Handover{ID: self + "-H" + strconv.FormatUint(seq, 10), Direction: model.HandoverOut, Person: person.ID, From: self, To: p.To,
		Status: model.HandoverPending, Note: p.Note, OpenedAt: c.At, Deadline: p.Deadline.UTC(), Subject: sub}
	if err := t.putRecord(bHandover, []byte(h.ID), h); err != nil {
		return nil, err
	}
	wire := *h
	wire.Person = ""
	return h, t.send(c, p.To, model.KindHandoverOffer, HandoverOffer{Handover: wire})
}

func receiveHandoverOffer(t *txn, c *Command, l *model.Link, m *model.Message) error {
	var b HandoverOffer
	if err := DecodeBody(m, &b); err != nil {
		return err
	}
	if b.Name != "" || b.IDNumber != "" || len(b.Details) > 0 {
		return errs.Invalid("body", "plaintext", "personal fields must be sealed before they are applied")
	}
	h := b.Handover
	if h.ID == "" || h.From != m.Origin || h.To != t.self() {
		return errs.Invalid("body.handover", "route", "handover %q is not from %s to this jurisdiction", h.ID, m.Origin)
	}
	if (h.Subject.NameSealed != "" || h.Subject.IDSealed != "") && !l.Shares(model.SharePersonIdentity) {
		return errs.Forbidden("body.handover.subject", "policy", "the link with %s does not share %s", l.Peer, model.SharePersonIdentity)
	}
	if h.Subject.DetailsSealed != "" && !l.Shares(model.SharePersonDetails) {
		return errs.Forbidden("body.handover.subject", "policy", "the link with %s does not share %s", l.Peer, model.SharePersonDetails)
	}
	if t.b(bHandover).Get([]byte(h.ID)) != nil {
		return errs.Conflict("body.handover.id", "exists", "handover %s is already here", h.ID)
	}
	h.Direction, h.Status, h.Person, h.AlertEvent = model.HandoverIn, model.HandoverPending, "", ""
	return t.putRecord(bHandover, []byte(h.ID), &h)
}

func applyHandoverAccept(t *txn, c *Command, p *HandoverIDPayload) (any, error) {
	h, err := load[model.Handover](t, bHandover, p.ID, "id", "handover")
	if err != nil {
		return nil, err
	}
	if h.Direction != model.HandoverIn {
		return nil, errs.Conflict("id", "direction", "handover %s is outgoing; the receiver accepts it", h.ID)
	}
	if h.Status != model.HandoverPending {
		return nil, errs.Conflict("id", "state", "handover %s is %s", h.ID, h.Status)
	}
	h.Status, h.AcceptedAt = model.HandoverAccepted, c.At
	if err := t.putRecord(bHandover, []byte(h.ID), h); err != nil {
		return nil, err
	}
	return h, t.send(c, h.From, model.KindHandoverReply, handoverReply{ID: h.ID, AcceptedAt: c.At})
}

func receiveHandoverReply(t *txn, c *Command, l *model.Link, m *model.Message) error {
	var b handoverReply
	if err := DecodeBody(m, &b); err != nil {
		return err
	}
	h, err := load[model.Handover](t, bHandover, b.ID, "body.id", "handover")
	if err != nil {
		return err
	}
	if h.Direction != model.HandoverOut || h.To != m.Origin {
		return errs.Forbidden("body.id", "route", "handover %s was not sent to %s", b.ID, m.Origin)
	}
	if h.Status == model.HandoverAccepted {
		return nil
	}
	h.Status, h.AcceptedAt = model.HandoverAccepted, b.AcceptedAt
	return t.putRecord(bHandover, []byte(h.ID), h)
}

// applyHandoverSweep opens one alert event per pending handover past its
// deadline, on whichever side runs it (both do).
func applyHandoverSweep(t *txn, c *Command, _ *struct{}) (any, error) {
	all, err := prefixValues[model.Handover](t.tx, bHandover, nil, 0, nil)
	if err != nil {
		return nil, err
	}
	var due []*model.Handover
	for i, h := range all {
		if h.Status == model.HandoverPending && h.AlertEvent == "" && c.At.After(h.Deadline) {
			due = append(due, &all[i])
		}
	}
	self := t.self()
	for _, h := range due {
		side := "接收方"
		if h.Direction == model.HandoverOut {
			side = "移交方"
		}
		ev, err := t.reportEvent(c, &model.Report{Category: "special_population", Urgency: model.UrgencyNormal, Source: "system", Jurisdiction: self,
			Description: fmt.Sprintf("人员衔接 %s 逾期未接收（%s，%s → %s，期限 %s）", h.ID, side, h.From, h.To, h.Deadline.Format(time.RFC3339))})
		if err != nil {
			return nil, err
		}
		h.AlertEvent = ev.ID
		if err := t.putRecord(bHandover, []byte(h.ID), h); err != nil {
			return nil, err
		}
	}
	return len(due), nil
}

// SubjectAAD is what a handover's sealed subject fields are bound to: a
// sender keeps the person's own values (special-population details under
// "special"), a receiver seals what arrives under the handover's id.
func SubjectAAD(direction, handover, person string) (prefix, details string) {
	if direction == model.HandoverOut {
		return "person/" + person + "/", "special"
	}
	return "handover/" + handover + "/", "details"
}

// Get returns one handover.
func (eng *Engine) Handover(id string) (*model.Handover, error) {
	var h model.Handover
	err := eng.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bHandover).Get([]byte(id))
		if v == nil {
			return errs.NotFound("id", "handover %s not found", id)
		}
		return json.Unmarshal(v, &h)
	})
	return &h, err
}

// List returns every handover this side holds.
func (eng *Engine) Handovers() ([]model.Handover, error) {
	var out []model.Handover
	err := eng.View(func(tx *bbolt.Tx) (err error) {
		out, err = prefixValues[model.Handover](tx, bHandover, nil, 0, nil) // keyed by id: sorted
		return err
	})
	return out, err
}

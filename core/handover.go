package core

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Person handover (衔接): a special-population subject moves to another
// jurisdiction. The sender opens a handover; the receiver must accept it
// before the deadline, or both sides open an alert event. Only what the
// link shares crosses: masked name and ID always, the full identity and the
// category details only when the policy names them. Sealed fields are
// opened by the sender's exchange just before the wire (inside mTLS) and
// sealed again under the receiver's keys before they enter its log.

// handoverOffer is the wire body. Name, IDNumber and Details are plaintext
// only in flight; apply refuses them.
type handoverOffer struct {
	Handover model.Handover  `json:"handover"`
	Name     string          `json:"name,omitempty"`
	IDNumber string          `json:"id_number,omitempty"`
	Details  json.RawMessage `json:"details,omitempty"`
}

type handoverReply struct {
	ID         string    `json:"id"`
	AcceptedAt time.Time `json:"accepted_at"`
}

type handoverOpenPayload struct {
	Person   string    `json:"person"`
	To       string    `json:"to"`
	Deadline time.Time `json:"deadline"`
	Note     string    `json:"note,omitempty"`
}

type handoverIDPayload struct {
	ID string `json:"id"`
}

func applyHandoverOpen(t *txn, c *Command, p *handoverOpenPayload) (any, error) {
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
	return h, t.send(c, p.To, model.KindHandoverOffer, handoverOffer{Handover: wire})
}

func receiveHandoverOffer(t *txn, c *Command, l *model.Link, m *model.Message) error {
	var b handoverOffer
	if err := decodeBody(m, &b); err != nil {
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

func applyHandoverAccept(t *txn, c *Command, p *handoverIDPayload) (any, error) {
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
	if err := decodeBody(m, &b); err != nil {
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
		ev, err := t.reportEvent(c, &model.Report{Category: "special_population", Source: "system", Jurisdiction: self,
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

// Handovers is the typed API for person handovers.
type Handovers struct{ s *Store }

// Open hands person over to jurisdiction to, to be accepted by deadline.
func (hs *Handovers) Open(ctx context.Context, person, to string, deadline time.Time, note string) (*model.Handover, error) {
	return applyAs[*model.Handover](ctx, hs.s, "handover.open", "", handoverOpenPayload{Person: person, To: to, Deadline: deadline, Note: note})
}

// Accept accepts an incoming handover.
func (hs *Handovers) Accept(ctx context.Context, id string) (*model.Handover, error) {
	return applyAs[*model.Handover](ctx, hs.s, "handover.accept", "", handoverIDPayload{ID: id})
}

// Sweep opens alert events for handovers past their deadline. When none is
// due it proposes nothing, so an idle group's chain does not grow by a
// sweep a minute.
func (hs *Handovers) Sweep(ctx context.Context) (int, error) {
	all, err := hs.List()
	if err != nil {
		return 0, err
	}
	now := hs.s.clock()
	if !slices.ContainsFunc(all, func(h model.Handover) bool {
		return h.Status == model.HandoverPending && h.AlertEvent == "" && now.After(h.Deadline)
	}) {
		return 0, nil
	}
	return applyAs[int](ctx, hs.s, "handover.sweep", "", struct{}{})
}

// Get returns one handover.
func (hs *Handovers) Get(id string) (*model.Handover, error) {
	return hs.s.engine.Handover(id)
}

// List returns every handover this side holds.
func (hs *Handovers) List() ([]model.Handover, error) {
	return hs.s.engine.Handovers()
}

// subjectAAD is what a handover's sealed subject fields are bound to: a
// sender keeps the person's own values (special-population details under
// "special"), a receiver seals what arrives under the handover's id.
func subjectAAD(direction, handover, person string) (prefix, details string) {
	if direction == model.HandoverOut {
		return "person/" + person + "/", "special"
	}
	return "handover/" + handover + "/", "details"
}

// Outgoing prepares messages for the wire: sealed personal fields are opened
// with this side's keys. Call it just before sending, never before storing.
func (f *Federation) Outgoing(msgs []model.Message) ([]model.Message, error) {
	out := make([]model.Message, len(msgs))
	for i, m := range msgs {
		out[i] = m
		if m.Kind != model.KindHandoverOffer {
			continue
		}
		var b handoverOffer
		if err := json.Unmarshal(m.Body, &b); err != nil {
			return nil, fmt.Errorf("core: outgoing %d: %w", m.Seq, err)
		}
		sub := &b.Handover.Subject
		pid, err := f.personOf(b.Handover.ID)
		if err != nil {
			return nil, err
		}
		pre, detailsField := subjectAAD(model.HandoverOut, b.Handover.ID, pid)
		open := func(tok, what string) (string, error) {
			if tok == "" {
				return "", nil
			}
			v, err := f.s.keyring().Open(tok, pre+what)
			return string(v), err
		}
		var details string
		if b.Name, err = open(sub.NameSealed, "name"); err == nil {
			if b.IDNumber, err = open(sub.IDSealed, "id_number"); err == nil {
				details, err = open(sub.DetailsSealed, detailsField)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("core: outgoing handover %s: %w", b.Handover.ID, err)
		}
		if details != "" {
			b.Details = json.RawMessage(details)
		}
		sub.NameSealed, sub.IDSealed, sub.DetailsSealed = "", "", ""
		if out[i].Body, err = json.Marshal(b); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (f *Federation) personOf(handover string) (string, error) {
	h, err := f.s.Handovers.Get(handover)
	if err != nil {
		return "", err
	}
	return h.Person, nil
}

// Incoming seals personal fields of received messages under this side's
// keys, so no plaintext enters the log. On a *MessageError it also returns
// the messages before the refused one, ready to apply.
func (f *Federation) Incoming(msgs []model.Message) ([]model.Message, error) {
	out := make([]model.Message, len(msgs))
	for i, m := range msgs {
		out[i] = m
		if m.Kind != model.KindHandoverOffer {
			continue
		}
		var b handoverOffer
		if err := decodeBody(&m, &b); err != nil {
			return out[:i], &model.MessageError{Origin: m.Origin, Seq: m.Seq, Kind: m.Kind, Err: err}
		}
		sub := &b.Handover.Subject
		if sub.NameSealed != "" || sub.IDSealed != "" || sub.DetailsSealed != "" {
			return out[:i], &model.MessageError{Origin: m.Origin, Seq: m.Seq, Kind: m.Kind,
				Err: errs.Invalid("body.handover.subject", "sealed", "sealed fields cannot be read here; send them open inside TLS")}
		}
		pre, detailsField := subjectAAD(model.HandoverIn, b.Handover.ID, "")
		seal := func(v, what string) (string, error) {
			if v == "" {
				return "", nil
			}
			return f.s.keyring().Seal([]byte(v), pre+what)
		}
		var err error
		if sub.NameSealed, err = seal(b.Name, "name"); err == nil {
			if sub.IDSealed, err = seal(b.IDNumber, "id_number"); err == nil {
				sub.DetailsSealed, err = seal(string(b.Details), detailsField)
			}
		}
		if err != nil {
			return nil, err
		}
		b.Name, b.IDNumber, b.Details = "", "", nil
		if out[i].Body, err = json.Marshal(b); err != nil {
			return nil, err
		}
	}
	return out, nil
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

package core

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Person handover (衔接): a special-population subject moves to another
// jurisdiction. The sender opens a handover; the receiver must accept it
// before the deadline, or both sides open an alert event. Only what the
// link shares crosses: masked name and ID always, the full identity and the
// category details only when the policy names them. Sealed fields are
// opened by the sender's exchange just before the wire (inside mTLS) and
// sealed again under the receiver's keys before they enter its log.

// Handovers is the typed API for person handovers.
type Handovers struct{ s *Store }

// Open hands person over to jurisdiction to, to be accepted by deadline.
func (hs *Handovers) Open(ctx context.Context, person, to string, deadline time.Time, note string) (*model.Handover, error) {
	return applyAs[*model.Handover](ctx, hs.s, "handover.open", "", state.HandoverOpenPayload{Person: person, To: to, Deadline: deadline, Note: note})
}

// Accept accepts an incoming handover.
func (hs *Handovers) Accept(ctx context.Context, id string) (*model.Handover, error) {
	return applyAs[*model.Handover](ctx, hs.s, "handover.accept", "", state.HandoverIDPayload{ID: id})
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

// Outgoing prepares messages for the wire: sealed personal fields are opened
// with this side's keys. Call it just before sending, never before storing.
func (f *Federation) Outgoing(msgs []model.Message) ([]model.Message, error) {
	out := make([]model.Message, len(msgs))
	for i, m := range msgs {
		out[i] = m
		if m.Kind == model.KindToken {
			body, err := f.tokenOut(m)
			if err != nil {
				return nil, err
			}
			out[i].Body = body
			continue
		}
		if m.Kind != model.KindHandoverOffer {
			continue
		}
		var b state.HandoverOffer
		if err := json.Unmarshal(m.Body, &b); err != nil {
			return nil, fmt.Errorf("core: outgoing %d: %w", m.Seq, err)
		}
		sub := &b.Handover.Subject
		pid, err := f.personOf(b.Handover.ID)
		if err != nil {
			return nil, err
		}
		pre, detailsField := state.SubjectAAD(model.HandoverOut, b.Handover.ID, pid)
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
		if m.Kind == model.KindToken {
			body, err := f.tokenIn(&m)
			if err != nil {
				return out[:i], &model.MessageError{Origin: m.Origin, Seq: m.Seq, Kind: m.Kind, Err: err}
			}
			out[i].Body = body
			continue
		}
		if m.Kind != model.KindHandoverOffer {
			continue
		}
		var b state.HandoverOffer
		if err := state.DecodeBody(&m, &b); err != nil {
			return out[:i], &model.MessageError{Origin: m.Origin, Seq: m.Seq, Kind: m.Kind, Err: err}
		}
		sub := &b.Handover.Subject
		if sub.NameSealed != "" || sub.IDSealed != "" || sub.DetailsSealed != "" {
			return out[:i], &model.MessageError{Origin: m.Origin, Seq: m.Seq, Kind: m.Kind,
				Err: errs.Invalid("body.handover.subject", "sealed", "sealed fields cannot be read here; send them open inside TLS")}
		}
		pre, detailsField := state.SubjectAAD(model.HandoverIn, b.Handover.ID, "")
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

package core

import (
	"context"
	"errors"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Receive applies a batch from origin exactly once per message and returns
// the acknowledgement. A message the receiver refuses (a policy violation, a
// malformed body) is dead-lettered with its reason and the rest applied, so
// one bad message never blocks a link. Personal fields are sealed under this
// side's keys first (Incoming).
func (f *Federation) Receive(ctx context.Context, origin string, msgs []model.Message) (model.ReceiveResult, error) {
	var total model.ReceiveResult
	// Skip what already took effect without proposing anything: the inbox
	// position only grows, and apply checks again.
	last, err := f.s.engine.Received(origin)
	if err != nil {
		return total, err
	}
	for len(msgs) > 0 && msgs[0].Seq <= last && msgs[0].Origin == origin {
		msgs, total.Duplicates = msgs[1:], total.Duplicates+1
	}
	if len(msgs) == 0 {
		total.Ack = last
		return total, nil
	}
	for {
		bad, badErr := -1, error(nil)
		batch, err := f.Incoming(msgs)
		var me *model.MessageError
		if errors.As(err, &me) {
			bad, badErr = len(batch), me.Err
		} else if err != nil {
			return total, err
		}
		res, err := applyAs[model.ReceiveResult](ctx, f.s, "exchange.receive", "", state.ReceivePayload{Origin: origin, Messages: batch})
		if errors.As(err, &me) {
			// Everything before the refused message is fine: apply it first.
			if i := slices.IndexFunc(batch, func(m model.Message) bool { return m.Seq == me.Seq }); i >= 0 {
				bad, badErr = i, me.Err
				res, err = applyAs[model.ReceiveResult](ctx, f.s, "exchange.receive", "", state.ReceivePayload{Origin: origin, Messages: batch[:i]})
			}
		}
		if err != nil {
			return total, err
		}
		total.Ack, total.Applied, total.Duplicates = res.Ack, total.Applied+res.Applied, total.Duplicates+res.Duplicates
		if bad < 0 || msgs[bad].Seq != res.Ack+1 {
			return total, nil
		}
		m := msgs[bad]
		if err := f.Refuse(ctx, model.Refusal{Origin: origin, Seq: m.Seq, Kind: m.Kind, Reason: badErr.Error()}); err != nil {
			return total, err
		}
		f.s.log.Warn("exchange message refused", "origin", origin, "seq", m.Seq, "kind", m.Kind, "field", errs.Field(badErr))
		total.Ack = m.Seq
		msgs = msgs[bad+1:]
	}
}

// Refuse records a refused message or request in replicated state and the
// audit chain. With Seq set it dead-letters that message.
func (f *Federation) Refuse(ctx context.Context, r model.Refusal) error {
	_, err := f.s.apply(ctx, "exchange.refuse", "", r)
	return err
}

// Ack trims the outbox for dest up to seq (the receiver's acknowledgement).
func (f *Federation) Ack(ctx context.Context, dest string, seq uint64) error {
	_, err := f.s.apply(ctx, "exchange.ack", "", state.AckPayload{Dest: dest, Seq: seq})
	return err
}

// Pending returns the first limit messages waiting for dest, in order. The
// outbox holds only unacknowledged messages, so this is what to send next.
func (f *Federation) Pending(dest string, limit int) ([]model.Message, error) {
	return f.s.engine.Pending(dest, limit)
}

// Links returns the exchange state of every link.
func (f *Federation) Links() ([]model.LinkState, error) {
	return f.s.engine.Links()
}

// Refusals lists what this jurisdiction refused from origin ("" for all).
func (f *Federation) Refusals(origin string) ([]model.Refusal, error) {
	return f.s.engine.Refusals(origin)
}

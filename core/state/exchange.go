package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// ReceivePayload is the payload of exchange.receive.
type ReceivePayload struct {
	Origin   string          `json:"origin"`
	Messages []model.Message `json:"messages"`
}

// AckPayload is the payload of exchange.ack.
type AckPayload struct {
	Dest string `json:"dest"`
	Seq  uint64 `json:"seq"`
}

func outboxKey(dest string, seq uint64) []byte { return append([]byte(dest+"/"), U64(seq)...) }

// send puts a message for dest in the outbox, after the link's policy: a
// kind the link does not allow is refused and the whole command with it.
func (t *txn) send(c *Command, dest, kind string, body any) error {
	self := t.self()
	if self == "" {
		return errs.Conflict("federation", "unconfigured", "this jurisdiction has no federation configuration")
	}
	l, err := t.link("dest", dest)
	if err != nil {
		return err
	}
	if !l.Allows(kind) {
		return errs.Forbidden("kind", "policy", "the link to %s does not allow %s messages", dest, kind)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	if len(raw) > model.MaxMessageBody {
		return errs.Invalid("body", "size", "%s message is %d bytes, more than %d", kind, len(raw), model.MaxMessageBody)
	}
	if err := t.backpressure(c, dest); err != nil {
		return err
	}
	seq, _ := t.nextSeq("out/" + dest)
	return t.putRecord(bOutbox, outboxKey(dest, seq), model.Message{Origin: self, Dest: dest, Seq: seq, Kind: kind, At: c.At, Body: raw})
}

// backpressure refuses a local send while dest's outbox is full. Sends made
// while applying received messages (a lead relaying case entries) are
// exempt: refusing them would dead-letter what a peer already sent.
func (t *txn) backpressure(c *Command, dest string) error {
	if c.Type == "exchange.receive" {
		return nil
	}
	limit := GetU64(t.b(BucketMeta).Get(metaMaxOutbox))
	if limit == 0 {
		limit = model.DefaultMaxOutbox
	}
	sent := t.seq("out/" + dest)
	if depth := sent - GetU64(t.b(BucketMeta).Get([]byte(metaAcked+dest))); depth >= limit {
		return &errs.FieldError{Kind: errs.ErrUnavailable, Field: "dest", Rule: "backpressure",
			Msg: fmt.Sprintf("%d messages to %s await acknowledgement (limit %d); retry when the link catches up", depth, dest, limit)}
	}
	return nil
}

func applyExchangeReceive(t *txn, c *Command, p *ReceivePayload) (any, error) {
	self := t.self()
	if self == "" {
		return nil, errs.Conflict("federation", "unconfigured", "this jurisdiction has no federation configuration")
	}
	l, err := t.link("origin", p.Origin)
	if err != nil {
		return nil, err
	}
	if len(p.Messages) > model.MaxReceiveBatch {
		return nil, errs.Invalid("messages", "size", "%d messages, more than %d", len(p.Messages), model.MaxReceiveBatch)
	}
	in := t.b(bInbox)
	last := GetU64(in.Get([]byte(p.Origin)))
	res := model.ReceiveResult{}
	for i := range p.Messages {
		m := &p.Messages[i]
		field := "messages[" + strconv.Itoa(i) + "]"
		switch {
		case m.Origin != p.Origin:
			return nil, errs.Forbidden(field+".origin", "forged", "message claims origin %s inside a batch from %s", m.Origin, p.Origin)
		case m.Dest != self:
			return nil, errs.Invalid(field+".dest", "wrong_jurisdiction", "message is for %s, this is %s", m.Dest, self)
		case m.Seq <= last:
			res.Duplicates++
			continue
		case m.Seq != last+1:
			// A gap: something before it was lost or reordered. Stop here;
			// the sender resends from Ack+1.
			res.Ack = last
			if err := in.Put([]byte(p.Origin), U64(last)); err != nil {
				return nil, err
			}
			return res, nil
		}
		if err := t.deliver(c, l, m); err != nil {
			return nil, &model.MessageError{Origin: m.Origin, Seq: m.Seq, Kind: m.Kind, Err: err}
		}
		last = m.Seq
		res.Applied++
	}
	res.Ack = last
	return res, in.Put([]byte(p.Origin), U64(last))
}

func (t *txn) deliver(c *Command, l *model.Link, m *model.Message) error {
	if !l.Allows(m.Kind) {
		return errs.Forbidden("kind", "policy", "the link with %s does not allow %s messages", l.Peer, m.Kind)
	}
	if len(m.Body) > model.MaxMessageBody {
		return errs.Invalid("body", "size", "body is %d bytes, more than %d", len(m.Body), model.MaxMessageBody)
	}
	fn, ok := receivers[m.Kind]
	if !ok {
		return errs.Invalid("kind", "enum", "unknown message kind %q", m.Kind)
	}
	return fn(t, c, l, m)
}

// DecodeBody strictly decodes a message body.
func DecodeBody(m *model.Message, v any) error {
	dec := json.NewDecoder(bytes.NewReader(m.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.Invalid("body", "json", "%s body: %v", m.Kind, err)
	}
	return nil
}

func applyExchangeAck(t *txn, c *Command, p *AckPayload) (any, error) {
	sent := t.seq("out/" + p.Dest)
	if p.Seq > sent {
		return nil, errs.Invalid("seq", "forged", "ack %d from %s is beyond the last message sent (%d)", p.Seq, p.Dest, sent)
	}
	cur := t.b(bOutbox).Cursor()
	prefix := []byte(p.Dest + "/")
	var del [][]byte
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		if GetU64(k[len(prefix):]) > p.Seq {
			break
		}
		del = append(del, append([]byte(nil), k...))
	}
	for _, k := range del {
		if err := t.b(bOutbox).Delete(k); err != nil {
			return nil, err
		}
	}
	if p.Seq > GetU64(t.b(BucketMeta).Get([]byte(metaAcked+p.Dest))) {
		return len(del), t.b(BucketMeta).Put([]byte(metaAcked+p.Dest), U64(p.Seq))
	}
	return len(del), nil
}

func applyExchangeRefuse(t *txn, c *Command, p *model.Refusal) (any, error) {
	if p.Reason == "" {
		return nil, errs.Invalid("reason", "required", "a refusal needs a reason")
	}
	p.At = c.At
	key := []byte(p.Origin + "/" + c.ID)
	if p.Seq > 0 {
		// Dead-letter: the message is consumed so the link moves on.
		in := t.b(bInbox)
		last := GetU64(in.Get([]byte(p.Origin)))
		if p.Seq != last+1 {
			return nil, errs.Conflict("seq", "not_next", "message %d from %s is not the next one (%d)", p.Seq, p.Origin, last+1)
		}
		if err := in.Put([]byte(p.Origin), U64(p.Seq)); err != nil {
			return nil, err
		}
		key = append([]byte(p.Origin+"/"), U64(p.Seq)...)
	}
	return nil, t.putRecord(bRefused, key, p)
}

// Pending returns the first limit messages waiting for dest, in order. The
// outbox holds only unacknowledged messages, so this is what to send next.
func (eng *Engine) Pending(dest string, limit int) ([]model.Message, error) {
	var out []model.Message
	err := eng.View(func(tx *bbolt.Tx) (err error) {
		out, err = prefixValues[model.Message](tx, bOutbox, []byte(dest+"/"), limit, nil)
		return err
	})
	return out, err
}

// Links returns the exchange state of every link.
func (eng *Engine) Links() ([]model.LinkState, error) {
	var out []model.LinkState
	err := eng.View(func(tx *bbolt.Tx) error {
		links, err := prefixValues[model.Link](tx, bLink, nil, 0, nil)
		if err != nil {
			return err
		}
		meta := tx.Bucket(BucketMeta)
		for _, l := range links {
			prefix := []byte(l.Peer + "/")
			st := model.LinkState{Link: l, Sent: GetU64(meta.Get([]byte(metaSeq + "out/" + l.Peer))), Acked: GetU64(meta.Get([]byte(metaAcked + l.Peer))),
				Received: GetU64(tx.Bucket(bInbox).Get([]byte(l.Peer)))}
			st.Depth = st.Sent - st.Acked
			oldest, err := prefixValues[model.Message](tx, bOutbox, prefix, 1, nil)
			if err != nil {
				return err
			}
			if len(oldest) == 1 {
				st.Oldest = oldest[0].At
			}
			c := tx.Bucket(bRefused).Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				st.Refused++
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

// Refusals lists what this jurisdiction refused from origin ("" for all).
func (eng *Engine) Refusals(origin string) ([]model.Refusal, error) {
	var pre []byte
	if origin != "" {
		pre = []byte(origin + "/")
	}
	var out []model.Refusal
	err := eng.View(func(tx *bbolt.Tx) (err error) {
		out, err = prefixValues[model.Refusal](tx, bRefused, pre, 0, nil)
		return err
	})
	return out, err
}

// Received is the last sequence applied from origin.
func (eng *Engine) Received(origin string) (uint64, error) {
	var last uint64
	err := eng.View(func(tx *bbolt.Tx) error {
		last = GetU64(tx.Bucket(bInbox).Get([]byte(origin)))
		return nil
	})
	return last, err
}

package state

import (
	"bytes"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// WebhookLogKeep is how many deliveries the log keeps per webhook.
const WebhookLogKeep = 1000

func applyWebhookPut(t *txn, c *Command, h *model.Webhook) (any, error) {
	if err := placeIn(c, "under", h.Under); err != nil {
		return nil, err
	}
	if t.b(bJur).Get([]byte(h.Under)) == nil {
		return nil, errs.NotFound("under", "jurisdiction %s not found", h.Under)
	}
	var old model.Webhook
	exists, err := t.getRecord(bWebhook, []byte(h.ID), &old)
	if err != nil {
		return nil, err
	}
	if exists && hidden(c, old.Under) {
		return nil, unavailable("id", h.ID)
	}
	if exists && h.SecretSealed == "" {
		h.SecretSealed = old.SecretSealed // an update keeps the secret
	}
	h.CreatedBy, h.CreatedAt = c.Actor, c.At
	if exists {
		h.CreatedBy, h.CreatedAt = old.CreatedBy, old.CreatedAt
	} else if err := t.b(bChangeCursor).Put([]byte(WebhookConsumer(h.ID)), U64(t.seq(seqChange))); err != nil {
		return nil, err // a new webhook hears what happens from now on
	}
	return h, t.putRecord(bWebhook, []byte(h.ID), h)
}

// WebhookDeletePayload is the payload of webhook.delete.
type WebhookDeletePayload struct {
	ID string `json:"id"`
}

func applyWebhookDelete(t *txn, c *Command, p *WebhookDeletePayload) (any, error) {
	if _, err := loadIn(t, c, bWebhook, p.ID, "id", "webhook", func(h *model.Webhook) string { return h.Under }); err != nil {
		return nil, err
	}
	if err := t.b(bWebhook).Delete([]byte(p.ID)); err != nil {
		return nil, err
	}
	return nil, t.b(bChangeCursor).Delete([]byte(WebhookConsumer(p.ID)))
}

// WebhookConsumer is the change-feed cursor a webhook's deliveries follow.
func WebhookConsumer(id string) string { return "webhook:" + id }

// applyWebhookDelivered logs one delivery and moves the webhook's cursor
// past it, in one command: a new leader resumes after the last change
// delivered or given up, so none is lost and none sent twice but the one
// in flight at a failover (the delivery id lets a receiver drop it).
func applyWebhookDelivered(t *txn, c *Command, d *model.Delivery) (any, error) {
	if t.b(bWebhook).Get([]byte(d.Webhook)) == nil {
		return nil, errs.NotFound("webhook", "webhook %s not found", d.Webhook)
	}
	if d.Status != model.Delivered && d.Status != model.Failed {
		return nil, errs.Invalid("status", "enum", "status is delivered or failed")
	}
	if _, err := applyChangeAck(t, c, &ChangeAckPayload{Consumer: WebhookConsumer(d.Webhook), Seq: d.Seq}); err != nil {
		return nil, err
	}
	pre := []byte(d.Webhook + "/")
	if err := t.putRecord(bWebhookLog, append(pre, U64(d.Seq)...), d); err != nil {
		return nil, err
	}
	// Keep the newest WebhookLogKeep.
	cur := t.b(bWebhookLog).Cursor()
	n := 0
	for k, _ := cur.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, _ = cur.Next() {
		n++
	}
	for k, _ := cur.Seek(pre); n > WebhookLogKeep && k != nil && bytes.HasPrefix(k, pre); k, _ = cur.Seek(pre) {
		if err := t.b(bWebhookLog).Delete(k); err != nil {
			return nil, err
		}
		n--
	}
	return d, nil
}

// Webhooks lists every webhook.
func (eng *Engine) Webhooks() ([]model.Webhook, error) {
	var out []model.Webhook
	err := eng.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bWebhook).ForEach(func(_, v []byte) error {
			var h model.Webhook
			if err := decodeRecord(v, &h); err != nil {
				return err
			}
			out = append(out, h)
			return nil
		})
	})
	return out, err
}

// Webhook returns one webhook.
func (eng *Engine) Webhook(id string) (*model.Webhook, error) {
	var h model.Webhook
	err := eng.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bWebhook).Get([]byte(id))
		if raw == nil {
			return errs.NotFound("id", "webhook %s not found", id)
		}
		return decodeRecord(raw, &h)
	})
	return &h, err
}

// WebhookLog pages through a webhook's deliveries, newest last.
func (eng *Engine) WebhookLog(id, after string, limit int) ([]model.Delivery, string, error) {
	return valuesPage[model.Delivery](eng, bWebhookLog, []byte(id+"/"), after, PageLimit(limit, 100, 1000))
}

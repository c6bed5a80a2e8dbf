package core

import (
	"context"
	"slices"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Webhooks is the typed API for the group's webhooks and their delivery
// log; node/webhooks delivers on the leader.
type Webhooks struct{ s *Store }

// WebhookSpec describes a webhook to create or replace. Secret, if set,
// signs deliveries (钉钉 robots give one); a new webhook of format json
// without one gets a fresh secret, answered once.
type WebhookSpec struct {
	ID       string
	Name     string
	URL      string
	Events   []string
	Format   string
	Under    string
	Secret   string
	Disabled bool
}

func webhookAD(id string) string { return "webhook/" + id + "/secret" }

// Put creates or replaces a webhook and answers the secret it signs with
// when one was made or given now ("" when it keeps its old one).
func (ws *Webhooks) Put(ctx context.Context, spec WebhookSpec) (*model.Webhook, string, error) {
	if spec.ID == "" {
		spec.ID = "wh-" + NewID()[:12]
	}
	h := model.Webhook{ID: spec.ID, Name: spec.Name, URL: spec.URL, Events: slices.Compact(slices.Sorted(slices.Values(spec.Events))),
		Format: spec.Format, Under: spec.Under, Disabled: spec.Disabled}
	if err := model.CheckWebhook(&h); err != nil {
		return nil, "", err
	}
	secret := spec.Secret
	if _, err := ws.s.engine.Webhook(h.ID); err != nil && secret == "" && h.Format == model.FormatJSON {
		secret = state.NewSecret()
	}
	if secret != "" {
		sealed, err := ws.s.keyring().Seal([]byte(secret), webhookAD(h.ID))
		if err != nil {
			return nil, "", err
		}
		h.SecretSealed = sealed
	}
	out, err := applyAs[*model.Webhook](ctx, ws.s, "webhook.put", h.Under, h)
	return out, secret, err
}

// Delete removes a webhook and its cursor; its log stays until pruned.
func (ws *Webhooks) Delete(ctx context.Context, id string) error {
	_, err := ws.s.apply(ctx, "webhook.delete", "", state.WebhookDeletePayload{ID: id})
	return err
}

// List returns the webhooks under a jurisdiction ("" for all).
func (ws *Webhooks) List(under string) ([]model.Webhook, error) {
	all, err := ws.s.engine.Webhooks()
	if err != nil || under == "" {
		return all, err
	}
	return slices.DeleteFunc(all, func(h model.Webhook) bool { return !state.IsUnder(h.Under, under) }), nil
}

// Get returns one webhook.
func (ws *Webhooks) Get(id string) (*model.Webhook, error) { return ws.s.engine.Webhook(id) }

// Secret opens the secret a webhook signs with ("" for none).
func (ws *Webhooks) Secret(h *model.Webhook) (string, error) {
	if h.SecretSealed == "" {
		return "", nil
	}
	b, err := ws.s.keyring().Open(h.SecretSealed, webhookAD(h.ID))
	return string(b), err
}

// Delivered logs a delivery and moves the webhook's cursor past it.
func (ws *Webhooks) Delivered(ctx context.Context, d model.Delivery) error {
	_, err := ws.s.apply(withoutKey(ctx), "webhook.delivered", "", d)
	return err
}

// Log pages through a webhook's deliveries, oldest first.
func (ws *Webhooks) Log(id, after string, limit int) ([]model.Delivery, string, error) {
	return ws.s.engine.WebhookLog(id, after, limit)
}

package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// webhookView is a webhook as its administrators see it: never its
// secret, and the URL without the values of its query (a robot's key).
type webhookView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Format    string    `json:"format"`
	Under     string    `json:"under"`
	Signed    bool      `json:"signed"`
	Disabled  bool      `json:"disabled,omitempty"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

func viewWebhook(h *model.Webhook) webhookView {
	return webhookView{ID: h.ID, Name: h.Name, URL: maskQuery(h.URL), Events: h.Events, Format: h.Format, Under: h.Under,
		Signed: h.SecretSealed != "", Disabled: h.Disabled, CreatedBy: h.CreatedBy, CreatedAt: h.CreatedAt}
}

// maskQuery hides the values of a URL's query.
func maskQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return raw
	}
	q := u.Query()
	for k := range q {
		q.Set(k, "…")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// webhookRequest creates or replaces a webhook.
type webhookRequest struct {
	ID       string   `json:"id,omitempty"`
	Name     string   `json:"name"`
	URL      string   `json:"url"`
	Events   []string `json:"events"`
	Format   string   `json:"format,omitempty"` // default json
	Under    string   `json:"under,omitempty"`  // default the caller's scope
	Secret   string   `json:"secret,omitempty"` // a robot's, or your own
	Disabled bool     `json:"disabled,omitempty"`
}

// issuedWebhookView answers a new webhook with its secret, shown once.
type issuedWebhookView struct {
	Webhook webhookView `json:"webhook"`
	Secret  string      `json:"secret,omitempty"`
}

type webhooksView struct {
	Webhooks []webhookView `json:"webhooks"`
}

type deliveriesPage struct {
	Deliveries []model.Delivery `json:"deliveries"`
	Next       string           `json:"next"`
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	hooks, err := s.b.Store().Webhooks.List(tokenOf(r.Context()).Scope)
	if err != nil {
		return err
	}
	out := webhooksView{Webhooks: []webhookView{}}
	for i := range hooks {
		out.Webhooks = append(out.Webhooks, viewWebhook(&hooks[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) putWebhook(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	var in webhookRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Format == "" {
		in.Format = model.FormatJSON
	}
	if in.Under == "" {
		in.Under = tk.Scope
	}
	under, err := s.resolveIn(tk, in.Under, "under")
	if err != nil {
		return err
	}
	if in.ID != "" {
		if old, err := s.b.Store().Webhooks.Get(in.ID); err == nil && !tk.Covers(old.Under) {
			return errs.Conflict("id", "unavailable", "id %q cannot be used here; choose another", in.ID)
		}
	}
	h, secret, err := s.b.Store().Webhooks.Put(r.Context(), core.WebhookSpec{ID: in.ID, Name: in.Name, URL: in.URL, Events: in.Events,
		Format: in.Format, Under: under, Secret: in.Secret, Disabled: in.Disabled})
	if err != nil {
		return err
	}
	if in.Secret != "" {
		secret = "" // the caller has it
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+h.ID+"/deliveries")
	writeJSON(w, http.StatusCreated, issuedWebhookView{Webhook: viewWebhook(h), Secret: secret})
	return nil
}

// scopedWebhook loads the path's webhook; one outside the caller's scope
// answers as no webhook.
func (s *Server) scopedWebhook(r *http.Request) (*model.Webhook, error) {
	id := r.PathValue("id")
	h, err := s.b.Store().Webhooks.Get(id)
	if err != nil {
		return nil, err
	}
	return h, inScope(tokenOf(r.Context()), h.Under, "id", "webhook", id)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	h, err := s.scopedWebhook(r)
	if err != nil {
		return err
	}
	if err := s.b.Store().Webhooks.Delete(r.Context(), h.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := pageParams(r, "webhookDeliveries")
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	h, err := s.scopedWebhook(r)
	if err != nil {
		return err
	}
	log, next, err := s.b.Store().Webhooks.Log(h.ID, cursor, limit)
	if err != nil {
		return err
	}
	if log == nil {
		log = []model.Delivery{}
	}
	writeJSON(w, http.StatusOK, deliveriesPage{Deliveries: log, Next: next})
	return nil
}

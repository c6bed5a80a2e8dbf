package core

import (
	"context"

	"github.com/fengqiao/fengqiao/core/model"
)

// Federation is the typed API for this jurisdiction's place in the
// federation: its links, outbox and inbox.
type Federation struct{ s *Store }

// Configure sets this group's jurisdiction and links (the node does it from
// its config file when it becomes leader). Unknown kinds or fields are errors.
func (f *Federation) Configure(ctx context.Context, cfg model.FederationConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	_, err := f.s.apply(ctx, "federation.configure", "", cfg)
	return err
}

// Config returns the replicated configuration (Self is "" before Configure).
func (f *Federation) Config() (model.FederationConfig, error) {
	return f.s.engine.FederationConfig()
}

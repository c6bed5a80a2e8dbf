package node

import (
	"context"
	"log/slog"
	"sync"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/federation/replica"
	"github.com/fengqiao/fengqiao/node/webhooks"
)

// runWebhooks delivers the group's webhooks while this replica leads.
func runWebhooks(ctx context.Context, wg *sync.WaitGroup, r *replica.Replica, store *core.Store, log *slog.Logger) {
	d := webhooks.New(webhooks.Options{Store: store, Logger: log.With("component", "webhooks")})
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.WhileLeader(ctx, d.Run)
	}()
}

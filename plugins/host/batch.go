package host

import (
	"context"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
)

// Report hooks of concurrent callers go to a plugin together: a call that
// finds the plugin idle goes at once, alone; the calls that arrive while
// it is in flight go next, in one batch (as a group commit packs writes).
// A busy intake then pays one round trip per batch instead of one per
// report, and an idle one pays no added wait.

// maxBatch bounds one batch call.
const maxBatch = 256

// batcher packs concurrent requests of one hook into batch calls.
type batcher[Q, A any] struct {
	send func(qs []Q) ([]A, error) // one call for the batch, answers in order

	mu      sync.Mutex
	queue   []*waiting[Q, A]
	running int // batch calls in flight
}

// maxInFlight is how many batch calls of one hook may be in flight: a
// second one keeps a busy plugin's queue from waiting a whole round trip.
const maxInFlight = 2

type waiting[Q, A any] struct {
	q    Q
	a    A
	err  error
	done chan struct{}
}

// do queues q and waits for its answer, or for ctx to end (the batch goes
// on without this caller).
func (b *batcher[Q, A]) do(ctx context.Context, q Q) (A, error) {
	w := &waiting[Q, A]{q: q, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, w)
	if b.running < maxInFlight {
		b.running++
		go b.loop()
	}
	b.mu.Unlock()
	select {
	case <-w.done:
		return w.a, w.err
	case <-ctx.Done():
		var zero A
		return zero, ctx.Err()
	}
}

func (b *batcher[Q, A]) loop() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), maxBatch)
		if n == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		batch := append([]*waiting[Q, A](nil), b.queue[:n]...)
		b.queue = b.queue[n:]
		b.mu.Unlock()
		qs := make([]Q, n)
		for i, w := range batch {
			qs[i] = w.q
		}
		as, err := b.send(qs)
		for i, w := range batch {
			if err != nil {
				w.err = err
			} else {
				w.a = as[i]
			}
			close(w.done)
		}
	}
}

// batched builds the send of a batcher: one request goes by the single
// RPC; more by the batch RPC, or one by one when the plugin does not serve
// it (an SDK from before batches). Each call has the plugin's deadline.
func batched[Q, A any](p *Plugin, single func(context.Context, Q) (A, error), many func(context.Context, []Q) ([]A, error)) func([]Q) ([]A, error) {
	return func(qs []Q) ([]A, error) {
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.CallTimeout)
		defer cancel()
		if len(qs) > 1 && !p.noBatch.Load() {
			as, err := many(ctx, qs)
			switch {
			case status.Code(err) == codes.Unimplemented:
				p.noBatch.Store(true)
			case err != nil:
				return nil, err
			case len(as) != len(qs):
				return nil, bad(p.cfg.Name, "a batch of %d answered with %d", len(qs), len(as))
			default:
				return as, nil
			}
		}
		as := make([]A, len(qs))
		for i, q := range qs {
			a, err := single(ctx, q)
			if err != nil {
				return nil, err
			}
			as[i] = a
		}
		return as, nil
	}
}

// hookBatchers are a plugin's batchers, one per report hook.
type hookBatchers struct {
	validate batcher[*pluginv1.ValidateEventRequest, *pluginv1.ValidateEventResponse]
	enrich   batcher[*pluginv1.EnrichEventRequest, *pluginv1.EnrichEventResponse]
	route    batcher[*pluginv1.RouteEventRequest, *pluginv1.RouteEventResponse]
}

func (p *Plugin) initBatchers() {
	svc := p.svc
	p.batch.validate.send = batched(p,
		func(ctx context.Context, q *pluginv1.ValidateEventRequest) (*pluginv1.ValidateEventResponse, error) {
			return svc.ValidateEvent(ctx, q)
		},
		func(ctx context.Context, qs []*pluginv1.ValidateEventRequest) ([]*pluginv1.ValidateEventResponse, error) {
			out, err := svc.ValidateEvents(ctx, &pluginv1.ValidateEventsRequest{Requests: qs})
			return out.GetResponses(), err
		})
	p.batch.enrich.send = batched(p,
		func(ctx context.Context, q *pluginv1.EnrichEventRequest) (*pluginv1.EnrichEventResponse, error) {
			return svc.EnrichEvent(ctx, q)
		},
		func(ctx context.Context, qs []*pluginv1.EnrichEventRequest) ([]*pluginv1.EnrichEventResponse, error) {
			out, err := svc.EnrichEvents(ctx, &pluginv1.EnrichEventsRequest{Requests: qs})
			return out.GetResponses(), err
		})
	p.batch.route.send = batched(p,
		func(ctx context.Context, q *pluginv1.RouteEventRequest) (*pluginv1.RouteEventResponse, error) {
			return svc.RouteEvent(ctx, q)
		},
		func(ctx context.Context, qs []*pluginv1.RouteEventRequest) ([]*pluginv1.RouteEventResponse, error) {
			out, err := svc.RouteEvents(ctx, &pluginv1.RouteEventsRequest{Requests: qs})
			return out.GetResponses(), err
		})
}

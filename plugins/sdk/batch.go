package sdk

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
)

// The batch hooks answer each request of a batch as its single hook
// would, in order, spread over the plugin's processors; one that fails
// fails the batch.

// each answers every request with fn, concurrently, in order.
func each[Q, A any](ctx context.Context, qs []Q, fn func(context.Context, Q) (A, error)) ([]A, error) {
	out := make([]A, len(qs))
	workers := min(runtime.GOMAXPROCS(0), len(qs))
	var next atomic.Int64
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(qs) && first.Load() == nil; i = int(next.Add(1)) - 1 {
				a, err := fn(ctx, qs[i])
				if err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
				out[i] = a
			}
		})
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return nil, *err
	}
	return out, nil
}

func (s *server) ValidateEvents(ctx context.Context, req *pluginv1.ValidateEventsRequest) (*pluginv1.ValidateEventsResponse, error) {
	out, err := each(ctx, req.Requests, s.ValidateEvent)
	return &pluginv1.ValidateEventsResponse{Responses: out}, err
}

func (s *server) EnrichEvents(ctx context.Context, req *pluginv1.EnrichEventsRequest) (*pluginv1.EnrichEventsResponse, error) {
	out, err := each(ctx, req.Requests, s.EnrichEvent)
	return &pluginv1.EnrichEventsResponse{Responses: out}, err
}

func (s *server) RouteEvents(ctx context.Context, req *pluginv1.RouteEventsRequest) (*pluginv1.RouteEventsResponse, error) {
	out, err := each(ctx, req.Requests, s.RouteEvent)
	return &pluginv1.RouteEventsResponse{Responses: out}, err
}

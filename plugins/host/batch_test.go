package host

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Concurrent calls go together, each caller gets its own answer, an idle
// call goes alone at once, and a failed batch fails each of its callers.
func TestBatcherPacksConcurrentCalls(t *testing.T) {
	var calls, biggest atomic.Int64
	gate := make(chan struct{})
	b := &batcher[int, int]{send: func(qs []int) ([]int, error) {
		calls.Add(1)
		<-gate // the calls in flight wait while the rest queue
		if int64(len(qs)) > biggest.Load() {
			biggest.Store(int64(len(qs)))
		}
		out := make([]int, len(qs))
		for i, q := range qs {
			if q < 0 {
				return nil, errors.New("refused")
			}
			out[i] = q * 10
		}
		return out, nil
	}}
	first := make(chan int)
	go func() { a, _ := b.do(context.Background(), 1); first <- a }()
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan int)
	go func() { a, _ := b.do(context.Background(), 2); second <- a }()
	for calls.Load() < maxInFlight {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			a, err := b.do(context.Background(), i)
			if err != nil || a != i*10 {
				t.Errorf("caller %d got %d, %v", i, a, err)
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // let them queue behind the first call
	close(gate)
	wg.Wait()
	if a, b := <-first, <-second; a != 10 || b != 20 {
		t.Fatalf("the first callers got %d and %d", a, b)
	}
	if calls.Load() > maxInFlight+2 || biggest.Load() < 2 {
		t.Fatalf("%d calls for 100 concurrent callers (largest batch %d)", calls.Load(), biggest.Load())
	}
	if _, err := b.do(context.Background(), -1); err == nil {
		t.Fatal("a refused batch answered")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	slow := &batcher[int, int]{send: func(qs []int) ([]int, error) { time.Sleep(50 * time.Millisecond); return qs, nil }}
	if _, err := slow.do(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a caller whose context ends: %v", err)
	}
}

// A plugin without the batch hooks is called one report at a time.
func TestBatchedFallsBackToSingleCalls(t *testing.T) {
	p := &Plugin{cfg: Config{Name: "old", CallTimeout: time.Second}}
	var singles, manys atomic.Int64
	send := batched(p, func(_ context.Context, q int) (int, error) { singles.Add(1); return q + 1, nil },
		func(context.Context, []int) ([]int, error) {
			manys.Add(1)
			return nil, status.Error(codes.Unimplemented, "no batches")
		})
	out, err := send([]int{1, 2, 3})
	if err != nil || len(out) != 3 || out[2] != 4 || singles.Load() != 3 || !p.noBatch.Load() {
		t.Fatalf("fallback: %v %v singles %d", out, err, singles.Load())
	}
	send([]int{5, 6})
	if manys.Load() != 1 {
		t.Fatalf("the batch RPC was tried %d times after it was found missing", manys.Load())
	}
	short := batched(&Plugin{cfg: Config{Name: "odd", CallTimeout: time.Second}}, func(_ context.Context, q int) (int, error) { return q, nil },
		func(context.Context, []int) ([]int, error) { return []int{1}, nil })
	if _, err := short([]int{1, 2}); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("a batch answered short: %v", err)
	}
}

package replica

import (
	"container/heap"
	"context"
	"sync"

	"github.com/fengqiao/fengqiao/core/state"
)

// resultRing is how many recent results a follower keeps while it has
// forwarded proposals in flight; far more than can apply between the
// leader's answer and the follower's own apply.
const resultRing = 1 << 14

// tracker follows what this replica's FSM has applied, so a follower that
// forwarded a proposal can wait for its own apply of the entry and take the
// result from it. Apply is deterministic, so that result is the one the
// leader computed, and the caller can read its write on this replica at once.
type tracker struct {
	mu      sync.Mutex
	applied uint64
	waiters waitHeap
	holds   int // forwarded proposals in flight: keep results meanwhile
	ring    [resultRing]struct {
		index uint64
		res   []state.Result // one per command of the entry
	}
}

type waiter struct {
	index uint64
	done  chan struct{}
}

type waitHeap []waiter

func (h waitHeap) Len() int           { return len(h) }
func (h waitHeap) Less(i, j int) bool { return h[i].index < h[j].index }
func (h waitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *waitHeap) Push(x any)        { *h = append(*h, x.(waiter)) }
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	*h = old[:len(old)-1]
	return w
}

// hold keeps results until release: call it before the proposal leaves, so
// its apply here cannot come before the result is kept.
func (t *tracker) hold() {
	t.mu.Lock()
	t.holds++
	t.mu.Unlock()
}

func (t *tracker) release() {
	t.mu.Lock()
	t.holds--
	t.mu.Unlock()
}

// advance records a batch the FSM applied (each span's results in res)
// and wakes whoever waits for it.
func (t *tracker) advance(spans []span, res []state.Result, last uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.holds > 0 {
		for _, s := range spans {
			slot := &t.ring[s.index%resultRing]
			slot.index, slot.res = s.index, res[s.from:s.from+s.n]
		}
	}
	t.setApplied(last)
}

// restored records a snapshot install: results before it are gone.
func (t *tracker) restored(last uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.setApplied(last)
}

func (t *tracker) setApplied(last uint64) {
	if last > t.applied {
		t.applied = last
	}
	for t.waiters.Len() > 0 && t.waiters[0].index <= t.applied {
		close(heap.Pop(&t.waiters).(waiter).done)
	}
}

// wait returns once the FSM has applied index.
func (t *tracker) wait(ctx context.Context, index uint64) error {
	t.mu.Lock()
	if t.applied >= index {
		t.mu.Unlock()
		return nil
	}
	w := waiter{index: index, done: make(chan struct{})}
	heap.Push(&t.waiters, w)
	t.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err() // the waiter stays in the heap until the index applies
	}
}

// result is the kept result of a command of an applied entry, if it is
// still kept.
func (t *tracker) result(p position) (state.Result, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	slot := &t.ring[p.index%resultRing]
	if slot.index != p.index || p.index > t.applied || p.sub < 0 || p.sub >= len(slot.res) {
		return state.Result{}, false
	}
	return slot.res[p.sub], true
}

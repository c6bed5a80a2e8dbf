package exchange

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
)

// Faults describes what a Faulty transport does to traffic.
type Faults struct {
	DropRequest  float64       // lose the batch before it arrives
	DropResponse float64       // deliver it but lose the acknowledgement
	Duplicate    float64       // deliver it twice (the copy a little later)
	Reorder      float64       // hold it back and deliver it late, after newer traffic
	MaxDelay     time.Duration // delay every delivery by up to this
}

// ErrInjected is the error a Faulty transport reports for a fault.
var ErrInjected = errors.New("exchange: injected fault")

// Faulty wraps a transport with injected faults and partitions, for tests
// and chaos runs.
type Faulty struct {
	Inner Transport
	mu    sync.Mutex
	f     Faults
	cut   map[string]bool // dest → partitioned
	wg    sync.WaitGroup
	seed  *rand.Rand

	Delivered, Dropped, Duplicated, Reordered atomic.Int64
}

// NewFaulty wraps inner.
func NewFaulty(inner Transport, f Faults, seed uint64) *Faulty {
	return &Faulty{Inner: inner, f: f, cut: map[string]bool{}, seed: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// SetFaults changes the fault mix.
func (t *Faulty) SetFaults(f Faults) { t.mu.Lock(); t.f = f; t.mu.Unlock() }

// Partition cuts (or heals) every path to dest.
func (t *Faulty) Partition(dest string, cut bool) { t.mu.Lock(); t.cut[dest] = cut; t.mu.Unlock() }

// Wait waits for held-back deliveries to finish.
func (t *Faulty) Wait() { t.wg.Wait() }

// roll returns the fault mix and five independent draws, one per decision.
func (t *Faulty) roll() (Faults, [5]float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var r [5]float64
	for i := range r {
		r[i] = t.seed.Float64()
	}
	return t.f, r
}

// Send delivers b to dest, perhaps not, twice, late or out of order.
func (t *Faulty) Send(ctx context.Context, dest string, b Batch) (model.ReceiveResult, error) {
	t.mu.Lock()
	cut := t.cut[dest] || t.cut[b.Origin]
	t.mu.Unlock()
	if cut {
		t.Dropped.Add(1)
		return model.ReceiveResult{}, ErrInjected
	}
	f, r := t.roll()
	if f.MaxDelay > 0 {
		sleep(ctx, time.Duration(r[4]*float64(f.MaxDelay)))
	}
	switch {
	case r[0] < f.DropRequest:
		t.Dropped.Add(1)
		return model.ReceiveResult{}, ErrInjected
	case r[1] < f.Reorder:
		// Deliver late, in the background, after the sender has moved on.
		t.Reordered.Add(1)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			time.Sleep(time.Duration(20+r[4]*200) * time.Millisecond)
			t.Inner.Send(context.Background(), dest, b)
		}()
		return model.ReceiveResult{}, ErrInjected
	}
	res, err := t.Inner.Send(ctx, dest, b)
	t.Delivered.Add(1)
	if r[2] < f.Duplicate {
		t.Duplicated.Add(1)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			time.Sleep(time.Duration(r[4]*50) * time.Millisecond)
			t.Inner.Send(context.Background(), dest, b)
		}()
	}
	if err == nil && r[3] < f.DropResponse {
		t.Dropped.Add(1)
		return model.ReceiveResult{}, ErrInjected
	}
	return res, err
}

// Direct delivers in process to receivers registered by jurisdiction,
// trying each replica until one (the leader) takes the batch.
type Direct struct {
	mu  sync.RWMutex
	rcv map[string][]*Receiver
}

// NewDirect returns an empty in-process transport.
func NewDirect() *Direct { return &Direct{rcv: map[string][]*Receiver{}} }

// Register adds a replica's receiver for jurisdiction code.
func (d *Direct) Register(code string, r *Receiver) {
	d.mu.Lock()
	d.rcv[code] = append(d.rcv[code], r)
	d.mu.Unlock()
}

// Unregister removes a replica's receiver (it was stopped).
func (d *Direct) Unregister(code string, r *Receiver) {
	d.mu.Lock()
	defer d.mu.Unlock()
	list := d.rcv[code]
	for i, x := range list {
		if x == r {
			d.rcv[code] = append(list[:i:i], list[i+1:]...)
			return
		}
	}
}

// Send implements Transport.
func (d *Direct) Send(ctx context.Context, dest string, b Batch) (model.ReceiveResult, error) {
	d.mu.RLock()
	list := append([]*Receiver(nil), d.rcv[dest]...)
	d.mu.RUnlock()
	err := errors.New("exchange: no receiver for " + dest)
	for _, r := range list {
		var res model.ReceiveResult
		if res, err = r.Receive(ctx, b); err == nil {
			return res, nil
		}
	}
	return model.ReceiveResult{}, err
}

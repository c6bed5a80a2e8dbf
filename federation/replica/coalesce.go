package replica

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fengqiao/fengqiao/core/state"

	"github.com/hashicorp/raft"
)

// The coalescer packs the commands of concurrent proposals into few Raft
// entries (EncodeBatch): at most inFlight entries are between Apply
// and their results, and callers who arrive meanwhile share the next one.
// Raft then stores, ships, commits and tracks one entry where it would
// handle hundreds, and the FSM still applies, isolates and audits every
// command on its own. A lone caller never waits for company: with a slot
// free, its entry leaves at once.
const (
	inFlight = 4
	// An entry holds at most this many commands and bytes: Raft counts
	// entries, not commands, for snapshots and the log it keeps after one
	// (TrailingLogs), so entries stay modest.
	maxEntryCommands = 512
	maxEntryBytes    = 1 << 20
)

// errCoalescerClosed is what a proposal queued while the replica closes
// gets; nothing of it reached Raft.
var errCoalescerClosed = errors.New("replica: closing")

// position is where a command landed: its entry's log index and its place
// in the entry.
type position struct {
	index uint64
	sub   int
}

type pending struct {
	data [][]byte
	size int         // bytes in data
	out  chan answer // buffered: the coalescer never waits for a caller
}

type answer struct {
	pos []position
	res []state.Result // the leader's results, in data's order
	err error          // set: the outcome is unknown (unless errCoalescerClosed)
}

type coalescer struct {
	r       *raft.Raft
	timeout time.Duration
	reqs    chan *pending
	slots   chan struct{}
	quit    chan struct{}
	done    chan struct{}
	down    chan struct{} // closed once Raft has shut down (raftDown)
	downing sync.Once
	wg      sync.WaitGroup // entries in flight
	mu      sync.RWMutex
	closed  bool
}

func newCoalescer(r *raft.Raft, timeout time.Duration) *coalescer {
	c := &coalescer{r: r, timeout: timeout, reqs: make(chan *pending, 1024), slots: make(chan struct{}, inFlight),
		quit: make(chan struct{}), done: make(chan struct{}), down: make(chan struct{})}
	go c.loop()
	return c
}

// submit queues data for the next entry. The answer comes on the returned
// channel; ctx only bounds the wait to be queued.
func (c *coalescer) submit(ctx context.Context, data [][]byte) (<-chan answer, error) {
	p := &pending{data: data, size: dataSize(data), out: make(chan answer, 1)}
	// Shared with other senders; close takes it alone, so nothing is
	// queued after the loop has refused what was queued.
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, errCoalescerClosed
	}
	select {
	case c.reqs <- p:
		return p.out, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *coalescer) loop() {
	defer close(c.done)
	var carry *pending // did not fit the last entry: it opens the next
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-c.reqs:
			case <-c.quit:
				c.refuseQueued(nil)
				return
			}
		}
		// Wait for a slot; whoever arrives meanwhile joins this entry.
		select {
		case c.slots <- struct{}{}:
		case <-c.quit:
			c.refuseQueued(first)
			return
		}
		batch, n, size := []*pending{first}, len(first.data), first.size
	gather:
		for {
			select {
			case p := <-c.reqs:
				if n+len(p.data) > maxEntryCommands || size+p.size > maxEntryBytes {
					carry = p
					break gather
				}
				batch, n, size = append(batch, p), n+len(p.data), size+p.size
			default:
				break gather
			}
		}
		c.propose(batch, n)
	}
}

func dataSize(data [][]byte) int {
	n := 0
	for _, d := range data {
		n += len(d)
	}
	return n
}

// propose sends one entry for batch (holding a slot) and answers its
// callers when Raft has applied it.
func (c *coalescer) propose(batch []*pending, n int) {
	cmds := make([][]byte, 0, n)
	for _, p := range batch {
		cmds = append(cmds, p.data...)
	}
	entry := cmds[0]
	if len(cmds) > 1 {
		entry = EncodeBatch(cmds)
	}
	f := c.r.Apply(entry, c.timeout)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		res, err := c.wait(f, len(cmds))
		<-c.slots
		off := 0
		for _, p := range batch {
			a := answer{err: err}
			if err == nil {
				a.res = res[off : off+len(p.data)]
				a.pos = make([]position, len(p.data))
				for i := range a.pos {
					a.pos[i] = position{index: f.Index(), sub: off + i}
				}
			}
			off += len(p.data)
			p.out <- a
		}
	}()
}

func (c *coalescer) wait(f raft.ApplyFuture, n int) ([]state.Result, error) {
	if err := waitFuture(f, c.timeout, c.down); err != nil {
		return nil, err
	}
	var res []state.Result
	switch v := f.Response().(type) {
	case state.Result:
		res = []state.Result{v}
	case []state.Result:
		res = v
	}
	if len(res) != n {
		return nil, fmt.Errorf("replica: entry %d applied with %d results for %d commands", f.Index(), len(res), n)
	}
	return res, nil
}

func (c *coalescer) refuseQueued(first *pending) {
	if first != nil {
		first.out <- answer{err: errCoalescerClosed}
	}
	for {
		select {
		case p := <-c.reqs:
			p.out <- answer{err: errCoalescerClosed}
		default:
			return
		}
	}
}

// close stops taking proposals; entries in flight are answered when Raft
// answers them (call it before Raft shuts down, and wait after).
func (c *coalescer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.quit)
	}
	c.mu.Unlock()
	<-c.done
}

// raftDown tells the entries in flight that Raft has shut down. Raft drops
// the futures of entries it committed but had not applied, so without this
// drain would wait out the proposal timeout; those callers learn that the
// outcome is unknown instead.
func (c *coalescer) raftDown() { c.downing.Do(func() { close(c.down) }) }

// drain returns once every entry in flight has been answered.
func (c *coalescer) drain() { c.wg.Wait() }

// drainFor is drain bounded by d; it reports whether everything was answered.
func (c *coalescer) drainFor(d time.Duration) bool {
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// commit applies data through the coalescer on the leader and returns
// where each command landed and the leader's results. An error wraps
// ErrNotLeader; it also wraps ErrUnknownOutcome once anything was queued.
func (r *Replica) commit(ctx context.Context, data [][]byte, timeout time.Duration) ([]position, []state.Result, error) {
	notLeader := func() *ErrNotLeader { addr, _ := r.Raft.LeaderWithID(); return &ErrNotLeader{Leader: addr} }
	if r.Raft.State() != raft.Leader {
		return nil, nil, notLeader()
	}
	var outs []<-chan answer
	for len(data) > 0 {
		chunk := data[:min(len(data), maxEntryCommands)]
		data = data[len(chunk):]
		out, err := r.co.submit(ctx, chunk)
		if err != nil {
			if len(outs) == 0 {
				return nil, nil, fmt.Errorf("%w: %v", notLeader(), err)
			}
			return nil, nil, fmt.Errorf("%w: %w: %v", ErrUnknownOutcome, notLeader(), err)
		}
		outs = append(outs, out)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	var pos []position
	var res []state.Result
	for _, out := range outs {
		select {
		case a := <-out:
			if a.err != nil {
				return nil, nil, fmt.Errorf("%w: %w: %v", ErrUnknownOutcome, notLeader(), a.err)
			}
			pos, res = append(pos, a.pos...), append(res, a.res...)
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%w: %v", ErrUnknownOutcome, ctx.Err())
		case <-t.C:
			return nil, nil, fmt.Errorf("%w: %v", ErrUnknownOutcome, errFutureTimeout)
		}
	}
	return pos, res, nil
}

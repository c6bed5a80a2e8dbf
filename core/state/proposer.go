package state

import (
	"context"
	"sync"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Proposer puts encoded commands into the log and returns their results once
// they are durably applied. The embedded store uses Local; the replicated
// node supplies one backed by Raft. Domain code never knows which.
type Proposer interface {
	// Propose applies entries' data in order; results line up with data.
	// An error means the outcome is unknown (for example leadership was lost).
	Propose(ctx context.Context, data [][]byte) ([]Result, error)
	Close() error
}

// Local is the embedded proposer: a group-commit loop that applies whatever
// callers have queued in one durable bbolt transaction, so concurrent callers
// share fsyncs without a fixed batching delay.
type Local struct {
	e        *Engine
	reqs     chan *proposal
	quit     chan struct{}
	done     chan struct{}
	maxBatch int
	once     sync.Once
}

type proposal struct {
	data [][]byte
	out  chan proposalResult
}

type proposalResult struct {
	res []Result
	err error
}

// NewLocal starts a group-commit proposer over e.
func NewLocal(e *Engine) *Local {
	l := &Local{e: e, reqs: make(chan *proposal, 1024), quit: make(chan struct{}), done: make(chan struct{}), maxBatch: 4096}
	go l.loop()
	return l
}

func (l *Local) loop() {
	defer close(l.done)
	for {
		var batch []*proposal
		select {
		case p := <-l.reqs:
			batch = append(batch, p)
		case <-l.quit:
			l.drainClosed()
			return
		}
		n := len(batch[0].data)
	more:
		for n < l.maxBatch {
			select {
			case p := <-l.reqs:
				batch = append(batch, p)
				n += len(p.data)
			default:
				break more
			}
		}
		// Read the position each time: a Restore may have moved it.
		next, err := l.e.AppliedIndex()
		if err != nil {
			for _, p := range batch {
				p.out <- proposalResult{err: err}
			}
			continue
		}
		entries := make([]Entry, 0, n)
		for _, p := range batch {
			for _, d := range p.data {
				next++
				entries = append(entries, Entry{Index: next, Data: d})
			}
		}
		res, err := l.e.ApplyBatch(entries)
		off := 0
		for _, p := range batch {
			pr := proposalResult{err: err}
			if err == nil {
				pr.res = res[off : off+len(p.data)]
			}
			off += len(p.data)
			p.out <- pr
		}
	}
}

func (l *Local) drainClosed() {
	for {
		select {
		case p := <-l.reqs:
			p.out <- proposalResult{err: errs.ErrClosed}
		default:
			return
		}
	}
}

// Propose implements Proposer.
func (l *Local) Propose(ctx context.Context, data [][]byte) ([]Result, error) {
	p := &proposal{data: data, out: make(chan proposalResult, 1)}
	select {
	case l.reqs <- p:
	case <-l.quit:
		return nil, errs.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued the command will be applied; wait for it even if ctx ends,
	// so the caller never mistakes an applied write for a lost one.
	r := <-p.out
	return r.res, r.err
}

// Close stops the loop after the batch in progress.
func (l *Local) Close() error {
	l.once.Do(func() { close(l.quit) })
	<-l.done
	return nil
}

package replica

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
)

// ErrNotLeader means this replica cannot take writes; Leader says where to
// send them ("" when no leader is known yet).
type ErrNotLeader struct{ Leader raft.ServerAddress }

// Is lets errors.Is(err, errs.ErrUnavailable) match.
func (e *ErrNotLeader) Is(target error) bool { return target == errs.ErrUnavailable }

// Error names the leader when one is known.
func (e *ErrNotLeader) Error() string {
	if e.Leader == "" {
		return "replica: not the leader, and no leader is known"
	}
	return fmt.Sprintf("replica: not the leader; the leader is %s", e.Leader)
}

// ErrUnknownOutcome means the entries were handed to Raft but no result came
// back (leadership was lost, or the wait timed out): they may or may not be
// applied. Retrying blindly may apply a command twice.
var ErrUnknownOutcome = errs.ErrOutcomeUnknown

// Proposer applies commands through Raft; results come back from the FSM.
type Proposer struct {
	r        *raft.Raft
	rep      *Replica
	forward  bool
	timeout  time.Duration
	onCommit func(entries int, took time.Duration)
}

var _ core.Proposer = (*Proposer)(nil)

// Proposer returns a core.Proposer for this replica whose writes succeed only
// on the leader: for work that must stop when leadership does (the leader
// loops, the federation exchange).
func (r *Replica) Proposer() *Proposer {
	return &Proposer{r: r.Raft, rep: r, timeout: 10 * time.Second, onCommit: r.onCommit}
}

// ForwardingProposer returns a core.Proposer that also works on a follower:
// it forwards the commands to the leader and returns the results of its own
// apply (see forward.go). For serving clients.
func (r *Replica) ForwardingProposer() *Proposer {
	p := r.Proposer()
	p.forward = true
	return p
}

// Propose applies the entries through Raft (applyAll) and returns their
// results. A failure means the outcome is unknown.
func (p *Proposer) Propose(ctx context.Context, data [][]byte) ([]core.Result, error) {
	if p.r.State() != raft.Leader {
		addr, _ := p.r.LeaderWithID()
		if p.forward && addr != "" {
			return p.forwardTo(ctx, addr, data)
		}
		return nil, &ErrNotLeader{Leader: addr}
	}
	timeout := p.timeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	start := time.Now()
	futures, err := applyAll(p.r, data, timeout)
	if err != nil {
		addr, _ := p.r.LeaderWithID()
		return nil, fmt.Errorf("%w: %w: %v", ErrUnknownOutcome, &ErrNotLeader{Leader: addr}, err)
	}
	out := make([]core.Result, len(data))
	for i, f := range futures {
		res, ok := f.Response().(core.Result)
		if !ok {
			return nil, fmt.Errorf("replica: entry %d applied with no result", f.Index())
		}
		out[i] = res
	}
	if p.onCommit != nil {
		p.onCommit(len(data), time.Since(start))
	}
	return out, nil
}

// applyAll enqueues every entry at once, so Raft batches them into few
// appends, then waits for all within timeout. An error means the outcome is
// unknown.
func applyAll(r *raft.Raft, data [][]byte, timeout time.Duration) ([]raft.ApplyFuture, error) {
	futures := make([]raft.ApplyFuture, len(data))
	for i, d := range data {
		futures[i] = r.Apply(d, timeout)
	}
	deadline := time.Now().Add(timeout)
	for _, f := range futures {
		if err := waitFuture(f, max(time.Until(deadline), time.Millisecond)); err != nil {
			return nil, err
		}
	}
	return futures, nil
}

// forwardTo proposes through the leader at addr, then waits for this
// replica's FSM to apply the entries and returns its results.
func (p *Proposer) forwardTo(ctx context.Context, addr raft.ServerAddress, data [][]byte) ([]core.Result, error) {
	start := time.Now()
	cli, err := p.rep.fwd.client(addr)
	if err != nil {
		// Nothing was sent: the caller may safely retry.
		return nil, fmt.Errorf("%w: %v", &ErrNotLeader{Leader: addr}, err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	track := &p.rep.fsm.track
	track.hold()
	defer track.release()
	resp, err := cli.call(ctx, proposeRequest(data))
	if err != nil {
		return nil, fmt.Errorf("%w: forwarded to %s: %v", ErrUnknownOutcome, addr, err)
	}
	switch resp.status {
	case statusOK:
	case statusNotLeader:
		return nil, &ErrNotLeader{Leader: raft.ServerAddress(resp.msg)}
	default:
		return nil, fmt.Errorf("%w: forwarded to %s: %s", ErrUnknownOutcome, addr, resp.msg)
	}
	if len(resp.indexes) != len(data) {
		return nil, fmt.Errorf("%w: leader %s answered %d indexes for %d entries", ErrUnknownOutcome, addr, len(resp.indexes), len(data))
	}
	out := make([]core.Result, len(data))
	for i, idx := range resp.indexes {
		if err := track.wait(ctx, idx); err != nil {
			return nil, fmt.Errorf("%w: entry %d committed but not yet applied here: %v", ErrUnknownOutcome, idx, err)
		}
		res, ok := track.result(idx)
		if !ok {
			return nil, fmt.Errorf("%w: entry %d applied here from a snapshot; its result is gone", ErrUnknownOutcome, idx)
		}
		out[i] = res
	}
	if p.onCommit != nil {
		p.onCommit(len(data), time.Since(start))
	}
	return out, nil
}

// Close is a no-op: the replica owns Raft.
func (p *Proposer) Close() error { return nil }

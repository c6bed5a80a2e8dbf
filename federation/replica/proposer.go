package replica

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
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

var _ state.Proposer = (*Proposer)(nil)

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

// Propose applies the entries through Raft, packed with those of
// concurrent callers (coalesce.go), and returns their results. A failure
// means the outcome is unknown, unless it is only ErrNotLeader.
func (p *Proposer) Propose(ctx context.Context, data [][]byte) ([]state.Result, error) {
	if p.r.State() != raft.Leader {
		addr, _ := p.r.LeaderWithID()
		if p.forward && addr != "" {
			return p.forwardTo(ctx, addr, data)
		}
		return nil, &ErrNotLeader{Leader: addr}
	}
	start := time.Now()
	_, out, err := p.rep.commit(ctx, data, p.timeout)
	if err != nil {
		return nil, err
	}
	if p.onCommit != nil {
		p.onCommit(len(data), time.Since(start))
	}
	return out, nil
}

// forwardTo proposes through the leader at addr, then waits for this
// replica's FSM to apply the entries and returns its results.
func (p *Proposer) forwardTo(ctx context.Context, addr raft.ServerAddress, data [][]byte) ([]state.Result, error) {
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
	case statusRefused:
		return nil, refusedError(resp.msg)
	default:
		return nil, fmt.Errorf("%w: forwarded to %s: %s", ErrUnknownOutcome, addr, resp.msg)
	}
	if len(resp.positions) != len(data) {
		return nil, fmt.Errorf("%w: leader %s answered %d positions for %d commands", ErrUnknownOutcome, addr, len(resp.positions), len(data))
	}
	out := make([]state.Result, len(data))
	for i, pos := range resp.positions {
		if err := track.wait(ctx, pos.index); err != nil {
			return nil, fmt.Errorf("%w: entry %d committed but not yet applied here: %v", ErrUnknownOutcome, pos.index, err)
		}
		res, ok := track.result(pos)
		if !ok {
			return nil, fmt.Errorf("%w: entry %d applied here from a snapshot; its result is gone", ErrUnknownOutcome, pos.index)
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

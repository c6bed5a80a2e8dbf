package replica

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// ErrNotReady means this replica has just become leader and has not yet
// applied everything its predecessor committed; retry shortly.
var ErrNotReady = errors.New("replica: leader not ready for consistent reads yet")

// watchLeadership is the only reader of Raft's LeaderCh. On winning an
// election it issues a Barrier, so the FSM holds every entry the previous
// leader committed (and may have acknowledged) before consistent reads are
// served; then it tells the subscribers (the leader loops).
func (r *Replica) watchLeadership() {
	defer close(r.watchDone)
	for {
		select {
		case <-r.stopWatch:
			return
		case leading := <-r.Raft.LeaderCh():
			r.ready.Store(false)
			if leading {
				if err := r.Raft.Barrier(30 * time.Second).Error(); err != nil {
					r.log.Warn("barrier after election failed", "err", err)
				} else if r.IsLeader() {
					r.ready.Store(true)
				}
			}
			r.publish(leading)
		}
	}
}

// subscribe returns a channel that always holds the latest leadership state.
func (r *Replica) subscribe() chan bool {
	ch := make(chan bool, 1)
	r.mu.Lock()
	r.subs = append(r.subs, ch)
	r.mu.Unlock()
	return ch
}

func (r *Replica) unsubscribe(ch chan bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, s := range r.subs {
		if s == ch {
			r.subs = append(r.subs[:i], r.subs[i+1:]...)
			return
		}
	}
}

func (r *Replica) publish(leading bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range r.subs {
		select {
		case <-ch: // drop a stale value: only the latest matters
		default:
		}
		ch <- leading
	}
}

// ReadBarrier makes the next read of this replica's state linearizable: it
// succeeds only on a leader that has caught up after its election and can
// still reach a quorum. Followers answer ErrNotLeader (callers then forward,
// or read stale on purpose).
func (r *Replica) ReadBarrier() error {
	if !r.IsLeader() {
		addr, _ := r.Raft.LeaderWithID()
		return &ErrNotLeader{Leader: addr}
	}
	if !r.ready.Load() {
		return ErrNotReady
	}
	if err := r.verifyLeader(verifyTimeout); err != nil {
		addr, _ := r.Raft.LeaderWithID()
		return &ErrNotLeader{Leader: addr}
	}
	return nil
}

// verifyTimeout bounds a leadership check; a quorum round trip takes far less.
const verifyTimeout = 5 * time.Second

// verifyLeader waits for Raft's VerifyLeader with a bound: a read must not
// hang on a future Raft never answers.
func (r *Replica) verifyLeader(limit time.Duration) error {
	return waitFuture(r.Raft.VerifyLeader(), limit, nil)
}

// errFutureTimeout is what waitFuture returns when the bound passes.
var errFutureTimeout = errors.New("replica: no answer from raft in time")

// waitFuture bounds the wait for a Raft future. Raft answers every future
// in normal operation, but one queued just as Raft shuts down or loses
// leadership (its apply channel is buffered) may never be answered.
func waitFuture(f raft.Future, limit time.Duration, down <-chan struct{}) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errFutureTimeout
	case <-down:
		// Raft has shut down: what it answered is in done; anything else
		// it dropped (hashicorp/raft#498) and would hold us until limit.
		select {
		case err := <-done:
			return err
		default:
			return raft.ErrRaftShutdown
		}
	}
}

// Term is the current Raft term; membership advertises it with a leader
// claim so a deposed leader's stale claim loses.
func (r *Replica) Term() uint64 { return r.Raft.CurrentTerm() }

// CatchUp waits until this replica has applied everything the leader had
// committed when it was called, so what a client wrote anywhere before is
// visible here. The leader returns at once. A follower asks the leader for
// its commit index over the forwarding connection.
func (r *Replica) CatchUp(ctx context.Context) error {
	if r.IsLeader() {
		return nil
	}
	addr, _ := r.Raft.LeaderWithID()
	if addr == "" {
		return &ErrNotLeader{}
	}
	cli, err := r.fwd.client(addr)
	if err != nil {
		return fmt.Errorf("%w: %v", &ErrNotLeader{Leader: addr}, err)
	}
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	resp, err := cli.call(ctx, indexRequest)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %v", &ErrNotLeader{Leader: addr}, err)
	case resp.status == statusNotReady:
		return ErrNotReady
	case resp.status != statusOK || len(resp.positions) != 1:
		return &ErrNotLeader{Leader: raft.ServerAddress(resp.msg)}
	}
	return r.fsm.track.wait(ctx, resp.positions[0].index)
}

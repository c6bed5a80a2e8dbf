package replica

import (
	"errors"
	"time"
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
	if err := r.Raft.VerifyLeader().Error(); err != nil {
		addr, _ := r.Raft.LeaderWithID()
		return &ErrNotLeader{Leader: addr}
	}
	return nil
}

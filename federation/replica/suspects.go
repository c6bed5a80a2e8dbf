package replica

import (
	"errors"
	"fmt"
	"maps"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
)

// The leader's memory of its voter checks. When a majority of the voters
// agrees with the leader at a checkpoint, a voter that answered with
// another head is the odd one out. A follower knows this of itself, but
// only the leader decides where leadership goes, so the leader keeps the
// finding too: transfer-leader refuses such a voter, an automatic
// hand-over (a stopping leader, `transfer-leader` without an ID) skips it,
// and list-peers shows it.

// ErrPeerDiverged means the leader's last voter check found the named
// voter's state differing from a majority of the voters'. Leadership is not
// handed to it unless forced; rebuild it instead (docs/operations.md).
var ErrPeerDiverged = errors.New("replica: peer diverged from a majority of the voters")

// suspects maps a voter's ID to the checkpoint where it disagreed with the
// majority this leader belonged to. It is replaced, never changed.
type suspects map[string]uint64

// nextSuspects is what a decided voter check leaves: heads maps each voter
// that answered (this leader included) to its checkpoint at index, and
// mine is the majority's. A voter that agreed is cleared, one that did not
// is recorded, and one that did not answer keeps what an earlier check
// found, unless it has left the configuration (voters).
func nextSuspects(prev suspects, voters []raft.Server, heads map[string]state.Checkpoint, mine state.Checkpoint, index uint64) suspects {
	next := suspects{}
	for _, v := range voters {
		id := string(v.ID)
		cp, answered := heads[id]
		switch {
		case answered && !cp.Agrees(mine):
			next[id] = index
		case !answered && prev[id] != 0:
			next[id] = prev[id]
		}
	}
	return next
}

// divergedPeers returns the leader's suspects: empty on a follower, whose
// view of others could be stale.
func (r *Replica) divergedPeers() suspects {
	if !r.IsLeader() {
		return nil
	}
	if s := r.suspects.Load(); s != nil {
		return *s
	}
	return nil
}

// DivergedVoters returns, on the leader, the voters its last check found
// differing from the majority's, each with the checkpoint where it did.
// It is empty on a follower.
func (r *Replica) DivergedVoters() map[string]uint64 { return maps.Clone(r.divergedPeers()) }

// noteVoters keeps what a voter check that sided with this leader found,
// logging each voter newly found diverged.
func (r *Replica) noteVoters(voters []raft.Server, heads map[string]state.Checkpoint, mine state.Checkpoint, index uint64) {
	var old suspects
	if p := r.suspects.Load(); p != nil {
		old = *p
	}
	s := nextSuspects(old, voters, heads, mine, index)
	for id, index := range s {
		if old[id] == 0 {
			r.log.Warn("a voter's state differs from the majority's; leadership will not be handed to it; rebuild it from a snapshot",
				"voter", id, "checkpoint", index)
		}
	}
	r.suspects.Store(&s)
}

// forget drops a voter that left the group from the suspects.
func (r *Replica) forget(id string) {
	if p := r.suspects.Load(); p != nil && (*p)[id] != 0 {
		next := maps.Clone(*p)
		delete(next, id)
		r.suspects.Store(&next)
	}
}

// checkTarget refuses a transfer to a voter the last check found diverged.
func (r *Replica) checkTarget(id string) error {
	if index := r.divergedPeers()[id]; index != 0 {
		return fmt.Errorf("%w: %w", ErrPeerDiverged, errs.Conflict("id", "diverged",
			"peer %s diverged from a majority of the voters at checkpoint %d; rebuild it (or force the transfer)", id, index))
	}
	return nil
}

// transferAway hands leadership to an up-to-date voter as Raft picks one,
// or, when the last check found a voter diverged, to the first sound voter
// in configuration order (Raft's pick knows nothing of divergence and could
// be the diverged one).
func (r *Replica) transferAway() error {
	bad := r.divergedPeers()
	if len(bad) == 0 {
		return r.Raft.LeadershipTransfer().Error()
	}
	f := r.Raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("replica: configuration: %w", err)
	}
	err := r.handToFirst(f.Configuration().Servers, func(id string) bool { return bad[id] == 0 })
	if errors.Is(err, errNoCandidate) {
		return fmt.Errorf("%w: every other voter diverged", ErrPeerDiverged)
	}
	return err
}

package replica

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/fengqiao/fengqiao/core/state"

	"github.com/hashicorp/raft"
)

// The leader's side of the divergence check. A follower that disagrees
// with the leader cannot tell which of them went wrong, and if the leader
// did, every follower would fail /readyz while the leader served on. So the
// leader asks every voter for its audit head at one of the leader's recent
// checkpoints and counts: when a majority of the voters hold one head and
// the leader another, the leader records the divergence and hands
// leadership to a voter of that majority. Without a majority either way
// (two voters, or three replicas that all differ) nothing is decided here;
// the followers' own checks still flag each follower that differs.

// errNoMajority means too few voters answered, or no head was held by a
// majority of them.
var errNoMajority = errors.New("replica: no majority of voters agrees on a checkpoint")

// CheckVoters compares the leader's recent checkpoints with every voter's
// and returns the index decided on. When a majority of voters agrees with
// the leader it withdraws a divergence this replica recorded earlier (as a
// follower, against a leader that was wrong). When a majority agrees
// against it, it records a *DivergenceError (Led set), starts a leadership
// transfer to a voter of that majority, and returns the error. On a
// follower it returns 0 and no error.
func (r *Replica) CheckVoters(ctx context.Context) (uint64, error) {
	if !r.IsLeader() {
		return 0, nil
	}
	f := r.Raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return 0, fmt.Errorf("replica: configuration: %w", err)
	}
	var voters []raft.Server
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			voters = append(voters, s)
		}
	}
	latest, ok := r.Engine.LatestCheckpoint()
	if !ok {
		return 0, errNoCheckpoint
	}
	// Followers a little behind lack the latest checkpoint; the one before
	// it they have applied.
	indexes := []uint64{latest.Index}
	if latest.Index > state.CheckpointEvery {
		indexes = append(indexes, latest.Index-state.CheckpointEvery)
	}
	for _, index := range indexes {
		mine, ok := r.Engine.Checkpoint(index)
		if !ok {
			continue
		}
		heads := r.voterHeads(ctx, voters, index)
		heads[r.ID] = mine
		verdict, holders, ok := majority(heads, len(voters)/2+1)
		if !ok {
			continue
		}
		if verdict.Agrees(mine) {
			r.withdraw(index, holders)
			r.noteVoters(voters, heads, mine, index)
			return index, nil
		}
		d := &DivergenceError{Index: index, Seq: mine.Seq, TheirSeq: verdict.Seq,
			Head: hex.EncodeToString(mine.Head), TheirHead: hex.EncodeToString(verdict.Head), Against: holders, Led: true}
		r.record(d)
		r.handTo(voters, holders)
		return index, d
	}
	return 0, errNoMajority
}

// voterHeads asks the other voters, in parallel, for their checkpoint at
// index. Voters that cannot say are left out.
func (r *Replica) voterHeads(ctx context.Context, voters []raft.Server, index uint64) map[string]state.Checkpoint {
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	heads := map[string]state.Checkpoint{}
	for _, v := range voters {
		if string(v.ID) == r.ID {
			continue
		}
		wg.Go(func() {
			cp, err := r.askHead(ctx, v.Address, index)
			if err != nil {
				r.log.Debug("voter did not give its checkpoint", "voter", v.ID, "index", index, "err", err)
				return
			}
			mu.Lock()
			heads[string(v.ID)] = cp
			mu.Unlock()
		})
	}
	wg.Wait()
	return heads
}

// askHead dials addr for one head request. The check runs once an
// interval, so a connection per request costs nothing worth keeping one.
func (r *Replica) askHead(ctx context.Context, addr raft.ServerAddress, index uint64) (state.Checkpoint, error) {
	cli, err := dialForward(r.stream, addr)
	if err != nil {
		return state.Checkpoint{}, err
	}
	defer cli.close()
	resp, err := cli.call(ctx, atIndex(kindHead, index))
	switch {
	case err != nil:
		return state.Checkpoint{}, err
	case resp.status != statusCheckpoint:
		return state.Checkpoint{}, fmt.Errorf("%w: %s", errNoCheckpoint, resp.msg)
	}
	cp := resp.checkpoint
	cp.Index = index
	return cp, nil
}

// majority returns the checkpoint at least need of heads agree on, and the
// IDs holding it, sorted.
func majority(heads map[string]state.Checkpoint, need int) (state.Checkpoint, []string, bool) {
	for _, cp := range heads {
		var holders []string
		for id, o := range heads {
			if o.Agrees(cp) {
				holders = append(holders, id)
			}
		}
		if len(holders) >= need {
			slices.Sort(holders)
			return cp, holders, true
		}
	}
	return state.Checkpoint{}, nil, false
}

// handTo starts a leadership transfer to the first of holders that is a
// voter. A failed transfer is retried at the next check.
func (r *Replica) handTo(voters []raft.Server, holders []string) {
	err := r.handToFirst(voters, func(id string) bool { return slices.Contains(holders, id) })
	if err != nil && !errors.Is(err, errNoCandidate) {
		r.log.Warn("could not hand leadership over after diverging", "err", err)
	}
}

// errNoCandidate means no other voter qualified to take leadership.
var errNoCandidate = errors.New("replica: no other voter can take leadership")

// handToFirst transfers leadership to the first voter of servers, in
// configuration order, other than this replica that ok accepts.
func (r *Replica) handToFirst(servers []raft.Server, ok func(id string) bool) error {
	for _, s := range servers {
		if s.Suffrage == raft.Voter && string(s.ID) != r.ID && ok(string(s.ID)) {
			if err := r.Raft.LeadershipTransferToServer(s.ID, s.Address).Error(); err != nil {
				return fmt.Errorf("replica: hand leadership to %s: %w", s.ID, err)
			}
			return nil
		}
	}
	return errNoCandidate
}

package replica

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"
)

// Divergence detection. A follower periodically sends its latest checkpoint
// index (core.Checkpoint: the audit chain's head once every command up to
// that index was applied) to the leader over the forwarding connection, and
// compares the leader's head there with its own. Replicas that applied the
// same log agree at every checkpoint; one that accepted or refused a
// different command does not, from that checkpoint on. The check reads
// nothing from disk and sends 40 bytes, so it can run all the time, as
// etcd's corruption check does with its far costlier hash of the keyspace.
//
// A follower alone cannot tell whether it or the leader went wrong. The
// leader therefore also asks every voter (quorum.go): when a majority of
// the voters agree with each other and not with it, the leader is the odd
// one out, and it hands leadership to one of them. A follower's verdict
// against a leader is undone when a later leader, one it was not compared
// with, agrees with it at or past the same checkpoint.

// ErrDiverged means this replica's state differs from the leader's at a
// checkpoint, or, for a leader, from a majority of the voters'. The replica
// keeps running but reports not ready; rebuild it (remove it, delete its
// data directory, add it back: it then installs a snapshot). See
// docs/operations.md.
var ErrDiverged = errors.New("replica: state diverged from the leader")

// DefaultCheckInterval is how often a follower compares checkpoints with
// the leader, and the leader with the voters.
const DefaultCheckInterval = 30 * time.Second

// DivergenceError names the checkpoint where this replica's state differs
// from the replicas it was compared with. It wraps ErrDiverged.
type DivergenceError struct {
	Index           uint64   // the checkpoint's log index
	Seq, TheirSeq   uint64   // audit records at or below Index, here and there
	Head, TheirHead string   // audit chain heads, hex
	Against         []string // the replica IDs compared with: the leader, or a majority of voters
	Led             bool     // found while this replica led: a majority of voters agreed against it
}

func (e *DivergenceError) Error() string {
	whom := "the leader " + strings.Join(e.Against, ", ")
	if len(e.Against) > 1 {
		whom = "the leaders " + strings.Join(e.Against, ", ")
	}
	if e.Led {
		whom = "a majority of voters (" + strings.Join(e.Against, ", ") + ")"
	}
	return fmt.Sprintf("replica: state diverged from %s at checkpoint %d: %d audit records, head %.12s here; %d, head %.12s there",
		whom, e.Index, e.Seq, e.Head, e.TheirSeq, e.TheirHead)
}

func (e *DivergenceError) Unwrap() error { return ErrDiverged }

// errNoCheckpoint means there was nothing to compare yet: no checkpoint
// here, or the leader no longer (or not yet) keeps the same one.
var errNoCheckpoint = errors.New("replica: no common checkpoint with the leader yet")

// CheckLeader compares this replica's latest checkpoint with the leader's
// and returns the index it compared. It returns a *DivergenceError (wrapping
// ErrDiverged) when they differ, and records it for Diverged. A recorded
// divergence is withdrawn when a leader it was not found against agrees at
// or past its checkpoint: the first leader was the odd one out. On the
// leader there is nothing to compare against: it returns 0 and no error
// (its own check is CheckVoters).
func (r *Replica) CheckLeader(ctx context.Context) (uint64, error) {
	if r.IsLeader() {
		return 0, nil
	}
	mine, ok := r.Engine.LatestCheckpoint()
	if !ok {
		return 0, errNoCheckpoint
	}
	addr, leader := r.Raft.LeaderWithID()
	if addr == "" {
		return 0, &ErrNotLeader{}
	}
	cli, err := r.fwd.client(addr)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", &ErrNotLeader{Leader: addr}, err)
	}
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	resp, err := cli.call(ctx, checkpointRequest(mine.Index))
	switch {
	case err != nil:
		return 0, fmt.Errorf("%w: %v", &ErrNotLeader{Leader: addr}, err)
	case resp.status == statusNotLeader:
		return 0, &ErrNotLeader{Leader: raft.ServerAddress(resp.msg)}
	case resp.status != statusCheckpoint:
		return 0, fmt.Errorf("%w: %s", errNoCheckpoint, resp.msg)
	}
	theirs := resp.checkpoint
	if theirs.Agrees(mine) {
		r.withdraw(mine.Index, []string{string(leader)})
		return mine.Index, nil
	}
	d := &DivergenceError{Index: mine.Index, Seq: mine.Seq, TheirSeq: theirs.Seq,
		Head: hex.EncodeToString(mine.Head), TheirHead: hex.EncodeToString(theirs.Head), Against: []string{string(leader)}}
	r.record(d)
	return mine.Index, d
}

// record keeps the first divergence found, adding to it the replicas later
// checks also disagreed with, and logs each new finding once.
func (r *Replica) record(d *DivergenceError) {
	for {
		old := r.diverged.Load()
		next := d
		if old != nil {
			if subset(d.Against, old.Against) {
				return
			}
			cp := *old
			cp.Against = append(slices.Clone(old.Against), d.Against...)
			slices.Sort(cp.Against)
			cp.Against = slices.Compact(cp.Against)
			cp.Led = old.Led || d.Led
			next = &cp
		}
		if r.diverged.CompareAndSwap(old, next) {
			break
		}
	}
	msg := "this replica's state differs from the leader's; rebuild it from a snapshot"
	if d.Led {
		msg = "this leader's state differs from a majority of the voters'; handing leadership to one of them; rebuild this replica from a snapshot"
	}
	r.log.Error(msg, "checkpoint", d.Index, "audit_records", d.Seq, "their_audit_records", d.TheirSeq,
		"head", d.Head, "their_head", d.TheirHead, "against", d.Against)
}

// withdraw clears a recorded divergence once replicas it was not found
// against (by) agree with this one at or past its checkpoint: the chain
// head covers every command before it, so this replica's state is sound.
func (r *Replica) withdraw(index uint64, by []string) {
	d := r.diverged.Load()
	if d == nil || index < d.Index || slices.ContainsFunc(by, func(id string) bool { return slices.Contains(d.Against, id) }) {
		return
	}
	if r.diverged.CompareAndSwap(d, nil) {
		r.log.Warn("state agrees with the other replicas; the divergence found earlier was the other side's",
			"checkpoint", index, "agrees_with", by, "earlier_checkpoint", d.Index, "earlier_against", d.Against)
	}
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// Diverged returns the divergence a check found, or nil. It stays set until
// the replica is rebuilt, or a check shows the other side was wrong.
func (r *Replica) Diverged() error {
	if d := r.diverged.Load(); d != nil {
		return d
	}
	return nil
}

// checkLoop runs the checks every interval: on a follower CheckLeader, once
// per new checkpoint (or, while it holds a divergence, per new leader); on
// the leader CheckVoters, and at once when this replica wins an election.
func (r *Replica) checkLoop(every time.Duration) {
	defer close(r.checkDone)
	t := time.NewTicker(every)
	defer t.Stop()
	leading := r.subscribe()
	defer r.unsubscribe(leading)
	var last, lastVoters uint64 // the checkpoints last found in agreement
	for {
		select {
		case <-r.stopCheck:
			return
		case <-t.C:
		case won := <-leading:
			// A new leader checks the voters at once: if it diverged itself
			// it must not serve its state (and make the sound followers flag
			// themselves) until the next tick, and it should know which
			// voters diverged before anyone asks it to hand leadership over.
			// What it knew from an earlier term may be stale.
			r.suspects.Store(nil)
			lastVoters = 0
			if !won {
				continue
			}
		}
		r.checkOnce(&last, &lastVoters)
	}
}

// checkOnce runs the check this replica's role calls for, unless nothing
// changed since the last agreement.
func (r *Replica) checkOnce(last, lastVoters *uint64) {
	cp, ok := r.Engine.LatestCheckpoint()
	if !ok {
		return
	}
	d := r.diverged.Load()
	check, agreed := r.CheckLeader, last
	if r.IsLeader() {
		check, agreed = r.CheckVoters, lastVoters
	} else if d != nil {
		if _, leader := r.Raft.LeaderWithID(); slices.Contains(d.Against, string(leader)) {
			return
		}
	}
	if d == nil && cp.Index == *agreed {
		return
	}
	idx, err := check(context.Background())
	switch {
	case err == nil:
		*agreed = idx
	case !errors.Is(err, ErrDiverged):
		r.log.Debug("divergence check skipped", "err", err)
	}
}

func checkpointRequest(index uint64) func(id uint64) []byte { return atIndex(kindCheckpoint, index) }

func atIndex(kind byte, index uint64) func(id uint64) []byte {
	return func(id uint64) []byte {
		b := binary.AppendUvarint([]byte{kind}, id)
		return binary.AppendUvarint(b, index)
	}
}

// checkpoint answers a follower with the leader's checkpoint at index.
func (s *forwardServer) checkpoint(id, index uint64) []byte {
	if !s.r.IsLeader() {
		return s.notLeader(id)
	}
	return s.head(id, index)
}

// head answers with this replica's checkpoint at index, leader or not.
func (s *forwardServer) head(id, index uint64) []byte {
	cp, ok := s.r.Engine.Checkpoint(index)
	if !ok {
		return reply(id, statusUnknown, fmt.Sprintf("no checkpoint at index %d here", index), nil)
	}
	b := append(binary.AppendUvarint(nil, id), statusCheckpoint)
	b = binary.AppendUvarint(b, cp.Seq)
	return appendBytes(b, cp.Head)
}

package replica

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
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

// ErrDiverged means this replica's state differs from the leader's at a
// checkpoint. The replica keeps running but reports not ready; rebuild it
// (remove it, delete its data directory, add it back: it then installs a
// snapshot). See docs/operations.md.
var ErrDiverged = errors.New("replica: state diverged from the leader")

// DefaultCheckInterval is how often a follower compares checkpoints.
const DefaultCheckInterval = 30 * time.Second

// DivergenceError names the checkpoint where this replica and the leader
// differ. It wraps ErrDiverged.
type DivergenceError struct {
	Index            uint64 // the checkpoint's log index
	Seq, LeaderSeq   uint64 // audit records at or below Index, here and on the leader
	Head, LeaderHead string // audit chain heads, hex
}

func (e *DivergenceError) Error() string {
	return fmt.Sprintf("replica: state diverged from the leader at checkpoint %d: %d audit records, head %.12s here; %d, head %.12s on the leader",
		e.Index, e.Seq, e.Head, e.LeaderSeq, e.LeaderHead)
}

func (e *DivergenceError) Unwrap() error { return ErrDiverged }

// errNoCheckpoint means there was nothing to compare yet: no checkpoint
// here, or the leader no longer (or not yet) keeps the same one.
var errNoCheckpoint = errors.New("replica: no common checkpoint with the leader yet")

// CheckLeader compares this replica's latest checkpoint with the leader's
// and returns the index it compared. It returns a *DivergenceError (wrapping
// ErrDiverged) when they differ, and records it for Diverged. On the leader
// there is nothing to compare against: it returns 0 and no error.
func (r *Replica) CheckLeader(ctx context.Context) (uint64, error) {
	if r.IsLeader() {
		return 0, nil
	}
	mine, ok := r.Engine.LatestCheckpoint()
	if !ok {
		return 0, errNoCheckpoint
	}
	addr, _ := r.Raft.LeaderWithID()
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
	if theirs.Seq == mine.Seq && string(theirs.Head) == string(mine.Head) {
		return mine.Index, nil
	}
	d := &DivergenceError{Index: mine.Index, Seq: mine.Seq, LeaderSeq: theirs.Seq,
		Head: hex.EncodeToString(mine.Head), LeaderHead: hex.EncodeToString(theirs.Head)}
	if r.diverged.CompareAndSwap(nil, d) {
		r.log.Error("this replica's state differs from the leader's; rebuild it from a snapshot",
			"checkpoint", d.Index, "audit_records", d.Seq, "leader_audit_records", d.LeaderSeq,
			"head", d.Head, "leader_head", d.LeaderHead)
	}
	return mine.Index, d
}

// Diverged returns the divergence a check found, or nil. It stays set until
// the replica is rebuilt.
func (r *Replica) Diverged() error {
	if d := r.diverged.Load(); d != nil {
		return d
	}
	return nil
}

// checkLoop runs CheckLeader every interval on a follower, once per new
// checkpoint.
func (r *Replica) checkLoop(every time.Duration) {
	defer close(r.checkDone)
	t := time.NewTicker(every)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-r.stopCheck:
			return
		case <-t.C:
		}
		if r.diverged.Load() != nil || r.IsLeader() {
			continue
		}
		if cp, ok := r.Engine.LatestCheckpoint(); !ok || cp.Index == last {
			continue
		}
		idx, err := r.CheckLeader(context.Background())
		switch {
		case err == nil:
			last = idx
		case !errors.Is(err, ErrDiverged):
			r.log.Debug("checkpoint comparison skipped", "err", err)
		}
	}
}

func checkpointRequest(index uint64) func(id uint64) []byte {
	return func(id uint64) []byte {
		b := binary.AppendUvarint([]byte{kindCheckpoint}, id)
		return binary.AppendUvarint(b, index)
	}
}

// checkpoint answers a follower with the leader's checkpoint at index.
func (s *forwardServer) checkpoint(id, index uint64) []byte {
	if !s.r.IsLeader() {
		return s.notLeader(id)
	}
	cp, ok := s.r.Engine.Checkpoint(index)
	if !ok {
		return reply(id, statusUnknown, fmt.Sprintf("no checkpoint at index %d here", index), nil)
	}
	b := append(binary.AppendUvarint(nil, id), statusCheckpoint)
	b = binary.AppendUvarint(b, cp.Seq)
	return appendBytes(b, cp.Head)
}

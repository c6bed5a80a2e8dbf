package replica

import (
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
)

// FSM applies committed Raft entries to the core engine. The engine stores
// the applied index in the same bbolt transaction as the data (Vault's
// pattern), so a restarted replica skips what it already applied instead of
// restoring a snapshot and replaying.
type FSM struct {
	e     *core.Engine
	track tracker
}

var _ raft.BatchingFSM = (*FSM)(nil)

// NewFSM wraps an engine.
func NewFSM(e *core.Engine) *FSM {
	f := &FSM{e: e}
	if applied, err := e.AppliedIndex(); err == nil {
		f.track.applied = applied
	}
	return f
}

// Apply applies one entry.
func (f *FSM) Apply(l *raft.Log) interface{} { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies the command entries of a batch in one transaction. The
// response for each command is its core.Result; other entry types get nil.
func (f *FSM) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	if len(logs) == 0 {
		return out
	}
	entries := make([]core.Entry, 0, len(logs))
	indexes := make([]uint64, 0, len(logs))
	pos := make([]int, 0, len(logs))
	for i, l := range logs {
		if l.Type == raft.LogCommand {
			entries = append(entries, core.Entry{Index: l.Index, Data: l.Data})
			indexes = append(indexes, l.Index)
			pos = append(pos, i)
		}
	}
	last := logs[len(logs)-1].Index
	if len(entries) == 0 {
		f.track.advance(nil, nil, last)
		return out
	}
	res, err := f.e.ApplyBatch(entries)
	if err != nil {
		// The state file cannot be written: stopping is the only way not to
		// diverge from the other replicas.
		panic(fmt.Sprintf("replica: cannot apply entries %d..%d: %v", entries[0].Index, entries[len(entries)-1].Index, err))
	}
	for i, r := range res {
		out[pos[i]] = r
	}
	f.track.advance(indexes, res, last)
	return out
}

// Snapshot pins the state now; Persist streams it later.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	ps, err := f.e.OpenSnapshot()
	if err != nil {
		return nil, err
	}
	return &fsmSnapshot{ps: ps}, nil
}

// Restore replaces the state with a snapshot (a lagging or new replica).
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := f.e.Restore(rc); err != nil {
		return err
	}
	applied, err := f.e.AppliedIndex()
	if err != nil {
		return err
	}
	f.track.restored(applied)
	return nil
}

type fsmSnapshot struct{ ps *core.PointSnapshot }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.ps.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("replica: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.ps.Close() }

package replica

import (
	"fmt"
	"io"

	"github.com/fengqiao/fengqiao/core/state"

	"github.com/hashicorp/raft"
)

// FSM applies committed Raft entries to the core engine. The engine stores
// the applied index in the same bbolt transaction as the data (Vault's
// pattern), so a restarted replica skips what it already applied instead of
// restoring a snapshot and replaying.
type FSM struct {
	e     *state.Engine
	track tracker
}

var _ raft.BatchingFSM = (*FSM)(nil)

// NewFSM wraps an engine.
func NewFSM(e *state.Engine) *FSM {
	f := &FSM{e: e}
	if applied, err := e.AppliedIndex(); err == nil {
		f.track.applied = applied
	}
	return f
}

// Apply applies one entry.
func (f *FSM) Apply(l *raft.Log) interface{} { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies the commands of a batch of entries in one transaction.
// An entry holds one command, or several packed by the coalescer; the
// response is its core.Result, or a []core.Result in the packed order.
// Other entry types get nil.
func (f *FSM) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	if len(logs) == 0 {
		return out
	}
	var entries []state.Entry
	var spans []span
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		cmds, packed := SplitBatch(l.Data)
		if !packed {
			cmds = [][]byte{l.Data}
		}
		spans = append(spans, span{log: i, index: l.Index, from: len(entries), n: len(cmds), packed: packed})
		for _, c := range cmds {
			entries = append(entries, state.Entry{Index: l.Index, Data: c})
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
	for _, s := range spans {
		if rs := res[s.from : s.from+s.n]; s.packed {
			out[s.log] = rs
		} else {
			out[s.log] = rs[0]
		}
	}
	f.track.advance(spans, res, last)
	return out
}

// span is where one entry's commands sit in the flattened batch.
type span struct {
	log, from, n int
	index        uint64
	packed       bool
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

type fsmSnapshot struct{ ps *state.PointSnapshot }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.ps.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("replica: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.ps.Close() }

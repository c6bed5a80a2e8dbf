package state

import (
	"bytes"
	"sync"
)

// CheckpointEvery is the log-index spacing of checkpoints.
const CheckpointEvery = 1024

const checkpointsKept = 64

// Checkpoint is the audit chain as it stood once every command at or below
// Index had been applied: Seq records, ending in Head.
type Checkpoint struct {
	Index uint64
	Seq   uint64
	Head  []byte // 32 bytes
}

// checkpoints is a ring of the latest checkpoints, oldest first.
type checkpoints struct {
	mu   sync.Mutex
	ring []Checkpoint
}

func (c *checkpoints) add(cps []Checkpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ring = append(c.ring, cps...)
	if n := len(c.ring) - checkpointsKept; n > 0 {
		c.ring = append(c.ring[:0], c.ring[n:]...)
	}
}

func (c *checkpoints) reset() {
	c.mu.Lock()
	c.ring = nil
	c.mu.Unlock()
}

// Checkpoint returns the checkpoint at index, if it is still kept.
func (e *Engine) Checkpoint(index uint64) (Checkpoint, bool) {
	e.cps.mu.Lock()
	defer e.cps.mu.Unlock()
	for _, cp := range e.cps.ring {
		if cp.Index == index {
			return cp.clone(), true
		}
	}
	return Checkpoint{}, false
}

// LatestCheckpoint returns the most recent checkpoint, if any was recorded
// since the engine opened.
func (e *Engine) LatestCheckpoint() (Checkpoint, bool) {
	e.cps.mu.Lock()
	defer e.cps.mu.Unlock()
	if len(e.cps.ring) == 0 {
		return Checkpoint{}, false
	}
	return e.cps.ring[len(e.cps.ring)-1].clone(), true
}

// Agrees reports whether o holds the same chain, records and head, as cp:
// two replicas agree there, whichever index each was asked at.
func (cp Checkpoint) Agrees(o Checkpoint) bool {
	return cp.Seq == o.Seq && bytes.Equal(cp.Head, o.Head)
}

// clone keeps callers from writing into the ring's heads.
func (cp Checkpoint) clone() Checkpoint {
	cp.Head = append([]byte(nil), cp.Head...)
	return cp
}

// checkpoint records, before the command at index next is applied, the
// latest checkpoint index in [prev, next) if there is one: the chain then
// holds exactly the commands at or below it.
func (t *txn) checkpoint(prev, next uint64) {
	b := (next - 1) / CheckpointEvery * CheckpointEvery
	if next == 0 || b == 0 || b < prev {
		return
	}
	seq, head := t.auditHead()
	t.cps = append(t.cps, Checkpoint{Index: b, Seq: seq, Head: append([]byte(nil), head...)})
}

// Checkpoints lists the checkpoints kept in memory, oldest first.
func (e *Engine) Checkpoints() []Checkpoint {
	e.cps.mu.Lock()
	defer e.cps.mu.Unlock()
	return append([]Checkpoint(nil), e.cps.ring...)
}

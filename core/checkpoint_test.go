package core

import (
	"bytes"
	"math/rand"
	"testing"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// checkpointLog turns recorded commands into log entries with the shapes
// Raft produces: gaps (entries that never reach the FSM), packed indexes
// (several commands at one index) and malformed commands (rejected).
func checkpointLog(data [][]byte) []state.Entry {
	var out []state.Entry
	idx := uint64(0)
	for j, d := range data {
		switch {
		case j%7 == 0:
			idx += 3 // a gap
		case j%5 == 0 && j > 0:
			// packed with the previous command
		default:
			idx++
		}
		out = append(out, state.Entry{Index: idx, Data: d})
		if j%50 == 0 {
			out = append(out, state.Entry{Index: idx, Data: []byte("not a command")})
		}
	}
	return out
}

// applyGrouped applies entries in batches of random size that never split
// one index, and returns the checkpoints the engine kept.
func applyGrouped(t *testing.T, entries []state.Entry, seed int64) []state.Checkpoint {
	t.Helper()
	e, err := state.OpenEngine(t.TempDir(), state.EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rng := rand.New(rand.NewSource(seed))
	for i := 0; i < len(entries); {
		end := min(i+1+rng.Intn(300), len(entries))
		if seed == 0 {
			end = i + 1
		}
		for end < len(entries) && entries[end].Index == entries[end-1].Index {
			end++
		}
		if _, err := e.ApplyBatch(entries[i:end]); err != nil {
			t.Fatal(err)
		}
		i = end
	}
	return e.Checkpoints()
}

func TestCheckpointsAgreeAcrossBatchings(t *testing.T) {
	env := newEnv(t, false)
	env.withCounty(t)
	r := model.Report{Category: "dispute", Description: "邻里纠纷", Grid: "511083001001001", Source: "resident"}
	for i := 0; i < 2000; i++ {
		if _, err := env.Events.Report(env.ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	log := checkpointLog(env.rec.data)
	one := applyGrouped(t, log, 0)
	if len(one) < 3 {
		t.Fatalf("only %d checkpoints over %d indexes", len(one), log[len(log)-1].Index)
	}
	for i, cp := range one {
		if cp.Index%state.CheckpointEvery != 0 || len(cp.Head) != 32 || (i > 0 && cp.Seq <= one[i-1].Seq) {
			t.Fatalf("checkpoint %d is malformed: %+v", i, cp)
		}
	}
	for _, seed := range []int64{1, 2, 3} {
		got := applyGrouped(t, log, seed)
		if len(got) != len(one) {
			t.Fatalf("seed %d: %d checkpoints, want %d", seed, len(got), len(one))
		}
		for i := range got {
			if got[i].Index != one[i].Index || got[i].Seq != one[i].Seq || !bytes.Equal(got[i].Head, one[i].Head) {
				t.Fatalf("seed %d: checkpoint %d is %d/%d/%x, one by one it is %d/%d/%x", seed, i,
					got[i].Index, got[i].Seq, got[i].Head[:4], one[i].Index, one[i].Seq, one[i].Head[:4])
			}
		}
	}

	// A replica that accepted one command the others did not agrees up to
	// the checkpoint before it and differs at every one after.
	at := len(log) / 2
	extra := append(append(append([]state.Entry(nil), log[:at]...), state.Entry{Index: log[at-1].Index, Data: log[len(log)-1].Data}), log[at:]...)
	bad := applyGrouped(t, extra, 4)
	for i := range bad {
		same := bytes.Equal(bad[i].Head, one[i].Head)
		if before := bad[i].Index < log[at-1].Index; same != before {
			t.Fatalf("checkpoint at %d (extra command at %d): same head = %v", bad[i].Index, log[at-1].Index, same)
		}
	}
}

package core

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// The commands of one packed entry share its log index. They apply, isolate
// a rejection and chain into the audit log each on their own, and the state
// they leave rebuilds from the audit chain.
func TestPackedCommandsShareAnIndex(t *testing.T) {
	src := newEnv(t, false)
	src.withCounty(t)
	// Enough commands that a packed entry straddles Replay's pages.
	reports := make([]model.Report, 1500)
	for i := range reports {
		reports[i] = model.Report{Category: "dispute", Description: fmt.Sprint("纠纷", i), Grid: "511083001001001"}
	}
	if _, err := src.Events.Import(src.ctx, reports, nil); err != nil {
		t.Fatal(err)
	}
	// Replay the recorded commands packed seven to an index.
	e, err := state.OpenEngine(t.TempDir(), state.EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var rejected int
	// One command in the middle does not decode: it alone is rejected.
	data := slices.Insert(slices.Clone(src.rec.data), len(src.rec.data)-2, []byte("junk"))
	for i := 0; i < len(data); i += 7 {
		var entries []state.Entry
		for _, d := range data[i:min(i+7, len(data))] {
			entries = append(entries, state.Entry{Index: uint64(i/7 + 1), Data: d})
		}
		res, err := e.ApplyBatch(entries)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				rejected++
				if !errors.Is(r.Err, errs.ErrInvalid) {
					t.Fatalf("rejection: %v", r.Err)
				}
			}
		}
	}
	if rejected != 1 {
		t.Fatalf("%d rejections, want the one junk command", rejected)
	}
	// The same state as the source, but for the log positions the audit
	// records carry.
	dst := New(e, state.NewLocal(e), Options{Keyring: src.keyring()})
	defer dst.Close()
	for i := 1; i <= 5; i++ {
		id := fmt.Sprintf("511083001-20261123-%06d", i)
		a, err1 := src.Events.Get(id)
		b, err2 := dst.Events.Get(id)
		if err1 != nil || err2 != nil || a.Description != b.Description || a.Status != b.Status || !a.Deadline.Equal(b.Deadline) {
			t.Fatalf("event %s: %+v %v / %+v %v", id, a, err1, b, err2)
		}
	}
	fa, _ := src.Events.Figures("511083", "", "")
	fb, _ := dst.Events.Figures("511083", "", "")
	if !reflect.DeepEqual(fa, fb) || fa.Reported != 1500 {
		t.Fatalf("figures %+v, want %+v", fb, fa)
	}
	if err := e.VerifyState(t.TempDir(), nil); err != nil {
		t.Fatalf("rebuild from an audit chain with shared indexes: %v", err)
	}
	// Applied again (a restart that finds them in the log): all skipped.
	last := uint64((len(data) + 6) / 7)
	before := mustDigest(t, e)
	res, _ := e.ApplyBatch([]state.Entry{{Index: last, Data: data[0]}, {Index: last, Data: data[1]}})
	for _, r := range res {
		if !errors.Is(r.Err, errs.ErrConflict) {
			t.Fatalf("re-applied entry: %v", r.Err)
		}
	}
	if mustDigest(t, e) != before {
		t.Fatal("re-applying an applied index changed the state")
	}
}

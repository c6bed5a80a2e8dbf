package state

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// fullEvent sets every field, so a field the codec forgets shows up.
func fullEvent() *model.Event {
	at := time.Date(2026, 11, 24, 1, 2, 3, 4005, time.UTC)
	return &model.Event{
		ID: "511083001-20261124-000001", Status: model.StatusSuspended, Prior: model.StatusInProgress, Source: "resident",
		Category: "dispute", Urgency: "urgent", Location: &model.Point{Lng: 105.28, Lat: 29.35}, Grid: "511083001001001",
		Jurisdiction: "511083001001", Reporter: "张三", Description: "邻里纠纷", Attachments: []string{"a", "b"},
		ReportedAt: at, ReportedBy: "w1", AcceptBy: at.Add(time.Hour).In(workcal.CST), Deadline: at.Add(48 * time.Hour).In(workcal.CST),
		AcceptedAt: at.Add(time.Minute), Handler: "h1", Supervised: 2, Origin: "511083", EscalatedTo: "511000",
		Priority: 3, Overdue: true, SuspendedAt: at.Add(2 * time.Hour), MergedInto: "x", Merged: []string{"y"},
		Satisfaction: "satisfied", ClosedAt: at.Add(3 * time.Hour), Period: "202611", Rev: 7,
	}
}

// The binary record reads back exactly as the JSON record would, zone
// offsets included, for a full event and an empty one.
func TestEventRecordMatchesJSON(t *testing.T) {
	for name, ev := range map[string]*model.Event{"full": fullEvent(), "empty": {}} {
		raw, err := EncodeRecord(ev)
		if err != nil {
			t.Fatal(err)
		}
		if raw[0] != recordMagic {
			t.Fatalf("%s: not binary", name)
		}
		var bin, viaJSON model.Event
		if err := decodeRecord(raw, &bin); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		j, _ := json.Marshal(ev)
		if err := decodeRecord(j, &viaJSON); err != nil {
			t.Fatalf("%s: JSON record: %v", name, err)
		}
		if !reflect.DeepEqual(bin, viaJSON) {
			t.Fatalf("%s: binary %+v\nJSON   %+v", name, bin, viaJSON)
		}
		jb, _ := json.Marshal(&bin)
		if string(jb) != string(j) {
			t.Fatalf("%s: API form differs:\n%s\n%s", name, jb, j)
		}
	}
}

func TestEventRecordRejectsDamage(t *testing.T) {
	raw, _ := EncodeRecord(fullEvent())
	bad := map[string][]byte{
		"truncated":      raw[:len(raw)-1],
		"trailing":       append(append([]byte(nil), raw...), 0),
		"unknown format": append([]byte{recordMagic, 9}, raw[2:]...),
		"header only":    raw[:1],
	}
	for name, in := range bad {
		var e model.Event
		if err := decodeRecord(in, &e); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	var g model.Grid
	if err := decodeRecord(raw, &g); err == nil {
		t.Error("a binary event decoded as a grid")
	}
}

func FuzzEventRecord(f *testing.F) {
	raw, _ := EncodeRecord(fullEvent())
	f.Add(raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		var e model.Event
		if decodeRecord(append([]byte{recordMagic, recordFormat1}, data...), &e) != nil {
			return
		}
		again, _ := EncodeRecord(&e)
		var e2 model.Event
		if err := decodeRecord(again, &e2); err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("re-encoded event differs: %v", err)
		}
	})
}

// A report travels as a binary payload; it decodes to what its JSON would,
// a damaged one is refused without touching the state, and the audit log
// shows it as JSON.
func TestReportPayload(t *testing.T) {
	r := &model.Report{Category: "dispute", Urgency: "urgent", Source: "resident", Description: "噪音", Location: &model.Point{Lng: 105.2, Lat: 29.3},
		Grid: "511083001001001", Jurisdiction: "511083001", Reporter: "李四", Attachments: []string{"att/1"}}
	raw, err := EncodeRecord(r)
	if err != nil || raw[0] != recordMagic {
		t.Fatalf("not binary: %v", err)
	}
	c := &Command{Type: "event.report", Version: 1, ID: "r1", At: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), Actor: "x", Payload: raw}
	d := decodeEntry(mustEncode(t, c))
	if d.err != nil || !reflect.DeepEqual(d.val, r) {
		t.Fatalf("decoded %+v, %v", d.val, d.err)
	}
	j, _ := c.payloadJSON()
	var back model.Report
	if err := json.Unmarshal(j, &back); err != nil || !reflect.DeepEqual(&back, r) {
		t.Fatalf("payload as JSON: %s %v", j, err)
	}

	e, err := OpenEngine(t.TempDir(), EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	before, _ := e.Digest()
	bad := *c
	bad.Payload = raw[:len(raw)-2]
	res, err := e.ApplyBatch([]Entry{{Index: 1, Data: mustEncode(t, &bad)}})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res[0].Err, errs.ErrInvalid) || errs.Field(res[0].Err) != "command.payload" {
		t.Fatalf("truncated payload: %v", res[0].Err)
	}
	if after, _ := e.Digest(); after != before {
		t.Fatal("a refused payload changed the state")
	}
	// A binary payload of another type is refused too.
	other := *c
	other.Type = "event.sweep"
	if d := decodeEntry(mustEncode(t, &other)); !errors.Is(d.err, errs.ErrInvalid) {
		t.Fatalf("binary report as a sweep: %v", d.err)
	}
}

func mustEncode(t *testing.T, c *Command) []byte {
	t.Helper()
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Divisions are binary records too: every field survives, an old JSON record
// still reads, and a truncated one is refused.
func TestJurisdictionRecord(t *testing.T) {
	full := &model.Jurisdiction{Code: "511083001", Name: "古湖街道", Parent: "511083", Tier: "township", HasBounds: true, Derived: true}
	for name, j := range map[string]*model.Jurisdiction{"full": full, "empty": {}} {
		raw, err := EncodeRecord(j)
		if err != nil || raw[0] != recordMagic {
			t.Fatalf("%s: %v", name, err)
		}
		var bin, viaJSON model.Jurisdiction
		if err := decodeRecord(raw, &bin); err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(j)
		if err := decodeRecord(js, &viaJSON); err != nil {
			t.Fatal(err)
		}
		if bin != *j || viaJSON != *j {
			t.Fatalf("%s: binary %+v, JSON %+v, want %+v", name, bin, viaJSON, *j)
		}
		var Cut model.Jurisdiction
		if err := decodeRecord(raw[:len(raw)-1], &Cut); err == nil {
			t.Fatalf("%s: truncated record accepted", name)
		}
	}
}

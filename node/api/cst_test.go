package api

import (
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
)

// Answers give times in China Standard Time; the instant is the stored one.
func TestTimesAnswerInChinaStandardTime(t *testing.T) {
	f := newFixture(t)
	var ev map[string]any
	if resp, m := f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "时区", "grid": "511083001001001"}, &ev); resp.StatusCode != 201 {
		t.Fatalf("report: %d %v", resp.StatusCode, m)
	}
	at, _ := ev["reported_at"].(string)
	if !strings.HasSuffix(at, "+08:00") {
		t.Fatalf("reported_at %q is not in +08:00", at)
	}
	stored, err := f.b.s.Events.Get(ev["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	got, err := time.Parse(time.RFC3339Nano, at)
	if err != nil || !got.Equal(stored.ReportedAt) {
		t.Fatalf("%q is not the stored instant %v", at, stored.ReportedAt)
	}
	if stored.ReportedAt.Location() != time.UTC {
		t.Fatal("answering in CST changed the stored value")
	}
	// Nested, behind pointers and in lists; zero times stay zero.
	type inner struct{ At time.Time }
	v := inCST(map[string]any{"list": []*inner{{At: stored.ReportedAt}}, "zero": model.Event{}}).(map[string]any)
	if v["list"].([]*inner)[0].At.Location().String() != "CST" || !v["zero"].(model.Event).ClosedAt.IsZero() {
		t.Fatalf("walk: %+v", v)
	}
}

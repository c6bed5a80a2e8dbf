package api

import (
	"testing"

	"github.com/fengqiao/fengqiao/core/model"
)

// Urgency and 督办 filter a listing, by place and by time (the search
// index), and a bad value is refused naming its field.
func TestEventsFilterByUrgencyAndSupervision(t *testing.T) {
	f := newFixture(t)
	report := func(urgency, desc string) string {
		var ev model.Event
		if resp, m := f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": desc, "urgency": urgency,
			"grid": "511083001001001"}, &ev); resp.StatusCode != 201 {
			t.Fatalf("report: %d %v", resp.StatusCode, m)
		}
		return ev.ID
	}
	normal, urgent, watched := report("normal", "噪音扰民一般"), report("urgent", "噪音扰民紧急"), report("normal", "噪音扰民督办")
	if resp, m := f.do("POST", "/api/v1/events/"+watched+"/actions", f.admin, map[string]any{"action": "supervise", "note": "督办"}, nil); resp.StatusCode != 200 {
		t.Fatalf("supervise: %d %v", resp.StatusCode, m)
	}
	ids := func(query string) []string {
		var page model.Page
		if resp, m := f.do("GET", "/api/v1/events?"+query, f.admin, nil, &page); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", query, resp.StatusCode, m)
		}
		var out []string
		for _, e := range page.Events {
			out = append(out, e.ID)
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"urgency=urgent", []string{urgent}},
		{"urgency=urgent&sort=newest", []string{urgent}},
		{"urgency=urgent&q=噪音扰民", []string{urgent}},
		{"supervised=true", []string{watched}},
		{"supervised=true&q=噪音扰民", []string{watched}},
		{"urgency=normal&sort=oldest", []string{normal, watched}},
	} {
		if got := ids(c.query); len(got) != len(c.want) || got[0] != c.want[0] || got[len(got)-1] != c.want[len(c.want)-1] {
			t.Errorf("%s: %v, want %v", c.query, got, c.want)
		}
	}
	for q, field := range map[string]string{"urgency=soon": "urgency", "supervised=maybe": "supervised"} {
		if resp, m := f.do("GET", "/api/v1/events?"+q, f.admin, nil, nil); resp.StatusCode != 400 || m["field"] != field {
			t.Errorf("%s: %d %v", q, resp.StatusCode, m)
		}
	}
}

package api

import "testing"

// The handover routes refuse bad input naming the field and change
// nothing; the whole flow across a peer link is in the demo's browser test
// (node/browser_test.go, HandoverAccepted) and core's handover tests.
func TestHandoverRoutesRefuseBadInput(t *testing.T) {
	f := newFixture(t)
	var list handoversView
	if resp, _ := f.do("GET", "/api/v1/handovers", f.admin, nil, &list); resp.StatusCode != 200 || len(list.Handovers) != 0 {
		t.Fatalf("list: %d %+v", resp.StatusCode, list)
	}
	if resp, m := f.do("GET", "/api/v1/handovers?status=lost", f.admin, nil, nil); resp.StatusCode != 400 || m["field"] != "status" {
		t.Errorf("bad status: %d %v", resp.StatusCode, m)
	}
	if resp, m := f.do("POST", "/api/v1/handovers", f.admin, map[string]any{"person": "nobody", "to": "500110", "deadline": "2030-01-01T00:00:00Z"}, nil); resp.StatusCode != 404 && resp.StatusCode != 400 {
		t.Errorf("an unknown person: %d %v", resp.StatusCode, m)
	}
	if resp, m := f.do("POST", "/api/v1/handovers/no-such/accept", f.admin, nil, nil); resp.StatusCode != 404 {
		t.Errorf("accept an unknown handover: %d %v", resp.StatusCode, m)
	}
	if resp, _ := f.do("GET", "/api/v1/handovers", f.admin, nil, &list); resp.StatusCode != 200 || len(list.Handovers) != 0 {
		t.Fatalf("refusals left handovers: %+v", list)
	}
	// A township token does not cover the group.
	if resp, _ := f.do("GET", "/api/v1/handovers", f.town, nil, nil); resp.StatusCode != 403 {
		t.Errorf("township: %d", resp.StatusCode)
	}
}

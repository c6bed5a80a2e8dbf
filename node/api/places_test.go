package api

import (
	"testing"
)

// The day of a township operator over HTTP: houses, people moving, grids
// and their workers. Each refusal names its field and changes nothing.
func TestPlacesOverHTTP(t *testing.T) {
	f := newFixture(t)
	village, grid := "511083001001", "511083001001001"
	var h map[string]any
	if resp, m := f.do("POST", "/api/v1/houses", f.town, map[string]any{"address": "白鹤路 3 号", "jurisdiction": village, "grid": grid, "use": "residential"}, &h); resp.StatusCode != 201 {
		t.Fatalf("add house: %d %v", resp.StatusCode, m)
	}
	hid := h["id"].(string)
	refused := func(what, method, path, token string, body any, status int, field string) {
		t.Helper()
		before := f.digest()
		resp, m := f.do(method, path, token, body, nil)
		expectProblem(t, what, resp, m, status, field)
		if f.digest() != before {
			t.Errorf("%s: refused, yet the state changed", what)
		}
	}
	refused("unknown use", "POST", "/api/v1/houses", f.town, map[string]any{"address": "x", "jurisdiction": village, "use": "castle"}, 400, "use")
	refused("house in another township", "POST", "/api/v1/houses", f.town, map[string]any{"address": "x", "jurisdiction": "511083002001"}, 404, "jurisdiction")
	refused("house status by hand", "PATCH", "/api/v1/houses/"+hid, f.town, map[string]any{"status": "retired"}, 400, "status")
	var p map[string]any
	if resp, m := f.do("POST", "/api/v1/people", f.town, map[string]any{"name": "李四", "id_number": validID(31), "kind": "registered",
		"jurisdiction": village, "grid": grid, "house": hid}, &p); resp.StatusCode != 201 {
		t.Fatalf("add person: %d %v", resp.StatusCode, m)
	}
	pid := p["id"].(string)
	var hv houseView
	if resp, _ := f.do("GET", "/api/v1/houses/"+hid, f.town, nil, &hv); resp.StatusCode != 200 || len(hv.Residents) != 1 || hv.Residents[0].ID != pid {
		t.Fatalf("house with residents: %d %+v", resp.StatusCode, hv)
	}
	refused("retire an occupied house", "POST", "/api/v1/houses/"+hid+"/retire", f.town, map[string]any{"reason": "拆迁"}, 409, "id")
	// The person moves: kind by PATCH, village by transfer (the county's
	// token reaches both townships; the township's does not).
	if resp, m := f.do("PATCH", "/api/v1/people/"+pid, f.town, map[string]any{"kind": "floating"}, nil); resp.StatusCode != 200 || m["kind"] != "floating" {
		t.Fatalf("update person: %d %v", resp.StatusCode, m)
	}
	refused("transfer out of the township's scope", "POST", "/api/v1/people/"+pid+"/transfer", f.town, map[string]any{"jurisdiction": "511083002001", "reason": "搬家"}, 404, "jurisdiction")
	refused("transfer with no reason", "POST", "/api/v1/people/"+pid+"/transfer", f.admin, map[string]any{"jurisdiction": "511083002001"}, 400, "reason")
	if resp, m := f.do("POST", "/api/v1/people/"+pid+"/transfer", f.admin, map[string]any{"jurisdiction": "511083002001", "reason": "搬家"}, nil); resp.StatusCode != 200 || m["jurisdiction"] != "511083002001" {
		t.Fatalf("transfer: %d %v", resp.StatusCode, m)
	}
	if resp, m := f.do("POST", "/api/v1/houses/"+hid+"/retire", f.town, map[string]any{"reason": "拆迁"}, nil); resp.StatusCode != 200 || m["status"] != "retired" {
		t.Fatalf("retire the empty house: %d %v", resp.StatusCode, m)
	}
	// Grids: a worker, assigned and taken off; a bad role and an unknown
	// worker are refused by name.
	if resp, m := f.do("POST", "/api/v1/workers", f.town, map[string]any{"id": "w-li", "name": "李网格", "jurisdiction": village}, nil); resp.StatusCode != 200 {
		t.Fatalf("put worker: %d %v", resp.StatusCode, m)
	}
	var fe feature
	if resp, m := f.do("PUT", "/api/v1/grids/"+grid+"/workers/w-li", f.town, map[string]any{"role": "grid_leader"}, &fe); resp.StatusCode != 200 {
		t.Fatalf("assign: %d %v", resp.StatusCode, m)
	}
	if ws := fe.Properties["workers"].([]any); len(ws) != 1 {
		t.Fatalf("workers after assign: %v", ws)
	}
	refused("unknown role", "PUT", "/api/v1/grids/"+grid+"/workers/w-li", f.town, map[string]any{"role": "captain"}, 400, "role")
	refused("unknown worker", "PUT", "/api/v1/grids/"+grid+"/workers/w-nobody", f.town, map[string]any{"role": "part_time"}, 404, "worker")
	if resp, m := f.do("DELETE", "/api/v1/grids/"+grid+"/workers/w-li", f.town, nil, &fe); resp.StatusCode != 200 || len(fe.Properties["workers"].([]any)) != 0 {
		t.Fatalf("remove worker: %d %v", resp.StatusCode, m)
	}
	refused("retire a grid with no reason", "POST", "/api/v1/grids/"+grid+"/retire", f.town, map[string]any{"reason": " "}, 400, "reason")
	refused("move a grid to another village", "PUT", "/api/v1/grids/"+grid, f.town, map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Polygon"},
		"properties": map[string]any{"name": "x", "jurisdiction": "511083001002"}}, 400, "properties.jurisdiction")
	if resp, m := f.do("POST", "/api/v1/grids/"+grid+"/retire", f.town, map[string]any{"reason": "重划"}, nil); resp.StatusCode != 200 || m["properties"].(map[string]any)["status"] != "retired" {
		t.Fatalf("retire grid: %d %v", resp.StatusCode, m)
	}
}

package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestOpen311(t *testing.T) {
	f := newFixture(t)
	var services []o311Service
	if resp, _ := f.do("GET", "/open311/v2/services.json", f.town, nil, &services); resp.StatusCode != 200 || len(services) < 10 || services[0].ServiceCode != "dispute" {
		t.Fatalf("services: %d %+v", resp.StatusCode, services)
	}
	// A form-encoded request with api_key, as GeoReport v2 clients send it.
	var g map[string]any
	f.do("GET", "/api/v1/grids/511083001001003", f.town, nil, &g)
	ring := g["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)
	p0, p2 := ring[0].([]any), ring[2].([]any)
	lat, lng := (p0[1].(float64)+p2[1].(float64))/2, (p0[0].(float64)+p2[0].(float64))/2
	post := func(form url.Values) (int, []byte) {
		resp, err := http.PostForm(f.srv.URL+"/open311/v2/requests.json", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	code, body := post(url.Values{"api_key": {f.town}, "service_code": {"sanitation"}, "description": {"垃圾未清运"},
		"lat": {fmt.Sprint(lat)}, "long": {fmt.Sprint(lng)}})
	var created []map[string]string
	json.Unmarshal(body, &created)
	if code != 201 || len(created) != 1 || !strings.HasPrefix(created[0]["service_request_id"], "511083001-") {
		t.Fatalf("create: %d %s", code, body)
	}
	id := created[0]["service_request_id"]
	var one []o311Request
	if resp, _ := f.do("GET", "/open311/v2/requests/"+id+".json", f.town, nil, &one); resp.StatusCode != 200 || len(one) != 1 || one[0].Status != "open" || one[0].ServiceCode != "sanitation" {
		t.Fatalf("get: %d %+v", resp.StatusCode, one)
	}
	var list []o311Request
	if resp, _ := f.do("GET", "/open311/v2/requests.json?status=open&api_key="+f.town, "", nil, &list); resp.StatusCode != 200 || len(list) != 1 {
		t.Fatalf("list with api_key: %d %+v", resp.StatusCode, list)
	}
	before := f.digest()
	if code, body := post(url.Values{"api_key": {f.town}, "service_code": {"sanitation"}, "description": {"x"}, "lat": {"north"}, "long": {"1"}}); code != 400 || !strings.Contains(string(body), `[{"code":400,"description":"lat: `) {
		t.Fatalf("bad lat: %d %s", code, body)
	}
	if code, _ := post(url.Values{"service_code": {"sanitation"}, "description": {"x"}}); code != 403 {
		t.Fatalf("no api_key: %d", code)
	}
	if code, body := post(url.Values{"api_key": {f.town}, "service_code": {"aliens"}, "description": {"x"}, "lat": {fmt.Sprint(lat)}, "long": {fmt.Sprint(lng)}}); code != 404 || !strings.Contains(string(body), `"description":"service_code: `) {
		t.Fatalf("unknown service: %d %s", code, body)
	}
	if f.digest() != before {
		t.Fatal("refused Open311 requests changed the state")
	}
}

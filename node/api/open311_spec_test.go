package api

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
)

// The GeoReport v2 spec's shapes: discovery, XML for every endpoint, service
// definitions, list filters with the 90-day default, status notes, and the
// spec's error format.
func TestOpen311Spec(t *testing.T) {
	f := newFixture(t)
	get := func(path, token string) (int, string, []byte) {
		t.Helper()
		resp := f.raw("GET", path, token, nil)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	// Discovery needs no key, in both formats.
	var d struct {
		Endpoints []struct {
			Specification string   `xml:"specification"`
			Formats       []string `xml:"formats>format"`
		} `xml:"endpoints>endpoint"`
	}
	code, ctype, body := get("/open311/v2/discovery.xml", "")
	if code != 200 || !strings.HasPrefix(ctype, "text/xml") || xml.Unmarshal(body, &d) != nil || len(d.Endpoints) != 1 ||
		d.Endpoints[0].Specification != "http://wiki.open311.org/GeoReport_v2" || len(d.Endpoints[0].Formats) != 2 {
		t.Fatalf("discovery.xml: %d %s %s", code, ctype, body)
	}
	if code, _, body := get("/open311/v2/discovery.json", ""); code != 200 || !strings.Contains(string(body), `"key_service"`) {
		t.Fatalf("discovery.json: %d %s", code, body)
	}
	// Services as XML, and a service definition.
	var svc struct {
		Services []struct {
			Code string `xml:"service_code"`
		} `xml:"service"`
	}
	if code, _, body := get("/open311/v2/services.xml", f.town); code != 200 || xml.Unmarshal(body, &svc) != nil || len(svc.Services) < 10 {
		t.Fatalf("services.xml: %d %s", code, body)
	}
	if code, _, body := get("/open311/v2/services/dispute.json", f.town); code != 200 || !strings.Contains(string(body), `"service_code":"dispute"`) {
		t.Fatalf("definition: %d %s", code, body)
	}
	if code, _, body := get("/open311/v2/services/aliens.xml", f.town); code != 404 || !strings.Contains(string(body), "<errors><error><code>404</code>") {
		t.Fatalf("an unknown service: %d %s", code, body)
	}
	// Requests: one open, one rejected with its reason in status_notes.
	ids := []string{}
	for _, c := range []string{"dispute", "sanitation"} {
		var ev map[string]any
		f.do("POST", "/api/v1/events", f.town, map[string]any{"category": c, "description": "开放", "grid": "511083001001001"}, &ev)
		ids = append(ids, ev["id"].(string))
	}
	f.do("POST", "/api/v1/events/"+ids[1]+"/actions", f.town, map[string]any{"action": "reject", "reason": "重复上报"}, nil)
	var reqs struct {
		Requests []struct {
			ID      string `xml:"service_request_id"`
			Status  string `xml:"status"`
			Notes   string `xml:"status_notes"`
			Updated string `xml:"updated_datetime"`
		} `xml:"request"`
	}
	code, _, body = get("/open311/v2/requests.xml?service_code=dispute,sanitation&status=open,closed", f.town)
	if code != 200 || xml.Unmarshal(body, &reqs) != nil || len(reqs.Requests) != 2 || reqs.Requests[0].ID != ids[1] {
		t.Fatalf("requests.xml (newest first): %d %s", code, body)
	}
	if r := reqs.Requests[0]; r.Status != "closed" || r.Notes != "不予受理：重复上报" || !strings.HasSuffix(r.Updated, "+08:00") {
		t.Fatalf("the rejected request: %+v", r)
	}
	code, _, body = get("/open311/v2/requests.json?status=closed", f.town)
	if code != 200 || strings.Count(string(body), "service_request_id") != 1 {
		t.Fatalf("closed only: %d %s", code, body)
	}
	// Outside the 90 days and before start_date: nothing.
	old := time.Now().AddDate(0, 0, -200).Format(time.RFC3339)
	code, _, body = get("/open311/v2/requests.json?end_date="+old, f.town)
	if code != 200 || strings.TrimSpace(string(body)) != "[]" {
		t.Fatalf("before the window: %d %s", code, body)
	}
	// The spec's errors: a bad filter, a bad key.
	code, _, body = get("/open311/v2/requests.json?status=lost", f.town)
	if code != 400 || !strings.Contains(string(body), `[{"code":400,"description":"status: `) {
		t.Fatalf("a bad status: %d %s", code, body)
	}
	resp := f.raw("GET", "/open311/v2/requests.xml?api_key=nonsense", "", nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "<errors><error><code>403</code>") {
		t.Fatalf("a bad key: %d %s", resp.StatusCode, b)
	}
}

// Creating a request the spec's ways: address_id, address_string by name,
// phone (sealed), media_url (a link, checked), 4,000 characters.
func TestOpen311Create(t *testing.T) {
	f := newFixture(t)
	village, err := f.b.s.Jurisdictions.Get("511083001001")
	if err != nil {
		t.Fatal(err)
	}
	post := func(form url.Values) (int, []byte) {
		t.Helper()
		form.Set("api_key", f.town)
		resp, err := http.PostForm(f.srv.URL+"/open311/v2/requests.json", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	created := func(body []byte) string {
		var c []map[string]string
		json.Unmarshal(body, &c)
		if len(c) != 1 {
			t.Fatalf("created: %s", body)
		}
		return c[0]["service_request_id"]
	}
	code, body := post(url.Values{"service_code": {"dispute"}, "description": {"按编码"}, "address_id": {"511083001001001"}, "phone": {"13912345678"},
		"media_url": {"https://example.com/p.jpg"}, "first_name": {"张"}, "last_name": {"三"}, "email": {"zhang@example.com"}})
	if code != 201 {
		t.Fatalf("address_id: %d %s", code, body)
	}
	ev, _ := f.b.s.Events.Get(created(body))
	if ev.Grid != "511083001001001" || ev.PhoneMasked != "139****5678" || ev.Reporter == "" || strings.Contains(ev.Reporter, "三") || ev.EmailMasked != "z****@example.com" {
		t.Fatalf("stored: %+v", ev)
	}
	// The name is sealed like the phone: first_name then last_name, opened for 回访.
	if c, err := f.b.s.Events.Contact(context.Background(), ev.ID, model.Purpose{Basis: model.BasisCaseHandling, Text: "回访"}); err != nil || c.Reporter != "张 三" {
		t.Fatalf("contact: %+v %v", c, err)
	}
	var one []o311Request
	f.do("GET", "/open311/v2/requests/"+ev.ID+".json", f.town, nil, &one)
	if len(one) != 1 || one[0].MediaURL != "https://example.com/p.jpg" || one[0].AddressID != "511083001001001" {
		t.Fatalf("answer: %+v", one)
	}
	code, body = post(url.Values{"service_code": {"dispute"}, "description": {"按名称"}, "address_string": {"四川省隆昌市" + village.Name + "东头"}})
	if code != 201 {
		t.Fatalf("address_string: %d %s", code, body)
	}
	if ev, _ = f.b.s.Events.Get(created(body)); ev.Jurisdiction != "511083001001" {
		t.Fatalf("address_string resolved to %s", ev.Jurisdiction)
	}
	if code, body = post(url.Values{"service_code": {"dispute"}, "description": {strings.Repeat("纠", 4000)}, "address_id": {"511083001001"}}); code != 201 {
		t.Fatalf("4,000 characters: %d %s", code, body)
	}
	before := f.digest()
	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"service_code": {"dispute"}, "description": {strings.Repeat("纠", 4001)}, "address_id": {"511083001001"}}, "description"},
		{url.Values{"service_code": {"dispute"}, "description": {"x"}, "address_id": {"511083001001"}, "media_url": {"javascript:alert(1)"}}, "media_url"},
		{url.Values{"service_code": {"dispute"}, "description": {"x"}, "address_string": {"火星"}}, "address_string"},
		{url.Values{"service_code": {"dispute"}, "description": {"x"}, "address_id": {"511083001001"}, "phone": {"call me"}}, "reporter_phone"},
	} {
		code, body := post(c.form)
		if code < 400 || !strings.Contains(string(body), `"description":"`+c.field+`: `) {
			t.Errorf("%s: %d %s", c.field, code, body)
		}
	}
	if f.digest() != before {
		t.Fatal("a refused request changed the state")
	}
}

// Without a key, Open311 shows only what config/open311 makes public:
// nothing by default.
func TestOpen311KeylessReads(t *testing.T) {
	f := newFixture(t)
	ids := map[string]string{}
	for _, c := range []string{"dispute", "sanitation"} {
		var ev map[string]any
		f.do("POST", "/api/v1/events", f.town, map[string]any{"category": c, "description": "公开", "grid": "511083001001001", "reporter": "李四"}, &ev)
		ids[c] = ev["id"].(string)
	}
	anon := func(path string) (int, string) {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := anon("/open311/v2/requests.json"); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("keyless by default: %d %s", code, body)
	}
	if code, body := anon("/open311/v2/services.json"); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("keyless services by default: %d %s", code, body)
	}
	resp, m := f.do("PUT", "/api/v1/config/open311", f.admin, map[string]any{"public_services": []string{"aliens"}}, nil)
	expectProblem(t, "an unknown service", resp, m, 400, "public_services")
	if resp, m := f.do("PUT", "/api/v1/config/open311", f.admin, map[string]any{"public_services": []string{"sanitation"}}, nil); resp.StatusCode != 200 {
		t.Fatalf("config: %d %v", resp.StatusCode, m)
	}
	code, body := anon("/open311/v2/requests.json")
	if code != 200 || !strings.Contains(body, ids["sanitation"]) || strings.Contains(body, ids["dispute"]) || strings.Contains(body, "李四") {
		t.Fatalf("keyless after config: %d %s", code, body)
	}
	if code, _ := anon("/open311/v2/requests/" + ids["dispute"] + ".json"); code != 404 {
		t.Fatalf("a private request without a key: %d", code)
	}
	if code, body := anon("/open311/v2/services.xml"); code != 200 || strings.Count(body, "<service>") != 1 {
		t.Fatalf("keyless services after config: %d %s", code, body)
	}
	// A key still sees everything in its scope.
	if code, body := anon("/open311/v2/requests.json?api_key=" + f.town); code != 200 || !strings.Contains(body, ids["dispute"]) {
		t.Fatalf("with a key: %d %s", code, body)
	}
}

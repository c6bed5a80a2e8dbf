package api

import (
	"encoding/json"
	"os/exec"
	"slices"
	"testing"
)

// Code for America's node-open311, a client nobody here wrote, does
// discovery, reads the services and a definition, submits a request with
// an attribute and reads it back, as it would against any GeoReport v2
// endpoint. It sends its reads without a key, so the service is made
// public first (config/open311), as a jurisdiction would.
func TestOpen311WithAnOutsideClient(t *testing.T) {
	nodejs, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("no node on PATH: install Node.js (apt-get install nodejs); .ci/run does")
	}
	f := newFixture(t)
	f.withPlugins(t)
	if resp, m := f.do("PUT", "/api/v1/config/open311", f.admin, map[string]any{"public_services": []string{"dispute"}}, nil); resp.StatusCode != 200 {
		t.Fatalf("config: %d %v", resp.StatusCode, m)
	}
	cmd := exec.Command(nodejs, "run.js", f.srv.URL, f.town, "dispute", "board:hazard", "fire")
	cmd.Dir = "testdata/open311-client"
	raw, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node-open311: %v\n%s", err, raw)
	}
	var out struct {
		Endpoint string
		Services []struct {
			ServiceCode string `json:"service_code"`
		}
		Definition struct {
			ServiceCode string `json:"service_code"`
			Attributes  []struct {
				Code     string `json:"code"`
				Datatype string `json:"datatype"`
			} `json:"attributes"`
		}
		Created []struct {
			ID string `json:"service_request_id"`
		}
		One []struct {
			ID          string `json:"service_request_id"`
			ServiceCode string `json:"service_code"`
			Status      string `json:"status"`
			Description string `json:"description"`
		}
		List []string
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
	if out.Endpoint != f.srv.URL+"/open311/v2/" {
		t.Errorf("discovery gave the endpoint %q", out.Endpoint)
	}
	if len(out.Services) != 1 || out.Services[0].ServiceCode != "dispute" {
		t.Errorf("keyless services: %+v (only the public one)", out.Services)
	}
	if out.Definition.ServiceCode != "dispute" || len(out.Definition.Attributes) != 2 || out.Definition.Attributes[0].Code != "board:hazard" {
		t.Errorf("definition: %+v", out.Definition)
	}
	if len(out.Created) != 1 || out.Created[0].ID == "" {
		t.Fatalf("created: %+v", out.Created)
	}
	id := out.Created[0].ID
	if len(out.One) != 1 || out.One[0].ID != id || out.One[0].Status != "open" || out.One[0].Description != "外部客户端：路面塌陷" {
		t.Errorf("read back: %+v", out.One)
	}
	if !slices.Contains(out.List, id) {
		t.Errorf("the list %v lacks %s", out.List, id)
	}
	ev, err := f.b.s.Events.Get(id)
	if err != nil || string(ev.Ext["board:hazard"]) != `"fire"` || ev.Reporter == "三 张" || ev.PhoneMasked != "139****5678" {
		t.Errorf("stored: %+v %v", ev, err)
	}
}

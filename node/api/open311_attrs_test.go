package api

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/model"
)

// A plugin's report form becomes each service's attributes; attribute[...]
// on a POST fills the plugin's fields, typed and checked by its schema.
func TestOpen311AttributesFromPluginForms(t *testing.T) {
	f := newFixture(t)
	f.withPlugins(t)
	var def o311Definition
	if resp, _ := f.do("GET", "/open311/v2/services/dispute.json?api_key="+f.town, "", nil, &def); resp.StatusCode != 200 {
		t.Fatalf("definition: %d", resp.StatusCode)
	}
	if len(def.Attributes) != 2 {
		t.Fatalf("attributes: %+v", def.Attributes)
	}
	hz, ppl := def.Attributes[0], def.Attributes[1]
	if hz.Code != "board:hazard" || hz.Datatype != "singlevaluelist" || !hz.Required || hz.Description != "隐患类型" || hz.Order != 1 ||
		len(hz.Values) != 2 || hz.Values[0] != (o311Value{Key: "fire", Name: "火灾"}) {
		t.Errorf("hazard: %+v", hz)
	}
	if ppl.Code != "board:people" || ppl.Datatype != "number" || ppl.Required || ppl.Order != 2 {
		t.Errorf("people: %+v", ppl)
	}
	// The same in XML, as the spec lays it out.
	resp := f.raw("GET", "/open311/v2/services/dispute.xml?api_key="+f.town, "", nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var x struct {
		Attrs []struct {
			Code   string `xml:"code"`
			Values []struct {
				Key  string `xml:"key"`
				Name string `xml:"name"`
			} `xml:"values>value"`
		} `xml:"attributes>attribute"`
	}
	if err := xml.Unmarshal(raw, &x); err != nil || len(x.Attrs) != 2 || x.Attrs[0].Values[1].Name != "水患" {
		t.Fatalf("XML definition %s: %v", raw, err)
	}

	post := func(v url.Values) (int, string) {
		v.Set("api_key", f.town)
		req, _ := http.NewRequest("POST", f.srv.URL+"/open311/v2/requests.json", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	base := func() url.Values {
		return url.Values{"service_code": {"dispute"}, "description": {"河边堆放易燃物"}, "address_id": {"511083001001001"}}
	}
	before, _ := f.b.s.Events.List(eventQueryAll())
	for _, c := range []struct {
		set   map[string]string
		field string
	}{
		{map[string]string{}, "attribute[board:hazard]"},                                                                     // required
		{map[string]string{"attribute[board:hazard]": "earthquake"}, "attribute[board:hazard]"},                              // not in the list
		{map[string]string{"attribute[board:hazard]": "fire", "attribute[board:people]": "many"}, "attribute[board:people]"}, // not a number
		{map[string]string{"attribute[board:hazard]": "fire", "attribute[board:people]": "-1"}, "attribute[board:people]"},   // below the minimum
		{map[string]string{"attribute[board:hazard]": "fire", "attribute[board:own]": "x"}, "attribute[board:own]"},          // not a report field
	} {
		v := base()
		for k, val := range c.set {
			v.Set(k, val)
		}
		code, body := post(v)
		var errsOut []map[string]string
		json.Unmarshal([]byte(body), &errsOut)
		if code != 400 || len(errsOut) != 1 || !strings.Contains(errsOut[0]["description"], strings.TrimSuffix(strings.TrimPrefix(c.field, "attribute["), "]")) {
			t.Errorf("%v: %d %s, want 400 naming %s", c.set, code, body, c.field)
		}
	}
	if after, _ := f.b.s.Events.List(eventQueryAll()); len(after.Events) != len(before.Events) {
		t.Fatalf("refused requests made %d events", len(after.Events)-len(before.Events))
	}
	v := base()
	v.Set("attribute[board:hazard]", "flood")
	v.Set("attribute[board:people]", "3")
	code, body := post(v)
	if code != 201 {
		t.Fatalf("with attributes: %d %s", code, body)
	}
	var created []map[string]string
	json.Unmarshal([]byte(body), &created)
	ev, err := f.b.s.Events.Get(created[0]["service_request_id"])
	if err != nil || string(ev.Ext["board:hazard"]) != `"flood"` || string(ev.Ext["board:people"]) != `3` {
		t.Fatalf("stored: %v %v", ev.Ext, err)
	}
	// The JSON API takes the same fields in ext, checked the same way; a
	// plugin field no report form declares stays the plugin's.
	if resp, m := f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "x", "grid": "511083001001001",
		"ext": map[string]any{"board:hazard": "lava"}}, nil); resp.StatusCode != 400 || m["field"] != "ext.board:hazard" {
		t.Errorf("a bad form value: %d %v", resp.StatusCode, m)
	}
	if resp, m := f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "x", "grid": "511083001001001",
		"ext": map[string]any{"board:own": "forged"}}, nil); resp.StatusCode != 400 || m["field"] != "ext" {
		t.Errorf("a plugin's own field: %d %v", resp.StatusCode, m)
	}
	if resp, _ := f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "x", "grid": "511083001001001",
		"ext": map[string]any{"board:hazard": "fire"}}, nil); resp.StatusCode != 201 {
		t.Errorf("a good form value: %d", resp.StatusCode)
	}
	// The console reads the forms.
	var forms formsView
	f.do("GET", "/api/v1/forms", f.town, nil, &forms)
	if len(forms.Forms) != 2 || forms.Forms[1].Name != "intake" || forms.Forms[1].Place != "report" || string(forms.Forms[1].Schema["people"]) == "" ||
		len(forms.Forms[1].Required) != 1 {
		t.Errorf("forms: %+v", forms)
	}
}

// eventQueryAll lists the fixture's county, a page of up to 500.
func eventQueryAll() model.Query { return model.Query{Jurisdiction: "511083", Limit: 500} }

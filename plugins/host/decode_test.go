package host

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fengqiao/fengqiao/core/model"
	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
)

func goodDescribe() *pluginv1.DescribeResponse {
	return &pluginv1.DescribeResponse{
		Name: "points", Version: "1.2.0",
		Hooks:      []pluginv1.Hook{pluginv1.Hook_HOOK_ENRICH_EVENT, pluginv1.Hook_HOOK_ON_TRANSITION},
		Categories: [][]byte{[]byte(`{"code":"volunteer","name":"志愿服务"}`)},
		Fields:     []byte(`{"type":"object","properties":{"points":{"type":"integer","minimum":0}},"additionalProperties":false}`),
		Jobs:       []*pluginv1.Job{{Name: "weekly", Cron: "0 9 * * 1"}},
		Routes:     []*pluginv1.Route{{Method: "GET", Path: "/leaderboard/{community}", Summary: "积分排行"}},
		Forms:      []*pluginv1.Form{{Name: "points", Title: "积分", Place: "event", Fields: []string{"points"}}},
	}
}

func TestDecodeDescription(t *testing.T) {
	d, err := decodeDescription("points", goodDescribe())
	if err != nil {
		t.Fatal(err)
	}
	if d.Categories[0].Source != "points" || d.schema == nil || len(d.Jobs) != 1 || d.Hooks[1] != model.HookOnTransition || d.Forms[0].Fields[0] != "points" {
		t.Fatalf("decoded: %+v", d)
	}
	bad := map[string]func(r *pluginv1.DescribeResponse){
		"calls itself":      func(r *pluginv1.DescribeResponse) { r.Name = "other" },
		"MAJOR.MINOR.PATCH": func(r *pluginv1.DescribeResponse) { r.Version = "v1" },
		"unknown hook 9":    func(r *pluginv1.DescribeResponse) { r.Hooks = append(r.Hooks, 9) },
		"named twice":       func(r *pluginv1.DescribeResponse) { r.Hooks = append(r.Hooks, r.Hooks[0]) },
		"categories[0]": func(r *pluginv1.DescribeResponse) {
			r.Categories[0] = []byte(`{"code":"x","name":"n","source":"national"}`)
		},
		"unknown field":    func(r *pluginv1.DescribeResponse) { r.Categories[0] = []byte(`{"code":"x","name":"n","colour":1}`) },
		"fields: not JSON": func(r *pluginv1.DescribeResponse) { r.Fields = []byte(`{"type":`) },
		"object schema":    func(r *pluginv1.DescribeResponse) { r.Fields = []byte(`{"type":"string"}`) },
		"fields: ": func(r *pluginv1.DescribeResponse) {
			r.Fields = []byte(`{"type":"object","properties":{"a":{"type":7}}}`)
		},
		"no URLLoader": func(r *pluginv1.DescribeResponse) {
			r.Fields = []byte(`{"type":"object","$ref":"https://example.com/s.json"}`)
		},
		"cron":            func(r *pluginv1.DescribeResponse) { r.Jobs[0].Cron = "every day" },
		"job \"\"":        func(r *pluginv1.DescribeResponse) { r.Jobs[0].Name = "" },
		"method must be":  func(r *pluginv1.DescribeResponse) { r.Routes[0].Method = "TRACE" },
		"no .. or //":     func(r *pluginv1.DescribeResponse) { r.Routes[0].Path = "/../admin" },
		"at most 32 jobs": func(r *pluginv1.DescribeResponse) { r.Jobs = make([]*pluginv1.Job, 33) },
		"route GET /a named": func(r *pluginv1.DescribeResponse) {
			r.Routes = []*pluginv1.Route{{Method: "GET", Path: "/a"}, {Method: "GET", Path: "/a"}}
		},
	}
	for want, spoil := range bad {
		r := goodDescribe()
		spoil(r)
		_, err := decodeDescription("points", r)
		if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "plugin points") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}

func TestDecodeCommands(t *testing.T) {
	ok := [][]byte{[]byte(`{"op":"act","seq":7,"event":"e","action":{"action":"comment","note":"n"}}`)}
	if cs, err := decodeCommands("p", "OnTransition", ok, map[uint64]bool{7: true}); err != nil || cs[0].Action.Note != "n" {
		t.Fatalf("a good command: %+v %v", cs, err)
	}
	for want, raw := range map[string]string{
		"unknown op":        `{"op":"drop","seq":7}`,
		"not a change":      `{"op":"put","seq":8}`,
		"unknown field":     `{"op":"put","seq":7,"table":"x"}`,
		"printable":         `{"op":"put","seq":7,"id":"a b"}`,
		"trailing data":     `{"op":"put","seq":7} {}`,
		"answers no change": `{"op":"put","seq":7}`, // as a job's
	} {
		seqs := map[uint64]bool{7: true}
		if want == "answers no change" {
			seqs = nil
		}
		if _, err := decodeCommands("p", "OnTransition", [][]byte{[]byte(raw)}, seqs); !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	if _, err := decodeCommands("p", "RunJob", make([][]byte, MaxCommands+1), nil); !errors.Is(err, ErrBadResponse) {
		t.Errorf("too many commands: %v", err)
	}
}

func TestDecodeAnswers(t *testing.T) {
	d, _ := decodeDescription("points", goodDescribe())
	en, err := decodeEnrichment("points", d, &pluginv1.EnrichEventResponse{Urgency: "urgent", Ext: map[string][]byte{"points": []byte(`5`)}})
	if err != nil || en.Urgency != "urgent" || string(en.Ext["points"]) != "5" {
		t.Fatalf("enrichment: %+v %v", en, err)
	}
	refused := map[string]*pluginv1.EnrichEventResponse{
		"urgency":        {Urgency: "now"},
		"own schema":     {Ext: map[string][]byte{"points": []byte(`-1`)}},
		"additional":     {Ext: map[string][]byte{"other": []byte(`1`)}},
		"one JSON value": {Ext: map[string][]byte{"points": []byte(`1 2`)}},
		"a name of":      {Ext: map[string][]byte{"a:b": []byte(`1`)}},
	}
	for want, r := range refused {
		if _, err := decodeEnrichment("points", d, r); !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "plugin points") {
			t.Errorf("%s: %v", want, err)
		}
	}
	if _, err := decodeRouting("points", &pluginv1.RouteEventResponse{Deadline: "tomorrow"}); !errors.Is(err, ErrBadResponse) {
		t.Errorf("a deadline that is no time: %v", err)
	}
	rt, err := decodeRouting("points", &pluginv1.RouteEventResponse{Handler: "司法所", Deadline: "2026-12-08T10:00:00+08:00"})
	if err != nil || rt.Deadline.Hour() != 2 || rt.Plugin != "points" {
		t.Fatalf("routing: %+v %v", rt, err)
	}
	many := &pluginv1.ValidateEventResponse{}
	for range maxProblems + 1 {
		many.Problems = append(many.Problems, &pluginv1.Problem{Message: "x"})
	}
	if _, err := decodeProblems("points", many); !errors.Is(err, ErrBadResponse) {
		t.Errorf("too many problems: %v", err)
	}
	if _, err := decodeProblems("points", &pluginv1.ValidateEventResponse{Problems: []*pluginv1.Problem{{Field: "x"}}}); !errors.Is(err, ErrBadResponse) {
		t.Errorf("a problem without a message: %v", err)
	}
}

// FuzzDecodeResponses feeds arbitrary bytes through the wire decoding of
// every plugin answer and the host's checks: nothing panics, and whatever
// is accepted keeps the bounds the node relies on.
func FuzzDecodeResponses(f *testing.F) {
	for _, m := range []proto.Message{goodDescribe(),
		&pluginv1.EnrichEventResponse{Urgency: "urgent", Ext: map[string][]byte{"points": []byte(`5`)}},
		&pluginv1.RouteEventResponse{Handler: "h", Deadline: "2026-12-08T10:00:00Z"},
		&pluginv1.ValidateEventResponse{Problems: []*pluginv1.Problem{{Field: "f", Rule: "r", Message: "m"}}},
		&pluginv1.OnTransitionResponse{Commands: [][]byte{[]byte(`{"op":"put","seq":1,"collection":"c","jurisdiction":"511083","key":"k","value":1}`)}}} {
		raw, _ := proto.Marshal(m)
		f.Add(raw)
	}
	schema, _ := decodeDescription("points", goodDescribe())
	f.Fuzz(func(t *testing.T, raw []byte) {
		var d pluginv1.DescribeResponse
		if proto.Unmarshal(raw, &d) == nil {
			if got, err := decodeDescription("", &d); err == nil {
				if model.CheckPluginName(got.Name) != nil || len(got.Jobs) > maxJobs || len(got.Routes) > maxRoutes {
					t.Fatalf("accepted a description out of bounds: %+v", got)
				}
			}
		}
		var e pluginv1.EnrichEventResponse
		if proto.Unmarshal(raw, &e) == nil {
			if got, err := decodeEnrichment("points", schema, &e); err == nil {
				ext := map[string]json.RawMessage{}
				for k, v := range got.Ext {
					ext[model.PluginExtKey("points", k)] = v
				}
				if err := model.CheckExt(ext); err != nil {
					t.Fatalf("accepted extension fields the model refuses: %v", err)
				}
			}
		}
		var r pluginv1.RouteEventResponse
		if proto.Unmarshal(raw, &r) == nil {
			if got, err := decodeRouting("points", &r); err == nil && (len(got.Handler) > 200 || len(got.Department) > 200) {
				t.Fatalf("accepted an oversize routing")
			}
		}
		var o pluginv1.OnTransitionResponse
		if proto.Unmarshal(raw, &o) == nil {
			if got, err := decodeCommands("points", "OnTransition", o.GetCommands(), map[uint64]bool{1: true}); err == nil {
				for _, c := range got {
					if c.Seq != 1 || len(c.ID) > 100 {
						t.Fatalf("accepted a command out of bounds: %+v", c)
					}
				}
			}
		}
		var v pluginv1.ValidateEventResponse
		if proto.Unmarshal(raw, &v) == nil {
			if got, err := decodeProblems("points", &v); err == nil && len(got) > maxProblems {
				t.Fatalf("accepted %d problems", len(got))
			}
		}
	})
}

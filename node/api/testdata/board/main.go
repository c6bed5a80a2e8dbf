// Command board is the API tests' plugin: routes for each method and
// permission that echo what the node handed over.
package main

import (
	"context"
	"encoding/json"

	"github.com/fengqiao/fengqiao/plugins/sdk"
)

type board struct{}

func (board) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "board", Version: "1.0.0",
		// A report form: what a reporter fills for this region (Open311
		// attributes, the console's report form).
		Fields: json.RawMessage(`{"type":"object","properties":{
			"hazard":{"type":"string","title":"隐患类型","enum":["fire","flood"],"x-names":["火灾","水患"]},
			"people":{"type":"integer","title":"涉及人数","minimum":0},
			"own":{"type":"string","title":"核查意见"}},"required":["hazard"]}`),
		Forms: []sdk.Form{{Name: "intake", Title: "受理信息", Place: "report", Fields: []string{"hazard", "people"}},
			{Name: "check", Title: "核查", Place: "event", Fields: []string{"own"}}},
		Routes: []sdk.Route{
			{Method: "GET", Path: "/board", Summary: "看板"},
			{Method: "POST", Path: "/points", Summary: "记分", Perm: "report"},
			{Method: "PUT", Path: "/items/{id}", Summary: "改", Perm: "act"},
			{Method: "PATCH", Path: "/items/{id}", Summary: "改", Perm: "act"},
			{Method: "DELETE", Path: "/items/{id}", Summary: "删", Perm: "act"},
		}}, nil
}

func (board) HandleHTTP(_ context.Context, r sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	return sdk.HTTPResponse{Body: map[string]any{"plugin": "board", "jurisdiction": r.Jurisdiction, "route": r.Route,
		"params": r.Params, "role": r.Caller.Role, "body": string(r.Body)}}, nil
}

func main() { sdk.Serve(board{}) }

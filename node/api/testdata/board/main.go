// Command board is the API tests' plugin: routes for each method and
// permission that echo what the node handed over.
package main

import (
	"context"

	"github.com/fengqiao/fengqiao/plugins/sdk"
)

type board struct{}

func (board) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "board", Version: "1.0.0", Routes: []sdk.Route{
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

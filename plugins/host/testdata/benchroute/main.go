// Command benchroute is the intake benchmark's routing plugin: disputes to
// the 司法所, the rest to the 综治中心.
package main

import (
	"context"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

type router struct{}

func (router) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "benchroute", Version: "1.0.0"}, nil
}

func (router) RouteEvent(_ context.Context, ev model.Event) (sdk.Routing, error) {
	if ev.Category == "dispute" {
		return sdk.Routing{Department: "司法所", Handler: "调解员"}, nil
	}
	return sdk.Routing{Department: "综治中心"}, nil
}

func main() { sdk.Serve(router{}) }

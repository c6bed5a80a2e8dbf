// Command benchfeed is the delivery benchmark's plugin: it hears every
// change and answers nothing.
package main

import (
	"context"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

type feed struct{}

func (feed) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "benchfeed", Version: "1.0.0"}, nil
}

func (feed) OnTransition(context.Context, model.Change) ([]model.PluginCommand, error) {
	return nil, nil
}

func main() { sdk.Serve(feed{}) }

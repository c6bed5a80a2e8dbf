// Command slow is a test plugin that takes 30 s over every validation.
package main

import (
	"context"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

type slow struct{}

func (slow) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "slow", Version: "0.1.0"}, nil
}

func (slow) ValidateEvent(ctx context.Context, r model.Report, jur string) ([]sdk.Problem, error) {
	select {
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	return nil, nil
}

func main() { sdk.Serve(slow{}) }

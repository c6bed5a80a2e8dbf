// Command benchvalidate is the intake benchmark's validating plugin: it
// refuses reports without a description of some substance.
package main

import (
	"context"
	"unicode/utf8"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

type validator struct{}

func (validator) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "benchvalidate", Version: "1.0.0"}, nil
}

func (validator) ValidateEvent(_ context.Context, r model.Report, _ string) ([]sdk.Problem, error) {
	if utf8.RuneCountInString(r.Description) < 4 {
		return []sdk.Problem{{Field: "description", Rule: "bench.length", Message: "描述过短"}}, nil
	}
	return nil, nil
}

func main() { sdk.Serve(validator{}) }

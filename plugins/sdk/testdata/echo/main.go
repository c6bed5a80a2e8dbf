// Command echo is a test plugin: it validates and enriches reports, and
// prints to standard output before serving, as a careless plugin might.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

func init() { fmt.Println("a stray line on stdout before the handshake") }

type echo struct{}

func (echo) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "echo", Version: "1.0.0",
		Categories: []model.Category{{Code: "echo_test", Number: "E1", Name: "回声", Source: "echo"}},
		Jobs:       []sdk.Job{{Name: "daily", Cron: "0 8 * * *"}}}, nil
}

func (echo) ValidateEvent(_ context.Context, r model.Report, jur string) ([]sdk.Problem, error) {
	if !strings.Contains(r.Description, "网格") {
		return []sdk.Problem{{Field: "description", Rule: "echo.grid", Message: "say which 网格"}}, nil
	}
	return nil, nil
}

func (echo) EnrichEvent(_ context.Context, r model.Report, jur string) (sdk.Enrichment, error) {
	sdk.Logger().Info("enriching", "jurisdiction", jur)
	return sdk.Enrichment{Urgency: model.UrgencyUrgent, Ext: map[string]json.RawMessage{"echo.seen": json.RawMessage(`true`)}}, nil
}

func main() { sdk.Serve(echo{}) }

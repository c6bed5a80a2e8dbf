package host

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

// inProcess is the test plugin's ValidateEvent, called directly: the
// baseline a hook over go-plugin is compared with.
type inProcess struct{}

func (inProcess) ValidateEvent(_ context.Context, r model.Report, _ string) ([]sdk.Problem, error) {
	if !strings.Contains(r.Description, "网格") {
		return []sdk.Problem{{Field: "description", Rule: "echo.grid", Message: "say which 网格"}}, nil
	}
	return nil, nil
}

// BenchmarkHookCall: one ValidateEvent over go-plugin's gRPC (AutoMTLS, a
// Unix socket) against the same check called in process, alternated call
// by call in the same run; both encode the report as the host must.
func BenchmarkHookCall(b *testing.B) {
	bin, sum := buildTB(b, "../sdk/testdata/echo")
	p, err := Start(context.Background(), Config{Name: "echo", Path: bin, SHA256: sum, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Kill()
	r := model.Report{Category: "dispute", Description: "网格内邻里纠纷", Grid: "500110001001001"}
	ctx := context.Background()
	var direct sdk.EventValidator = inProcess{}
	rpc := make([]time.Duration, 0, b.N)
	local := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := p.ValidateEvent(ctx, &r, "500110"); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		raw, _ := json.Marshal(r)
		var back model.Report
		json.Unmarshal(raw, &back)
		if _, err := direct.ValidateEvent(ctx, back, "500110"); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		rpc, local = append(rpc, t1.Sub(t0)), append(local, t2.Sub(t1))
	}
	b.StopTimer()
	p50 := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	p99 := func(d []time.Duration) time.Duration { return d[len(d)*99/100] }
	b.ReportMetric(float64(p50(rpc).Nanoseconds())/1e3, "grpc-p50-µs")
	b.ReportMetric(float64(p99(rpc).Nanoseconds())/1e3, "grpc-p99-µs")
	b.ReportMetric(float64(p50(local).Nanoseconds())/1e3, "direct-p50-µs")
}

package state

import (
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
)

// BenchmarkDecodeReport: envelope and payload of one report command, as
// every replica decodes it before applying.
func BenchmarkDecodeReport(b *testing.B) {
	payload, _ := EncodeRecord(&model.Report{Category: "dispute", Description: "邻里纠纷，双方因噪音发生争执", Grid: "511083001001001", Source: "resident", Urgency: "normal"})
	c := &Command{Type: "event.report", Version: 1, ID: "0123456789abcdef0123456789abcdef", At: time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC), Actor: "bench", Payload: payload}
	data, _ := c.Encode()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d := decodeEntry(data); d.err != nil {
			b.Fatal(d.err)
		}
	}
}

package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fengqiao/fengqiao/core/idcard"
)

// manyID makes the n-th of up to 20,000,000 distinct valid ID numbers.
func manyID(n int) string {
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/1000)
	first := fmt.Sprintf("511083%s%03d", birth.Format("20060102"), n%1000)
	return first + string(idcard.CheckDigit(first))
}

// peopleTable writes n residents as an XLSX 实有人口 table (through the
// stream writer) or as CSV; serials start at from, so runs do not collide.
func peopleTable(b *testing.B, format string, from, n int) []byte {
	grids := []string{"511083001001001", "511083001001002", "511083001002001"}
	if format == "csv" {
		var sb strings.Builder
		sb.WriteString("姓名,公民身份号码,人口类别,所属辖区,网格\n")
		for i := range n {
			g := grids[i%len(grids)]
			fmt.Fprintf(&sb, "居民%d,%s,流动人口,%s,%s\n", from+i, manyID(from+i), g[:12], g)
		}
		return []byte(sb.String())
	}
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	sw.SetRow("A1", []any{"姓名", "公民身份号码", "人口类别", "所属辖区", "网格"})
	for i := range n {
		g := grids[i%len(grids)]
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{fmt.Sprint("居民", from+i), manyID(from + i), "流动人口", g[:12], g})
	}
	sw.Flush()
	var buf bytes.Buffer
	f.Write(&buf)
	return buf.Bytes()
}

// BenchmarkImportPeople registers 100,000 residents from an XLSX table
// through the API (each name and ID number sealed and blind-indexed), and
// the same rows from CSV (the baseline: no workbook to unzip and parse) in
// the same run, into fresh stores.
//
//	go test ./node/api/ -run '^$' -bench BenchmarkImportPeople -benchtime 1x
func BenchmarkImportPeople(b *testing.B) {
	const n = 100_000
	for i, format := range []string{"xlsx", "csv"} {
		b.Run(format, func(b *testing.B) {
			for j := range b.N {
				body := peopleTable(b, format, (i*b.N+j)*n, n)
				f := newFixture(&testing.T{})
				b.ResetTimer()
				t0 := time.Now()
				resp := f.raw("POST", "/api/v1/people/import?format="+format, f.admin, body)
				var last importProgress
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					json.Unmarshal(sc.Bytes(), &last)
				}
				resp.Body.Close()
				took := time.Since(t0)
				b.StopTimer()
				if last.Imported == nil || *last.Imported != n {
					b.Fatalf("imported %v of %d: %+v", last.Imported, n, last.Refused[:min(3, len(last.Refused))])
				}
				b.ReportMetric(float64(n)/took.Seconds(), "rows/s")
				b.ReportMetric(float64(len(body))/(1<<20), "file-MiB")
				f.b.s.Close()
			}
		})
	}
}

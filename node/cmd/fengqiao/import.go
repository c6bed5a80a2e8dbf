package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fengqiao/fengqiao/core/divisions"
)

// progress prints "done/total (pct) rate/s" on one line of stderr.
type progress struct {
	w     io.Writer
	what  string
	total int
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, what string, total int) *progress {
	return &progress{w: w, what: what, total: total, start: time.Now()}
}

func (p *progress) step(done int) {
	if time.Since(p.last) < 200*time.Millisecond && done != p.total {
		return
	}
	p.last = time.Now()
	rate := float64(done) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r%s %d/%d (%.0f%%) %.0f/s", p.what, done, p.total, 100*float64(done)/float64(max(1, p.total)), rate)
	if done == p.total {
		fmt.Fprintln(p.w)
	}
}

// rowError is one refused input row.
type rowError struct {
	row int
	err error
}

func report(cmd *cobra.Command, what string, ok int, bad []rowError) error {
	fmt.Fprintf(cmd.OutOrStdout(), "imported %d %s", ok, what)
	if len(bad) == 0 {
		fmt.Fprintln(cmd.OutOrStdout())
		return nil
	}
	fmt.Fprintf(cmd.OutOrStdout(), "; %d refused:\n", len(bad))
	for i, b := range bad {
		if i == 20 {
			fmt.Fprintf(cmd.OutOrStdout(), "  … and %d more\n", len(bad)-20)
			break
		}
		fmt.Fprintf(cmd.OutOrStdout(), "  row %d: %v\n", b.row, b.err)
	}
	return fmt.Errorf("%d of %d %s refused", len(bad), ok+len(bad), what)
}

func readCSV(path string, header []string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(header, ",") {
		return nil, fmt.Errorf("%s: the first row must be the header %s", path, strings.Join(header, ","))
	}
	return rows[1:], nil
}

func importCmd() *cobra.Command {
	imp := &cobra.Command{Use: "import", Short: "Import divisions, grids or residents through a node's API"}
	var c apiClient

	divs := &cobra.Command{Use: "divisions FILE.csv", Short: "Upsert divisions from CSV (code,name,parent,tier), parents first", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rows, err := readCSV(args[0], []string{"code", "name", "parent", "tier"})
			if err != nil {
				return err
			}
			p := newProgress(cmd.ErrOrStderr(), "divisions", len(rows))
			for start := 0; start < len(rows); start += 2000 {
				var batch []divisions.Division
				for _, r := range rows[start:min(start+2000, len(rows))] {
					batch = append(batch, divisions.Division{Code: r[0], Name: r[1], Parent: r[2], Tier: divisions.Tier(r[3])})
				}
				body, _ := json.Marshal(map[string]any{"divisions": batch})
				if err := c.call("POST", "/api/v1/jurisdictions", bytes.NewReader(body), nil); err != nil {
					return fmt.Errorf("rows %d–%d: %w", start+2, start+1+len(batch), err)
				}
				p.step(start + len(batch))
			}
			return report(cmd, "divisions", len(rows), nil)
		}}

	grids := &cobra.Command{Use: "grids FILE.geojson", Short: "Create grids from a GeoJSON FeatureCollection (properties: code, name, jurisdiction, type, dedicated, duties)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var fc struct {
				Type     string            `json:"type"`
				Features []json.RawMessage `json:"features"`
			}
			if err := json.Unmarshal(raw, &fc); err != nil || fc.Type != "FeatureCollection" {
				return errors.New(args[0] + ": not a GeoJSON FeatureCollection")
			}
			p := newProgress(cmd.ErrOrStderr(), "grids", len(fc.Features))
			ok, bad := 0, []rowError(nil)
			for i, f := range fc.Features {
				if err := c.call("POST", "/api/v1/grids", bytes.NewReader(f), nil); err != nil {
					bad = append(bad, rowError{i + 1, err})
				} else {
					ok++
				}
				p.step(i + 1)
			}
			return report(cmd, "grids", ok, bad)
		}}

	residents := &cobra.Command{Use: "residents FILE.csv", Short: "Register residents from CSV (name,id_number,kind,jurisdiction,grid,house); names and ID numbers are sealed",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rows, err := readCSV(args[0], []string{"name", "id_number", "kind", "jurisdiction", "grid", "house"})
			if err != nil {
				return err
			}
			p := newProgress(cmd.ErrOrStderr(), "residents", len(rows))
			ok, bad := 0, []rowError(nil)
			for i, r := range rows {
				body, _ := json.Marshal(map[string]string{"name": r[0], "id_number": r[1], "kind": r[2], "jurisdiction": r[3], "grid": r[4], "house": r[5]})
				if err := c.call("POST", "/api/v1/people", bytes.NewReader(body), nil); err != nil {
					bad = append(bad, rowError{i + 2, err}) // +2: header and 1-based rows
				} else {
					ok++
				}
				p.step(i + 1)
			}
			return report(cmd, "residents", ok, bad)
		}}
	people := tableImport(&c, "people", "/api/v1/people/import", "Register residents from an XLSX or CSV 实有人口 table (headers 姓名, 公民身份号码, 人口类别, 所属辖区, and optionally 网格, 房屋编号, 人员编号); names and ID numbers are sealed")
	houses := tableImport(&c, "houses", "/api/v1/houses/import", "Register houses from an XLSX or CSV 实有房屋 table (headers 地址, 所属辖区, and optionally 房屋编号, 网格, 房屋用途, 是否出租)")
	for _, cmd := range []*cobra.Command{divs, grids, residents, people, houses} {
		addClientFlags(cmd, &c)
		imp.AddCommand(cmd)
	}
	return imp
}

// tableImport uploads an XLSX or CSV table to path, showing the node's
// progress as it goes, and reports each refused row by number.
func tableImport(c *apiClient, what, path, short string) *cobra.Command {
	return &cobra.Command{Use: what + " FILE.xlsx|FILE.csv", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := strings.TrimPrefix(strings.ToLower(filepath.Ext(args[0])), ".")
			if format != "xlsx" && format != "csv" {
				return fmt.Errorf("%s: the file must end in .xlsx or .csv", args[0])
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			start := time.Now()
			var last struct {
				Done     int  `json:"done"`
				Imported *int `json:"imported"`
				Refused  []struct {
					Row    int    `json:"row"`
					Field  string `json:"field"`
					Rule   string `json:"rule"`
					Detail string `json:"detail"`
				} `json:"refused"`
				Error *struct{ Detail, Field string } `json:"error"`
			}
			sink := &lines{fn: func(line []byte) {
				if json.Unmarshal(line, &last) == nil && last.Imported == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "\r%s: %d rows (%.0f/s)", what, last.Done, float64(last.Done)/time.Since(start).Seconds())
				}
			}}
			if err := c.call("POST", path+"?format="+format, f, sink); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr())
			if last.Imported == nil {
				return fmt.Errorf("the node's answer ended before its result")
			}
			bad := make([]rowError, 0, len(last.Refused))
			for _, r := range last.Refused {
				bad = append(bad, rowError{r.Row, fmt.Errorf("%s (field %s, rule %s)", r.Detail, r.Field, r.Rule)})
			}
			if last.Error != nil {
				defer fmt.Fprintf(cmd.ErrOrStderr(), "the import stopped: %s (field %s)\n", last.Error.Detail, last.Error.Field)
			}
			return report(cmd, what, *last.Imported, bad)
		}}
}

// lines calls fn with each line written to it.
type lines struct {
	buf []byte
	fn  func([]byte)
}

func (l *lines) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.fn(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
}

// Package export writes tables as XLSX (through excelize's stream writer,
// so a large export's memory does not grow with it) or as CSV (UTF-8 with
// a byte-order mark, which Excel needs to read Chinese).
package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// Formats.
const (
	XLSX = "xlsx"
	CSV  = "csv"
)

// Writer takes a header and then rows, and writes the table on Close.
type Writer interface {
	// Row adds a row: strings, numbers, bools and times (shown in China
	// time).
	Row(cells ...any) error
	// Close finishes the table and writes whatever is still held.
	Close() error
}

// ContentType is the media type of a format.
func ContentType(format string) string {
	if format == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// New starts a table in format on w, named sheet (XLSX) with header as its
// first row.
func New(format string, w io.Writer, sheet string, header []string) (Writer, error) {
	switch format {
	case XLSX:
		return newXLSX(w, sheet, header)
	case CSV:
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return nil, err
		}
		cw := &csvWriter{w: csv.NewWriter(w)}
		return cw, cw.w.Write(header)
	}
	return nil, errs.Invalid("format", "enum", "format must be xlsx or csv")
}

// Text renders a cell as a string: times as "2006-01-02 15:04:05" China
// time, zero times empty.
func Text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.In(workcal.CST).Format(time.DateTime)
	case bool:
		if x {
			return "是"
		}
		return "否"
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

type csvWriter struct {
	w   *csv.Writer
	row []string
}

func (c *csvWriter) Row(cells ...any) error {
	c.row = c.row[:0]
	for _, v := range cells {
		c.row = append(c.row, Text(v))
	}
	return c.w.Write(c.row)
}

func (c *csvWriter) Close() error {
	c.w.Flush()
	return c.w.Error()
}

type xlsxWriter struct {
	out  io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	n    int // rows written
	cell []any
}

func newXLSX(w io.Writer, sheet string, header []string) (*xlsxWriter, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		f.Close()
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		f.Close()
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		f.Close()
		return nil, err
	}
	x := &xlsxWriter{out: w, f: f, sw: sw}
	head := make([]any, len(header))
	for i, h := range header {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		f.Close()
		return nil, err
	}
	if err := x.write(head); err != nil {
		f.Close()
		return nil, err
	}
	return x, nil
}

func (x *xlsxWriter) write(cells []any) error {
	x.n++
	name, err := excelize.CoordinatesToCellName(1, x.n)
	if err != nil {
		return err
	}
	return x.sw.SetRow(name, cells)
}

func (x *xlsxWriter) Row(cells ...any) error {
	x.cell = x.cell[:0]
	for _, v := range cells {
		switch t := v.(type) {
		case time.Time, bool, nil:
			x.cell = append(x.cell, Text(t))
		default:
			x.cell = append(x.cell, v)
		}
	}
	return x.write(x.cell)
}

func (x *xlsxWriter) Close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	return x.f.Write(x.out)
}

// Package tables reads the registers a 综治中心 keeps in spreadsheets —
// 实有人口 and 实有房屋, laid out as GB/T 31000 tables — from XLSX or CSV.
// Columns are found by their Chinese headers (with the usual variants), in
// any order; each data row is handed on with the number a person sees in
// the spreadsheet.
package tables

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Column is one column a table needs or may have: its field and the
// headers it goes by.
type Column struct {
	Field    string
	Names    []string
	Required bool
}

// People is the 实有人口 table.
var People = []Column{
	{Field: "name", Names: []string{"姓名"}, Required: true},
	{Field: "id_number", Names: []string{"公民身份号码", "身份证号", "身份证号码"}, Required: true},
	{Field: "kind", Names: []string{"人口类别", "人员类别"}, Required: true},
	{Field: "jurisdiction", Names: []string{"所属辖区", "辖区代码", "社区（村）代码", "社区(村)代码"}, Required: true},
	{Field: "grid", Names: []string{"网格", "网格编码", "网格代码"}},
	{Field: "house", Names: []string{"房屋编号"}},
	{Field: "id", Names: []string{"人员编号"}},
}

// Houses is the 实有房屋 table.
var Houses = []Column{
	{Field: "id", Names: []string{"房屋编号"}},
	{Field: "address", Names: []string{"地址", "房屋地址"}, Required: true},
	{Field: "jurisdiction", Names: []string{"所属辖区", "辖区代码", "社区（村）代码", "社区(村)代码"}, Required: true},
	{Field: "grid", Names: []string{"网格", "网格编码", "网格代码"}},
	{Field: "use", Names: []string{"房屋用途", "用途"}},
	{Field: "rented", Names: []string{"是否出租", "出租"}},
}

// Formats.
const (
	XLSX = "xlsx"
	CSV  = "csv"
)

// MaxRows bounds one file's data rows.
const MaxRows = 1_000_000

// Read reads a table in format from r and calls fn with each data row's
// number and its values by field. A file whose header lacks a required
// column, or that is not a table at all, is refused before any row.
func Read(r io.Reader, format string, cols []Column, fn func(row int, vals map[string]string) error) (err error) {
	var it rowIter
	switch format {
	case XLSX:
		if it, err = openXLSX(r); err != nil {
			return err
		}
	case CSV:
		it = openCSV(r)
	default:
		return errs.Invalid("format", "enum", "format must be xlsx or csv")
	}
	defer it.Close()
	defer func() {
		// A malformed workbook must not take the node down.
		if p := recover(); p != nil {
			err = errs.Invalid("body", "format", "the file could not be read: %v", p)
		}
	}()
	// The header: the first row with any cell.
	var header []string
	row := 0
	for header == nil {
		cells, ok, err := it.Next()
		if err != nil {
			return err
		}
		if !ok {
			return errs.Invalid("header", "missing", "the file has no header row")
		}
		row++
		if nonEmpty(cells) {
			header = cells
		}
	}
	index, err := mapHeader(header, cols)
	if err != nil {
		return err
	}
	vals := make(map[string]string, len(cols))
	for n := 0; ; {
		cells, ok, err := it.Next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		row++
		if !nonEmpty(cells) {
			continue
		}
		if n++; n > MaxRows {
			return errs.Invalid("body", "size", "a file holds at most %d rows", MaxRows)
		}
		clear(vals)
		for field, i := range index {
			if i < len(cells) {
				vals[field] = strings.TrimSpace(cells[i])
			}
		}
		if err := fn(row, vals); err != nil {
			return err
		}
	}
}

// mapHeader finds each column's position; a required one missing, or a
// column given twice, is refused by name.
func mapHeader(header []string, cols []Column) (map[string]int, error) {
	index := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		for _, c := range cols {
			for _, name := range c.Names {
				if h != name {
					continue
				}
				if _, dup := index[c.Field]; dup {
					return nil, errs.Invalid("header", "duplicate", "column %s is given twice", name)
				}
				index[c.Field] = i
			}
		}
	}
	var missing []string
	for _, c := range cols {
		if _, ok := index[c.Field]; c.Required && !ok {
			missing = append(missing, c.Names[0])
		}
	}
	if len(missing) > 0 {
		return nil, errs.Invalid("header", "missing", "the header lacks %s", strings.Join(missing, ", "))
	}
	return index, nil
}

func nonEmpty(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return true
		}
	}
	return false
}

// rowIter yields a table's rows in order.
type rowIter interface {
	Next() ([]string, bool, error)
	Close() error
}

type xlsxRows struct {
	f    *excelize.File
	rows *excelize.Rows
}

// MaxFile bounds an uploaded workbook (zipped) in bytes.
const MaxFile = 32 << 20

func openXLSX(r io.Reader) (*xlsxRows, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxFile+1))
	if err != nil {
		return nil, errs.Invalid("body", "read", "the file could not be read: %v", err)
	}
	if len(raw) > MaxFile {
		return nil, errs.Invalid("body", "size", "a workbook is at most %d MiB", MaxFile>>20)
	}
	f, err := openWorkbook(raw)
	if err != nil {
		return nil, errs.Invalid("body", "format", "not an XLSX workbook: %v", err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, errs.Invalid("body", "format", "the workbook has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, errs.Invalid("body", "format", "the first sheet could not be read: %v", err)
	}
	return &xlsxRows{f: f, rows: rows}, nil
}

// openWorkbook opens raw as a workbook, bounding what its parts may unzip
// to (a zip bomb is refused, not expanded).
func openWorkbook(raw []byte) (f *excelize.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("%v", p)
		}
	}()
	return excelize.OpenReader(bytes.NewReader(raw), excelize.Options{UnzipSizeLimit: 512 << 20, UnzipXMLSizeLimit: 64 << 20})
}

func (x *xlsxRows) Next() ([]string, bool, error) {
	if !x.rows.Next() {
		return nil, false, x.rows.Error()
	}
	cells, err := x.rows.Columns()
	if err != nil {
		return nil, false, errs.Invalid("body", "format", "a row could not be read: %v", err)
	}
	return cells, true, nil
}

func (x *xlsxRows) Close() error {
	x.rows.Close()
	return x.f.Close()
}

type csvRows struct{ r *csv.Reader }

func openCSV(r io.Reader) *csvRows {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // short rows are allowed; missing cells are empty
	cr.ReuseRecord = true
	return &csvRows{r: cr}
}

func (c *csvRows) Next() ([]string, bool, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, errs.Invalid("body", "format", "not a CSV table: %v", err)
	}
	return rec, true, nil
}

func (c *csvRows) Close() error { return nil }

package tables

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/fengqiao/fengqiao/core/errs"
)

func workbook(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		f.SetSheetRow("Sheet1", cell, &r)
	}
	var b bytes.Buffer
	f.Write(&b)
	return b.Bytes()
}

func TestReadFindsColumnsByHeader(t *testing.T) {
	raw := workbook(t, [][]any{
		{},
		{"备注", "地址", "所属辖区", "是否出租"},
		{"x", "白鹤路 1 号", "511083001001", "是"},
		{},
		{"", " 白鹤路 2 号 ", "511083001001"},
	})
	var got []string
	err := Read(bytes.NewReader(raw), XLSX, Houses, func(row int, v map[string]string) error {
		got = append(got, strings.Join([]string{string(rune('0' + row)), v["address"], v["jurisdiction"], v["rented"]}, "|"))
		return nil
	})
	if err != nil || strings.Join(got, ";") != "3|白鹤路 1 号|511083001001|是;5|白鹤路 2 号|511083001001|" {
		t.Fatalf("%v %q", err, got)
	}
	for _, c := range []struct {
		name, body string
		format     string
	}{
		{"a required column missing", "地址\nx\n", CSV},
		{"a column twice", "地址,所属辖区,房屋地址\na,b,c\n", CSV},
		{"no header", "", CSV},
		{"not a workbook", "PK\x03\x04junk", XLSX},
		{"not CSV", "\"unterminated\n", CSV},
		{"an unknown format", "地址", "ods"},
	} {
		err := Read(strings.NewReader(c.body), c.format, Houses, func(int, map[string]string) error {
			t.Fatalf("%s: a row was read", c.name)
			return nil
		})
		if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) == "" {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// Any bytes, as XLSX or CSV, give rows or a typed error, never a panic.
func FuzzRead(f *testing.F) {
	f.Add(workbook(f, [][]any{{"姓名", "公民身份号码", "人口类别", "所属辖区"}, {"张三", "1", "户籍人口", "511083001001"}}), true)
	f.Add([]byte("姓名,公民身份号码,人口类别,所属辖区\n张三,1,户籍人口,511083001001\n"), false)
	f.Add([]byte("PK\x03\x04"), true)
	f.Fuzz(func(t *testing.T, data []byte, xlsx bool) {
		format := CSV
		if xlsx {
			format = XLSX
		}
		err := Read(bytes.NewReader(data), format, People, func(row int, v map[string]string) error {
			if row < 2 {
				t.Fatalf("data row %d before the header", row)
			}
			return nil
		})
		if err != nil && !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("untyped error: %v", err)
		}
	})
}

package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/xuri/excelize/v2"
)

// xlsxOf builds a workbook whose first sheet holds rows.
func xlsxOf(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// ndjson reads an import's answer: its progress lines and its last line.
func ndjson(t *testing.T, body []byte) (lines []importProgress) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var p importProgress
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, p)
	}
	if len(lines) == 0 {
		t.Fatalf("no lines in %q", body)
	}
	return lines
}

func TestImportPeopleAndHousesFromXLSX(t *testing.T) {
	f := newFixture(t)
	houses := xlsxOf(t, [][]any{
		{"房屋编号", "地址", "所属辖区", "网格", "房屋用途", "是否出租"},
		{"h-001", "白鹤路 1 号", "511083001001", "511083001001001", "住宅", "是"},
		{"h-002", "白鹤路 2 号", "511083001001", "511083001001001", "城堡", "否"}, // row 3: unknown use
		{"h-003", "白鹤路 3 号", "511083002001", "", "商业", ""},                 // row 4: another township
	})
	resp := f.raw("POST", "/api/v1/houses/import", f.town, houses)
	body := readAll(resp)
	lines := ndjson(t, body)
	last := lines[len(lines)-1]
	if resp.StatusCode != 200 || last.Imported == nil || *last.Imported != 1 || len(last.Refused) != 2 ||
		last.Refused[0].Row != 3 || last.Refused[0].Field != "use" || last.Refused[1].Row != 4 || last.Refused[1].Field != "jurisdiction" {
		t.Fatalf("houses: %d %s", resp.StatusCode, body)
	}
	// People, with the columns in another order, labels or codes, and bad
	// rows: each refused by number, nothing of them kept.
	before := f.digest()
	people := [][]any{{"公民身份号码", "姓名", "人口类别", "所属辖区", "网格", "房屋编号"}}
	for i := range 5 {
		people = append(people, []any{validID(500 + i), fmt.Sprint("居民", i), "流动人口", "511083001001", "511083001001001", "h-001"})
	}
	bad := validID(900)
	if bad[17] == '0' {
		bad = bad[:17] + "1"
	} else {
		bad = bad[:17] + "0"
	}
	people = append(people,
		[]any{bad, "坏号", "registered", "511083001001", "", ""},    // row 7: check digit
		[]any{validID(500), "重复", "户籍人口", "511083001001", "", ""}, // row 8: registered already (row 2)
		[]any{validID(600), "外星", "火星人", "511083001001", "", ""},  // row 9: kind
	)
	resp = f.raw("POST", "/api/v1/people/import", f.town, xlsxOf(t, people))
	body = readAll(resp)
	lines = ndjson(t, body)
	last = lines[len(lines)-1]
	if resp.StatusCode != 200 || *last.Imported != 5 || len(last.Refused) != 3 || last.Refused[0].Row != 7 || last.Refused[0].Field != "id_number" ||
		last.Refused[1].Row != 8 || last.Refused[1].Rule != "exists" || last.Refused[2].Row != 9 || last.Refused[2].Field != "kind" {
		t.Fatalf("people: %d %s", resp.StatusCode, body)
	}
	if f.digest() == before {
		t.Fatal("nothing was kept")
	}
	var hv houseView
	f.do("GET", "/api/v1/houses/h-001", f.town, nil, &hv)
	if len(hv.Residents) != 5 {
		t.Fatalf("residents of h-001: %d", len(hv.Residents))
	}
	// A table without its required columns, or not a table, changes nothing.
	before = f.digest()
	resp2, m := f.do("POST", "/api/v1/people/import", f.town, xlsxOf(t, [][]any{{"姓名", "性别"}, {"张三", "男"}}), nil)
	expectProblem(t, "missing columns", resp2, m, 400, "header")
	resp2, m = f.do("POST", "/api/v1/people/import", f.town, []byte("PK\x03\x04 not really"), nil)
	expectProblem(t, "not a workbook", resp2, m, 400, "body")
	if f.digest() != before {
		t.Fatal("a refused file changed the state")
	}
	// CSV works the same.
	resp = f.raw("POST", "/api/v1/people/import?format=csv", f.town, "姓名,公民身份号码,人口类别,所属辖区\n李四,"+validID(700)+",户籍人口,511083001001\n")
	if lines = ndjson(t, readAll(resp)); *lines[len(lines)-1].Imported != 1 {
		t.Fatalf("csv: %+v", lines)
	}
}

func readAll(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/idcard"
)

func synthID(n int) string {
	first := fmt.Sprintf("50011019850505%03d", n)
	return first + string(idcard.CheckDigit(first))
}

// TestImportCommands imports divisions, grids and residents into a dev node
// through the CLI, with one bad row in each file that is reported by number.
func TestImportCommands(t *testing.T) {
	const token = "fq_import_test_admin_token_31313131"
	_, addr := startDev(t, binary(t), token)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	divs := write("divisions.csv", "code,name,parent,tier\n500110001901,测试社区,500110001,village\n500110001902,测试村,500110001,village\n")
	if out, err := cli(t, token, "import", "divisions", "--addr", addr, divs); err != nil || !strings.Contains(out, "imported 2 divisions") {
		t.Fatalf("divisions: %v\n%s", err, out)
	}
	sq := `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[106.6,29.0],[106.601,29.0],[106.601,29.001],[106.6,29.001],[106.6,29.0]]]},"properties":{"code":"%s","name":"测试网格","jurisdiction":"500110001901"}}`
	bow := `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]},"properties":{"code":"500110001901002","name":"坏网格","jurisdiction":"500110001901"}}`
	grids := write("grids.geojson", `{"type":"FeatureCollection","features":[`+fmt.Sprintf(sq, "500110001901001")+`,`+bow+`]}`)
	out2, err := cli(t, token, "import", "grids", "--addr", addr, grids)
	if err == nil || !strings.Contains(out2, "imported 1 grids; 1 refused") || !strings.Contains(out2, "row 2") || !strings.Contains(out2, "self_intersection") && !strings.Contains(out2, "crosses itself") {
		t.Fatalf("grids: %v\n%s", err, out2)
	}
	bad := synthID(3)
	bad = bad[:17] + map[bool]string{true: "1", false: "0"}[bad[17] == '0']
	res := write("residents.csv", "name,id_number,kind,jurisdiction,grid,house\n"+
		"示例甲,"+synthID(1)+",registered,500110001901,500110001901001,\n"+
		"示例乙,"+synthID(2)+",floating,500110001901,,\n"+
		"示例丙,"+bad+",registered,500110001901,,\n")
	out3, err := cli(t, token, "import", "residents", "--addr", addr, res)
	if err == nil || !strings.Contains(out3, "imported 2 residents; 1 refused") || !strings.Contains(out3, "row 4") || !strings.Contains(out3, "id_number") {
		t.Fatalf("residents: %v\n%s", err, out3)
	}
	if strings.Contains(out3, bad) || strings.Contains(out3, "示例丙") {
		t.Fatal("the error report echoes the sensitive input")
	}
	if out, err := cli(t, token, "import", "residents", "--addr", addr, divs); err == nil || !strings.Contains(out, "header") {
		t.Fatalf("wrong header: %v %s", err, out)
	}
	// A GB/T 31000 table, with Chinese headers and labels, through the
	// node's table import: progress, then each refused row by number.
	houses := write("houses.csv", "房屋编号,地址,所属辖区,网格,房屋用途\nh-9,测试路 9 号,500110001901,500110001901001,住宅\n")
	if out, err := cli(t, token, "import", "houses", "--addr", addr, houses); err != nil || !strings.Contains(out, "imported 1 houses") {
		t.Fatalf("houses: %v\n%s", err, out)
	}
	people := write("people.csv", "姓名,公民身份号码,人口类别,所属辖区,网格,房屋编号\n"+
		"示例丁,"+synthID(4)+",流动人口,500110001901,500110001901001,h-9\n"+
		"示例戊,"+bad+",户籍人口,500110001901,,\n")
	out4, err := cli(t, token, "import", "people", "--addr", addr, people)
	if err == nil || !strings.Contains(out4, "imported 1 people; 1 refused") || !strings.Contains(out4, "row 3") || !strings.Contains(out4, "id_number") {
		t.Fatalf("people: %v\n%s", err, out4)
	}
	if strings.Contains(out4, bad) {
		t.Fatal("the error report echoes the ID number")
	}
	if out, err := cli(t, token, "import", "people", "--addr", addr, divs); err == nil || !strings.Contains(out, "header") {
		t.Fatalf("people with the wrong header: %v %s", err, out)
	}
}

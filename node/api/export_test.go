package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
)

// fetch GETs path and returns the answer's body.
func (f *fixture) fetch(path, token string) (*http.Response, []byte) {
	f.t.Helper()
	resp := f.raw("GET", path, token, nil)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestExportEventsAndPeople(t *testing.T) {
	f := newFixture(t)
	for _, d := range []string{"楼道堆物", "邻里纠纷"} {
		if resp, m := f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": d, "grid": "511083001001001", "reporter_phone": "13912345678"}, nil); resp.StatusCode != 201 {
			t.Fatalf("report: %d %v", resp.StatusCode, m)
		}
	}
	ctx := core.WithActor(context.Background(), "test")
	if _, err := f.b.s.People.Add(ctx, model.PersonInput{Name: "张三丰", IDNumber: validID(71), Kind: "floating", Jurisdiction: "511083001001", Grid: "511083001001001"}); err != nil {
		t.Fatal(err)
	}
	// XLSX: a sheet with Chinese headers and one row per event.
	resp, body := f.fetch("/api/v1/events/export?q=%E6%A5%BC%E9%81%93", f.town)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "filename*=UTF-8''") {
		t.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	x, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows("事件")
	if err != nil || len(rows) != 2 || rows[0][0] != "事件编号" || rows[1][1] != "已上报" || rows[1][7] != "楼道堆物" || rows[1][8] != "139****5678" {
		t.Fatalf("sheet: %v %v", rows, err)
	}
	// CSV: a byte-order mark, then the same table.
	resp, body = f.fetch("/api/v1/events/export?format=csv", f.town)
	if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("\ufeff")) {
		t.Fatalf("csv: %d %q", resp.StatusCode, body[:min(20, len(body))])
	}
	recs, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][1] != "状态" {
		t.Fatalf("csv rows: %v %v", recs, err)
	}
	// People: masked, unless revealed by a role that may, with a purpose.
	resp, body = f.fetch("/api/v1/people/export?format=csv", f.town)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "张**") || strings.Contains(string(body), "张三丰") || !strings.Contains(string(body), "流动人口") {
		t.Fatalf("people, masked: %d %s", resp.StatusCode, body)
	}
	gw := f.issue("grid_worker", "511083001")
	resp, m := f.do("GET", "/api/v1/people/export?reveal=true&basis=visit&purpose=x", gw, nil, nil)
	expectProblem(t, "a grid worker reveals", resp, m, 403, "reveal")
	resp, m = f.do("GET", "/api/v1/people/export?reveal=true&basis=visit", f.town, nil, nil)
	expectProblem(t, "reveal with no purpose", resp, m, 400, "purpose")
	before, _ := f.b.s.Engine().VerifyAudit()
	resp, body = f.fetch("/api/v1/people/export?format=csv&reveal=true&basis=statistics_review&purpose=%E5%8F%B0%E8%B4%A6", f.town)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "张三丰") || !strings.Contains(string(body), validID(71)) {
		t.Fatalf("people, revealed: %d %s", resp.StatusCode, body)
	}
	if after, _ := f.b.s.Engine().VerifyAudit(); after.Records != before.Records+1 {
		t.Fatalf("a revealed export wrote %d audit records, want 1", after.Records-before.Records)
	}
	resp, m = f.do("GET", "/api/v1/events/export?format=pdf", f.town, nil, nil)
	expectProblem(t, "unknown format", resp, m, 400, "format")
}

func TestBulletinOverHTTP(t *testing.T) {
	f := newFixture(t)
	for _, g := range []string{"511083001001001", "511083002001001", "511083002001001"} {
		if resp, m := f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "通报", "grid": g}, nil); resp.StatusCode != 201 {
			t.Fatalf("report: %d %v", resp.StatusCode, m)
		}
	}
	period := time.Now().In(time.FixedZone("CST", 8*3600)).Format("200601")
	var b model.Bulletin
	if resp, m := f.do("GET", "/api/v1/bulletin?period="+period, f.admin, nil, &b); resp.StatusCode != 200 {
		t.Fatalf("bulletin: %d %v", resp.StatusCode, m)
	}
	if len(b.Rows) != 2 || b.Total.Reported != 3 || b.By != "township" {
		t.Fatalf("bulletin: %+v", b)
	}
	// A township's token sees its own township only.
	f.do("GET", "/api/v1/bulletin?period="+period, f.town, nil, &b)
	if len(b.Rows) != 1 || b.Rows[0].Unit != "511083001" {
		t.Fatalf("township bulletin: %+v", b.Rows)
	}
	resp, body := f.fetch("/api/v1/bulletin/export?format=csv&by=grid&period="+period, f.admin)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "合计") || !strings.Contains(string(body), "按期办结率") {
		t.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	resp, body = f.fetch("/api/v1/stats/export?format=csv&period="+period, f.admin)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "响应率") || !strings.Contains(string(body), "511083001") {
		t.Fatalf("figures export: %d %s", resp.StatusCode, body)
	}
	r, m := f.do("GET", "/api/v1/bulletin?period=2026-12", f.admin, nil, nil)
	expectProblem(t, "bad period", r, m, 400, "period")
	r, m = f.do("GET", "/api/v1/bulletin?period="+period+"&jurisdiction=511083002", f.town, nil, nil)
	expectProblem(t, "another township", r, m, 404, "jurisdiction")
}

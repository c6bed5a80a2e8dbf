// Command embed shows Fengqiao as a library: it opens a store, loads 綦江区
// (500110) with its real townships and villages and derived grids, adds a
// dedicated grid, takes one event from report to closed, and prints figures.
//
//	go run ./examples/embed [-data DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/workcal"
)

func main() {
	dataDir := flag.String("data", "", "data directory (default: a fresh temporary one)")
	flag.Parse()
	if err := run(*dataDir); err != nil {
		log.Fatal(err)
	}
}

func run(dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "fengqiao-embed-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	store, err := core.Open(dir, core.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := core.WithActor(context.Background(), "embed-example")

	// 1. The administrative tree of 綦江区, its real boundary, and derived
	//    township, village and grid polygons (2×2 grids per village).
	derived, err := store.Jurisdictions.LoadCounty(ctx, "500110", 2)
	if err != nil {
		return err
	}
	county, _ := store.Jurisdictions.Get("500110")
	towns, _ := store.Jurisdictions.Children("500110")
	fmt.Printf("loaded %s %s: %d townships, %d villages/communities, %d derived grids\n",
		county.Code, county.Name, len(towns), len(derived.Villages), len(derived.Grids))

	// 2. Replace one derived grid with a dedicated school grid (专属网格).
	first := derived.Grids[0]
	if err := store.Grids.Retire(ctx, first.Code, "划为学校专属网格"); err != nil {
		return err
	}
	school, err := store.Grids.CreatePolygon(ctx, model.GridSpec{
		Code: first.Village + "101", Name: "古南中学专属网格", Jurisdiction: first.Village,
		Type: model.GridDedicated, Dedicated: "school", Duties: []string{"comprehensive", "emergency"},
	}, first.Polygon)
	if err != nil {
		return err
	}
	fmt.Printf("created grid %s %s (%s, duties %v)\n", school.Code, school.Name, school.Type, school.Duties)

	// 3. A resident reports a dispute at a point inside that grid.
	ring := first.Polygon[0]
	at := model.Point{Lng: (ring[0][0] + ring[2][0]) / 2, Lat: (ring[0][1] + ring[2][1]) / 2}
	ev, err := store.Events.Report(ctx, model.Report{
		Category: "dispute", Source: "resident", Description: "校门口商铺占道经营引发纠纷", Location: &at,
	})
	if err != nil {
		return err
	}
	fmt.Printf("reported %s in grid %s, deadline %s\n", ev.ID, ev.Grid, ev.Deadline.In(workcal.CST).Format("2006-01-02 15:04 MST"))

	// 4. 受理 → 派遣 → 签收 → 处置 → 核查 → 结案 → 回访评价.
	passed := true
	for _, a := range []model.Action{
		{Action: "accept"},
		{Action: "dispatch", Handler: "古南街道综治中心", Note: "请三日内处理"},
		{Action: "sign"},
		{Action: "resolve", Note: "已调解，商铺退回店内经营"},
		{Action: "verify", Passed: &passed},
		{Action: "rate", Satisfaction: "satisfied"},
	} {
		if ev, err = store.Events.Act(ctx, ev.ID, a); err != nil {
			return fmt.Errorf("%s: %w", a.Action, err)
		}
		fmt.Printf("  %-9s → %s\n", a.Action, ev.Status)
	}

	// 5. An illegal action is refused with a typed error.
	if _, err := store.Events.Act(ctx, ev.ID, model.Action{Action: "sign"}); err != nil {
		fmt.Printf("  sign on a closed event is refused: %v\n", err)
	}

	// 6. Figures (三率), read from counters kept on apply.
	for _, code := range []string{school.Jurisdiction[:9], "500110"} {
		f, err := store.Events.Figures(code, "", "")
		if err != nil {
			return err
		}
		fmt.Printf("figures %s: reported %d, closed %d, 响应率 %.0f%%, 解决率 %.0f%%, 满意率 %.0f%%\n",
			code, f.Reported, f.ByStatus[model.StatusClosed], 100*f.ResponseRate, 100*f.ResolutionRate, 100*f.SatisfactionRate)
	}
	rep, err := store.Engine().VerifyAudit()
	if err != nil {
		return err
	}
	fmt.Printf("audit chain: %d records verified, head %s…\n", rep.Records, rep.Head[:16])
	return nil
}

// Command searchbench measures full-text search over events at scale:
// N events with varied Chinese descriptions are imported, the store is
// reopened, the index is built by the first search (timed), and then
// two-character queries run over the county and over single townships,
// beside a baseline that scans every event for the phrase, alternated in
// the same run. docs/benchmarks.md quotes it.
//
//	go run ./bench/searchbench -events 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/bench/internal/procstat"
	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/search"
)

// What residents and grid workers write about, and where.
var (
	problems = []string{"楼道堆物", "噪音扰民", "占道经营", "违章搭建", "邻里纠纷", "道路积水", "垃圾清运不及时", "路灯损坏",
		"井盖缺失", "消防通道堵塞", "房屋漏水", "拖欠工资", "宠物扰民", "油烟扰民", "非法营运", "高空抛物", "电动车违规充电",
		"化粪池满溢", "树木倾倒", "下水道堵塞", "广场舞噪音", "家庭矛盾", "土地承包纠纷", "物业纠纷", "施工扰民",
		"河道漂浮物", "山体滑坡隐患", "危房", "燃气泄漏", "独居老人需要照顾", "留守儿童无人看管", "小广告乱贴",
		"共享单车乱停", "餐馆无证经营", "农田灌溉纠纷", "屋顶违建", "积水结冰", "窨井盖破损", "流浪犬伤人", "菜市场秩序混乱"}
	places = []string{"东街", "西街", "南门小区", "北苑", "滨江路", "新华路", "古南街道", "文龙街道", "三江街道", "永新镇",
		"石角镇", "东溪镇", "赶水镇", "打通镇", "横山镇", "隆盛镇", "中峰镇", "郭扶镇", "篆塘镇", "丁山镇"}
	extras = []string{"请尽快处理", "已多次反映", "影响出行", "存在安全隐患", "群众意见较大", "夜间尤其严重", "持续一周",
		"涉及多户居民", "需要协调", "情况紧急", "居民自行处理未果", "希望社区介入"}
)

func describe(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString(places[rng.Intn(len(places))])
	fmt.Fprintf(&b, "%d号%d栋", 1+rng.Intn(200), 1+rng.Intn(30))
	b.WriteString(problems[rng.Intn(len(problems))])
	b.WriteString("，")
	b.WriteString(extras[rng.Intn(len(extras))])
	if rng.Intn(2) == 0 {
		b.WriteString("，")
		b.WriteString(problems[rng.Intn(len(problems))])
	}
	return b.String()
}

// queries are the two-character words a 综治中心 searches for, frequent
// and rare.
var queries = []string{"楼道", "纠纷", "积水", "噪音", "路灯", "井盖", "消防", "漏水", "工资", "宠物", "油烟", "营运", "抛物",
	"充电", "倒塌", "堵塞", "施工", "燃气", "老人", "儿童", "广告", "单车", "无证", "灌溉", "结冰", "流浪", "隐患", "紧急", "东街", "滨江"}

func main() {
	n := flag.Int("events", 1000000, "events to import")
	rounds := flag.Int("queries", 20000, "indexed queries")
	scans := flag.Int("scans", 10, "baseline full scans, alternated with indexed queries")
	flag.Parse()
	if err := run(*n, *rounds, *scans); err != nil {
		log.Fatal(err)
	}
}

func run(n, rounds, scans int) error {
	dir, err := os.MkdirTemp("", "searchbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := core.Open(dir, core.Options{})
	if err != nil {
		return err
	}
	ctx := context.Background()
	d, err := store.Jurisdictions.LoadCounty(ctx, "500110", 2)
	if err != nil {
		return err
	}
	cats := []string{"dispute", "sanitation", "work_safety", "urban_management", "fire_safety", "public_security"}
	rng := rand.New(rand.NewSource(1))
	made := 0
	t0 := time.Now()
	done, err := store.Events.ImportFrom(ctx, n, func() (model.Report, bool) {
		if made == n {
			return model.Report{}, false
		}
		made++
		return model.Report{Category: cats[rng.Intn(len(cats))], Description: describe(rng),
			Grid: d.Grids[rng.Intn(len(d.Grids))].Code, Source: "hotline_12345"}, true
	}, func(done, total int) {})
	if err != nil {
		return err
	}
	fmt.Printf("import: %d events with varied descriptions in %v\n", done, time.Since(t0).Round(time.Millisecond))
	if err := store.Close(); err != nil {
		return err
	}
	if store, err = core.Open(dir, core.Options{}); err != nil {
		return err
	}
	defer store.Close()
	runtime.GC()
	before, _ := procstat.RSS()

	// The first search builds the index from the state.
	t0 = time.Now()
	if _, err := store.Events.Search(core.SearchQuery{Text: "楼道", Under: "500110"}); err != nil {
		return err
	}
	built := time.Since(t0)
	runtime.GC()
	after, _ := procstat.RSS()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("index built by the first search in %v; RSS before %s, after %s; Go heap %d MiB\n",
		built.Round(time.Millisecond), before, after, ms.HeapAlloc>>20)

	towns, _ := store.Jurisdictions.Children("500110")
	measure := func(name string, scope func() string) error {
		lat := make([]time.Duration, 0, rounds)
		rows := 0
		var base []time.Duration
		every := max(1, rounds/max(1, scans))
		for i := 0; i < rounds; i++ {
			q := queries[rng.Intn(len(queries))]
			under := scope()
			t := time.Now()
			p, err := store.Events.Search(core.SearchQuery{Text: q, Under: under, Limit: 50})
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(t))
			rows += len(p.Events)
			if i%every == 0 && len(base) < scans {
				t := time.Now()
				got, err := scan(store, q, under, 50)
				if err != nil {
					return err
				}
				base = append(base, time.Since(t))
				if got != len(p.Events) {
					return fmt.Errorf("%s %q under %s: the index found %d, a scan %d", name, q, under, len(p.Events), got)
				}
			}
		}
		p50, p99 := procstat.Percentiles(lat)
		b50, _ := procstat.Percentiles(base)
		fmt.Printf("search %s, two characters, pages of 50, %d queries over %d events: p50 %v, p99 %v, %.1f rows/query; a full scan (baseline, %d alternated): p50 %v (%.0f× the indexed p50)\n",
			name, rounds, done, p50, p99, float64(rows)/float64(rounds), len(base), b50, float64(b50)/float64(p50))
		return nil
	}
	if err := measure("over the county", func() string { return "500110" }); err != nil {
		return err
	}
	return measure("in one township", func() string { return towns[rng.Intn(len(towns))].Code })
}

// scan is the baseline: read every event and count those under the scope
// whose description holds the phrase, up to limit.
func scan(store *core.Store, q, under string, limit int) (int, error) {
	hits, after := 0, ""
	for {
		next, err := store.Engine().EventTexts(after, 10_000, func(e *model.Event, _ []model.TimelineEntry) {
			if model.Under(e.Place(), under) && search.Contains(e.Description, q) {
				hits++
			}
		})
		if err != nil {
			return 0, err
		}
		if next == "" {
			return min(limit, hits), nil
		}
		after = next
	}
}

// Command pgcompare runs one intake workload against Fengqiao embedded and
// against PostgreSQL on the same machine, in alternating rounds of one run,
// and prints the ratio. The writes are the same on both sides: per report an
// event row (with its status, category and deadline indexes), its 22 counter
// rows (each division above it, by period and by category, and its grid),
// the next event number of its area and day, and an audit record chained to
// the one before by an HMAC. Both sides group commit: the reports waiting
// when a transaction starts go in it (Fengqiao's Local proposer; here one
// writer sending them as one pipelined pgx batch), and every report is
// durable (fsync'd) when its call returns.
//
//	go run ./bench/pgcompare -reports 20000 -callers 256 -rounds 3
//
// It needs Debian's postgresql (15): it runs initdb and pg_ctl from -pgbin
// in a temporary directory, as the postgres user when run as root.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
)

func main() {
	reports := flag.Int("reports", 20000, "reports per round")
	callers := flag.Int("callers", 256, "concurrent callers")
	rounds := flag.Int("rounds", 3, "rounds of each, alternating")
	pgbin := flag.String("pgbin", "/usr/lib/postgresql/15/bin", "PostgreSQL's bin directory")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "pgcompare-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	pg, err := startPG(*pgbin, tmp, *callers)
	if err != nil {
		log.Fatal(err)
	}
	defer pg.stop()
	fq, err := openFengqiao(filepath.Join(tmp, "fengqiao"))
	if err != nil {
		log.Fatal(err)
	}
	defer fq.store.Close()
	ctx := context.Background()
	if err := pg.schema(ctx); err != nil {
		log.Fatal(err)
	}
	go pg.committer()
	var fqRates, pgRates []float64
	for r := 1; r <= *rounds; r++ {
		f, fcpu := run(*reports, *callers, fq.report)
		p, pcpu := run(*reports, *callers, pg.report)
		fqRates, pgRates = append(fqRates, f), append(pgRates, p)
		fmt.Printf("round %d: fengqiao %8.0f reports/s (%.1f µs CPU each, this process)   postgresql %8.0f reports/s (%.1f µs CPU each, client only)   ratio %.2f×\n",
			r, f, fcpu, p, pcpu, f/p)
	}
	fmt.Printf("median: fengqiao %.0f reports/s, postgresql %.0f reports/s: %.2f×\n", median(fqRates), median(pgRates), median(fqRates)/median(pgRates))
}

// run reports n times from callers goroutines and returns reports/s and
// this process's CPU per report.
func run(n, callers int, report func(i int) error) (float64, float64) {
	var next atomic.Int64
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	t0 := time.Now()
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				if err := report(i); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(t0)
	return float64(n) / took.Seconds(), float64((cpuTime() - cpu0).Microseconds()) / float64(n)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}

// The workload: a county's grids, reports spread over them.
type fengqiao struct {
	store *core.Store
	grids []model.Grid
	ctx   context.Context
}

func openFengqiao(dir string) (*fengqiao, error) {
	s, err := core.Open(dir, core.Options{})
	if err != nil {
		return nil, err
	}
	ctx := core.WithActor(context.Background(), "pgcompare")
	if _, err := s.Jurisdictions.LoadCounty(ctx, "511083", 2); err != nil {
		return nil, err
	}
	gs, _, err := s.Grids.List("511083", "", 1000)
	if err != nil {
		return nil, err
	}
	f := &fengqiao{store: s, ctx: ctx}
	for _, g := range gs {
		f.grids = append(f.grids, *g)
	}
	grids = f.grids
	return f, nil
}

var grids []model.Grid

func reportOf(i int) model.Report {
	return model.Report{Category: []string{"dispute", "sanitation", "work_safety"}[i%3], Description: "邻里纠纷，双方因噪音发生争执",
		Grid: grids[i%len(grids)].Code, Source: "resident"}
}

func (f *fengqiao) report(i int) error {
	_, err := f.store.Events.Report(f.ctx, reportOf(i))
	return err
}

// postgres is a throwaway cluster in a temporary directory.
type postgres struct {
	bin, data, sock string
	asUser          string
	pool            *pgxpool.Pool
	key             []byte
	queue           chan pgReport
}

func startPG(bin, tmp string, conns int) (*postgres, error) {
	p := &postgres{bin: bin, data: filepath.Join(tmp, "pg"), sock: tmp, key: []byte("pgcompare audit key")}
	if u, _ := user.Current(); u != nil && u.Uid == "0" {
		p.asUser = "postgres" // initdb refuses root
		pu, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("run as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(pu.Uid)
		gid, _ := strconv.Atoi(pu.Gid)
		if err := os.Chown(tmp, uid, gid); err != nil {
			return nil, err
		}
	}
	if err := p.cmd("initdb", "-D", p.data, "-U", "bench", "--auth=trust", "-E", "UTF8", "--no-locale"); err != nil {
		return nil, err
	}
	opts := fmt.Sprintf("-k %s -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c shared_buffers=256MB -c max_connections=%d", tmp, conns+10)
	if err := p.cmd("pg_ctl", "-D", p.data, "-o", opts, "-l", filepath.Join(tmp, "pg.log"), "-w", "start"); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(fmt.Sprintf("host=%s user=bench dbname=postgres pool_max_conns=%d", tmp, conns))
	if err != nil {
		return nil, err
	}
	if p.pool, err = pgxpool.NewWithConfig(context.Background(), cfg); err != nil {
		return nil, err
	}
	p.queue = make(chan pgReport, 1024)
	return p, nil
}

func (p *postgres) cmd(name string, args ...string) error {
	path := filepath.Join(p.bin, name)
	var c *exec.Cmd
	if p.asUser != "" {
		c = exec.Command("runuser", append([]string{"-u", p.asUser, "--", path}, args...)...)
	} else {
		c = exec.Command(path, args...)
	}
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", name, err, out)
	}
	return nil
}

func (p *postgres) stop() {
	if p.pool != nil {
		p.pool.Close()
	}
	p.cmd("pg_ctl", "-D", p.data, "-m", "fast", "-w", "stop")
}

func (p *postgres) schema(ctx context.Context) error {
	_, err := p.pool.Exec(ctx, `
CREATE TABLE event (id text PRIMARY KEY, status text NOT NULL, source text, category text NOT NULL, urgency text,
  grid text, jurisdiction text NOT NULL, description text NOT NULL, reported_at timestamptz NOT NULL,
  reported_by text, accept_by timestamptz, deadline timestamptz, period text, rev int);
CREATE INDEX event_status ON event (status, grid, id);
CREATE INDEX event_category ON event (category, grid, id);
CREATE INDEX event_deadline ON event (deadline, id);
CREATE TABLE counter (key text PRIMARY KEY, reported bigint NOT NULL DEFAULT 0, by_status_reported bigint NOT NULL DEFAULT 0);
CREATE TABLE seq (key text PRIMARY KEY, n bigint NOT NULL);
CREATE TABLE audit_head (id int PRIMARY KEY, seq bigint NOT NULL, hash bytea NOT NULL);
INSERT INTO audit_head VALUES (1, 0, '\x00');
CREATE TABLE audit (seq bigint PRIMARY KEY, prev bytea NOT NULL, hash bytea NOT NULL, command bytea NOT NULL);`)
	return err
}

// counterKeys are the 22 scopes Fengqiao counts a report in (core/state).
func counterKeys(jur, grid, period, category string) []string {
	var keys []string
	for _, n := range []int{2, 4, 6, 9, 12} {
		p := jur[:n]
		keys = append(keys, "j/"+p+"//", "j/"+p+"/"+period+"/", "j/"+p+"//"+category, "j/"+p+"/"+period+"/"+category)
	}
	return append(keys, "g/"+grid+"//", "g/"+grid+"/"+period+"/")
}

// report hands the report to the group committer and waits for its commit.
func (p *postgres) report(i int) error {
	done := make(chan error, 1)
	p.queue <- pgReport{i: i, done: done}
	return <-done
}

type pgReport struct {
	i    int
	done chan error
}

// committer is PostgreSQL's side of group commit, as core's Local proposer
// is Fengqiao's: one writer takes every report waiting (up to 4,096), writes
// them in one transaction — counters summed per row, as the engine buffers
// them — and answers every caller after the commit.
func (p *postgres) committer() {
	ctx := context.Background()
	var seq int64
	var head []byte
	if err := p.pool.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &head); err != nil {
		log.Fatal(err)
	}
	for first := range p.queue {
		batch := []pgReport{first}
	more:
		for len(batch) < 4096 {
			select {
			case r := <-p.queue:
				batch = append(batch, r)
			default:
				break more
			}
		}
		newSeq, newHead, err := p.write(ctx, batch, seq, head)
		if err == nil {
			seq, head = newSeq, newHead
		}
		for _, r := range batch {
			r.done <- err
		}
	}
}

func (p *postgres) write(ctx context.Context, batch []pgReport, seq int64, head []byte) (int64, []byte, error) {
	now := time.Now().UTC()
	period := now.In(time.FixedZone("CST", 8*3600)).Format("200601")
	b := &pgx.Batch{}
	counters := map[string]int64{}
	for _, q := range batch {
		r := reportOf(q.i)
		g := grids[q.i%len(grids)]
		area := g.Jurisdiction[:9] + "-" + now.Format("20060102")
		b.Queue(`WITH s AS (INSERT INTO seq VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET n = seq.n + 1 RETURNING n)
INSERT INTO event SELECT $1 || '-' || lpad(s.n::text, 6, '0'), 'reported', $2, $3, 'normal', $4, $5, $6, $7, 'pgcompare', $8, $9, $10, 1 FROM s`,
			area, r.Source, r.Category, r.Grid, g.Jurisdiction, r.Description, now, now.Add(24*time.Hour), now.Add(5*24*time.Hour), period)
		for _, k := range counterKeys(g.Jurisdiction, g.Code, period, r.Category) {
			counters[k]++
		}
		cmd := []byte(r.Category + "|" + r.Grid + "|" + r.Description + "|" + strconv.Itoa(q.i))
		mac := hmac.New(sha256.New, p.key)
		mac.Write(head)
		mac.Write(cmd)
		hash := mac.Sum(nil)
		seq++
		b.Queue(`INSERT INTO audit VALUES ($1, $2, $3, $4)`, seq, head, hash, cmd)
		head = hash
	}
	keys := make([]string, 0, len(counters))
	for k := range counters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.Queue(`INSERT INTO counter VALUES ($1, $2, $2) ON CONFLICT (key) DO UPDATE SET reported = counter.reported + $2, by_status_reported = counter.by_status_reported + $2`, k, counters[k])
	}
	b.Queue(`UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, seq, head)
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer tx.Rollback(ctx)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, nil, err
	}
	return seq, head, tx.Commit(ctx)
}

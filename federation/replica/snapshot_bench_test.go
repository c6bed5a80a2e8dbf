package replica

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
)

// BenchmarkSnapshotInstall: a group whose state holds N events (default
// 1,000,000; FENGQIAO_BENCH_EVENTS to change) gains a new replica, which
// must install a snapshot; the time is from AddNonvoter until the newcomer's
// state matches the leader's. Building the state is not timed.
//
//	go test ./federation/replica/ -run '^$' -bench BenchmarkSnapshotInstall -benchtime 1x -timeout 30m
func BenchmarkSnapshotInstall(b *testing.B) {
	n := 1000000
	if v, err := strconv.Atoi(os.Getenv("FENGQIAO_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	// Build the state locally (fast bulk import), then restore it into a
	// one-replica group through Raft's user restore.
	src := b.TempDir()
	st, err := core.Open(src, core.Options{Keyring: keyring(b)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	d, err := st.Jurisdictions.LoadCounty(ctx, "511083", 2)
	if err != nil {
		b.Fatal(err)
	}
	made := 0
	if _, err := st.Events.ImportFrom(ctx, n, func() (model.Report, bool) {
		if made == n {
			return model.Report{}, false
		}
		made++
		return model.Report{Category: "dispute", Description: "快照安装基准", Grid: d.Grids[made%len(d.Grids)].Code}, true
	}, nil); err != nil {
		b.Fatal(err)
	}
	backup := filepath.Join(b.TempDir(), "backup.db")
	f, _ := os.Create(backup)
	if _, err := st.Engine().Snapshot(f); err != nil {
		b.Fatal(err)
	}
	f.Close()
	st.Close()
	info, _ := os.Stat(backup)

	c := newCluster(b, 1, Config{})
	l := c.leader()
	in, _ := os.Open(backup)
	if err := l.RestoreBackup(in, nil); err != nil {
		b.Fatal(err)
	}
	in.Close()
	want, _ := l.Engine.AppliedIndex()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := "new" + strconv.Itoa(i)
		r := c.start(id, "127.0.0.1:0", Config{})
		start := time.Now()
		if err := l.Raft.AddNonvoter(raft.ServerID(id), r.Addr, 0, time.Minute).Error(); err != nil {
			b.Fatal(err)
		}
		for {
			if got, _ := r.Engine.AppliedIndex(); got >= want {
				break
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatal("snapshot install did not finish")
			}
			time.Sleep(50 * time.Millisecond)
		}
		b.ReportMetric(time.Since(start).Seconds(), "install-s")
	}
	b.StopTimer()
	b.ReportMetric(float64(n), "events")
	b.ReportMetric(float64(info.Size()>>20), "snapshot-MiB")
}

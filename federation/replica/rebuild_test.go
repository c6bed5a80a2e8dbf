package replica

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestStateRebuiltAfterMachineCrash: a follower's state file was written
// without fsync and the machine went down (its marker is dirty under another
// boot). On restart the file is discarded, the latest snapshot restored and
// the log after it replayed, and the replica agrees with the group again.
// Deleting the state file by hand takes the same path.
func TestStateRebuiltAfterMachineCrash(t *testing.T) {
	for _, how := range []string{"machine crash", "state file deleted"} {
		t.Run(how, func(t *testing.T) {
			cfg := Config{SnapshotThreshold: 1 << 20, TrailingLogs: 16}
			c := newCluster(t, 3, cfg)
			l := c.leader()
			s := c.store(l)
			if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
				t.Fatal(err)
			}
			report(t, s, 100)
			var f *Replica
			for _, r := range c.reps {
				if r != l {
					f = r
					break
				}
			}
			c.converged(l)
			if err := f.Raft.Snapshot().Error(); err != nil {
				t.Fatal(err)
			}
			report(t, s, 40) // after the snapshot: only in the log
			c.converged(l)
			id, addr, dir := f.ID, string(f.Addr), c.dirs[f.ID]
			f.Close()
			delete(c.reps, id)
			switch how {
			case "machine crash":
				if err := os.WriteFile(filepath.Join(dir, "state.sync"), []byte("dirty another-boot\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			default:
				if err := os.Remove(filepath.Join(dir, "state.db")); err != nil {
					t.Fatal(err)
				}
			}
			r := c.start(id, addr, cfg)
			if how == "machine crash" && !r.Engine.Discarded() {
				if _, err := os.Stat("/proc/sys/kernel/random/boot_id"); err == nil {
					t.Fatal("a state file dirty under another boot was not discarded")
				}
			}
			report(t, s, 5)
			c.converged(l)
			if n, _ := c.store(r).Events.Figures("511083", "", ""); n.Reported != 145 {
				t.Fatalf("rebuilt replica has %d events, want 145", n.Reported)
			}
		})
	}
}

package replica

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/fengqiao/fengqiao/core/state"

	"github.com/hashicorp/raft"
)

// Backup streams a consistent copy of this replica's state (a bbolt file
// holding the data, the audit chain and the applied index).
func (r *Replica) Backup(w io.Writer) (int64, error) { return r.Engine.Snapshot(w) }

// RestoreBackup replaces the whole group's state with a backup, through
// Raft's user restore: the leader takes the state on, then every follower
// installs it as a snapshot. For disaster recovery; leader only. check, if
// set, sees the received backup first and may refuse it, changing nothing.
func (r *Replica) RestoreBackup(rd io.Reader, check func(path string) error) error {
	if err := r.requireLeader(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.Engine.Path()), "restore-*.db")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, rd); err != nil {
		return fmt.Errorf("replica: receive backup: %w", err)
	}
	idx, err := state.StateFileIndex(tmp.Name())
	if err != nil {
		return err
	}
	if check != nil {
		if err := check(tmp.Name()); err != nil {
			return err
		}
	}
	size, err := tmp.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	meta := &raft.SnapshotMeta{Version: raft.SnapshotVersionMax, Index: idx, Term: 1, Size: size}
	if err := r.Raft.Restore(meta, tmp, 5*time.Minute); err != nil {
		return fmt.Errorf("replica: restore: %w", err)
	}
	return nil
}

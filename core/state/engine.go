package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/paulmach/orb"
	"go.etcd.io/bbolt"
)

// Entry is one encoded command at a log position. In embedded mode the
// position is a local sequence; under Raft it is the Raft log index, which
// the commands of one packed entry (replica.EncodeBatch) share: apply them in one
// ApplyBatch call, since it skips an index it has already applied.
type Entry struct {
	Index uint64
	Data  []byte
}

// Result is the outcome of applying one entry: a value, or a deterministic
// rejection that changed nothing.
type Result struct {
	Value any
	Err   error
}

// Engine is the deterministic state machine over one bbolt file. Apply is a
// pure function of the current state and the entries: no clock, randomness,
// network or plugins, and no map order leaks into what is written.
type Engine struct {
	mu     sync.RWMutex // writers: ApplyBatch and reads share; Restore excludes both
	path   string
	db     *bbolt.DB
	noSync bool
	// deferred: commits skip fsync (DeferSync took effect); Close syncs
	// and marks the file clean.
	deferred  bool
	discarded bool
	migrated  int // index keys the upgrade of an older file rewrote (upgrade.go)
	onMigrate func(removed int)
	applied   atomic.Uint64 // meta/applied as of the last commit or open
	onApply   func(entries, rejected int, took time.Duration)
	tokenGen  atomic.Uint64 // counts token changes (TokenGeneration)
	gridGen   atomic.Uint64 // counts grid changes (GridGeneration)
	plugGen   atomic.Uint64 // counts catalog changes (PluginGeneration)
	notifyMu  sync.Mutex
	notify    chan struct{} // closed when the change feed grows (ChangeNotify)
	cps       checkpoints
	auditKeys atomic.Pointer[seal.Keyring] // key the audit chain (chainkey.go)
}

// EngineOptions tune the bbolt file.
type EngineOptions struct {
	// NoSync skips fsync. Only for tests and bulk benchmarks that say so.
	NoSync bool
	// OnApply, if set, is told the size and duration of every committed batch
	// (metrics hook; it must not block).
	OnApply func(entries, rejected int, took time.Duration)
	// DeferSync commits without fsync, for an engine whose commands are
	// durable elsewhere (a Raft log) and can be replayed. After the machine
	// stopped uncleanly the file is discarded on open and Discarded reports
	// it; see durability.go. Without a boot id (not Linux) it has no effect.
	DeferSync bool
	// OnMigrate, if set, is told the running count of retired index keys
	// removed after each transaction of the one-time upgrade an open of an
	// older file does (10,000 keys each), so a long upgrade can show
	// progress. Restores that swap in an older file call it too.
	OnMigrate func(removed int)
}

// OpenEngine opens (or creates) the state file state.db in dir.
func OpenEngine(dir string, opts EngineOptions) (*Engine, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("core: data dir: %w", err)
	}
	e := &Engine{path: filepath.Join(dir, "state.db"), noSync: opts.NoSync, onApply: opts.OnApply, onMigrate: opts.OnMigrate}
	discarded, marked, err := discardTorn(dir, e.path)
	if err != nil {
		return nil, err
	}
	e.discarded = discarded
	// Deferring needs a boot id to tell a reboot from a process crash.
	if boot := bootID(); opts.DeferSync && !opts.NoSync && boot != "" {
		if err := writeMarker(dir, "dirty "+boot+"\n"); err != nil {
			return nil, err
		}
		e.deferred, e.noSync = true, true
	}
	if err := e.open(); err != nil {
		return nil, err
	}
	if marked && !e.deferred {
		// Opened with fsync after an unsynced run: make that run's writes
		// durable before the marker that vouches for them goes.
		if err := e.db.Sync(); err != nil {
			e.db.Close()
			return nil, fmt.Errorf("core: sync %s: %w", e.path, err)
		}
		if err := os.Remove(filepath.Join(dir, syncMarker)); err != nil {
			e.db.Close()
			return nil, fmt.Errorf("core: sync marker: %w", err)
		}
	}
	return e, nil
}

func (e *Engine) open() error {
	// The freelist is synced: NoFreelistSync saves a page per commit but makes
	// open walk the whole file to rebuild it (1.4 GB resident at 1M events).
	db, err := bbolt.Open(e.path, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: e.noSync, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("core: open %s: %w", e.path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return fmt.Errorf("core: init buckets: %w", err)
	}
	upgraded, err := upgrade(db, e.onMigrate)
	if err != nil {
		db.Close()
		return err
	}
	e.migrated += upgraded
	e.db = db
	var applied uint64
	db.View(func(tx *bbolt.Tx) error {
		applied = GetU64(tx.Bucket(BucketMeta).Get(metaApplied))
		return nil
	})
	e.applied.Store(applied)
	return e.rebuildCaches()
}

// TokenGeneration counts the changes to tokens (and state swaps): a cache
// of tokens read at an older count is stale.
func (e *Engine) TokenGeneration() uint64 { return e.tokenGen.Load() }

// GridGeneration counts the changes to grids (and state swaps): a spatial
// index of grids built at an older count is stale. The services own the
// index (core.Grids); the engine only says when to rebuild it.
func (e *Engine) GridGeneration() uint64 { return e.gridGen.Load() }

// PluginGeneration counts the changes to the plugin catalog (and state
// swaps): a host that read the catalog at an older count reads it again.
func (e *Engine) PluginGeneration() uint64 { return e.plugGen.Load() }

// rebuildCaches forgets what was read from the file before: cached tokens
// and grid indexes go stale, and the checkpoints start over.
func (e *Engine) rebuildCaches() error {
	e.tokenGen.Add(1)
	e.gridGen.Add(1)
	e.plugGen.Add(1)
	e.cps.reset()
	return nil
}

// ActiveGrids calls fn with the code, polygon and type of every active grid.
func (e *Engine) ActiveGrids(fn func(code string, poly orb.Polygon, typ model.GridType)) error {
	return e.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bGrid).ForEach(func(k, v []byte) error {
			g, err := decodeGrid(v)
			if err != nil {
				return err
			}
			if g.Status == model.GridActive {
				fn(g.Code, g.Geometry, g.Type)
			}
			return nil
		})
	})
}

// Close closes the file.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.db == nil {
		return nil
	}
	var err error
	if e.deferred {
		err = e.db.Sync()
	}
	if cerr := e.db.Close(); err == nil {
		err = cerr
	}
	e.db = nil
	if err == nil && e.deferred {
		err = writeMarker(filepath.Dir(e.path), "clean\n")
	}
	return err
}

// Discarded reports whether OpenEngine threw away a state file that was
// written without fsync before the machine stopped uncleanly. The engine is
// then empty, and its owner must rebuild it (restore a snapshot, replay).
func (e *Engine) Discarded() bool { return e.discarded }

// Migrated reports how many index keys opening the file (or restoring a
// snapshot into it) removed or wrote to bring an older layout up to date
// (upgrade.go), so an owner can log the one-time work; zero for a file
// written by this version.
func (e *Engine) Migrated() int { return e.migrated }

// Path is the state file.
func (e *Engine) Path() string { return e.path }

// View runs fn in a read transaction.
func (e *Engine) View(fn func(tx *bbolt.Tx) error) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.db == nil {
		return errs.ErrClosed
	}
	return e.db.View(fn)
}

// AppliedIndex returns the index of the last applied entry.
func (e *Engine) AppliedIndex() (uint64, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.db == nil {
		return 0, errs.ErrClosed
	}
	return e.applied.Load(), nil
}

// ApplyBatch applies entries in order inside one bbolt transaction and
// records the last index as applied in the same transaction, so a restart
// never re-applies. A rejected entry is isolated: the transaction is rolled
// back and replayed without it, so it leaves no trace. Entries at or below
// the applied index are skipped (they were applied before a crash).
func (e *Engine) ApplyBatch(entries []Entry) ([]Result, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.db == nil {
		return nil, errs.ErrClosed
	}
	start := time.Now()
	results := make([]Result, len(entries))
	skip := make([]bool, len(entries))
	dec := decodeAll(entries)
	for {
		tx, err := e.db.Begin(true)
		if err != nil {
			return nil, fmt.Errorf("core: begin: %w", err)
		}
		t := newTxn(tx)
		t.keys = e.auditKeys.Load()
		applied := GetU64(tx.Bucket(BucketMeta).Get(metaApplied))
		failed := -1
		prev := applied
		for i, en := range entries {
			if skip[i] {
				continue
			}
			if en.Index <= applied {
				results[i] = Result{Err: errs.Conflict("index", "applied", "entry %d already applied", en.Index)}
				continue
			}
			t.checkpoint(prev, en.Index)
			prev = en.Index
			v, err := t.applyEntry(en, dec[i])
			if err != nil {
				results[i] = Result{Err: err}
				failed = i
				break
			}
			results[i] = Result{Value: v}
		}
		if failed >= 0 {
			tx.Rollback()
			skip[failed] = true
			// Handlers may normalise their decoded payload in place; decode
			// afresh so the replay sees exactly what another replica would.
			dec = decodeAll(entries)
			continue
		}
		if n := len(entries); n > 0 && entries[n-1].Index > applied {
			if err := tx.Bucket(BucketMeta).Put(metaApplied, U64(entries[n-1].Index)); err != nil {
				tx.Rollback()
				return nil, err
			}
		}
		if err := t.flush(); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("core: flush counters: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("core: commit: %w", err)
		}
		if n := len(entries); n > 0 && entries[n-1].Index > applied {
			e.applied.Store(entries[n-1].Index)
		}
		e.cps.add(t.cps)
		for _, fx := range t.effects {
			fx(e)
		}
		if t.changed {
			e.notifyChanges()
		}
		if e.onApply != nil {
			rejected := 0
			for _, r := range results {
				if r.Err != nil {
					rejected++
				}
			}
			e.onApply(len(entries), rejected, time.Since(start))
		}
		return results, nil
	}
}

// decodeAll parses entries before the write transaction, on every core for
// large batches: decoding is pure, so order and results do not depend on it.
func decodeAll(entries []Entry) []decoded {
	out := make([]decoded, len(entries))
	workers := runtime.GOMAXPROCS(0)
	if len(entries) < 256 || workers < 2 {
		for i, en := range entries {
			out[i] = decodeEntry(en.Data)
		}
		return out
	}
	var wg sync.WaitGroup
	chunk := (len(entries) + workers - 1) / workers
	for start := 0; start < len(entries); start += chunk {
		end := min(start+chunk, len(entries))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := start; i < end; i++ {
				out[i] = decodeEntry(entries[i].Data)
			}
		}()
	}
	wg.Wait()
	return out
}

var errStop = errors.New("stop")

package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"go.etcd.io/bbolt"
)

// PointSnapshot pins the state as of the moment it was opened; writers go
// on meanwhile. Raft's FSM opens one on its apply goroutine and streams it
// later from another, so the copy matches the moment Raft asked for.
type PointSnapshot struct {
	e     *Engine
	tx    *bbolt.Tx
	Index uint64 // the applied index the copy contains
}

// OpenSnapshot pins the current state. Close it when done: until then a
// Restore on this engine waits.
func (e *Engine) OpenSnapshot() (*PointSnapshot, error) {
	e.mu.RLock()
	if e.db == nil {
		e.mu.RUnlock()
		return nil, errs.ErrClosed
	}
	tx, err := e.db.Begin(false)
	if err != nil {
		e.mu.RUnlock()
		return nil, fmt.Errorf("core: snapshot: %w", err)
	}
	return &PointSnapshot{e: e, tx: tx, Index: GetU64(tx.Bucket(BucketMeta).Get(metaApplied))}, nil
}

// WriteTo streams the pinned state file.
func (p *PointSnapshot) WriteTo(w io.Writer) (int64, error) { return p.tx.WriteTo(w) }

// Close releases the pinned state.
func (p *PointSnapshot) Close() {
	if p.tx != nil {
		p.tx.Rollback()
		p.tx = nil
		p.e.mu.RUnlock()
	}
}

// Snapshot streams a consistent copy of the state file to w.
func (e *Engine) Snapshot(w io.Writer) (int64, error) {
	ps, err := e.OpenSnapshot()
	if err != nil {
		return 0, err
	}
	defer ps.Close()
	n, err := ps.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("core: snapshot: %w", err)
	}
	return n, nil
}

// Restore replaces the whole state with a snapshot stream. The stream is
// written beside the live file and checked before it is swapped in, so a bad
// stream leaves the current state untouched.
func (e *Engine) Restore(r io.Reader) error {
	tmp := e.path + ".restore"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("core: restore: %w", err)
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = checkStateFile(tmp)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("core: restore: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.db != nil {
		if err := e.db.Close(); err != nil {
			return err
		}
		e.db = nil
	}
	if err := os.Rename(tmp, e.path); err != nil {
		return fmt.Errorf("core: restore: %w", err)
	}
	return e.open()
}

func checkStateFile(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		return errs.Invalid("snapshot", "format", "not a state file: %v", err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(BucketMeta) == nil || tx.Bucket(BucketAudit) == nil {
			return errs.Invalid("snapshot", "format", "state file lacks the meta and audit buckets")
		}
		return nil
	})
}

// Digest hashes the logical state: every bucket, key and value in order,
// except the applied log position (which counts rejected commands too).
// Two engines that applied the same commands have the same digest.
func (e *Engine) Digest() (string, error) { return e.digest(false) }

// ContentDigest is Digest without the audit chain: it changes only when a
// command changed something besides the record of it. A refused request
// that is audited (a failed authentication, a denied authorization) leaves
// it as it was.
func (e *Engine) ContentDigest() (string, error) { return e.digest(true) }

func (e *Engine) digest(withoutAudit bool) (string, error) {
	h := sha256.New()
	err := e.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			if withoutAudit && bytes.Equal(name, BucketAudit) {
				return nil
			}
			h.Write([]byte{0xff})
			h.Write(name)
			return b.ForEach(func(k, v []byte) error {
				if bytes.Equal(name, BucketMeta) && (string(k) == "applied" || withoutAudit && bytes.Equal(k, AuditHeadKey)) {
					return nil
				}
				h.Write([]byte{0})
				h.Write(k)
				h.Write([]byte{1})
				h.Write(v)
				return nil
			})
		})
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// Replay applies every command in src's audit chain to e, in order and in
// batches, reporting progress. It rebuilds state from the command log.
func (e *Engine) Replay(src *Engine, progress func(done uint64)) error {
	const page = 1000
	var after uint64        // last record read
	var carry []AuditRecord // read, not yet applied
	for {
		recs, err := src.auditRecords(after, page)
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			after = recs[len(recs)-1].Seq
		}
		full := len(recs) == page
		recs = append(carry, recs...)
		carry = nil
		if len(recs) == 0 {
			return nil
		}
		// The commands of one packed entry share its log index, and
		// ApplyBatch skips an index it has applied: never split an entry
		// across two calls.
		if full {
			cut := len(recs)
			for cut > 0 && recs[cut-1].Index == recs[len(recs)-1].Index {
				cut--
			}
			carry = recs[cut:]
			if recs = recs[:cut]; len(recs) == 0 {
				continue
			}
		}
		entries := make([]Entry, len(recs))
		for i, r := range recs {
			entries[i] = Entry{Index: r.Index, Data: r.Command}
		}
		res, err := e.ApplyBatch(entries)
		if err != nil {
			return err
		}
		for i, r := range res {
			if r.Err != nil {
				return fmt.Errorf("core: replay of record %d rejected: %w", recs[i].Seq, r.Err)
			}
		}
		if progress != nil {
			progress(recs[len(recs)-1].Seq)
		}
	}
}

// StateFileIndex checks that path is a state file (a backup, say) and returns
// the log index it was taken at.
func StateFileIndex(path string) (uint64, error) {
	if err := checkStateFile(path); err != nil {
		return 0, err
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var idx uint64
	err = db.View(func(tx *bbolt.Tx) error {
		idx = GetU64(tx.Bucket(BucketMeta).Get(metaApplied))
		return nil
	})
	return idx, err
}

// OpenStateFileReadOnly opens a state file (a stopped node's, or a backup)
// for inspection, such as verifying its audit chain. Writes are refused.
func OpenStateFileReadOnly(path string) (*Engine, error) {
	if err := checkStateFile(path); err != nil {
		return nil, err
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("core: open %s: %w", path, err)
	}
	return &Engine{path: path, db: db}, nil
}

// VerifyState rebuilds the state from the audit chain in a scratch
// directory and compares digests with this engine's. Where VerifyAudit
// proves the chain untouched, this also catches a state record altered
// without its command (say, an event edited in the file). It returns an
// error wrapping errs.ErrTampered when they differ.
func (e *Engine) VerifyState(scratch string, progress func(done uint64)) error {
	if _, err := e.VerifyAudit(); err != nil {
		return err
	}
	fresh, err := OpenEngine(scratch, EngineOptions{NoSync: true})
	if err != nil {
		return err
	}
	defer fresh.Close()
	fresh.SetAuditKeys(e.auditKeys.Load())
	if err := fresh.Replay(e, progress); err != nil {
		return fmt.Errorf("core: replay: %w", err)
	}
	want, err := fresh.Digest()
	if err != nil {
		return err
	}
	got, err := e.Digest()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("core: state does not match its audit chain (digest %s…, rebuilt %s…): %w", got[:12], want[:12], errs.ErrTampered)
	}
	return nil
}

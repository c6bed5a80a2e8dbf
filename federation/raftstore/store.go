// Package raftstore implements hashicorp/raft's LogStore and StableStore on
// bbolt, so a jurisdiction's Raft log lives in one durable file beside its
// state. It is written here because raft-boltdb/v2 does not build with raft
// v1.8.0; no code is copied from it.
//
// Log entries are keyed by their index (8 bytes, big-endian) so bbolt's
// order is the log's order; they are encoded in a small binary form rather
// than msgpack. Every write is one transaction, fsync'd unless Options.NoSync.
package raftstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	"go.etcd.io/bbolt"
)

var (
	bLogs = []byte("logs")
	bConf = []byte("conf")
)

// ErrKeyNotFound is returned by Get and GetUint64 for a missing key. Its
// message is "not found", which is what hashicorp/raft tests for.
var ErrKeyNotFound = errors.New("not found")

// ErrCorrupt marks a stored entry that does not decode.
var ErrCorrupt = errors.New("raftstore: corrupt log entry")

// Options tune the store.
type Options struct {
	// NoSync skips fsync: only for tests and benchmarks that say so.
	NoSync bool
}

// Store is a LogStore and StableStore on one bbolt file.
type Store struct {
	db *bbolt.DB
}

var (
	_ raft.LogStore    = (*Store)(nil)
	_ raft.StableStore = (*Store)(nil)
)

// Open opens or creates the store at path.
func Open(path string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("raftstore: %w", err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: opts.NoSync, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("raftstore: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bLogs, bConf} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("raftstore: init: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

func key(i uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], i)
	return b[:]
}

// FirstIndex returns the first index written, 0 for an empty log.
func (s *Store) FirstIndex() (uint64, error) {
	var idx uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bLogs).Cursor().First(); k != nil {
			idx = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return idx, err
}

// LastIndex returns the last index written, 0 for an empty log.
func (s *Store) LastIndex() (uint64, error) {
	var idx uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bLogs).Cursor().Last(); k != nil {
			idx = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return idx, err
}

// GetLog reads the entry at index into log, or returns raft.ErrLogNotFound.
func (s *Store) GetLog(index uint64, log *raft.Log) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bLogs).Get(key(index))
		if v == nil {
			return raft.ErrLogNotFound
		}
		return decode(v, log)
	})
}

// StoreLog writes one entry.
func (s *Store) StoreLog(log *raft.Log) error { return s.StoreLogs([]*raft.Log{log}) }

// StoreLogs writes entries in one transaction: all or none are durable.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bLogs)
		b.FillPercent = 0.95 // indexes only grow
		for _, l := range logs {
			if err := b.Put(key(l.Index), encode(l)); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteRange removes entries min..max inclusive (compaction from the front,
// or truncation of a conflicting suffix).
func (s *Store) DeleteRange(min, max uint64) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bLogs).Cursor()
		for k, _ := c.Seek(key(min)); k != nil && binary.BigEndian.Uint64(k) <= max; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Set stores a value under key.
func (s *Store) Set(k, v []byte) error {
	return s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bConf).Put(k, v) })
}

// Get returns the value under key, or ErrKeyNotFound.
func (s *Store) Get(k []byte) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bConf).Get(k)
		if v == nil {
			return ErrKeyNotFound
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

// SetUint64 stores a number under key.
func (s *Store) SetUint64(k []byte, v uint64) error { return s.Set(k, key(v)) }

// GetUint64 returns the number under key, or ErrKeyNotFound.
func (s *Store) GetUint64(k []byte) (uint64, error) {
	v, err := s.Get(k)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("raftstore: value under %q is not a uint64", k)
	}
	return binary.BigEndian.Uint64(v), nil
}

package raftstore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftbench "github.com/hashicorp/raft/bench"
)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func entry(i uint64) *raft.Log {
	return &raft.Log{Index: i, Term: 1 + i/10, Type: raft.LogCommand, Data: []byte(fmt.Sprintf("cmd-%d", i)),
		Extensions: []byte{byte(i)}, AppendedAt: time.Unix(1764000000, int64(i)).UTC()}
}

func indexes(t *testing.T, s *Store) (uint64, uint64) {
	t.Helper()
	f, err := s.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	return f, l
}

func TestLogStoreConformance(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "raft.db"))
	defer s.Close()
	if f, l := indexes(t, s); f != 0 || l != 0 {
		t.Fatalf("empty store: first %d last %d", f, l)
	}
	var logs []*raft.Log
	for i := uint64(1); i <= 20; i++ {
		logs = append(logs, entry(i))
	}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	if f, l := indexes(t, s); f != 1 || l != 20 {
		t.Fatalf("first %d last %d", f, l)
	}
	for _, want := range logs {
		var got raft.Log
		if err := s.GetLog(want.Index, &got); err != nil {
			t.Fatal(err)
		}
		got.AppendedAt = got.AppendedAt.UTC()
		if !reflect.DeepEqual(&got, want) {
			t.Fatalf("entry %d: got %+v want %+v", want.Index, got, *want)
		}
	}
	var l raft.Log
	if err := s.GetLog(21, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("missing entry: %v", err)
	}
	// Compaction from the front, truncation of a suffix.
	if err := s.DeleteRange(1, 5); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(18, 20); err != nil {
		t.Fatal(err)
	}
	if f, l := indexes(t, s); f != 6 || l != 17 {
		t.Fatalf("after deletes: first %d last %d", f, l)
	}
	if err := s.GetLog(5, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatal("compacted entry still readable")
	}
	// A gap (a snapshot install leaves one): entries resume at 100.
	if err := s.StoreLogs([]*raft.Log{entry(100), entry(101)}); err != nil {
		t.Fatal(err)
	}
	if f, l := indexes(t, s); f != 6 || l != 101 {
		t.Fatalf("with a gap: first %d last %d", f, l)
	}
	if err := s.GetLog(50, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatal("entry inside the gap found")
	}
	// Overwriting an index (a new leader's conflicting entry) replaces it.
	over := entry(100)
	over.Term, over.Data = 99, []byte("replaced")
	if err := s.StoreLog(over); err != nil {
		t.Fatal(err)
	}
	if err := s.GetLog(100, &l); err != nil || l.Term != 99 || string(l.Data) != "replaced" {
		t.Fatalf("overwrite: %+v %v", l, err)
	}
	// Empty data and extensions round-trip as nil.
	if err := s.StoreLog(&raft.Log{Index: 102, Term: 5, Type: raft.LogNoop}); err != nil {
		t.Fatal(err)
	}
	if err := s.GetLog(102, &l); err != nil || l.Data != nil || l.Extensions != nil || !l.AppendedAt.IsZero() || l.Type != raft.LogNoop {
		t.Fatalf("empty entry: %+v %v", l, err)
	}
}

func TestStableStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	s := open(t, path)
	if _, err := s.Get([]byte("CurrentTerm")); err == nil || err.Error() != "not found" {
		t.Fatalf("missing key: %v (raft needs the message \"not found\")", err)
	}
	if _, err := s.GetUint64([]byte("LastVoteTerm")); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("missing uint64: %v", err)
	}
	if err := s.Set([]byte("LastVoteCand"), []byte("node-2")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 42); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, path)
	defer s.Close()
	if v, err := s.Get([]byte("LastVoteCand")); err != nil || string(v) != "node-2" {
		t.Fatalf("after reopen: %q %v", v, err)
	}
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 42 {
		t.Fatalf("after reopen: %d %v", v, err)
	}
	if _, err := s.GetUint64([]byte("LastVoteCand")); err == nil {
		t.Fatal("a 6-byte value read as a uint64")
	}
}

func TestCorruptEntryIsAnError(t *testing.T) {
	var l raft.Log
	good := encode(entry(7))
	for i, bad := range [][]byte{nil, {9}, good[:20], append(append([]byte(nil), good...), 0xff), func() []byte {
		b := append([]byte(nil), good...)
		b[0] = 2
		return b
	}()} {
		if err := decode(bad, &l); !errors.Is(err, ErrCorrupt) {
			t.Errorf("case %d: %v", i, err)
		}
	}
	if err := decode(good, &l); err != nil || l.Index != 7 {
		t.Fatalf("good entry: %v", err)
	}
}

// TestMain doubles as the writer process of TestReopenAfterKill: with
// RAFTSTORE_WRITER set it appends entries forever, printing each last index
// once StoreLogs has returned (so once it is durable).
func TestMain(m *testing.M) {
	if path := os.Getenv("RAFTSTORE_WRITER"); path != "" {
		writeForever(path)
	}
	os.Exit(m.Run())
}

func writeForever(path string) {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := uint64(1); ; i += 4 {
		var batch []*raft.Log
		for j := i; j < i+4; j++ {
			e := entry(j)
			e.Data = bytes.Repeat([]byte{byte(j)}, 100+int(j%900))
			batch = append(batch, e)
		}
		if err := s.StoreLogs(batch); err != nil {
			fmt.Fprintln(w, "error", err)
			w.Flush()
			os.Exit(1)
		}
		fmt.Fprintln(w, i+3)
		w.Flush()
	}
}

// TestReopenAfterKill kills a writer process with SIGKILL mid-stream and
// checks that every entry it acknowledged survives, intact and in order.
func TestReopenAfterKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "RAFTSTORE_WRITER="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var acked uint64
	for sc.Scan() {
		n, err := strconv.ParseUint(sc.Text(), 10, 64)
		if err != nil {
			t.Fatalf("writer said %q", sc.Text())
		}
		acked = n
		if acked >= 800 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if acked < 800 {
		t.Fatalf("writer stopped early at %d", acked)
	}
	s := open(t, path)
	defer s.Close()
	f, l := indexes(t, s)
	if f != 1 || l < acked {
		t.Fatalf("after kill: first %d last %d, acknowledged %d", f, l, acked)
	}
	for i := uint64(1); i <= l; i++ {
		var e raft.Log
		if err := s.GetLog(i, &e); err != nil {
			t.Fatalf("entry %d of %d: %v", i, l, err)
		}
		if e.Index != i || len(e.Data) != 100+int(i%900) || e.Data[0] != byte(i) {
			t.Fatalf("entry %d torn: %+v", i, e)
		}
	}
}

func benchStore(b *testing.B) *Store {
	s, err := Open(filepath.Join(b.TempDir(), "raft.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// hashicorp/raft's own LogStore/StableStore benchmark harness.
func BenchmarkFirstIndex(b *testing.B)  { raftbench.FirstIndex(b, benchStore(b)) }
func BenchmarkLastIndex(b *testing.B)   { raftbench.LastIndex(b, benchStore(b)) }
func BenchmarkGetLog(b *testing.B)      { raftbench.GetLog(b, benchStore(b)) }
func BenchmarkStoreLog(b *testing.B)    { raftbench.StoreLog(b, benchStore(b)) }
func BenchmarkStoreLogs(b *testing.B)   { raftbench.StoreLogs(b, benchStore(b)) }
func BenchmarkDeleteRange(b *testing.B) { raftbench.DeleteRange(b, benchStore(b)) }
func BenchmarkSet(b *testing.B)         { raftbench.Set(b, benchStore(b)) }
func BenchmarkGet(b *testing.B)         { raftbench.Get(b, benchStore(b)) }
func BenchmarkSetUint64(b *testing.B)   { raftbench.SetUint64(b, benchStore(b)) }
func BenchmarkGetUint64(b *testing.B)   { raftbench.GetUint64(b, benchStore(b)) }

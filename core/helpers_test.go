package core

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fengqiao/fengqiao/core/idcard"
	"github.com/fengqiao/fengqiao/core/keyfile"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClock advances by step on every reading, so command times are
// deterministic and ordered.
type fakeClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// recorder wraps a proposer and keeps every entry it proposed.
type recorder struct {
	state.Proposer
	mu   sync.Mutex
	data [][]byte
}

func (r *recorder) Propose(ctx context.Context, data [][]byte) ([]state.Result, error) {
	r.mu.Lock()
	r.data = append(r.data, data...)
	r.mu.Unlock()
	return r.Proposer.Propose(ctx, data)
}

func testKeyring(t testing.TB) *seal.Keyring {
	kr, err := seal.NewRandomKeyring(seal.AES256GCM)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

type env struct {
	*Store
	dir   string
	clock *fakeClock
	rec   *recorder
	ctx   context.Context
}

// newEnv opens a store in a temp dir with a fake clock starting on Monday
// 2026-11-23 09:00 CST. sync=false skips fsync for speed.
func newEnv(t testing.TB, sync bool) *env {
	t.Helper()
	return newEnvWith(t, sync, state.EngineOptions{})
}

// newEnvWith is newEnv with engine options (NoSync follows sync).
func newEnvWith(t testing.TB, sync bool, opts state.EngineOptions) *env {
	t.Helper()
	dir := t.TempDir()
	opts.NoSync = !sync
	e, err := state.OpenEngine(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{now: time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC), step: time.Second}
	rec := &recorder{Proposer: state.NewLocal(e)}
	s := New(e, rec, Options{Keyring: testKeyring(t), Clock: clk.Now})
	t.Cleanup(func() { s.Close() })
	return &env{Store: s, dir: dir, clock: clk, rec: rec, ctx: WithActor(context.Background(), "tester")}
}

// withCounty loads 隆昌市 (511083) with 2×2 derived grids per village.
func (e *env) withCounty(t testing.TB) {
	t.Helper()
	if _, err := e.Jurisdictions.LoadCounty(e.ctx, "511083", 2); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC))
}

// idNumber makes a valid ID number for 隆昌市 with serial n.
func idNumber(n int) string {
	first := fmt.Sprintf("511083%s%03d", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n%20000).Format("20060102"), n%1000)
	return first + string(idcard.CheckDigit(first))
}

func mustDigest(t testing.TB, e *state.Engine) string {
	t.Helper()
	d, err := e.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustKeyring(t *testing.T, path string) *seal.Keyring {
	t.Helper()
	k, err := keyfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// withParent links the county to the city above, so events can be
// escalated (LevelEscalation refuses it with no tier above).
func (e *env) withParent(t testing.TB) {
	t.Helper()
	if err := e.Federation.Configure(e.ctx, model.FederationConfig{Self: "511083", Links: []model.Link{{Peer: "511000", Relation: model.RelParent}}}); err != nil {
		t.Fatal(err)
	}
}

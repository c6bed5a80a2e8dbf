package core

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"go.etcd.io/bbolt"
)

// BenchmarkKeyedChain: what keying the audit chain costs on the report
// path. Two engines apply the same report commands in batches of 128, as a
// Raft replica does; one's chain is keyed (each record a MAC under the
// chain key), the other's is not, as before. They alternate batch by batch
// in one run, and the ratio is keyed over unkeyed.
func BenchmarkKeyedChain(b *testing.B) {
	plain, keyed := newEnv(b, false), newEnv(b, false)
	plain.withCounty(b)
	keyed.withCounty(b)
	if ok, err := keyed.KeyAuditChain(keyed.ctx); err != nil || !ok {
		b.Fatal(ok, err)
	}
	pd, kd := reportData(b, plain), reportData(b, keyed)
	const batch = 128
	var tp, tk time.Duration
	b.ResetTimer()
	for done, i := 0, 0; done < b.N; done, i = done+batch, i+1 {
		n := min(batch, b.N-done)
		// Each goes first every other batch, so neither gains from order.
		if i%2 == 0 {
			t0 := time.Now()
			applyReports(b, plain, pd, n, batch)
			t1 := time.Now()
			applyReports(b, keyed, kd, n, batch)
			tp, tk = tp+t1.Sub(t0), tk+time.Since(t1)
		} else {
			t0 := time.Now()
			applyReports(b, keyed, kd, n, batch)
			t1 := time.Now()
			applyReports(b, plain, pd, n, batch)
			tk, tp = tk+t1.Sub(t0), tp+time.Since(t1)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(tk.Nanoseconds())/float64(b.N), "keyed-ns/report")
	b.ReportMetric(float64(tp.Nanoseconds())/float64(b.N), "unkeyed-ns/report")
	b.ReportMetric(float64(tk)/float64(tp), "x-unkeyed")
	if rep, err := keyed.Engine().VerifyAudit(); err != nil || rep.Keyed == 0 {
		b.Fatalf("the keyed chain: %+v %v", rep, err)
	}
}

// BenchmarkTokenCheck: what the peppered token hash costs each request,
// against the bare SHA-256 lookup tokens had before (its steps repeated
// here: hash, cache, state), alternating in one run. A known token is
// served from the cache either way; a secret the cache has not seen (a new
// token, or a guess) is looked up in the state.
func BenchmarkTokenCheck(b *testing.B) {
	e := newEnv(b, false)
	e.withCounty(b)
	ctx := context.Background()
	made, secret, err := e.Tokens.Create(ctx, "bench", access.GridWorker, "511083001", "")
	if err != nil {
		b.Fatal(err)
	}
	id := made.ID
	// The lookup as it was: SHA-256, its own cache keyed by that hash,
	// then the hash index and the token record.
	var old tokenCache
	old.put(0, state.HashSecret(secret), *made)
	before := func(secret string, cached bool) {
		hash := state.HashSecret(secret)
		if _, ok := old.get(0, hash); ok && cached {
			return
		}
		err := e.engine.View(func(tx *bbolt.Tx) error {
			// The old code found the id under the bare hash; the token is
			// stored under its pepper now, so read it by that id.
			tx.Bucket(state.BucketTokenHash).Get([]byte(hash))
			var tk model.Token
			return json.Unmarshal(tx.Bucket(state.BucketToken).Get([]byte(id)), &tk)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, cached := range []bool{true, false} {
		name := "cached"
		if !cached {
			name = "uncached"
		}
		b.Run(name, func(b *testing.B) {
			var tp, tl time.Duration
			for i := 0; i < b.N; i++ {
				if !cached {
					e.Tokens.cache.clear()
				}
				t0 := time.Now()
				if _, err := e.Tokens.Authenticate(secret); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				before(secret, cached)
				tp, tl = tp+t1.Sub(t0), tl+time.Since(t1)
			}
			b.ReportMetric(float64(tp.Nanoseconds())/float64(b.N), "peppered-ns/op")
			b.ReportMetric(float64(tl.Nanoseconds())/float64(b.N), "sha256-ns/op")
			b.ReportMetric(float64(tp)/float64(tl), "x-sha256")
		})
	}
}

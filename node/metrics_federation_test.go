package node

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/federation/exchange"
	"github.com/fengqiao/fengqiao/federation/membership"
)

func TestFederationMetrics(t *testing.T) {
	e, err := state.OpenEngine(t.TempDir(), state.EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := seal.NewRandomKeyring(seal.AES256GCM)
	s := core.New(e, state.NewLocal(e), core.Options{Keyring: kr})
	defer s.Close()
	ctx := core.WithActor(context.Background(), "test")
	if err := s.Federation.Configure(ctx, model.FederationConfig{Self: "500110", Links: []model.Link{{Peer: "500000", Relation: model.RelParent}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Federation.SendRollup(ctx); err != nil {
		t.Fatal(err)
	}
	pool, err := membership.Start(membership.Config{Name: "500110/n0", Bind: "127.0.0.1:0", Keys: []string{membership.GenerateKey()}, Profile: "local",
		Meta: membership.Meta{Jurisdiction: "500110", Tier: "county", API: "127.0.0.1:1", Exchange: "127.0.0.1:2", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Kill()
	m := newMetrics()
	m.watchFederation(s, &federation{pool: pool, ship: exchange.NewShipper(s, nil, exchange.ShipperOptions{})})
	for name, want := range map[string]float64{
		"fengqiao_exchange_outbox_depth":   1, // the rollup waits for the parent
		"fengqiao_exchange_sent_sequence":  1,
		"fengqiao_exchange_acked_sequence": 0,
		"fengqiao_federation_members":      1,
		"fengqiao_federation_leaders":      0,
	} {
		mfs, err := m.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			found = true
			if got := mf.GetMetric()[0].GetGauge().GetValue(); got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		if !found {
			t.Errorf("%s not exported", name)
		}
	}
	if n, err := testutil.GatherAndCount(m.reg, "fengqiao_exchange_lag_seconds"); err != nil || n != 1 {
		t.Fatalf("lag series: %d %v", n, err)
	}
}

package replica

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/federation/tlsutil"
)

func tlsFiles(t *testing.T, caDir, name string) tlsutil.Files {
	dir := t.TempDir()
	if err := tlsutil.NewCert(caDir, dir, name, []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	return tlsutil.Files{CA: filepath.Join(caDir, "ca.pem"), Cert: filepath.Join(dir, name+".pem"), Key: filepath.Join(dir, name+"-key.pem")}
}

// TestMutualTLSBetweenReplicas forms a group over mTLS, then shows that a
// replica with a certificate from another CA cannot join it.
func TestMutualTLSBetweenReplicas(t *testing.T) {
	ca := t.TempDir()
	if err := tlsutil.NewCA(ca, "test CA"); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, dirs: map[string]string{}, reps: map[string]*Replica{}, keys: keyring(t)}
	t.Cleanup(func() {
		for _, r := range c.reps {
			r.Close()
		}
	})
	var servers []raft.Server
	for _, id := range []string{"r0", "r1", "r2"} {
		cfg, err := tlsutil.Mutual(tlsFiles(t, ca, id))
		if err != nil {
			t.Fatal(err)
		}
		r := c.start(id, "127.0.0.1:0", Config{TLS: cfg})
		servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: r.Addr})
	}
	c.reps["r0"].Raft.BootstrapCluster(raft.Configuration{Servers: servers})
	l := c.leader()
	s := c.store(l)
	if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	report(t, s, 10)
	c.converged(l)

	// An impostor with its own CA: the group never accepts it.
	other := t.TempDir()
	if err := tlsutil.NewCA(other, "rogue CA"); err != nil {
		t.Fatal(err)
	}
	cfg, _ := tlsutil.Mutual(tlsFiles(t, other, "rogue"))
	rogue := c.start("rogue", "127.0.0.1:0", Config{TLS: cfg})
	err := l.Raft.AddNonvoter("rogue", rogue.Addr, 0, 3*time.Second).Error()
	// The configuration change commits among the real replicas, but nothing
	// ever reaches the impostor: its handshakes fail both ways.
	_ = err
	report(t, s, 5)
	time.Sleep(time.Second)
	if got, _ := rogue.Engine.AppliedIndex(); got != 0 {
		t.Fatalf("a replica with a foreign certificate received %d entries", got)
	}
	if f, _ := core.New(rogue.Engine, rogue.Proposer(), core.Options{Keyring: c.keys}).Events.Figures("511083", "", ""); f.Reported != 0 {
		t.Fatal("the impostor holds events")
	}
}

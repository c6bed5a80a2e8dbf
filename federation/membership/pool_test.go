package membership

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"go.uber.org/goleak"

	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
)

// memberlist's Shutdown does not wait for an in-flight probe (it ends on its
// own timer), and raft's transport leaves an inbound handler blocked until
// the peer closes its end (the benchmarks run Raft groups).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"),
		goleak.IgnoreAnyFunction("github.com/hashicorp/raft.(*NetworkTransport).handleConn"))
}

func meta(code string, i int) Meta {
	tier := divisions.County
	if len(code) == 9 {
		tier = divisions.Township
	}
	return Meta{Jurisdiction: code, Tier: tier, API: fmt.Sprintf("127.0.0.1:%d", 8000+i),
		Exchange: fmt.Sprintf("127.0.0.1:%d", 9000+i), Version: "test"}
}

func start(t testing.TB, name string, m Meta, keys ...string) *Pool {
	t.Helper()
	p, err := Start(Config{Name: name, Bind: "127.0.0.1:0", Meta: m, Keys: keys, Profile: "local"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	return p
}

// eventually polls cond for up to 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	within(t, 10*time.Second, what, cond)
}

func within(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func viewsAgree(pools []*Pool, want map[string]string) bool {
	for _, p := range pools {
		got := map[string]string{}
		for code, m := range p.Leaders() {
			got[code] = m.Name
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return false
		}
	}
	return true
}

func TestLeaderViewFollowsClaimsByTerm(t *testing.T) {
	key := GenerateKey()
	var pools []*Pool
	for i, code := range []string{"500110", "500110", "500110", "500153", "500153"} {
		p := start(t, fmt.Sprintf("%s/r%d", code, i), meta(code, i), key)
		if i > 0 {
			if err := p.Join([]string{pools[0].Addr()}); err != nil {
				t.Fatal(err)
			}
		}
		pools = append(pools, p)
	}
	eventually(t, "everyone sees five members", func() bool {
		for _, p := range pools {
			if len(p.Members()) != 5 {
				return false
			}
		}
		return true
	})
	if err := pools[0].SetLeader(true, 1); err != nil {
		t.Fatal(err)
	}
	if err := pools[3].SetLeader(true, 4); err != nil {
		t.Fatal(err)
	}
	eventually(t, "first leaders", func() bool {
		return viewsAgree(pools, map[string]string{"500110": "500110/r0", "500153": "500153/r3"})
	})
	if got := pools[4].ExchangeAddrs("500110"); len(got) != 3 || got[0] != "127.0.0.1:9000" {
		t.Fatalf("exchange addresses should list the leader first: %v", got)
	}

	// r2 wins term 2 while r0 still claims term 1 (it has not heard yet):
	// the higher term wins in every view.
	if err := pools[2].SetLeader(true, 2); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the higher term wins", func() bool {
		return viewsAgree(pools, map[string]string{"500110": "500110/r2", "500153": "500153/r3"})
	})

	// A crashed leader's claim disappears once the pool declares it dead.
	pools[3].Kill()
	rest := append(append([]*Pool{}, pools[:3]...), pools[4])
	// Without peer confirmations memberlist's suspicion runs up to 6× its
	// 3 s minimum, so allow for it.
	within(t, 30*time.Second, "the dead leader's claim drops", func() bool {
		return viewsAgree(rest, map[string]string{"500110": "500110/r2"})
	})
}

func TestStartRefusesBadConfig(t *testing.T) {
	key := GenerateKey()
	bad := meta("50011", 0)
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{Name: "", Bind: "127.0.0.1:0", Meta: meta("500110", 0), Keys: []string{key}}, "name"},
		{Config{Name: "a", Bind: "127.0.0.1:0", Meta: bad, Keys: []string{key}}, "meta.jurisdiction"},
		{Config{Name: "a", Bind: "127.0.0.1:0", Meta: Meta{Jurisdiction: "500110", Tier: "galaxy"}, Keys: []string{key}}, "meta.tier"},
		{Config{Name: "a", Bind: "127.0.0.1:0", Meta: func() Meta { m := meta("500110", 0); m.API = "nope"; return m }(), Keys: []string{key}}, "meta.api"},
		{Config{Name: "a", Bind: "127.0.0.1:0", Meta: func() Meta { m := meta("500110", 0); m.Exchange = strings.Repeat("x", 600) + ":1"; return m }(), Keys: []string{key}}, "meta"},
		{Config{Name: "a", Bind: "127.0.0.1:0", Meta: meta("500110", 0)}, "gossip_keys"},
		{Config{Name: "a", Bind: "127.0.0.1:0", Meta: meta("500110", 0), Keys: []string{"c2hvcnQ="}}, "gossip_keys"},
		{Config{Name: "a", Bind: "nope", Meta: meta("500110", 0), Keys: []string{key}}, "bind"},
		{Config{Name: "a", Bind: "127.0.0.1:0", Meta: meta("500110", 0), Keys: []string{key}, Profile: "mars"}, "profile"},
	} {
		_, err := Start(tc.cfg)
		if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != tc.field {
			t.Errorf("want invalid %s, got %v", tc.field, err)
		}
	}
}

// A member gossiping meta that does not validate (a foreign or broken
// build) is refused by everyone and never enters the leader view.
func TestMalformedMemberIsRefused(t *testing.T) {
	key := GenerateKey()
	good := start(t, "500110/r0", meta("500110", 0), key)
	raw, _ := ParseKey(key)
	kr, _ := memberlist.NewKeyring(nil, raw)
	mc := memberlist.DefaultLocalConfig()
	mc.Name, mc.BindAddr, mc.BindPort, mc.Keyring = "rogue", "127.0.0.1", 0, kr
	mc.Delegate = junkMeta(`{"j":"99","t":"county","l":true,"n":99,"a":"x:1","x":"x:2","v":"1"}`)
	mc.LogOutput = &strings.Builder{}
	rogue, err := memberlist.Create(mc)
	if err != nil {
		t.Fatal(err)
	}
	defer rogue.Shutdown()
	rogue.Join([]string{good.Addr()})
	eventually(t, "the rogue is refused", func() bool { return good.Refused()["rogue"] != "" })
	if r := good.Refused()["rogue"]; !strings.Contains(r, "meta.jurisdiction") {
		t.Fatalf("refusal should name the field: %q", r)
	}
	for _, m := range good.Members() {
		if m.Name == "rogue" {
			t.Fatal("a refused member is listed")
		}
	}
	if len(good.Leaders()) != 0 {
		t.Fatalf("a refused leader claim entered the view: %v", good.Leaders())
	}
}

type junkMeta string

func (j junkMeta) NodeMeta(int) []byte           { return []byte(j) }
func (junkMeta) NotifyMsg([]byte)                {}
func (junkMeta) GetBroadcasts(int, int) [][]byte { return nil }
func (junkMeta) LocalState(bool) []byte          { return nil }
func (junkMeta) MergeRemoteState([]byte, bool)   {}

func TestWrongKeyCannotJoin(t *testing.T) {
	a := start(t, "500110/r0", meta("500110", 0), GenerateKey())
	b := start(t, "500153/r0", meta("500153", 1), GenerateKey())
	if err := b.Join([]string{a.Addr()}); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("a member with another key joined: %v", err)
	}
	if len(a.Members()) != 1 || len(b.Members()) != 1 {
		t.Fatalf("pools merged without a shared key: %d, %d", len(a.Members()), len(b.Members()))
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := GenerateKey(), GenerateKey()
	var pools []*Pool
	for i := range 3 {
		p := start(t, fmt.Sprintf("500110/r%d", i), meta("500110", i), oldKey)
		if i > 0 {
			if err := p.Join([]string{pools[0].Addr()}); err != nil {
				t.Fatal(err)
			}
		}
		pools = append(pools, p)
	}

	// Bad key operations are refused and change nothing.
	before := fmt.Sprint(pools[0].Keys())
	if err := pools[0].UseKey(newKey); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("using an uninstalled key: %v", err)
	}
	if err := pools[0].RemoveKey(oldKey); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("removing the primary: %v", err)
	}
	if err := pools[0].RemoveKey(newKey); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("removing an unknown key: %v", err)
	}
	if err := pools[0].InstallKey("!!"); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "gossip_keys" {
		t.Fatalf("installing a malformed key: %v", err)
	}
	if after := fmt.Sprint(pools[0].Keys()); after != before {
		t.Fatalf("refused operations changed the keyring: %s → %s", before, after)
	}

	for _, step := range []func(p *Pool) error{
		func(p *Pool) error { return p.InstallKey(newKey) },
		func(p *Pool) error { return p.UseKey(newKey) },
		func(p *Pool) error { return p.RemoveKey(oldKey) },
	} {
		for _, p := range pools {
			if err := step(p); err != nil {
				t.Fatal(err)
			}
		}
		// The pool keeps talking through every step: a leader claim still spreads.
		if err := pools[1].SetLeader(true, pools[1].meta.Term+1); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the claim spreads", func() bool { return viewsAgree(pools, map[string]string{"500110": "500110/r1"}) })
	}
	if got := pools[2].Keys(); len(got) != 1 || got[0] != newKey {
		t.Fatalf("keyring after rotation: %v", got)
	}
	late := start(t, "500110/r9", meta("500110", 9), newKey)
	if err := late.Join([]string{pools[0].Addr()}); err != nil {
		t.Fatalf("a member with the new key cannot join: %v", err)
	}
	stale := start(t, "500110/r8", meta("500110", 8), oldKey)
	if err := stale.Join([]string{pools[0].Addr()}); err == nil {
		t.Fatal("a member with the retired key joined")
	}
}

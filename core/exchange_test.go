package core

import (
	"bytes"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// fedEnv is a store configured as jurisdiction self with links.
func fedEnv(t *testing.T, self string, links ...model.Link) *env {
	t.Helper()
	e := newEnv(t, false)
	e.withCounty(t)
	if self != "511083" && state.KnownRegion(self) {
		if _, err := e.Jurisdictions.LoadCounty(e.ctx, self, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Federation.Configure(e.ctx, model.FederationConfig{Self: self, Links: links}); err != nil {
		t.Fatal(err)
	}
	return e
}

func selfOf(t *testing.T, e *env) string {
	cfg, err := e.Federation.Config()
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Self
}

// pump ships what from holds for to, as the exchange does, and returns how
// many of the messages were new to the receiver (0: the link is quiet).
func pump(t *testing.T, from, to *env) int {
	t.Helper()
	src, dst := selfOf(t, from), selfOf(t, to)
	msgs, err := from.Federation.Pending(dst, 1000)
	if err != nil || len(msgs) == 0 {
		return 0
	}
	wire, err := from.Federation.Outgoing(msgs)
	if err != nil {
		t.Fatal(err)
	}
	res, err := to.Federation.Receive(to.ctx, src, wire)
	if err != nil {
		t.Fatal(err)
	}
	if err := from.Federation.Ack(from.ctx, dst, res.Ack); err != nil {
		t.Fatal(err)
	}
	return len(msgs) - res.Duplicates
}

func TestEscalationOutcomeAndSupervision(t *testing.T) {
	county := fedEnv(t, "511083", model.Link{Peer: "511000", Relation: model.RelParent})
	city := fedEnv(t, "511000", model.Link{Peer: "511083", Relation: model.RelChild})
	ev, err := county.Events.Report(county.ctx, model.Report{Category: "dispute", Description: "跨镇土地纠纷", Grid: "511083001001001", Reporter: "13800000000"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []model.Action{{Action: "accept"}, {Action: "escalate", Note: "涉及多镇，请市级协调"}} {
		if _, err := county.Events.Act(county.ctx, ev.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	pump(t, county, city)
	up, err := city.Events.Get(ev.ID)
	if err != nil {
		t.Fatalf("the city does not hold the escalated event under its number: %v", err)
	}
	if up.Origin != "511083" || up.Status != model.StatusReported || up.Reporter != "" {
		t.Fatalf("escalated copy: origin %q status %q reporter %q (the link does not share reporters)", up.Origin, up.Status, up.Reporter)
	}
	// Delivered twice: the second time changes nothing.
	before := mustDigest(t, city.engine)
	msgs, _ := county.Federation.Pending("511000", 10)
	if len(msgs) != 0 {
		t.Fatalf("outbox not trimmed after ack: %d left", len(msgs))
	}
	dup := model.Message{Origin: "511083", Dest: "511000", Seq: 1, Kind: model.KindEscalation, Body: []byte(`{}`)}
	res, err := city.Federation.Receive(city.ctx, "511083", []model.Message{dup})
	if err != nil || res.Duplicates != 1 || res.Ack != 1 {
		t.Fatalf("duplicate: %+v %v", res, err)
	}
	if after := mustDigest(t, city.engine); after != before {
		t.Fatal("a duplicate changed the receiver's state")
	}
	// The city handles it to the end; the outcome returns to the origin.
	passed := true
	for _, a := range []model.Action{{Action: "accept"}, {Action: "dispatch", Handler: "市自然资源局"}, {Action: "sign"}, {Action: "resolve"}, {Action: "verify", Passed: &passed}} {
		if _, err := city.Events.Act(city.ctx, ev.ID, a); err != nil {
			t.Fatalf("%s: %v", a.Action, err)
		}
	}
	pump(t, city, county)
	back, _ := county.Events.Get(ev.ID)
	if back.Status != model.StatusClosed {
		t.Fatalf("origin event after outcome: %s", back.Status)
	}
	tl, _ := county.Events.Timeline(ev.ID)
	if last := tl[len(tl)-1]; last.Action != "outcome" || last.Data["from"] != "511000" {
		t.Fatalf("origin timeline ends with %+v", last)
	}

	// 交办 down with a deadline, 督办 from above, outcome back up.
	task, err := city.Events.Report(city.ctx, model.Report{Category: "sanitation", Description: "河道垃圾", Jurisdiction: "511083001"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, a := range []model.Action{{Action: "accept"}, {Action: "dispatch", Handler: "511083", Deadline: &deadline}, {Action: "supervise", Note: "请加快"}} {
		if _, err := city.Events.Act(city.ctx, task.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	pump(t, city, county)
	down, err := county.Events.Get(task.ID)
	if err != nil || !down.Deadline.Equal(deadline) || down.Supervised != 1 || down.Origin != "511000" {
		t.Fatalf("dispatched copy: %+v %v", down, err)
	}
	for _, a := range []model.Action{{Action: "accept"}, {Action: "dispatch", Handler: "镇环卫所"}, {Action: "sign"}, {Action: "resolve"}, {Action: "verify", Passed: &passed}} {
		if _, err := county.Events.Act(county.ctx, task.ID, a); err != nil {
			t.Fatalf("%s: %v", a.Action, err)
		}
	}
	pump(t, county, city)
	if got, _ := city.Events.Get(task.ID); got.Status != model.StatusResolved {
		t.Fatalf("the city's dispatched event after the outcome: %s (want resolved, to verify)", got.Status)
	}

	// Rollups: the city sees the county's figures without asking.
	if err := county.Federation.SendRollup(county.ctx); err != nil {
		t.Fatal(err)
	}
	pump(t, county, city)
	r, ok, err := city.Federation.Rollup("511083")
	own, _ := county.Events.Figures("511083", "", "")
	if err != nil || !ok || r.Figures.Reported != own.Reported || own.Reported == 0 {
		t.Fatalf("rollup %+v ok=%v err=%v; county reports %d", r.Figures, ok, err, own.Reported)
	}
}

func TestExchangeRefusesBadInput(t *testing.T) {
	city := fedEnv(t, "511000", model.Link{Peer: "511083", Relation: model.RelChild}, model.Link{Peer: "500153", Relation: model.RelPeer})
	body := []byte(`{"event":{"id":"511083001-20261123-000001","category":"dispute","jurisdiction":"511083001"}}`)
	cases := []struct {
		name   string
		origin string
		msgs   []model.Message
		kind   error
		field  string
	}{
		{"unknown member", "110101", []model.Message{{Origin: "110101", Dest: "511000", Seq: 1, Kind: model.KindEscalation, Body: body}}, errs.ErrForbidden, "origin"},
		{"forged origin", "511083", []model.Message{{Origin: "500153", Dest: "511000", Seq: 1, Kind: model.KindEscalation, Body: body}}, errs.ErrForbidden, "messages[0].origin"},
		{"wrong jurisdiction", "511083", []model.Message{{Origin: "511083", Dest: "511099", Seq: 1, Kind: model.KindEscalation, Body: body}}, errs.ErrInvalid, "messages[0].dest"},
	}
	for _, c := range cases {
		before := mustDigest(t, city.engine)
		_, err := city.Federation.Receive(city.ctx, c.origin, c.msgs)
		if !errors.Is(err, c.kind) || errs.Field(err) != c.field {
			t.Errorf("%s: got %v (field %q), want %v on %q", c.name, err, errs.Field(err), c.kind, c.field)
		}
		if mustDigest(t, city.engine) != before {
			t.Errorf("%s changed state", c.name)
		}
	}
	// A forged future sequence number is not applied and not acknowledged.
	res, err := city.Federation.Receive(city.ctx, "511083", []model.Message{{Origin: "511083", Dest: "511000", Seq: 7, Kind: model.KindEscalation, Body: body}})
	if err != nil || res.Ack != 0 || res.Applied != 0 {
		t.Fatalf("gap: %+v %v", res, err)
	}
	// A policy violation (an escalation from a peer), a malformed body and
	// a handover carrying another side's sealed fields are dead-lettered
	// with a reason, audited, and create nothing; the message after them
	// still applies.
	sealed := []byte(`{"handover":{"id":"500153-H1","from":"500153","to":"511000","status":"pending","opened_at":"2026-11-23T01:00:00Z","deadline":"2026-11-30T01:00:00Z","direction":"out","subject":{"name_masked":"赵**","id_masked":"5101**","name_sealed":"v1:opaque"}}}`)
	open := []byte(`{"id":"500153-20261123-C1","title":"界桩纠纷","description":"","lead":"500153","lead_epoch":1,"participants":["500153","511000"],"status":"open","status_ver":4294967296,"opened_at":"2026-11-23T01:00:00Z"}`)
	bad := []model.Message{
		{Origin: "500153", Dest: "511000", Seq: 1, Kind: model.KindEscalation, Body: body},
		{Origin: "500153", Dest: "511000", Seq: 2, Kind: model.KindCaseEntry, Body: []byte(`{"case": 5}`)},
		{Origin: "500153", Dest: "511000", Seq: 3, Kind: model.KindHandoverOffer, Body: sealed},
		{Origin: "500153", Dest: "511000", Seq: 4, Kind: model.KindCaseOpen, Body: open},
	}
	res, err = city.Federation.Receive(city.ctx, "500153", bad)
	if err != nil || res.Ack != 4 || res.Applied != 1 {
		t.Fatalf("refusals: %+v %v", res, err)
	}
	if _, err := city.Events.Get("511083001-20261123-000001"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("a refused escalation created an event: %v", err)
	}
	if _, err := city.Handovers.Get("500153-H1"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("a refused handover was stored: %v", err)
	}
	if _, err := city.Cases.Get("500153-20261123-C1"); err != nil {
		t.Fatalf("the message after the refusals was not applied: %v", err)
	}
	refused, _ := city.Federation.Refusals("500153")
	if len(refused) != 3 || refused[0].Seq != 1 || refused[0].Reason == "" || refused[1].Seq != 2 || refused[2].Seq != 3 {
		t.Fatalf("refusals recorded: %+v", refused)
	}
	if _, err := city.engine.VerifyAudit(); err != nil {
		t.Fatal(err)
	}
	// Configuration is checked and names the field.
	err = city.Federation.Configure(city.ctx, model.FederationConfig{Self: "511000", Links: []model.Link{{Peer: "511083", Relation: "sibling"}}})
	if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "links[0].relation" {
		t.Fatalf("bad relation: %v", err)
	}
	err = city.Federation.Configure(city.ctx, model.FederationConfig{Self: "511000", Links: []model.Link{{Peer: "511083", Relation: model.RelChild, Share: []string{"person.everything"}}}})
	if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "links[0].share" {
		t.Fatalf("bad share: %v", err)
	}
}

func TestHandoverSharesOnlyWhatThePolicyAllows(t *testing.T) {
	for _, share := range []bool{false, true} {
		var shares []string
		if share {
			shares = []string{model.SharePersonIdentity, model.SharePersonDetails}
		}
		from := fedEnv(t, "511083", model.Link{Peer: "500153", Relation: model.RelPeer, Share: shares})
		to := fedEnv(t, "500153", model.Link{Peer: "511083", Relation: model.RelPeer, Share: shares})
		name, idn, diag := "赵志强", idNumber(777), "社区矫正：缓刑，盗窃罪"
		p, err := from.People.Add(from.ctx, model.PersonInput{Name: name, IDNumber: idn, Kind: "registered", Jurisdiction: "511083001001"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := from.People.SetSpecial(from.ctx, p.ID, model.SpecialInput{Category: model.SpecialCorrection, Level: 2, Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			Details: model.SpecialDetails{CorrectionType: "probation", TermStart: "2026-01-01", TermEnd: "2027-06-30", Offense: diag}}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)
		h, err := from.Handovers.Open(from.ctx, p.ID, "500153", deadline, "迁居綦江")
		if err != nil {
			t.Fatal(err)
		}
		pump(t, from, to)
		in, err := to.Handovers.Get(h.ID)
		if err != nil || in.Direction != model.HandoverIn || in.Subject.NameMasked != "赵**" || in.Subject.Category != model.SpecialCorrection {
			t.Fatalf("received handover: %+v %v", in, err)
		}
		if got := in.Subject.NameSealed != "" && in.Subject.DetailsSealed != ""; got != share {
			t.Fatalf("share=%v but sealed identity/details present=%v", share, got)
		}
		if share {
			// Sealed again under the receiver's own keys.
			v, err := to.keyring().Open(in.Subject.DetailsSealed, "handover/"+h.ID+"/details")
			if err != nil || !bytes.Contains(v, []byte("盗窃罪")) {
				t.Fatalf("receiver cannot open the details: %v", err)
			}
		}
		for _, e := range []*env{from, to} {
			e.Close()
			raw, err := os.ReadFile(filepath.Join(e.dir, "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{name, idn, "盗窃罪"} {
				if bytes.Contains(raw, []byte(secret)) {
					t.Fatalf("%q in the clear in state.db", secret)
				}
			}
		}
	}
	// The deadline passes unaccepted: both sides open an alert event.
	from := fedEnv(t, "511083", model.Link{Peer: "500153", Relation: model.RelPeer})
	to := fedEnv(t, "500153", model.Link{Peer: "511083", Relation: model.RelPeer})
	p, _ := from.People.Add(from.ctx, model.PersonInput{Name: "钱七", IDNumber: idNumber(778), Kind: "registered", Jurisdiction: "511083001001"})
	h, err := from.Handovers.Open(from.ctx, p.ID, "500153", time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), "")
	if err != nil {
		t.Fatal(err)
	}
	pump(t, from, to)
	for _, e := range []*env{from, to} {
		e.clock.Set(time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC))
		if n, err := e.Handovers.Sweep(e.ctx); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		if n, _ := e.Handovers.Sweep(e.ctx); n != 0 {
			t.Fatal("a second sweep alerted again")
		}
		got, _ := e.Handovers.Get(h.ID)
		if ev, err := e.Events.Get(got.AlertEvent); err != nil || ev.Category != "special_population" {
			t.Fatalf("alert event: %v", err)
		}
	}
	// Accepting after the alert still closes the handover on both sides.
	if _, err := to.Handovers.Accept(to.ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	pump(t, to, from)
	if got, _ := from.Handovers.Get(h.ID); got.Status != model.HandoverAccepted {
		t.Fatalf("sender after accept: %s", got.Status)
	}
	if _, err := from.Handovers.Accept(from.ctx, h.ID); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("the sender accepting its own handover: %v", err)
	}
}

func TestCaseConvergesAfterPartition(t *testing.T) {
	a := fedEnv(t, "500153", model.Link{Peer: "511083", Relation: model.RelPeer}, model.Link{Peer: "500110", Relation: model.RelPeer})
	b := fedEnv(t, "511083", model.Link{Peer: "500153", Relation: model.RelPeer}, model.Link{Peer: "500110", Relation: model.RelPeer})
	c := fedEnv(t, "500110", model.Link{Peer: "500153", Relation: model.RelPeer}, model.Link{Peer: "511083", Relation: model.RelPeer})
	all := []*env{a, b, c}
	cs, err := a.Cases.Open(a.ctx, "荣昌—隆昌交界土地纠纷", "双方村民因界桩位置争执", []string{"511083", "500110"})
	if err != nil {
		t.Fatal(err)
	}
	pump(t, a, b)
	pump(t, a, c)
	// Cut off: everyone writes; the lead changes status and hands over.
	for i, e := range all {
		for j := 0; j < 5; j++ {
			if _, err := e.Cases.AddEntry(e.ctx, cs.ID, "记录 "+string(rune('A'+i))+string(rune('0'+j))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := b.Cases.SetStatus(b.ctx, cs.ID, "closed"); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("a co-handler changed the status: %v", err)
	}
	if _, err := a.Cases.SetStatus(a.ctx, cs.ID, "in_progress"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Cases.HandOver(a.ctx, cs.ID, "511083"); err != nil {
		t.Fatal(err)
	}
	// Heal, delivering links in random order until a whole round moves
	// nothing.
	rng := rand.New(rand.NewSource(1))
	pairs := [][2]*env{{a, b}, {a, c}, {b, a}, {b, c}, {c, a}, {c, b}}
	heal := func() {
		for moved := 1; moved > 0; {
			moved = 0
			for _, i := range rng.Perm(len(pairs)) {
				moved += pump(t, pairs[i][0], pairs[i][1])
			}
		}
	}
	heal()
	if _, err := b.Cases.SetStatus(b.ctx, cs.ID, "resolved"); err != nil {
		t.Fatalf("the new lead: %v", err)
	}
	heal()
	var want []string
	for i, e := range all {
		got, err := e.Cases.Get(cs.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, en := range got.Entries {
			ids = append(ids, en.ID)
		}
		if len(ids) != 15 || got.Lead != "511083" || got.Status != "resolved" {
			t.Fatalf("participant %d: %d entries, lead %s, status %s", i, len(ids), got.Lead, got.Status)
		}
		if i == 0 {
			want = ids
		} else if !slices.Equal(ids, want) {
			t.Fatalf("participant %d orders entries differently:\n%v\n%v", i, ids, want)
		}
	}
}

// A full outbox refuses new local sends (ErrUnavailable, nothing changed)
// until the peer acknowledges; then they go again.
func TestOutboxBackpressure(t *testing.T) {
	county := fedEnv(t, "511083", model.Link{Peer: "511000", Relation: model.RelParent})
	city := fedEnv(t, "511000", model.Link{Peer: "511083", Relation: model.RelChild})
	if err := county.Federation.Configure(county.ctx, model.FederationConfig{Self: "511083", Links: []model.Link{{Peer: "511000", Relation: model.RelParent}}, MaxOutbox: 2}); err != nil {
		t.Fatal(err)
	}
	accepted := func() string {
		ev, err := county.Events.Report(county.ctx, model.Report{Category: "dispute", Description: "纠纷", Grid: "511083001001001"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := county.Events.Act(county.ctx, ev.ID, model.Action{Action: "accept"}); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	escalate := func(id string) error {
		_, err := county.Events.Act(county.ctx, id, model.Action{Action: "escalate"})
		return err
	}
	for range 2 {
		if err := escalate(accepted()); err != nil {
			t.Fatal(err)
		}
	}
	third := accepted()
	before := mustDigest(t, county.engine)
	err := escalate(third)
	if !errors.Is(err, errs.ErrUnavailable) || errs.Field(err) != "dest" {
		t.Fatalf("a send past the bound: %v", err)
	}
	if mustDigest(t, county.engine) != before {
		t.Fatal("a refused send changed the state")
	}
	if n := pump(t, county, city); n != 2 {
		t.Fatalf("pumped %d", n)
	}
	if err := escalate(third); err != nil {
		t.Fatalf("after the peer caught up: %v", err)
	}
	if cfg, _ := county.Federation.Config(); cfg.MaxOutbox != 2 {
		t.Fatalf("max_outbox not replicated in the config: %+v", cfg)
	}
}

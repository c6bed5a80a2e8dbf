package core

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// randomWorkload drives every area with a seeded random mix, including many
// commands that are rejected at apply time.
func randomWorkload(t *testing.T, e *env, n int, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	var grids []string
	all, _, _ := e.Grids.List("511083", "", 1000)
	for _, g := range all {
		grids = append(grids, g.Code)
	}
	var events, people []string
	orgs := []string{}
	members := map[string][]string{}
	cats := []string{"dispute", "sanitation", "work_safety", "urban_management", "fire_safety"}
	actions := []string{"accept", "reject", "dispatch", "sign", "return", "resolve", "verify", "rate", "extend",
		"suspend", "resume", "supervise", "escalate", "merge", "self_resolve", "comment"}
	pick := func(s []string) string { return s[rng.Intn(len(s))] }
	for i := 0; i < n; i++ {
		var err error
		switch r := rng.Intn(100); {
		case r < 30 || len(events) == 0:
			var ev *model.Event
			g := pick(grids)
			ev, err = e.Events.Report(e.ctx, model.Report{Category: pick(cats), Description: fmt.Sprint("事件", i), Grid: g,
				Urgency: pick(model.Urgencies), Source: pick(model.Sources)})
			if err == nil {
				events = append(events, ev.ID)
			}
		case r < 75:
			a := model.Action{Action: pick(actions), Note: "n", Handler: "综治办", Reason: "r", Into: pick(events),
				Satisfaction: pick(model.Satisfactions)}
			b := rng.Intn(2) == 0
			a.Passed = &b
			d := e.clock.Now().Add(time.Duration(rng.Intn(2000)) * time.Hour)
			a.Deadline = &d
			_, err = e.Events.Act(e.ctx, pick(events), a)
		case r < 78:
			_, err = e.Events.Sweep(e.ctx, e.clock.Now().Add(time.Duration(rng.Intn(400))*time.Hour))
		case r < 82:
			g, _ := e.Grids.Get(pick(grids))
			spec := model.GridSpec{Code: g.Code, Name: g.Name + "改", Jurisdiction: g.Jurisdiction, Duties: []string{"comprehensive", "emergency"}}
			_, err = e.Grids.CreatePolygon(e.ctx, spec, g.Geometry) // exists: rejected
			if rng.Intn(2) == 0 {
				_, err = e.Grids.Assign(e.ctx, g.Code, fmt.Sprint("w", rng.Intn(5)), pick([]string{model.RoleGridLeader, model.RoleFullTime, model.RolePartTime, ""}))
			}
		case r < 84:
			err = e.Grids.PutWorker(e.ctx, model.Worker{ID: fmt.Sprint("w", rng.Intn(5)), Name: "网格员", Jurisdiction: "511083001001"})
		case r < 88:
			id := fmt.Sprint("org", rng.Intn(20))
			kind := pick([]string{string(model.OrgCommittee), string(model.OrgBranch), string(model.OrgGroup)})
			parent := ""
			if len(orgs) > 0 && kind != string(model.OrgCommittee) {
				parent = pick(orgs)
			}
			var o *model.Org
			o, err = e.Party.PutOrg(e.ctx, model.Org{ID: id, Name: "党组织", Kind: model.OrgKind(kind), Parent: parent, Jurisdiction: "511083001", Grids: []string{}})
			if err == nil {
				orgs = append(orgs, o.ID)
			}
		case r < 90 && len(orgs) > 0:
			org := pick(orgs)
			id := fmt.Sprint("m", rng.Intn(50))
			if _, err = e.Party.PutMember(e.ctx, model.Member{ID: id, Name: "党员", Org: org, Status: pick([]string{"full", "probationary"})}); err == nil {
				members[org] = append(members[org], id)
			}
		case r < 92 && len(orgs) > 0:
			org := pick(orgs)
			_, err = e.Party.RecordActivity(e.ctx, model.Activity{ID: fmt.Sprint("a", i), Org: org, Kind: pick([]string{"theme_day", "group_meeting", "party_lecture"}),
				Date: e.clock.Now().Format(time.DateOnly), Topic: "学习", Attendees: members[org]})
		case r < 95 && rng.Intn(3) == 0:
			// Houses and moves (many refused: occupied, retired, elsewhere).
			village := pick([]string{"511083001001", "511083002001"})
			hid := fmt.Sprint("h", rng.Intn(10))
			switch rng.Intn(4) {
			case 0:
				_, err = e.Houses.Add(e.ctx, model.House{ID: hid, Address: "路", Jurisdiction: village, Grid: pick(append(grids, ""))})
			case 1:
				g := pick(grids)
				_, err = e.Houses.Update(e.ctx, hid, model.HousePatch{Grid: &g})
			case 2:
				_, err = e.Houses.Retire(e.ctx, hid, "拆除")
			default:
				if len(people) > 0 {
					g, h := pick(grids), hid
					if rng.Intn(2) == 0 {
						_, err = e.People.Update(e.ctx, pick(people), model.PersonPatch{Grid: &g, House: &h})
					} else {
						_, err = e.People.Transfer(e.ctx, pick(people), model.Transfer{Jurisdiction: village, Grid: g, House: h, Reason: "搬家"})
					}
				}
			}
		case r < 95:
			var p *model.Person
			p, err = e.People.Add(e.ctx, model.PersonInput{ID: fmt.Sprint("p", i), Name: "居民", IDNumber: idNumber(rng.Intn(3000)), Kind: pick(model.ResidentKinds), Jurisdiction: "511083001001"})
			if err == nil {
				people = append(people, p.ID)
			}
		case r < 97 && len(people) > 0:
			lvl := 1 + rng.Intn(3)
			_, err = e.People.SetSpecial(e.ctx, pick(people), model.SpecialInput{Category: model.SpecialReleased, Level: lvl, Since: e.clock.Now().AddDate(0, -2, 0), Details: model.SpecialDetails{ReleaseDate: "2025-06-01"}})
		case r < 98 && len(people) > 0:
			_, err = e.People.RecordVisit(e.ctx, pick(people), model.VisitInput{At: e.clock.Now(), Visitor: "v", Method: "phone", Found: true})
		case r < 99 && len(people) > 0:
			_, err = e.People.MarkContact(e.ctx, pick(people), pick([]string{model.ContactLost, model.ContactNormal, model.ContactOutOfControl}), "")
		case r < 100 && rng.Intn(2) == 0:
			// The plugin catalog: versions, nodes' reports, switches (many refused).
			v := fmt.Sprintf("1.%d.0", rng.Intn(3))
			switch rng.Intn(3) {
			case 0:
				_, err = e.Plugins.Register(e.ctx, testPluginVersion(v, sumA))
			case 1:
				err = e.Plugins.Report(e.ctx, model.PluginReport{Name: "qijiang-daily", Version: v, Node: pick([]string{"n1", "n2"}), Status: model.BinaryOK, SHA256: sumA})
			default:
				_, err = e.Plugins.Enable(e.ctx, "qijiang-daily", v, []string{"n1", "n2"})
			}
		default:
			err = e.Events.SetCalendar(e.ctx, workcal.Calendar{Holidays: []string{e.clock.Now().AddDate(0, 0, rng.Intn(10)).Format(time.DateOnly)}})
		}
		_ = err // rejections are part of the workload
		e.clock.Set(e.clock.Now().Add(time.Duration(rng.Intn(3600)) * time.Second))
	}
}

func TestDeterministicApply(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 2000
	}
	a := newEnv(t, false)
	a.withCounty(t)
	randomWorkload(t, a, n, 1)
	if len(a.rec.data) < n {
		t.Fatalf("only %d commands recorded", len(a.rec.data))
	}
	// Feed the identical encoded commands to a fresh engine, in batches of
	// varying size (batching must not change the result).
	b, rejected := replayBatched(t, a.rec.data, 2)
	if rejected == 0 {
		t.Fatal("the workload produced no rejections; it does not exercise isolation")
	}
	da, db := mustDigest(t, a.Engine()), mustDigest(t, b)
	if da != db {
		t.Fatalf("digests differ: %s vs %s", da, db)
	}
	// Rebuild from the audit chain (the command log) into a third engine.
	c, err := state.OpenEngine(t.TempDir(), state.EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Replay(a.Engine(), nil); err != nil {
		t.Fatal(err)
	}
	if dc := mustDigest(t, c); dc != da {
		t.Fatalf("rebuild from the log gives %s, want %s", dc, da)
	}
	t.Logf("%d commands, %d rejected, digest %s", len(a.rec.data), rejected, da[:16])
}

func TestSnapshotRestore(t *testing.T) {
	a := newEnv(t, false)
	a.withCounty(t)
	randomWorkload(t, a, 300, 3)
	var snap bytes.Buffer
	if _, err := a.Engine().Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	want := mustDigest(t, a.Engine())
	b := newEnv(t, false)
	before := mustDigest(t, b.Engine())
	if err := b.Engine().Restore(bytes.NewReader([]byte("not a database"))); err == nil {
		t.Fatal("garbage snapshot accepted")
	}
	if mustDigest(t, b.Engine()) != before {
		t.Fatal("a failed restore changed the state")
	}
	if err := b.Engine().Restore(bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := mustDigest(t, b.Engine()); got != want {
		t.Fatalf("restored digest %s, want %s", got, want)
	}
	// The grid index is rebuilt: locating works on the restored store.
	lng, lat := gridCentreOf(t, a, "511083001001001")
	g, err := b.Grids.Locate(lng, lat)
	if err != nil || g.Code != "511083001001001" {
		t.Fatalf("locate after restore: %v %v", g, err)
	}
	if _, err := b.Events.Report(b.ctx, model.Report{Category: "dispute", Description: "after restore", Grid: "511083001001001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Engine().VerifyAudit(); err != nil {
		t.Fatal(err)
	}
}

func gridCentreOf(t *testing.T, e *env, code string) (float64, float64) {
	p := gridCentre(t, e, code)
	return p.Lng, p.Lat
}

// replayBatched applies recorded commands to a fresh engine in batches of
// 1..64 entries, as a Raft follower might group them, and counts rejections.
func replayBatched(t *testing.T, data [][]byte, seed int64) (*state.Engine, int) {
	t.Helper()
	b, err := state.OpenEngine(t.TempDir(), state.EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	rng := rand.New(rand.NewSource(seed))
	rejected := 0
	for i := 0; i < len(data); {
		sz := 1 + rng.Intn(64)
		var batch []state.Entry
		for j := i; j < min(i+sz, len(data)); j++ {
			batch = append(batch, state.Entry{Index: uint64(j + 1), Data: data[j]})
		}
		res, err := b.ApplyBatch(batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				rejected++
			}
		}
		i += len(batch)
	}
	return b, rejected
}

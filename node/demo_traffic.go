package node

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/idcard"
	"github.com/fengqiao/fengqiao/core/model"
)

// demoTraffic keeps the demo federation busy: townships report and escalate,
// counties take escalations and pass some up, 荣昌 and 隆昌 work a
// cross-border case, and 武侯 hands a 社区矫正对象 over to 綦江.
func demoTraffic(ctx context.Context, nodes []*demoNode, every time.Duration, log *slog.Logger) {
	by := map[string]*demoNode{}
	var towns []*demoNode
	for _, n := range nodes {
		by[n.code] = n
		if len(n.code) == 9 {
			towns = append(towns, n)
		}
	}
	store := func(code string) *core.Store {
		if m := by[code].leader(); m != nil {
			return m.store
		}
		return nil
	}
	ctx = core.WithActor(ctx, "demo-traffic")
	var caseID, handover string
	var pending []string // escalated by a township, to be taken by its county
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		if s := store("500153"); caseID == "" && s != nil {
			if c, err := s.Cases.Open(ctx, "荣昌—隆昌交界山林权属纠纷", "两地村民因山林界线发生争执，需两地综治中心协同处置", []string{"511083"}); err == nil {
				caseID = c.ID
			}
		}
		if s := store("510107"); handover == "" && s != nil {
			if h, err := demoHandover(ctx, s); err == nil {
				handover = h
			} else {
				log.Warn("demo handover", "err", err)
			}
		}
		t := towns[i%len(towns)]
		if s := store(t.code); s != nil {
			ev, err := s.Events.Report(ctx, model.Report{Category: "dispute", Description: fmt.Sprintf("%s：邻里纠纷（演示 %d）", t.name, i), Jurisdiction: t.code, Source: "grid_worker"})
			if err == nil {
				s.Events.Act(ctx, ev.ID, model.Action{Action: "accept"})
				if _, err := s.Events.Act(ctx, ev.ID, model.Action{Action: "escalate", Note: "需区县协调"}); err == nil {
					pending = append(pending, t.parent+" "+ev.ID)
				}
			}
		}
		var keep []string
		for j, p := range pending {
			var county, id string
			fmt.Sscan(p, &county, &id)
			s := store(county)
			if s == nil {
				keep = append(keep, p)
				continue
			}
			if _, err := s.Events.Act(ctx, id, model.Action{Action: "accept"}); err != nil {
				keep = append(keep, p) // not arrived yet
				continue
			}
			if j%3 == 0 {
				s.Events.Act(ctx, id, model.Action{Action: "escalate", Note: "涉及多部门，请市级协调"})
			}
		}
		pending = keep
		if caseID != "" {
			side := []string{"500153", "511083"}[i%2]
			if s := store(side); s != nil {
				s.Cases.AddEntry(ctx, caseID, fmt.Sprintf("%s 现场核实记录 %d", by[side].name, i))
			}
		}
		if handover != "" && i == 6 {
			if s := store("500110"); s != nil {
				s.Handovers.Accept(ctx, handover)
			}
		}
	}
}

// demoHandover registers a 社区矫正对象 in 武侯区 and hands them to 綦江区.
func demoHandover(ctx context.Context, s *core.Store) (string, error) {
	towns, err := s.Jurisdictions.Children("510107")
	if err != nil || len(towns) == 0 {
		return "", fmt.Errorf("no townships: %v", err)
	}
	villages, err := s.Jurisdictions.Children(towns[0].Code)
	if err != nil || len(villages) == 0 {
		return "", fmt.Errorf("no villages: %v", err)
	}
	const first = "51010719880315021" // 17 digits; the check digit follows
	p, err := s.People.Add(ctx, model.PersonInput{Name: "周某某", IDNumber: first + string(idcard.CheckDigit(first)), Kind: "registered", Jurisdiction: villages[0].Code})
	if err != nil {
		return "", err
	}
	if _, err := s.People.SetSpecial(ctx, p.ID, model.SpecialInput{Category: model.SpecialCorrection, Level: 2, Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Details: model.SpecialDetails{CorrectionType: "probation", TermStart: "2026-03-01", TermEnd: "2027-08-31", Offense: "盗窃罪"}}); err != nil {
		return "", err
	}
	h, err := s.Handovers.Open(ctx, p.ID, "500110", time.Now().Add(24*time.Hour), "迁居綦江区古南街道，请接收并落实监管")
	if err != nil {
		return "", err
	}
	return h.ID, nil
}

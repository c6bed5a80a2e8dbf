package core

import (
	"errors"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// A county sends its chain head up; the city keeps it as a witness in its
// own chain. A rewrite of a witnessed record by someone holding the key
// file (which passes VerifyAudit) is caught against the witnesses, and so
// is a chain cut back before a witnessed record.
func TestWitnessesCatchARewriteByTheKeyHolder(t *testing.T) {
	county := fedEnv(t, "511083", model.Link{Peer: "511000", Relation: model.RelParent})
	city := fedEnv(t, "511000", model.Link{Peer: "511083", Relation: model.RelChild})
	if _, err := county.KeyAuditChain(county.ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := county.Events.Report(county.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"}); err != nil {
			t.Fatal(err)
		}
	}
	sent, err := county.Federation.SendWitness(county.ctx)
	if err != nil || !sent {
		t.Fatalf("send: %v %v", sent, err)
	}
	// Nothing new since: an idle chain is not witnessed again.
	if again, err := county.Federation.SendWitness(county.ctx); err != nil || again {
		t.Fatalf("an idle chain was witnessed again: %v %v", again, err)
	}
	pump(t, county, city)
	ws, err := city.Federation.Witnesses("511083", 0, 0)
	if err != nil || len(ws) != 1 || ws[0].Origin != "511083" {
		t.Fatalf("witnesses: %+v %v", ws, err)
	}
	if rep, err := county.Engine().CheckWitnesses(ws); err != nil || !rep.OK || rep.Latest != ws[0].Seq {
		t.Fatalf("the untouched chain: %+v %v", rep, err)
	}
	// The city's own chain holds the witness (as the receive command).
	if rep, err := city.Engine().VerifyAudit(); err != nil || !rep.OK {
		t.Fatalf("the city's chain: %+v %v", rep, err)
	}
	kr := county.keyring()
	dir := county.dir
	county.Close()
	// An insider with the key file rewrites a witnessed record and rehashes.
	e := insiderRewrite(t, dir, 2, kr)
	if _, err := e.VerifyAudit(); err != nil {
		t.Fatalf("the insider's rewrite should pass the chain check alone: %v", err)
	}
	if rep, err := e.CheckWitnesses(ws); !errors.Is(err, errs.ErrTampered) || rep.FirstBad != ws[0].Seq {
		t.Fatalf("the rewrite was not caught against the witness: %+v %v", rep, err)
	}
	// A chain shorter than the witness (rolled back) is caught too.
	short := []model.Witness{{Origin: "511083", Seq: ws[0].Seq + 1000, Head: ws[0].Head}}
	if _, err := e.CheckWitnesses(short); !errors.Is(err, errs.ErrTampered) {
		t.Fatalf("a rolled-back chain: %v", err)
	}
	// Bad witness bodies are refused by the parent (dead-lettered, as the
	// exchange does) and keep no witness.
	for i, body := range []string{`{"seq":0,"head":"00"}`, `{"seq":1,"head":"zz"}`, `{"seq":1}`, `{"seq":1,"head":"` + ws[0].Head + `","x":1}`} {
		seq := uint64(2 + i)
		res, err := city.Federation.Receive(city.ctx, "511083", []model.Message{{Origin: "511083", Dest: "511000", Seq: seq, Kind: model.KindWitness, Body: []byte(body)}})
		if err != nil || res.Applied != 0 || res.Ack != seq {
			t.Errorf("witness body %s: %+v %v", body, res, err)
		}
	}
	if now, _ := city.Federation.Witnesses("511083", 0, 0); len(now) != 1 {
		t.Fatalf("refused witnesses were kept: %+v", now)
	}
}

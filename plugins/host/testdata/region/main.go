// Command region is the host's test plugin. Built plainly it behaves: it
// refuses reports that say 拒绝, rates fire risks, and routes to 综治办.
// Built with -ldflags "-X main.mode=…" it misbehaves in one way, so the
// tests run the real failures a node must survive: crash_start,
// crash_call, hang, slow, oversize, garbage, stdout and protocol.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

var (
	mode    string
	version = "1.0.0"
)

type region struct{}

// jurs are the jurisdictions the catalog says it serves.
var jurs []string

func (region) Configure(_ context.Context, s sdk.Setup) error { jurs = s.Jurisdictions; return nil }

// RunJob "tick" notes each scheduled minute it ran for, in its own state.
func (region) RunJob(_ context.Context, name string, at time.Time) ([]model.PluginCommand, error) {
	if name != "tick" || len(jurs) == 0 {
		return nil, nil
	}
	return []model.PluginCommand{{Op: model.OpPut, Collection: "ticks", Jurisdiction: jurs[0], Key: at.UTC().Format("2006-01-02T15:04"), Value: []byte(`true`)}}, nil
}

// host is the node's HostService, given as the plugin starts.
var host sdk.Host

func (region) UseHost(h sdk.Host) { host = h }

func (region) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "region", Version: version, Jobs: []sdk.Job{{Name: "tick", Cron: "* * * * *"}},
		Fields: json.RawMessage(`{"type":"object","properties":{"risk":{"enum":["low","high"]},"version":{"type":"string"}},"additionalProperties":false}`)}, nil
}

// misbehave does what the build's mode says, inside a hook call.
func misbehave() {
	switch mode {
	case "crash_call":
		os.Exit(3)
	case "hang":
		select {}
	case "slow":
		time.Sleep(time.Second)
	case "stdout":
		fmt.Println("a stray line on stdout during a call")
	}
}

func (region) ValidateEvent(_ context.Context, r model.Report, _ string) ([]sdk.Problem, error) {
	misbehave()
	switch mode {
	case "oversize":
		return []sdk.Problem{{Field: "description", Rule: "big", Message: strings.Repeat("大", 2<<20)}}, nil
	case "garbage":
		return []sdk.Problem{{Field: "description"}}, nil // no message: breaks the protocol
	}
	if strings.Contains(r.Description, "拒绝") {
		return []sdk.Problem{{Field: "description", Rule: "region.words", Message: "描述含有“拒绝”"}}, nil
	}
	return nil, nil
}

func (region) EnrichEvent(_ context.Context, r model.Report, _ string) (sdk.Enrichment, error) {
	misbehave()
	if mode == "garbage" {
		return sdk.Enrichment{Urgency: "!!!", Ext: map[string]json.RawMessage{"risk": json.RawMessage(`{`)}}, nil
	}
	risk := `"low"`
	if strings.Contains(r.Description, "火") {
		risk = `"high"`
	}
	v := version
	if mode == "random" { // a plugin that is not deterministic: a replica must never call it to apply
		risk = []string{`"low"`, `"high"`}[rand.IntN(2)]
		v = time.Now().Format(time.RFC3339Nano)
	}
	return sdk.Enrichment{Ext: map[string]json.RawMessage{"risk": json.RawMessage(risk), "version": json.RawMessage(`"` + v + `"`)}}, nil
}

func (region) RouteEvent(_ context.Context, ev model.Event) (sdk.Routing, error) {
	misbehave()
	if mode == "garbage" {
		return sdk.Routing{Handler: strings.Repeat("h", 300)}, nil
	}
	return sdk.Routing{Handler: "综治中心", Department: "综治办", Deadline: ev.ReportedAt}, nil
}

// OnTransition comments once on each event reported (not by a plugin) in
// its jurisdictions: a change delivered twice must not comment twice.
func (region) OnTransition(_ context.Context, ch model.Change) ([]model.PluginCommand, error) {
	if ch.Kind != model.ChangeEvent || ch.Action != "report" {
		return nil, nil
	}
	ev, found, err := host.Event(context.Background(), ch.ID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, nil // gone, or not ours
	}
	if ev.Reporter != "" {
		return nil, fmt.Errorf("the host served event %s with its reporter", ch.ID)
	}
	note := "region 已知悉 " + ev.Category
	if mode == "random" {
		note = fmt.Sprintf("region 已知悉 %s %d %s", ev.Category, rand.Int64(), time.Now().Format(time.RFC3339Nano))
	}
	return []model.PluginCommand{{Op: model.OpAct, Event: ch.ID, Action: &model.Action{Action: "comment", Note: note}}}, nil
}

func main() {
	switch mode {
	case "crash_start":
		os.Exit(2)
	case "stdout":
		fmt.Println("a stray line on stdout before the handshake")
	case "protocol": // as a plugin built on a future SDK would serve
		os.Stdout = os.NewFile(1, "/dev/stdout") // the SDK's guard is for its own Serve
		hs := sdk.Handshake
		hs.ProtocolVersion = 99
		plugin.Serve(&plugin.ServeConfig{HandshakeConfig: hs,
			VersionedPlugins: map[int]plugin.PluginSet{99: {sdk.PluginKey: &sdk.GRPCPlugin{Impl: region{}}}},
			GRPCServer:       plugin.DefaultGRPCServer})
		return
	}
	sdk.Serve(region{})
}

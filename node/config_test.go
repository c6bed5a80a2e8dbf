package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/federation/membership"
)

func writeConfig(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	good := `{"node_id":"n0","jurisdiction":"500110","data_dir":"/tmp/x","http":"127.0.0.1:8080","raft":"127.0.0.1:7000",
	 "key_file":"/tmp/k","peers":[{"id":"n0","raft":"127.0.0.1:7000","http":"127.0.0.1:8080"}]}`
	c, err := LoadConfig(writeConfig(t, good))
	if err != nil || c.NodeID != "n0" || len(c.Peers) != 1 || c.SyncState {
		t.Fatalf("good config: %+v %v", c, err)
	}
	if c, err := LoadConfig(writeConfig(t, good[:len(good)-1]+`,"pprof":"127.0.0.1:6060"}`)); err != nil || c.Pprof != "127.0.0.1:6060" {
		t.Fatalf("loopback pprof refused: %v", err)
	}
	if c, err := LoadConfig(writeConfig(t, good[:len(good)-1]+`,"sync_state":true}`)); err != nil || !c.SyncState {
		t.Fatalf("sync_state: %+v %v", c, err)
	}
	cases := map[string]string{
		"unknown key":              `{"node_id":"n0","colour":"red"}`,
		"node_id":                  `{"jurisdiction":"500110"}`,
		"jurisdiction":             `{"node_id":"n0","jurisdiction":"999999","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[]}`,
		"http":                     `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"nowhere","raft":"r:1","key_file":"k"}`,
		"peers":                    `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"n1","raft":"x:1","http":"y:1"}]}`,
		"peers[1].id":              `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"n0","raft":"r:1","http":"h:1"},{"id":"n0","raft":"x:1","http":"y:1"}]}`,
		"peers[0].raft":            `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"n0","raft":"other:1","http":"h:1"}]}`,
		"log_level":                `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"n0","raft":"r:1","http":"h:1"}],"log_level":"loud"}`,
		"key_file":                 `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1"}`,
		"sync_state":               `{"node_id":"n0","sync_state":"yes"}`,
		"divergence_check_seconds": `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"n0","raft":"r:1","http":"h:1"}],"divergence_check_seconds":-5}`,
		"reload_seconds":           `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"n0","raft":"r:1","http":"h:1"}],"reload_seconds":3601}`,
		"tls":                      `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"n0","raft":"r:1","http":"h:1"},{"id":"n1","raft":"r:2","http":"h:2"}]}`,
		"metrics":                  `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","metrics":"0.0.0.0:9101","peers":[{"id":"n0","raft":"r:1","http":"h:1"}]}`,
		"plain http off loopback":  `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"10.0.0.5:8080","raft":"r:1","key_file":"k","peers":[{"id":"n0","raft":"r:1","http":"h:1"}]}`,
		"peers[0].id":              `{"node_id":"N_0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"N_0","raft":"r:1","http":"h:1"}]}`,
		"pprof":                    `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"n0","raft":"r:1","http":"h:1"}],"pprof":"0.0.0.0:6060"}`,
	}
	for want, body := range cases {
		field := want
		switch want {
		case "unknown key":
			field = "colour"
		case "plain http off loopback":
			field = "http"
		}
		_, err := LoadConfig(writeConfig(t, body))
		if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != field {
			t.Errorf("%s: %v", want, err)
		}
	}
	base := `"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"n0","raft":"r:1","http":"h:1"}]`
	tlsOn := `,"tls":{"ca_file":"ca.pem","cert_file":"c.pem","key_file":"k.pem"}`
	key := membership.GenerateKey()
	fed := func(body string) string { return "{" + base + tlsOn + `,"federation":{` + body + "}}" }
	for field, body := range map[string]string{
		"federation":                   "{" + base + `,"federation":{"exchange":"x:1","gossip":"g:1","gossip_keys":["` + key + `"]}}`,
		"federation.exchange":          fed(`"exchange":"x","gossip":"g:1","gossip_keys":["` + key + `"]`),
		"federation.gossip":            fed(`"exchange":"x:1","gossip":"","gossip_keys":["` + key + `"]`),
		"federation.join[0]":           fed(`"exchange":"x:1","gossip":"g:1","join":["nohost"],"gossip_keys":["` + key + `"]`),
		"federation.gossip_keys":       fed(`"exchange":"x:1","gossip":"g:1"`),
		"federation.gossip_keys[0]":    fed(`"exchange":"x:1","gossip":"g:1","gossip_keys":["c2hvcnQ="]`),
		"federation.profile":           fed(`"exchange":"x:1","gossip":"g:1","gossip_keys":["` + key + `"],"profile":"moon"`),
		"federation.links[0].relation": fed(`"exchange":"x:1","gossip":"g:1","gossip_keys":["` + key + `"],"links":[{"peer":"500000","relation":"boss"}]`),
		"federation.links[1].peer":     fed(`"exchange":"x:1","gossip":"g:1","gossip_keys":["` + key + `"],"links":[{"peer":"500000","relation":"parent"},{"peer":"500000","relation":"peer"}]`),
		"drift":                        fed(`"exchange":"x:1","gossip":"g:1","gossip_keys":["` + key + `"],"drift":1`),
	} {
		_, err := LoadConfig(writeConfig(t, body))
		if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	c, err = LoadConfig(writeConfig(t, fed(`"exchange":"x:1","gossip":"g:1","join":["s:1"],"gossip_keys":["`+key+`"],"links":[{"peer":"500000","relation":"parent"},{"peer":"510107","relation":"peer","share":["person.identity"]}]`)))
	if err != nil || len(c.Federation.Links) != 2 {
		t.Fatalf("good federation config: %v", err)
	}
	// Plain HTTP off loopback only when said explicitly.
	if _, err := LoadConfig(writeConfig(t, `{"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"10.0.0.5:8080","raft":"r:1","key_file":"k","plain_http":true,"peers":[{"id":"n0","raft":"r:1","http":"h:1"}]}`)); err != nil {
		t.Fatalf("plain_http: %v", err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("a missing file loaded")
	}
}

func TestDivergenceCheckSeconds(t *testing.T) {
	base := `"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"n0","raft":"r:1","http":"h:1"}]`
	for body, want := range map[string]time.Duration{
		"":                                 0, // replica.DefaultCheckInterval
		`,"divergence_check_seconds":-1`:   -1,
		`,"divergence_check_seconds":5`:    5 * time.Second,
		`,"divergence_check_seconds":3600`: time.Hour,
	} {
		c, err := LoadConfig(writeConfig(t, "{"+base+body+"}"))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if got := c.checkInterval(); got != want {
			t.Errorf("%s: check interval %v, want %v", body, got, want)
		}
	}
}

func TestReloadSeconds(t *testing.T) {
	base := `"node_id":"n0","jurisdiction":"500110","data_dir":"d","http":"127.0.0.1:1","raft":"r:1","key_file":"k","peers":[{"id":"n0","raft":"r:1","http":"h:1"}]`
	for body, want := range map[string]time.Duration{
		"":                       10 * time.Second,
		`,"reload_seconds":1`:    time.Second,
		`,"reload_seconds":3600`: time.Hour,
	} {
		c, err := LoadConfig(writeConfig(t, "{"+base+body+"}"))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if got := c.reloadEvery(); got != want {
			t.Errorf("%s: reload every %v, want %v", body, got, want)
		}
	}
	if _, err := LoadConfig(writeConfig(t, "{"+base+`,"reload_seconds":-1}`)); errs.Field(err) != "reload_seconds" {
		t.Errorf("a negative reload_seconds: %v", err)
	}
}

// Dev mode serves plain HTTP with an all-powerful token: never off loopback.
func TestDevRefusesAnAddressOffLoopback(t *testing.T) {
	err := RunDev(context.Background(), DevOptions{HTTP: "0.0.0.0:0", Data: t.TempDir()})
	if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "http" {
		t.Fatalf("dev off loopback: %v", err)
	}
}

package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/federation/exchange"
	"github.com/fengqiao/fengqiao/federation/membership"
	"github.com/fengqiao/fengqiao/federation/tlsutil"
)

// The exchange port maps a peer's certificate to the jurisdiction it may
// speak for (the common name), across processes: a node of 荣昌区 (500153)
// cannot hand 綦江区 a batch as its parent 重庆市 (500000), while 重庆市's
// own certificate can; a client with no certificate does not get through
// the handshake.
func TestExchangeMapsCertificateToJurisdiction(t *testing.T) {
	const token = "fq_exchange_test_admin_token_60606"
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca")
	if out, err := cli(t, "", "tls", "ca", "--out", ca); err != nil {
		t.Fatalf("tls ca: %v %s", err, out)
	}
	certs := filepath.Join(dir, "certs")
	cert := func(jurisdiction, node string) tlsutil.Files {
		t.Helper()
		if out, err := exec.Command(binary(t), "tls", "cert", "--ca", ca, "--jurisdiction", jurisdiction, "--node", node, "--hosts", "127.0.0.1", "--out", filepath.Join(certs, jurisdiction)).CombinedOutput(); err != nil {
			t.Fatalf("tls cert: %v %s", err, out)
		}
		d := filepath.Join(certs, jurisdiction)
		return tlsutil.Files{CA: filepath.Join(ca, "ca.pem"), Cert: filepath.Join(d, node+".pem"), Key: filepath.Join(d, node+"-key.pem")}
	}
	keys := filepath.Join(dir, "keys.json")
	if out, err := exec.Command(binary(t), "keygen", "--out", keys).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v %s", err, out)
	}
	p := &proc{id: "n0", http: freePort(t), dir: filepath.Join(dir, "n0")}
	raft, xaddr, gossip, metrics := freePort(t), freePort(t), freePort(t), freePort(t)
	own := cert("500110", "n0")
	cfg := map[string]any{"node_id": "n0", "jurisdiction": "500110", "data_dir": p.dir, "http": p.http, "raft": raft, "key_file": keys,
		"peers": []map[string]string{{"id": "n0", "raft": raft, "http": p.http}}, "log_level": "warn",
		"tls":        map[string]string{"ca_file": own.CA, "cert_file": own.Cert, "key_file": own.Key},
		"plain_http": true,
		"metrics":    metrics,
		"federation": map[string]any{"exchange": xaddr, "gossip": gossip, "gossip_keys": []string{membership.GenerateKey()}, "profile": "local",
			"links": []map[string]any{{"peer": "500000", "relation": "parent"}}},
	}
	raw, _ := json.Marshal(cfg)
	p.cfg = filepath.Join(dir, "n0.json")
	if err := os.WriteFile(p.cfg, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	startProc(t, p, token)
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	c := &client{token: token, http: &http.Client{Timeout: 10 * time.Second}}
	c.token = staffOf(t, c, "http://"+p.http)[access.CenterAdmin]

	post := func(f *tlsutil.Files, origin string) (int, error) {
		cc, err := tlsutil.Client(filepath.Join(ca, "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if f != nil {
			pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
			if err != nil {
				t.Fatal(err)
			}
			cc.Certificates = []tls.Certificate{pair}
		}
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cc}}
		body, _ := json.Marshal(exchange.Batch{Origin: origin})
		resp, err := hc.Post("https://"+xaddr+exchange.Path, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	neighbour, parent := cert("500153", "n0"), cert("500000", "n0")
	var code int
	eventually(t, 30*time.Second, func() string {
		var err error
		if code, err = post(&parent, "500000"); err != nil || code != 200 {
			return fmt.Sprintf("the parent's own batch: %d %v", code, err)
		}
		return ""
	})
	if code, err := post(&neighbour, "500000"); err != nil || code != 403 {
		t.Fatalf("荣昌区 speaking as 重庆市: %d %v", code, err)
	}
	// Metrics have an address of their own; the API serves none.
	if resp, err := http.Get("http://" + metrics + "/metrics"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics address: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, err := http.Get("http://" + p.http + "/metrics"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("the API serves metrics: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if code, err := post(nil, "500000"); err == nil {
		t.Fatalf("a client without a certificate got %d", code)
	}
	// The refusal is on record, for the operator to see.
	var links struct {
		Links []struct {
			Peer    string `json:"peer"`
			Refused int    `json:"refused"`
		} `json:"links"`
	}
	_, m, err := c.do("GET", "http://"+p.http+"/api/v1/federation/links", nil, nil)
	raw, _ = json.Marshal(m)
	json.Unmarshal(raw, &links)
	if err != nil || len(links.Links) != 1 || links.Links[0].Peer != "500000" || links.Links[0].Refused != 1 {
		t.Fatalf("links: %v %v", m, err)
	}
}

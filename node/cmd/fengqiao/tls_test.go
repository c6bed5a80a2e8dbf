package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/federation/tlsutil"
)

// TestTLSCluster runs three replicas with mutual TLS between them and HTTPS
// for the API, and drives them with a client that trusts only the group's CA.
func TestTLSCluster(t *testing.T) {
	const token = "fq_tls_cluster_test_admin_token_99"
	ca := filepath.Join(t.TempDir(), "ca")
	if out, err := cli(t, "", "tls", "ca", "--out", ca); err != nil {
		t.Fatalf("tls ca: %v %s", err, out)
	}
	procs := startClusterTLS(t, token, ca)
	cfg, err := tlsutil.Client(filepath.Join(ca, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	c := &client{token: token, http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}}
	// Written through a follower or the leader alike: forwarding speaks TLS too.
	for _, p := range procs {
		ok := false
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if code, _, _ := c.do("POST", "https://"+p.http+"/api/v1/events", map[string]any{"category": "dispute", "description": "tls", "jurisdiction": "500110001"}, nil); code == 201 {
				ok = true
				break
			}
		}
		if !ok {
			t.Fatalf("no write through %s over HTTPS", p.id)
		}
	}
	// Plain HTTP gets no data (the TLS listener answers it with a 400).
	plain := &client{token: token, http: &http.Client{Timeout: 5 * time.Second}}
	if code, _, err := plain.do("GET", "http://"+procs[0].http+"/api/v1/stats", nil, nil); err == nil && code == 200 {
		t.Fatal("plain HTTP served data")
	}
	// A client that does not trust the group's CA cannot connect.
	if _, _, err := plain.do("GET", "https://"+procs[0].http+"/api/v1/stats", nil, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("an untrusting client connected: %v", err)
	}
	// The certificate's expiry is a metric, for alerts before it lapses.
	resp, err := c.http.Get("https://" + procs[0].http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var notAfter float64
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, "fengqiao_tls_cert_not_after_seconds "); ok {
			notAfter, _ = strconv.ParseFloat(v, 64)
		}
	}
	if left := time.Until(time.Unix(int64(notAfter), 0)); left < 700*24*time.Hour || left > 731*24*time.Hour {
		t.Fatalf("certificate expiry metric %v: %v from now, want the two years tls cert issues", notAfter, left)
	}
	out, err := cli(t, token, "operator", "raft", "list-peers", "--addr", "https://"+procs[0].http, "--ca", filepath.Join(ca, "ca.pem"))
	if err != nil || strings.Count(out, "\n") != 4 {
		t.Fatalf("list-peers over HTTPS: %v\n%s", err, out)
	}
}

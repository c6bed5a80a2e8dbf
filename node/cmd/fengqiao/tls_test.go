package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
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
	staff := staffOf(t, c, "https://"+procs[0].http)
	c.token = staff[access.CenterAdmin]
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
	out, err := cli(t, staff[access.SystemAdmin], "operator", "raft", "list-peers", "--addr", "https://"+procs[0].http, "--ca", filepath.Join(ca, "ca.pem"))
	if err != nil || strings.Count(out, "\n") != 4 {
		t.Fatalf("list-peers over HTTPS: %v\n%s", err, out)
	}
}

// TestCARotationAcrossProcesses replaces a running group's CA without a
// restart, as operations.md describes: a bundle of both CAs, then
// certificates from the new one, then the new CA alone. Writes through every
// replica (forwarded over TLS) keep working at each step, and at the end a
// client that trusts only the old CA can connect to none of them.
func TestCARotationAcrossProcesses(t *testing.T) {
	const token = "fq_ca_rotation_test_admin_token_42"
	dir := t.TempDir()
	oldCA, newCA := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	for _, ca := range []string{oldCA, newCA} {
		if out, err := cli(t, "", "tls", "ca", "--out", ca); err != nil {
			t.Fatalf("tls ca: %v %s", err, out)
		}
	}
	procs := startClusterTLS(t, token, oldCA)
	read := func(path string) []byte {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	oldPEM, newPEM := read(filepath.Join(oldCA, "ca.pem")), read(filepath.Join(newCA, "ca.pem"))
	bundle := filepath.Join(oldCA, "ca.pem") // every node's ca_file
	trusting := func(pems ...[]byte) *client {
		path := filepath.Join(t.TempDir(), "trust.pem")
		if err := os.WriteFile(path, bytes.Join(pems, nil), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := tlsutil.Client(path)
		if err != nil {
			t.Fatal(err)
		}
		return &client{token: token, http: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}}
	}
	both := trusting(oldPEM, newPEM)
	staff := staffOf(t, both, "https://"+procs[0].http)
	both.token = staff[access.CenterAdmin]
	writes := func(step string) {
		t.Helper()
		for _, p := range procs {
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				code, _, _ := both.do("POST", "https://"+p.http+"/api/v1/events", map[string]any{"category": "dispute", "description": "ca", "jurisdiction": "500110001"}, nil)
				if code == 201 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: no write through %s (%d)", step, p.id, code)
				}
			}
		}
	}
	writes("before")

	// 1. Both CAs in every ca_file.
	if err := os.WriteFile(bundle, append(append([]byte{}, oldPEM...), newPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // reload_seconds is 1
	writes("both CAs trusted")

	// 2. Certificates from the new CA, key first.
	onlyNew := trusting(newPEM)
	for _, p := range procs {
		out := t.TempDir()
		if o, err := cli(t, "", "tls", "cert", "--ca", newCA, "--jurisdiction", "500110", "--node", p.id, "--hosts", "127.0.0.1", "--out", out); err != nil {
			t.Fatalf("tls cert: %v %s", err, o)
		}
		certs := filepath.Join(filepath.Dir(p.cfg), "certs")
		for _, f := range []string{p.id + "-key.pem", p.id + ".pem"} {
			if err := os.WriteFile(filepath.Join(certs, f), read(filepath.Join(out, f)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range procs {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if _, _, err := onlyNew.do("GET", "https://"+p.http+"/healthz", nil, nil); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never served a certificate from the new CA", p.id)
			}
		}
	}
	writes("certificates from the new CA")
	// Connections opened under the old certificates are still trusted.
	if n := metricSum(t, onlyNew, "https", procs, "fengqiao_tls_connections"); n == 0 {
		t.Fatal("no open TLS connections counted")
	}
	if n := metricSum(t, onlyNew, "https", procs, "fengqiao_tls_untrusted_closed_total"); n != 0 {
		t.Fatalf("%v connections closed while both CAs were trusted", n)
	}

	// 3. The new CA alone.
	if err := os.WriteFile(bundle, newPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	writes("the new CA alone")
	// Raft's connections from before step 2 carry old-CA certificates; the
	// new bundle closes them, and Raft redials under the new CA.
	if n := metricSum(t, onlyNew, "https", procs, "fengqiao_tls_untrusted_closed_total"); n == 0 {
		t.Fatal("no connection opened under the retired CA was closed")
	}
	// A new leader means new connections, made under the new CA alone: Raft
	// from the new leader, forwarded writes from the followers.
	if out, err := cli(t, staff[access.SystemAdmin], "operator", "raft", "transfer-leader", "--addr", "https://"+procs[0].http, "--ca", filepath.Join(newCA, "ca.pem")); err != nil {
		t.Fatalf("transfer-leader: %v %s", err, out)
	}
	writes("a new leader under the new CA")
	onlyOld := trusting(oldPEM)
	for _, p := range procs {
		if _, _, err := onlyOld.do("GET", "https://"+p.http+"/healthz", nil, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("%s: a client trusting only the retired CA connected: %v", p.id, err)
		}
	}
}

// TestRevokedReplicaIsCutOff revokes one replica's certificate in the CRL
// every node reads, as operations.md describes for a leaked key: within
// reload_seconds the others close its connections and refuse new ones, so
// the group carries on with two and the revoked replica receives nothing
// more. A revocation the CA cannot vouch for is refused and leaves the list
// as it was.
func TestRevokedReplicaIsCutOff(t *testing.T) {
	const token = "fq_revocation_test_admin_token_4242"
	dir := t.TempDir()
	ca, rogue := filepath.Join(dir, "ca"), filepath.Join(dir, "rogue")
	for _, d := range []string{ca, rogue} {
		if out, err := cli(t, "", "tls", "ca", "--out", d); err != nil {
			t.Fatalf("tls ca: %v %s", err, out)
		}
	}
	crl := filepath.Join(ca, "crl.pem")
	if out, err := cli(t, "", "tls", "revoke", "--ca", ca, "--crl", crl); err != nil || !strings.Contains(out, "0 certificate(s) revoked") {
		t.Fatalf("tls revoke (empty list): %v %s", err, out)
	}
	procs := startClusterTLS(t, token, ca)
	cfg, err := tlsutil.Client(filepath.Join(ca, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	c := &client{token: token, http: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}}
	c.token = staffOf(t, c, "https://"+procs[0].http)[access.CenterAdmin]
	write := func(p *proc, within time.Duration) string {
		t.Helper()
		for deadline := time.Now().Add(within); ; time.Sleep(200 * time.Millisecond) {
			code, m, _ := c.do("POST", "https://"+p.http+"/api/v1/events", map[string]any{"category": "dispute", "description": "crl", "jurisdiction": "500110001"}, nil)
			if code == 201 {
				return m["id"].(string)
			}
			if time.Now().After(deadline) {
				t.Fatalf("no write through %s (%d)", p.id, code)
			}
		}
	}
	for _, p := range procs {
		write(p, 60*time.Second)
	}
	revoked := procs[2]
	certs := filepath.Join(filepath.Dir(revoked.cfg), "certs")

	// Bad input first: another CA's certificate, or the list signed by
	// another CA, is refused and the list stays byte-identical.
	held, _ := os.ReadFile(crl)
	stranger := t.TempDir()
	if out, err := cli(t, "", "tls", "cert", "--ca", rogue, "--name", "stranger", "--out", stranger); err != nil {
		t.Fatalf("tls cert: %v %s", err, out)
	}
	for _, args := range [][]string{
		{"--ca", ca, "--crl", crl, filepath.Join(stranger, "stranger.pem")},
		{"--ca", rogue, "--crl", crl},
		{"--ca", ca},
	} {
		if out, err := cli(t, "", append([]string{"tls", "revoke"}, args...)...); err == nil {
			t.Fatalf("tls revoke %v was accepted: %s", args, out)
		}
	}
	if now, _ := os.ReadFile(crl); !bytes.Equal(now, held) {
		t.Fatal("a refused revocation changed the list")
	}

	out, err := cli(t, "", "tls", "revoke", "--ca", ca, "--crl", crl, filepath.Join(certs, revoked.id+".pem"))
	if err != nil || !strings.Contains(out, "1 certificate(s) revoked") {
		t.Fatalf("tls revoke: %v %s", err, out)
	}
	time.Sleep(3 * time.Second) // reload_seconds is 1; a new leader if it led
	// The two others carry on: writes through them commit.
	id := write(procs[0], 30*time.Second)
	write(procs[1], 30*time.Second)
	if code, _, _ := c.do("GET", "https://"+procs[1].http+"/api/v1/events/"+id+"?stale=true", nil, nil); code != 200 {
		t.Fatalf("%s lacks a committed write (%d)", procs[1].id, code)
	}
	// Nothing more reaches the revoked replica.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if code, _, _ := c.do("GET", "https://"+revoked.http+"/api/v1/events/"+id+"?stale=true", nil, nil); code == 200 {
			t.Fatalf("the revoked replica %s received a write made after its revocation", revoked.id)
		}
	}
	closed := metricSum(t, c, "https", procs[:2], "fengqiao_tls_untrusted_closed_total")
	if closed == 0 {
		t.Fatal("no connection with the revoked certificate was closed")
	}
}

// metricSum adds up an unlabelled metric over procs' /metrics; scheme is
// "http" or "https".
func metricSum(t *testing.T, c *client, scheme string, procs []*proc, name string) (sum float64) {
	t.Helper()
	for _, p := range procs {
		resp, err := c.http.Get(scheme + "://" + p.http + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		found := false
		for _, l := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(l, name+" "); ok {
				n, _ := strconv.ParseFloat(v, 64)
				sum, found = sum+n, true
			}
		}
		if !found {
			t.Fatalf("%s: no metric %s", p.id, name)
		}
	}
	return sum
}

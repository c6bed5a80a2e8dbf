package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	bin "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/federation/tlsutil"
)

// Issue 21 point 1, across OS processes: this test process holds a valid
// certificate of the federation's CA, issued to a replica of another
// jurisdiction (荣昌区 500153), and proposes a token.create for a
// center_admin on 綦江区's Raft port, as the forwarding protocol frames it.
// It is refused at the handshake, the refusal is logged and counted, and
// nothing changes: every replica's state digest is the one it had before,
// and the forged secret opens nothing. A certificate of 綦江区 itself that
// names no member of the group fares no better.
func TestForeignCertificateCannotProposeOnTheRaftPort(t *testing.T) {
	const token = "fq_raft_port_test_admin_token_2121"
	procs := startCluster(t, token)
	c := &client{token: token, http: &http.Client{Timeout: 10 * time.Second}}
	c.token = staffOf(t, c, "http://"+procs[0].http)[access.CenterAdmin]
	dir := filepath.Dir(procs[0].cfg)
	ca := filepath.Join(dir, "ca")
	// The leader's Raft port: there a forwarded proposal would be committed.
	var leader *proc
	eventually(t, 30*time.Second, func() string {
		for _, p := range procs {
			if c.leads(p) {
				leader = p
				return ""
			}
		}
		return "no leader"
	})
	var cfg struct {
		Raft string `json:"raft"`
	}
	raw, err := os.ReadFile(leader.cfg)
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(raw, &cfg)

	digests := func() map[string]string {
		out := map[string]string{}
		for _, p := range procs {
			code, m, err := c.do("GET", "http://"+p.http+"/api/v1/cluster/digest", nil, nil)
			if err != nil || code != 200 {
				t.Fatalf("%s digest: %d %v %v", p.id, code, m, err)
			}
			out[p.id] = m["digest"].(string)
		}
		return out
	}
	// Every replica caught up: their digests agree.
	var before map[string]string
	eventually(t, 30*time.Second, func() string {
		before = digests()
		if before["n0"] != before["n1"] || before["n1"] != before["n2"] {
			return "the replicas' digests differ before the attack"
		}
		return ""
	})
	refusedBefore := metricSum(t, c, "http", []*proc{leader}, "fengqiao_raft_peers_refused_total")

	secret := "fq_forged_center_admin_secret_0001"
	sum := sha256.Sum256([]byte(secret))
	payload, _ := json.Marshal(model.Token{ID: "tok-forged00001", Name: "forged", Role: access.CenterAdmin, Scope: "500110", Hash: hex.EncodeToString(sum[:])})
	cmd := state.Command{Type: "token.create", Version: 1, ID: "forged-1", At: time.Now().UTC(), Actor: "token:someone-trusted", Payload: payload}
	entry, err := cmd.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// The forwarding protocol: 0xFE, its version, then a length-framed
	// proposal (kind 1, request id, count, each command length-prefixed).
	body := []byte{1}
	body = bin.AppendUvarint(body, 1)
	body = bin.AppendUvarint(body, 1)
	body = bin.AppendUvarint(body, uint64(len(entry)))
	body = append(body, entry...)
	frame := bin.BigEndian.AppendUint32([]byte{0xFE, 3}, uint32(len(body)))
	frame = append(frame, body...)

	attack := func(jurisdiction, node string) {
		t.Helper()
		certs := filepath.Join(t.TempDir(), "attacker")
		if out, err := exec.Command(binary(t), "tls", "cert", "--ca", ca, "--jurisdiction", jurisdiction, "--node", node, "--hosts", "127.0.0.1", "--out", certs).CombinedOutput(); err != nil {
			t.Fatalf("tls cert: %v %s", err, out)
		}
		mutual, err := tlsutil.Mutual(tlsutil.Files{CA: filepath.Join(ca, "ca.pem"), Cert: filepath.Join(certs, node+".pem"), Key: filepath.Join(certs, node+"-key.pem")})
		if err != nil {
			t.Fatal(err)
		}
		mutual.ServerName = "127.0.0.1"
		d := &tls.Dialer{Config: mutual}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := d.DialContext(ctx, "tcp", cfg.Raft)
		if err != nil {
			return // refused before the handshake finished
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write(frame)
		answer := make([]byte, 64)
		if n, err := conn.Read(answer); err == nil {
			t.Fatalf("%s/%s got an answer on the Raft port: %x", jurisdiction, node, answer[:n])
		}
	}
	attack("500153", "n0") // another jurisdiction, a valid certificate
	attack("500110", "n7") // this jurisdiction, not a member of the group

	eventually(t, 10*time.Second, func() string {
		if n := metricSum(t, c, "http", []*proc{leader}, "fengqiao_raft_peers_refused_total"); n < refusedBefore+2 {
			return "the refusals were not counted"
		}
		if l := leader.logs.String(); !strings.Contains(l, "refused a peer on the Raft port") || !strings.Contains(l, "500153") {
			return "the refusal was not logged with the certificate's names"
		}
		return ""
	})
	if after := digests(); after["n0"] != before["n0"] || after["n1"] != before["n1"] || after["n2"] != before["n2"] {
		t.Fatalf("the state changed: %v, before %v", after, before)
	}
	forged := &client{token: secret, http: c.http}
	if code, _, _ := forged.do("GET", "http://"+leader.http+"/api/v1/events", nil, nil); code != 401 {
		t.Fatalf("the forged token answers %d", code)
	}
}

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/fengqiao/fengqiao/core/access"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary built for this test process.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds fengqiao once per test process.
func binary(t testing.TB) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fengqiao-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "fengqiao")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePort picks a free port below Linux's ephemeral range (32768 up), where
// the kernel also finds the source ports of outgoing connections: a port
// from ":0" could be taken by one of the running nodes' dials between this
// check and the new node's bind (seen as "address already in use").
// handedOut holds the ports freePort gave: a port a test's process has not
// bound yet still tests free, and a second cluster, or the same one, could
// draw it again.
var handedOut sync.Map

// freePort picks a port in 20000..31999: below Linux's ephemeral range, and
// above node's demo test (10000..19999), the other package that binds ports
// it chose.
func freePort(t testing.TB) string {
	for range 200 {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000)))
		if err != nil {
			continue
		}
		addr := l.Addr().String()
		l.Close()
		if _, taken := handedOut.LoadOrStore(addr, true); !taken {
			return addr
		}
	}
	t.Fatal("no free port in 20000..31999")
	return ""
}

type proc struct {
	id, cfg, http string
	dir           string // data_dir
	cmd           *exec.Cmd
	logs          *syncBuffer // stderr of the current process
}

// syncBuffer is a bytes.Buffer that exec's copying goroutine may write
// while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// otpSecrets holds, by token secret, the TOTP secret each administrator's
// token of these tests was enrolled with.
var otpSecrets sync.Map

// bootstrapTOTP is the TOTP secret a test's bootstrap token is enrolled
// with, as its operator would set FENGQIAO_TOTP_SECRET.
func bootstrapTOTP(token string) string {
	sum := sha256.Sum256([]byte(token))
	key := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:20])
	otpSecrets.Store(token, key)
	return key
}

// otpNow is the TOTP code token's holder sends now ("" if none is needed).
func otpNow(token string) string {
	key, ok := otpSecrets.Load(token)
	if !ok {
		return ""
	}
	code, err := totp.GenerateCode(key.(string), time.Now())
	if err != nil {
		panic(err)
	}
	return code
}

func startProc(t testing.TB, p *proc, token string) {
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "--config", p.cfg)
	cmd.Env = append(os.Environ(), "FENGQIAO_TOKEN="+token, "FENGQIAO_TOTP_SECRET="+bootstrapTOTP(token))
	out, _ := cmd.StdoutPipe()
	logs := &syncBuffer{}
	cmd.Stderr = logs
	p.logs = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.cmd = cmd
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		for sc.Scan() {
		}
	}()
	select {
	case l := <-line:
		if !strings.HasPrefix(l, "500110 綦江区 http://") && !strings.HasPrefix(l, "500110 綦江区 https://") {
			t.Fatalf("%s printed %q", p.id, l)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start; stderr:\n%s", p.id, logs.String())
	}
}

type client struct {
	token string
	http  *http.Client
}

func (c *client) do(method, url string, body any, header map[string]string) (int, map[string]any, error) {
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if code := otpNow(c.token); code != "" {
		req.Header.Set("X-Fengqiao-OTP", code)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m, nil
}

// leads reports whether p (plain HTTP) is its group's leader: only a leader
// answers a consistent read marked as forwarded already.
func (c *client) leads(p *proc) bool {
	code, _, _ := c.do("GET", "http://"+p.http+"/api/v1/stats", nil, map[string]string{"X-Fengqiao-Forwarded": "test"})
	return code == 200
}

// startCluster starts three replicas of 500110 as separate processes.
func startCluster(t testing.TB, token string) []*proc { return startClusterTLS(t, token, "") }

// startClusterTLS does the same with mutual TLS between replicas and HTTPS
// for the API when caDir (holding a CA made by "fengqiao tls ca") is set.
func startClusterTLS(t testing.TB, token, caDir string) []*proc {
	return startClusterWith(t, token, caDir, nil)
}

// startClusterWith does the same with extra config keys for every replica.
// Replicas always speak Raft over mutual TLS (a group of three must); without
// caDir the API stays plain HTTP on loopback (plain_http).
func startClusterWith(t testing.TB, token, caDir string, extra map[string]any) []*proc {
	dir := t.TempDir()
	apiTLS := caDir != ""
	if !apiTLS {
		caDir = filepath.Join(dir, "ca")
		if out, err := exec.Command(binary(t), "tls", "ca", "--out", caDir).CombinedOutput(); err != nil {
			t.Fatalf("tls ca: %v %s", err, out)
		}
	}
	keys := filepath.Join(dir, "keys.json")
	if out, err := exec.Command(binary(t), "keygen", "--out", keys).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v %s", err, out)
	}
	procs := make([]*proc, 3)
	var peers []map[string]string
	for i := range procs {
		procs[i] = &proc{id: fmt.Sprintf("n%d", i), http: freePort(t), dir: filepath.Join(dir, fmt.Sprintf("n%d", i))}
		peers = append(peers, map[string]string{"id": procs[i].id, "raft": freePort(t), "http": procs[i].http})
	}
	for i, p := range procs {
		cfg := map[string]any{"node_id": p.id, "jurisdiction": "500110", "data_dir": p.dir,
			"http": p.http, "raft": peers[i]["raft"], "key_file": keys, "peers": peers, "log_level": "warn", "reload_seconds": 1}
		for k, v := range extra {
			cfg[k] = v
		}
		{
			certs := filepath.Join(dir, "certs")
			if out, err := exec.Command(binary(t), "tls", "cert", "--ca", caDir, "--jurisdiction", "500110", "--node", p.id, "--hosts", "127.0.0.1", "--out", certs).CombinedOutput(); err != nil {
				t.Fatalf("tls cert: %v %s", err, out)
			}
			files := map[string]string{"ca_file": filepath.Join(caDir, "ca.pem"), "cert_file": filepath.Join(certs, p.id+".pem"), "key_file": filepath.Join(certs, p.id+"-key.pem")}
			if crl := filepath.Join(caDir, "crl.pem"); fileExists(crl) {
				files["crl_file"] = crl
			}
			cfg["tls"] = files
			cfg["plain_http"] = !apiTLS
		}
		raw, _ := json.Marshal(cfg)
		p.cfg = filepath.Join(dir, p.id+".json")
		os.WriteFile(p.cfg, raw, 0o600)
		startProc(t, p, token)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			if p.cmd != nil && p.cmd.ProcessState == nil {
				p.cmd.Process.Kill()
				p.cmd.Wait()
			}
		}
	})
	return procs
}

// staffOf has the bootstrap token (a security_admin's, c's token) issue a
// token for each role the tests act as, once the group takes writes at base
// (scheme and host of one replica). It returns their secrets by role.
func staffOf(t testing.TB, c *client, base string) map[string]string {
	t.Helper()
	out := map[string]string{access.SecurityAdmin: c.token}
	// Ready first: each try with a token the group has not issued yet is a
	// failed authentication, and ten a minute lock the address out.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if code, _, err := c.do("GET", base+"/readyz", nil, nil); err == nil && code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became ready", base)
		}
	}
	for _, role := range []string{access.CenterAdmin, access.SystemAdmin, access.AuditAdmin} {
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
			code, m, err := c.do("POST", base+"/api/v1/tokens", map[string]any{"name": "test " + role, "role": role, "scope": "500110"}, nil)
			if err == nil && code == 201 {
				out[role] = m["secret"].(string)
				if key, ok := m["totp_secret"].(string); ok {
					otpSecrets.Store(out[role], key)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s token from %s: %d %v %v", role, base, code, m, err)
			}
		}
	}
	return out
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestClusterOfProcessesSurvivesKillOfTheLeader runs three replicas as
// separate OS processes, writes through any of them, kills the leader with
// SIGKILL mid-stream, and checks that no acknowledged write is lost and that
// the killed replica catches up after a restart.
func TestClusterOfProcessesSurvivesKillOfTheLeader(t *testing.T) {
	const token = "fq_cluster_test_admin_token_42424242"
	procs := startCluster(t, token)
	c := &client{token: token, http: &http.Client{Timeout: 10 * time.Second}}
	c.token = staffOf(t, c, "http://"+procs[1].http)[access.CenterAdmin]
	report := func(p *proc, i int) (string, bool) {
		code, m, err := c.do("POST", "http://"+p.http+"/api/v1/events", map[string]any{"category": "dispute",
			"description": fmt.Sprint("cluster write ", i), "jurisdiction": "500110001"}, nil)
		if err != nil || code != 201 {
			return "", false
		}
		return m["id"].(string), true
	}
	// Wait until the group has a leader, the county is loaded and the token works.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, ok := report(procs[1], -1); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cluster never took a write")
		}
	}
	leaderOf := func() int {
		for i, p := range procs {
			if p.cmd.ProcessState == nil && c.leads(p) {
				return i
			}
		}
		return -1
	}
	// A follower serves a write itself (forwarding only the command), so the
	// writer reads it back from that follower at once, even stale.
	for deadline := time.Now().Add(30 * time.Second); leaderOf() < 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no leader answers")
		}
	}
	f := procs[(leaderOf()+1)%3]
	for i := range 10 {
		id, ok := report(f, 1000+i)
		if !ok {
			t.Fatal("write through a follower failed")
		}
		if code, m, err := c.do("GET", "http://"+f.http+"/api/v1/events/"+id+"?stale=true", nil, nil); code != 200 || m["id"] != id {
			t.Fatalf("follower does not show its own write %s: %d %v %v", id, code, m, err)
		}
	}
	var (
		mu     sync.Mutex
		acked  []string
		stop   = make(chan struct{})
		wg     sync.WaitGroup
		killed = -1
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				p := procs[(w+i)%3]
				skip := (w+i)%3 == killed
				mu.Unlock()
				if skip {
					continue
				}
				if id, ok := report(p, i); ok {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				} else {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for count() < 60 {
		time.Sleep(10 * time.Millisecond)
	}
	l := leaderOf()
	if l < 0 {
		t.Fatal("no leader found")
	}
	mu.Lock()
	killed = l
	mu.Unlock()
	procs[l].cmd.Process.Kill() // SIGKILL
	procs[l].cmd.Wait()
	killedAt, before := time.Now(), count()
	for count() < before+60 {
		if time.Since(killedAt) > 30*time.Second {
			t.Fatalf("writes did not resume after the leader was killed (%d acked)", count())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("writes resumed within %v of kill -9; %d acknowledged", time.Since(killedAt).Round(time.Millisecond), count())
	close(stop)
	wg.Wait()

	// Every acknowledged write is there, read consistently through a survivor.
	survivor := procs[(l+1)%3]
	for _, id := range acked {
		if code, m, err := c.do("GET", "http://"+survivor.http+"/api/v1/events/"+id, nil, nil); err != nil || code != 200 {
			t.Fatalf("acknowledged event %s lost: %d %v %v", id, code, m, err)
		}
	}
	_, st, _ := c.do("GET", "http://"+survivor.http+"/api/v1/stats", nil, nil)
	total := st["reported"].(float64)
	if int(total) < len(acked) {
		t.Fatalf("figures count %v events, %d were acknowledged", total, len(acked))
	}
	// The killed replica restarts from its files and catches up.
	startProc(t, procs[l], token)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, m, _ := c.do("GET", "http://"+procs[l].http+"/api/v1/stats?stale=true", nil, nil)
		if code == 200 && m["reported"].(float64) == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted replica did not catch up: %d %v (want %v)", code, m["reported"], total)
		}
	}
}

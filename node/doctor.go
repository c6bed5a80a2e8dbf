package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/keyfile"
	"github.com/fengqiao/fengqiao/federation/tlsutil"
)

// Finding is one thing fengqiao doctor checked: how it stands and, when
// it does not stand well, what to do about it.
type Finding struct {
	Level string // "ok", "warn" or "fail"
	Check string // config, data, keys, tls, peers, federation, plugins, listen
	Text  string
}

// Levels of a finding.
const (
	DoctorOK   = "ok"
	DoctorWarn = "warn"
	DoctorFail = "fail"
)

// Thresholds the doctor warns or fails at.
const (
	doctorDiskFail = 1 << 30  // 1 GiB free: the state and the Raft log stop
	doctorDiskWarn = 10 << 30 // 10 GiB free: a few weeks of a county's log
	doctorCertWarn = 30 * 24 * time.Hour
)

// Doctor checks a node's config file and what it names: the data
// directory and its free space, the key file, the TLS files (chain,
// names, expiry), whether the peers and gossip seeds answer, the plugin
// directory, and whether the API address is free or already this node's.
// It changes nothing and never opens the state (a running node holds it).
func Doctor(ctx context.Context, path string) []Finding {
	var out []Finding
	add := func(level, check, format string, args ...any) {
		out = append(out, Finding{Level: level, Check: check, Text: fmt.Sprintf(format, args...)})
	}
	c, err := LoadConfig(path)
	if err != nil {
		if errs.Field(err) != "" {
			add(DoctorFail, "config", "%v (field %s; docs/operations.md describes each)", err, errs.Field(err))
		} else {
			add(DoctorFail, "config", "%v", err)
		}
		return out
	}
	add(DoctorOK, "config", "node %s of %s, %d voter(s)", c.NodeID, c.Jurisdiction, max(1, len(c.Peers)))
	doctorData(c, add)
	doctorKeys(c, add)
	doctorTLS(c, add)
	doctorPeers(ctx, c, add)
	doctorPlugins(c, add)
	doctorListen(ctx, c, add)
	return out
}

type addFinding func(level, check, format string, args ...any)

func doctorData(c *Config, add addFinding) {
	st, err := os.Stat(c.DataDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		add(DoctorWarn, "data", "%s does not exist yet: the node makes it on first start (check the parent is writable)", c.DataDir)
		return
	case err != nil:
		add(DoctorFail, "data", "%v", err)
		return
	case !st.IsDir():
		add(DoctorFail, "data", "%s is not a directory", c.DataDir)
		return
	}
	probe, err := os.CreateTemp(c.DataDir, ".doctor-*")
	if err != nil {
		add(DoctorFail, "data", "%s is not writable by this user: %v (run the node as the user that owns it)", c.DataDir, err)
		return
	}
	probe.Close()
	os.Remove(probe.Name())
	var fs syscall.Statfs_t
	if err := syscall.Statfs(c.DataDir, &fs); err != nil {
		add(DoctorWarn, "data", "free space unknown: %v", err)
		return
	}
	free := fs.Bavail * uint64(fs.Bsize)
	switch {
	case free < doctorDiskFail:
		add(DoctorFail, "data", "%s has %s free: the Raft log and the state stop growing; free space or move data_dir", c.DataDir, gib(free))
	case free < doctorDiskWarn:
		add(DoctorWarn, "data", "%s has %s free: plan more (docs/operations.md, sizing)", c.DataDir, gib(free))
	default:
		add(DoctorOK, "data", "%s writable, %s free", c.DataDir, gib(free))
	}
}

func gib(n uint64) string { return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30)) }

func doctorKeys(c *Config, add addFinding) {
	info, err := os.Stat(c.KeyFile)
	if err != nil {
		add(DoctorFail, "keys", "%v: make it once with fengqiao keygen --out %s and copy the same file to every replica", err, c.KeyFile)
		return
	}
	if _, err := keyfile.Read(c.KeyFile); err != nil {
		add(DoctorFail, "keys", "%s does not load: %v", c.KeyFile, err)
		return
	}
	d, err := keyfile.Describe(c.KeyFile)
	if err != nil {
		add(DoctorFail, "keys", "%s: %v", c.KeyFile, err)
		return
	}
	if info.Mode().Perm()&0o077 != 0 {
		add(DoctorWarn, "keys", "%s is readable by others (mode %04o): chmod 600 %s", c.KeyFile, info.Mode().Perm(), c.KeyFile)
		return
	}
	add(DoctorOK, "keys", "%s loads (%d key(s), sealing with generation %d)", c.KeyFile, len(d.IDs), d.Current)
}

func doctorTLS(c *Config, add addFinding) {
	if c.TLS.CA == "" && c.TLS.Cert == "" {
		if len(c.Peers) > 1 {
			add(DoctorFail, "tls", "a group of %d replicas needs tls (ca, cert, key): fengqiao tls ca / fengqiao tls cert", len(c.Peers))
		} else {
			add(DoctorWarn, "tls", "no tls: the API is plain HTTP (fine on loopback or behind a TLS proxy)")
		}
		return
	}
	pair, err := tls.LoadX509KeyPair(c.TLS.Cert, c.TLS.Key)
	if err != nil {
		add(DoctorFail, "tls", "certificate and key do not load: %v", err)
		return
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		add(DoctorFail, "tls", "certificate: %v", err)
		return
	}
	raw, err := os.ReadFile(c.TLS.CA)
	if err != nil {
		add(DoctorFail, "tls", "CA: %v", err)
		return
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(raw) {
		add(DoctorFail, "tls", "%s holds no PEM certificate", c.TLS.CA)
		return
	}
	inter := x509.NewCertPool()
	for _, der := range pair.Certificate[1:] {
		if ic, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(ic)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		add(DoctorFail, "tls", "%s is not signed by %s: %v", c.TLS.Cert, c.TLS.CA, err)
		return
	}
	if id, ok := tlsutil.ReplicaOf(cert, c.Jurisdiction); !ok || id != c.NodeID {
		add(DoctorFail, "tls", "%s does not name replica %s of %s (its peers refuse it): issue one with fengqiao tls cert", c.TLS.Cert, c.NodeID, c.Jurisdiction)
		return
	}
	left := time.Until(cert.NotAfter)
	switch {
	case left <= 0:
		add(DoctorFail, "tls", "%s expired on %s: issue a new one (fengqiao tls cert); it reloads without a restart", c.TLS.Cert, cert.NotAfter.Format(time.DateOnly))
	case left < doctorCertWarn:
		add(DoctorWarn, "tls", "%s expires on %s (%d days): renew it soon", c.TLS.Cert, cert.NotAfter.Format(time.DateOnly), int(left.Hours()/24))
	default:
		add(DoctorOK, "tls", "%s names %s, signed by the CA, valid until %s", filepath.Base(c.TLS.Cert), c.NodeID, cert.NotAfter.Format(time.DateOnly))
	}
}

// dialable reports whether something accepts TCP connections at addr.
func dialable(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		conn.Close()
	}
	return err
}

func doctorPeers(ctx context.Context, c *Config, add addFinding) {
	down := 0
	for _, p := range c.Peers {
		if p.ID == c.NodeID {
			continue
		}
		if err := dialable(ctx, p.Raft); err != nil {
			down++
			add(DoctorWarn, "peers", "%s at %s does not answer: %v (start it, or open the port between the replicas)", p.ID, p.Raft, err)
		}
	}
	if others := len(c.Peers) - 1; others > 0 && down == 0 {
		add(DoctorOK, "peers", "all %d other replica(s) answer on their Raft ports", others)
	}
	if len(c.Peers) > 1 && down*2 >= len(c.Peers) {
		add(DoctorFail, "peers", "%d of %d voters are unreachable: the group has no quorum until they return", down, len(c.Peers))
	}
	if f := c.Federation; f != nil {
		reach := 0
		for _, j := range f.Join {
			if dialable(ctx, j) == nil {
				reach++
			}
		}
		switch {
		case len(f.Join) == 0:
			add(DoctorWarn, "federation", "no gossip seeds (federation.join): this node can only be joined, not join")
		case reach == 0:
			add(DoctorWarn, "federation", "none of the %d gossip seeds answers: the node waits alone until one does", len(f.Join))
		default:
			add(DoctorOK, "federation", "%d of %d gossip seeds answer", reach, len(f.Join))
		}
	}
}

func doctorPlugins(c *Config, add addFinding) {
	if c.PluginDir == "" {
		return
	}
	entries, err := os.ReadDir(c.PluginDir)
	if err != nil {
		add(DoctorFail, "plugins", "%v: make the directory or drop plugin_dir", err)
		return
	}
	n := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		n++
		if info.Mode().Perm()&0o111 == 0 {
			add(DoctorWarn, "plugins", "%s is not executable: chmod +x it", e.Name())
		}
		if info.Mode().Perm()&0o022 != 0 {
			add(DoctorFail, "plugins", "%s is writable by others (mode %04o): anyone could swap the binary; chmod go-w it", e.Name(), info.Mode().Perm())
		}
	}
	add(DoctorOK, "plugins", "%s holds %d binary file(s); registration checks each checksum", c.PluginDir, n)
}

// doctorListen says whether the API address is free, or held by a node
// that answers as one (this node, running).
func doctorListen(ctx context.Context, c *Config, add addFinding) {
	ln, err := net.Listen("tcp", c.HTTP)
	if err == nil {
		ln.Close()
		add(DoctorOK, "listen", "%s is free for the API", c.HTTP)
		return
	}
	scheme := "http"
	client := http.Client{Timeout: 2 * time.Second}
	if c.TLS.Cert != "" && !c.PlainHTTP {
		scheme = "https"
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // only asks whether a node answers
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", scheme+"://"+c.HTTP+"/healthz", nil)
	resp, herr := client.Do(req)
	if herr == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			add(DoctorOK, "listen", "a node already serves %s (this one, running)", c.HTTP)
			return
		}
	}
	add(DoctorFail, "listen", "%s is taken by something that is not a Fengqiao node: %v (stop it or change http)", c.HTTP, err)
}

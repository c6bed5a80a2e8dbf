package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fengqiao/fengqiao/core/keyfile"

	"github.com/spf13/cobra"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/federation/tlsutil"
	"github.com/fengqiao/fengqiao/node/api"
)

// apiClient calls a node's API with the token from FENGQIAO_TOKEN.
type apiClient struct {
	addr  string
	ca    string
	otp   string
	token string
	http  *http.Client
	// The environment variables the token and TOTP code come from
	// (default FENGQIAO_TOKEN and FENGQIAO_OTP).
	tokenEnv, otpEnv string
}

func addClientFlags(cmd *cobra.Command, c *apiClient) {
	cmd.Flags().StringVar(&c.addr, "addr", "http://127.0.0.1:8080", "node API address")
	cmd.Flags().StringVar(&c.ca, "ca", "", "CA certificate to trust for an https address")
	cmd.Flags().StringVar(&c.otp, "otp", "", "an administrator's TOTP code (default FENGQIAO_OTP)")
}

func (c *apiClient) call(method, path string, body io.Reader, out any) error {
	tokenEnv, otpEnv := cmp.Or(c.tokenEnv, "FENGQIAO_TOKEN"), cmp.Or(c.otpEnv, "FENGQIAO_OTP")
	c.token = os.Getenv(tokenEnv)
	if c.token == "" {
		return fmt.Errorf("set %s to an API token", tokenEnv)
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 10 * time.Minute}
		if c.ca != "" {
			cfg, err := tlsutil.Client(c.ca)
			if err != nil {
				return err
			}
			c.http.Transport = &http.Transport{TLSClientConfig: cfg}
		}
	}
	req, err := http.NewRequest(method, strings.TrimRight(c.addr, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if c.otp == "" {
		c.otp = os.Getenv(otpEnv)
	}
	if c.otp != "" {
		req.Header.Set(api.OTPHeader, c.otp)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var p struct{ Title, Detail, Field string }
		json.NewDecoder(resp.Body).Decode(&p)
		return fmt.Errorf("%s %s: %d %s: %s (field %q)", method, path, resp.StatusCode, p.Title, p.Detail, p.Field)
	}
	switch o := out.(type) {
	case nil:
		return nil
	case io.Writer:
		_, err = io.Copy(o, resp.Body)
		return err
	default:
		return json.NewDecoder(resp.Body).Decode(out)
	}
}

func operator() *cobra.Command {
	op := &cobra.Command{Use: "operator", Short: "Operate a node group"}
	rf := &cobra.Command{Use: "raft", Short: "Raft group operations"}
	op.AddCommand(rf)

	var c apiClient
	list := &cobra.Command{Use: "list-peers", Short: "List the replicas of the group", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out peersView
			if err := c.call("GET", "/api/v1/cluster/peers", nil, &out); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tADDRESS\tSTATE\tVOTER")
			for _, p := range out.Peers {
				state := "follower"
				if p.Leader {
					state = "leader"
				}
				if p.DivergedAt != 0 {
					state += fmt.Sprintf(" (diverged at checkpoint %d: rebuild it)", p.DivergedAt)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", p.ID, p.Address, state, p.Voter)
			}
			return tw.Flush()
		}}
	var nonVoter bool
	add := &cobra.Command{Use: "add-peer ID RAFT-ADDRESS", Short: "Add a replica to the group (start it first with the same key file)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, _ := json.Marshal(map[string]any{"id": args[0], "address": args[1], "voter": !nonVoter})
			return c.call("POST", "/api/v1/cluster/peers", strings.NewReader(string(body)), nil)
		}}
	add.Flags().BoolVar(&nonVoter, "non-voter", false, "join as a non-voter (replicates, serves stale reads, does not vote)")
	remove := &cobra.Command{Use: "remove-peer ID", Short: "Remove a replica from the group", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.call("DELETE", "/api/v1/cluster/peers/"+args[0], nil, nil)
		}}
	var force bool
	transfer := &cobra.Command{Use: "transfer-leader [ID]", Short: "Hand leadership to a voter (any sound one, without ID)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			body, _ := json.Marshal(map[string]any{"id": id, "force": force})
			return c.call("POST", "/api/v1/cluster/leader", strings.NewReader(string(body)), nil)
		}}
	transfer.Flags().BoolVar(&force, "force", false, "hand over even to a voter the leader found diverged")
	leave := &cobra.Command{Use: "leave --addr NODE", Short: "Take the replica at --addr out of its group (a leader hands over first); then stop its process", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return leaveGroup(cmd.OutOrStdout(), &c) }}
	for _, cmd := range []*cobra.Command{list, add, remove, transfer, leave} {
		addClientFlags(cmd, &c)
		rf.AddCommand(cmd)
	}
	return op
}

func backupCmd() *cobra.Command {
	var c apiClient
	var out string
	cmd := &cobra.Command{Use: "backup --out FILE", Short: "Save a consistent backup of a node group's state", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("backup needs --out FILE")
			}
			f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			if err := c.call("GET", "/api/v1/backup", nil, f); err != nil {
				f.Close()
				os.Remove(out)
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			idx, err := state.StateFileIndex(out)
			if err != nil {
				return fmt.Errorf("the saved backup does not check: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved %s (state at log index %d)\n", out, idx)
			return nil
		}}
	addClientFlags(cmd, &c)
	cmd.Flags().StringVar(&out, "out", "", "file to write (refuses to overwrite)")
	return cmd
}

func restoreCmd() *cobra.Command {
	var c apiClient
	var in string
	var force bool
	cmd := &cobra.Command{Use: "restore --in FILE [--force]", Short: "Replace a node group's state with a backup (disaster recovery)", Args: cobra.NoArgs,
		Long: `The backup's audit chain must verify under the group's key file. A backup whose chain
does not continue the group's (an older backup) moves the chain backwards and is refused
unless --force: the forced restore is then an audit record and is reported to the parent
jurisdiction at once, whose witnesses keep what the chain held before.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := state.StateFileIndex(in); err != nil {
				return fmt.Errorf("%s is not a backup: %w", in, err)
			}
			f, err := os.Open(in)
			if err != nil {
				return err
			}
			defer f.Close()
			var out core.BackupCheck
			if err := c.call("POST", "/api/v1/restore?force="+strconv.FormatBool(force), f, &out); err != nil {
				return err
			}
			how := "continuing the chain"
			if out.Backwards {
				how = "moving the chain back (forced; audited and reported to the parent)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s: audit chain from %d to %d records, %s\n", in, out.From, out.To, how)
			return nil
		}}
	addClientFlags(cmd, &c)
	cmd.Flags().StringVar(&in, "in", "", "backup file")
	cmd.Flags().BoolVar(&force, "force", false, "restore even a backup that moves the audit chain backwards")
	return cmd
}

func auditCmd() *cobra.Command {
	audit := &cobra.Command{Use: "audit", Short: "Audit chain operations"}
	var c apiClient
	var deep bool
	var keyFile, witness, witnessCA string
	verify := &cobra.Command{Use: "verify [STATE-OR-BACKUP-FILE --key-file FILE]", Short: "Verify the audit hash chain of a node, or of a state file or backup offline",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rep state.VerifyReport
			if len(args) == 1 {
				e, err := state.OpenStateFileReadOnly(args[0])
				if err != nil {
					return err
				}
				defer e.Close()
				if keyFile != "" {
					kr, err := keyfile.Read(keyFile)
					if err != nil {
						return err
					}
					e.SetAuditKeys(kr)
				} else if _, keyed, err := e.AuditKeyGeneration(); err != nil {
					return err
				} else if keyed {
					return errors.New("this audit chain is keyed: verifying it needs the group's key file (--key-file FILE)")
				}
				rep, err = e.VerifyAudit()
				if err != nil && rep.FirstBad == 0 {
					return err
				}
				if rep.OK && deep {
					scratch, err := os.MkdirTemp("", "fengqiao-verify-")
					if err != nil {
						return err
					}
					defer os.RemoveAll(scratch)
					if err := e.VerifyState(scratch, nil); err != nil {
						return fmt.Errorf("state BROKEN: %w", err)
					}
					fmt.Fprintln(cmd.OutOrStdout(), "state matches its audit chain (rebuilt and compared)")
				}
			} else if witness != "" {
				return verifyWitnessed(cmd.OutOrStdout(), &c, &apiClient{addr: witness, ca: witnessCA})
			} else if err := c.call("GET", "/api/v1/audit/verify", nil, &rep); err != nil {
				return err
			}
			if !rep.OK {
				return fmt.Errorf("audit chain BROKEN at record %d: %s", rep.FirstBad, rep.Problem)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "audit chain OK: %d records, head %s\n", rep.Records, rep.Head)
			return nil
		}}
	addClientFlags(verify, &c)
	verify.Flags().BoolVar(&deep, "deep", false, "offline only: also rebuild the state from the chain and compare")
	verify.Flags().StringVar(&keyFile, "key-file", "", "offline only: the group's key file, whose index keys key the chain")
	verify.Flags().StringVar(&witness, "witness", "", "the parent jurisdiction's node (URL): check the chain against the heads it witnessed (token FENGQIAO_WITNESS_TOKEN, code FENGQIAO_WITNESS_OTP)")
	verify.Flags().StringVar(&witnessCA, "witness-ca", "", "CA certificate to trust for an https witness address")
	audit.AddCommand(verify)
	return audit
}

// verifyWitnessed verifies the chain of the node at c against the chain
// heads its parent's node at parent witnessed: a rewrite of anything older
// than the latest witness is caught even by someone holding the key.
func verifyWitnessed(out io.Writer, c, parent *apiClient) error {
	type witnessed struct {
		Jurisdiction string              `json:"jurisdiction"`
		Chain        state.VerifyReport  `json:"chain"`
		Witnesses    state.WitnessReport `json:"witnesses"`
		OK           bool                `json:"ok"`
	}
	var first witnessed
	if err := c.call("POST", "/api/v1/audit/verify", strings.NewReader(`{"witnesses":[]}`), &first); err != nil {
		return err
	}
	parent.tokenEnv, parent.otpEnv = "FENGQIAO_WITNESS_TOKEN", "FENGQIAO_WITNESS_OTP"
	var all []model.Witness
	for after := uint64(0); ; {
		var page struct {
			Witnesses []model.Witness `json:"witnesses"`
		}
		if err := parent.call("GET", fmt.Sprintf("/api/v1/audit/witnesses?origin=%s&after=%d&limit=1000", url.QueryEscape(first.Jurisdiction), after), nil, &page); err != nil {
			return fmt.Errorf("witnesses from %s: %w", parent.addr, err)
		}
		if len(page.Witnesses) == 0 {
			break
		}
		all, after = append(all, page.Witnesses...), page.Witnesses[len(page.Witnesses)-1].Seq
	}
	if len(all) == 0 {
		return fmt.Errorf("%s holds no witness of %s's chain: is it the parent, and does the exchange reach it?", parent.addr, first.Jurisdiction)
	}
	body, _ := json.Marshal(map[string]any{"witnesses": all})
	var rep witnessed
	if err := c.call("POST", "/api/v1/audit/verify", bytes.NewReader(body), &rep); err != nil {
		return err
	}
	switch {
	case !rep.Chain.OK:
		return fmt.Errorf("audit chain BROKEN at record %d: %s", rep.Chain.FirstBad, rep.Chain.Problem)
	case !rep.Witnesses.OK:
		return fmt.Errorf("audit chain BROKEN against its witnesses at record %d: %s", rep.Witnesses.FirstBad, rep.Witnesses.Problem)
	}
	fmt.Fprintf(out, "audit chain OK: %d records, head %s; %d witnesses held by %s agree (latest at record %d)\n",
		rep.Chain.Records, rep.Chain.Head, rep.Witnesses.Witnesses, parent.addr, rep.Witnesses.Latest)
	return nil
}

func tlsCmd() *cobra.Command {
	t := &cobra.Command{Use: "tls", Short: "Make a development CA, node certificates and revocation lists"}
	var caOut, caName string
	ca := &cobra.Command{Use: "ca --out DIR", Short: "Write ca.pem and ca-key.pem to DIR", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if caOut == "" {
				return errors.New("tls ca needs --out DIR")
			}
			if err := tlsutil.NewCA(caOut, caName); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s/ca.pem and %s/ca-key.pem\n", caOut, caOut)
			return nil
		}}
	ca.Flags().StringVar(&caOut, "out", "", "directory for the CA files")
	ca.Flags().StringVar(&caName, "name", "Fengqiao dev CA", "CA common name")
	var caDir, out, name, jur, nodeID, hosts string
	cert := &cobra.Command{Use: "cert --ca DIR (--jurisdiction CODE --node ID | --name NAME) --hosts H1,H2 --out DIR", Short: "Write a certificate and its key signed by the CA", Args: cobra.NoArgs,
		Long: `A replica's certificate (--jurisdiction CODE --node ID, written to ID.pem and ID-key.pem) has
the jurisdiction code as its common name, which the exchange maps to the jurisdiction the
holder may speak for, and the DNS name ID.CODE.replica.fengqiao, by which the Raft port of
CODE's group knows its own replicas: a node of any other group, holding a valid certificate
of the same CA, is refused there. --name NAME writes NAME.pem with NAME as common name, for
anything that is not a replica.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var hs []string
			for _, h := range strings.Split(hosts, ",") {
				if h = strings.TrimSpace(h); h != "" {
					hs = append(hs, h)
				}
			}
			file := name
			var err error
			switch {
			case (jur != "" || nodeID != "") && name != "":
				return errors.New("tls cert takes --jurisdiction and --node for a replica, or --name, not both")
			case jur != "" || nodeID != "":
				file, err = nodeID, tlsutil.NewReplicaCert(caDir, out, jur, nodeID, hs)
			default:
				err = tlsutil.NewCert(caDir, out, name, hs)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s/%s.pem and %s/%s-key.pem\n", out, file, out, file)
			return nil
		}}
	cert.Flags().StringVar(&caDir, "ca", "", "directory holding ca.pem and ca-key.pem")
	cert.Flags().StringVar(&out, "out", "", "directory for the certificate")
	cert.Flags().StringVar(&jur, "jurisdiction", "", "a replica's jurisdiction code (its group)")
	cert.Flags().StringVar(&nodeID, "node", "", "a replica's node id")
	cert.Flags().StringVar(&name, "name", "", "certificate name, for what is not a replica")
	cert.Flags().StringVar(&hosts, "hosts", "127.0.0.1,localhost", "IPs and DNS names the certificate is for")
	var crlCA, crl string
	revoke := &cobra.Command{Use: "revoke --ca DIR --crl FILE [CERT.pem ...]",
		Short: "List certificates in a revocation list signed by the CA (no certificates: write or re-sign the list)",
		Long: `Adds each certificate to the CRL at FILE, signed by the CA in DIR, keeping what the list
already holds. Copy FILE to the crl_file of every node: within reload_seconds each one refuses
the listed certificates and closes the connections that use them.`,
		RunE: func(cmd *cobra.Command, certs []string) error {
			if crlCA == "" || crl == "" {
				return errors.New("tls revoke needs --ca DIR and --crl FILE")
			}
			n, err := tlsutil.Revoke(crlCA, crl, certs...)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d certificate(s) revoked; copy it to every node's crl_file\n", crl, n)
			return nil
		}}
	revoke.Flags().StringVar(&crlCA, "ca", "", "directory holding ca.pem and ca-key.pem")
	revoke.Flags().StringVar(&crl, "crl", "", "the revocation list to write (PEM)")
	t.AddCommand(ca, cert, revoke)
	return t
}

func tokenCmd() *cobra.Command {
	tk := &cobra.Command{Use: "token", Short: "Manage API tokens (needs a security_admin FENGQIAO_TOKEN)"}
	var c apiClient
	var name, role, scope, ttl string
	create := &cobra.Command{Use: "create --name N --role R --scope CODE [--ttl 90d]", Short: "Issue a token; its secret is printed once", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := map[string]string{"name": name, "role": role, "scope": scope}
			if ttl != "" {
				in["ttl"] = ttl
			}
			body, _ := json.Marshal(in)
			var out struct {
				Token struct {
					ID    string `json:"id"`
					Name  string `json:"name"`
					Role  string `json:"role"`
					Scope string `json:"scope"`
				} `json:"token"`
				Secret string `json:"secret"`
				TOTP   string `json:"totp_secret"`
				URL    string `json:"totp_url"`
			}
			if err := c.call("POST", "/api/v1/tokens", strings.NewReader(string(body)), &out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s %s\n%s\n", out.Token.ID, out.Token.Role, out.Token.Scope, out.Token.Name, out.Secret)
			printTOTP(cmd.OutOrStdout(), out.TOTP, out.URL)
			return nil
		}}
	create.Flags().StringVar(&name, "name", "", "who or what the token is for")
	create.Flags().StringVar(&role, "role", "", strings.Join(access.Assignable, ", "))
	create.Flags().StringVar(&scope, "scope", "", "jurisdiction code the token is limited to")
	create.Flags().StringVar(&ttl, "ttl", "", "lifetime, e.g. 720h or 90d (default: until revoked)")
	list := &cobra.Command{Use: "list", Short: "List tokens within your scope", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tROLE\tSCOPE\tREVOKED\tEXPIRES\tNAME")
			for next := ""; ; {
				var out struct {
					Tokens []struct {
						ID      string `json:"id"`
						Name    string `json:"name"`
						Role    string `json:"role"`
						Scope   string `json:"scope"`
						Revoked bool   `json:"revoked"`
						Expires string `json:"expires_at"`
					} `json:"tokens"`
					Next string `json:"next"`
				}
				if err := c.call("GET", "/api/v1/tokens?limit=500&cursor="+url.QueryEscape(next), nil, &out); err != nil {
					return err
				}
				for _, t := range out.Tokens {
					if t.Expires == "" {
						t.Expires = "never"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", t.ID, t.Role, t.Scope, t.Revoked, t.Expires, t.Name)
				}
				if next = out.Next; next == "" {
					return tw.Flush()
				}
			}
		}}
	revoke := &cobra.Command{Use: "revoke ID", Short: "Revoke a token on every replica at once", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.call("DELETE", "/api/v1/tokens/"+args[0], nil, nil)
		}}
	var expiredBefore string
	tidy := &cobra.Command{Use: "tidy [--expired-before TIME]", Short: "Delete revoked tokens, and tokens expired before TIME (default now), in your token's subtree", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, _ := json.Marshal(map[string]string{"expired_before": expiredBefore})
			var out struct{ Removed int }
			if err := c.call("POST", "/api/v1/tokens/tidy", strings.NewReader(string(body)), &out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d tokens that no longer work; the audit chain keeps their history\n", out.Removed)
			return nil
		}}
	tidy.Flags().StringVar(&expiredBefore, "expired-before", "", "RFC 3339 time, e.g. 2026-10-01T00:00:00+08:00 (default: now)")
	split := &cobra.Command{Use: "split-roles", Short: "Once, on a group made before 三员分立: issue the first security_admin and system_admin tokens", Args: cobra.NoArgs,
		Long: `Groups made before the administrative roles were split (三员分立, 等保 2.0 level 3) have
center_admin tokens that did everything, and auditor tokens. Run this once with such a
center_admin FENGQIAO_TOKEN: every auditor token becomes audit_admin, and a security_admin and
a system_admin token are issued for the group's jurisdiction and printed once. From then on
center_admin keeps the business work only, and this command is refused.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Renamed int `json:"renamed"`
				Issued  []struct {
					Token struct {
						ID, Role, Scope string
						Expires         string `json:"expires_at"`
					} `json:"token"`
					Secret string `json:"secret"`
					TOTP   string `json:"totp_secret"`
					URL    string `json:"totp_url"`
				} `json:"issued"`
			}
			if err := c.call("POST", "/api/v1/tokens/split-roles", strings.NewReader("{}"), &out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "roles split: %d auditor token(s) are audit_admin now\n", out.Renamed)
			for _, is := range out.Issued {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s expires %s\n%s\n", is.Token.ID, is.Token.Role, is.Token.Scope, is.Token.Expires, is.Secret)
				printTOTP(cmd.OutOrStdout(), is.TOTP, is.URL)
			}
			return nil
		}}
	for _, cmd := range []*cobra.Command{create, list, revoke, tidy, split} {
		addClientFlags(cmd, &c)
		tk.AddCommand(cmd)
	}
	return tk
}

// printTOTP shows an administrator's TOTP enrollment, which is never shown
// again.
func printTOTP(w io.Writer, secret, url string) {
	if secret != "" {
		fmt.Fprintf(w, "TOTP secret (enrol it in an authenticator now; send its codes with --otp or FENGQIAO_OTP): %s\n%s\n", secret, url)
	}
}

// peersView is GET /api/v1/cluster/peers as the CLI reads it.
type peersView struct {
	Peers []peerView `json:"peers"`
	Self  string     `json:"self"`
}

type peerView struct {
	ID, Address   string
	Voter, Leader bool
	DivergedAt    uint64 `json:"diverged_at"`
}

// ledByOther reports whether a replica other than self leads.
func (v peersView) ledByOther() bool {
	return slices.ContainsFunc(v.Peers, func(p peerView) bool { return p.Leader && p.ID != v.Self })
}

// leaveGroup takes the replica at c's address out of its group. It asks
// that replica who it is (a stale read, so the replica itself answers); a
// leader first hands leadership to another voter, so the group is never
// without one; then the group's leader removes it.
func leaveGroup(out io.Writer, c *apiClient) error {
	view := func() (peersView, error) {
		var v peersView
		err := c.call("GET", "/api/v1/cluster/peers?stale=true", nil, &v)
		return v, err
	}
	v, err := view()
	if err != nil {
		return err
	}
	voters, leads := 0, false
	for _, p := range v.Peers {
		if p.Voter && p.ID != v.Self {
			voters++
		}
		leads = leads || p.Leader && p.ID == v.Self
	}
	if voters == 0 {
		return fmt.Errorf("%s is its group's only voter: it cannot leave (remove the group's data instead)", v.Self)
	}
	if leads {
		fmt.Fprintf(out, "%s leads its group: handing leadership over\n", v.Self)
		if err := c.call("POST", "/api/v1/cluster/leader", strings.NewReader(`{"id":""}`), nil); err != nil {
			return err
		}
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if now, err := view(); err == nil && now.ledByOther() {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no other replica took leadership from %s within 15 s", v.Self)
			}
		}
	}
	if err := c.call("DELETE", "/api/v1/cluster/peers/"+url.PathEscape(v.Self), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s left its group; stop its process now\n", v.Self)
	return nil
}

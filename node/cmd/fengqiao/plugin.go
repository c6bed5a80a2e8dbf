package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/host"
)

func pluginCmd() *cobra.Command {
	pc := &cobra.Command{Use: "plugin", Short: "Register, enable and check plugins (一区一特色; needs a system_admin FENGQIAO_TOKEN)"}
	var c apiClient
	var (
		sum, config  string
		jurisdiction []string
		policy       []string
		version      string
	)
	register := &cobra.Command{Use: "register FILE --sha256 HEX --jurisdiction CODE...", Short: "Register a binary in the node's plugin directory",
		Long: `register asks the node to start FILE (a name in its plugin directory) once, with its
checksum checked, and to record the name, version and hooks it declares. The plugin runs
nowhere until "plugin enable" names that version; every voter must first report the same
binary.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg := host.Registration{File: args[0], SHA256: sum, Jurisdictions: jurisdiction, Policy: map[string]string{}}
			if config != "" {
				raw := []byte(config)
				if strings.HasPrefix(config, "@") {
					var err error
					if raw, err = os.ReadFile(config[1:]); err != nil {
						return err
					}
				}
				reg.Config = raw
			}
			for _, p := range policy {
				hook, pol, ok := strings.Cut(p, "=")
				if !ok {
					return fmt.Errorf("--policy %q: want HOOK=open or HOOK=closed", p)
				}
				reg.Policy[hook] = pol
			}
			body, _ := json.Marshal(reg)
			var v model.PluginVersion
			if err := c.call("POST", "/api/v1/plugins", bytes.NewReader(body), &v); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered %s %s (hooks %v) for %v\n", v.Name, v.Version, v.Hooks, v.Jurisdictions)
			return nil
		}}
	register.Flags().StringVar(&sum, "sha256", "", "the SHA-256 the binary must hash to (hex)")
	register.Flags().StringSliceVar(&jurisdiction, "jurisdiction", nil, "a jurisdiction the plugin serves (repeat)")
	register.Flags().StringVar(&config, "config", "", "its configuration: a JSON object, or @FILE")
	register.Flags().StringSliceVar(&policy, "policy", nil, "a hook's failure policy, HOOK=open|closed (repeat; default open)")
	addClientFlags(register, &c)

	enable := &cobra.Command{Use: "enable NAME --version V", Short: "Run a version (an upgrade is this, with the newer one)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, _ := json.Marshal(map[string]string{"version": version})
			var a model.PluginActive
			if err := c.call("POST", "/api/v1/plugins/"+args[0]+"/enable", bytes.NewReader(body), &a); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s runs (sha256 %s, voters %v)\n", a.Name, a.Version, a.SHA256, a.Voters)
			return nil
		}}
	enable.Flags().StringVar(&version, "version", "", "the registered version to run")
	addClientFlags(enable, &c)

	disable := &cobra.Command{Use: "disable NAME", Short: "Stop running a plugin", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.call("POST", "/api/v1/plugins/"+args[0]+"/disable", nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s disabled\n", args[0])
			return nil
		}}
	addClientFlags(disable, &c)

	list := &cobra.Command{Use: "list", Short: "The catalog: versions, the one that runs, binaries reported, state here", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Plugins []struct {
					model.PluginInfo
					Node   string       `json:"node"`
					Status *host.Status `json:"status"`
				} `json:"plugins"`
			}
			if err := c.call("GET", "/api/v1/plugins", nil, &out); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tRUNS\tVERSIONS\tBINARIES\tSTATE\tCALLS\tERRORS\tRESTARTS\tLAST ERROR")
			for _, p := range out.Plugins {
				runs := "-"
				if p.Active != nil {
					runs = p.Active.Version
				}
				var versions []string
				for _, v := range p.Versions {
					versions = append(versions, v.Version)
				}
				var binaries []string
				for _, r := range p.Reports {
					binaries = append(binaries, r.Node+"@"+r.Version+":"+r.Status)
				}
				st := host.Status{State: "-"}
				if p.Status != nil {
					st = *p.Status
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", p.Name, runs, strings.Join(versions, ","), strings.Join(binaries, " "),
					st.State, st.Calls, st.Errors, st.Restarts, st.LastError)
			}
			return tw.Flush()
		}}
	addClientFlags(list, &c)

	var checkConfig string
	check := &cobra.Command{Use: "check PATH", Short: "Conformance kit: start a plugin binary and call every hook it declares",
		Long: `check starts the plugin as a node would (go-plugin, gRPC, mutual TLS, its checksum
taken now), calls every hook it declares with valid input and with input it must refuse, runs
its jobs once and calls its routes, and reports each check. Nothing is proposed anywhere. It
exits non-zero when a check fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var cfg []byte
			if checkConfig != "" {
				cfg = []byte(checkConfig)
			}
			rep, err := host.Check(cmd.Context(), args[0], cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s sha256 %s\n", args[0], rep.SHA256)
			for _, f := range rep.Findings {
				mark := "ok  "
				if !f.OK {
					mark = "FAIL"
				}
				fmt.Fprintf(out, "%s %-16s %s: %s\n", mark, f.Hook, f.What, f.Detail)
			}
			if n := rep.Failed(); n > 0 {
				return errors.New(fmt.Sprint(n, " checks failed"))
			}
			fmt.Fprintln(out, "every check passed")
			return nil
		}}
	check.Flags().StringVar(&checkConfig, "config", "", "configuration to start it with (a JSON object)")

	pc.AddCommand(register, enable, disable, list, check)
	return pc
}

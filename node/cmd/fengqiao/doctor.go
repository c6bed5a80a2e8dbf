package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fengqiao/fengqiao/node"
)

// doctorCmd checks a node's config and what it names, and says what to fix.
func doctorCmd() *cobra.Command {
	var config string
	cmd := &cobra.Command{
		Use:   "doctor --config FILE",
		Short: "Check a node's config, data directory, keys, certificates, peers, plugins and API address, and say what to fix",
		Long: `doctor reads the config file and checks what it names, changing nothing: the config
itself, the data directory (writable, free space), the key file (loads, mode 0600), the TLS
files (signed by the CA, naming this replica, not near expiry), whether the other replicas
and the gossip seeds answer, the plugin directory (no binary writable by others), and whether
the API address is free or already this node's. It exits 1 when anything fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if config == "" {
				return errors.New("doctor needs --config FILE")
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "fengqiao doctor: %s\n", config)
			fails, warns := 0, 0
			for _, f := range node.Doctor(cmd.Context(), config) {
				mark := map[string]string{node.DoctorOK: "  ok  ", node.DoctorWarn: " WARN ", node.DoctorFail: " FAIL "}[f.Level]
				fmt.Fprintf(out, "%s %-10s %s\n", mark, f.Check, f.Text)
				switch f.Level {
				case node.DoctorFail:
					fails++
				case node.DoctorWarn:
					warns++
				}
			}
			if fails > 0 {
				return fmt.Errorf("%d problem(s) to fix, %d warning(s)", fails, warns)
			}
			fmt.Fprintf(out, "no problems, %d warning(s)\n", warns)
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the node's config file")
	return cmd
}

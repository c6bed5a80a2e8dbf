package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/fengqiao/fengqiao/core/keyfile"

	"github.com/spf13/cobra"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
)

func keygen() *cobra.Command {
	var out, cipher string
	cmd := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Write fresh sealing keys to FILE (mode 0600); every replica of a group uses the same file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("keygen needs --out FILE")
			}
			if err := keyfile.WriteNew(out, seal.Suite(cipher)); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s keys to %s\n", cipher, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "key file to create (refuses to overwrite)")
	cmd.Flags().StringVar(&cipher, "cipher", string(seal.AES256GCM), "aes-256-gcm or sm4-gcm (国密)")
	return cmd
}

// keysCmd rotates the sealing keys of a key file in two steps, so that no
// replica ever meets a value sealed with a generation it lacks.
func keysCmd() *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "Inspect and rotate the sealing keys of a key file",
		Long: `Rotation takes two rounds over the group's replicas:

  fengqiao keys add FILE      adds a generation (printed), with a sealing key and an
                              ID-number index key of its own, not yet used;
                              copy FILE to every replica (each reads it within reload_seconds)
  fengqiao keys use FILE ID   seals new values with generation ID from now on;
                              copy FILE to every replica (each reads it within reload_seconds)

Values sealed earlier are opened with their own generation. To retire one (after a
suspected leak, say), reseal, check, then remove it:

  fengqiao keys reseal --addr NODE   seals every older value again, and re-indexes every
                                     ID number, under NODE's current generation, with progress
  fengqiao keys census --addr NODE   values and indexes per generation; the old one must
                                     show none, and no handover offers may be waiting
  fengqiao keys remove FILE ID       drops generation ID; copy FILE to every replica
                                     (each reads it within reload_seconds)`}
	keys.AddCommand(&cobra.Command{Use: "list FILE", Short: "List the generations in FILE (never key material)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := keyfile.Describe(args[0])
			if err != nil {
				return err
			}
			ids := func(gs []byte) string {
				out := make([]string, len(gs))
				for i, id := range gs {
					out[i] = strconv.Itoa(int(id))
				}
				return strings.Join(out, " ")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cipher %s, current generation %d, generations %s", info.Cipher, info.Current, ids(info.IDs))
			if len(info.OwnIndex) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "; with their own ID-number index key: %s", ids(info.OwnIndex))
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		}})
	keys.AddCommand(&cobra.Command{Use: "add FILE", Short: "Add a fresh generation to FILE, not yet current", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := keyfile.AddKey(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added generation %d to %s; copy it to every replica (each reads it again within reload_seconds and logs sealing keys reloaded), then run: fengqiao keys use %s %d\n", id, args[0], args[0], id)
			return nil
		}})
	keys.AddCommand(&cobra.Command{Use: "use FILE ID", Short: "Seal new values with generation ID", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := generationArg(args[1])
			if err != nil {
				return err
			}
			if err := keyfile.UseKey(args[0], id); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "generation %d is current in %s; copy it to every replica (each reads it again within reload_seconds)\n", id, args[0])
			return nil
		}})
	keys.AddCommand(&cobra.Command{Use: "remove FILE ID", Short: "Drop generation ID from FILE for good (reseal and check the census first)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := generationArg(args[1])
			if err != nil {
				return err
			}
			if err := keyfile.RemoveKey(args[0], id); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed generation %d from %s; copy it to every replica (each reads it again within reload_seconds)\n", id, args[0])
			return nil
		}})
	var c apiClient
	census := &cobra.Command{Use: "census --addr NODE", Short: "Count the group's sealed values and ID-number indexes by generation (never key material)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var sc state.SealCensus
			if err := c.call("GET", "/api/v1/keys", nil, &sc); err != nil {
				return err
			}
			printCensus(cmd.OutOrStdout(), sc)
			return nil
		}}
	var batch int
	reseal := &cobra.Command{Use: "reseal --addr NODE", Short: "Seal every value of an older generation again, and re-index ID numbers, under NODE's current one", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if batch < 1 || batch > state.MaxResealItems {
				return errs.Invalid("batch", "range", "--batch must be 1..%d, got %d", state.MaxResealItems, batch)
			}
			var sc state.SealCensus
			if err := c.call("GET", "/api/v1/keys", nil, &sc); err != nil {
				return err
			}
			p := newProgress(cmd.ErrOrStderr(), "resealed", sc.Old())
			done, after := 0, ""
			for {
				var r core.ResealResult
				body, _ := json.Marshal(map[string]any{"max": batch, "after": after})
				if err := c.call("POST", "/api/v1/keys/reseal", bytes.NewReader(body), &r); err != nil {
					return err
				}
				done += r.Resealed
				if after = r.Next; after == "" {
					break
				}
				if p.total = max(p.total, done); done < p.total {
					p.step(done)
				}
			}
			p.total = done
			p.step(done)
			sc = state.SealCensus{} // decoding into a filled map would merge
			if err := c.call("GET", "/api/v1/keys", nil, &sc); err != nil {
				return err
			}
			printCensus(cmd.OutOrStdout(), sc)
			if n := sc.Old(); n > 0 {
				// Swaps are skipped for values that changed under the pass
				// (or that a lagging replica read before they changed).
				fmt.Fprintf(cmd.ErrOrStderr(), "%d values are still under an older generation; run keys reseal again\n", n)
			}
			return nil
		}}
	reseal.Flags().IntVar(&batch, "batch", state.MaxResealItems, fmt.Sprintf("values per command, 1..%d", state.MaxResealItems))
	for _, cmd := range []*cobra.Command{census, reseal} {
		addClientFlags(cmd, &c)
		keys.AddCommand(cmd)
	}
	return keys
}

// generationArg parses a key generation id.
func generationArg(s string) (byte, error) {
	id, err := strconv.ParseUint(s, 10, 8)
	if err != nil || id == 0 {
		return 0, errs.Invalid("id", "format", "generation id must be 1..255, got %q", s)
	}
	return byte(id), nil
}

func printCensus(w io.Writer, sc state.SealCensus) {
	count := func(m map[byte]int, name func(byte) string) string {
		gens := slices.Sorted(maps.Keys(m))
		parts := make([]string, len(gens))
		for i, g := range gens {
			parts[i] = fmt.Sprintf("%s: %d", name(g), m[g])
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	}
	gen := func(g byte) string { return fmt.Sprintf("generation %d", g) }
	index := func(g byte) string {
		if g == 0 {
			return "shared key"
		}
		return gen(g)
	}
	fmt.Fprintf(w, "current generation %d; sealed values: %s; ID-number indexes: %s; older generations: %d; handover offers waiting: %d; token hashes: %s (under older index keys: %d)\n",
		sc.Current, count(sc.Generations, gen), count(sc.Indexes, index), sc.Old(), sc.Waiting, count(sc.Tokens, index), sc.OldTokens())
}

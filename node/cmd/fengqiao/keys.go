package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/seal"
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
			if err := core.WriteNewKeyFile(out, seal.Suite(cipher)); err != nil {
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

  fengqiao keys add FILE      adds a generation (printed), not yet used for sealing;
                              copy FILE to every replica and restart them one by one
  fengqiao keys use FILE ID   seals new values with generation ID from now on;
                              copy FILE to every replica and restart them one by one

Every generation stays in the file: values sealed earlier are opened with theirs. The
blind-index key (exact lookup of ID numbers) is not rotated.`}
	keys.AddCommand(&cobra.Command{Use: "list FILE", Short: "List the generations in FILE (never key material)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := core.KeyFileInfo(args[0])
			if err != nil {
				return err
			}
			ids := make([]string, len(info.IDs))
			for i, id := range info.IDs {
				ids[i] = strconv.Itoa(int(id))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cipher %s, current generation %d, generations %s\n", info.Cipher, info.Current, strings.Join(ids, " "))
			return nil
		}})
	keys.AddCommand(&cobra.Command{Use: "add FILE", Short: "Add a fresh generation to FILE, not yet current", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := core.AddKey(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added generation %d to %s; copy it to every replica and restart them, then run: fengqiao keys use %s %d\n", id, args[0], args[0], id)
			return nil
		}})
	keys.AddCommand(&cobra.Command{Use: "use FILE ID", Short: "Seal new values with generation ID", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[1], 10, 8)
			if err != nil {
				return errs.Invalid("id", "format", "generation id must be 1..255, got %q", args[1])
			}
			if err := core.UseKey(args[0], byte(id)); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "generation %d is current in %s; copy it to every replica and restart them\n", id, args[0])
			return nil
		}})
	return keys
}

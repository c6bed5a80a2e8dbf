package node

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/fengqiao/fengqiao/core/keyfile"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
)

// watchKeyFile reads the key file again when it changes and hands the new
// keyring to the stores, so the steps of a rotation (keys add, use, remove)
// take effect without a restart. A file that cannot be used (garbled, or of
// another cipher) is reported once and the keys in use stay.
func watchKeyFile(ctx context.Context, path string, loaded []byte, suite string, every time.Duration, log *slog.Logger, stores ...*core.Store) {
	last := loaded // the contents the stores' keyring came from
	var bad []byte
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			raw = []byte(err.Error()) // reported once, like bad contents
		}
		if bytes.Equal(raw, last) || bytes.Equal(raw, bad) {
			continue
		}
		var kr *seal.Keyring
		if err == nil {
			kr, err = keyfile.Parse(path, raw)
		}
		if err == nil && string(kr.Suite()) != suite {
			err = fmt.Errorf("node: key file %s changed its cipher from %s to %s", path, suite, kr.Suite())
		}
		if err != nil {
			bad = raw
			log.Warn("key file changed but cannot be used; keeping the keys in use", "err", err)
			continue
		}
		last, bad = raw, nil
		was, _ := stores[0].SealingGeneration()
		for _, s := range stores {
			s.SetKeyring(kr)
		}
		log.Info("sealing keys reloaded", "cipher", kr.Suite(), "current", kr.KeyID(), "generations", kr.Generations())
		if was != kr.KeyID() {
			// A key rotation is an audit record (this replica's, as each
			// replica's file changes on its own).
			ev := state.AuditEvent{Kind: state.AuditKeyRotation, Detail: fmt.Sprintf("sealing generation %d to %d; index key generation %d; %d generations held", was, kr.KeyID(), kr.IndexGeneration(), kr.Generations())}
			if err := stores[len(stores)-1].Audit.Record(core.WithActor(ctx, "key-file"), ev); err != nil {
				log.Warn("the key rotation could not be audited", "err", err)
			}
		}
	}
}

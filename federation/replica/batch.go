package replica

import "encoding/binary"

// batchMagic opens a log entry that carries several commands. A replicated
// proposer packs the commands of concurrent callers into one entry, so Raft
// stores, ships and commits one entry where it would handle hundreds; each
// command is still applied, isolated and audited on its own. The byte can
// start neither a command envelope nor a JSON text.
const BatchMagic = 0xF2

// MaxBatchCommands bounds the commands in one batch entry.
const MaxBatchCommands = 1 << 14

// EncodeBatch packs encoded commands into one log entry: the magic, a
// uvarint count, then each command with a uvarint length.
func EncodeBatch(cmds [][]byte) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, c := range cmds {
		n += binary.MaxVarintLen64 + len(c)
	}
	b := make([]byte, 0, n)
	b = append(b, BatchMagic)
	b = binary.AppendUvarint(b, uint64(len(cmds)))
	for _, c := range cmds {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	return b
}

// SplitBatch returns the commands of a batch entry, and false for any other
// entry, including a malformed batch: the caller then applies the data as
// one command, which apply rejects, the same way on every replica. The
// commands alias data.
func SplitBatch(data []byte) ([][]byte, bool) {
	if len(data) == 0 || data[0] != BatchMagic {
		return nil, false
	}
	b := data[1:]
	n, w := binary.Uvarint(b)
	if w <= 0 || n < 1 || n > MaxBatchCommands {
		return nil, false
	}
	b = b[w:]
	cmds := make([][]byte, 0, n)
	for i := uint64(0); i < n; i++ {
		l, w := binary.Uvarint(b)
		if w <= 0 || l > uint64(len(b)-w) {
			return nil, false
		}
		b = b[w:]
		cmds = append(cmds, b[:l:l])
		b = b[l:]
	}
	return cmds, len(b) == 0
}

package raftstore

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Entry layout: version(1) index(8) term(8) type(1) appendedAt(8, UnixNano,
// 0 for zero) len(data)(uvarint) data len(ext)(uvarint) ext.
const codecVersion = 1

func encode(l *raft.Log) []byte {
	b := make([]byte, 0, 26+2*binary.MaxVarintLen64+len(l.Data)+len(l.Extensions))
	b = append(b, codecVersion)
	b = binary.BigEndian.AppendUint64(b, l.Index)
	b = binary.BigEndian.AppendUint64(b, l.Term)
	b = append(b, byte(l.Type))
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	b = binary.BigEndian.AppendUint64(b, uint64(at))
	b = binary.AppendUvarint(b, uint64(len(l.Data)))
	b = append(b, l.Data...)
	b = binary.AppendUvarint(b, uint64(len(l.Extensions)))
	return append(b, l.Extensions...)
}

func decode(v []byte, l *raft.Log) error {
	if len(v) < 26 || v[0] != codecVersion {
		return fmt.Errorf("%w: %d bytes, version %d", ErrCorrupt, len(v), firstByte(v))
	}
	l.Index = binary.BigEndian.Uint64(v[1:])
	l.Term = binary.BigEndian.Uint64(v[9:])
	l.Type = raft.LogType(v[17])
	l.AppendedAt = time.Time{}
	if at := int64(binary.BigEndian.Uint64(v[18:])); at != 0 {
		l.AppendedAt = time.Unix(0, at)
	}
	rest := v[26:]
	data, rest, err := chunk(rest)
	if err != nil {
		return err
	}
	ext, rest, err := chunk(rest)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(rest))
	}
	// Copy out: bbolt's memory is only valid inside the transaction.
	l.Data = cloneOrNil(data)
	l.Extensions = cloneOrNil(ext)
	return nil
}

func chunk(b []byte) ([]byte, []byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, nil, fmt.Errorf("%w: bad length", ErrCorrupt)
	}
	return b[w : w+int(n)], b[w+int(n):], nil
}

func cloneOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

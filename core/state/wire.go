package state

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

var errWire = errors.New("truncated or malformed binary record")

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrs(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendStr(b, s)
	}
	return b
}

func appendInt(b []byte, v int) []byte { return binary.AppendVarint(b, int64(v)) }

func appendFloat(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendTime keeps the instant and the zone offset, which is what a JSON
// round trip keeps: a decoded time is UTC, or a fixed zone with the same
// offset. The zero time encodes as one byte so that omitted fields stay zero.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	_, off := t.Zone()
	if off == 0 {
		b = append(b, 1)
	} else {
		b = append(b, 2)
		b = binary.AppendVarint(b, int64(off))
	}
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// wireReader reads what the append functions wrote. The first failure
// sticks: later reads return zero values, and bad (or done) tells the caller
// once, at the end.
type wireReader struct {
	b   []byte
	bad bool
}

// advance consumes n bytes of a varint read (n <= 0: malformed) and
// returns its value, or zero once the reader is bad.
func advance[T uint64 | int64](r *wireReader, v T, n int) T {
	if r.bad || n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *wireReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	return advance(r, v, n)
}

func (r *wireReader) varint() int64 {
	v, n := binary.Varint(r.b)
	return advance(r, v, n)
}

func (r *wireReader) byte() byte {
	if r.bad || len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wireReader) str() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *wireReader) strs() []string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) { // each string takes at least a byte
		r.bad = true
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func (r *wireReader) int() int {
	v := r.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.bad = true
		return 0
	}
	return int(v)
}

func (r *wireReader) float() float64 {
	if r.bad || len(r.b) < 8 {
		r.bad = true
		return 0
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *wireReader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.bad = true
	return false
}

func (r *wireReader) time() time.Time {
	var zone *time.Location
	switch r.byte() {
	case 0:
		return time.Time{}
	case 1:
		zone = time.UTC
	case 2:
		off := r.varint()
		if off == 0 || off <= -24*3600 || off >= 24*3600 {
			r.bad = true
			return time.Time{}
		}
		zone = time.FixedZone("", int(off))
	default:
		r.bad = true
		return time.Time{}
	}
	sec := r.varint()
	ns := r.uvarint()
	if r.bad || ns >= 1e9 {
		r.bad = true
		return time.Time{}
	}
	return time.Unix(sec, int64(ns)).In(zone)
}

// done reports whether everything was read and nothing is left over.
func (r *wireReader) done() bool { return !r.bad && len(r.b) == 0 }

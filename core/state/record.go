package state

import (
	"encoding/json"
	"fmt"

	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/model"
)

// Records are JSON unless their type has a binary form (recordCodec). Every
// replica writes an event on every report and action, and encoding it as
// JSON cost more than the bbolt writes around it; binary records start with
// recordMagic, which no JSON text does, so both forms read back.
const (
	recordMagic   = 0xF1
	recordFormat1 = 1
)

// appendBinary appends v's binary form in format f, if its type has one.
func appendBinary(b []byte, v any, f byte) ([]byte, bool) {
	switch x := v.(type) {
	case *model.Event:
		if f == recordFormat2 {
			return appendEvent2(b, x), true
		}
		return appendEvent(b, x), true
	case *model.Report:
		if f == recordFormat2 {
			return appendReport2(b, x), true
		}
		return appendReport(b, x), true
	case *model.Jurisdiction:
		if f == recordFormat2 {
			return appendJurisdiction2(b, x), true
		}
		return appendJurisdiction(b, x), true
	}
	return b, false
}

// readBinary reads v's binary form in format f; false when its type has none.
func readBinary(r *wireReader, v any, f byte) bool {
	switch x := v.(type) {
	case *model.Event:
		if f == recordFormat2 {
			readEvent2(r, x)
		} else {
			readEvent(r, x)
		}
	case *model.Report:
		if f == recordFormat2 {
			readReport2(r, x)
		} else {
			readReport(r, x)
		}
	case *model.Jurisdiction:
		if f == recordFormat2 {
			readJurisdiction2(r, x)
		} else {
			readJurisdiction(r, x)
		}
	default:
		return false
	}
	return true
}

// EncodeRecord returns the stored form of v as this binary writes it
// (RuleLevel).
func EncodeRecord(v any) ([]byte, error) { return encodeRecordAt(v, RuleLevel) }

// encodeRecordAt returns the stored form of v as a command of rule level
// writes it: binary records in format 2 from LevelRecords, in format 1
// below it, so a replayed old entry writes the bytes it first wrote.
func encodeRecordAt(v any, level int) ([]byte, error) {
	f := byte(recordFormat1)
	if level >= LevelRecords {
		f = recordFormat2
	}
	// Most records fit 256 bytes: one allocation, not one per doubling.
	if b, ok := appendBinary(append(make([]byte, 0, 256), recordMagic, f), v, f); ok {
		return b, nil
	}
	return json.Marshal(v)
}

// decodeRecord reads a stored record into v, binary (either format) or JSON.
func decodeRecord(raw []byte, v any) error {
	if len(raw) > 0 && raw[0] == recordMagic {
		if len(raw) < 2 || raw[1] < recordFormat1 || raw[1] > recordFormat2 {
			return fmt.Errorf("binary %T record in an unknown format", v)
		}
		r := wireReader{b: raw[2:]}
		if !readBinary(&r, v, raw[1]) {
			return fmt.Errorf("binary record where a %T was expected", v)
		}
		if !r.done() {
			return fmt.Errorf("%T: %w", v, errWire)
		}
		return nil
	}
	return json.Unmarshal(raw, v)
}

func appendEvent(b []byte, e *model.Event) []byte {
	b = appendStr(b, e.ID)
	b = appendStr(b, string(e.Status))
	b = appendStr(b, string(e.Prior))
	b = appendStr(b, e.Source)
	b = appendStr(b, e.Category)
	b = appendStr(b, e.Urgency)
	b = appendPoint(b, e.Location)
	b = appendStr(b, e.Grid)
	b = appendStr(b, e.Jurisdiction)
	b = appendStr(b, e.Reporter)
	b = appendStr(b, e.Description)
	b = appendStrs(b, e.Attachments)
	b = appendTime(b, e.ReportedAt)
	b = appendStr(b, e.ReportedBy)
	b = appendTime(b, e.AcceptBy)
	b = appendTime(b, e.Deadline)
	b = appendTime(b, e.AcceptedAt)
	b = appendStr(b, e.Handler)
	b = appendInt(b, e.Supervised)
	b = appendStr(b, e.Origin)
	b = appendStr(b, e.EscalatedTo)
	b = appendInt(b, e.Priority)
	b = appendBool(b, e.Overdue)
	b = appendTime(b, e.SuspendedAt)
	b = appendStr(b, e.MergedInto)
	b = appendStrs(b, e.Merged)
	b = appendStr(b, e.Satisfaction)
	b = appendTime(b, e.ClosedAt)
	b = appendStr(b, e.Period)
	return appendInt(b, e.Rev)
}

func readEvent(r *wireReader, e *model.Event) {
	e.ID = r.str()
	e.Status = model.Status(r.str())
	e.Prior = model.Status(r.str())
	e.Source = r.str()
	e.Category = r.str()
	e.Urgency = r.str()
	e.Location = r.point()
	e.Grid = r.str()
	e.Jurisdiction = r.str()
	e.Reporter = r.str()
	e.Description = r.str()
	e.Attachments = r.strs()
	e.ReportedAt = r.time()
	e.ReportedBy = r.str()
	e.AcceptBy = r.time()
	e.Deadline = r.time()
	e.AcceptedAt = r.time()
	e.Handler = r.str()
	e.Supervised = r.int()
	e.Origin = r.str()
	e.EscalatedTo = r.str()
	e.Priority = r.int()
	e.Overdue = r.bool()
	e.SuspendedAt = r.time()
	e.MergedInto = r.str()
	e.Merged = r.strs()
	e.Satisfaction = r.str()
	e.ClosedAt = r.time()
	e.Period = r.str()
	e.Rev = r.int()
}

// A report is the payload of most commands a busy group applies.
func appendReport(b []byte, p *model.Report) []byte {
	b = appendStr(b, p.Category)
	b = appendStr(b, p.Urgency)
	b = appendStr(b, p.Source)
	b = appendStr(b, p.Description)
	b = appendPoint(b, p.Location)
	b = appendStr(b, p.Grid)
	b = appendStr(b, p.Jurisdiction)
	b = appendStr(b, p.Reporter)
	return appendStrs(b, p.Attachments)
}

func readReport(r *wireReader, p *model.Report) {
	p.Category = r.str()
	p.Urgency = r.str()
	p.Source = r.str()
	p.Description = r.str()
	p.Location = r.point()
	p.Grid = r.str()
	p.Jurisdiction = r.str()
	p.Reporter = r.str()
	p.Attachments = r.strs()
}

// Every report loads its division, so divisions are binary too.
func appendJurisdiction(b []byte, j *model.Jurisdiction) []byte {
	b = appendStr(b, j.Code)
	b = appendStr(b, j.Name)
	b = appendStr(b, j.Parent)
	b = appendStr(b, string(j.Tier))
	b = appendBool(b, j.HasBounds)
	return appendBool(b, j.Derived)
}

func readJurisdiction(r *wireReader, j *model.Jurisdiction) {
	j.Code = r.str()
	j.Name = r.str()
	j.Parent = r.str()
	j.Tier = divisions.Tier(r.str())
	j.HasBounds = r.bool()
	j.Derived = r.bool()
}

func appendPoint(b []byte, p *model.Point) []byte {
	b = appendBool(b, p != nil)
	if p != nil {
		b = appendFloat(b, p.Lng)
		b = appendFloat(b, p.Lat)
	}
	return b
}

func (r *wireReader) point() *model.Point {
	if !r.bool() {
		return nil
	}
	return &model.Point{Lng: r.float(), Lat: r.float()}
}

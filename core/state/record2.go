package state

import (
	"encoding/binary"
	"encoding/json"
	"slices"
	"time"

	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/model"
)

// Record format 2: numbered fields instead of positions. Each field is its
// number, the length of its value and the value in format 1's encoding;
// fields holding their zero value are left out. A reader skips a number it
// does not know, so a field can be added without a new format, and a
// record's extension map (Ext) carries what plugins and optional features
// add without any code here knowing it. Field numbers are never reused.
const recordFormat2 = 2

// fields appends numbered fields to a record. Each value is staged in tmp
// when its length is not known before it is encoded (no closures: this runs
// for every event written).
type fields struct {
	b   []byte
	tmp []byte
}

// put appends field n holding v.
func (w *fields) put(n uint64, v []byte) {
	w.b = binary.AppendUvarint(w.b, n)
	w.b = binary.AppendUvarint(w.b, uint64(len(v)))
	w.b = append(w.b, v...)
}

func (w *fields) str(n uint64, s string) {
	if s != "" {
		w.b = binary.AppendUvarint(w.b, n)
		w.b = binary.AppendUvarint(w.b, uint64(len(s)))
		w.b = append(w.b, s...)
	}
}

func (w *fields) strs(n uint64, ss []string) {
	if len(ss) > 0 {
		w.tmp = appendStrs(w.tmp[:0], ss)
		w.put(n, w.tmp)
	}
}

func (w *fields) int(n uint64, v int) {
	if v != 0 {
		w.tmp = appendInt(w.tmp[:0], v)
		w.put(n, w.tmp)
	}
}

func (w *fields) bool(n uint64, v bool) {
	if v {
		w.put(n, []byte{1})
	}
}

func (w *fields) time(n uint64, t time.Time) {
	if !t.IsZero() {
		w.tmp = appendTime(w.tmp[:0], t)
		w.put(n, w.tmp)
	}
}

func (w *fields) point(n uint64, p *model.Point) {
	if p != nil {
		w.tmp = appendFloat(appendFloat(w.tmp[:0], p.Lng), p.Lat)
		w.put(n, w.tmp)
	}
}

// ext appends an extension map, keys in order so the bytes are the same on
// every replica.
func (w *fields) ext(n uint64, m map[string]json.RawMessage) {
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.tmp = binary.AppendUvarint(w.tmp[:0], uint64(len(keys)))
	for _, k := range keys {
		w.tmp = appendStr(appendStr(w.tmp, k), string(m[k]))
	}
	w.put(n, w.tmp)
}

// eachField calls fn with each field's number and a reader of its value;
// fn reports whether it knew the number. An unknown field is skipped. A
// value fn leaves unread, or reads past, marks r bad.
func eachField(r *wireReader, fn func(n uint64, v *wireReader) bool) {
	for len(r.b) > 0 && !r.bad {
		n := r.uvarint()
		size := r.uvarint()
		if r.bad || size > uint64(len(r.b)) {
			r.bad = true
			return
		}
		v := wireReader{b: r.b[:size]}
		r.b = r.b[size:]
		if fn(n, &v) && !v.done() {
			r.bad = true
		}
	}
}

func (r *wireReader) rest() string {
	s := string(r.b)
	r.b = nil
	return s
}

func (r *wireReader) ext() map[string]json.RawMessage {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	m := make(map[string]json.RawMessage, n)
	for i := uint64(0); i < n && !r.bad; i++ {
		k := r.str()
		m[k] = json.RawMessage(r.str())
	}
	return m
}

// Field numbers of an event record.
const (
	evID = iota + 1
	evStatus
	evPrior
	evSource
	evCategory
	evUrgency
	evLocation
	evGrid
	evJurisdiction
	evReporter
	evDescription
	evAttachments
	evReportedAt
	evReportedBy
	evAcceptBy
	evDeadline
	evAcceptedAt
	evHandler
	evSupervised
	evOrigin
	evEscalatedTo
	evPriority
	evOverdue
	evSuspendedAt
	evMergedInto
	evMerged
	evSatisfaction
	evClosedAt
	evPeriod
	evRev
	evExt
	evPhoneMasked
	evPhoneSealed
	evContactTime
	evEmailMasked
	evEmailSealed
	evReporterSealed
)

func appendEvent2(b []byte, e *model.Event) []byte {
	var tmp [64]byte
	w := fields{b: b, tmp: tmp[:0]}
	w.str(evID, e.ID)
	w.str(evStatus, string(e.Status))
	w.str(evPrior, string(e.Prior))
	w.str(evSource, e.Source)
	w.str(evCategory, e.Category)
	w.str(evUrgency, e.Urgency)
	w.point(evLocation, e.Location)
	w.str(evGrid, e.Grid)
	w.str(evJurisdiction, e.Jurisdiction)
	w.str(evReporter, e.Reporter)
	w.str(evDescription, e.Description)
	w.strs(evAttachments, e.Attachments)
	w.time(evReportedAt, e.ReportedAt)
	w.str(evReportedBy, e.ReportedBy)
	w.time(evAcceptBy, e.AcceptBy)
	w.time(evDeadline, e.Deadline)
	w.time(evAcceptedAt, e.AcceptedAt)
	w.str(evHandler, e.Handler)
	w.int(evSupervised, e.Supervised)
	w.str(evOrigin, e.Origin)
	w.str(evEscalatedTo, e.EscalatedTo)
	w.int(evPriority, e.Priority)
	w.bool(evOverdue, e.Overdue)
	w.time(evSuspendedAt, e.SuspendedAt)
	w.str(evMergedInto, e.MergedInto)
	w.strs(evMerged, e.Merged)
	w.str(evSatisfaction, e.Satisfaction)
	w.time(evClosedAt, e.ClosedAt)
	w.str(evPeriod, e.Period)
	w.int(evRev, e.Rev)
	w.ext(evExt, e.Ext)
	w.str(evPhoneMasked, e.PhoneMasked)
	w.str(evPhoneSealed, e.PhoneSealed)
	w.str(evContactTime, e.ContactTime)
	w.str(evEmailMasked, e.EmailMasked)
	w.str(evEmailSealed, e.EmailSealed)
	w.str(evReporterSealed, e.ReporterSealed)
	return w.b
}

func readEvent2(r *wireReader, e *model.Event) {
	eachField(r, func(n uint64, v *wireReader) bool {
		switch n {
		case evID:
			e.ID = v.rest()
		case evStatus:
			e.Status = model.Status(v.rest())
		case evPrior:
			e.Prior = model.Status(v.rest())
		case evSource:
			e.Source = v.rest()
		case evCategory:
			e.Category = v.rest()
		case evUrgency:
			e.Urgency = v.rest()
		case evLocation:
			e.Location = &model.Point{Lng: v.float(), Lat: v.float()}
		case evGrid:
			e.Grid = v.rest()
		case evJurisdiction:
			e.Jurisdiction = v.rest()
		case evReporter:
			e.Reporter = v.rest()
		case evDescription:
			e.Description = v.rest()
		case evAttachments:
			e.Attachments = v.strs()
		case evReportedAt:
			e.ReportedAt = v.time()
		case evReportedBy:
			e.ReportedBy = v.rest()
		case evAcceptBy:
			e.AcceptBy = v.time()
		case evDeadline:
			e.Deadline = v.time()
		case evAcceptedAt:
			e.AcceptedAt = v.time()
		case evHandler:
			e.Handler = v.rest()
		case evSupervised:
			e.Supervised = v.int()
		case evOrigin:
			e.Origin = v.rest()
		case evEscalatedTo:
			e.EscalatedTo = v.rest()
		case evPriority:
			e.Priority = v.int()
		case evOverdue:
			e.Overdue = v.bool()
		case evSuspendedAt:
			e.SuspendedAt = v.time()
		case evMergedInto:
			e.MergedInto = v.rest()
		case evMerged:
			e.Merged = v.strs()
		case evSatisfaction:
			e.Satisfaction = v.rest()
		case evClosedAt:
			e.ClosedAt = v.time()
		case evPeriod:
			e.Period = v.rest()
		case evRev:
			e.Rev = v.int()
		case evExt:
			e.Ext = v.ext()
		case evPhoneMasked:
			e.PhoneMasked = v.rest()
		case evPhoneSealed:
			e.PhoneSealed = v.rest()
		case evContactTime:
			e.ContactTime = v.rest()
		case evEmailMasked:
			e.EmailMasked = v.rest()
		case evEmailSealed:
			e.EmailSealed = v.rest()
		case evReporterSealed:
			e.ReporterSealed = v.rest()
		default:
			return false
		}
		return true
	})
}

// Field numbers of a report.
const (
	rpCategory = iota + 1
	rpUrgency
	rpSource
	rpDescription
	rpLocation
	rpGrid
	rpJurisdiction
	rpReporter
	rpAttachments
	rpExt
	rpPhoneMasked
	rpPhoneSealed
	rpContactTime
	rpEmailMasked
	rpEmailSealed
	rpReporterSealed
)

func appendReport2(b []byte, p *model.Report) []byte {
	var tmp [64]byte
	w := fields{b: b, tmp: tmp[:0]}
	w.str(rpCategory, p.Category)
	w.str(rpUrgency, p.Urgency)
	w.str(rpSource, p.Source)
	w.str(rpDescription, p.Description)
	w.point(rpLocation, p.Location)
	w.str(rpGrid, p.Grid)
	w.str(rpJurisdiction, p.Jurisdiction)
	w.str(rpReporter, p.Reporter)
	w.strs(rpAttachments, p.Attachments)
	w.ext(rpExt, p.Ext)
	w.str(rpPhoneMasked, p.PhoneMasked)
	w.str(rpPhoneSealed, p.PhoneSealed)
	w.str(rpContactTime, p.ContactTime)
	w.str(rpEmailMasked, p.EmailMasked)
	w.str(rpEmailSealed, p.EmailSealed)
	w.str(rpReporterSealed, p.ReporterSealed)
	return w.b
}

func readReport2(r *wireReader, p *model.Report) {
	eachField(r, func(n uint64, v *wireReader) bool {
		switch n {
		case rpCategory:
			p.Category = v.rest()
		case rpUrgency:
			p.Urgency = v.rest()
		case rpSource:
			p.Source = v.rest()
		case rpDescription:
			p.Description = v.rest()
		case rpLocation:
			p.Location = &model.Point{Lng: v.float(), Lat: v.float()}
		case rpGrid:
			p.Grid = v.rest()
		case rpJurisdiction:
			p.Jurisdiction = v.rest()
		case rpReporter:
			p.Reporter = v.rest()
		case rpAttachments:
			p.Attachments = v.strs()
		case rpExt:
			p.Ext = v.ext()
		case rpPhoneMasked:
			p.PhoneMasked = v.rest()
		case rpPhoneSealed:
			p.PhoneSealed = v.rest()
		case rpContactTime:
			p.ContactTime = v.rest()
		case rpEmailMasked:
			p.EmailMasked = v.rest()
		case rpEmailSealed:
			p.EmailSealed = v.rest()
		case rpReporterSealed:
			p.ReporterSealed = v.rest()
		default:
			return false
		}
		return true
	})
}

// Field numbers of a jurisdiction.
const (
	jrCode = iota + 1
	jrName
	jrParent
	jrTier
	jrHasBounds
	jrDerived
)

func appendJurisdiction2(b []byte, j *model.Jurisdiction) []byte {
	var tmp [64]byte
	w := fields{b: b, tmp: tmp[:0]}
	w.str(jrCode, j.Code)
	w.str(jrName, j.Name)
	w.str(jrParent, j.Parent)
	w.str(jrTier, string(j.Tier))
	w.bool(jrHasBounds, j.HasBounds)
	w.bool(jrDerived, j.Derived)
	return w.b
}

func readJurisdiction2(r *wireReader, j *model.Jurisdiction) {
	eachField(r, func(n uint64, v *wireReader) bool {
		switch n {
		case jrCode:
			j.Code = v.rest()
		case jrName:
			j.Name = v.rest()
		case jrParent:
			j.Parent = v.rest()
		case jrTier:
			j.Tier = divisions.Tier(v.rest())
		case jrHasBounds:
			j.HasBounds = v.bool()
		case jrDerived:
			j.Derived = v.bool()
		default:
			return false
		}
		return true
	})
}

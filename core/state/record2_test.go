package state

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
)

// fill sets every exported field of the struct v points to a value that is
// not its zero, different per field, so a field the codec forgets shows.
func fill(t *testing.T, v reflect.Value, seed *int) {
	t.Helper()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		*seed++
		n := *seed
		switch f.Kind() {
		case reflect.String:
			f.SetString(fmt.Sprint("v", n))
		case reflect.Int, reflect.Int64:
			if f.Type() == reflect.TypeOf(time.Duration(0)) {
				f.SetInt(int64(n) * int64(time.Second))
			} else {
				f.SetInt(int64(n))
			}
		case reflect.Uint64, reflect.Uint32, reflect.Uint8:
			f.SetUint(uint64(n))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Float64:
			f.SetFloat(float64(n) + 0.5)
		case reflect.Slice:
			switch f.Type().Elem().Kind() {
			case reflect.String:
				f.Set(reflect.ValueOf([]string{fmt.Sprint("a", n), fmt.Sprint("b", n)}).Convert(f.Type()))
			case reflect.Uint8:
				f.SetBytes([]byte(fmt.Sprint(`"b`, n, `"`)))
			default:
				e := reflect.New(f.Type().Elem()).Elem()
				if e.Kind() == reflect.Struct {
					fill(t, e, seed)
				}
				f.Set(reflect.Append(reflect.MakeSlice(f.Type(), 0, 1), e))
			}
		case reflect.Map:
			m := reflect.MakeMap(f.Type())
			val := reflect.New(f.Type().Elem()).Elem()
			switch val.Kind() {
			case reflect.Slice: // json.RawMessage
				val.SetBytes([]byte(fmt.Sprint(`{"n":`, n, `}`)))
			case reflect.String:
				val.SetString(fmt.Sprint("m", n))
			case reflect.Struct:
				val.Set(reflect.ValueOf(time.Date(2026, 2, 1+n%28, 0, 0, 0, 0, time.UTC)))
			case reflect.Int, reflect.Int64:
				val.SetInt(int64(n))
			case reflect.Array:
				for j := 0; j < val.Len(); j++ {
					val.Index(j).SetInt(int64(n + j))
				}
			default:
				t.Fatalf("fill: map of %s", val.Kind())
			}
			m.SetMapIndex(reflect.ValueOf(fmt.Sprint("k", n)).Convert(f.Type().Key()), val)
			f.Set(m)
		case reflect.Pointer:
			p := reflect.New(f.Type().Elem())
			if p.Elem().Kind() == reflect.Struct {
				if p.Elem().Type() == reflect.TypeOf(time.Time{}) {
					p.Elem().Set(reflect.ValueOf(time.Date(2026, 1, 1+n%28, 0, 0, n, 0, time.UTC)))
				} else {
					fill(t, p.Elem(), seed)
				}
			} else if p.Elem().Kind() == reflect.Int {
				p.Elem().SetInt(int64(n % 5))
			}
			f.Set(p)
		case reflect.Struct:
			if f.Type() == reflect.TypeOf(time.Time{}) {
				f.Set(reflect.ValueOf(time.Date(2026, 1, 1+n%28, 1, 0, n, 0, time.UTC)))
			} else {
				fill(t, f, seed)
			}
		case reflect.Array:
			for j := 0; j < f.Len(); j++ {
				f.Index(j).SetInt(int64(n + j))
			}
		default:
			t.Fatalf("fill: %s field %s", f.Kind(), v.Type().Field(i).Name)
		}
	}
}

// Every field of a type with a binary record survives format 2; a field
// added to the type without a number in record2.go fails here. Format 1
// keeps every field it had (it never carried Ext or the reporter's contact).
func TestRecordFormat2RoundTripsEveryField(t *testing.T) {
	for _, v := range []any{&model.Event{}, &model.Report{}, &model.Jurisdiction{}} {
		seed := 0
		fill(t, reflect.ValueOf(v).Elem(), &seed)
		if r, ok := v.(*model.Report); ok {
			r.Phone, r.Email = "", "" // never encoded: the service seals them and clears them before proposing
		}
		raw, err := encodeRecordAt(v, LevelRecords)
		if err != nil || raw[0] != recordMagic || raw[1] != recordFormat2 {
			t.Fatalf("%T: %x %v", v, raw[:2], err)
		}
		got := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := decodeRecord(raw, got); err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("%T lost a field in format 2:\n got  %+v\n want %+v", v, got, v)
		}
		old, _ := encodeRecordAt(v, LevelFeed)
		if old[1] != recordFormat1 {
			t.Fatalf("%T: level %d wrote format %d", v, LevelFeed, old[1])
		}
		got1 := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := decodeRecord(old, got1); err != nil {
			t.Fatal(err)
		}
		want1 := reflect.New(reflect.TypeOf(v).Elem())
		want1.Elem().Set(reflect.ValueOf(v).Elem())
		for _, name := range []string{"Ext", "PhoneMasked", "PhoneSealed", "ContactTime", "EmailMasked", "EmailSealed", "ReporterSealed"} { // added after format 1
			if f := want1.Elem().FieldByName(name); f.IsValid() {
				f.Set(reflect.Zero(f.Type()))
			}
		}
		if !reflect.DeepEqual(got1, want1.Interface()) {
			t.Fatalf("%T lost a field in format 1", v)
		}
	}
}

// Every type stored as JSON keeps every field through a round trip: none
// is tagged away.
func TestJSONRecordsRoundTripEveryField(t *testing.T) {
	for _, v := range []any{&model.Grid{}, &model.Worker{}, &model.Org{}, &model.Member{}, &model.Activity{}, &model.House{},
		&model.Person{}, &model.Visit{}, &model.Case{}, &model.CaseEntry{}, &model.Handover{}, &model.Token{}, &model.Category{},
		&model.Link{}, &model.Rollup{}, &model.Witness{}, &model.Refusal{}, &model.Message{}} {
		seed := 0
		fill(t, reflect.ValueOf(v).Elem(), &seed)
		raw, err := EncodeRecord(v)
		if err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		got := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := decodeRecord(raw, got); err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		a, _ := json.Marshal(got)
		if !reflect.DeepEqual(got, v) && string(a) != string(raw) {
			t.Fatalf("%T lost a field:\n got  %s\n want %s", v, a, raw)
		}
	}
}

// A reader skips a field number it does not know: a record written by a
// later binary with one more field still reads.
func TestRecordFormat2SkipsUnknownFields(t *testing.T) {
	ev := &model.Event{ID: "500110001-20261124-000001", Status: model.StatusReported, Rev: 1, Description: "新字段"}
	raw, _ := encodeRecordAt(ev, LevelRecords)
	w := fields{b: raw}
	w.str(999, "from the future")
	w.str(evGrid, "500110001001001") // and a known one after it
	var got model.Event
	if err := decodeRecord(w.b, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != ev.ID || got.Description != ev.Description || got.Grid != "500110001001001" {
		t.Fatalf("%+v", got)
	}
	for _, bad := range [][]byte{append(raw[:len(raw):len(raw)], 7), append(raw[:len(raw):len(raw)], 7, 9, 1)} {
		if err := decodeRecord(bad, &got); err == nil {
			t.Fatalf("a truncated field decoded: %x", bad)
		}
	}
	// A long value takes a longer length prefix.
	long := &model.Event{Description: string(make([]byte, 300))}
	raw, _ = encodeRecordAt(long, LevelRecords)
	var back model.Event
	if err := decodeRecord(raw, &back); err != nil || back.Description != long.Description {
		t.Fatalf("a 300-byte field: %v", err)
	}
}

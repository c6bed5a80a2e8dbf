package api

import (
	"reflect"
	"sync"
	"time"

	"github.com/fengqiao/fengqiao/core/workcal"
)

// Times in answers are given in China Standard Time (+08:00), the time a
// 综治中心 works in; the instant is the same one the store keeps in UTC.
// inCST returns a copy of v with every time.Time in it shown in CST; the
// value itself (perhaps shared with a cache) is left as it is. Zero times
// stay as they are.
func inCST(v any) any {
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	if !holdsTime(rv.Type()) {
		return v
	}
	return cstValue(rv).Interface()
}

func cstValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			if t := v.Interface().(time.Time); !t.IsZero() {
				return reflect.ValueOf(t.In(workcal.CST))
			}
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if f := out.Field(i); f.CanSet() && holdsTime(f.Type()) {
				f.Set(cstValue(v.Field(i)))
			}
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(cstValue(v.Elem()))
		return p
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		if v.Kind() == reflect.Slice {
			out = reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		}
		for i := range v.Len() {
			out.Index(i).Set(cstValue(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), cstValue(it.Value()))
		}
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(cstValue(v.Elem()))
		return out
	}
	return v
}

// holdsTime reports whether a value of type t can hold a time.Time, so the
// walk skips what cannot (most of an answer). Interfaces may hold anything.
func holdsTime(t reflect.Type) bool {
	if v, ok := timeTypes.Load(t); ok {
		return v.(bool)
	}
	timeTypes.Store(t, false) // a recursive type meets itself as false
	has := false
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			has = true
			break
		}
		for i := range t.NumField() {
			if t.Field(i).IsExported() && holdsTime(t.Field(i).Type) {
				has = true
				break
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		has = holdsTime(t.Elem())
	case reflect.Interface:
		has = true
	}
	timeTypes.Store(t, has)
	return has
}

var timeTypes sync.Map // reflect.Type → bool

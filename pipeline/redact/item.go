package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// Item masks, in place, every free-text field of it: Title, Summary,
// Origin.URI, Origin.NativeID, every string and map key anywhere inside
// Facts, every Link's Rel and Item, and every Tag's Reason. It merges what
// it masked into it.Redactions (one record per rule, counts added, sorted
// by rule; never the value) and also returns it.
//
// Facts are walked through map[string]any, []any, []string,
// map[string]string and string; numbers, booleans and times are left
// alone; any other value is walked in its JSON form (the form the store
// writes), and replaced by that form only if something in it was masked.
// When masking makes two map keys equal, the later (in sorted order) gets
// a " #2", " #3", … suffix, so no fact is lost. Lists are masked in place;
// a map with something to mask is replaced by a masked copy, and one with
// nothing is kept as it is (a nil map becomes an empty one, as the store
// writes {} for it).
//
// Masking an item twice changes nothing more and counts nothing more.
// Artefact names, IDs, source names and tag KSBs are not touched: they come
// from configuration or are derived, not free text.
func (r *Redactor) Item(it *evidence.Item) Counts {
	c := Counts{}
	str := func(p *string) { *p, _ = r.mask(*p, c) }
	str(&it.Title)
	str(&it.Summary)
	str(&it.Origin.URI)
	str(&it.Origin.NativeID)
	if it.Facts != nil {
		it.Facts, _ = r.mapAny(it.Facts, c)
	}
	for i := range it.Links {
		str(&it.Links[i].Rel)
		str(&it.Links[i].Item)
	}
	for i := range it.Tags {
		str(&it.Tags[i].Reason)
	}
	if len(c) > 0 {
		it.Redactions = merge(it.Redactions, c)
	}
	return c
}

// merge adds c to the records rs, giving one record per rule, sorted.
func merge(rs []evidence.Redaction, c Counts) []evidence.Redaction {
	all := Counts{}
	for _, r := range rs {
		all[r.Rule] += r.Count
	}
	all.Add(c)
	return all.Redactions()
}

// value masks the strings in a fact value. It returns the value to store
// and whether that is a new one; lists are masked in place (and are not
// new), and a value that needs no masking is returned as it is.
func (r *Redactor) value(v any, c Counts) (any, bool) {
	switch x := v.(type) {
	case nil, bool, json.Number, time.Time, time.Duration:
		return v, false
	case string:
		if s, ok := r.mask(x, c); ok {
			return s, true
		}
		return v, false
	case []any:
		for i := range x {
			if nv, ok := r.value(x[i], c); ok {
				x[i] = nv
			}
		}
		return v, false
	case []string:
		for i := range x {
			x[i], _ = r.mask(x[i], c)
		}
		return v, false
	case map[string]any:
		return r.mapAny(x, c)
	case map[string]string:
		return r.mapString(x, c)
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return v, false
	}
	return r.viaJSON(v, c)
}

// viaJSON masks any other value in its JSON form. If nothing in it is a
// secret the value is kept as it is; otherwise the masked JSON form
// replaces it. A value that cannot be marshalled is kept: the store cannot
// write it either, and says so.
func (r *Redactor) viaJSON(v any, c Counts) (any, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return v, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return v, false
	}
	local := Counts{}
	g, _ = r.value(g, local)
	if len(local) == 0 {
		return v, false
	}
	c.Add(local)
	return g, true
}

// mapAny masks the keys and values of m (see maskMap).
func (r *Redactor) mapAny(m map[string]any, c Counts) (map[string]any, bool) {
	return maskMap(r, m, c, r.value)
}

// mapString masks the keys and values of m (see maskMap).
func (r *Redactor) mapString(m map[string]string, c Counts) (map[string]string, bool) {
	return maskMap(r, m, c, r.mask)
}

// maskMap masks the keys of m and, with val, its values. When nothing in
// it needs masking it returns m itself (and false); otherwise a new map
// (and true), leaving m as it was but for lists in it, which val masks in
// place. A nil map gives a new empty one, as the store writes {} for it.
func maskMap[V any](r *Redactor, m map[string]V, c Counts, val func(V, Counts) (V, bool)) (map[string]V, bool) {
	if m == nil {
		return map[string]V{}, true
	}
	var out map[string]V // a copy of m, once some value is new
	for k, v := range m {
		nv, ok := val(v, c)
		if !ok {
			continue
		}
		if out == nil {
			out = maps.Clone(m)
		}
		out[k] = nv
	}
	newKeys := keys(r, m, c)
	if newKeys == nil {
		if out == nil {
			return m, false
		}
		return out, true
	}
	if out == nil {
		out = m
	}
	named := make(map[string]V, len(m))
	for k, v := range out {
		named[newKeys[k]] = v
	}
	return named, true
}

// keys masks the keys of m and returns old → new, keeping new keys
// distinct: unchanged keys keep their names, changed keys that collide get
// a " #n" suffix, in sorted order. It returns nil when no key changes.
func keys[V any](r *Redactor, m map[string]V, c Counts) map[string]string {
	var out map[string]string
	var changed []string
	for k := range m {
		nk, ok := r.mask(k, c)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(m))
		}
		out[k] = nk
		changed = append(changed, k)
	}
	if out == nil {
		return nil
	}
	used := make(map[string]bool, len(m))
	for k := range m {
		if _, ok := out[k]; !ok {
			out[k] = k
			used[k] = true
		}
	}
	sort.Strings(changed)
	for _, k := range changed {
		nk := out[k]
		for i := 2; used[nk]; i++ {
			// The space keeps the suffix out of a masked value; should
			// the suffixed key still match a rule, mask that too, so the
			// key is a fixed point.
			nk, _ = r.mask(fmt.Sprintf("%s #%d", out[k], i), c)
		}
		out[k] = nk
		used[nk] = true
	}
	return out
}

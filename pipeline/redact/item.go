package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
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
// a " #2", " #3", … suffix, so no fact is lost.
//
// Masking an item twice changes nothing more and counts nothing more.
// Artefact names, IDs, source names and tag KSBs are not touched: they come
// from configuration or are derived, not free text.
func (r *Redactor) Item(it *evidence.Item) Counts {
	c := Counts{}
	str := func(p *string) {
		s, n := r.String(*p)
		*p = s
		c.Add(n)
	}
	str(&it.Title)
	str(&it.Summary)
	str(&it.Origin.URI)
	str(&it.Origin.NativeID)
	if it.Facts != nil {
		it.Facts = r.mapAny(it.Facts, c)
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

// value masks the strings in a fact value, returning the value to store.
func (r *Redactor) value(v any, c Counts) any {
	switch x := v.(type) {
	case nil, bool, json.Number, time.Time, time.Duration:
		return v
	case string:
		s, n := r.String(x)
		c.Add(n)
		return s
	case []any:
		for i := range x {
			x[i] = r.value(x[i], c)
		}
		return x
	case []string:
		for i := range x {
			s, n := r.String(x[i])
			c.Add(n)
			x[i] = s
		}
		return x
	case map[string]any:
		return r.mapAny(x, c)
	case map[string]string:
		return r.mapString(x, c)
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return v
	}
	return r.viaJSON(v, c)
}

// viaJSON masks any other value in its JSON form. If nothing in it is a
// secret the value is kept as it is; otherwise the masked JSON form
// replaces it. A value that cannot be marshalled is kept: the store cannot
// write it either, and says so.
func (r *Redactor) viaJSON(v any, c Counts) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return v
	}
	local := Counts{}
	g = r.value(g, local)
	if len(local) == 0 {
		return v
	}
	c.Add(local)
	return g
}

func (r *Redactor) mapAny(m map[string]any, c Counts) map[string]any {
	newKeys := keys(r, m, c)
	out := make(map[string]any, len(m))
	for _, k := range sortedKeys(m) {
		out[newKeys[k]] = r.value(m[k], c)
	}
	return out
}

func (r *Redactor) mapString(m map[string]string, c Counts) map[string]string {
	newKeys := keys(r, m, c)
	out := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		s, n := r.String(m[k])
		c.Add(n)
		out[newKeys[k]] = s
	}
	return out
}

// keys masks the keys of m and returns old → new, keeping new keys
// distinct: unchanged keys keep their names, changed keys that collide get
// a " #n" suffix, in sorted order.
func keys[V any](r *Redactor, m map[string]V, c Counts) map[string]string {
	out := make(map[string]string, len(m))
	used := make(map[string]bool, len(m))
	var changed []string
	for k := range m {
		nk, n := r.String(k)
		if len(n) == 0 {
			out[k] = k
			used[k] = true
			continue
		}
		c.Add(n)
		out[k] = nk
		changed = append(changed, k)
	}
	sort.Strings(changed)
	for _, k := range changed {
		nk := out[k]
		for i := 2; used[nk]; i++ {
			// The space keeps the suffix out of a masked value; should
			// the suffixed key still match a rule, mask that too, so the
			// key is a fixed point.
			nk = fmt.Sprintf("%s #%d", out[k], i)
			if s, n := r.String(nk); len(n) > 0 {
				c.Add(n)
				nk = s
			}
		}
		out[k] = nk
		used[nk] = true
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

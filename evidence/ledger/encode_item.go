package ledger

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// maxFactDepth bounds how deep appendFact follows nested facts before it
// gives the item to encode: encoding/json detects a cycle (a map that
// holds itself) where recursion here would exhaust the stack.
const maxFactDepth = 100

// encodeItem returns the encoding of it: the bytes encode(it) returns,
// written by hand, without reflection and without a compact copy to
// indent. An item it cannot encode alone (an error, such as a time outside
// RFC 3339's years or a NaN fact, or facts nested deeper than
// maxFactDepth) goes to encode, so that the bytes and the error are
// encoding/json's. The result is valid until e is used again or put back.
func (e *encoder) encodeItem(it *evidence.Item) ([]byte, error) {
	out, ok := e.appendItem(e.out[:0], it)
	if !ok {
		e.out = out[:0]
		return e.encode(it)
	}
	e.out = append(out, '\n')
	return e.out, nil
}

// appendItem appends it as json.MarshalIndent(it, "", "  ") would; ok
// false if it has a value appendItem leaves to encoding/json.
func (e *encoder) appendItem(b []byte, it *evidence.Item) (_ []byte, ok bool) {
	b = append(b, "{\n  \"schema\": "...)
	b = strconv.AppendInt(b, int64(it.Schema), 10)
	b = appendMember(b, 1, "id", it.ID)
	b = appendMember(b, 1, "apprentice", it.Apprentice)
	b = appendMember(b, 1, "source", it.Source)
	b = appendMember(b, 1, "source_type", it.SourceType)
	b = appendMember(b, 1, "kind", string(it.Kind))
	b = appendMember(b, 1, "title", it.Title)
	b = appendMember(b, 1, "summary", it.Summary)
	b = append(b, ",\n  \"occurred_at\": "...)
	if b, ok = appendTime(b, it.OccurredAt); !ok {
		return b, false
	}
	b = append(b, ",\n  \"collected_at\": "...)
	if b, ok = appendTime(b, it.CollectedAt); !ok {
		return b, false
	}
	b = append(b, ",\n  \"origin\": {"...)
	b = appendField(b, 2, "uri")
	b = appendString(b, it.Origin.URI)
	b = appendMember(b, 2, "native_id", it.Origin.NativeID)
	b = append(b, "\n  },\n  \"facts\": "...)
	if b, ok = e.appendFacts(b, it.Facts, 1); !ok {
		return b, false
	}

	b = append(b, ",\n  \"artefacts\": "...)
	b = appendArray(b, it.Artefacts, func(b []byte, a evidence.Artefact) []byte {
		b = appendField(b, 3, "name")
		b = appendString(b, a.Name)
		b = appendMember(b, 3, "sha256", a.SHA256)
		b = appendField(append(b, ','), 3, "size")
		b = strconv.AppendInt(b, a.Size, 10)
		return appendMember(b, 3, "media_type", a.MediaType)
	})

	b = append(b, ",\n  \"tags\": "...)
	for _, t := range it.Tags {
		if !finite(t.Confidence) {
			return b, false
		}
	}
	b = appendArray(b, it.Tags, func(b []byte, t evidence.Tag) []byte {
		b = appendField(b, 3, "ksb")
		b = appendString(b, t.KSB)
		b = appendMember(b, 3, "by", t.By)
		b = appendField(append(b, ','), 3, "confidence")
		b = appendFloat(b, t.Confidence)
		b = appendMember(b, 3, "reason", t.Reason)
		b = appendMember(b, 3, "catalogue", t.Catalogue)
		if t.Revision != "" { // omitempty
			b = appendMember(b, 3, "catalogue_revision", t.Revision)
		}
		return b
	})

	b = append(b, ",\n  \"links\": "...)
	b = appendArray(b, it.Links, func(b []byte, l evidence.Link) []byte {
		b = appendField(b, 3, "rel")
		b = appendString(b, l.Rel)
		return appendMember(b, 3, "item", l.Item)
	})

	b = append(b, ",\n  \"redactions\": "...)
	b = appendArray(b, it.Redactions, func(b []byte, r evidence.Redaction) []byte {
		b = appendField(b, 3, "rule")
		b = appendString(b, r.Rule)
		b = appendField(append(b, ','), 3, "count")
		return strconv.AppendInt(b, int64(r.Count), 10)
	})
	return append(b, "\n}"...), true
}

// appendArray appends the array of structs s, a member of the item (depth
// 1): null if nil, [] if empty, otherwise each element as an object at
// depth 2 whose members elem appends at depth 3, the first without a
// comma before it.
func appendArray[T any](b []byte, s []T, elem func([]byte, T) []byte) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	if len(s) == 0 {
		return append(b, "[]"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    {"...)
		b = elem(b, v)
		b = append(b, "\n    }"...)
	}
	return append(b, "\n  ]"...)
}

// appendList appends the list v of facts at depth, each element by elem
// (at depth+1); ok false if elem leaves one to encoding/json.
func appendList[T any](b []byte, v []T, depth int, elem func([]byte, T) ([]byte, bool)) (_ []byte, ok bool) {
	if v == nil {
		return append(b, "null"...), true
	}
	if len(v) == 0 {
		return append(b, "[]"...), true
	}
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = newline(b, depth+1)
		if b, ok = elem(b, x); !ok {
			return b, false
		}
	}
	b = newline(b, depth)
	return append(b, ']'), true
}

// appendField appends a member's name on a new line at depth, up to its
// value: `\n<indent>"name": `. The name must need no escaping.
func appendField(b []byte, depth int, name string) []byte {
	b = newline(b, depth)
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':', ' ')
}

// appendMember appends a string member that follows another: a comma,
// then the member on a new line at depth.
func appendMember(b []byte, depth int, name, value string) []byte {
	b = append(b, ',')
	b = appendField(b, depth, name)
	return appendString(b, value)
}

// appendTime appends t as its MarshalJSON does; ok false if that is an
// error (a year outside 0..9999, a zone offset of 24 hours or more).
func appendTime(b []byte, t time.Time) (_ []byte, ok bool) {
	out, err := t.AppendText(append(b, '"'))
	if err != nil {
		return b, false // out is nil
	}
	return append(out, '"'), true
}

// appendFacts appends the map m as a value at depth: null if nil, {} if
// empty, otherwise its members sorted by key, each on its own line at
// depth+1. ok false if a value is left to encoding/json.
func (e *encoder) appendFacts(b []byte, m map[string]any, depth int) (_ []byte, ok bool) {
	if m == nil {
		return append(b, "null"...), true
	}
	if len(m) == 0 {
		return append(b, "{}"...), true
	}
	// The keys of every map being written are a stack in e.keys: those of
	// m are e.keys[start:end], and nested maps push theirs above.
	start := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	end := len(e.keys)
	slices.Sort(e.keys[start:end])
	defer func() {
		clear(e.keys[start:end]) // hold no item's strings in the pool
		e.keys = e.keys[:start]
	}()
	b = append(b, '{')
	for i := start; i < end; i++ {
		if i > start {
			b = append(b, ',')
		}
		k := e.keys[i]
		b = newline(b, depth+1)
		b = appendString(b, k)
		b = append(b, ':', ' ')
		if b, ok = e.appendFact(b, m[k], depth+1); !ok {
			return b, false
		}
	}
	b = newline(b, depth)
	return append(b, '}'), true
}

// appendFact appends the fact value v at depth as encoding/json would
// (indented): the types collectors use directly, any other through
// json.Marshal. ok false if v is left to encoding/json: an error, or
// nesting deeper than maxFactDepth.
func (e *encoder) appendFact(b []byte, v any, depth int) (_ []byte, ok bool) {
	if depth > maxFactDepth {
		return b, false
	}
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendString(b, v), true
	case bool:
		return strconv.AppendBool(b, v), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case float64:
		if !finite(v) {
			return b, false
		}
		return appendFloat(b, v), true
	case map[string]any:
		return e.appendFacts(b, v, depth)
	case []any:
		return appendList(b, v, depth, func(b []byte, x any) ([]byte, bool) { return e.appendFact(b, x, depth+1) })
	case []string:
		return appendList(b, v, depth, func(b []byte, x string) ([]byte, bool) { return appendString(b, x), true })
	}
	compact, err := json.Marshal(v)
	if err != nil {
		return b, false
	}
	return indent(b, compact, depth), true
}

func finite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }

// appendFloat appends the finite f as encoding/json writes a float64: as
// ECMAScript formats a number, 'f' form unless the exponent is below -6
// or at least 21, and an exponent without a leading zero.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString appends s quoted as encoding/json quotes it by default:
// `"` and `\` escaped; \b, \f, \n, \r and \t as such; other control
// characters and <, > and & as \u00XX; U+2028 and U+2029 as \u2028 and
// \u2029; each byte of invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	const (
		hex = "0123456789abcdef"
		// The ASCII bytes copied as they are, a bit each, as in
		// encoding/json's htmlSafeSet: of bytes 0..63, in safeLow, all but
		// control characters, ", &, < and >; of 64..127, in safeHigh, all
		// but \\.
		safeLow  = 0xffffffff_00000000 &^ (1<<'"' | 1<<'&' | 1<<'<' | 1<<'>')
		safeHigh = ^uint64(0) &^ (1 << ('\\' - 64))
	)
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			set := uint64(safeLow)
			if c >= 64 {
				set = safeHigh
			}
			if set>>(c&63)&1 != 0 {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

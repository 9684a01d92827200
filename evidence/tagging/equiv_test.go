package tagging

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// textMayMatch reports whether the text expression with prefilter p can
// match: false only when p rules it out. It is the plain test, one rule
// and one literal at a time, that ruleTextMayMatch (one literals.scan for
// every rule) stands for.
func (in *matchInput) textMayMatch(p prefilter) bool {
	if p == nil {
		return true
	}
	return !in.getLower() || p.admits(in.lower)
}

// admits reports whether lower (lower-cased ASCII text) holds one of the
// literals, with the word boundaries it needs.
func (p prefilter) admits(lower string) bool {
	for _, l := range p {
		if !l.before && !l.after {
			if strings.Contains(lower, l.s) {
				return true
			}
			continue
		}
		for off := 0; off <= len(lower); {
			i := strings.Index(lower[off:], l.s)
			if i < 0 {
				break
			}
			i += off
			if (!l.before || boundary(lower, i)) && (!l.after || boundary(lower, i+len(l.s))) {
				return true
			}
			off = i + 1
		}
	}
	return false
}

// renderFact gives a string as it is and anything else as json.Marshal's
// bytes, for the shapes facts take and strings that need escaping.
func FuzzRenderFact(f *testing.F) {
	for _, s := range []string{"ci_cd", "", "a<b", "x&y", `q"uote`, `back\slash`, "tab\t", "é", "\u2028", "\xff", "~ok"} {
		f.Add(s, int64(-3))
	}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		values := []any{s, n, int(n), n%2 == 0, nil, []any{s, n, true, nil}, []string{s, s}, []any{[]any{s}, []string{}},
			[]any(nil), []string(nil), []any{}, []any{float64(n) / 3}, map[string]any{"k": s}}
		for _, v := range values {
			want := s
			if _, ok := v.(string); !ok {
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				want = string(b)
			}
			if got := renderFact(v); got != want {
				t.Fatalf("renderFact(%#v) = %q, want %q", v, got, want)
			}
		}
	})
}

// sortTags orders tags as sorting them stably with CompareKSB and By
// does, for tags of the catalogue's KSBs and any others.
func FuzzSortTags(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 200, 201, 7, 7, 9, 250, 1, 0})
	f.Add([]byte{255, 254, 253, 3, 3, 3})
	long := make([]byte, 90) // more tags than the insertion sort takes
	for i := range long {
		long[i] = byte(i * 37 % 7 * 41)
	}
	f.Add(long)
	f.Add([]byte{5, 1, 5, 0, 5, 2, 5, 3, 5, 0, 220, 1, 220, 0, 210, 2, 210, 1})
	tg := builtinTagger(f)
	ids := sortedKeys(tg.known)
	odd := []string{"K99", "S01", "S1", "B0", "x", "", "K", "S1000", "declared", "k5"}
	bys := []string{"rule:a", "rule:b", "declared:trailer", ""}
	f.Fuzz(func(t *testing.T, data []byte) {
		var tags []evidence.Tag
		for i := 0; i+1 < len(data); i += 2 {
			k := ids[int(data[i])%len(ids)]
			if data[i] >= 200 {
				k = odd[int(data[i])%len(odd)]
			}
			tags = append(tags, evidence.Tag{KSB: k, By: bys[int(data[i+1])%len(bys)], Reason: fmt.Sprint(i)})
		}
		want := slices.Clone(tags)
		sort.SliceStable(want, func(i, j int) bool {
			if c := CompareKSB(want[i].KSB, want[j].KSB); c != 0 {
				return c < 0
			}
			return want[i].By < want[j].By
		})
		tg.sortTags(tags)
		if !slices.Equal(tags, want) {
			t.Fatalf("sortTags gave\n%v\nwant\n%v", tags, want)
		}
	})
}

// lookupFact's short cut for a plain key gives what walking the facts
// with reflect gives, for values of every kind (pointers too).
func TestLookupFactShortCut(t *testing.T) {
	str, n := "x", 3
	facts := map[string]any{"s": "v", "b": true, "i": 2, "i64": int64(4), "f": 1.5, "num": json.Number("7"), "l": []any{"a"},
		"ls": []string{"a"}, "m": map[string]any{"k": 1}, "nil": nil, "ps": &str, "pi": &n, "pnil": (*int)(nil),
		"ms": map[string]string{"k": "v"}, "u8": uint8(1), "a.b": "dotted", "a": map[string]any{"b": "nested"}}
	keys := []string{"s", "b", "i", "i64", "f", "num", "l", "ls", "m", "nil", "ps", "pi", "pnil", "ms", "u8", "a.b", "a", "missing", ""}
	for _, k := range keys {
		segs := []string{k}
		got, gok := lookupFact(facts, segs)
		want, wok := lookup(reflect.ValueOf(facts), segs, 0)
		if gok != wok || !reflect.DeepEqual(got, want) || renderFact(got) != renderFact(want) {
			t.Errorf("lookupFact(%q) = %#v, %v; walking gives %#v, %v", k, got, gok, want, wok)
		}
	}
}

package redact

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// The engine and Item take short cuts (run only the detectors whose
// keywords occur; keep a map that needs no masking); the references below
// are the plain algorithms they stand for, and the fuzz tests check that
// both give the same answers.

// referenceHits finds the keywords of x in s by trying every keyword at
// every place, the longer first at one place.
func referenceHits(x *keywordIndex, s string) []hit {
	var hits []hit
	for i := 0; i+1 < len(s); i++ {
		var here []hit
		for w, k := range x.words {
			if len(s)-i < len(k.text) {
				continue
			}
			if k.fold && equalLower(s[i:i+len(k.text)], k.text) || !k.fold && s[i:i+len(k.text)] == k.text {
				here = append(here, hit{i, w, len(k.text)})
			}
		}
		sort.SliceStable(here, func(a, b int) bool { return here[a].n > here[b].n })
		hits = append(hits, here...)
	}
	return hits
}

// referenceCandidates runs every detector of every rule, in order.
func referenceCandidates(r *Redactor, s string) []span {
	hits := referenceHits(&r.kw, s)
	var spans []span
	for ri := range r.rules {
		for di := range r.rules[ri].dets {
			d := &r.rules[ri].dets[di]
			if len(d.keywords) > 0 && len(hits) == 0 {
				continue
			}
			spans = d.find(s, hits, r.detKw[ri][di], ri, spans)
		}
	}
	if len(spans) == 0 {
		return nil
	}
	return dropMasked(s, spans, func(ri int) bool {
		return len(r.rules[ri].dets) > 0 && r.rules[ri].dets[0].configured
	})
}

func fuzzRedactor(tb testing.TB) *Redactor {
	tb.Helper()
	r, err := New(Options{AllowedEmails: []string{"jane@corp.example"},
		Patterns: []Pattern{{Name: "corp-host", Regex: `[a-z]+\.corp\.example`}, {Name: "greedy", Regex: `RED(ACT)ED`}}})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// FuzzCandidates: the keyword index finds what trying every keyword
// everywhere finds, and candidates finds what running every detector finds.
func FuzzCandidates(f *testing.F) {
	for _, tc := range ruleCases {
		f.Add(tc.in)
	}
	for _, p := range plantable {
		f.Add("x " + p.line + "\nPASSWORD=aB3dE6gH9 " + m("aws-key"))
	}
	f.Add(plantedLog())
	f.Add("ghp_ AKIA eyJ :// curl -u password= token: Bearer authorization: bob@example.org host.corp.example REDACTED")
	r := fuzzRedactor(f)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := r.kw.scan(s), referenceHits(&r.kw, s); !slices.Equal(got, want) {
			t.Fatalf("scan(%q) = %v, want %v", s, got, want)
		}
		if got, want := r.candidates(s), referenceCandidates(r, s); !slices.Equal(got, want) {
			t.Fatalf("candidates(%q) = %v, want %v", s, got, want)
		}
	})
}

// referenceItem is Item as first written: every map copied, every key
// masked and sorted, String for every string.
func referenceItem(r *Redactor, it *evidence.Item) Counts {
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
		it.Facts = refMapAny(r, it.Facts, c)
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

func refValue(r *Redactor, v any, c Counts) any {
	switch x := v.(type) {
	case string:
		s, n := r.String(x)
		c.Add(n)
		return s
	case []any:
		for i := range x {
			x[i] = refValue(r, x[i], c)
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
		return refMapAny(r, x, c)
	case map[string]string:
		newKeys := refKeys(r, x, c)
		out := make(map[string]string, len(x))
		for _, k := range sortedKeys(x) {
			s, n := r.String(x[k])
			c.Add(n)
			out[newKeys[k]] = s
		}
		return out
	}
	// Numbers, times and structs: as Item does (the fuzz items hold
	// structs, which take the JSON way).
	nv, _ := r.value(v, c)
	return nv
}

func refMapAny(r *Redactor, m map[string]any, c Counts) map[string]any {
	newKeys := refKeys(r, m, c)
	out := make(map[string]any, len(m))
	for _, k := range sortedKeys(m) {
		out[newKeys[k]] = refValue(r, m[k], c)
	}
	return out
}

func refKeys[V any](r *Redactor, m map[string]V, c Counts) map[string]string {
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

// randomItem builds an item from seed and text: strings made of text and
// of pieces that are secrets, addresses, masks or plain words; facts of
// every shape Item walks, nested, with keys that collide once masked, nil
// maps and shared lists.
func randomItem(seed uint64, text string) evidence.Item {
	rng := rand.New(rand.NewPCG(seed, 1))
	pieces := []string{text, "", "fine", "src/train.py", "password=aaa111", "password=bbb222", "jane@corp.example",
		"bob@example.org", "GH_TOKEN=" + ghToken, m("email"), "password=" + m("url-password"), "token=", "host.corp.example",
		"RED", "ACTED", sha, awsSecret, "\n", " #2", "curl -u ci:hunter22 https://x"}
	str := func() string {
		var b strings.Builder
		for range rng.IntN(4) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	var val func(depth int) any
	val = func(depth int) any {
		switch n := rng.IntN(12); {
		case n < 4 || depth > 2:
			return str()
		case n == 4:
			return rng.IntN(1000)
		case n == 5:
			return []string{str(), str()}
		case n == 6:
			l := make([]any, rng.IntN(4))
			for i := range l {
				l[i] = val(depth + 1)
			}
			return l
		case n == 7:
			m := map[string]string{}
			for range rng.IntN(4) {
				m[str()] = str()
			}
			return m
		case n == 8:
			if rng.IntN(3) == 0 {
				return map[string]any(nil)
			}
			return map[string]string(nil)
		case n == 9:
			return runInfo{Name: str(), Params: map[string]string{str(): str()}}
		default:
			m := map[string]any{}
			for range rng.IntN(5) {
				m[str()] = val(depth + 1)
			}
			return m
		}
	}
	facts := map[string]any{}
	for range rng.IntN(8) {
		facts[str()] = val(0)
	}
	if rng.IntN(4) == 0 {
		shared := []any{str(), str()}
		facts["a"], facts["b"] = shared, shared
	}
	it := evidence.Item{Title: str(), Summary: str(), Origin: evidence.Origin{URI: str(), NativeID: str()}, Facts: facts,
		Links: []evidence.Link{{Rel: str(), Item: str()}}, Tags: []evidence.Tag{{KSB: "S10", Reason: str()}}}
	if rng.IntN(3) == 0 {
		it.Facts = nil
	}
	if rng.IntN(3) == 0 {
		it.Redactions = []evidence.Redaction{{Rule: "email", Count: 2}}
	}
	return it
}

// cloneDeep copies every map and list in v, so that two redactions of an
// item each get their own; lists shared in v are shared in the copy.
func cloneDeep(v any, seen map[*any]any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneDeep(e, seen)
		}
		return out
	case []any:
		if len(x) > 0 {
			if c, ok := seen[&x[0]]; ok {
				return c
			}
		}
		out := make([]any, len(x))
		if len(x) > 0 {
			seen[&x[0]] = out
		}
		for i, e := range x {
			out[i] = cloneDeep(e, seen)
		}
		return out
	case []string:
		return slices.Clone(x)
	case map[string]string:
		if x == nil {
			return x
		}
		out := make(map[string]string, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out
	}
	return v
}

func cloneWhole(it evidence.Item) evidence.Item {
	if it.Facts != nil {
		it.Facts = cloneDeep(it.Facts, map[*any]any{}).(map[string]any)
	}
	it.Links = slices.Clone(it.Links)
	it.Tags = slices.Clone(it.Tags)
	it.Redactions = slices.Clone(it.Redactions)
	return it
}

// FuzzItem: Item gives the item and the counts referenceItem gives.
func FuzzItem(f *testing.F) {
	for i, tc := range ruleCases {
		f.Add(uint64(i), tc.in)
	}
	f.Add(uint64(99), plantedLog())
	r := fuzzRedactor(f)
	f.Fuzz(func(t *testing.T, seed uint64, text string) {
		orig := randomItem(seed, text)
		want, got := cloneWhole(orig), cloneWhole(orig)
		wc := referenceItem(r, &want)
		gc := r.Item(&got)
		wj, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		gj, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if string(gj) != string(wj) || !reflect.DeepEqual(gc, wc) {
			t.Fatalf("Item:\n got %s %v\nwant %s %v", gj, gc, wj, wc)
		}
	})
}

// TestItemKeepsCleanMaps: a map with nothing to mask is kept as it is
// (no copy), one with something is replaced and left as it was.
func TestItemKeepsCleanMaps(t *testing.T) {
	r := mustNew(t, nil)
	clean := map[string]any{"path": "src/train.py", "insertions": 3}
	dirty := map[string]any{"path": "src/train.py", "note": "password=hunter2xyz"}
	it := evidence.Item{Facts: map[string]any{"files": []any{clean, dirty}}}
	top := it.Facts
	r.Item(&it)
	files := it.Facts["files"].([]any)
	if reflect.ValueOf(files[0]).Pointer() != reflect.ValueOf(clean).Pointer() {
		t.Errorf("clean map was copied")
	}
	if dirty["note"] != "password=hunter2xyz" || files[1].(map[string]any)["note"] != "password="+m("password-assignment") {
		t.Errorf("dirty map: input %v, stored %v", dirty, files[1])
	}
	if reflect.ValueOf(it.Facts).Pointer() != reflect.ValueOf(top).Pointer() {
		t.Errorf("facts with only a list masked in place were copied")
	}
	it = evidence.Item{Facts: map[string]any{"none": map[string]any(nil)}}
	r.Item(&it)
	if got, ok := it.Facts["none"].(map[string]any); !ok || got == nil {
		t.Errorf("nil map stored as %#v, want an empty map (the store writes {})", it.Facts["none"])
	}
}

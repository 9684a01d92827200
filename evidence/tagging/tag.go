package tagging

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// Tag re-tags it in place and returns warnings for the user.
//
// It drops the item's previous rule tags ("rule:…"), keeps every other tag
// (declared at the source, or anything else), and adds one tag per matching
// rule and KSB: {KSB, By: "rule:<id>", Confidence, Reason, Catalogue,
// Revision}. Every tag's Catalogue and Revision become the Tagger's
// catalogue's, and every KSB ID is
// normalised ("s10 " → "S10"). Tags with the same KSB and By are merged
// (the first is kept), and the result is sorted by KSB (K before S before
// B, then by number) and then By; Tags is never nil.
//
// A declared KSB that the catalogue lacks is kept, with a warning such as
// "declared KSB K99 is not in catalogue st1398-v1.0 (kept)"; the warnings
// are sorted and name each KSB once.
//
// Tag depends only on the item and the Tagger: the same input gives the
// same output. It is safe to call from several goroutines on different
// items.
func (t *Tagger) Tag(it *evidence.Item) []string {
	if it == nil {
		return nil
	}
	tags := make([]evidence.Tag, 0, len(it.Tags)+4)
	var warned map[string]bool
	var warnings []string
	for _, tg := range it.Tags {
		if tg.IsRule() {
			continue
		}
		tg.KSB = evidence.NormalizeKSB(tg.KSB)
		tg.Catalogue, tg.Revision = t.catalogue, t.revision
		if tg.IsDeclared() && !t.known[tg.KSB] && !warned[tg.KSB] {
			if warned == nil {
				warned = map[string]bool{}
			}
			warned[tg.KSB] = true
			id := tg.KSB
			if !evidence.LooksLikeKSB(id) {
				id = strconv.Quote(id)
			}
			warnings = append(warnings, fmt.Sprintf("declared KSB %s is not in catalogue %s (kept)", id, t.catalogue))
		}
		tags = append(tags, tg)
	}

	if len(t.rules) > 0 {
		in := matchInput{item: it, text: it.Title + "\n" + it.Summary, globs: t.globs, names: &t.globNames, literals: &t.literals}
		for i := range t.rules {
			r := &t.rules[i]
			if !r.matches(&in) {
				continue
			}
			for _, k := range r.ksbs {
				tags = append(tags, evidence.Tag{KSB: k, By: r.by, Confidence: r.confidence,
					Reason: r.reason, Catalogue: t.catalogue, Revision: t.revision})
			}
		}
	}

	t.sortTags(tags)
	out := tags[:0]
	for i, tg := range tags {
		if i > 0 && tg.KSB == out[len(out)-1].KSB && tg.By == out[len(out)-1].By {
			continue
		}
		out = append(out, tg)
	}
	it.Tags = out
	sort.Strings(warnings)
	return warnings
}

// sortTags sorts tags stably by KSB (CompareKSB), then By. The KSBs of
// the catalogue are compared by their place in it (Tagger.order), which
// CompareKSB gave at Compile; only others need CompareKSB itself.
func (t *Tagger) sortTags(tags []evidence.Tag) {
	ordOf := func(k string) int {
		if ord, ok := t.order[k]; ok {
			return ord
		}
		return -1
	}
	compare := func(a, b *evidence.Tag, oa, ob int) int {
		c := 0
		if oa >= 0 && ob >= 0 {
			c = cmp.Compare(oa, ob)
		} else {
			c = CompareKSB(a.KSB, b.KSB)
		}
		if c != 0 {
			return c
		}
		return strings.Compare(a.By, b.By)
	}
	const few = 16
	if len(tags) > few {
		slices.SortStableFunc(tags, func(a, b evidence.Tag) int { return compare(&a, &b, ordOf(a.KSB), ordOf(b.KSB)) })
		return
	}
	// Insertion sort (stable), each tag's place looked up once.
	var ords [few]int
	for i := range tags {
		ords[i] = ordOf(tags[i].KSB)
		for j := i; j > 0 && compare(&tags[j], &tags[j-1], ords[j], ords[j-1]) < 0; j-- {
			tags[j], tags[j-1] = tags[j-1], tags[j]
			ords[j], ords[j-1] = ords[j-1], ords[j]
		}
	}
}

// matchInput caches what several rules look at, so that each item is
// read once whatever the number of rules: its file paths, its text
// lower-cased for the prefilters, and which globs its paths match (each
// glob is tried on the paths at most once, however many rules name it).
type matchInput struct {
	item     *evidence.Item
	text     string
	paths    []string
	gotPaths bool

	lower     string // text lower-cased, if lowerOK
	lowerOK   bool   // text is ASCII, so the prefilters apply
	gotLower  bool
	globs     []glob
	names     *globNames // indexes globs; nil: every glob is tried
	globTried []uint64   // bit i: globs[i] tried on the paths
	globHit   []uint64   // bit i: globs[i] matches some path

	facts []renderedFact // the fact keys looked up so far

	literals *literals // all the rules' prefilter literals
	found    []uint64  // bit i: literals.lits[i] occurs in lower; nil until scanned
}

func (in *matchInput) filePaths() []string {
	if !in.gotPaths {
		in.paths = FilePaths(in.item.Facts)
		in.gotPaths = true
	}
	return in.paths
}

// getLower lower-cases the text once; false if it is not ASCII (then no
// prefilter applies).
func (in *matchInput) getLower() bool {
	if !in.gotLower {
		in.lower, in.lowerOK = asciiLower(in.text)
		in.gotLower = true
	}
	return in.lowerOK
}

// ruleTextMayMatch is textMayMatch(r.textFilter) (the reference, in
// equiv_test.go), from one scan of the text for every rule's literals.
func (in *matchInput) ruleTextMayMatch(r *compiled) bool {
	if r.textLits == nil || !in.getLower() {
		return true
	}
	return in.anyFound(r.textLits)
}

// anyFound reports whether one of the literals of set occurs in the
// text, which must be ASCII (getLower); an empty set: true.
func (in *matchInput) anyFound(set litSet) bool {
	if set == nil {
		return true
	}
	if in.found == nil {
		in.found = make([]uint64, in.literals.words())
		in.literals.scan(in.lower, in.found)
	}
	return set.any(in.found)
}

// textMatches reports whether r.text matches the text: by its parts whose
// prefilters admit the text when it is ASCII and r.text is split,
// otherwise whole; in either case only if ruleTextMayMatch.
func (in *matchInput) textMatches(r *compiled) bool {
	if !in.ruleTextMayMatch(r) {
		return false
	}
	if r.textParts == nil || !in.getLower() {
		return r.text.MatchString(in.text)
	}
	for i := range r.textParts {
		p := &r.textParts[i]
		if in.anyFound(p.lits) && p.match(in.text, in.lower) {
			return true
		}
	}
	return false
}

// globMatches reports whether globs[i] matches any of the item's paths.
func (in *matchInput) globMatches(i int) bool {
	if in.globTried == nil {
		words := (len(in.globs) + 63) / 64
		bits := make([]uint64, 2*words)
		in.globTried, in.globHit = bits[:words], bits[words:]
		// The globs indexed by name are decided at once.
		if in.names != nil && in.names.match(in.filePaths(), in.globHit) {
			copy(in.globTried, in.names.covered)
		}
	}
	w, bit := i/64, uint64(1)<<(i%64)
	if in.globTried[w]&bit == 0 {
		in.globTried[w] |= bit
		for _, p := range in.filePaths() {
			if in.globs[i].match(p) {
				in.globHit[w] |= bit
				break
			}
		}
	}
	return in.globHit[w]&bit != 0
}

func (r *compiled) matches(in *matchInput) bool {
	it := in.item
	if r.kinds != nil && !r.kinds[it.Kind] {
		return false
	}
	if r.sourceTypes != nil && !r.sourceTypes[it.SourceType] {
		return false
	}
	if len(r.paths) > 0 && !r.anyPath(in) {
		return false
	}
	if r.text != nil && !in.textMatches(r) {
		return false
	}
	for i := range r.facts {
		f := &r.facts[i]
		v, ok := in.fact(f)
		if !ok {
			return false
		}
		if f.literal {
			if !strings.Contains(v, f.lit) {
				return false
			}
		} else if !f.re.MatchString(v) {
			return false
		}
	}
	return true
}

// fact returns the rendered value of the fact f names (renderFact), and
// whether the item has it, looking each key up once per item however many
// rules name it.
func (in *matchInput) fact(f *factCond) (string, bool) {
	for i := range in.facts {
		if in.facts[i].key == f.key {
			return in.facts[i].value, in.facts[i].ok
		}
	}
	v, ok := lookupFact(in.item.Facts, f.segs)
	r := renderedFact{key: f.key, ok: ok}
	if ok {
		r.value = renderFact(v)
	}
	in.facts = append(in.facts, r)
	return r.value, r.ok
}

// renderedFact is one fact key's rendered value for an item.
type renderedFact struct {
	key   string
	value string
	ok    bool
}

func (r *compiled) anyPath(in *matchInput) bool {
	for _, g := range r.paths {
		if in.globMatches(g) {
			return true
		}
	}
	return false
}

// FilePaths returns the "path" of every entry of facts["files"], in order.
// It accepts the shapes a collector builds ([]map[string]any,
// []map[string]string, []string) and the one a JSON round trip gives
// ([]any of map[string]any). Entries without a string path are skipped; a
// leading "./" is removed.
func FilePaths(facts map[string]any) []string {
	var out []string
	addPath := func(v any) {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, strings.TrimPrefix(s, "./"))
		}
	}
	switch files := facts["files"].(type) {
	case []any:
		for _, f := range files {
			switch e := f.(type) {
			case map[string]any:
				addPath(e["path"])
			case map[string]string:
				addPath(e["path"])
			case string:
				addPath(e)
			}
		}
	case []map[string]any:
		for _, e := range files {
			addPath(e["path"])
		}
	case []map[string]string:
		for _, e := range files {
			addPath(e["path"])
		}
	case []string:
		for _, e := range files {
			addPath(e)
		}
	}
	return out
}

// lookupFact follows a dotted path into facts. At each level it tries the
// longest run of segments first, so a fact key that itself holds dots
// ("metrics" → "val.loss") is found by "metrics.val.loss". Maps with string
// keys of any value type are walked, and a number segment indexes a list.
func lookupFact(facts map[string]any, segs []string) (any, bool) {
	if len(segs) == 1 {
		// A plain key and a value that is not a pointer (which lookup
		// would follow): the map lookup is lookup's answer.
		v, ok := facts[segs[0]]
		if !ok {
			return nil, false
		}
		switch v.(type) {
		case nil, string, bool, int, int64, float64, json.Number, []any, []string, map[string]any:
			return v, true
		}
	}
	return lookup(reflect.ValueOf(facts), segs, 0)
}

func lookup(v reflect.Value, segs []string, depth int) (any, bool) {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			break
		}
		v = v.Elem()
	}
	if len(segs) == 0 {
		if !v.IsValid() {
			return nil, true // a JSON null: the key exists
		}
		return v.Interface(), true
	}
	if depth > 32 || !v.IsValid() {
		return nil, false
	}
	switch v.Kind() {
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil, false
		}
		for n := len(segs); n >= 1; n-- {
			key := reflect.ValueOf(strings.Join(segs[:n], ".")).Convert(v.Type().Key())
			child := v.MapIndex(key)
			if !child.IsValid() {
				continue
			}
			if got, ok := lookup(child, segs[n:], depth+1); ok {
				return got, true
			}
		}
	case reflect.Slice, reflect.Array:
		i, err := strconv.Atoi(segs[0])
		if err != nil || i < 0 || i >= v.Len() {
			return nil, false
		}
		return lookup(v.Index(i), segs[1:], depth+1)
	}
	return nil, false
}

// renderFact renders a fact value for a facts condition: a string as it
// is, anything else as its JSON (so 3, 3.0 and json's float64(3) all read
// "3", and true reads "true").
func renderFact(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// CompareKSB orders KSB IDs naturally (see evidence.CompareKSB).
func CompareKSB(a, b string) int { return evidence.CompareKSB(a, b) }

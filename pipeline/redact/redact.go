package redact

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// Pattern is one configured detector (config key redact.patterns): a rule
// name and an RE2 regular expression. See the package documentation for
// which part of a match is masked.
type Pattern struct {
	Name  string `yaml:"name" json:"name"`
	Regex string `yaml:"regex" json:"regex"`
}

// SecretGroup is the name of the capture group a configured pattern may use
// to say which part of its match is the secret.
const SecretGroup = "secret"

var (
	// namePattern is what a rule name must look like: it appears inside
	// masks and redaction records.
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,40}$`)
)

// Mask returns the text that replaces a secret found by rule.
func Mask(rule string) string { return "[REDACTED:" + rule + "]" }

// Counts says how many secrets each rule masked.
type Counts map[string]int

// Add adds every count of o to c.
func (c Counts) Add(o Counts) {
	for k, v := range o {
		c[k] += v
	}
}

// Total is the number of secrets masked, whatever the rule.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Redactions returns one record per rule with a non-zero count, sorted by
// rule name. It is empty, never nil.
func (c Counts) Redactions() []evidence.Redaction {
	out := make([]evidence.Redaction, 0, len(c))
	for k, v := range c {
		if v > 0 {
			out = append(out, evidence.Redaction{Rule: k, Count: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rule < out[j].Rule })
	return out
}

// rule is a named detector: one or more ways of finding one kind of secret.
type rule struct {
	name string
	doc  string
	dets []detector
}

// detector is one way of finding a rule's secrets.
//
// A keyword detector (keywords set) finds its keywords by substring search;
// at each hit that passes the boundary test it matches re (or calls fn),
// anchored right after the keyword, on a window of at most window bytes
// (the rest of the text if a match reaches the window's end). The whole
// match, when masked, includes the keyword. A whole-text detector (no
// keywords: configured patterns) runs re unanchored over the whole text.
type detector struct {
	keywords []string // literal substrings; lower-case when fold
	fold     bool     // keywords match in any ASCII case
	// notAfter, if set, lists the bytes a keyword may not follow (so
	// that a hit starts a word, a token or an argument).
	notAfter *[256]bool
	// firstByte, if set, lists the bytes the text after a keyword may
	// start with; other hits are passed over without running re.
	firstByte *[256]bool
	// skipKey, if set, skips up to that many key bytes [A-Za-z0-9_.-]
	// after the keyword before re is matched (re then starts where the
	// key ends).
	skipKey int
	re      *regexp.Regexp
	// fn, for keyword detectors without re, returns what re would:
	// submatch indexes into its argument, or nil.
	fn     func(rest string) []int
	window int
	// groups are the capture groups masked; none: the whole match.
	groups []int
	// refine, if set, vets a candidate secret s[a:b] of the match whose
	// keyword starts at start, and returns the end of what to mask
	// (a < end <= b), or -1 to keep the text.
	refine func(s string, start, a, b int) int
}

// defaultWindow bounds the text one keyword hit is matched against, so
// that the work per hit is bounded; a match that reaches it is retried on
// the rest of the text, so long secrets are still masked whole.
const defaultWindow = 4096

// Redactor masks secrets. It is immutable once built and safe for
// concurrent use.
type Redactor struct {
	rules []rule
	// kw finds every keyword of every detector in one scan; detKw[ri][di]
	// says which keywords (by index) rules[ri].dets[di] uses.
	kw    keywordIndex
	detKw [][][]bool
}

// New compiles the built-in rules and the configured extra patterns, which
// come after them. A pattern with an invalid or duplicate name (names are
// ^[a-z0-9][a-z0-9-]{0,40}$ and must not repeat a built-in's), or whose
// regular expression does not compile, is an error naming it; every such
// problem is reported, joined.
func New(extra []Pattern) (*Redactor, error) {
	r := &Redactor{rules: builtins()}
	seen := map[string]bool{}
	for _, b := range r.rules {
		seen[b.name] = true
	}
	var errs []error
	for i, p := range extra {
		where := fmt.Sprintf("redact pattern %d (%q)", i+1, p.Name)
		if !namePattern.MatchString(p.Name) {
			errs = append(errs, fmt.Errorf("%s: name must match %s", where, namePattern))
			continue
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("%s: name already used by another rule", where))
			continue
		}
		seen[p.Name] = true
		if p.Regex == "" {
			errs = append(errs, fmt.Errorf("%s: regex is empty", where))
			continue
		}
		re, err := regexp.Compile(p.Regex)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: compile regex: %w", where, err))
			continue
		}
		d := detector{re: re}
		if g := re.SubexpIndex(SecretGroup); g > 0 {
			d.groups = []int{g}
		} else if re.NumSubexp() > 0 {
			d.groups = []int{1}
		}
		r.rules = append(r.rules, rule{name: p.Name, doc: "configured pattern", dets: []detector{d}})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, ru := range r.rules {
		for _, d := range ru.dets {
			for _, k := range d.keywords {
				r.kw.add(k, d.fold)
			}
		}
	}
	r.kw.sortBuckets()
	r.detKw = make([][][]bool, len(r.rules))
	for ri, ru := range r.rules {
		r.detKw[ri] = make([][]bool, len(ru.dets))
		for di, d := range ru.dets {
			uses := make([]bool, len(r.kw.words))
			for _, k := range d.keywords {
				uses[r.kw.add(k, d.fold)] = true
			}
			r.detKw[ri][di] = uses
		}
	}
	return r, nil
}

// Rules returns the rule names, built-in first, in priority order.
func (r *Redactor) Rules() []string {
	out := make([]string, len(r.rules))
	for i, ru := range r.rules {
		out[i] = ru.name
	}
	return out
}

// String masks every secret in s and counts them per rule. The result is
// a fixed point: String of it returns it unchanged, with no counts.
func (r *Redactor) String(s string) (string, Counts) {
	counts := Counts{}
	for {
		out, changed := r.pass(s, counts)
		if !changed {
			return s, counts
		}
		// Masking can bring a new match into being (a key next to a
		// mask, say); go again until nothing changes. Each pass that
		// changes anything replaces at least one byte that was not
		// inside a mask, so this ends.
		s = out
	}
}

// Bytes is String for text artefacts. When nothing is masked it returns b
// itself, otherwise a new slice.
func (r *Redactor) Bytes(b []byte) ([]byte, Counts) {
	out, c := r.String(string(b))
	if len(c) == 0 { // every change is counted
		return b, c
	}
	return []byte(out), c
}

// span is a candidate mask: bytes [a,b) found by rule index ri.
type span struct{ a, b, ri int }

// pass finds every candidate in s, merges overlapping ones, and masks them.
// It adds to counts and reports whether s changed.
func (r *Redactor) pass(s string, counts Counts) (string, bool) {
	hits := r.kw.scan(s)
	var spans []span
	if len(hits) > 0 {
		for ri := range r.rules {
			for di := range r.rules[ri].dets {
				spans = r.rules[ri].dets[di].find(s, hits, r.detKw[ri][di], ri, spans)
			}
		}
	}
	for ri := range r.rules {
		for di := range r.rules[ri].dets {
			if d := &r.rules[ri].dets[di]; len(d.keywords) == 0 {
				spans = d.find(s, nil, nil, ri, spans)
			}
		}
	}
	if len(spans) == 0 {
		return s, false
	}
	spans = dropMasked(s, spans)
	if len(spans) == 0 {
		return s, false
	}
	slices.SortFunc(spans, func(x, y span) int {
		if x.a != y.a {
			return x.a - y.a
		}
		return x.ri - y.ri
	})
	var sb strings.Builder
	sb.Grow(len(s))
	last := 0
	for i := 0; i < len(spans); {
		cur := spans[i]
		for i++; i < len(spans) && spans[i].a < cur.b; i++ {
			cur.b = max(cur.b, spans[i].b)
			cur.ri = min(cur.ri, spans[i].ri)
		}
		name := r.rules[cur.ri].name
		sb.WriteString(s[last:cur.a])
		sb.WriteString(Mask(name))
		counts[name]++
		last = cur.b
	}
	sb.WriteString(s[last:])
	return sb.String(), true
}

// dropMasked removes candidates that lie wholly inside masks already in s,
// and widens those that overlap a mask to take all of it, so a mask is
// never cut in two.
func dropMasked(s string, spans []span) []span {
	masks := findMasks(s)
	if len(masks) == 0 {
		return spans
	}
	out := spans[:0]
	for _, sp := range spans {
		// First mask that ends after sp.a.
		i := sort.Search(len(masks), func(i int) bool { return masks[i][1] > sp.a })
		inside := 0
		for j := i; j < len(masks) && masks[j][0] < sp.b; j++ {
			sp.a = min(sp.a, masks[j][0])
			sp.b = max(sp.b, masks[j][1])
			inside += masks[j][1] - masks[j][0]
		}
		if inside < sp.b-sp.a {
			out = append(out, sp)
		}
	}
	return out
}

// findMasks returns the [start, end) of every mask in s, in order: every
// match of \[REDACTED:[a-z0-9][a-z0-9-]{0,40}\], found without the
// regexp engine.
func findMasks(s string) [][2]int {
	const open = "[REDACTED:"
	var out [][2]int
	for off := 0; ; {
		i := strings.Index(s[off:], open)
		if i < 0 {
			return out
		}
		a := off + i
		j := a + len(open) // the rule name starts here
		k := j
		for k < len(s) && k-j <= 41 && (s[k] == '-' || '0' <= s[k] && s[k] <= '9' || 'a' <= s[k] && s[k] <= 'z') {
			k++
		}
		if n := k - j; n >= 1 && n <= 41 && s[j] != '-' && k < len(s) && s[k] == ']' {
			out = append(out, [2]int{a, k + 1})
			off = k + 1
			continue
		}
		off = a + 1
	}
}

// hit is keyword k, n bytes long, at p.
type hit struct{ p, k, n int }

// find appends the candidates d finds in s to spans. hits are where the
// keywords are, in order (the longer keyword first at one place); uses
// says which keywords are d's. A detector without keywords runs over the
// whole text.
func (d *detector) find(s string, hits []hit, uses []bool, ri int, spans []span) []span {
	if len(d.keywords) == 0 {
		for _, m := range d.re.FindAllStringSubmatchIndex(s, -1) {
			spans = d.add(s, m, m[0], 0, ri, spans)
		}
		return spans
	}
	end := -1 // end of the last match: hits before it are inside it
	for _, h := range hits {
		if !uses[h.k] || h.p < end {
			continue
		}
		if d.notAfter != nil && h.p > 0 && d.notAfter[s[h.p-1]] {
			continue
		}
		q := h.p + h.n
		if d.skipKey > 0 {
			for lim := min(len(s), q+d.skipKey); q < lim && (isWord(s[q]) || s[q] == '.' || s[q] == '-'); q++ {
			}
		}
		if d.firstByte != nil && (q == len(s) || !d.firstByte[s[q]]) {
			continue
		}
		m := d.match(s[q:])
		if m == nil {
			continue
		}
		end = q + m[1]
		spans = d.add(s, m, h.p, q, ri, spans)
	}
	return spans
}

// match matches rest, the text after a keyword, within the window.
func (d *detector) match(rest string) []int {
	w := d.window
	if w == 0 {
		w = defaultWindow
	}
	try := func(t string) []int {
		if d.fn != nil {
			return d.fn(t)
		}
		return d.re.FindStringSubmatchIndex(t)
	}
	if len(rest) <= w {
		return try(rest)
	}
	m := try(rest[:w])
	if m != nil && m[1] == w {
		m = try(rest)
	}
	return m
}

// add turns match m into candidates. m's offsets are relative to off; a
// whole match starts at start (the keyword, for keyword detectors).
func (d *detector) add(s string, m []int, start, off, ri int, spans []span) []span {
	one := func(a, b int) {
		if a >= b {
			return
		}
		if d.refine != nil {
			b = d.refine(s, start, a, b)
			if b <= a {
				return
			}
		}
		spans = append(spans, span{a, b, ri})
	}
	if len(d.groups) == 0 {
		one(min(start, off+m[0]), off+m[1])
		return spans
	}
	for _, g := range d.groups {
		if m[2*g] >= 0 {
			one(off+m[2*g], off+m[2*g+1])
		}
	}
	return spans
}

func isWord(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// keywordIndex finds many literal keywords in one scan of a text. Each is
// looked up by its first two bytes, lower-cased; a folded keyword (written
// in lower case) matches in any ASCII case, another only exactly.
type keywordIndex struct {
	words  []keyword
	pairs  [256][4]uint64 // bit set: some keyword starts with this pair
	bucket map[uint16][]int
}

type keyword struct {
	text string
	fold bool
}

// add registers a keyword (at least two bytes) and returns its index.
func (x *keywordIndex) add(text string, fold bool) int {
	k := keyword{text, fold}
	if i := slices.Index(x.words, k); i >= 0 {
		return i
	}
	x.words = append(x.words, k)
	if x.bucket == nil {
		x.bucket = map[uint16][]int{}
	}
	c0, c1 := lowerTab[text[0]], lowerTab[text[1]]
	x.pairs[c0][c1>>6] |= 1 << (c1 & 63)
	key := uint16(c0)<<8 | uint16(c1)
	x.bucket[key] = append(x.bucket[key], len(x.words)-1)
	return len(x.words) - 1
}

// sortBuckets orders each bucket longest keyword first, so that at one
// place the longer keyword is tried first.
func (x *keywordIndex) sortBuckets() {
	for _, b := range x.bucket {
		sort.SliceStable(b, func(i, j int) bool { return len(x.words[b[i]].text) > len(x.words[b[j]].text) })
	}
}

// scan returns every occurrence of every keyword, by position.
func (x *keywordIndex) scan(s string) []hit {
	var hits []hit
	for i := 0; i+1 < len(s); i++ {
		c0, c1 := lowerTab[s[i]], lowerTab[s[i+1]]
		if x.pairs[c0][c1>>6]&(1<<(c1&63)) == 0 {
			continue
		}
		for _, w := range x.bucket[uint16(c0)<<8|uint16(c1)] {
			k := x.words[w]
			if len(s)-i < len(k.text) {
				continue
			}
			if k.fold && !equalLower(s[i:i+len(k.text)], k.text) || !k.fold && s[i:i+len(k.text)] != k.text {
				continue
			}
			hits = append(hits, hit{i, w, len(k.text)})
		}
	}
	return hits
}

// equalLower reports whether s, ASCII-lower-cased, equals lower.
func equalLower(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		if lowerTab[s[i]] != lower[i] {
			return false
		}
	}
	return true
}

// lowerTab maps each byte to its ASCII lower case.
var lowerTab = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return t
}()

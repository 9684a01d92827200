package redact

import (
	"math/bits"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// rule is a named detector: one or more ways of finding one kind of secret.
type rule struct {
	name string
	doc  string
	dets []detector
}

// detector is one way of finding a rule's secrets.
//
// A keyword detector (keywords set) finds its keywords by substring search;
// at each hit that passes the boundary tests it matches re (or calls fn),
// anchored right after the keyword, on a window of at most window bytes
// (the rest of the text if a match reaches the window's end, or, for
// retryMiss detectors, if there is none). The whole match, when masked,
// includes the keyword. A whole-text detector (no keywords: configured
// patterns) runs re unanchored over the whole text.
type detector struct {
	keywords []string // literal substrings; lower-case when fold
	fold     bool     // keywords match in any ASCII case
	// notAfter, if set, lists the bytes a keyword may not follow (so
	// that a hit starts a word, a token or an argument).
	notAfter *[256]bool
	// firstByte, if set, lists the bytes the text after a keyword may
	// start with; other hits are passed over without running re.
	firstByte *[256]bool
	// pre, if set, is a cheap test of the text around a hit (keyword at
	// p, re to start at q) that must pass before re runs.
	pre func(s string, p, q int) bool
	// skipKey, if set, skips up to that many key bytes [A-Za-z0-9_.-]
	// after the keyword before re is matched (re then starts where the
	// key ends).
	skipKey int
	// retryMiss says a match may fail only because the window cut it short
	// (a quoted value longer than the window); such a miss is retried on
	// the rest of the text.
	retryMiss bool
	// context, if set, is a keyword (lower case, any ASCII case in the
	// text, a whole word) that must come earlier in the same command
	// (the same line, no ; | or & between), within contextReach bytes:
	// "curl" before -u.
	context string
	re      *regexp.Regexp
	// configured marks a configured pattern: its matches that touch a
	// mask are dropped rather than widened, so that masking never feeds
	// it a new match.
	configured bool
	// scan, for whole-text detectors written in Go (no keywords, no re),
	// returns the [start, end) of every secret in s, in order.
	scan func(s string) [][2]int
	// fn, for keyword detectors without re, returns what re would:
	// submatch indexes into its argument, or nil.
	fn func(rest string) []int
	// groups are the capture groups masked; none: the whole match.
	groups []int
	// refine, if set, vets a candidate secret s[a:b] of the match whose
	// keyword starts at start, and returns the end of what to mask
	// (a < end <= b), or -1 to keep the text.
	refine func(s string, start, a, b int) int
}

// window bounds the text one keyword hit is matched against, so that the
// work per hit is small; a match that reaches it is retried on the rest of
// the text, so long secrets are still masked whole.
const window = 512

// contextReach is how far back a detector's context keyword may be.
const contextReach = 1024

// maxMatches caps the candidates one detector finds in one text. A text
// with more (a configured pattern matching nearly everywhere) is masked
// from the last of them to its end: the work and memory stay bounded, and
// nothing after the cap is left unmasked.
const maxMatches = 100_000

// span is a candidate mask: bytes [a,b) found by rule index ri.
type span struct{ a, b, ri int }

// pass finds every candidate in s, merges overlapping ones, and masks them.
// It adds to counts (unless nil) and reports whether s changed.
func (r *Redactor) pass(s string, counts Counts) (string, bool) {
	spans := r.candidates(s)
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
		if counts != nil {
			counts[name]++
		}
		last = cur.b
	}
	sb.WriteString(s[last:])
	return sb.String(), true
}

// candidates returns what pass masks in s, unordered: none when s is
// left as it is.
func (r *Redactor) candidates(s string) []span {
	hits := r.kw.scan(s)
	// Only the detectors whose keywords occur (and those without
	// keywords) can find anything; they run in the order of r.dets, as
	// all of them would.
	var buf [4]uint64
	run := buf[:]
	if n := (len(r.dets) + 63) / 64; n > len(buf) {
		run = make([]uint64, n)
	}
	for _, f := range r.whole {
		run[f/64] |= 1 << (f % 64)
	}
	for _, h := range hits {
		for _, f := range r.byKw[h.k] {
			run[f/64] |= 1 << (f % 64)
		}
	}
	var spans []span
	for w, word := range run {
		for ; word != 0; word &= word - 1 {
			spans = r.find(w*64+bits.TrailingZeros64(word), s, hits, spans)
		}
	}
	if len(spans) == 0 {
		return nil
	}
	return dropMasked(s, spans, func(ri int) bool {
		return len(r.rules[ri].dets) > 0 && r.rules[ri].dets[0].configured
	})
}

// find runs detector r.dets[f] on s (see detector.find).
func (r *Redactor) find(f int, s string, hits []hit, spans []span) []span {
	ref := r.dets[f]
	return r.rules[ref.ri].dets[ref.di].find(s, hits, r.detKw[ref.ri][ref.di], ref.ri, spans)
}

// dropMasked removes candidates that lie wholly inside masks already in s,
// and widens those that overlap a mask to take all of it, so a mask is
// never cut in two. Candidates of opaque rules (configured patterns) that
// overlap a mask at all are removed.
func dropMasked(s string, spans []span, opaque func(ri int) bool) []span {
	masks := findMasks(s)
	if len(masks) == 0 {
		return spans
	}
	out := spans[:0]
	for _, sp := range spans {
		// First mask that ends after sp.a.
		i := sort.Search(len(masks), func(i int) bool { return masks[i][1] > sp.a })
		if i < len(masks) && masks[i][0] < sp.b && opaque(sp.ri) {
			continue
		}
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
	n0 := len(spans)
	capped := func() bool {
		if len(spans)-n0 < maxMatches {
			return false
		}
		spans = append(spans, span{spans[len(spans)-1].a, len(s), ri})
		return true
	}
	if d.scan != nil {
		for _, ab := range d.scan(s) {
			spans = append(spans, span{ab[0], ab[1], ri})
			if capped() {
				break
			}
		}
		return spans
	}
	if len(d.keywords) == 0 {
		for _, m := range d.re.FindAllStringSubmatchIndex(s, maxMatches+1) {
			if len(spans)-n0 == maxMatches {
				spans = append(spans, span{min(spans[len(spans)-1].a, m[0]), len(s), ri})
				break
			}
			spans = d.add(s, m, m[0], 0, ri, spans)
		}
		return spans
	}
	end := -1 // end of the last match: hits before it are inside it
	ctx := -1 // where the last context keyword is
	for _, h := range hits {
		if d.context != "" && h.n == len(d.context) && equalLower(s[h.p:h.p+h.n], d.context) &&
			(h.p == 0 || !isWord(s[h.p-1])) && (h.p+h.n == len(s) || !isWord(s[h.p+h.n])) {
			ctx = h.p
		}
		if !uses[h.k] || h.p < end {
			continue
		}
		if d.context != "" && (ctx < 0 || h.p-ctx > contextReach || strings.IndexAny(s[ctx:h.p], "\n;|&") >= 0) {
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
		if d.pre != nil && !d.pre(s, h.p, q) {
			continue
		}
		m := d.match(s[q:])
		if m == nil {
			continue
		}
		end = q + m[1]
		spans = d.add(s, m, h.p, q, ri, spans)
		if capped() {
			break
		}
	}
	return spans
}

// match matches rest, the text after a keyword, within the window.
func (d *detector) match(rest string) []int {
	try := func(t string) []int {
		if d.fn != nil {
			return d.fn(t)
		}
		return d.re.FindStringSubmatchIndex(t)
	}
	if len(rest) <= window {
		return try(rest)
	}
	m := try(rest[:window])
	if m != nil && m[1] == window || m == nil && d.retryMiss {
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

package redact

import (
	"slices"
	"sort"
)

// keywordIndex finds many literal keywords in one scan of a text. Each is
// looked up by its first two bytes, lower-cased; a folded keyword (written
// in lower case) matches in any ASCII case, another only exactly.
type keywordIndex struct {
	words []keyword
	// pairs has bit [b0][b1] set when some keyword starts with the bytes
	// b0 b1 once lower-cased (so the scan need not lower-case them).
	pairs [256][4]uint64
	// first[c0] holds the keywords starting with c0, by second byte
	// (both lower-cased).
	first [256][]bucket
}

// bucket is the keywords (by index) whose second byte, lower-cased, is c1.
type bucket struct {
	c1    byte
	words []int
}

// bucket returns the keywords starting with the pair c0 c1 (lower-cased).
func (x *keywordIndex) bucket(c0, c1 byte) []int {
	for _, b := range x.first[c0] {
		if b.c1 == c1 {
			return b.words
		}
	}
	return nil
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
	c0, c1 := lowerTab[text[0]], lowerTab[text[1]]
	for _, b0 := range cases(c0) {
		for _, b1 := range cases(c1) {
			x.pairs[b0][b1>>6] |= 1 << (b1 & 63)
		}
	}
	w := len(x.words) - 1
	for i := range x.first[c0] {
		if b := &x.first[c0][i]; b.c1 == c1 {
			b.words = append(b.words, w)
			return w
		}
	}
	x.first[c0] = append(x.first[c0], bucket{c1, []int{w}})
	return w
}

// sortBuckets orders each bucket longest keyword first, so that at one
// place the longer keyword is tried first.
func (x *keywordIndex) sortBuckets() {
	for _, bs := range x.first {
		for _, b := range bs {
			sort.SliceStable(b.words, func(i, j int) bool { return len(x.words[b.words[i]].text) > len(x.words[b.words[j]].text) })
		}
	}
}

// scan returns every occurrence of every keyword, by position.
func (x *keywordIndex) scan(s string) []hit {
	var hits []hit
	for i := 0; i+1 < len(s); i++ {
		if b1 := s[i+1]; x.pairs[s[i]][b1>>6]&(1<<(b1&63)) == 0 {
			continue
		}
		for _, w := range x.bucket(lowerTab[s[i]], lowerTab[s[i+1]]) {
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

// cases returns the bytes that lower-case to lower (itself a lower-cased
// byte).
func cases(lower byte) []byte {
	if 'a' <= lower && lower <= 'z' {
		return []byte{lower, lower - 'a' + 'A'}
	}
	return []byte{lower}
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

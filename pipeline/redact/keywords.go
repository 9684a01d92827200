package redact

import (
	"slices"
	"sort"
)

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

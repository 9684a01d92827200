// Package textcap cuts text to a size limit: by runes or bytes, ending in
// "…" (Runes, Bytes), at a place the caller chooses (a back function); and
// before a word (BeforeWord), for text cut before the redactor has seen it,
// where a secret cut in two might no longer be recognised as one.
package textcap

import (
	"unicode/utf8"
)

// Ellipsis ends a text Runes or Bytes cut.
const Ellipsis = "…"

// Runes cuts s to at most n runes (Ellipsis included) when it is longer,
// reporting whether it cut. back, if not nil, moves the cut at byte i of s
// back to a better place (BeforeWord, say); it returns an index <= i.
func Runes(s string, n int, back func(s string, i int) int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return cut(s, i, back), true
}

// Bytes cuts s to at most n bytes (Ellipsis included), on a rune
// boundary, when it is longer, reporting whether it cut; back as for
// Runes.
func Bytes(s string, n int, back func(s string, i int) int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	i := max(0, n-len(Ellipsis))
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return cut(s, i, back), true
}

func cut(s string, i int, back func(string, int) int) string {
	if back != nil {
		i = back(s, i)
	}
	return s[:i] + Ellipsis
}

// BeforeWord moves a cut at byte i of s back so that no word is cut in
// two: to the last blank (ASCII white space) in s[:i+1] (s[i] itself may
// be one, and then the cut stays at i), or to 0 when a word spans the
// whole of s[:i+1]. A cut at or past the end of s stays.
func BeforeWord(s string, i int) int {
	if i >= len(s) {
		return i
	}
	for j := i; j >= 0; j-- {
		if blank(s[j]) {
			return j
		}
	}
	return 0
}

// CutBeforeWord cuts s to at most n bytes before a word (BeforeWord),
// without an ellipsis: a text of one word longer than n becomes "".
func CutBeforeWord(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:BeforeWord(s, n)]
}

func blank(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f':
		return true
	}
	return false
}

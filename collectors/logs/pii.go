package logs

import (
	"net/netip"
	"regexp"
	"strings"
)

// PII masks. They are plain text, unlike the pipeline's
// "[REDACTED:rule]" masks: PII masking is this collector's own, applied to
// log text before it leaves the collector, while secrets are the
// pipeline's redaction boundary's job.
const (
	maskIP    = "[ip]"
	maskPhone = "[phone]"
)

// PII masking modes of the pii key.
const (
	piiMask = "mask"
	piiKeep = "keep"
)

var (
	ipv4Re = regexp.MustCompile(`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`)
	ipv6Re = regexp.MustCompile(`[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}`)
	// phoneRe finds phone numbers: international (+44 20 7946 0958,
	// +1-202-555-0147, +44 7700 900123), national with a leading 0 (020 7946 0958,
	// 07700 900123) and North American ((202) 555-0147, 202-555-0147).
	// Numbers without separators or a + are left alone: in logs they are
	// far more often IDs, sizes or epoch times.
	phoneRe = regexp.MustCompile(`\+\d{1,3}[ -]?(?:\(\d{1,5}\)[ -]?)?\d{1,5}(?:[ -]\d{2,6}){1,4}` +
		`|\(?0\d{2,4}\)?[ -]\d{3,4}[ -]?\d{3,4}` +
		`|\(\d{3}\) ?\d{3}-\d{4}|\b\d{3}-\d{3}-\d{4}`)
)

// maskPII replaces client IP addresses and phone numbers in s. Loopback,
// unspecified and link-local addresses are kept: they identify no one and
// say where a server listens. A match glued to a digit, letter or dot
// is not masked.
func maskPII(s string) string {
	if s == "" {
		return s
	}
	// Each regexp runs only where it could mask something: regexps are
	// slow and excerpts are long.
	if mayHaveIPv4(s) {
		s = replaceChecked(s, ipv4Re, maskIP, isIPToMask)
	}
	if strings.Contains(s, "::") || strings.Count(s, ":") >= 7 { // see isIPv6ToMask
		s = replaceChecked(s, ipv6Re, maskIP, isIPv6ToMask)
	}
	if mayHavePhone(s) {
		s = replaceChecked(s, phoneRe, maskPhone, isPhone)
	}
	return s
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// mayHaveIPv4 reports whether s holds three dots between digits, as every
// match of ipv4Re does.
func mayHaveIPv4(s string) bool {
	n := 0
	for i := 1; i+1 < len(s); i++ {
		if s[i] == '.' && isDigit(s[i-1]) && isDigit(s[i+1]) {
			if n++; n == 3 {
				return true
			}
		}
	}
	return false
}

// mayHavePhone reports whether s holds what every match of phoneRe
// starts with or holds: "+" or "(" before a digit, or a digit (and maybe
// a ")") then a space or "-" then three digits.
func mayHavePhone(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		switch c := s[i]; {
		case (c == '+' || c == '(') && isDigit(s[i+1]):
			return true
		case (c == ' ' || c == '-') && i > 0 && i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]):
			if isDigit(s[i-1]) || s[i-1] == ')' && i > 1 && isDigit(s[i-2]) {
				return true
			}
		}
	}
	return false
}

// replaceChecked replaces the matches of re in s that ok accepts and whose
// neighbours are not part of a longer token.
func replaceChecked(s string, re *regexp.Regexp, mask string, ok func(string) bool) string {
	ms := re.FindAllStringIndex(s, -1)
	if len(ms) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		a, z := m[0], m[1]
		if a < last || glued(s, a, z) || !ok(s[a:z]) {
			continue
		}
		b.WriteString(s[last:a])
		b.WriteString(mask)
		last = z
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// glued reports whether s[a:z] continues a longer token on either side
// (a version string, a float, a longer ID).
func glued(s string, a, z int) bool {
	tok := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_'
	}
	if a > 0 && tok(s[a-1]) {
		return true
	}
	if z < len(s) {
		c := s[z]
		if c == '.' && z+1 < len(s) && s[z+1] >= '0' && s[z+1] <= '9' {
			return true
		}
		if c != '.' && tok(c) {
			return true
		}
	}
	return false
}

func isIPToMask(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && !a.IsLoopback() && !a.IsUnspecified() && !a.IsLinkLocalUnicast()
}

func isIPv6ToMask(s string) bool {
	if !strings.Contains(s, "::") && strings.Count(s, ":") != 7 {
		return false // 17:58:21 is a time, not an address
	}
	return isIPToMask(s)
}

func isPhone(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n >= 9 && n <= 15
}

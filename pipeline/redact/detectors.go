package redact

import "strings"

// Detectors written in Go, for what a keyword and an expression cannot
// say: e-mail addresses, a bare AWS secret on a line of its own, and
// secret-looking variable names.

// emailRule masks every e-mail address but the allowed ones (compared in
// any ASCII case).
func emailRule(allowed []string) rule {
	ok := make(map[string]bool, len(allowed))
	for _, a := range allowed {
		ok[strings.ToLower(strings.TrimSpace(a))] = true
	}
	return rule{name: EmailRule, doc: "e-mail addresses other than the apprentice's (config redact.emails: mask or keep)",
		dets: []detector{{scan: func(s string) [][2]int { return findEmails(s, ok) }}}}
}

// findEmails returns the addresses in s (local@domain.tld) that are not in
// allowed. An address that is the user part of a URL or an scp-style
// remote (https://user@host, git@github.com:org/repo) is not one. Each @
// costs at most 64 bytes back and 255 ahead, so the scan is linear.
func findEmails(s string, allowed map[string]bool) [][2]int {
	var out [][2]int
	last := 0 // end of the last address: nothing before it is looked at again
	for off := 0; ; {
		i := strings.IndexByte(s[off:], '@')
		if i < 0 {
			return out
		}
		at := off + i
		off = at + 1
		a := at
		for a > last && at-a < 64 && isLocal(s[a-1]) {
			a--
		}
		for a < at && s[a] == '.' {
			a++
		}
		if a == at || a > 0 && (s[a-1] == ':' || s[a-1] == '/') {
			continue
		}
		b, dots, label := at+1, 0, 0
		for b < len(s) && b-at <= 255 {
			c := s[b]
			if c == '.' && label > 0 && b+1 < len(s) && isDomain(s[b+1]) {
				dots++
				label = 0
			} else if isDomain(c) {
				label++
			} else {
				break
			}
			b++
		}
		if dots == 0 || !tldOK(s[at+1:b]) {
			continue
		}
		if s[a:at] == "git" && b < len(s) && s[b] == ':' {
			continue
		}
		if allowed[strings.ToLower(s[a:b])] {
			off = b
			continue
		}
		out = append(out, [2]int{a, b})
		last, off = b, b
	}
}

func isLocal(c byte) bool {
	return isWord(c) || c == '.' || c == '%' || c == '+' || c == '-'
}

func isDomain(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-'
}

// tldOK reports whether a domain ends in a label of two or more letters.
func tldOK(domain string) bool {
	tld := domain[strings.LastIndexByte(domain, '.')+1:]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if c := tld[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// bareSecret40Lines finds lines that are nothing but an AWS-style secret:
// 40 random base64 characters (see secret40), blanks around them allowed.
func bareSecret40Lines(s string) [][2]int {
	var out [][2]int
	for off := 0; off < len(s); {
		end := strings.IndexByte(s[off:], '\n')
		if end < 0 {
			end = len(s)
		} else {
			end += off
		}
		a, b := off, end
		for a < b && (s[a] == ' ' || s[a] == '\t') {
			a++
		}
		for b > a && (s[b-1] == ' ' || s[b-1] == '\t' || s[b-1] == '\r') {
			b--
		}
		if b-a == 40 && allB64(s[a:b]) && secret40(s, a, a, b) == b {
			out = append(out, [2]int{a, b})
		}
		off = end + 1
	}
	return out
}

func allB64(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isB64(v[i]) {
			return false
		}
	}
	return true
}

// secretNameKeywords are the name parts that make an assignment's value a
// secret: DB_PASS, HF_TOKEN_RO, AZURE_STORAGE_KEY, client-secret.
var secretNameKeywords = []string{"pass", "secret", "token", "key"}

// secretName vets the variable name around a secretNameKeywords hit at p
// (q is where the name ends): the keyword is a whole part of a longer
// name (parts split by _ or -), or the name is in capitals and the keyword
// ends it or a part of it (APIKEY, DBPASS); PASS may go on as PASSWORD,
// PASSWD or PASSPHRASE, and any keyword may take a plural s. An
// assignment must follow.
func secretName(s string, p, q int) bool {
	kw := ""
	for _, k := range secretNameKeywords {
		if len(s)-p >= len(k) && equalLower(s[p:p+len(k)], k) {
			kw = k
			break
		}
	}
	if kw == "" {
		return false
	}
	start := p
	for start > 0 && p-start < 64 && (isWord(s[start-1]) || s[start-1] == '-') {
		start--
	}
	name := s[start:q]
	if len(name) <= len(kw) || strings.ContainsRune(name, '.') {
		return false
	}
	e := p + len(kw)
	for _, tail := range []string{"word", "wd", "phrase", "s"} {
		if len(s)-e >= len(tail) && equalLower(s[e:e+len(tail)], tail) && (e+len(tail) == q || s[e+len(tail)] == '_' || s[e+len(tail)] == '-') {
			e += len(tail)
			break
		}
	}
	endOK := e == q || s[e] == '_' || s[e] == '-'
	startOK := p == start || s[p-1] == '_' || s[p-1] == '-'
	if !endOK || !startOK && !capitals(name) {
		return false
	}
	if e < q {
		last := name[strings.LastIndexAny(name, "_-")+1:]
		if len(last) <= maxRefPart && refPart[strings.ToLower(last)] {
			return false
		}
	}
	return sepAhead(s, p, q)
}

// refPart are last name parts that make the value say where a secret is,
// or something about it, rather than be one: PASSWORD_FILE, TOKEN_URL.
var refPart = map[string]bool{
	"file": true, "path": true, "dir": true, "name": true, "id": true, "url": true, "uri": true,
	"endpoint": true, "env": true, "var": true, "len": true, "length": true, "size": true,
	"type": true, "field": true, "header": true, "param": true, "prefix": true, "ref": true,
	"arn": true, "count": true, "ttl": true, "timeout": true, "expiry": true, "format": true,
	"version": true, "label": true, "location": true, "source": true, "store": true,
}

// maxRefPart is the length of the longest refPart entry.
const maxRefPart = 8

// capitals reports whether v has no lower-case letter.
func capitals(v string) bool {
	return classify(v).lower == 0
}

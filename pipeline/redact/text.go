package redact

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// Encodings an artefact's text is recognised in.
const (
	EncodingUTF8        = "utf-8"
	EncodingUTF16LE     = "utf-16le"
	EncodingUTF16BE     = "utf-16be"
	EncodingWindows1252 = "windows-1252" // a superset of Latin-1's printable characters
)

// Prepared is an artefact made ready to store by Redactor.Artefact.
type Prepared struct {
	// Data is what to store: for text, the redacted text in UTF-8
	// whatever its original encoding; for binary, the bytes unchanged.
	Data []byte
	// Text says the content was recognised as text (and redacted).
	Text bool
	// Encoding is the text's original encoding (Encoding* constants);
	// empty for binary.
	Encoding string
	// Counts are the secrets masked in text.
	Counts Counts
	// Refused, when not empty, names the rule that found a secret in a
	// binary artefact: it cannot be masked safely, so it must not be
	// stored at all. E-mail addresses alone never refuse an artefact.
	Refused string
}

// Artefact prepares an artefact's content, named name, for storage.
// Text — recognised by content and, for borderline content, by name; in
// UTF-8 (with or without a stray NUL), UTF-16 with or without a byte order
// mark, or Windows-1252/Latin-1 — is decoded, redacted and returned in
// UTF-8. Anything else is binary: it is searched for secrets as it is, and
// refused if one is found.
func (r *Redactor) Artefact(name string, b []byte) Prepared {
	if enc, text, ok := decodeText(name, b); ok {
		out, c := r.String(text)
		data := []byte(out)
		if enc == EncodingUTF8 && len(c) == 0 {
			data = b
		}
		return Prepared{Data: data, Text: true, Encoding: enc, Counts: c}
	}
	_, c := r.String(string(b))
	var rules []string
	for k := range c {
		if k != EmailRule {
			rules = append(rules, k)
		}
	}
	p := Prepared{Data: b, Counts: Counts{}}
	if len(rules) > 0 {
		slices.Sort(rules)
		p.Refused = strings.Join(rules, ", ")
	}
	return p
}

// sniffLen is how much of the content the text test looks at.
const sniffLen = 8 << 10

// decodeText returns b as a string and its encoding if b is text.
func decodeText(name string, b []byte) (enc, text string, ok bool) {
	named := textName(name)
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) && utf8.Valid(b):
		return EncodingUTF8, string(b), true
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return utf16Text(EncodingUTF16LE, b[2:], true)
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return utf16Text(EncodingUTF16BE, b[2:], true)
	}
	if enc := utf16Guess(b); enc != "" {
		if enc, text, ok := utf16Text(enc, b, named); ok {
			return enc, text, ok
		}
	}
	if utf8.Valid(b) && textual(string(head(b)), named) {
		return EncodingUTF8, string(b), true
	}
	if s, err := decode(charmap.Windows1252, b); err == nil && textual(head(s), named) {
		return EncodingWindows1252, s, true
	}
	return "", "", false
}

func head[T string | []byte](b T) T {
	if len(b) > sniffLen {
		return b[:sniffLen]
	}
	return b
}

// utf16Guess says whether b looks like UTF-16 without a byte order mark:
// most of one byte of each pair is zero (ASCII-range text), and few of
// the other.
func utf16Guess(b []byte) string {
	h := head(b)
	if len(h) < 4 {
		return ""
	}
	var zero [2]int
	for i, c := range h {
		if c == 0 {
			zero[i%2]++
		}
	}
	pairs := len(h) / 2
	switch {
	case zero[1]*10 >= pairs*3 && zero[0]*20 < pairs:
		return EncodingUTF16LE
	case zero[0]*10 >= pairs*3 && zero[1]*20 < pairs:
		return EncodingUTF16BE
	}
	return ""
}

// utf16Text decodes UTF-16 (no byte order mark) and keeps it if it reads
// as text, or always when sure (a byte order mark was found).
func utf16Text(enc string, b []byte, sure bool) (string, string, bool) {
	order := unicode.LittleEndian
	if enc == EncodingUTF16BE {
		order = unicode.BigEndian
	}
	s, err := decode(unicode.UTF16(order, unicode.IgnoreBOM), b)
	if err != nil || !sure && !textual(head(s), false) {
		return "", "", false
	}
	return enc, s, true
}

func decode(e encoding.Encoding, b []byte) (string, error) {
	out, err := e.NewDecoder().Bytes(b)
	return string(out), err
}

// textual reports whether s reads as text: control characters other than
// white space, ESC and form feed are at most 1% of its runes (10% for a
// file whose name says text), and U+FFFD at most 1%.
func textual(s string, named bool) bool {
	if s == "" {
		return true
	}
	ctl, bad, n := 0, 0, 0
	for _, c := range s {
		n++
		switch {
		case c == utf8.RuneError:
			bad++
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b, c == 0x7f:
			ctl++
		case c >= 0x80 && c < 0xa0: // C1 controls: not text in any of these encodings
			ctl++
		}
	}
	limit := n / 100
	if named {
		limit = n / 10
	}
	return ctl <= max(limit, 1) && bad <= max(n/100, 1)
}

// textName reports whether a file name says text.
func textName(name string) bool {
	base := strings.ToLower(filepath.Base(name))
	if strings.HasPrefix(base, ".env") || textBases[base] {
		return true
	}
	return textExts[filepath.Ext(base)]
}

var textBases = map[string]bool{"dockerfile": true, "makefile": true, "readme": true, "license": true,
	"jenkinsfile": true, "procfile": true, ".netrc": true, ".pypirc": true, ".npmrc": true, "credentials": true, "config": true}

var textExts = map[string]bool{
	".txt": true, ".log": true, ".out": true, ".err": true, ".md": true, ".rst": true, ".csv": true, ".tsv": true,
	".json": true, ".jsonl": true, ".ndjson": true, ".yaml": true, ".yml": true, ".toml": true, ".ini": true,
	".cfg": true, ".conf": true, ".env": true, ".properties": true, ".xml": true, ".html": true, ".htm": true,
	".py": true, ".ipynb": true, ".r": true, ".sh": true, ".bash": true, ".zsh": true, ".ps1": true, ".bat": true,
	".sql": true, ".go": true, ".java": true, ".scala": true, ".js": true, ".ts": true, ".c": true, ".h": true,
	".cpp": true, ".rs": true, ".tex": true, ".tf": true, ".hcl": true, ".pem": true, ".key": true, ".srt": true,
}

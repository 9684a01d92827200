package gitlog

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// declaredKSBs reads the KSB trailers of a commit message: lines
// "KSB: S10, K12" or "KSBs: ..." (key case-insensitive; values separated by
// commas, semicolons or white space) in the message's last paragraph,
// which is never the subject paragraph. A trailer line may continue on
// following lines that start with white space, as git folds them.
//
// It returns the normalised KSB IDs in order of first appearance without
// duplicates, and where the values that do not look like KSB IDs are. The
// bad values themselves are not returned: one may be a secret.
func declaredKSBs(msg string) (ids []string, bad []badValue) {
	para := lastParagraph(msg)
	if para == "" {
		return nil, nil
	}
	var values []string
	lines := strings.Split(para, "\n")
	for i := 0; i < len(lines); i++ {
		key, val, ok := strings.Cut(lines[i], ":")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if !strings.EqualFold(key, "KSB") && !strings.EqualFold(key, "KSBs") {
			continue
		}
		for i+1 < len(lines) && lines[i+1] != "" && (lines[i+1][0] == ' ' || lines[i+1][0] == '\t') {
			i++
			val += " " + lines[i]
		}
		values = append(values, val)
	}
	seen := map[string]bool{}
	index := 0
	for _, v := range values {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool {
			return r == ',' || r == ';' || unicode.IsSpace(r)
		}) {
			index++
			id := evidence.NormalizeKSB(f)
			if !evidence.LooksLikeKSB(id) {
				bad = append(bad, badValue{Index: index, Len: utf8.RuneCountInString(f)})
				continue
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids, bad
}

// badValue locates a KSB trailer value that is not a KSB ID: its position
// among the message's KSB trailer values (1-based) and its length in runes.
type badValue struct{ Index, Len int }

// lastParagraph returns the last paragraph of msg (paragraphs are separated
// by lines that are empty or white space only), or "" when msg has only
// one paragraph: the subject is never a trailer block. Lines starting with
// '#' are left as they are (git strips them only when it edits a message).
func lastParagraph(msg string) string {
	lines := strings.Split(strings.ReplaceAll(msg, "\r\n", "\n"), "\n")
	end := len(lines)
	for end > 0 && strings.TrimSpace(lines[end-1]) == "" {
		end--
	}
	start := end
	for start > 0 && strings.TrimSpace(lines[start-1]) != "" {
		start--
	}
	// Is there a non-blank line before the paragraph? If not, the
	// paragraph is the subject.
	for i := 0; i < start; i++ {
		if strings.TrimSpace(lines[i]) != "" {
			return strings.Join(lines[start:end], "\n")
		}
	}
	return ""
}

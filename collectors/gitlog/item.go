package gitlog

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// Caps on what one item carries.
const (
	maxTitleRunes   = 200
	maxSummaryBytes = 64 << 10
	maxFiles        = 1000
)

// commitInfo is what the item mapping needs from a commit, free of go-git
// types so that the mapping is a pure, table-tested function.
type commitInfo struct {
	SHA         string
	AuthorName  string // after .mailmap
	AuthorEmail string // after .mailmap
	AuthorWhen  time.Time
	CommitWhen  time.Time
	Message     string // already valid UTF-8
	Parents     []string
}

// itemMeta is the per-source part of every item.
type itemMeta struct {
	Apprentice, Source, RepoPath string
	CollectedAt                  time.Time
}

// itemFromCommit maps one commit to its evidence item. stats is nil when
// statsMissing says why they could not be computed. It also returns the
// trailer values that were not KSB IDs.
func itemFromCommit(ci commitInfo, stats []fileStat, statsMissing string, m itemMeta) (evidence.Item, []string) {
	kind := evidence.KindCommit
	if len(ci.Parents) > 1 {
		kind = evidence.KindMerge
	}
	title, summary := splitMessage(ci.Message)
	facts := map[string]any{
		"author_name":  ci.AuthorName,
		"author_email": ci.AuthorEmail,
		"committed_at": ci.CommitWhen.UTC().Format(time.RFC3339),
		"repo":         m.RepoPath,
	}
	parents := make([]any, len(ci.Parents))
	for i, p := range ci.Parents {
		parents[i] = p
	}
	facts["parents"] = parents
	// Title and summary are not cut here: the pipeline cuts them after
	// redaction (redact.MaxTitleRunes, MaxSummaryBytes), so that a cut
	// never leaves half a secret unmasked.
	if statsMissing != "" {
		facts["stats_unavailable"] = statsMissing
	} else {
		ins, del := 0, 0
		files := make([]any, 0, min(len(stats), maxFiles))
		for i, f := range stats {
			ins += f.Insertions
			del += f.Deletions
			if i >= maxFiles {
				continue
			}
			fm := map[string]any{"path": f.Path, "insertions": f.Insertions, "deletions": f.Deletions}
			if f.Binary {
				fm["binary"] = true
			}
			files = append(files, fm)
		}
		facts["files"] = files
		if len(stats) > maxFiles {
			facts["files_truncated"] = true
		}
		facts["files_changed"] = len(stats)
		facts["insertions"] = ins
		facts["deletions"] = del
	}
	ids, bad := declaredKSBs(ci.Message)
	var tags []evidence.Tag
	for _, id := range ids {
		tags = append(tags, evidence.Tag{KSB: id, By: evidence.ByDeclared + "trailer",
			Confidence: 1, Reason: "declared in commit trailer"})
	}
	it := evidence.Item{
		Schema:      evidence.SchemaVersion,
		ID:          evidence.NewID("git", ci.SHA),
		Apprentice:  m.Apprentice,
		Source:      m.Source,
		SourceType:  "git",
		Kind:        kind,
		Title:       title,
		Summary:     summary,
		OccurredAt:  ci.AuthorWhen.UTC(),
		CollectedAt: m.CollectedAt,
		Origin:      evidence.Origin{URI: "file://" + m.RepoPath, NativeID: ci.SHA},
		Facts:       facts,
		Tags:        tags,
	}
	it.Normalize()
	return it, bad
}

// splitMessage returns a commit message's first line (its title) and the
// rest, trimmed. Leading blank lines are skipped, as git does.
func splitMessage(msg string) (title, rest string) {
	msg = strings.TrimLeft(strings.ReplaceAll(msg, "\r\n", "\n"), "\n \t")
	title, rest, _ = strings.Cut(msg, "\n")
	title = strings.TrimSpace(title)
	if title == "" {
		title = "(no commit message)"
	}
	return title, strings.TrimSpace(rest)
}

// capRunes cuts s to at most n runes, ending in "…" when cut.
func capRunes(s string, n int) (string, bool) {
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
	return s[:i] + "…", true
}

// capBytes cuts s to at most n bytes on a rune boundary, ending in "…"
// when cut.
func capBytes(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…", true
}

// toUTF8 makes commit text valid UTF-8: text in a Latin-1 family encoding
// (the commit's "encoding" header) is converted; any other invalid byte
// becomes U+FFFD.
func toUTF8(s, encoding string) string {
	if utf8.ValidString(s) {
		return s
	}
	switch strings.ToLower(strings.ReplaceAll(encoding, "_", "-")) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso-8859-15", "cp1252", "windows-1252":
		var b strings.Builder
		b.Grow(len(s) + len(s)/4)
		for i := 0; i < len(s); i++ {
			b.WriteRune(rune(s[i]))
		}
		return b.String()
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

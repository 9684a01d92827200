package gitlog

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/textcap"
)

// Caps on what one item carries. The title and summary caps are generous
// on purpose: the pipeline redacts every string and then cuts it to its own
// limits, so that a secret is never half-kept by a cut made before
// redaction. These caps only bound memory, and cut at white space when
// there is some near the limit.
const (
	maxTitleRunes   = 4096
	maxSummaryBytes = 1 << 20
	maxFiles        = 1000
)

// commitInfo is what the item mapping needs from a commit, free of go-git
// types so that the mapping is a pure, table-tested function.
type commitInfo struct {
	SHA         string
	AuthorName  string // after .mailmap
	AuthorEmail string // after .mailmap
	// OriginalAuthorName and OriginalAuthorEmail are as written in the
	// commit, before .mailmap.
	OriginalAuthorName  string
	OriginalAuthorEmail string
	AuthorWhen          time.Time
	CommitWhen          time.Time
	Message             string // already valid UTF-8
	MessageCut          bool   // the commit object was too large to read whole
	Parents             []string
	// CoAuthors are the Co-authored-by trailers ("Name <email>", after
	// .mailmap); CoAuthored says the apprentice is one of them and not the
	// author.
	CoAuthors  []string
	CoAuthored bool
	// Work is a merge's piece of work (nil for a commit, or a merge
	// without stats): its files, not the merge's diff, are the item's.
	Work *pieceOfWork
}

// itemMeta is the per-source part of every item.
type itemMeta struct {
	// RepoPath is the "repo" fact: the repository's absolute path, or its
	// URL; OriginURI the items' origin URI (file://path, or the URL).
	Apprentice, Source, RepoPath, OriginURI string
	CollectedAt                             time.Time
	// Web is the repository's web home; HasWeb false: no links.
	Web    webRepo
	HasWeb bool
}

// itemFromCommit maps one commit to its evidence item. stats is nil when
// statsMissing says why they could not be computed. It also returns the
// trailer values that were not KSB IDs.
func itemFromCommit(ci commitInfo, stats []fileStat, statsMissing string, m itemMeta) (evidence.Item, []badValue) {
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
	if ci.AuthorName != ci.OriginalAuthorName || ci.AuthorEmail != ci.OriginalAuthorEmail {
		facts["author_mapped"] = true
		facts["original_author_name"] = ci.OriginalAuthorName
		facts["original_author_email"] = ci.OriginalAuthorEmail
	}
	if ci.MessageCut {
		facts["message_truncated"] = true
	}
	if len(ci.CoAuthors) > 0 {
		facts["co_authors"] = toAny(ci.CoAuthors)
	}
	if ci.CoAuthored {
		facts["co_authored"] = true
	}
	if t, cut := textcap.Runes(title, maxTitleRunes, textcap.BeforeWord); cut {
		title = t
		facts["title_truncated"] = true
	}
	if s, cut := textcap.Bytes(summary, maxSummaryBytes, textcap.BeforeWord); cut {
		summary = s
		facts["summary_truncated"] = true
	}
	if statsMissing != "" {
		facts["stats_unavailable"] = statsMissing
	} else {
		own := stats
		if w := ci.Work; w != nil {
			// The merge's diff against its first parent holds what others
			// wrote: it is kept apart, and the item's files are the
			// apprentice's own commits' in it.
			md := map[string]any{}
			putFiles(md, stats)
			facts["merge_diff"] = md
			own = w.Files
			work := map[string]any{"commits": toAny(w.Mine), "commits_by_others": w.ByOthers}
			if w.Branch != "" {
				work["branch"] = w.Branch
			}
			if w.Incomplete {
				work["incomplete"] = true
			}
			facts["work"] = work
		}
		putFiles(facts, own)
		classes, docWords := classesOf(own)
		cl := make([]any, len(classes))
		for i, c := range classes {
			cl[i] = c
		}
		facts["classes"] = cl
		if docWords > 0 {
			facts["doc_words"] = docWords
		}
	}
	if m.HasWeb {
		facts["web_url"] = m.Web.commitURL(ci.SHA)
	}
	if n := requestNumber(ci.Message); n > 0 {
		facts["pull_request"] = n
		if m.HasWeb {
			facts["pull_request_url"] = m.Web.requestURL(n)
		}
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
		Origin:      evidence.Origin{URI: m.OriginURI, NativeID: ci.SHA},
		Facts:       facts,
		Tags:        tags,
	}
	it.Normalize()
	return it, bad
}

// putFiles writes the file facts of stats into m: files (at most
// maxFiles), files_truncated, files_too_large and the totals.
func putFiles(m map[string]any, stats []fileStat) {
	ins, del, large := 0, 0, 0
	files := make([]any, 0, min(len(stats), maxFiles))
	for i, f := range stats {
		ins += f.Insertions
		del += f.Deletions
		if f.TooLarge {
			large++
		}
		if i >= maxFiles {
			continue
		}
		fm := map[string]any{"path": f.Path, "insertions": f.Insertions, "deletions": f.Deletions}
		if f.Binary {
			fm["binary"] = true
		}
		if f.TooLarge {
			fm["too_large"] = true
		}
		files = append(files, fm)
	}
	if large > 0 {
		m["files_too_large"] = large
	}
	m["files"] = files
	if len(stats) > maxFiles {
		m["files_truncated"] = true
	}
	m["files_changed"] = len(stats)
	m["insertions"] = ins
	m["deletions"] = del
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
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

package gitlog

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ksbfolio/ksbfolio/evidence"
)

func TestItemFromCommit(t *testing.T) {
	t.Parallel()
	when := time.Date(2026, 3, 2, 11, 4, 0, 0, time.FixedZone("BST", 3600))
	meta := itemMeta{Apprentice: "jdoe", Source: "model-repo", RepoPath: "/src/fraud", CollectedAt: when.UTC()}
	base := commitInfo{SHA: strings.Repeat("ab", 20), AuthorName: "Jane", AuthorEmail: "jane@corp.example",
		AuthorWhen: when, CommitWhen: when.Add(time.Hour), Parents: []string{strings.Repeat("01", 20)}}
	stats := []fileStat{{Path: "src/train.py", Insertions: 5, Deletions: 2}, {Path: "models/m.onnx", Binary: true}}

	t.Run("commit", func(t *testing.T) {
		ci := base
		ci.Message = "Add drift detection\n\nUses PSI.\n\nKSB: S10, nope\n"
		it, bad := itemFromCommit(ci, stats, "", meta)
		if err := it.Validate(); err != nil {
			t.Fatal(err)
		}
		if it.ID != evidence.NewID("git", ci.SHA) || it.Kind != evidence.KindCommit || it.SourceType != "git" ||
			it.Title != "Add drift detection" || it.Summary != "Uses PSI.\n\nKSB: S10, nope" ||
			!it.OccurredAt.Equal(when) || it.OccurredAt.Location() != time.UTC ||
			it.Origin.URI != "file:///src/fraud" || it.Origin.NativeID != ci.SHA {
			t.Errorf("item = %+v", it)
		}
		if it.Facts["insertions"] != 5 || it.Facts["deletions"] != 2 || it.Facts["files_changed"] != 2 ||
			it.Facts["committed_at"] != "2026-03-02T11:04:00Z" || it.Facts["repo"] != "/src/fraud" {
			t.Errorf("facts = %v", it.Facts)
		}
		files := it.Facts["files"].([]any)
		if f := files[1].(map[string]any); f["binary"] != true || f["insertions"] != 0 {
			t.Errorf("binary file = %v", f)
		}
		if len(it.Tags) != 1 || it.Tags[0] != (evidence.Tag{KSB: "S10", By: "declared:trailer", Confidence: 1, Reason: "declared in commit trailer"}) {
			t.Errorf("tags = %+v", it.Tags)
		}
		if len(bad) != 1 || bad[0] != "nope" {
			t.Errorf("bad trailer values = %q", bad)
		}
	})
	t.Run("merge without stats", func(t *testing.T) {
		ci := base
		ci.Parents = append(ci.Parents, strings.Repeat("02", 20))
		ci.Message = "Merge branch 'x'"
		it, _ := itemFromCommit(ci, nil, "parent gone", meta)
		if it.Kind != evidence.KindMerge || it.Facts["stats_unavailable"] != "parent gone" || it.Facts["files"] != nil {
			t.Errorf("item = %+v", it)
		}
		if ps := it.Facts["parents"].([]any); len(ps) != 2 {
			t.Errorf("parents = %v", ps)
		}
	})
	t.Run("caps", func(t *testing.T) {
		ci := base
		ci.Message = strings.Repeat("é", 300) + "\n\n" + strings.Repeat("€", 30000)
		many := make([]fileStat, maxFiles+5)
		for i := range many {
			many[i] = fileStat{Path: "f", Insertions: 1}
		}
		it, _ := itemFromCommit(ci, many, "", meta)
		// Title and summary are cut by the pipeline, after redaction.
		if it.Title != strings.Repeat("é", 300) || it.Facts["title_truncated"] != nil {
			t.Errorf("title cut by the collector: %d runes, facts %v", utf8.RuneCountInString(it.Title), it.Facts["title_truncated"])
		}
		if it.Summary != strings.Repeat("€", 30000) || it.Facts["summary_truncated"] != nil {
			t.Errorf("summary cut by the collector: %d bytes", len(it.Summary))
		}
		if len(it.Facts["files"].([]any)) != maxFiles || it.Facts["files_truncated"] != true ||
			it.Facts["files_changed"] != maxFiles+5 || it.Facts["insertions"] != maxFiles+5 {
			t.Errorf("files facts: %d files, %v", len(it.Facts["files"].([]any)), it.Facts["files_changed"])
		}
	})
	t.Run("empty message", func(t *testing.T) {
		ci := base
		ci.Message = "\n\n"
		it, _ := itemFromCommit(ci, stats, "", meta)
		if it.Title != "(no commit message)" || it.Summary != "" {
			t.Errorf("title %q summary %q", it.Title, it.Summary)
		}
	})
}

func TestToUTF8(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, enc, want string }{
		{"plain", "", "plain"},
		{"caf\xe9", "ISO-8859-1", "café"},
		{"caf\xe9", "latin1", "café"},
		{"caf\xe9", "", "caf\uFFFD"},
		{"café", "ISO-8859-1", "café"}, // already UTF-8: left alone
	}
	for _, tc := range cases {
		if got := toUTF8(tc.in, tc.enc); got != tc.want {
			t.Errorf("toUTF8(%q, %q) = %q, want %q", tc.in, tc.enc, got, tc.want)
		}
	}
}

func TestGlobRegexp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, ref string
		match        bool
	}{
		{"refs/heads/*", "refs/heads/main", true},
		{"refs/heads/*", "refs/heads/feature/x", true},
		{"refs/heads/release-?", "refs/heads/release-1", true},
		{"refs/heads/release-?", "refs/heads/release-10", false},
		{"refs/tags/v[0-9]*", "refs/tags/v1.2", true},
		{"refs/tags/v[!0-9]*", "refs/tags/v1.2", false},
		{"refs/heads/a.b", "refs/heads/axb", false},
	}
	for _, tc := range cases {
		re, err := globRegexp(tc.pattern)
		if err != nil {
			t.Fatalf("globRegexp(%q): %v", tc.pattern, err)
		}
		if got := re.MatchString(tc.ref); got != tc.match {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.ref, got, tc.match)
		}
	}
	if _, err := globRegexp("refs/heads/[abc"); err == nil {
		t.Error("unclosed [ accepted")
	}
}

func TestDecodeCursor(t *testing.T) {
	t.Parallel()
	sha := strings.Repeat("a", 40)
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"nil", "", false},
		{"null", "null", false},
		{"garbage", "{not json", false},
		{"wrong version", `{"version":2,"fingerprint":"x","tips":{}}`, false},
		{"bad sha", `{"version":1,"fingerprint":"x","tips":{"refs/heads/main":"zz"}}`, false},
		{"good", `{"version":1,"fingerprint":"x","tips":{"refs/heads/main":"` + sha + `"}}`, true},
	}
	for _, tc := range cases {
		st, ok, why := decodeCursor([]byte(tc.in))
		if ok != tc.ok || (!ok && why == "") {
			t.Errorf("%s: ok %v why %q", tc.name, ok, why)
		}
		if ok && st.Tips["refs/heads/main"] != sha {
			t.Errorf("%s: tips %v", tc.name, st.Tips)
		}
	}
	a := fingerprint([]string{"Jane@X", "b@x"}, nil, []byte("m"))
	if b := fingerprint([]string{"b@x", "jane@x", "jane@x"}, nil, []byte("m")); a != b {
		t.Error("fingerprint depends on email order, case or duplicates")
	}
	for _, other := range []string{
		fingerprint([]string{"jane@x"}, nil, []byte("m")),
		fingerprint([]string{"Jane@X", "b@x"}, []string{"main"}, []byte("m")),
		fingerprint([]string{"Jane@X", "b@x"}, nil, []byte("m2")),
	} {
		if other == a {
			t.Error("fingerprint ignores a change of emails, refs or mailmap")
		}
	}
}

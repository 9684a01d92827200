package gitlog

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ksbfolio/ksbfolio/evidence"
)

func TestItemFromCommit(t *testing.T) {
	t.Parallel()
	when := time.Date(2026, 3, 2, 11, 4, 0, 0, time.FixedZone("BST", 3600))
	meta := itemMeta{Apprentice: "jdoe", Source: "model-repo", RepoPath: "/src/fraud", OriginURI: "file:///src/fraud", CollectedAt: when.UTC()}
	base := commitInfo{SHA: strings.Repeat("ab", 20), AuthorName: "Jane", AuthorEmail: "jane@corp.example",
		OriginalAuthorName: "Jane", OriginalAuthorEmail: "jane@corp.example",
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
		if len(bad) != 1 || bad[0] != (badValue{Index: 2, Len: 4}) {
			t.Errorf("bad trailer values = %v", bad)
		}
		if _, mapped := it.Facts["author_mapped"]; mapped {
			t.Errorf("unmapped author marked: %v", it.Facts)
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
		ci.Message = strings.Repeat("é ", maxTitleRunes) + "\n\n" + strings.Repeat("€ ", maxSummaryBytes/4+10)
		many := make([]fileStat, maxFiles+5)
		for i := range many {
			many[i] = fileStat{Path: "f", Insertions: 1}
		}
		it, _ := itemFromCommit(ci, many, "", meta)
		if n := utf8.RuneCountInString(it.Title); n > maxTitleRunes || n < maxTitleRunes-2 || !strings.HasSuffix(it.Title, "é…") || it.Facts["title_truncated"] != true {
			t.Errorf("title: %d runes, facts %v", n, it.Facts["title_truncated"])
		}
		if len(it.Summary) > maxSummaryBytes || len(it.Summary) < maxSummaryBytes-8 || !utf8.ValidString(it.Summary) || !strings.HasSuffix(it.Summary, "€…") || it.Facts["summary_truncated"] != true {
			t.Errorf("summary: %d bytes, valid %v", len(it.Summary), utf8.ValidString(it.Summary))
		}
		if len(it.Facts["files"].([]any)) != maxFiles || it.Facts["files_truncated"] != true ||
			it.Facts["files_changed"] != maxFiles+5 || it.Facts["insertions"] != maxFiles+5 {
			t.Errorf("files facts: %d files, %v", len(it.Facts["files"].([]any)), it.Facts["files_changed"])
		}
	})
	t.Run("caps cut at white space", func(t *testing.T) {
		// A token across the cap is dropped whole, never half kept.
		ci := base
		token := "sk_live_" + strings.Repeat("Z", 40)
		ci.Message = strings.Repeat("word ", (maxTitleRunes-20)/5) + token + " tail\n\n" +
			strings.Repeat("line\n", (maxSummaryBytes-20)/5) + token + "\n"
		it, _ := itemFromCommit(ci, stats, "", meta)
		if strings.Contains(it.Title, "sk_live") || !strings.HasSuffix(it.Title, "word…") || it.Facts["title_truncated"] != true {
			t.Errorf("title ends %q", it.Title[len(it.Title)-30:])
		}
		if strings.Contains(it.Summary, "sk_live") || !strings.HasSuffix(it.Summary, "line…") || it.Facts["summary_truncated"] != true {
			t.Errorf("summary ends %q", it.Summary[len(it.Summary)-30:])
		}
	})
	t.Run("a long word across the cap is left out whole", func(t *testing.T) {
		// However long: the redactor has not seen it yet, and what is cut
		// off might be what made it recognisable.
		ci := base
		ci.Message = "Fix " + strings.Repeat("Z", 2*maxTitleRunes) + "\n\nkey " + strings.Repeat("k", 2*maxSummaryBytes)
		it, _ := itemFromCommit(ci, stats, "", meta)
		if it.Title != "Fix…" || it.Summary != "key…" {
			t.Errorf("title %.40q, summary %.40q; want the long words left out", it.Title, it.Summary)
		}
	})
	t.Run("mapped author and cut message", func(t *testing.T) {
		ci := base
		ci.Message = "Fix"
		ci.OriginalAuthorName, ci.OriginalAuthorEmail = "J D", "jd@old.example"
		ci.MessageCut = true
		it, _ := itemFromCommit(ci, stats, "", meta)
		if it.Facts["author_mapped"] != true || it.Facts["original_author_email"] != "jd@old.example" ||
			it.Facts["original_author_name"] != "J D" || it.Facts["author_email"] != "jane@corp.example" ||
			it.Facts["message_truncated"] != true {
			t.Errorf("facts = %v", it.Facts)
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
	mainKey := refKey("refs/heads/main")
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"nil", "", false},
		{"null", "null", false},
		{"garbage", "{not json", false},
		{"future version", `{"version":3,"fingerprint":"x","tips":{}}`, false},
		{"bad sha", `{"version":2,"fingerprint":"x","tips":{"` + mainKey + `":"zz"}}`, false},
		{"bad retry sha", `{"version":2,"fingerprint":"x","tips":{"` + mainKey + `":"` + sha + `"},"missing":["nope"]}`, false},
		{"bad shallow sha", `{"version":2,"fingerprint":"x","tips":{},"shallow":["` + sha + `x"]}`, false},
		{"good", `{"version":2,"fingerprint":"x","tips":{"` + mainKey + `":"` + sha + `"},"missing":["` + sha + `"]}`, true},
		{"version 1 migrated", `{"version":1,"fingerprint":"x","tips":{"refs/heads/main":"` + sha + `"}}`, true},
	}
	for _, tc := range cases {
		st, ok, why := decodeCursor([]byte(tc.in))
		if ok != tc.ok || (!ok && why == "") {
			t.Errorf("%s: ok %v why %q", tc.name, ok, why)
		}
		if strings.Contains(why, "nope") || strings.Contains(why, "zz") {
			t.Errorf("%s: why %q quotes the cursor's content", tc.name, why)
		}
		if ok && (st.Tips[mainKey] != sha || len(st.Tips) != 1 || st.Version != cursorVersion) {
			t.Errorf("%s: tips %v version %d", tc.name, st.Tips, st.Version)
		}
	}
	// No ref name in an encoded cursor; lists sorted, deduplicated and
	// bounded.
	st := cursorState{Version: cursorVersion, Fingerprint: "x", Tips: map[string]string{refKey("refs/heads/hunter2"): sha},
		Missing: []string{strings.Repeat("b", 40), sha, sha}}
	enc := string(st.encode())
	if strings.Contains(enc, "hunter2") || !strings.Contains(enc, `"missing":["`+sha+`","`+strings.Repeat("b", 40)+`"]`) {
		t.Errorf("encoded cursor %s", enc)
	}
	for i := range maxRetry + 1 {
		st.NoStats = append(st.NoStats, fmt.Sprintf("%040x", i))
	}
	over, ok, _ := decodeCursor(st.encode())
	if !ok || len(over.Tips) != 0 || len(over.NoStats) != 0 || len(over.Missing) != 0 {
		t.Errorf("overflowing cursor kept %d tips, %d no_stats: want a full walk next", len(over.Tips), len(over.NoStats))
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

// FuzzDecodeCursor: any stored cursor is either refused with a reason or
// read into a state that encodes and reads back the same.
func FuzzDecodeCursor(f *testing.F) {
	sha := strings.Repeat("a", 40)
	f.Add(`{"version":2,"fingerprint":"x","tips":{"k":"` + sha + `"},"missing":["` + sha + `"],"shallow":["` + sha + `"]}`)
	f.Add(`{"version":1,"fingerprint":"x","tips":{"refs/heads/main":"` + sha + `"}}`)
	f.Add(`{"version":2,"tips":null,"no_stats":[]}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, in string) {
		st, ok, why := decodeCursor([]byte(in))
		if !ok {
			if why == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		again, ok, why := decodeCursor(st.encode())
		if !ok {
			t.Fatalf("encoded cursor refused: %s", why)
		}
		if !sameTips(again.Tips, st.Tips) && len(again.Tips) != 0 {
			t.Fatalf("tips changed: %v → %v", st.Tips, again.Tips)
		}
	})
}

package gitlog_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  gitlog.Config
		want []string // substrings of the error; none: valid
	}{
		{"valid", gitlog.Config{Name: "r", Path: ".", Emails: []string{"a@x"}, Apprentice: "a"}, nil},
		{"everything missing", gitlog.Config{}, []string{"name: must be set", "path: required", "apprentice: must be set", "emails:"}},
		{"bad email", gitlog.Config{Name: "r", Path: ".", Emails: []string{"Jane <j@x>"}, Apprentice: "a"}, []string{"emails[0]"}},
		{"bad refs", gitlog.Config{Name: "r", Path: ".", Emails: []string{"a@x"}, Apprentice: "a", Refs: []string{"main", "", "refs/heads/[x", "a b"}},
			[]string{"refs[1]", "refs[2]", "refs[3]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gitlog.New(tc.cfg, nil, nil)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("New accepted an invalid config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestSourceMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, p := range []string{filepath.Join(dir, "nope"), dir} { // absent; a folder that is not a repo
		c := newCollector(t, gitlog.Config{Path: p, Emails: []string{janeE}})
		s, next, err := collect(t, c, nil)
		if !errors.Is(err, collectors.ErrSourceMissing) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v, want ErrSourceMissing naming the path", p, err)
		}
		if next != nil || len(s.items) != 0 {
			t.Errorf("%s: cursor %s, %d items", p, next, len(s.items))
		}
	}
	// A subfolder of a repository is not the repository.
	r := newRepo(t)
	r.write("src/a.py", "x\n")
	r.commit(jane, "Add a")
	c := newCollector(t, gitlog.Config{Path: filepath.Join(r.dir, "src"), Emails: []string{janeE}})
	if _, _, err := collect(t, c, nil); !errors.Is(err, collectors.ErrSourceMissing) {
		t.Errorf("subfolder: err = %v, want ErrSourceMissing", err)
	}
}

func TestEmptyRepository(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}})
	s, next, err := collect(t, c, nil)
	if err != nil || len(s.items) != 0 || next == nil {
		t.Fatalf("empty repo: err %v, %d items, cursor %s", err, len(s.items), next)
	}
}

// TestAuthorFilter: mixed-case emails and every .mailmap form decide whose
// commits are collected; facts carry the mapped identity.
func TestAuthorFilter(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write(".mailmap", "<jane@corp.example> <jane.doe@old.example>\n"+
		"Jane Doe <jane@corp.example> J D <shared@corp.example>\n")
	want := map[string]string{} // sha → title
	r.write("a.txt", "1\n")
	want[r.commit("Jane Doe <Jane@Corp.Example>", "Mixed case email")] = "Mixed case email"
	r.write("a.txt", "2\n")
	want[r.commit("Jane D. <jane.doe@old.example>", "Old address")] = "Old address"
	r.write("a.txt", "3\n")
	r.commit(sam, "Colleague")
	r.write("a.txt", "4\n")
	want[r.commit("J D <shared@corp.example>", "Shared address, Jane's name")] = "Shared address, Jane's name"
	r.write("a.txt", "5\n")
	r.commit("Someone Else <shared@corp.example>", "Shared address, other name")

	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{"JANE@corp.example"}})
	s, _, err := collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := s.byNative()
	if len(got) != len(want) {
		t.Fatalf("got %d items, want %d: %v", len(got), len(want), titles(s.items))
	}
	for sha, title := range want {
		it := got[sha]
		if it.Title != title {
			t.Errorf("%s: title %q, want %q", sha, it.Title, title)
		}
		if e := it.Facts["author_email"]; !strings.EqualFold(e.(string), janeE) {
			t.Errorf("%s: author_email %v, want the mapped address", sha, e)
		}
	}
	if n := got[r.git("rev-parse", "HEAD~1")].Facts["author_name"]; n != "Jane Doe" {
		t.Errorf("form 4 author_name = %v, want Jane Doe", n)
	}
}

func titles(items []evidence.Item) []string {
	var ts []string
	for _, it := range items {
		ts = append(ts, it.Title)
	}
	return ts
}

// TestMergeAndTrailers: merges are kind merge with stats against their
// first parent; trailers become declared tags; bad values become warnings.
func TestMergeAndTrailers(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write("src/train.py", "a\nb\nc\n")
	r.commit(jane, "Initial")
	r.git("checkout", "-q", "-b", "feature/drift")
	r.write("monitoring/alerts.yaml", "- alert: drift\n  expr: psi > 0.2\n")
	r.write("src/train.py", "a\nB\nc\nd\n")
	r.commit(sam, "Add drift alert")
	r.git("checkout", "-q", "main")
	r.write("README.md", "readme\n")
	r.commit(sam, "Readme")
	merge := r.mergeNoFF(jane, "feature/drift", "Merge branch 'feature/drift'\n\nReviewed the alert thresholds.\n\nKSB: S10, k12; monitoring")

	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}})
	s, _, err := collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	it, ok := s.byNative()[merge]
	if !ok || len(s.items) != 2 {
		t.Fatalf("items %v; want the initial commit and the merge", titles(s.items))
	}
	if it.Kind != evidence.KindMerge || len(it.Facts["parents"].([]any)) != 2 {
		t.Errorf("merge kind %q parents %v", it.Kind, it.Facts["parents"])
	}
	// Sam wrote what the merge brings in: the merge item's files (what
	// rules match) are none; the diff against the first parent is kept
	// apart, and the piece of work names the branch and counts Sam's commit.
	if files := filesOf(t, it); len(files) != 0 || len(it.Facts["classes"].([]any)) != 0 {
		t.Errorf("merge files %v classes %v, want none: Jane wrote none of them", files, it.Facts["classes"])
	}
	files := mergeDiffFiles(t, it)
	wantFiles := map[string]fileCount{"monitoring/alerts.yaml": {2, 0}, "src/train.py": {2, 1}}
	if len(files) != len(wantFiles) || files["monitoring/alerts.yaml"] != wantFiles["monitoring/alerts.yaml"] || files["src/train.py"] != wantFiles["src/train.py"] {
		t.Errorf("merge_diff files %v, want %v (diff against first parent)", files, wantFiles)
	}
	work, _ := it.Facts["work"].(map[string]any)
	if work["branch"] != "feature/drift" || work["commits_by_others"] != float64(1) || len(work["commits"].([]any)) != 0 {
		t.Errorf("work %v", work)
	}
	var ksbs []string
	for _, tg := range it.Tags {
		ksbs = append(ksbs, tg.KSB)
		if tg.By != "declared:trailer" || tg.Confidence != 1 || tg.Catalogue != "" {
			t.Errorf("tag %+v", tg)
		}
	}
	if !slices.Equal(ksbs, []string{"S10", "K12"}) {
		t.Errorf("declared KSBs %v, want [S10 K12]", ksbs)
	}
	if len(s.warns) != 1 || strings.Contains(s.warns[0], "monitoring") || !strings.Contains(s.warns[0], "#3") || !strings.Contains(s.warns[0], merge[:12]) {
		t.Errorf("warnings %q, want one naming the commit and the value's place, not the value", s.warns)
	}
	if it.Summary != "Reviewed the alert thresholds.\n\nKSB: S10, k12; monitoring" {
		t.Errorf("summary %q", it.Summary)
	}
}

// TestIncremental walks the cursor through new commits, a force-push and a
// fingerprint change.
func TestIncremental(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "repo")
	sum, err := demorepo.Build(context.Background(), dir, demorepo.Options{Commits: 120, Seed: 3, Branches: 3, Mailmap: true})
	if err != nil {
		t.Fatal(err)
	}
	r := &repo{t: t, dir: dir, when: demoRepoEnd(t, dir)}
	logs := &logRecorder{}
	c, err := gitlog.New(gitlog.Config{Name: "r", Apprentice: "jdoe", Path: dir, Emails: []string{janeE}}, slog.New(logs), nil)
	if err != nil {
		t.Fatal(err)
	}

	s, cur, err := collect(t, c, nil)
	if err != nil || len(s.items) != sum.Apprentice {
		t.Fatalf("first run: %v, %d items, want %d", err, len(s.items), sum.Apprentice)
	}

	s, cur2, err := collect(t, c, cur)
	if err != nil || len(s.items) != 0 {
		t.Fatalf("second run: %v, %d items, want 0", err, len(s.items))
	}
	if string(cur2) != string(cur) {
		t.Errorf("cursor changed with nothing new:\n%s\n%s", cur, cur2)
	}

	var added []string
	for i := 0; i < 3; i++ {
		r.write("src/new.py", strings.Repeat("x\n", i+1))
		added = append(added, r.commit(jane, "New work"))
	}
	r.write("src/other.py", "y\n")
	r.commit(sam, "Colleague's work")
	s, cur, err = collect(t, c, cur2)
	if err != nil || !sameSet(natives(s.items), added) {
		t.Fatalf("after 3 commits: %v, emitted %v, want %v", err, natives(s.items), added)
	}
	// The walk stopped soon after the old tips instead of reading the
	// whole history (git's slop: a few commits past them).
	if n := logs.attr("git collect finished", "commits_read").Int64(); n == 0 || n > 20 {
		t.Errorf("incremental run read %d commits of %d; want only the new ones and a few more", n, sum.Commits+4)
	}

	// Force-push: rewrite the last two commits.
	r.git("reset", "-q", "--hard", "HEAD~2")
	var rewritten []string
	for i := 0; i < 2; i++ {
		r.write("src/new.py", "rewritten "+strings.Repeat("z\n", i+1))
		rewritten = append(rewritten, r.commit(jane, "Rewritten work"))
	}
	s, cur, err = collect(t, c, cur)
	if err != nil || !sameSet(natives(s.items), rewritten) {
		t.Fatalf("after force-push: %v, emitted %v, want %v", err, natives(s.items), rewritten)
	}

	// A new branch with one new commit, and a deleted branch.
	r.git("checkout", "-q", "-b", "topic")
	r.write("docs/topic.md", "t\n")
	topic := r.commit(jane, "Topic work")
	r.git("checkout", "-q", "main")
	r.git("branch", "-D", "-q", gitBranches(t, r)[0])
	s, cur, err = collect(t, c, cur)
	if err != nil || !sameSet(natives(s.items), []string{topic}) {
		t.Fatalf("new branch: %v, emitted %v, want [%s]", err, natives(s.items), topic)
	}

	// Fingerprint change (another email): everything again, both emails.
	c2 := newCollector(t, gitlog.Config{Path: dir, Emails: []string{janeE, "sam.patel@corp.example"}})
	s, _, err = collect(t, c2, cur)
	out := r.git("log", "--branches", "--use-mailmap", "--regexp-ignore-case", "--format=%H",
		"--author=<jane@corp\\.example>", "--author=<sam\\.patel@corp\\.example>")
	if wantAll := strings.Fields(out); err != nil || !sameSet(natives(s.items), wantAll) {
		t.Fatalf("after fingerprint change: %v, %d items, want a full walk (%d)", err, len(s.items), len(wantAll))
	}
}

// demoRepoEnd is the time of the last commit of a generated repo.
func demoRepoEnd(t *testing.T, dir string) time.Time {
	t.Helper()
	out, err := demorepo.Git(context.Background(), dir, "log", "-1", "--all", "--format=%ct", "--date-order")
	if err != nil {
		t.Fatal(err)
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Unix(sec, 0).UTC()
}

func gitBranches(t *testing.T, r *repo) []string {
	t.Helper()
	var out []string
	for _, b := range strings.Fields(r.git("branch", "--format=%(refname:short)")) {
		if strings.HasPrefix(b, "feature/") {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatal("generated repo has no feature branch")
	}
	return out
}

func natives(items []evidence.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Origin.NativeID)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// TestShallowClone: the commits present are emitted; the boundary commit
// has no stats, a Skip says why, and a PartialError ends the run.
func TestShallowClone(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	for i := 0; i < 8; i++ {
		r.write("src/train.py", strings.Repeat("line\n", i+1))
		r.commit(jane, "Step")
	}
	dst := filepath.Join(t.TempDir(), "shallow")
	if _, err := demorepo.Git(context.Background(), r.dir, "clone", "-q", "--depth", "5", "file://"+r.dir, dst); err != nil {
		t.Fatal(err)
	}
	boundary, err := demorepo.Git(context.Background(), dst, "rev-list", "--max-parents=1", "--reverse", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	boundary = strings.Fields(boundary)[0]

	c := newCollector(t, gitlog.Config{Path: dst, Emails: []string{janeE}})
	s, cur, err := collect(t, c, nil)
	var pe *collectors.PartialError
	if !errors.As(err, &pe) || pe.Failed != 1 {
		t.Fatalf("err = %v, want a PartialError with 1 skip", err)
	}
	if cur == nil {
		t.Error("no cursor with a PartialError")
	}
	if len(s.items) != 5 {
		t.Fatalf("%d items, want 5", len(s.items))
	}
	if len(s.skips) != 1 || !strings.Contains(s.skips[0].What, boundary) || !strings.Contains(s.skips[0].Reason, "shallow") {
		t.Errorf("skips %+v, want one for the stats of %s", s.skips, boundary)
	}
	for _, it := range s.items {
		_, hasFiles := it.Facts["files"]
		_, noStats := it.Facts["stats_unavailable"]
		if (it.Origin.NativeID == boundary) != noStats || hasFiles == noStats {
			t.Errorf("%s: files %v stats_unavailable %v", it.Origin.NativeID, hasFiles, it.Facts["stats_unavailable"])
		}
	}
}

// TestPartialClone: blobs missing from a partial clone (blob-less, or
// without the blobs over a size limit) make commits lose their stats, not
// the whole run; what is present is collected and each missing blob is a
// counted skip.
func TestPartialClone(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	for i := 0; i < 4; i++ { // blobs of 5, 10, 15 and 20 bytes
		r.write("src/train.py", strings.Repeat("line\n", i+1))
		r.commit(jane, "Step")
	}
	r.git("config", "uploadpack.allowFilter", "true")
	skipped := map[string]int{}
	for _, filter := range []string{"blob:none", "blob:limit=12"} {
		dst := filepath.Join(t.TempDir(), "partial")
		if _, err := demorepo.Git(context.Background(), r.dir, "clone", "-q", "--no-checkout", "--filter="+filter, "file://"+r.dir, dst); err != nil {
			t.Fatal(err)
		}
		c := newCollector(t, gitlog.Config{Path: dst, Emails: []string{janeE}})
		s, _, err := collect(t, c, nil)
		var pe *collectors.PartialError
		if !errors.As(err, &pe) {
			t.Fatalf("%s: err = %v, want a PartialError", filter, err)
		}
		if len(s.items) != 4 || pe.Failed != len(s.skips) || len(s.skips) == 0 {
			t.Fatalf("%s: %d items, %d skips (%d counted); want 4 items", filter, len(s.items), len(s.skips), pe.Failed)
		}
		for _, sk := range s.skips {
			if !strings.Contains(sk.Reason, "blob") {
				t.Errorf("%s: skip %+v, want a missing blob", filter, sk)
			}
		}
		skipped[filter] = len(s.skips)
	}
	// The size-limited clone has the small blobs: fewer commits lack stats.
	if skipped["blob:limit=12"] >= skipped["blob:none"] {
		t.Errorf("skips: %v; want fewer with blob:limit=12 (the small blobs are present)", skipped)
	}
}

func TestMissingCommitObject(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write("a.txt", "1\n")
	r.commit(jane, "One")
	// A branch pointing at a commit that does not exist.
	ghost := strings.Repeat("1", 40)
	if err := os.WriteFile(filepath.Join(r.dir, ".git", "refs", "heads", "ghost"), []byte(ghost+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}})
	s, cur, err := collect(t, c, nil)
	var pe *collectors.PartialError
	if !errors.As(err, &pe) || len(s.items) != 1 || len(s.skips) != 1 || !strings.Contains(s.skips[0].What, ghost) {
		t.Fatalf("err %v, %d items, skips %+v", err, len(s.items), s.skips)
	}
	// The ref's tip is not recorded: the next run tries it again ...
	s, cur, err = collect(t, c, cur)
	if !errors.As(err, &pe) || len(s.items) != 0 || len(s.skips) != 1 {
		t.Fatalf("second run: err %v, %d items, skips %+v", err, len(s.items), s.skips)
	}
	// ... until the ref is gone.
	r.git("update-ref", "-d", "refs/heads/ghost")
	if s, _, err = collect(t, c, cur); err != nil || len(s.items) != 0 {
		t.Fatalf("ghost ref deleted: err %v, %d items", err, len(s.items))
	}
}

func TestRefsConfig(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write("a.txt", "1\n")
	mainSHA := r.commit(jane, "On main")
	r.git("checkout", "-q", "-b", "release/1")
	r.write("a.txt", "2\n")
	rel := r.commit(jane, "On release")
	r.git("tag", "-a", "-m", "v1", "v1.0")
	r.git("checkout", "-q", "-b", "wip")
	r.write("a.txt", "3\n")
	wip := r.commit(jane, "On wip")
	r.git("checkout", "-q", "main")

	cases := []struct {
		name  string
		refs  []string
		want  []string
		warns int
	}{
		{"default: all branches", nil, []string{mainSHA, rel, wip}, 0},
		{"short name", []string{"main"}, []string{mainSHA}, 0},
		{"pattern crosses slashes", []string{"refs/heads/release*"}, []string{mainSHA, rel}, 0},
		{"annotated tag peeled", []string{"refs/tags/v1.0"}, []string{mainSHA, rel}, 0},
		{"HEAD", []string{"HEAD"}, []string{mainSHA}, 0},
		{"unknown ref warns", []string{"main", "nope"}, []string{mainSHA}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}, Refs: tc.refs})
			s, _, err := collect(t, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !sameSet(natives(s.items), tc.want) || len(s.warns) != tc.warns {
				t.Errorf("emitted %v (warnings %q), want %v and %d warnings", titles(s.items), s.warns, tc.want, tc.warns)
			}
		})
	}
}

func TestCancelAndSinkErrors(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "repo")
	if _, err := demorepo.Build(context.Background(), dir, demorepo.Options{Commits: 60, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	c := newCollector(t, gitlog.Config{Path: dir, Emails: []string{janeE}})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &recordingSink{t: t}
	if next, err := c.Collect(ctx, nil, s); !errors.Is(err, context.Canceled) || next != nil || len(s.items) != 0 {
		t.Errorf("cancelled before: err %v, cursor %s, %d items", err, next, len(s.items))
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	s = &recordingSink{t: t, onEmit: func(n int) {
		if n == 2 {
			cancel()
		}
	}}
	if next, err := c.Collect(ctx, nil, s); !errors.Is(err, context.Canceled) || next != nil || len(s.items) > 3 {
		t.Errorf("cancelled during: err %v, cursor %s, %d items", err, next, len(s.items))
	}

	boom := errors.New("store full")
	s = &recordingSink{t: t, emitErr: boom, failAt: 1}
	if next, err := c.Collect(context.Background(), nil, s); err != boom || next != nil || len(s.items) != 1 {
		t.Errorf("sink error: err %v (want it unchanged), cursor %s, %d items", err, next, len(s.items))
	}
}

// TestSameIDsTwice: two full runs give the same items (bar collected_at).
func TestSameIDsTwice(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "repo")
	if _, err := demorepo.Build(context.Background(), dir, demorepo.Options{Commits: 80, Seed: 9, Branches: 2, TrailerEvery: 2}); err != nil {
		t.Fatal(err)
	}
	c := newCollector(t, gitlog.Config{Path: dir, Emails: []string{janeE}})
	a, _, err := collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(natives(a.items), natives(b.items)) || len(a.items) == 0 {
		t.Fatalf("runs differ: %d vs %d items", len(a.items), len(b.items))
	}
	ids := map[string]bool{}
	tagged := 0
	for _, it := range a.items {
		ids[it.ID] = true
		if len(it.Tags) > 0 {
			tagged++
		}
	}
	if len(ids) != len(a.items) || tagged == 0 {
		t.Errorf("%d distinct IDs for %d items, %d tagged", len(ids), len(a.items), tagged)
	}
}

// TestMailmapMustBeCommitted: an untracked or uncommitted .mailmap changes
// nothing; once committed it maps, and the mapped items keep the original
// author and are marked.
func TestMailmapMustBeCommitted(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write("a.txt", "1\n")
	mine := r.commit(jane, "Mine")
	r.write("a.txt", "2\n")
	colleague := r.commit(sam, "Colleague's")
	r.write("a.txt", "3\n")
	other := r.commit("Kim Lee <kim@corp.example>", "Another colleague's")

	// Untracked: ignored.
	r.write(".mailmap", "Jane Doe <jane@corp.example> <sam@corp.example>\n")
	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}})
	s, cur, err := collect(t, c, nil)
	if err != nil || !sameSet(natives(s.items), []string{mine}) {
		t.Fatalf("untracked .mailmap: err %v, emitted %v, want only %s", err, titles(s.items), mine)
	}
	if _, marked := s.items[0].Facts["author_mapped"]; marked {
		t.Errorf("unmapped item marked: %v", s.items[0].Facts)
	}

	// Committed (mapping sam), then changed in the work tree (mapping kim
	// too) without committing: only the committed mapping counts.
	r.git("add", ".mailmap")
	r.commitIndex(sam, "Add mailmap")
	r.write(".mailmap", "Jane Doe <jane@corp.example> <sam@corp.example>\nJane Doe <jane@corp.example> <kim@corp.example>\n")
	s, _, err = collect(t, c, cur)
	if err != nil || !sameSet(natives(s.items), []string{mine, colleague, r.git("rev-parse", "HEAD")}) {
		t.Fatalf("committed .mailmap: err %v, emitted %v, want a full walk mapping sam's commits only (not %s)", err, titles(s.items), other)
	}
	it := s.byNative()[colleague]
	if it.Facts["author_mapped"] != true || it.Facts["original_author_email"] != "sam@corp.example" ||
		it.Facts["original_author_name"] != "Sam Patel" || it.Facts["author_email"] != janeE {
		t.Errorf("mapped item facts %v", it.Facts)
	}
	if _, marked := s.byNative()[mine].Facts["author_mapped"]; marked {
		t.Errorf("unmapped item marked: %v", s.byNative()[mine].Facts)
	}
}

// TestBareRepositoryAndEncoding: a bare clone takes its .mailmap from
// HEAD's tree, and a Latin-1 commit message comes out as UTF-8.
func TestBareRepositoryAndEncoding(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write(".mailmap", "Jane Doe <jane@corp.example> <jd@old.example>\n")
	r.commit(jane, "Add mailmap")
	r.write("a.txt", "x\n")
	msgFile := filepath.Join(t.TempDir(), "msg")
	if err := os.WriteFile(msgFile, []byte("R\xe9sum\xe9 of the caf\xe9 model\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.commit("J D <jd@old.example>", "placeholder")
	r.git("-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "--amend", "--author=J D <jd@old.example>", "-F", msgFile)
	latin := r.git("rev-parse", "HEAD")

	bare := filepath.Join(t.TempDir(), "bare.git")
	if _, err := demorepo.Git(context.Background(), r.dir, "clone", "-q", "--bare", r.dir, bare); err != nil {
		t.Fatal(err)
	}
	c := newCollector(t, gitlog.Config{Path: bare, Emails: []string{janeE}})
	s, _, err := collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	it, ok := s.byNative()[latin]
	if !ok || len(s.items) != 2 {
		t.Fatalf("items %v; want both commits (the second via HEAD:.mailmap)", titles(s.items))
	}
	if it.Title != "Résumé of the café model" || it.Facts["author_email"] != janeE || it.Facts["author_name"] != "Jane Doe" {
		t.Errorf("title %q, author %v <%v>", it.Title, it.Facts["author_name"], it.Facts["author_email"])
	}
}

package main

// Tests of what a new user trips on (issue 6 point 9) and of output that
// must be safe on a terminal (issue 7 point 9).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/pipeline/demo"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := cli(t, args...)
		mustCode(t, r, 0)
		if got := strings.TrimSpace(r.stdout); got != versionString() || !strings.HasPrefix(got, "ksbfolio ") {
			t.Errorf("%v printed %q, want %q", args, got, versionString())
		}
	}
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/ksbfolio/ksbfolio", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "8ac793530aa12e5f10ace8c92bc7ace678fe4fa4"},
			{Key: "vcs.time", Value: "2026-12-01T19:47:27Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := formatVersion(bi, true), "ksbfolio v0.3.0 (commit 8ac793530aa12e5f10ace8c92bc7ace678fe4fa4+dirty, 2026-12-01T19:47:27Z) go1.26.8"; got != want {
		t.Errorf("formatVersion = %q, want %q", got, want)
	}
	if got := formatVersion(nil, false); !strings.HasPrefix(got, "ksbfolio unknown (commit unknown") {
		t.Errorf("formatVersion without build info = %q", got)
	}
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		r := cli(t, "completion", sh)
		mustCode(t, r, 0)
		if !strings.Contains(r.stdout, "ksbfolio") {
			t.Errorf("completion %s printed no script", sh)
		}
	}
}

// The demo's closing hint works as printed: cd into the folder, run each
// ksbfolio command (in process; the binary's name is the first word).
func TestDemoNextHintWorks(t *testing.T) {
	requireGit(t)
	dir := filepath.Join(t.TempDir(), "my demo")
	r := cli(t, "demo", dir, "--commits", "200")
	mustCode(t, r, 0)
	var next string
	for _, l := range strings.Split(r.stdout, "\n") {
		if s, ok := strings.CutPrefix(l, "next: "); ok {
			next = s
		}
	}
	parts := strings.Split(next, " && ")
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "cd ") {
		t.Fatalf("no usable next: line in\n%s", r.stdout)
	}
	target := strings.TrimPrefix(parts[0], "cd ")
	if unq, ok := strings.CutPrefix(target, "'"); ok {
		target = strings.TrimSuffix(unq, "'")
	}
	if target != dir {
		t.Fatalf("hint cds to %q, want %q", target, dir)
	}
	t.Chdir(target)
	for _, c := range parts[1:] {
		args := strings.Fields(c)
		if args[0] != "ksbfolio" {
			t.Fatalf("hint command %q does not run ksbfolio", c)
		}
		r := cli(t, args[1:]...)
		mustCode(t, r, 0)
	}
	if _, err := os.Stat(filepath.Join(dir, demo.IncompleteMarker)); err == nil {
		t.Fatal("a finished demo still carries the incomplete marker")
	}
	if got := nextHint("/x", false); !strings.Contains(got, "go install ./cmd/ksbfolio") || !strings.Contains(got, "$(go env GOPATH)/bin") {
		t.Fatalf("hint without ksbfolio on PATH does not say how to install it: %q", got)
	}
}

// An interrupted demo never blocks the next: whenever it is stopped, the
// next demo into the same folder succeeds, and no temporary folder is left.
func TestDemoInterruptedDoesNotBlock(t *testing.T) {
	requireGit(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "demo")
	for _, after := range []time.Duration{0, 30 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), after)
		r := cliCtx(t, ctx, "demo", dir, "--commits", "300")
		cancel()
		if r.code == 0 {
			if err := os.RemoveAll(dir); err != nil { // finished before the deadline
				t.Fatal(err)
			}
			continue
		}
		if ents, err := os.ReadDir(parent); err != nil || len(ents) != 0 {
			t.Fatalf("after an interruption at %v (exit %d) the parent holds %v (%v)", after, r.code, ents, err)
		}
	}
	// A demo killed during its run (simulated: built, marker still there,
	// half a store) is replaced by the next one.
	res, err := demo.Build(context.Background(), dir, demo.Options{Commits: 50})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(res.Dir, ".ksbfolio-half-store"), "x")
	r := cli(t, "demo", dir, "--commits", "200")
	mustCode(t, r, 0)
	if _, err := os.Stat(filepath.Join(dir, ".ksbfolio-half-store")); err == nil {
		t.Fatal("the unfinished demo was not replaced")
	}
	mustCode(t, cli(t, "demo", dir), exitUsage) // a finished one is never replaced
	ents, _ := os.ReadDir(parent)
	if len(ents) != 1 {
		t.Fatalf("temporary folders left beside the demo: %v", ents)
	}
}

// isolateGit points git's global config at a file of the test's and
// returns it.
func isolateGit(t *testing.T, global string) {
	t.Helper()
	home := t.TempDir()
	cfg := filepath.Join(home, "gitconfig")
	writeFile(t, cfg, global)
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("GIT_CONFIG_GLOBAL", cfg)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
}

func TestInitOutsideGit(t *testing.T) {
	requireGit(t)
	isolateGit(t, "[user]\n\temail = Jane@Home.Example\n\tname = Jane Doe\n")
	t.Chdir(t.TempDir())
	r := cli(t, "init")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "not in a git repository") || !strings.Contains(r.stdout, "global git user.email") {
		t.Fatalf("init outside a repository does not say so:\n%s", r.stdout)
	}
	b, _ := os.ReadFile("ksbfolio.yaml")
	if !strings.Contains(string(b), "- jane@home.example") {
		t.Fatalf("the global user.email is not offered:\n%s", b)
	}
	if strings.Contains(r.stdout, ".gitignore") {
		t.Fatalf("a .gitignore offered outside a repository:\n%s", r.stdout)
	}

	// No address at all: the config is written, and init says what to add.
	isolateGit(t, "")
	t.Chdir(t.TempDir())
	r = cli(t, "init")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "user.email is not set") {
		t.Fatalf("init without an address does not say so:\n%s", r.stdout)
	}
}

func TestInitInRepository(t *testing.T) {
	requireGit(t)
	isolateGit(t, "")
	ctx := context.Background()
	repo := filepath.Join(t.TempDir(), "fraud-model")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	me := demorepo.DefaultAuthors()[0]
	if _, err := demorepo.Build(ctx, repo, demorepo.Options{Commits: 60, Mailmap: true, Branches: 2}); err != nil {
		t.Fatal(err)
	}
	// Two commits under her name from an address the config does not know.
	for i := range 2 {
		env := []string{"GIT_AUTHOR_NAME=" + me.Name, "GIT_AUTHOR_EMAIL=jane.d@home.example"}
		if _, err := demorepo.GitEnv(ctx, repo, env, nil, "commit", "--allow-empty", "-qm", fmt.Sprintf("weekend fix %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range [][2]string{{"user.email", me.Email}, {"user.name", me.Name}} {
		if _, err := demorepo.Git(ctx, repo, "config", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	before, err := demorepo.Git(ctx, repo, "status", "--porcelain", "--ignored")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(repo)
	r := cli(t, "init")
	mustCode(t, r, 0)
	for _, want := range []string{"jane.d@home.example (2 commits)", "inside the git work tree", "nothing was added to git",
		"every local branch is read", "/ksbfolio.yaml\n", "/.ksbfolio/\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("init output lacks %q:\n%s", want, r.stdout)
		}
	}
	cfg, _ := os.ReadFile("ksbfolio.yaml")
	if !strings.Contains(string(cfg), "# - jane.d@home.example   # 2 commits") {
		t.Errorf("the other address is not offered in the config:\n%s", cfg)
	}
	// Only the config file is new in the work tree, and nothing is staged.
	after, err := demorepo.Git(ctx, repo, "status", "--porcelain", "--ignored")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimPrefix(after, before) != "?? ksbfolio.yaml\n" && after != before+"?? ksbfolio.yaml\n" {
		t.Errorf("init changed the work tree beyond its config:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Once ignored, the lines are not offered again.
	writeFile(t, filepath.Join(repo, ".gitignore"), "/ksbfolio.yaml\n/.ksbfolio/\n")
	r = cli(t, "init", "--force")
	mustCode(t, r, 0)
	if strings.Contains(r.stdout, "add to") {
		t.Errorf("ignore lines offered though already ignored:\n%s", r.stdout)
	}
	// Uncommenting the offered address makes those commits hers.
	on := strings.ReplaceAll(string(cfg), "    # - jane.d@home.example", "    - jane.d@home.example")
	writeFile(t, "ksbfolio.yaml", on)
	r = cli(t, "run")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "ok") {
		t.Fatalf("run:\n%s", r.stdout)
	}
	if n := strings.Count(cli(t, "items").stdout, "weekend fix"); n != 2 {
		t.Fatalf("%d weekend fixes collected, want 2", n)
	}
}

// A run that finds no commit by the configured addresses says whose
// commits it saw instead of a silent "ok, 0 items".
func TestRunWarnsWhenNoCommitMatches(t *testing.T) {
	dir, _, _ := gitWorkspace(t, 40, "")
	cfg := filepath.Join(dir, "typo.yaml")
	writeFile(t, cfg, "apprentice: {id: jane, emails: [jane@crop.example]}\nsources:\n  - {name: model-repo, type: git, path: ./model-repo}\n")
	r := cli(t, "-c", cfg, "run")
	mustCode(t, r, 0)
	for _, want := range []string{"0 items stored", "warning: git source model-repo: none of the", "jane@crop.example", "Sam Patel", "commits)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("run output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestAddReplaceAndFutureDate(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 10, "")
	doc := filepath.Join(dir, "design.md")
	writeFile(t, doc, "# Design\n")
	mustCode(t, cli(t, "-c", cfg, "add", doc, "--title", "Design", "--date", "2025-06-01", "--ksb", "K12"), 0)
	r := cli(t, "-c", cfg, "add", doc, "--title", "Design v2", "--date", "2025-06-02", "--ksb", "S16")
	mustCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, "--replace") || !strings.Contains(r.stderr, `"Design"`) {
		t.Fatalf("a second add does not ask for --replace:\n%s", r.stderr)
	}
	if out := cli(t, "-c", cfg, "items", "--ksb", "K12").stdout; !strings.Contains(out, "Design") {
		t.Fatalf("the refused add changed the item:\n%s", out)
	}
	r = cli(t, "-c", cfg, "add", doc, "--title", "Design v2", "--date", "2025-06-02", "--ksb", "S16", "--replace")
	mustCode(t, r, 0)
	if out := cli(t, "-c", cfg, "items", "--ksb", "S16").stdout; !strings.Contains(out, "Design v2") || !strings.Contains(out, "1 item\n") {
		t.Fatalf("--replace did not replace:\n%s", out)
	}
	other := filepath.Join(dir, "later.md")
	writeFile(t, other, "# Later\n")
	for _, d := range []string{time.Now().AddDate(0, 0, 2).Format("2006-01-02"), time.Now().Add(time.Hour).Format(time.RFC3339)} {
		r := cli(t, "-c", cfg, "add", other, "--title", "Later", "--date", d)
		mustCode(t, r, exitUsage)
		if !strings.Contains(r.stderr, "in the future") {
			t.Errorf("--date %s: %s", d, r.stderr)
		}
	}
	mustCode(t, cli(t, "-c", cfg, "add", other, "--title", "Today", "--date", time.Now().Format("2006-01-02")), 0)
}

// Errors name a path once: os errors already say what they did to which
// file, so wrapping them with the path again repeats it.
func TestErrorsDoNotRepeatThePath(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 5, "")
	missing := filepath.Join(dir, "no-such-file.md")
	for _, args := range [][]string{
		{"-c", cfg, "add", missing, "--title", "x", "--date", "2025-01-01"},
		{"-c", cfg, "standard", "import", missing, "--id", "x"},
		{"demo", filepath.Join(missing, "sub")},
	} {
		r := cli(t, args...)
		if r.code == 0 {
			t.Fatalf("%v succeeded", args)
		}
		if n := strings.Count(r.stderr, missing); n != 1 {
			t.Errorf("%v: the path appears %d times:\n%s", args, n, r.stderr)
		}
	}
	writeFile(t, missing, "x")
	r := cli(t, "demo", filepath.Join(missing, "sub"))
	if r.code == 0 || strings.Count(r.stderr, missing) != 1 {
		t.Errorf("demo under a file: exit %d:\n%s", r.code, r.stderr)
	}
	// A store folder that is a file.
	c := filepath.Join(dir, "store-is-file.yaml")
	writeFile(t, c, "apprentice: {id: jane, emails: [jane@corp.example]}\nstore: ./no-such-file.md\nsources: []\n")
	r = cli(t, "-c", c, "items")
	if r.code == 0 || strings.Count(r.stderr, missing) != 1 {
		t.Errorf("store that is a file: exit %d:\n%s", r.code, r.stderr)
	}
}

func TestErrorListsAreCapped(t *testing.T) {
	var b strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&b, "problem %d\n", i)
	}
	got := errorText(errors.New(strings.TrimSuffix(b.String(), "\n")))
	if !strings.HasSuffix(got, "; and 99,980 more") || len(got) > 1000 {
		t.Fatalf("error text not capped (%d bytes): …%s", len(got), got[max(0, len(got)-80):])
	}
}

// A config with hundreds of problems prints a screenful, not all of them.
func TestConfigErrorListIsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("apprentice: {id: a, emails: [a@b]}\n")
	for i := range 300 {
		fmt.Fprintf(&b, "unknown%d: 1\n", i)
	}
	c := filepath.Join(t.TempDir(), "ksbfolio.yaml")
	writeFile(t, c, b.String())
	r := cli(t, "-c", c, "items")
	mustCode(t, r, exitUsage)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1+maxErrorLines+1 || !strings.HasPrefix(lines[len(lines)-1], "and ") || !strings.Contains(lines[1], "unknown0") {
		t.Fatalf("%d lines:\n%s", len(lines), r.stderr)
	}
}

func TestKindCountsAreWords(t *testing.T) {
	r := cli(t, "standard", "list")
	mustCode(t, r, 0)
	if regexp.MustCompile(`\bK\d+ S\d+ B\d+\b`).MatchString(r.stdout) || !strings.Contains(r.stdout, "knowledge, ") {
		t.Fatalf("per-kind counts look like KSB IDs:\n%s", r.stdout)
	}
	if got := kindCounts(1, 1, 2); got != "1 knowledge, 1 skill, 2 behaviours" {
		t.Fatalf("kindCounts = %q", got)
	}
}

// run --full collects everything again, ignoring cursors, and is
// idempotent; an item fsck --repair quarantined comes back with it, as
// fsck says.
func TestRunFullRecollects(t *testing.T) {
	dir, cfg, sum := gitWorkspace(t, 60, "")
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	items := itemsJSON(t, cfg)
	want := comparable(items)

	victim := filepath.Join(dir, ".ksbfolio", "apprentices", "jane", "items", items[0].ID+".json")
	writeFile(t, victim, `{"schema": 1, "id": "trunc`)
	r := cli(t, "-c", cfg, "fsck", "--repair")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "ksbfolio run --full") {
		t.Fatalf("fsck --repair of an item does not say how to collect it again:\n%s", r.stdout)
	}
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	if got := len(itemsJSON(t, cfg)); got != sum.Apprentice-1 {
		t.Fatalf("an incremental run brought back the quarantined item (%d items)", got)
	}
	for range 2 {
		r = cli(t, "-c", cfg, "run", "--full", "--json")
		mustCode(t, r, 0)
		if !strings.Contains(r.stdout, `"full": true`) {
			t.Fatalf("the run report does not record --full:\n%s", r.stdout)
		}
		if got := comparable(itemsJSON(t, cfg)); got != want {
			t.Fatalf("after run --full the ledger differs from the first run's")
		}
	}
	mustCode(t, cli(t, "-c", cfg, "collect", "--full"), 0)
	if got := len(itemsJSON(t, cfg)); got != sum.Apprentice {
		t.Fatalf("collect --full: %d items, want %d", got, sum.Apprentice)
	}
}

// Text from a source never reaches the terminal raw: ESC sequences, OSC
// titles, carriage returns and right-to-left overrides are escaped in
// items, show, the run summary and errors.
func TestTerminalControlsEscaped(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 5, "")
	repo := filepath.Join(dir, "model-repo")
	me := demorepo.DefaultAuthors()[0]
	title := "Fix \x1b]0;pwned\x07 title \x1b[2J clear \u202eexe.txt\r over"
	env := []string{"GIT_AUTHOR_NAME=" + me.Name, "GIT_AUTHOR_EMAIL=" + me.Email}
	if _, err := demorepo.GitEnv(context.Background(), repo, env, strings.NewReader(title+"\n\nbody \x1b[31mred\x1b[0m\n"), "commit", "--allow-empty", "-q", "-F", "-"); err != nil {
		t.Fatal(err)
	}
	run := cli(t, "-c", cfg, "run")
	mustCode(t, run, 0)
	sha, err := demorepo.Git(context.Background(), repo, "rev-parse", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	items := cli(t, "-c", cfg, "items")
	show := cli(t, "-c", cfg, "show", strings.TrimSpace(sha)[:12])
	mustCode(t, show, 0)
	for name, out := range map[string]string{"run": run.stdout, "items": items.stdout, "show": show.stdout + show.stderr} {
		if strings.ContainsAny(out, "\x1b\x07\r\u202e") {
			t.Errorf("%s prints terminal controls raw:\n%q", name, out)
		}
	}
	for name, out := range map[string]string{"items": items.stdout, "show": show.stdout} {
		if !strings.Contains(out, `\x1b]0;pwned\x07`) || !strings.Contains(out, `\u202eexe.txt`) {
			t.Errorf("%s does not show the escaped title:\n%s", name, out)
		}
	}
	if !bytes.Contains([]byte(show.stdout), []byte(`body \x1b[31mred\x1b[0m`)) {
		t.Errorf("show does not escape the message body:\n%s", show.stdout)
	}
}

// A catalogue imported from a file is a source too: standard show,
// standard list and the coverage table escape its text.
func TestCatalogueTextEscaped(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 10, "")
	official := filepath.Join(dir, "official.txt")
	writeFile(t, official, "K1: How to \x1b]0;pwned\x07 deploy \u202emodels\nS1: Monitor models\nB1: Works independently\n")
	mustCode(t, cli(t, "-c", cfg, "standard", "import", official, "--id", "evil", "--reference", "ST1398 \x1b[2J", "--version", "1.0"), 0)
	c := filepath.Join(dir, "evil.yaml")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, c, strings.Replace(string(b), "standard: st1398-v1.0", "standard: evil", 1))
	mustCode(t, cli(t, "-c", c, "run"), 0)
	for _, args := range [][]string{{"standard", "show", "evil"}, {"standard", "list"}, {"coverage"}} {
		r := cli(t, append([]string{"-c", c}, args...)...)
		mustCode(t, r, 0)
		if strings.ContainsAny(r.stdout, "\x1b\x07\u202e") {
			t.Errorf("%v prints terminal controls raw:\n%q", args, r.stdout)
		}
		if args[0] != "standard" || args[1] == "show" { // the importer drops C0 controls itself; U+202E it keeps
			if !strings.Contains(r.stdout, `\u202emodels`) {
				t.Errorf("%v does not show the escaped statement:\n%s", args, r.stdout)
			}
		}
	}
}

// fsck lists at most maxProblemsListed problems for a person; --json has
// them all.
func TestFsckListIsCapped(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 5, "")
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	n := maxProblemsListed + 50
	for i := range n {
		b := []byte(fmt.Sprintf("orphan %d", i))
		sum := fmt.Sprintf("%x", sha256.Sum256(b))
		p := filepath.Join(dir, ".ksbfolio", "apprentices", "jane", "blobs", "sha256", sum[:2], sum)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, string(b))
	}
	// --grace 0s: the orphans were just written, and younger ones are
	// only pending (a run may be writing their items).
	r := cli(t, "-c", cfg, "fsck", "--grace", "0s")
	mustCode(t, r, exitPartial)
	if got := strings.Count(r.stdout, "orphan_blob "); got != maxProblemsListed || !strings.Contains(r.stdout, "… and 50 more (fsck --json") ||
		!strings.Contains(r.stdout, fmt.Sprintf("%d problems, %d left", n, n)) {
		t.Fatalf("fsck listed %d problems:\n%s", got, r.stdout[max(0, len(r.stdout)-300):])
	}
	r = cli(t, "-c", cfg, "fsck", "--json", "--grace", "0s")
	if got := strings.Count(r.stdout, `"orphan_blob"`); got != n {
		t.Fatalf("fsck --json lists %d of %d problems", got, n)
	}
}

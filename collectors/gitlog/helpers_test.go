package gitlog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// recordingSink keeps what a collector reports. Emitted items are
// round-tripped through JSON, as the pipeline stores them, so tests see
// what a reader of the ledger sees.
type recordingSink struct {
	t     testing.TB
	items []evidence.Item
	skips []collectors.Skipped
	warns []string
	// emitErr, when set, is returned by the Emit call numbered failAt
	// (0-based), and onEmit runs before every Emit.
	emitErr error
	failAt  int
	onEmit  func(n int)
}

func (s *recordingSink) Emit(ctx context.Context, e collectors.Emission) error {
	if s.onEmit != nil {
		s.onEmit(len(s.items))
	}
	if s.emitErr != nil && len(s.items) == s.failAt {
		return s.emitErr
	}
	if err := e.Item.Validate(); err != nil {
		s.t.Errorf("emitted invalid item %s: %v", e.Item.ID, err)
	}
	b, err := json.Marshal(e.Item)
	if err != nil {
		s.t.Fatalf("marshal item: %v", err)
	}
	var it evidence.Item
	if err := json.Unmarshal(b, &it); err != nil {
		s.t.Fatalf("unmarshal item: %v", err)
	}
	s.items = append(s.items, it)
	return nil
}

func (s *recordingSink) Skip(sk collectors.Skipped) { s.skips = append(s.skips, sk) }
func (s *recordingSink) Warn(msg string)            { s.warns = append(s.warns, msg) }

func (s *recordingSink) byNative() map[string]evidence.Item {
	m := map[string]evidence.Item{}
	for _, it := range s.items {
		if _, dup := m[it.Origin.NativeID]; dup {
			s.t.Errorf("commit %s emitted twice in one run", it.Origin.NativeID)
		}
		m[it.Origin.NativeID] = it
	}
	return m
}

var fixedNow = time.Date(2026, 3, 2, 10, 4, 0, 0, time.UTC)

func newCollector(t testing.TB, cfg gitlog.Config) *gitlog.Collector {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "model-repo"
	}
	if cfg.Apprentice == "" {
		cfg.Apprentice = "jdoe"
	}
	c, err := gitlog.New(cfg, slog.New(slog.DiscardHandler), func() time.Time { return fixedNow })
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// logRecorder is a slog handler that keeps the attributes of every record
// by message.
type logRecorder struct {
	mu   sync.Mutex
	last map[string]map[string]slog.Value
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last = map[string]map[string]slog.Value{}
	}
	attrs := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value; return true })
	h.last[r.Message] = attrs
	return nil
}

// attr returns an attribute of the last record with message msg.
func (h *logRecorder) attr(msg, key string) slog.Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last[msg][key]
}

func collect(t testing.TB, c *gitlog.Collector, cursor collectors.Cursor) (*recordingSink, collectors.Cursor, error) {
	t.Helper()
	s := &recordingSink{t: t}
	next, err := c.Collect(context.Background(), cursor, s)
	return s, next, err
}

// repo is a small repository built commit by commit with the git CLI, with
// a clock that moves one minute per commit.
type repo struct {
	t    testing.TB
	dir  string
	when time.Time
}

func newRepo(t testing.TB) *repo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &repo{t: t, dir: dir, when: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	out, err := demorepo.Git(context.Background(), r.dir, args...)
	if err != nil {
		r.t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func (r *repo) write(path, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commit stages everything and commits as author ("Name <email>") with
// message msg; it returns the new commit's SHA.
func (r *repo) commit(author, msg string, extra ...string) string {
	r.t.Helper()
	r.git("add", "-A")
	return r.commitIndex(author, msg, extra...)
}

// commitIndex commits what is staged, as commit does.
func (r *repo) commitIndex(author, msg string, extra ...string) string {
	r.t.Helper()
	r.when = r.when.Add(time.Minute)
	name, email, _ := strings.Cut(strings.TrimSuffix(author, ">"), " <")
	date := fmt.Sprintf("%d +0000", r.when.Unix())
	env := []string{"GIT_AUTHOR_NAME=" + name, "GIT_AUTHOR_EMAIL=" + email, "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=" + name, "GIT_COMMITTER_EMAIL=" + email, "GIT_COMMITTER_DATE=" + date}
	args := append([]string{"commit", "-q", "--allow-empty", "--no-verify", "-m", msg}, extra...)
	if _, err := demorepo.GitEnv(context.Background(), r.dir, env, nil, args...); err != nil {
		r.t.Fatal(err)
	}
	return r.git("rev-parse", "HEAD")
}

// mergeNoFF merges branch into the current branch with a merge commit.
func (r *repo) mergeNoFF(author, branch, msg string) string {
	r.t.Helper()
	r.when = r.when.Add(time.Minute)
	name, email, _ := strings.Cut(strings.TrimSuffix(author, ">"), " <")
	date := fmt.Sprintf("%d +0000", r.when.Unix())
	env := []string{"GIT_AUTHOR_NAME=" + name, "GIT_AUTHOR_EMAIL=" + email, "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=" + name, "GIT_COMMITTER_EMAIL=" + email, "GIT_COMMITTER_DATE=" + date}
	if _, err := demorepo.GitEnv(context.Background(), r.dir, env, nil, "merge", "-q", "--no-ff", "-m", msg, branch); err != nil {
		r.t.Fatal(err)
	}
	return r.git("rev-parse", "HEAD")
}

const (
	jane  = "Jane Doe <jane@corp.example>"
	sam   = "Sam Patel <sam@corp.example>"
	janeE = "jane@corp.example"
)

func factInt(t testing.TB, it evidence.Item, key string) int {
	t.Helper()
	v, ok := it.Facts[key].(float64)
	if !ok {
		t.Fatalf("item %s: fact %s = %#v, want a number", it.Origin.NativeID, key, it.Facts[key])
	}
	return int(v)
}

type fileCount struct{ ins, del int }

// filesOf reads facts.files into path → counts ("-1/-1" for binary).
func filesOf(t testing.TB, it evidence.Item) map[string]fileCount {
	t.Helper()
	raw, ok := it.Facts["files"].([]any)
	if !ok {
		t.Fatalf("item %s: facts.files = %#v", it.Origin.NativeID, it.Facts["files"])
	}
	out := map[string]fileCount{}
	for _, f := range raw {
		m := f.(map[string]any)
		fc := fileCount{int(m["insertions"].(float64)), int(m["deletions"].(float64))}
		if m["binary"] == true {
			fc = fileCount{-1, -1}
		}
		out[m["path"].(string)] = fc
	}
	return out
}

// mergeDiffFiles reads a merge's facts.merge_diff.files as filesOf does.
func mergeDiffFiles(t testing.TB, it evidence.Item) map[string]fileCount {
	t.Helper()
	md, ok := it.Facts["merge_diff"].(map[string]any)
	if !ok {
		t.Fatalf("item %s: facts.merge_diff = %#v", it.Origin.NativeID, it.Facts["merge_diff"])
	}
	return filesOf(t, evidence.Item{Origin: it.Origin, Facts: md})
}

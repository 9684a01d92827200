package collectortest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// notes is a small collector for the suite's own tests: one item per file
// in a folder, with the KSB named on the file's first line declared. Its
// cursor lists the files already emitted. Each bug field breaks one
// promise, so that the suite can be seen to catch it.
type notes struct {
	dir string
	bug string
}

func (n *notes) Collect(ctx context.Context, cursor collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	if err := ctx.Err(); err != nil && n.bug != "ignores cancel" {
		return nil, err
	}
	var done []string
	if len(cursor) > 0 {
		if err := json.Unmarshal(cursor, &done); err != nil {
			return nil, fmt.Errorf("read cursor: %w", err)
		}
	}
	switch {
	case n.bug == "cursor skips all":
		done = append(done, "*")
	case n.bug == "new ids from cursor" && len(cursor) > 0:
		done = nil
	}
	entries, err := os.ReadDir(n.dir)
	if err != nil {
		return nil, fmt.Errorf("read notes: %w", err)
	}
	if n.bug == "writes" {
		if err := os.WriteFile(filepath.Join(n.dir, ".cache"), []byte("x"), 0o644); err != nil {
			return nil, err
		}
	}
	next := slices.Clone(done)
	for _, e := range entries {
		name := e.Name()
		if slices.Contains(done, name) || slices.Contains(done, "*") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(n.dir, name))
		if err != nil {
			return nil, err
		}
		native := name
		switch n.bug {
		case "unstable ids":
			native = fmt.Sprintf("%s#%d", name, time.Now().UnixNano())
		case "new ids from cursor":
			if len(cursor) > 0 {
				native = name + "#again"
			}
		}
		ksb, _, _ := strings.Cut(string(b), "\n")
		it := evidence.Item{Schema: evidence.SchemaVersion, ID: evidence.NewID("notes", native), Apprentice: "jdoe",
			Source: "notes", SourceType: "notes", Kind: evidence.KindManual, Title: name,
			OccurredAt:  time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			CollectedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
			Origin:      evidence.Origin{URI: "file://" + filepath.Join(n.dir, name), NativeID: native},
			Tags:        []evidence.Tag{{KSB: ksb, By: evidence.ByDeclared + "note", Confidence: 1, Reason: "named in the note"}}}
		switch n.bug {
		case "invalid item":
			it.Kind = "bogus"
		case "rule tag":
			it.Tags[0].By = "rule:notes"
		case "lists artefacts":
			it.Artefacts = []evidence.Artefact{{Name: name, SHA256: strings.Repeat("0", 64)}}
		}
		path := filepath.Join(n.dir, name)
		err = sink.Emit(ctx, collectors.Emission{Item: it, Files: []collectors.File{{Name: name, MediaType: "text/plain",
			Open: func() (io.ReadCloser, error) { return os.Open(path) }}}})
		if err != nil {
			if n.bug == "wraps sink error" {
				return nil, fmt.Errorf("emit: %v", err)
			}
			if n.bug == "cursor on error" {
				return collectors.Cursor("[]"), err
			}
			return nil, err
		}
		if err := ctx.Err(); err != nil && n.bug != "ignores cancel" {
			return nil, err
		}
		next = append(next, name)
	}
	sort.Strings(next)
	return json.Marshal(next)
}

func notesFixture(t *testing.T, bug string) Fixture {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.md", "S10\nmonitoring")
	write("b.md", "K12\ndrift")
	return Fixture{
		New:      func(testing.TB) collectors.Collector { return &notes{dir: dir, bug: bug} },
		Dirs:     []string{dir},
		Grow:     func(testing.TB) { write("c.md", "B5\nnew") },
		MinItems: 2,
		Declared: true,
	}
}

func TestCheckPasses(t *testing.T) {
	Check(t, notesFixture(t, ""))
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) FailNow()          { r.Fatalf("FailNow") }
func (r *recorder) Fail()             { r.Errorf("Fail") }

// run runs one check against r in its own goroutine, so that Fatal can
// stop it.
func (r *recorder) run(fn func(testing.TB, Fixture), f Fixture) []string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r, f)
	}()
	<-done
	return r.msgs
}

// TestCheckCatchesBugs breaks each promise in turn and checks that the
// check for it fails, saying why.
func TestCheckCatchesBugs(t *testing.T) {
	tests := []struct {
		bug   string
		check string
		want  string
	}{
		{"unstable ids", "StableIDs", "different IDs"},
		{"new ids from cursor", "Incremental", "which the full collection did not"},
		{"cursor skips all", "Incremental", "none new"},
		{"ignores cancel", "CancelledBefore", "want context.Canceled"},
		{"ignores cancel", "CancelledDuring", "want context.Canceled"},
		{"wraps sink error", "SinkError", "want the sink's error"},
		{"cursor on error", "SinkError", "want none"},
		{"invalid item", "FullCollection", `kind "bogus"`},
		{"rule tag", "DeclaredTags", `is not marked "declared:"`},
		{"lists artefacts", "FullCollection", "lists 1 artefacts"},
		{"writes", "FullCollection", "Collect wrote to the source"},
	}
	for _, tc := range tests {
		t.Run(tc.bug+"/"+tc.check, func(t *testing.T) {
			i := slices.IndexFunc(checks, func(c struct {
				name string
				fn   func(t testing.TB, f Fixture)
			}) bool {
				return c.name == tc.check
			})
			if i < 0 {
				t.Fatalf("no check %s", tc.check)
			}
			// The same check passes on the correct collector.
			if msgs := (&recorder{TB: t}).run(checks[i].fn, notesFixture(t, "")); len(msgs) != 0 {
				t.Fatalf("%s fails on the correct collector: %q", tc.check, msgs)
			}
			msgs := (&recorder{TB: t}).run(checks[i].fn, notesFixture(t, tc.bug))
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, tc.want) }) {
				t.Errorf("%s with bug %q: failures %q, want one containing %q", tc.check, tc.bug, msgs, tc.want)
			}
		})
	}
}

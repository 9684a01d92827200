package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/redact"
)

// scripted is a Collector that replays a fixed script: the runner's
// behaviour is under test here, not any source (the real collectors have
// their own tests against real repositories).
type scripted struct {
	items   []collectors.Emission
	skips   []collectors.Skipped
	err     error
	block   bool // wait for cancellation after emitting
	cursor  string
	gotCurs []string
}

func (s *scripted) Collect(ctx context.Context, cur collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	s.gotCurs = append(s.gotCurs, string(cur))
	for _, e := range s.items {
		if err := sink.Emit(ctx, e); err != nil {
			return nil, err
		}
	}
	for _, sk := range s.skips {
		sink.Skip(sk)
	}
	if s.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if s.err != nil {
		var pe *collectors.PartialError
		if !errors.As(s.err, &pe) {
			return nil, s.err
		}
	}
	return collectors.Cursor(`{"at":"` + s.cursor + `"}`), s.err
}

func emission(native, title string, files ...collectors.File) collectors.Emission {
	return collectors.Emission{Item: evidence.Item{ID: evidence.NewID("git", native), SourceType: "git", Kind: evidence.KindCommit,
		Title: title, OccurredAt: time.Date(2026, 3, 2, 10, 4, 0, 0, time.UTC), Origin: evidence.Origin{URI: "file:///repo", NativeID: native},
		Facts: map[string]any{"files": []any{map[string]any{"path": "monitoring/alerts.yaml"}}},
		Tags:  []evidence.Tag{{KSB: "S10", By: "declared:trailer", Confidence: 1, Reason: "declared"}}}, Files: files}
}

func file(name, content string) collectors.File {
	return collectors.File{Name: name, MediaType: "text/plain", Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(content)), nil
	}}
}

func newRunner(t *testing.T, srcs ...pipeline.Source) (*pipeline.Runner, string) {
	t.Helper()
	root := t.TempDir()
	s, err := fsstore.New(root)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ledger.New(s, "jane")
	cat := ksb.Builtin()[0]
	red, err := redact.New(redact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tg, _, err := tagging.Compile(tagging.Builtin(), cat, tagging.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline.Runner{Ledger: l, Sources: srcs, Redactor: red, Tagger: tg, Catalogue: cat, StoreName: root}, root
}

func TestRunnerOutcomes(t *testing.T) {
	ok := &scripted{cursor: "ok1", items: []collectors.Emission{
		emission("aaa", "Add drift alert; token ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXYZ1234567 leaked",
			file("notes.txt", "password=supersecretvalue rest of the notes"),
			collectors.File{Name: "model.bin", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte{0, 1, 2, 'p', 'a'})), nil }}),
		emission("bbb", "Second"),
	}}
	failing := &scripted{err: errors.New("server said no")}
	partial := &scripted{cursor: "p1", items: []collectors.Emission{emission("ccc", "Third")},
		skips: []collectors.Skipped{{What: "commit ddd", Reason: "object missing"}},
		err:   &collectors.PartialError{Failed: 1}}
	r, root := newRunner(t,
		pipeline.Source{Name: "ok", Type: "git", Collector: ok},
		pipeline.Source{Name: "broken", Type: "git", Collector: failing},
		pipeline.Source{Name: "partial", Type: "git", Collector: partial})
	ctx := context.Background()
	rep, err := r.Run(ctx, pipeline.Options{Command: "run", Coverage: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != pipeline.OutcomePartial {
		t.Fatalf("outcome %s, want partial", rep.Outcome)
	}
	want := map[string]string{"ok": "ok", "broken": "failed", "partial": "partial"}
	for _, s := range rep.Sources {
		if s.Outcome != want[s.Name] {
			t.Errorf("source %s: %s, want %s", s.Name, s.Outcome, want[s.Name])
		}
	}
	if rep.Sources[1].Error == "" || !strings.Contains(rep.Sources[1].Error, "server said no") {
		t.Errorf("failed source without its error: %+v", rep.Sources[1])
	}
	if rep.Sources[2].SkippedTotal != 1 || rep.Sources[2].Skipped[0].Reason != "object missing" {
		t.Errorf("skip not reported: %+v", rep.Sources[2])
	}
	if rep.Coverage == nil || rep.Coverage.Evidenced != 1 {
		t.Errorf("coverage: %+v", rep.Coverage)
	}
	// Cursors: saved for ok and partial sources, not for the failed one.
	for name, wantSaved := range map[string]bool{"ok": true, "partial": true, "broken": false} {
		c, err := r.Ledger.Cursor(ctx, name)
		if err != nil || (c != nil) != wantSaved {
			t.Errorf("cursor of %s: %s %v", name, c, err)
		}
	}
	// The run report is in the ledger.
	if last, _ := r.Ledger.LastRun(ctx); !strings.Contains(last, rep.RunID) {
		t.Errorf("run report not stored: %q", last)
	}
	// Item: redacted, tagged against the catalogue, artefacts stored first.
	it, err := r.Ledger.GetItem(ctx, evidence.NewID("git", "aaa"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(it.Title, "ghp_") || !strings.Contains(it.Title, "Add drift alert") {
		t.Errorf("title not redacted right: %q", it.Title)
	}
	if len(it.Artefacts) != 2 || it.Apprentice != "jane" || it.Source != "ok" || it.CollectedAt.IsZero() {
		t.Fatalf("item: %+v", it)
	}
	rules := map[string]int{}
	for _, rd := range it.Redactions {
		rules[rd.Rule] += rd.Count
	}
	if len(rules) < 2 {
		t.Errorf("redactions %v: want the token in the title and the password in the artefact", it.Redactions)
	}
	hasRule := false
	for _, tg := range it.Tags {
		if tg.Catalogue != "st1398-v1.0" {
			t.Errorf("tag %+v does not name its catalogue", tg)
		}
		hasRule = hasRule || tg.IsRule()
	}
	if !hasRule {
		t.Errorf("no rule tags on an item changing monitoring/alerts.yaml: %+v", it.Tags)
	}
	// Nothing secret anywhere in the store.
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("supersecretvalue")) || bytes.Contains(b, []byte("ghp_R4nd0m")) {
			t.Errorf("secret stored in %s", p)
		}
		return nil
	})

	// Second run: cursors handed back.
	if _, err := r.Run(ctx, pipeline.Options{Command: "run"}); err != nil {
		t.Fatal(err)
	}
	if len(ok.gotCurs) != 2 || !strings.Contains(ok.gotCurs[1], "ok1") || failing.gotCurs[1] != "" {
		t.Errorf("cursors given back: ok %q, failing %q", ok.gotCurs, failing.gotCurs)
	}
}

func TestRunnerInterrupted(t *testing.T) {
	c := &scripted{items: []collectors.Emission{emission("aaa", "First")}, block: true}
	after := &scripted{items: []collectors.Emission{emission("zzz", "Never")}}
	r, _ := newRunner(t, pipeline.Source{Name: "slow", Type: "git", Collector: c}, pipeline.Source{Name: "after", Type: "git", Collector: after})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	rep, err := r.Run(ctx, pipeline.Options{Command: "run", Coverage: true})
	if !errors.Is(err, context.Canceled) || rep == nil || rep.Outcome != pipeline.OutcomeInterrupted {
		t.Fatalf("interrupted run: %+v %v", rep, err)
	}
	bg := context.Background()
	if _, err := r.Ledger.GetItem(bg, evidence.NewID("git", "aaa")); err != nil {
		t.Errorf("what was stored before the interruption is lost: %v", err)
	}
	if c, _ := r.Ledger.Cursor(bg, "slow"); c != nil {
		t.Errorf("cursor saved for an interrupted source: %s", c)
	}
	if len(after.gotCurs) != 0 {
		t.Error("a source ran after the interruption")
	}
	// The report is stored and the lease released.
	var stored pipeline.Report
	b, err := os.ReadFile(filepath.Join(r.StoreName, r.Ledger.RunKey(rep.RunID)))
	if err != nil || json.Unmarshal(b, &stored) != nil || stored.Outcome != pipeline.OutcomeInterrupted {
		t.Fatalf("interrupted run's report: %s %v", b, err)
	}
	if _, held, _ := r.Ledger.ReadLease(bg); held {
		t.Error("lease not released after the interruption")
	}
}

func TestRunnerLeaseHeld(t *testing.T) {
	r, _ := newRunner(t, pipeline.Source{Name: "a", Type: "git", Collector: &scripted{}})
	ctx := context.Background()
	lease, err := r.Ledger.Acquire(ctx, ledger.LeaseInfo{RunID: "other", Host: "elsewhere"}, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, pipeline.Options{Command: "run"}); !errors.Is(err, ledger.ErrLeaseHeld) || !strings.Contains(err.Error(), "elsewhere") {
		t.Fatalf("run under a held lease: %v", err)
	}
	go func() { time.Sleep(300 * time.Millisecond); _ = lease.Release(ctx) }()
	if _, err := r.Run(ctx, pipeline.Options{Command: "run", Wait: 10 * time.Second}); err != nil {
		t.Fatalf("--wait: %v", err)
	}
}

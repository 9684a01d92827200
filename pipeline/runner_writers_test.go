package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/redact"
)

// journal is a folder store that records, in order, every put (by key,
// with whether it asked for NoSync) and every Sync, holds item puts a
// little so that writers overlap, and fails puts of keys holding failKey.
type journal struct {
	store.Store
	mu       sync.Mutex
	ops      []string
	inFlight atomic.Int32
	maxIn    atomic.Int32
	failKey  string
	// onSync, if set, is called by the n-th Sync (from 1) before it
	// syncs; a non-nil error fails that Sync.
	onSync func(n int) error
	syncs  atomic.Int32
}

func (j *journal) List(ctx context.Context, prefix string, fn func(store.Info) error) error {
	j.log("list " + prefix)
	return j.Store.List(ctx, prefix, fn)
}

func (j *journal) log(op string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ops = append(j.ops, op)
}

func (j *journal) Put(ctx context.Context, key string, r io.Reader, size int64, opts store.PutOptions) (store.Info, error) {
	if strings.Contains(key, "/items/") {
		n := j.inFlight.Add(1)
		defer j.inFlight.Add(-1)
		for m := j.maxIn.Load(); n > m && !j.maxIn.CompareAndSwap(m, n); m = j.maxIn.Load() {
		}
		time.Sleep(3 * time.Millisecond)
	}
	if j.failKey != "" && strings.Contains(key, j.failKey) {
		return store.Info{}, errors.New("disk full")
	}
	info, err := j.Store.Put(ctx, key, r, size, opts)
	if err == nil {
		j.log(fmt.Sprintf("put %s nosync=%v", key, opts.NoSync))
	}
	return info, err
}

func (j *journal) Sync(ctx context.Context) error {
	j.log("sync")
	if j.onSync != nil {
		if err := j.onSync(int(j.syncs.Add(1))); err != nil {
			return err
		}
	}
	return store.Sync(ctx, j.Store)
}

func (j *journal) index(prefix string) (first, last int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	first, last = -1, -1
	for i, op := range j.ops {
		if strings.HasPrefix(op, prefix) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

func runnerOn(t *testing.T, s store.Store, srcs ...pipeline.Source) *pipeline.Runner {
	t.Helper()
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
	return &pipeline.Runner{Ledger: l, Sources: srcs, Redactor: red, Tagger: tg, Catalogue: cat, StoreName: s.String()}
}

// recorder is an Observer that keeps every event.
type recorder struct {
	mu       sync.Mutex
	started  []string
	finished []pipeline.SourceReport
	stored   map[string]int
	skipped  []collectors.Skipped
	ops      map[string]int
}

func (r *recorder) SourceStarted(s string) {
	r.mu.Lock()
	r.started = append(r.started, s)
	r.mu.Unlock()
}
func (r *recorder) SourceFinished(s string, sr pipeline.SourceReport) {
	r.mu.Lock()
	r.finished = append(r.finished, sr)
	r.mu.Unlock()
}
func (r *recorder) ItemStored(s string, it pipeline.StoredItem) {
	r.mu.Lock()
	if r.stored == nil {
		r.stored = map[string]int{}
	}
	r.stored[s]++
	r.mu.Unlock()
}
func (r *recorder) Skipped(s string, sk collectors.Skipped) {
	r.mu.Lock()
	r.skipped = append(r.skipped, sk)
	r.mu.Unlock()
}
func (r *recorder) Warned(string, string) {}
func (r *recorder) StoreOp(op string, d time.Duration, err error) {
	r.mu.Lock()
	if r.ops == nil {
		r.ops = map[string]int{}
	}
	r.ops[op]++
	r.mu.Unlock()
}

// Items are written by a bounded pool of writers, in batch (NoSync); the
// ledger is synced once, after every item and before the cursor; blobs are
// durable before the item naming them; observers see every event.
func TestRunnerWritersAndDurability(t *testing.T) {
	fs, err := fsstore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	j := &journal{Store: fs}
	// The emission with a file comes first: the last ones are still being
	// written when the collector returns.
	ems := []collectors.Emission{emission("withfile", "Adds notes", file("notes.txt", "design notes"))}
	for i := range 40 {
		ems = append(ems, emission(fmt.Sprintf("c%03d", i), fmt.Sprintf("Commit %d", i)))
	}
	src := &scripted{items: ems, skips: []collectors.Skipped{{What: "commit x", Reason: "unreadable"}}, cursor: "end"}
	r := runnerOn(t, j, pipeline.Source{Name: "repo", Type: "git", Collector: src})
	r.Writers = 4
	rec, also := &recorder{}, &recorder{}
	r.Observer = pipeline.Observers(rec, nil, also)
	rep, err := r.Run(context.Background(), pipeline.Options{Command: "collect"})
	if err != nil || rep.Outcome != pipeline.OutcomeOK || rep.Sources[0].Items != len(ems) {
		t.Fatalf("run: %v %+v", err, rep)
	}
	if m := j.maxIn.Load(); m > 4 || m < 2 {
		t.Errorf("%d item writes at once, want 2..4", m)
	}
	firstItem, lastItem := j.index("put apprentices/jane/items/")
	syncAt, _ := j.index("sync")
	cursorAt, _ := j.index("put apprentices/jane/cursors/")
	blobAt, _ := j.index("put apprentices/jane/blobs/")
	if firstItem < 0 || syncAt < lastItem || cursorAt < syncAt {
		t.Errorf("order: items %d..%d, sync %d, cursor %d; want every item, then sync, then the cursor\n%s",
			firstItem, lastItem, syncAt, cursorAt, strings.Join(j.ops, "\n"))
	}
	if blobAt < 0 || !strings.HasSuffix(j.ops[blobAt], "nosync=false") {
		t.Errorf("blob not written durably: %v", blobAt)
	}
	withFile, _ := j.index("put apprentices/jane/items/" + emission("withfile", "").Item.ID)
	if withFile < blobAt {
		t.Errorf("item written (%d) before its blob (%d)", withFile, blobAt)
	}
	for _, op := range j.ops {
		if strings.HasPrefix(op, "put ") && strings.Contains(op, "/items/") && !strings.HasSuffix(op, "nosync=true") {
			t.Errorf("item written durably one by one: %s", op)
		}
		if strings.Contains(op, "/cursors/") && !strings.HasSuffix(op, "nosync=false") {
			t.Errorf("cursor not durable: %s", op)
		}
	}
	// The observer saw what the report says.
	if len(rec.started) != 1 || len(rec.finished) != 1 || rec.stored["repo"] != len(ems) || len(rec.skipped) != 1 {
		t.Errorf("observer: started %v finished %d stored %v skipped %v", rec.started, len(rec.finished), rec.stored, rec.skipped)
	}
	if also.stored["repo"] != len(ems) || len(also.finished) != 1 {
		t.Errorf("second observer: stored %v, finished %d", also.stored, len(also.finished))
	}
	if fin := rec.finished[0]; fin.Items != len(ems) || fin.SkippedTotal != 1 || fin.Artefacts != 1 {
		t.Errorf("SourceFinished report: %+v", fin)
	}
	if rec.ops["put_item"] != len(ems) || rec.ops["sync"] != 1 || rec.ops["put_cursor"] != 1 || rec.ops["put_blobs"] != 1 {
		t.Errorf("store ops observed: %v", rec.ops)
	}
}

// A failed item write fails the source, stops the collector and saves no
// cursor; what was written stays.
func TestRunnerWriterFailure(t *testing.T) {
	fs, err := fsstore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bad := emission("c005", "Bad")
	j := &journal{Store: fs, failKey: bad.Item.ID}
	var ems []collectors.Emission
	for i := range 200 {
		ems = append(ems, emission(fmt.Sprintf("c%03d", i), fmt.Sprintf("Commit %d", i)))
	}
	src := &scripted{items: ems, cursor: "end"}
	r := runnerOn(t, j, pipeline.Source{Name: "repo", Type: "git", Collector: src})
	r.Writers = 2
	rep, err := r.Run(context.Background(), pipeline.Options{Command: "collect"})
	if err != nil {
		t.Fatal(err)
	}
	sr := rep.Sources[0]
	if sr.Outcome != pipeline.OutcomeFailed || !strings.Contains(sr.Error, "disk full") {
		t.Fatalf("source with a failed write: %+v", sr)
	}
	if sr.Items >= len(ems)-1 {
		t.Errorf("collector not stopped after the failure: %d items stored", sr.Items)
	}
	if c, _ := r.Ledger.Cursor(context.Background(), "repo"); c != nil {
		t.Errorf("cursor saved after a failed write: %s", c)
	}
}

// The report and SourceFinished carry how long the source took.
func TestRunnerSourceDuration(t *testing.T) {
	src := &scripted{items: []collectors.Emission{emission("a1", "One")}, cursor: "end"}
	r, _ := newRunner(t, pipeline.Source{Name: "repo", Type: "git", Collector: src})
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	r.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(time.Second); return clock }
	rec := &recorder{}
	r.Observer = rec
	rep, err := r.Run(context.Background(), pipeline.Options{Command: "collect"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sources[0].DurationSeconds <= 0 || rec.finished[0].DurationSeconds != rep.Sources[0].DurationSeconds {
		t.Errorf("source duration: report %v, observer %v", rep.Sources[0].DurationSeconds, rec.finished[0].DurationSeconds)
	}
}

// The last source is synced while the link step lists the ledger (the
// sync waits on the disk, the link step on the processor); its cursor is
// still saved only after its sync succeeds, and a failed sync still fails
// it. Sources before the last are finished before the next one starts.
func TestRunnerLastSyncOverlapsLinking(t *testing.T) {
	for _, failLast := range []bool{false, true} {
		t.Run(fmt.Sprintf("failLast=%v", failLast), func(t *testing.T) {
			fs, err := fsstore.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			j := &journal{Store: fs}
			listedDuringSync := make(chan bool, 1)
			j.onSync = func(n int) error {
				if n != 2 { // the first source's sync, or the link step's
					return nil
				}
				// The link step lists the items while this waits.
				deadline := time.Now().Add(10 * time.Second)
				for time.Now().Before(deadline) {
					if _, last := j.index("list apprentices/jane/items/"); last >= 0 {
						listedDuringSync <- true
						break
					}
					time.Sleep(time.Millisecond)
				}
				if failLast {
					return errors.New("disk gone")
				}
				return nil
			}
			a := &scripted{items: []collectors.Emission{emission("a1", "First source")}, cursor: "a-end"}
			b := &scripted{items: []collectors.Emission{emission("b1", "Second source")}, cursor: "b-end"}
			r := runnerOn(t, j, pipeline.Source{Name: "a", Type: "git", Collector: a}, pipeline.Source{Name: "b", Type: "git", Collector: b})
			rep, err := r.Run(context.Background(), pipeline.Options{Command: "run", Coverage: true})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-listedDuringSync:
			default:
				t.Errorf("the link step did not list the items while the last source synced:\n%s", strings.Join(j.ops, "\n"))
			}
			if len(rep.Sources) != 2 || rep.Sources[0].Name != "a" || rep.Sources[1].Name != "b" {
				t.Fatalf("sources in the report: %+v", rep.Sources)
			}
			if rep.Sources[0].Outcome != pipeline.OutcomeOK {
				t.Errorf("first source: %+v", rep.Sources[0])
			}
			// The first source was finished (its cursor saved) before the
			// second started.
			aCursor, _ := j.index("put apprentices/jane/cursors/a")
			bItem, _ := j.index("put apprentices/jane/items/" + emission("b1", "").Item.ID)
			if aCursor < 0 || aCursor > bItem {
				t.Errorf("first cursor at %d, second source's item at %d:\n%s", aCursor, bItem, strings.Join(j.ops, "\n"))
			}
			bc, _ := r.Ledger.Cursor(context.Background(), "b")
			if failLast {
				if sr := rep.Sources[1]; sr.Outcome != pipeline.OutcomeFailed || !strings.Contains(sr.Error, "disk gone") {
					t.Errorf("last source with a failed sync: %+v", sr)
				}
				if rep.Outcome == pipeline.OutcomeOK {
					t.Errorf("run outcome %s with a failed source", rep.Outcome)
				}
				if bc != nil {
					t.Errorf("cursor %q saved after a failed sync", bc)
				}
				return
			}
			if sr := rep.Sources[1]; sr.Outcome != pipeline.OutcomeOK || sr.Items != 1 {
				t.Errorf("last source: %+v", sr)
			}
			if !strings.Contains(string(bc), `"b-end"`) {
				t.Errorf("last cursor %q, want b-end", bc)
			}
			if rep.Coverage == nil {
				t.Errorf("no coverage in the report")
			}
		})
	}
}

// Package collectortest is the conformance suite for collectors: the
// contract in the collectors package's doc comments, written as tests.
// Every collector's tests call Check with a Fixture, a real source built
// for the test (a git repository, a folder of run logs, a server on
// loopback), and Sink records what a collector reports. (The sample
// config of a collector's README is checked by
// pipeline/config/configtest.SampleConfig, so that the collectors do not
// depend on the config file's package.)
package collectortest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// Sink records what a collector reports; it is safe for concurrent use.
// Items are kept as a reader of the ledger would see them: each emitted
// item is round-tripped through JSON, and the contents of its files are
// read at once.
type Sink struct {
	// OnEmit, when set, runs before each Emit is recorded, with the
	// number of items recorded so far; an error it returns is Emit's.
	OnEmit func(ctx context.Context, n int) error

	mu      sync.Mutex
	items   []evidence.Item
	invalid []string
	files   map[string]map[string][]byte // item ID → file name → content
	skips   []collectors.Skipped
	warns   []string
}

var _ collectors.Sink = (*Sink)(nil)

// Emit implements collectors.Sink.
func (s *Sink) Emit(ctx context.Context, e collectors.Emission) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.OnEmit != nil {
		if err := s.OnEmit(ctx, len(s.items)); err != nil {
			return err
		}
	}
	if err := e.Item.Validate(); err != nil {
		s.invalid = append(s.invalid, fmt.Sprintf("item %s: %v", e.Item.ID, err))
	}
	b, err := json.Marshal(e.Item)
	if err != nil {
		return fmt.Errorf("collectortest: marshal item %s: %w", e.Item.ID, err)
	}
	var it evidence.Item
	if err := json.Unmarshal(b, &it); err != nil {
		return fmt.Errorf("collectortest: unmarshal item %s: %w", e.Item.ID, err)
	}
	s.items = append(s.items, it)
	for _, f := range e.Files {
		content, err := readFile(f)
		if err != nil {
			s.invalid = append(s.invalid, fmt.Sprintf("item %s: file %q: %v", it.ID, f.Name, err))
			continue
		}
		if s.files == nil {
			s.files = map[string]map[string][]byte{}
		}
		if s.files[it.ID] == nil {
			s.files[it.ID] = map[string][]byte{}
		}
		s.files[it.ID][f.Name] = content
	}
	return nil
}

func readFile(f collectors.File) ([]byte, error) {
	if f.Name == "" || f.Open == nil {
		return nil, errors.New("no name or no Open")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// Skip implements collectors.Sink.
func (s *Sink) Skip(sk collectors.Skipped) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skips = append(s.skips, sk)
}

// Warn implements collectors.Sink.
func (s *Sink) Warn(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warns = append(s.warns, msg)
}

// Items returns the items emitted, in order.
func (s *Sink) Items() []evidence.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.items)
}

// Invalid returns why emitted items or their files were not valid (Item.Validate,
// a file that cannot be opened and read).
func (s *Sink) Invalid() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.invalid)
}

// File returns the content of an emitted item's file.
func (s *Sink) File(itemID, name string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[itemID][name]
	return b, ok
}

// Skips returns what the collector reported as skipped.
func (s *Sink) Skips() []collectors.Skipped {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.skips)
}

// Warnings returns the collector's warnings.
func (s *Sink) Warnings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.warns)
}

// IDs returns the IDs of the items emitted, sorted.
func (s *Sink) IDs() []string {
	var ids []string
	for _, it := range s.Items() {
		ids = append(ids, it.ID)
	}
	sort.Strings(ids)
	return ids
}

// Fixture is a collector and the real source it reads.
type Fixture struct {
	// New returns a collector of the fixture; Check calls it once per
	// subtest, so collectors are never shared between them.
	New func(t testing.TB) collectors.Collector
	// Dirs are the folders the collector reads. Check takes a snapshot of
	// them (every entry's path, type, mode, size, time and content hash)
	// before collecting and compares it after each Collect: Collect
	// writes nothing. At least one is required.
	Dirs []string
	// Grow, when set, adds evidence to the source (a commit, a run) that
	// a collection from the last cursor must emit: at least one item it
	// had not emitted before. It is called at most once per subtest.
	Grow func(t testing.TB)
	// MinItems is the fewest items a full collection must emit (0: 1), so
	// that the checks cannot pass on an empty source.
	MinItems int
	// Declared requires at least one declared tag among the items, so
	// that the check on declared tags cannot pass vacuously.
	Declared bool
}

// Check runs the conformance suite on the fixture. It checks that:
//   - a full collection (nil cursor) succeeds, emits at least MinItems
//     items, each valid (Item.Validate) with a unique ID and no artefacts
//     listed, whose files can be read, and returns a non-empty JSON
//     cursor;
//   - items carry only declared tags (By "declared:…", a KSB ID, a
//     confidence in (0,1]), no rule or review tags;
//   - two full collections emit the same IDs for the same items;
//   - a collection from the returned cursor emits nothing new, and,
//     after Grow, emits the new evidence;
//   - a cancelled context, before or during Collect, gives ctx.Err() and
//     no cursor;
//   - an error from Sink.Emit is returned unchanged, with no cursor;
//   - no Collect changes anything under Dirs.
func Check(t *testing.T, f Fixture) {
	t.Helper()
	if f.New == nil || len(f.Dirs) == 0 {
		t.Fatal("collectortest: Fixture needs New and at least one of Dirs")
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, f) })
	}
}

var checks = []struct {
	name string
	fn   func(t testing.TB, f Fixture)
}{
	{"FullCollection", checkFull},
	{"DeclaredTags", checkDeclared},
	{"StableIDs", checkStable},
	{"Incremental", checkIncremental},
	{"CancelledBefore", checkCancelledBefore},
	{"CancelledDuring", checkCancelledDuring},
	{"SinkError", checkSinkError},
}

// collect runs one Collect and checks that it wrote nothing.
func collect(t testing.TB, f Fixture, c collectors.Collector, ctx context.Context, cursor collectors.Cursor, s *Sink) (collectors.Cursor, error) {
	t.Helper()
	before := snapshot(t, f.Dirs)
	next, err := c.Collect(ctx, cursor, s)
	if diff := compare(before, snapshot(t, f.Dirs)); diff != "" {
		t.Errorf("Collect wrote to the source: %s", diff)
	}
	return next, err
}

// full runs a full collection that must succeed.
func full(t testing.TB, f Fixture, c collectors.Collector) (*Sink, collectors.Cursor) {
	t.Helper()
	s := &Sink{}
	next, err := collect(t, f, c, context.Background(), nil, s)
	if err != nil {
		t.Fatalf("full collection: %v", err)
	}
	return s, next
}

func checkFull(t testing.TB, f Fixture) {
	s, next := full(t, f, f.New(t))
	items := s.Items()
	if min := max(f.MinItems, 1); len(items) < min {
		t.Fatalf("full collection emitted %d items, want at least %d", len(items), min)
	}
	for _, msg := range s.Invalid() {
		t.Errorf("invalid: %s", msg)
	}
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.ID] {
			t.Errorf("item %s emitted twice in one collection", it.ID)
		}
		seen[it.ID] = true
		if len(it.Artefacts) != 0 {
			t.Errorf("item %s lists %d artefacts; collectors leave Artefacts to the pipeline", it.ID, len(it.Artefacts))
		}
	}
	if len(next) == 0 || !json.Valid(next) {
		t.Errorf("cursor %q is not a JSON value", next)
	}
}

func checkDeclared(t testing.TB, f Fixture) {
	s, _ := full(t, f, f.New(t))
	declared := 0
	for _, it := range s.Items() {
		for _, tag := range it.Tags {
			if !tag.IsDeclared() {
				t.Errorf("item %s: tag %s by %q is not marked %q; collectors emit declared tags only", it.ID, tag.KSB, tag.By, evidence.ByDeclared)
				continue
			}
			declared++
			if tag.By == evidence.ByDeclared {
				t.Errorf("item %s: tag %s by %q does not say where it was declared", it.ID, tag.KSB, tag.By)
			}
			if !evidence.LooksLikeKSB(tag.KSB) {
				t.Errorf("item %s: declared tag %q is not a KSB ID", it.ID, tag.KSB)
			}
			if tag.Confidence <= 0 || tag.Confidence > 1 {
				t.Errorf("item %s: declared tag %s has confidence %v, want (0,1]", it.ID, tag.KSB, tag.Confidence)
			}
		}
	}
	if f.Declared && declared == 0 {
		t.Error("the fixture promises declared tags, and no item has one")
	}
}

func checkStable(t testing.TB, f Fixture) {
	first, _ := full(t, f, f.New(t))
	second, _ := full(t, f, f.New(t))
	if a, b := first.IDs(), second.IDs(); !slices.Equal(a, b) {
		t.Fatalf("two full collections emitted different IDs: %d and %d items, %d in common", len(a), len(b), common(a, b))
	}
	origin := map[string]evidence.Origin{}
	for _, it := range first.Items() {
		origin[it.ID] = it.Origin
	}
	for _, it := range second.Items() {
		if origin[it.ID] != it.Origin {
			t.Errorf("item %s: origin %+v, then %+v", it.ID, origin[it.ID], it.Origin)
		}
	}
}

func common(a, b []string) int {
	n := 0
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); ok {
			n++
		}
	}
	return n
}

func checkIncremental(t testing.TB, f Fixture) {
	c := f.New(t)
	first, cursor := full(t, f, c)
	seen := map[string]bool{}
	for _, id := range first.IDs() {
		seen[id] = true
	}
	again := &Sink{}
	next, err := collect(t, f, c, context.Background(), cursor, again)
	if err != nil {
		t.Fatalf("collection from the cursor: %v", err)
	}
	for _, id := range again.IDs() {
		if !seen[id] {
			t.Errorf("collection from the cursor emitted %s, which the full collection did not", id)
		}
	}
	if len(next) == 0 || !json.Valid(next) {
		t.Errorf("cursor %q after the second collection is not a JSON value", next)
	}
	if f.Grow == nil {
		return
	}
	f.Grow(t)
	grown := &Sink{}
	if _, err := collect(t, f, c, context.Background(), next, grown); err != nil {
		t.Fatalf("collection after Grow: %v", err)
	}
	fresh := 0
	for _, id := range grown.IDs() {
		if !seen[id] {
			fresh++
		}
	}
	if fresh == 0 {
		t.Errorf("collection from the cursor after Grow emitted %d items, none new", len(grown.IDs()))
	}
}

func checkCancelledBefore(t testing.TB, f Fixture) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &Sink{}
	next, err := collect(t, f, f.New(t), ctx, nil, s)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Collect with a cancelled context returned %v, want context.Canceled", err)
	}
	if next != nil {
		t.Errorf("Collect with a cancelled context returned cursor %q, want none", next)
	}
	if n := len(s.Items()); n != 0 {
		t.Errorf("Collect with a cancelled context emitted %d items", n)
	}
}

func checkCancelledDuring(t testing.TB, f Fixture) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &Sink{OnEmit: func(context.Context, int) error { cancel(); return nil }}
	next, err := collect(t, f, f.New(t), ctx, nil, s)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Collect cancelled at the first item returned %v, want context.Canceled", err)
	}
	if next != nil {
		t.Errorf("Collect cancelled at the first item returned cursor %q, want none", next)
	}
}

// errStop is the error the sink returns in checkSinkError.
var errStop = errors.New("collectortest: the sink is full")

func checkSinkError(t testing.TB, f Fixture) {
	s := &Sink{OnEmit: func(context.Context, int) error { return errStop }}
	next, err := collect(t, f, f.New(t), context.Background(), nil, s)
	if !errors.Is(err, errStop) {
		t.Errorf("Collect whose sink failed returned %v, want the sink's error", err)
	}
	if next != nil {
		t.Errorf("Collect whose sink failed returned cursor %q, want none", next)
	}
}

// entry is what a snapshot records of one file system entry.
type entry struct {
	mode fs.FileMode
	size int64
	mod  int64
	hash string
}

// snapshot records every entry under dirs.
func snapshot(t testing.TB, dirs []string) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			e := entry{mode: info.Mode(), size: info.Size(), mod: info.ModTime().UnixNano()}
			switch {
			case info.Mode().IsRegular():
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				sum := sha256.Sum256(b)
				e.hash = hex.EncodeToString(sum[:])
			case info.Mode()&fs.ModeSymlink != 0:
				target, err := os.Readlink(path)
				if err != nil {
					return err
				}
				e.hash = target
			case info.IsDir():
				e.size = 0 // a folder's size says nothing portable
			}
			out[path] = e
			return nil
		})
		if err != nil {
			t.Fatalf("snapshot %s: %v", dir, err)
		}
	}
	return out
}

// compare describes the first few differences between two snapshots, or
// returns "".
func compare(before, after map[string]entry) string {
	var diffs []string
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			diffs = append(diffs, "removed "+p)
		case a != b:
			diffs = append(diffs, "changed "+p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			diffs = append(diffs, "created "+p)
		}
	}
	if len(diffs) == 0 {
		return ""
	}
	sort.Strings(diffs)
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("and %d more", len(diffs)-5))
	}
	return fmt.Sprint(diffs)
}

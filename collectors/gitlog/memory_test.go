package gitlog_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// TestLargeBlobBoundedMemory: an 80 MB text file (over the 64 MiB cap),
// first as a loose object and then packed, is counted as binary and marked
// too_large without being read: the whole run allocates a small fraction of
// its size. Not parallel, so that the allocation count is this test's own.
func TestLargeBlobBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes an 80 MB file")
	}
	const size = 80 << 20
	r := newRepo(t)
	r.git("config", "core.compression", "1") // quick to write; the sizes are the same
	r.write("src/a.py", "x\n")
	r.commit(jane, "Start")
	writeTextFile(t, filepath.Join(r.dir, "data", "big.csv"), size)
	big := r.commit(jane, "Add a large data file")
	if err := os.Remove(filepath.Join(r.dir, "data", "big.csv")); err != nil {
		t.Fatal(err)
	}
	r.write("src/a.py", "y\n")
	r.commit(jane, "Drop it")

	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}})
	for _, layout := range []string{"loose", "packed"} {
		if layout == "packed" {
			if _, err := demorepo.Git(context.Background(), r.dir, "-c", "pack.window=0", "repack", "-adq"); err != nil {
				t.Fatal(err)
			}
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, _, err := collect(t, c, nil)
		runtime.ReadMemStats(&after)
		if err != nil || len(s.items) != 3 {
			t.Fatalf("%s: err %v, %d items", layout, err, len(s.items))
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %.1f MiB allocated for a run over an %d MiB blob", layout, float64(alloc)/(1<<20), size>>20)
		if alloc > size/4 {
			t.Errorf("%s: the run allocated %d MiB; the large blob was read", layout, alloc>>20)
		}
		it := s.byNative()[big]
		raw := it.Facts["files"].([]any)
		f := raw[0].(map[string]any)
		if f["binary"] != true || f["too_large"] != true || factInt(t, it, "files_too_large") != 1 {
			t.Errorf("%s: large file %v, facts %v", layout, f, it.Facts)
		}
	}
}

// TestHugeCommitMessage: a commit whose message is over the read limit is
// read in part, cut at a line break, and marked.
func TestHugeCommitMessage(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	msg := filepath.Join(t.TempDir(), "msg")
	writeTextFile(t, msg, 3<<20)
	r.write("a.txt", "1\n")
	r.commit(jane, "placeholder")
	r.git("commit", "-q", "--amend", "--no-verify", "--author="+jane, "-F", msg)
	huge := r.git("rev-parse", "HEAD")
	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}})
	s, _, err := collect(t, c, nil)
	if err != nil || len(s.items) != 1 {
		t.Fatalf("err %v, %d items", err, len(s.items))
	}
	it := s.byNative()[huge]
	if it.Facts["message_truncated"] != true || it.Facts["summary_truncated"] != true || it.Title != "0,feature_0,0.000000" ||
		len(it.Summary) > 1<<20 || !strings.HasSuffix(it.Summary, "…") {
		t.Errorf("title %q, summary %d bytes ending %q, facts %v", it.Title, len(it.Summary), it.Summary[len(it.Summary)-20:], it.Facts)
	}
}

// writeTextFile writes size bytes of numbered text lines to path.
func writeTextFile(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var chunk bytes.Buffer // numbered lines, repeated: fast to write and to compress
	for i := 0; chunk.Len() < 1<<20; i++ {
		fmt.Fprintf(&chunk, "%d,feature_%d,0.%06d\n", i, i%97, i%1000003)
	}
	for n := 0; n < size; n += chunk.Len() {
		if _, err := f.Write(chunk.Bytes()[:min(chunk.Len(), size-n)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

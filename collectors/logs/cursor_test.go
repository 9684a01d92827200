package logs_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/logs"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// deployment returns the lines of one completed deployment at a minute of
// 2025-08-22 09:MM, naming a run.
func deployment(minute, run string) string {
	return "2025-08-22 09:" + minute + ":00,001 INFO Starting model deployment...\n" +
		"2025-08-22 09:" + minute + ":00,002 INFO Loading model from MLflow run: " + run + "\n" +
		"2025-08-22 09:" + minute + ":01,003 INFO MODEL DEPLOYMENT SUCCESSFUL!\n"
}

const (
	runA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	runB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	runC = "cccccccccccccccccccccccccccccccc"
	runD = "dddddddddddddddddddddddddddddddd"
)

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, p, s string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// collectFrom runs one collection from cursor and returns the MLflow runs
// of the deployments it emitted (with their outcome) and the next cursor.
func collectFrom(t *testing.T, c collectors.Collector, cursor collectors.Cursor) ([]string, collectors.Cursor, *collectortest.Sink) {
	t.Helper()
	s := &collectortest.Sink{}
	next, err := c.Collect(context.Background(), cursor, s)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	var got []string
	for _, it := range s.Items() {
		if it.Kind == evidence.KindDeployment {
			got = append(got, it.Facts["mlflow_run_id"].(string)[:1]+":"+it.Facts["outcome"].(string))
		}
	}
	slices.Sort(got)
	return got, next, s
}

// TestEachLineOnceAcrossRotation rotates a log by renaming it, then
// compresses the rotated copy: each deployment is emitted by exactly one
// collection.
func TestEachLineOnceAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "app.log")
	write(t, live, deployment("00", runA))
	c := newCollector(t, logs.SourceConfig{Paths: []string{filepath.Join(dir, "app.log*")}})

	got, cur, _ := collectFrom(t, c, nil)
	if want := []string{"a:completed"}; !slices.Equal(got, want) {
		t.Fatalf("first run: %v, want %v", got, want)
	}
	// B is written before rotation, C after it.
	appendTo(t, live, deployment("10", runB))
	if err := os.Rename(live, live+".1"); err != nil {
		t.Fatal(err)
	}
	write(t, live, deployment("20", runC))
	got, cur, _ = collectFrom(t, c, cur)
	if want := []string{"b:completed", "c:completed"}; !slices.Equal(got, want) {
		t.Fatalf("after rotation: %v, want %v", got, want)
	}
	// logrotate's delaycompress: app.log.1 becomes app.log.2.gz.
	gzipFile(t, live+".1", live+".2.gz")
	appendTo(t, live, deployment("30", runD))
	got, cur, _ = collectFrom(t, c, cur)
	if want := []string{"d:completed"}; !slices.Equal(got, want) {
		t.Fatalf("after compression: %v, want %v", got, want)
	}
	got, _, _ = collectFrom(t, c, cur)
	if len(got) != 0 {
		t.Fatalf("nothing new, and the collection emitted %v", got)
	}
	// A full collection reads the compressed copy too.
	got, _, _ = collectFrom(t, c, nil)
	if want := []string{"a:completed", "b:completed", "c:completed", "d:completed"}; !slices.Equal(got, want) {
		t.Fatalf("full collection: %v, want %v", got, want)
	}
}

func gzipFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(from); err != nil {
		t.Fatal(err)
	}
}

// TestTruncatedFileStartsAgain truncates a log in place (copytruncate)
// and writes new lines: they are read, the old ones are not read again.
func TestTruncatedFileStartsAgain(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "app.log")
	write(t, live, deployment("00", runA)+deployment("05", runB))
	c := newCollector(t, logs.SourceConfig{Paths: []string{live}})
	_, cur, _ := collectFrom(t, c, nil)
	write(t, live, deployment("40", runC)) // shorter than the offset, another head
	got, _, _ := collectFrom(t, c, cur)
	if want := []string{"c:completed"}; !slices.Equal(got, want) {
		t.Fatalf("after truncation: %v, want %v", got, want)
	}
}

// TestOpenDeploymentCompletesNextRun: a deployment started at the end of
// the file is emitted as started, and the next run, reading from its first
// line again, re-emits the same item with its outcome.
func TestOpenDeploymentCompletesNextRun(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "app.log")
	d := deployment("00", runA)
	lines := strings.SplitAfter(d, "\n")
	write(t, live, lines[0]+lines[1])
	c := newCollector(t, logs.SourceConfig{Paths: []string{live}})
	got, cur, s1 := collectFrom(t, c, nil)
	if want := []string{"a:started"}; !slices.Equal(got, want) {
		t.Fatalf("open deployment: %v, want %v", got, want)
	}
	appendTo(t, live, lines[2])
	got, _, s2 := collectFrom(t, c, cur)
	if want := []string{"a:completed"}; !slices.Equal(got, want) {
		t.Fatalf("completed: %v, want %v", got, want)
	}
	if byKind(s1.Items(), evidence.KindDeployment)[0].ID != byKind(s2.Items(), evidence.KindDeployment)[0].ID {
		t.Error("the completed deployment has another ID than the started one")
	}
}

// TestSymlinksStayInRoot follows a symlink to a file under the pattern's
// folder and skips, with a report, one that leads outside it.
func TestSymlinksStayInRoot(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "logs")
	write(t, filepath.Join(root, "real", "inside.txt"), deployment("00", runA))
	write(t, filepath.Join(dir, "outside", "secret.log"), deployment("10", runB))
	if err := os.Symlink(filepath.Join(root, "real", "inside.txt"), filepath.Join(root, "inside.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "outside", "secret.log"), filepath.Join(root, "escape.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "outside"), filepath.Join(root, "escape-dir")); err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{{filepath.Join(root, "*.log")}, {root}, {filepath.Join(root, "**")}} {
		c := newCollector(t, logs.SourceConfig{Paths: paths})
		s := &collectortest.Sink{}
		_, err := c.Collect(context.Background(), nil, s)
		var pe *collectors.PartialError
		if !errorsAs(err, &pe) {
			t.Fatalf("%v: err %v, want a partial error for the skipped symlink", paths, err)
		}
		var got []string
		for _, it := range byKind(s.Items(), evidence.KindDeployment) {
			got = append(got, it.Facts["mlflow_run_id"].(string)[:1])
		}
		if !slices.Equal(got, []string{"a"}) {
			t.Errorf("%v: deployments of runs %v, want only a (inside the root)", paths, got)
		}
		found := false
		for _, sk := range s.Skips() {
			if strings.HasSuffix(sk.What, "escape.log") && strings.Contains(sk.Reason, "outside") {
				found = true
			}
		}
		if !found {
			t.Errorf("%v: skips %v do not report escape.log", paths, s.Skips())
		}
	}
}

// TestCursorIsJSON: the cursor names each file with its identity.
func TestCursorIsJSON(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.log"), deployment("00", runA))
	_, cur, _ := collectFrom(t, newCollector(t, logs.SourceConfig{Paths: []string{dir}}), nil)
	var v struct {
		Files []struct {
			Path   string `json:"path"`
			Ino    uint64 `json:"ino"`
			FP     string `json:"fp"`
			Offset int64  `json:"offset"`
		} `json:"files"`
	}
	if err := json.Unmarshal(cur, &v); err != nil || len(v.Files) != 1 || v.Files[0].Offset != int64(len(deployment("00", runA))) || len(v.Files[0].FP) != 64 {
		t.Errorf("cursor %s (%v)", cur, err)
	}
}

// TestSameHeadTwoFiles: two logs that start with the same 2 KiB banner
// are told apart by their inode, each continuing from its own offset.
func TestSameHeadTwoFiles(t *testing.T) {
	dir := t.TempDir()
	banner := strings.Repeat("2025-08-22 08:00:00,000 INFO Torchserve version: 0.5.3 banner line\n", 40)
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	write(t, a, banner+deployment("00", runA)+deployment("01", runA))
	write(t, b, banner+deployment("02", runB))
	touch(t, a, 1)
	touch(t, b, 2)
	c := newCollector(t, logs.SourceConfig{Paths: []string{dir}})
	_, cur, _ := collectFrom(t, c, nil)
	appendTo(t, a, deployment("03", runC))
	appendTo(t, b, deployment("04", runD))
	touch(t, a, 4) // b is read first this time
	touch(t, b, 3)
	got, _, _ := collectFrom(t, c, cur)
	if want := []string{"c:completed", "d:completed"}; !slices.Equal(got, want) {
		t.Fatalf("after appending to both: %v, want %v", got, want)
	}
}

// touch sets a file's times to minute m of an arbitrary hour.
func touch(t *testing.T, p string, m int) {
	t.Helper()
	at := fixedNow.Add(time.Duration(m) * time.Minute)
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

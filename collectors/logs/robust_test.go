package logs_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/logs"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// partial runs a collection that must end in a *PartialError and returns
// the sink.
func partial(t *testing.T, c collectors.Collector) *collectortest.Sink {
	t.Helper()
	s := &collectortest.Sink{}
	cur, err := c.Collect(context.Background(), nil, s)
	var pe *collectors.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("collect returned %v, want a *PartialError", err)
	}
	if pe.Failed != len(s.Skips()) || len(cur) == 0 {
		t.Errorf("partial error counts %d, sink has %d skips; cursor %q", pe.Failed, len(s.Skips()), cur)
	}
	return s
}

func skipped(s *collectortest.Sink, what, reason string) bool {
	for _, sk := range s.Skips() {
		if strings.HasSuffix(sk.What, what) && strings.Contains(sk.Reason, reason) {
			return true
		}
	}
	return false
}

// TestHugeLineIsCutAndCounted: a 10 MB line between two deployment lines
// is cut and counted; the deployment around it is read.
func TestHugeLineIsCutAndCounted(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	d := strings.SplitAfter(deployment("00", runA), "\n")
	huge := "2025-08-22 09:00:00,500 INFO payload " + strings.Repeat("x", 10<<20) + "\n"
	write(t, p, d[0]+d[1]+huge+d[2])
	s := partial(t, newCollector(t, logs.SourceConfig{Paths: []string{p}}))
	if !skipped(s, "app.log", "1 lines longer than 65536 bytes cut") {
		t.Errorf("skips %v", s.Skips())
	}
	deps := byKind(s.Items(), evidence.KindDeployment)
	if len(deps) != 1 || deps[0].Facts["outcome"] != "completed" {
		t.Fatalf("deployments %v", goldenLines(deps))
	}
	ex, _ := s.File(deps[0].ID, "excerpt.txt")
	if len(ex) > 64<<10 {
		t.Errorf("excerpt of %d bytes: the cut line was kept whole", len(ex))
	}
}

// TestRandomBytesFileIsSkipped: a file of random bytes beside a log is
// skipped and counted; the log is read.
func TestRandomBytesFileIsSkipped(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 1<<20)
	for i := range junk {
		junk[i] = byte(rng.UintN(256))
	}
	write(t, filepath.Join(dir, "core.log"), string(junk))
	write(t, filepath.Join(dir, "app.log"), deployment("00", runA))
	s := partial(t, newCollector(t, logs.SourceConfig{Paths: []string{filepath.Join(dir, "*.log")}}))
	if !skipped(s, "core.log", "binary") {
		t.Errorf("skips %v", s.Skips())
	}
	if n := len(byKind(s.Items(), evidence.KindDeployment)); n != 1 {
		t.Errorf("%d deployments, want 1", n)
	}
}

// TestBinaryLinesAndBadUTF8: junk lines inside a text log are skipped and
// counted, and invalid UTF-8 in a kept line is replaced, not dropped.
func TestBinaryLinesAndBadUTF8(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	d := strings.SplitAfter(deployment("00", runA), "\n")
	junk := "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\n"
	latin1 := "2025-08-22 09:00:00,700 INFO Deployment note: caf\xe9 ok\n"
	write(t, p, d[0]+junk+d[1]+latin1+d[2])
	s := partial(t, newCollector(t, logs.SourceConfig{Paths: []string{p}}))
	if !skipped(s, "app.log", "1 lines of binary data skipped") {
		t.Errorf("skips %v", s.Skips())
	}
	deps := byKind(s.Items(), evidence.KindDeployment)
	if len(deps) != 1 {
		t.Fatalf("deployments %v", goldenLines(deps))
	}
	ex, _ := s.File(deps[0].ID, "excerpt.txt")
	if !utf8.Valid(ex) || !strings.Contains(string(ex), "caf\uFFFD ok") {
		t.Errorf("excerpt:\n%q", ex)
	}
}

// TestFileTruncatedWhileRead: the file is truncated while it is being read
// (from the first item the collector emits): the collection reports it
// as a skip, and the next one reads the file from its start.
func TestFileTruncatedWhileRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	var b bytes.Buffer
	for i := 0; b.Len() < 4<<20; i++ {
		b.WriteString(deployment("00", runA))
		b.WriteString(strings.Repeat("2025-08-22 09:00:02,000 INFO serving traffic\n", 200))
	}
	write(t, p, b.String())
	c := newCollector(t, logs.SourceConfig{Paths: []string{p}})
	s := &collectortest.Sink{OnEmit: func(context.Context, int) error {
		return os.Truncate(p, 0)
	}}
	cur, err := c.Collect(context.Background(), nil, s)
	var pe *collectors.PartialError
	if !errors.As(err, &pe) || !skipped(s, "app.log", "truncated while being read") {
		t.Fatalf("collect: %v; skips %v", err, s.Skips())
	}
	write(t, p, deployment("50", runB))
	got, _, _ := collectFrom(t, c, cur)
	if len(got) != 1 || got[0] != "b:completed" {
		t.Errorf("after the truncation: %v", got)
	}
}

// TestMissingSource: paths that match nothing at all are the source's
// error, wrapping ErrSourceMissing.
func TestMissingSource(t *testing.T) {
	c := newCollector(t, logs.SourceConfig{Paths: []string{filepath.Join(t.TempDir(), "nope", "*.log")}})
	_, err := c.Collect(context.Background(), nil, &collectortest.Sink{})
	if !errors.Is(err, collectors.ErrSourceMissing) {
		t.Errorf("err %v, want ErrSourceMissing", err)
	}
}

// TestFIFOIsNotRead: a named pipe among the logs is skipped, not opened
// (opening it would block until a writer came).
func TestFIFOIsNotRead(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.log"), deployment("00", runA))
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.log"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	c := newCollector(t, logs.SourceConfig{Paths: []string{filepath.Join(dir, "*.log")}})
	s := &collectortest.Sink{}
	done := make(chan error, 1)
	go func() {
		_, err := c.Collect(context.Background(), nil, s)
		done <- err
	}()
	select {
	case err := <-done:
		var pe *collectors.PartialError
		if !errors.As(err, &pe) || !skipped(s, "pipe.log", "not a regular file") || len(byKind(s.Items(), evidence.KindDeployment)) != 1 {
			t.Errorf("err %v, skips %v, items %v", err, s.Skips(), goldenLines(s.Items()))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the collection hangs on a FIFO")
	}
}

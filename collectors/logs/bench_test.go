package logs_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/logs"
	"github.com/ksbfolio/ksbfolio/pipeline/redact"
)

// The 1 GiB benchmark is out of the default test run: scripts/bench-logs.sh
// generates the file (TestGenerateBenchLog with KSBFOLIO_LOGS_GEN set) and
// runs BenchmarkStreamLog on it (KSBFOLIO_LOGS_BENCH), then grep -c -E
// with the same keywords.

// benchLines are the shapes of the generated log: serving, access, metric
// and application lines, with now and then an event.
var benchLines = []string{
	"%s [INFO ] W-9000-churn_1.0 org.pytorch.serve.wlm.WorkerThread - Backend response time: %d",
	"%s [INFO ] W-9000-churn_1.0 ACCESS_LOG - /10.2.%d.7:35226 \"POST /predictions/churn HTTP/1.1\" 200 957 %d",
	"%s [INFO ] pool-3-thread-1 TS_METRICS - CPUUtilization.Percent:%d.0|#Level:Host|#hostname:ip-10-0-0-1,timestamp:1651137801",
	"%s INFO feature pipeline processed batch %d with 512 rows from s3://bucket/key",
	"%s DEBUG cache hit ratio %d%% for customer segment lookups",
	"%s WARN slow query took %dms on replica lag check",
}

var benchEvents = []string{
	"%s INFO Starting model deployment... run ID: 5183fedfa78c48cbb36e6fee2581613a (%d)",
	"%s INFO MODEL DEPLOYMENT SUCCESSFUL! (%d)",
	"%s ERROR upstream timeout calling feature store token=ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXYZ12345%02d",
	"%s INFO Created version '%d' of model 'churn_model'.",
}

// TestGenerateBenchLog writes the benchmark's log to $KSBFOLIO_LOGS_GEN,
// $KSBFOLIO_LOGS_GEN_SIZE bytes (default 1 GiB).
func TestGenerateBenchLog(t *testing.T) {
	path := os.Getenv("KSBFOLIO_LOGS_GEN")
	if path == "" {
		t.Skip("set KSBFOLIO_LOGS_GEN to generate the benchmark log")
	}
	size := int64(1 << 30)
	if s := os.Getenv("KSBFOLIO_LOGS_GEN_SIZE"); s != "" {
		size, _ = strconv.ParseInt(s, 10, 64)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(7, 7))
	at := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	var n int64
	for i := 0; n < size; i++ {
		at = at.Add(time.Duration(rng.IntN(40)) * time.Millisecond)
		ts := at.Format("2006-01-02T15:04:05.000Z")
		shape := benchLines[rng.IntN(len(benchLines))]
		if i%5000 == 0 {
			shape = benchEvents[(i/5000)%len(benchEvents)]
		}
		k, err := fmt.Fprintf(w, shape+"\n", ts, rng.IntN(100))
		if err != nil {
			t.Fatal(err)
		}
		n += int64(k)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// redactingSink does what the pipeline's sink does to every emission:
// redact the item and read and redact each file, and keeps nothing.
type redactingSink struct {
	red             *redact.Redactor
	items, redacted int
	skips           int
}

func (s *redactingSink) Emit(_ context.Context, e collectors.Emission) error {
	s.items++
	s.redacted += s.red.Item(&e.Item).Total()
	for _, f := range e.Files {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		_, c := s.red.Bytes(b)
		s.redacted += c.Total()
	}
	return nil
}
func (s *redactingSink) Skip(collectors.Skipped) { s.skips++ }
func (s *redactingSink) Warn(string)             {}

// BenchmarkStreamLog streams $KSBFOLIO_LOGS_BENCH through the collector
// with redaction on, and reports its throughput and the peak heap.
func BenchmarkStreamLog(b *testing.B) {
	path := os.Getenv("KSBFOLIO_LOGS_BENCH")
	if path == "" {
		b.Skip("set KSBFOLIO_LOGS_BENCH to a log file (scripts/bench-logs.sh)")
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	red, err := redact.New(redact.Options{})
	if err != nil {
		b.Fatal(err)
	}
	c := newCollector(b, logs.SourceConfig{Paths: []string{path}})
	var peak uint64
	done := make(chan struct{})
	go func() {
		// Sample the live heap while the collection runs, through
		// runtime/metrics: unlike runtime.ReadMemStats it does not stop
		// the world, so sampling does not slow what it measures.
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
				metrics.Read(sample)
				peak = max(peak, sample[0].Value.Uint64())
			}
		}
	}()
	b.SetBytes(fi.Size())
	b.ResetTimer()
	var s *redactingSink
	for range b.N {
		s = &redactingSink{red: red}
		if _, err := c.Collect(context.Background(), nil, s); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(done)
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(s.items), "items")
	b.ReportMetric(float64(s.redacted), "secrets-masked")
}

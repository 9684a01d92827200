//go:build bench

package main

// The serve benchmark of issue 13, kept out of the default test run (build
// tag "bench"; scripts/bench-serve.sh runs it): 1,000 apprentices' ledgers
// in the real S3 server (versitygw), each a copy of one ledger made by a
// real run (its items, blobs, cursors, run reports and coverage.json), and
// the time and memory for serve to refresh all of them (goal: under 5 s
// and 100 MB). Measured two ways: serve's own refresh (the Refresher serve
// builds, in this process), against a plain minio-go loop GETting the same
// 1,000 coverage.json objects with the same concurrency; and a real
// `ksbfolio serve` process, from its start until /readyz answers 200 (the
// first refresh done) and a scrape of /metrics, with its peak RSS (VmHWM).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

func benchEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkServeRefresh: run with -benchtime 1x (the setup is slow); the
// rounds (KSBFOLIO_BENCH_ROUNDS, default 3) are counted inside, and ns/op
// is the median refresh of all the apprentices.
func BenchmarkServeRefresh(b *testing.B) {
	n := benchEnvInt("KSBFOLIO_BENCH_APPRENTICES", 1000)
	rounds := benchEnvInt("KSBFOLIO_BENCH_ROUNDS", 3)
	const parallel = 8 // serve's default --parallel
	ctx := context.Background()
	srv := s3Env(b)
	const prefix = "bench"
	spec := "'" + srv.URL(prefix) + "'"

	// One real ledger: a run over a git repository.
	dir := b.TempDir()
	repo := filepath.Join(dir, "model-repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		b.Fatal(err)
	}
	if _, err := demorepo.Build(ctx, repo, demorepo.Options{Commits: 60, TrailerEvery: 5, Branches: 3, Seed: 7}); err != nil {
		b.Skipf("git: %v", err)
	}
	email := demorepo.DefaultAuthors()[0].Email
	one := filepath.Join(dir, "one.yaml")
	writeFile(b, one, fmt.Sprintf("apprentice: {id: jane, emails: [%s], gateway: 2030-01-01}\nstore: %s\nsources:\n  - {name: model-repo, type: git, path: ./model-repo}\n", email, spec))
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"--no-progress", "-c", one, "run"}, &out, &errb); code != 0 {
		b.Fatalf("run: exit %d\n%s%s", code, out.String(), errb.String())
	}

	// Copied under n apprentices; coverage.json names its apprentice.
	mc, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""), Secure: false})
	if err != nil {
		b.Fatal(err)
	}
	src := prefix + "/apprentices/jane/"
	var keys []string
	for obj := range mc.ListObjectsIter(ctx, srv.Bucket, minio.ListObjectsOptions{Prefix: src, Recursive: true}) {
		if obj.Err != nil {
			b.Fatal(obj.Err)
		}
		if !strings.HasSuffix(obj.Key, "/coverage.json") && !strings.Contains(obj.Key, "/lock") {
			keys = append(keys, strings.TrimPrefix(obj.Key, src))
		}
	}
	cov, err := mc.GetObject(ctx, srv.Bucket, src+"coverage.json", minio.GetObjectOptions{})
	if err != nil {
		b.Fatal(err)
	}
	covJSON, err := io.ReadAll(cov)
	cov.Close()
	if err != nil || !bytes.Contains(covJSON, []byte(`"apprentice": "jane"`)) {
		b.Fatalf("coverage.json: %v\n%s", err, covJSON)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("appr-%04d", i)
	}
	t0 := time.Now()
	parallelDo(b, 16, n, func(i int) error {
		dst := prefix + "/apprentices/" + ids[i] + "/"
		for _, k := range keys {
			if _, err := mc.CopyObject(ctx, minio.CopyDestOptions{Bucket: srv.Bucket, Object: dst + k},
				minio.CopySrcOptions{Bucket: srv.Bucket, Object: src + k}); err != nil {
				return err
			}
		}
		c := bytes.Replace(covJSON, []byte(`"apprentice": "jane"`), []byte(`"apprentice": "`+ids[i]+`"`), 1)
		_, err := mc.PutObject(ctx, srv.Bucket, dst+"coverage.json", bytes.NewReader(c), int64(len(c)), minio.PutObjectOptions{ContentType: "application/json"})
		return err
	})
	fmt.Printf("stored %d apprentices' ledgers (%d objects each, coverage.json %d bytes) in %.1f s\n",
		n, len(keys)+1, len(covJSON), time.Since(t0).Seconds())

	// The fleet's config, loaded as serve loads it.
	var cb strings.Builder
	fmt.Fprintf(&cb, "store: %s\nsources:\n  - {name: model-repo, type: git, path: ./model-repo}\napprentices:\n", spec)
	for _, id := range ids {
		fmt.Fprintf(&cb, "  - {id: %s, emails: [%s], gateway: 2030-01-01}\n", id, email)
	}
	fleet := filepath.Join(dir, "fleet.yaml")
	writeFile(b, fleet, cb.String())
	g := &globals{ctx: ctx, configPath: fleet, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg, err := g.loadConfig()
	if err != nil {
		b.Fatal(err)
	}
	st, err := workspace.OpenStore(ctx, cfg.Store, cfg.Dir)
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s, err := newServer(g, cfg, st, reg, parallel)
	if err != nil {
		b.Fatal(err)
	}
	refresh := func() {
		if err := s.refresher.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
	covKeys := make([]string, n)
	for i, id := range ids {
		covKeys[i] = prefix + "/apprentices/" + id + "/coverage.json"
	}
	plain := func() {
		parallelDo(b, parallel, n, func(i int) error {
			o, err := mc.GetObject(ctx, srv.Bucket, covKeys[i], minio.GetObjectOptions{})
			if err != nil {
				return err
			}
			defer o.Close()
			_, err = io.Copy(io.Discard, o)
			return err
		})
	}
	refresh() // warm both paths (connections, server caches)
	plain()
	series := 0
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		series += len(mf.GetMetric())
	}

	sampler := startMemSampler()
	var tr, tp []time.Duration
	b.ResetTimer()
	for range b.N {
		for i := range rounds {
			order := []bool{true, false} // true: serve's refresh
			if i%2 == 1 {
				order = []bool{false, true}
			}
			for _, serve := range order {
				t := time.Now()
				if serve {
					refresh()
					tr = append(tr, time.Since(t))
				} else {
					plain()
					tp = append(tp, time.Since(t))
				}
			}
		}
	}
	b.StopTimer()
	heap, sys := sampler.stop()
	mr, mp := medianDuration(tr), medianDuration(tp)
	b.ReportMetric(float64(mr.Nanoseconds()), "ns/op") // one refresh (the median), not the rounds of both
	b.ReportMetric(mr.Seconds(), "refresh-s")
	b.ReportMetric(mp.Seconds(), "minio-s")
	b.ReportMetric(mr.Seconds()/mp.Seconds(), "refresh/minio")
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
	fmt.Printf("in process: %d apprentices (%d series registered, the per-KSB ones besides), parallel %d, median of %d: refresh %.3f s, minio-go loop %.3f s, ratio %.2f; peak heap in use %.1f MiB, Go runtime memory (Sys) %.1f MiB\n",
		n, series, parallel, rounds, mr.Seconds(), mp.Seconds(), mr.Seconds()/mp.Seconds(), float64(heap)/(1<<20), float64(sys)/(1<<20))

	// A real serve process over the same store and config.
	bin := filepath.Join(b.TempDir(), "ksbfolio")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	ready, scraped, bytesOut, samples, hwm := serveProcess(b, bin, fleet)
	b.ReportMetric(ready.Seconds(), "serve-ready-s")
	b.ReportMetric(float64(hwm)/1024, "serve-peak-RSS-MiB")
	fmt.Printf("ksbfolio serve: ready (first refresh of %d apprentices done) %.2f s after start; a scrape of /metrics (%d samples, %.1f MiB) %.2f s; peak RSS (VmHWM) %.1f MiB\n",
		n, ready.Seconds(), samples, float64(bytesOut)/(1<<20), scraped.Seconds(), float64(hwm)/1024)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Printf("goal: refresh under 5 s: %s (%.2f s in process, %.2f s to ready); memory under 100 MB: %s (%.1f MB peak RSS)\n",
		verdict(mr < 5*time.Second && ready < 5*time.Second), mr.Seconds(), ready.Seconds(),
		verdict(hwm*1024 < 100e6), float64(hwm)*1024/1e6)
}

// serveProcess starts `bin serve` on cfg, waits for /readyz 200, scrapes
// /metrics once, reads the process's VmHWM (KiB) and stops it with SIGTERM.
func serveProcess(b *testing.B, bin, cfg string) (ready, scrape time.Duration, size, samples, hwmKB int64) {
	b.Helper()
	addr := freeLoopback(b)
	var logb bytes.Buffer
	cmd := exec.Command(bin, "--no-progress", "-c", cfg, "serve", "--listen", addr, "--refresh", "1h")
	cmd.Stdout, cmd.Stderr = &logb, &logb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if resp, err := client.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = time.Since(start)
				break
			}
		}
		if time.Since(start) > 2*time.Minute {
			b.Fatalf("serve not ready after 2 minutes:\n%s", logb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t := time.Now()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	cw := &sampleCounter{}
	size, err = io.Copy(cw, resp.Body)
	resp.Body.Close()
	samples = cw.samples
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("/metrics: %v %d", err, resp.StatusCode)
	}
	scrape = time.Since(t)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		b.Skipf("no /proc: peak memory is measured on Linux only: %v", err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			hwmKB, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return ready, scrape, size, samples, hwmKB
}

// sampleCounter counts the sample lines of a text exposition written to it.
type sampleCounter struct {
	samples   int64
	lineStart bool
	started   bool
}

func (c *sampleCounter) Write(p []byte) (int, error) {
	for _, ch := range p {
		if !c.started || c.lineStart {
			c.started, c.lineStart = true, false
			if ch != '#' && ch != '\n' {
				c.samples++
			}
		}
		if ch == '\n' {
			c.lineStart = true
		}
	}
	return len(p), nil
}

// memSampler samples the Go heap in use and the runtime's memory from the
// OS every 5 ms, keeping the peaks.
type memSampler struct {
	done      chan struct{}
	wg        sync.WaitGroup
	heap, sys uint64
}

func startMemSampler() *memSampler {
	m := &memSampler{done: make(chan struct{})}
	runtime.GC()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			m.heap, m.sys = max(m.heap, ms.HeapInuse), max(m.sys, ms.Sys)
			select {
			case <-m.done:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

func (m *memSampler) stop() (heap, sys uint64) {
	close(m.done)
	m.wg.Wait()
	return m.heap, m.sys
}

// parallelDo calls f(0..n-1), conc at a time, failing b on an error.
func parallelDo(b *testing.B, conc, n int, f func(int) error) {
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { b.Error(err) })
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

func medianDuration(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

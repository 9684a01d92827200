package gitlog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// benchRepo is the repository BenchmarkCollect uses: KSBFOLIO_BENCH_REPO,
// or one of KSBFOLIO_BENCH_COMMITS commits built once per process.
var benchRepo struct {
	once sync.Once
	dir  string
	tmp  string // to remove at exit
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchRepo.tmp != "" {
		os.RemoveAll(benchRepo.tmp)
	}
	os.Exit(code)
}

func benchRepoDir(b *testing.B) string {
	b.Helper()
	if dir := os.Getenv("KSBFOLIO_BENCH_REPO"); dir != "" {
		return dir
	}
	n, _ := strconv.Atoi(os.Getenv("KSBFOLIO_BENCH_COMMITS"))
	if n <= 0 {
		b.Skip("set KSBFOLIO_BENCH_REPO to a repository, or KSBFOLIO_BENCH_COMMITS=50000 to build one")
	}
	benchRepo.once.Do(func() {
		tmp, err := os.MkdirTemp("", "ksbfolio-bench-git-")
		if err != nil {
			benchRepo.err = err
			return
		}
		benchRepo.tmp = tmp
		benchRepo.dir = filepath.Join(tmp, "repo")
		start := time.Now()
		_, benchRepo.err = demorepo.Build(context.Background(), benchRepo.dir,
			demorepo.Options{Commits: n, Seed: 1, Branches: n / 200, TrailerEvery: 5, Mailmap: true})
		fmt.Fprintf(os.Stderr, "built %d commits in %.1fs\n", n, time.Since(start).Seconds())
	})
	if benchRepo.err != nil {
		b.Fatal(benchRepo.err)
	}
	return benchRepo.dir
}

type countingSink struct{ n int }

func (s *countingSink) Emit(context.Context, collectors.Emission) error { s.n++; return nil }
func (s *countingSink) Skip(collectors.Skipped)                         {}
func (s *countingSink) Warn(string)                                     {}

// BenchmarkCollect times a full first Collect and an incremental one with
// nothing new; commits/s counts the apprentice's commits emitted.
func BenchmarkCollect(b *testing.B) {
	dir := benchRepoDir(b)
	email := os.Getenv("KSBFOLIO_BENCH_EMAIL")
	if email == "" {
		email = janeE
	}
	c := newCollector(b, gitlog.Config{Path: dir, Emails: []string{email}})
	var cursor collectors.Cursor
	b.Run("full", func(b *testing.B) {
		items := 0
		for b.Loop() {
			s := &countingSink{}
			next, err := c.Collect(context.Background(), nil, s)
			if err != nil {
				b.Fatal(err)
			}
			items, cursor = s.n, next
		}
		b.ReportMetric(float64(items)*float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		b.ReportMetric(float64(items), "items")
	})
	b.Run("incremental-nothing-new", func(b *testing.B) {
		for b.Loop() {
			s := &countingSink{}
			if _, err := c.Collect(context.Background(), cursor, s); err != nil || s.n != 0 {
				b.Fatalf("err %v, %d items", err, s.n)
			}
		}
	})
}

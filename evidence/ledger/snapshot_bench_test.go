//go:build bench

package ledger_test

// The read benchmark of issue 6 point 3, kept out of the default test run
// (build tag "bench"; scripts/bench-read.sh runs it): on the real S3
// server, a Snapshot of 20,000 items must take at most 1.5× a plain
// minio-go loop doing the same requests (List, then one GET per object)
// with the same concurrency.

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store/s3store"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

func benchCount(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func BenchmarkSnapshotS3(b *testing.B) {
	items := benchCount("KSBFOLIO_BENCH_ITEMS", 20000)
	reviews := items / 40
	rounds := benchCount("KSBFOLIO_BENCH_ROUNDS", 3)
	conc := ledger.DefaultConcurrency
	ctx := context.Background()
	srv := storetest.StartVersityGW(b)
	cfg, err := s3store.ParseURL(srv.URL("bench"))
	if err != nil {
		b.Fatal(err)
	}
	cfg.AccessKey, cfg.SecretKey = srv.AccessKey, srv.SecretKey
	s, err := s3store.New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	l, err := ledger.New(s, "jane")
	if err != nil {
		b.Fatal(err)
	}
	fill(b, l, items, reviews, conc)

	mc, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""), Secure: false})
	if err != nil {
		b.Fatal(err)
	}
	plain := func() int {
		var keys []string
		for _, dir := range []string{"items/", "reviews/"} {
			for obj := range mc.ListObjectsIter(ctx, srv.Bucket, minio.ListObjectsOptions{Prefix: "bench/" + l.Prefix() + dir, Recursive: true}) {
				if obj.Err != nil {
					b.Fatal(obj.Err)
				}
				keys = append(keys, obj.Key)
			}
		}
		next := make(chan string)
		var wg sync.WaitGroup
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range next {
					o, err := mc.GetObject(ctx, srv.Bucket, k, minio.GetObjectOptions{})
					if err == nil {
						_, err = io.Copy(io.Discard, o)
						o.Close()
					}
					if err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for _, k := range keys {
			next <- k
		}
		close(next)
		wg.Wait()
		return len(keys)
	}
	snapshot := func() int {
		snap, err := l.Snapshot(ctx, ledger.SnapshotOptions{Concurrency: conc})
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Views) != items || len(snap.Corrupt) != 0 {
			b.Fatalf("snapshot read %d items (%d corrupt), want %d", len(snap.Views), len(snap.Corrupt), items)
		}
		return len(snap.Views) + len(snap.Reviews)
	}
	plain() // warm both paths (connections, server caches)
	snapshot()

	var tp, ts []time.Duration
	b.ResetTimer()
	// The setup is too slow to repeat for b.N: run with -benchtime 1x;
	// the rounds are counted here.
	for i := range rounds {
		// Alternate which goes first, so neither always meets a warmer server.
		run := []func() int{plain, snapshot}
		if i%2 == 1 {
			run = []func() int{snapshot, plain}
		}
		for j, f := range run {
			t0 := time.Now()
			n := f()
			d := time.Since(t0)
			if (j == 0) == (i%2 == 0) {
				tp = append(tp, d)
			} else {
				ts = append(ts, d)
			}
			if n != items+reviews {
				b.Fatalf("read %d objects, want %d", n, items+reviews)
			}
		}
	}
	b.StopTimer()
	mp, ms := median(tp), median(ts)
	ratio := ms.Seconds() / mp.Seconds()
	b.ReportMetric(ratio, "snapshot/minio")
	b.ReportMetric(ms.Seconds(), "snapshot-s")
	b.ReportMetric(mp.Seconds(), "minio-s")
	fmt.Printf("read %d items + %d reviews, concurrency %d, median of %d: minio-go loop %.3f s, snapshot %.3f s, ratio %.3f (limit 1.5)\n",
		items, reviews, conc, rounds, mp.Seconds(), ms.Seconds(), ratio)
	if ratio > 1.5 {
		b.Errorf("snapshot takes %.2f× the plain minio-go loop, limit 1.5×", ratio)
	}
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// fill stores n git-like items (about 1.5 KB of JSON each) and r reviews,
// conc at a time.
func fill(b *testing.B, l *ledger.Ledger, n, r, conc int) {
	ctx := context.Background()
	t0 := time.Now()
	next := make(chan int)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				native := fmt.Sprintf("%040x", i)
				it := &evidence.Item{Schema: 1, ID: evidence.NewID("git", native), Apprentice: "jane", Source: "repo", SourceType: "git",
					Kind: evidence.KindCommit, Title: fmt.Sprintf("Fix drift monitoring threshold, part %d", i),
					Summary:    "Lower the PSI alert threshold after the March retrain; adds a test.\n\nRefs #1234",
					OccurredAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
					Origin:     evidence.Origin{URI: "git+file:///srv/repo", NativeID: native},
					Facts: map[string]any{"branch": "main", "insertions": 12, "deletions": 3, "files": []map[string]any{
						{"path": "monitoring/drift.py", "insertions": 10, "deletions": 2},
						{"path": "tests/test_drift.py", "insertions": 2, "deletions": 1}}},
					Tags: []evidence.Tag{{KSB: "S10", By: "rule:live-monitoring", Confidence: 0.6, Reason: "Changes monitoring or alerting of a live model", Catalogue: "st1398-v1.0"}},
				}
				if err := l.PutItem(ctx, it); err != nil {
					b.Error(err)
					continue
				}
				if i < r {
					yes := true
					if _, err := l.AddDecision(ctx, it.ID, evidence.Decision{At: time.Now(), By: "pat", Role: "coach", Accept: []string{"S10"}, Confidential: &yes}); err != nil {
						b.Error(err)
					}
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	fmt.Printf("stored %d items and %d reviews in %.1f s\n", n, r, time.Since(t0).Seconds())
}

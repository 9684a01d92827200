package metrics

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/s3store"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// s3ThroughProxy is a real S3 server (versitygw) reached through a fault
// proxy, as an s3store.Store that gives up quickly on a dead server, and
// its config.
func s3ThroughProxy(t *testing.T) (*s3store.Store, s3store.Config, *storetest.FaultProxy) {
	t.Helper()
	srv := storetest.StartVersityGW(t)
	proxy := storetest.NewFaultProxy(t, srv.Endpoint)
	cfg, err := s3store.ParseURL(srv.Through(proxy).URL("fleet"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AccessKey, cfg.SecretKey = srv.AccessKey, srv.SecretKey
	cfg.Timeout, cfg.IdleTimeout = 3*time.Second, time.Second
	s, err := s3store.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg, proxy
}

// opened is a Refresher's open function for a store already open.
func opened(s store.Store) func(context.Context) (store.Store, error) {
	return func(context.Context) (store.Store, error) { return s, nil }
}

// putLedger stores n items, a review and a coverage.json (rep, for
// apprentice id) in id's ledger.
func putLedger(t *testing.T, l *ledger.Ledger, n int, rep any) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		native := fmt.Sprintf("%040x", i)
		it := &evidence.Item{Schema: 1, ID: evidence.NewID("git", native), Apprentice: l.Apprentice(), Source: "repo", SourceType: "git",
			Kind: evidence.KindCommit, Title: fmt.Sprintf("Commit %d", i), OccurredAt: t0.Add(time.Duration(i) * time.Minute),
			Origin: evidence.Origin{URI: "git+file:///srv/repo", NativeID: native},
			Tags:   []evidence.Tag{{KSB: "S2", By: "rule:x", Confidence: 0.6, Reason: "r", Catalogue: "st1398-v1.0"}}}
		if err := l.PutItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := l.AddDecision(ctx, it.ID, evidence.Decision{At: t0, By: "pat", Role: "coach", Accept: []string{"S2"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rep != nil {
		if err := l.PutCoverage(ctx, rep); err != nil {
			t.Fatal(err)
		}
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestRefreshReadsOnlySummaries: a refresh of three apprentices (two with
// a ledger of items, reviews and coverage.json; one never run) sends the
// S3 server nothing but requests for coverage.json objects, one per
// apprentice (and a listing of the key for the one without), and puts
// what they say in the metrics.
func TestRefreshReadsOnlySummaries(t *testing.T) {
	s, _, proxy := s3ThroughProxy(t)
	rep := sampleCoverage()
	for _, id := range []string{"amy", "bob"} {
		l, err := ledger.New(s, id)
		if err != nil {
			t.Fatal(err)
		}
		rep.Apprentice = id
		putLedger(t, l, 20, rep)
	}
	reg := prometheus.NewRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRefresher(m, opened(s), []Apprentice{{ID: "amy"}, {ID: "bob", Gateway: t0}, {ID: "cat"}}, 2, quietLog())
	before := len(proxy.Requests())
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := proxy.Requests()[before:]
	gets := map[string]int{}
	for _, q := range reqs {
		switch {
		case q.Method == "GET" && strings.HasSuffix(strings.SplitN(q.Target, "?", 2)[0], "/coverage.json"):
			gets[strings.SplitN(q.Target, "?", 2)[0]]++
		case q.Method == "GET" && strings.Contains(q.Target, "list-type=2") &&
			strings.Contains(q.Target, "prefix=fleet%2Fapprentices%2Fcat%2Fcoverage.json"):
		default:
			t.Errorf("the refresh sent %s %s: it must read only coverage summaries", q.Method, q.Target)
		}
	}
	for _, id := range []string{"amy", "bob", "cat"} {
		key := "/ksbfolio-test/fleet/apprentices/" + id + "/coverage.json"
		if gets[key] != 1 {
			t.Errorf("%d GETs of %s, want 1 (all requests: %v)", gets[key], key, reqs)
		}
	}
	if v := testutil.ToFloat64(m.coverageRatio.WithLabelValues("bob")); v != 0.5 {
		t.Errorf("bob's coverage ratio %v, want 0.5", v)
	}
	if n := testutil.CollectAndCount(m.coverageRatio); n != 2 {
		t.Errorf("%d coverage ratios, want 2 (cat never ran)", n)
	}
	if !r.Ready() {
		t.Error("not ready after a refresh that succeeded")
	}

	// bob erased: his metrics go at the next refresh, amy's stay.
	if err := s.Delete(context.Background(), "apprentices/bob/coverage.json"); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := string(exposition(t, m.Gatherer(reg)))
	if strings.Contains(out, `apprentice="bob"`) || !strings.Contains(out, `ksbfolio_ksb_status{apprentice="amy"`) {
		t.Errorf("after bob's coverage.json was deleted:\n%s", out)
	}
}

// TestRefreshReadiness: while the store is unreachable (every request
// reset by the proxy) a Refresher is not ready and its refresh fails; once
// the store answers and a refresh succeeds it is ready, and it stays ready
// with the last values when the store goes away again, the failures
// counted.
func TestRefreshReadiness(t *testing.T) {
	s, _, proxy := s3ThroughProxy(t)
	l, err := ledger.New(s, "amy")
	if err != nil {
		t.Fatal(err)
	}
	rep := sampleCoverage()
	rep.Apprentice = "amy"
	putLedger(t, l, 3, rep)
	m, err := New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	var logb bytes.Buffer
	r := NewRefresher(m, opened(s), []Apprentice{{ID: "amy"}}, 4, slog.New(slog.NewTextHandler(&logb, nil)))
	ctx := context.Background()

	proxy.Next(storetest.Fault{Kind: storetest.Reset, Times: -1})
	if err := r.Refresh(ctx); err == nil || !strings.Contains(err.Error(), "no coverage summary could be read") {
		t.Fatalf("refresh with the store unreachable: %v", err)
	}
	if r.Ready() {
		t.Fatal("ready while the store is unreachable")
	}
	if n := testutil.CollectAndCount(m.lastRefresh); n != 0 {
		t.Error("a last refresh time before any refresh succeeded")
	}

	proxy.Clear()
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if !r.Ready() {
		t.Fatal("not ready once the store answers")
	}
	if v := testutil.ToFloat64(m.lastRefresh.WithLabelValues()); time.Since(time.Unix(int64(v), 0)) > time.Minute {
		t.Errorf("last refresh at %v", v)
	}

	proxy.Next(storetest.Fault{Kind: storetest.Reset, Times: -1})
	if err := r.Refresh(ctx); err == nil {
		t.Fatal("refresh succeeded with the store unreachable again")
	}
	if !r.Ready() {
		t.Error("no longer ready after the store went away: want the last values kept")
	}
	if v := testutil.ToFloat64(m.coverageRatio.WithLabelValues("amy")); v != 0.5 {
		t.Errorf("coverage ratio %v after a failed refresh, want the last value 0.5", v)
	}
	if ok, failed := testutil.ToFloat64(m.refreshes.WithLabelValues("ok")), testutil.ToFloat64(m.refreshes.WithLabelValues("failed")); ok != 1 || failed != 2 {
		t.Errorf("refreshes ok %v failed %v, want 1 and 2", ok, failed)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "amy/coverage.json") {
		t.Errorf("the last error %v does not name the summary it could not read", err)
	}

	// One apprentice's summary unreadable, the other's fine: the refresh
	// succeeds, the failure is logged.
	proxy.Clear()
	r = NewRefresher(m, opened(s), []Apprentice{{ID: "amy"}, {ID: "bob"}}, 4, slog.New(slog.NewTextHandler(&logb, nil)))
	proxy.Next(storetest.Fault{PathContains: "/bob/", Kind: storetest.Reset, Times: -1})
	if err := r.Refresh(ctx); err != nil || r.Err() != nil {
		t.Fatalf("refresh with one of two summaries unreadable: %v, %v", err, r.Err())
	}
	if !strings.Contains(logb.String(), "apprentice=bob") {
		t.Errorf("the failure to read bob's summary is not logged:\n%s", logb.String())
	}
}

// TestRefreshOpensTheStoreLate: a store unreachable when the Refresher
// starts (every request reset, so opening it fails) is opened by a later
// refresh; until then the Refresher is not ready and says why.
func TestRefreshOpensTheStoreLate(t *testing.T) {
	s, cfg, proxy := s3ThroughProxy(t)
	l, err := ledger.New(s, "amy")
	if err != nil {
		t.Fatal(err)
	}
	rep := sampleCoverage()
	putLedger(t, l, 1, rep)
	m, err := New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	opens := 0
	open := func(ctx context.Context) (store.Store, error) {
		opens++
		return s3store.New(ctx, cfg)
	}
	r := NewRefresher(m, open, []Apprentice{{ID: "amy"}}, 4, quietLog())
	proxy.Next(storetest.Fault{Kind: storetest.Reset, Times: -1})
	for range 2 {
		if err := r.Refresh(context.Background()); err == nil {
			t.Fatal("refresh succeeded with the store unreachable")
		}
	}
	if r.Ready() || r.Err() == nil || !strings.Contains(r.Err().Error(), "s3 store") {
		t.Fatalf("ready %v, last error %v; want not ready, saying the store is unreachable", r.Ready(), r.Err())
	}
	proxy.Clear()
	for range 2 {
		if err := r.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if !r.Ready() || r.Err() != nil || opens != 3 {
		t.Errorf("ready %v, last error %v, %d opens; want ready, no error, 3 opens (none once open)", r.Ready(), r.Err(), opens)
	}
	if v := testutil.ToFloat64(m.coverageRatio.WithLabelValues("amy")); v != 0.5 {
		t.Errorf("coverage ratio %v, want 0.5", v)
	}
}

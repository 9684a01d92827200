package prometheus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/prometheus/promtest"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

const week = 7 * 24 * time.Hour

// history is what the test server holds: four full weeks and the
// current one up to now, a sample a minute.
type history struct {
	srv         *promtest.Server
	end         time.Time // the last sample, about now
	thisWeek    time.Time // start of the window holding end
	firstWeek   time.Time // start of the first full window
	fullWeeks   int
	highPerWeek time.Duration // time latency is above 0.5 in each full week
}

// latency is 0.2 ± 0.05, and 0.8 (above the alert's 0.5) every Wednesday
// 03:00–03:30 UTC and over the last ten minutes, where the alert fires.
func latency(end time.Time) func(time.Time) float64 {
	return func(t time.Time) float64 {
		if t.Weekday() == time.Wednesday && t.Hour() == 3 && t.Minute() < 30 || end.Sub(t) < 10*time.Minute {
			return 0.8
		}
		return 0.2 + 0.05*math.Sin(float64(t.Unix())/3600)
	}
}

const rulesYAML = `groups:
  - name: model-serving
    interval: 1s
    rules:
      - record: model:latency_seconds:max1h
        expr: max_over_time(model_latency_seconds[1h])
      - alert: ModelLatencyHigh
        expr: model_latency_seconds > 0.5
        labels: {severity: page}
        annotations: {summary: "p95 latency above 0.5 s"}
`

func startHistory(t *testing.T) history {
	t.Helper()
	end := time.Now().UTC().Truncate(time.Minute)
	h := history{end: end, thisWeek: windowStart(end, week), fullWeeks: 4, highPerWeek: 30 * time.Minute}
	h.firstWeek = h.thisWeek.Add(-time.Duration(h.fullWeeks) * week)
	h.srv = promtest.Start(t, promtest.Options{
		From: h.firstWeek, To: end,
		Series: []promtest.Series{
			{Name: "model_latency_seconds", Labels: map[string]string{"model": "churn"}, Value: latency(end)},
			{Name: "model_requests_total", Type: "counter", Labels: map[string]string{"model": "churn", "code": "200"},
				Value: func(t time.Time) float64 { return 10 * float64(t.Sub(h.firstWeek)/time.Second) }},
			{Name: "model_requests_total", Type: "counter", Labels: map[string]string{"model": "churn", "code": "500"},
				Value: func(t time.Time) float64 { return 0.1 * float64(t.Sub(h.firstWeek)/time.Second) }},
		},
		Rules: rulesYAML,
	})
	h.srv.WaitFiring(t, "ModelLatencyHigh")
	return h
}

var queries = []Query{
	{Name: "p95_latency", Query: "model_latency_seconds", Threshold: ptr(0.5)},
	// At a 15 s step a week is 40,320 points: four requests.
	{Name: "error_ratio", Expr: `sum(rate(model_requests_total{code="500"}[5m])) / sum(rate(model_requests_total[5m]))`, Step: "15s"},
}

func ptr[T any](v T) *T { return &v }

// proxyTo is a reverse proxy to base that reads each request's body
// whole before forwarding it. Streamed, the body races the answer: Go's
// transport reads once more after the last byte to check the length, and
// if Prometheus has answered by then the server has closed the body, so
// the transport drops the connection mid-answer and the client sees an
// unexpected EOF (about one proxied query in 1,000 here).
func proxyTo(t testing.TB, base string) http.Handler {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read request: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	})
}

// liveCollector collects from url with a clock.
func liveCollector(t testing.TB, base string, sc SourceConfig, now func() time.Time) *Collector {
	t.Helper()
	sc.URL = base
	c, err := New(Config{Name: "serving", Apprentice: "jdoe", Source: sc},
		collectors.Settings{Name: "serving", Now: now, HTTPClient: collectors.NewHTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLivePrometheus runs every test that needs the real server on one
// server, so that it starts once.
func TestLivePrometheus(t *testing.T) {
	h := startHistory(t)
	t.Run("Weeks", func(t *testing.T) { testWeeks(t, h) })
	t.Run("Conformance", func(t *testing.T) { testLiveConformance(t, h) })
	t.Run("Faults", func(t *testing.T) { testFaults(t, h) })
	t.Run("Auth", func(t *testing.T) { testAuth(t, h) })
}

// testWeeks collects weeks of history: per-week statistics, a query
// whose week needs more than 11,000 points at its step, the alert that
// fired and the rules.
func testWeeks(t *testing.T, h history) {
	// Prometheus itself refuses the 15 s query over a week in one request:
	// the split below is needed.
	c, err := api.NewClient(api.Config{Address: h.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = v1.NewAPI(c).QueryRange(context.Background(), queries[1].PromQL(),
		v1.Range{Start: h.firstWeek, End: h.firstWeek.Add(week - 15*time.Second), Step: 15 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "11,000") {
		t.Fatalf("a week at 15 s in one request: %v, want Prometheus's 11,000-point refusal", err)
	}

	proxy := storetest.NewFaultProxy(t, h.srv.Addr)
	now := h.thisWeek.Add(week) // the current week is complete
	s := &collectortest.Sink{}
	sc := SourceConfig{Queries: queries[:1], Since: sourceconfig.Date{Time: h.firstWeek}}
	lat := liveCollector(t, proxy.URL(), sc, func() time.Time { return now })
	if _, err := lat.Collect(context.Background(), nil, s); err != nil {
		t.Fatal(err)
	}
	errSC := SourceConfig{Queries: queries[1:], Since: sourceconfig.Date{Time: h.firstWeek}, Alerts: ptr(false), Rules: ptr(false)}
	next, err := liveCollector(t, proxy.URL(), errSC, func() time.Time { return now }).Collect(context.Background(), nil, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range s.Invalid() {
		t.Error(msg)
	}
	byKind := map[evidence.Kind][]evidence.Item{}
	for _, it := range s.Items() {
		byKind[it.Kind] = append(byKind[it.Kind], it)
	}
	windows := byKind[evidence.KindMonitoringWindow]
	want := 2 * (h.fullWeeks + 1)
	if h.end.Sub(h.thisWeek) < 10*time.Minute && len(windows) == want-1 {
		want-- // just after Monday 00:00, rate[5m] may have no result yet this week
	}
	if len(windows) != want {
		t.Fatalf("%d window items, want %d (two queries, %d full weeks and this one)", len(windows), want, h.fullWeeks)
	}
	for _, it := range windows {
		f := it.Facts
		// A full week before the last ten minutes' spike (which may fall in
		// the week before this one just after Monday 00:00).
		full := it.OccurredAt.Add(week).Before(h.end.Add(-10 * time.Minute))
		switch f["query_name"] {
		case "p95_latency":
			if f["step_seconds"] != 60.0 || f["requests"] != 1.0 {
				t.Errorf("%s: step %v requests %v, want 60 s in one request", it.Title, f["step_seconds"], f["requests"])
			}
			if full && (f["seconds_beyond_threshold"] != h.highPerWeek.Seconds() || f["max"] != 0.8 || f["samples"] != float64(week/time.Minute)) {
				t.Errorf("%s: beyond %v s, max %v, samples %v; want %v s, 0.8, %d", it.Title, f["seconds_beyond_threshold"], f["max"], f["samples"],
					h.highPerWeek.Seconds(), week/time.Minute)
			}
			if mean := f["mean"].(float64); full && (mean < 0.2 || mean > 0.22) {
				t.Errorf("%s: mean %v", it.Title, mean)
			}
		case "error_ratio":
			if f["step_seconds"] != 15.0 || f["requests"] != 4.0 {
				t.Errorf("%s: step %v in %v requests, want 15 s in 4", it.Title, f["step_seconds"], f["requests"])
			}
			// All 40,320 points of a week (a few fewer in the first, where
			// rate[5m] has no two samples yet), merged from the four requests.
			if n := f["samples"].(float64); full && (n < float64(week/(15*time.Second))-20 || n > float64(week/(15*time.Second))) {
				t.Errorf("%s: %v samples, want 40,320", it.Title, n)
			}
			if r := f["mean"].(float64); math.Abs(r-0.1/10.1) > 1e-6 {
				t.Errorf("%s: mean error ratio %v, want %v", it.Title, r, 0.1/10.1)
			}
		default:
			t.Errorf("window of query %v", f["query_name"])
		}
		if svg, ok := s.File(it.ID, "chart.svg"); !ok || checkSVG(t, svg) != 1 {
			t.Errorf("%s: chart missing or not one path", it.Title)
		}
	}
	incidents := byKind[evidence.KindIncident]
	if len(incidents) == 0 {
		t.Fatal("no incident for the alert that fired")
	}
	for _, it := range incidents {
		if it.Facts["alertname"] != "ModelLatencyHigh" || !strings.Contains(it.Title, "(page)") || it.OccurredAt.Before(h.end.Add(-time.Minute)) {
			t.Errorf("incident %s at %s: %v", it.Title, it.OccurredAt, it.Facts)
		}
	}
	setup := byKind[evidence.KindMonitoringSetup]
	if len(setup) != 1 || setup[0].Facts["alerting_rules"] != 1.0 || setup[0].Facts["recording_rules"] != 1.0 {
		t.Fatalf("setup items %+v", setup)
	}
	if b, ok := s.File(setup[0].ID, "rules.json"); !ok || !strings.Contains(string(b), "ModelLatencyHigh") {
		t.Errorf("rules.json %q", b)
	}
	if strings.Contains(string(next), "error_ratio") {
		t.Errorf("cursor %s holds a query name", next)
	}
	// From the cursor, nothing is new.
	again := &collectortest.Sink{}
	if _, err := liveCollector(t, proxy.URL(), errSC, func() time.Time { return now }).Collect(context.Background(), next, again); err != nil || len(again.Items()) != 0 {
		t.Errorf("from the cursor: %v, %d items", err, len(again.Items()))
	}
}

func testLiveConformance(t *testing.T, h history) {
	var mu sync.Mutex
	now := h.thisWeek // the current week is not complete yet
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	collectortest.Check(t, collectortest.Fixture{
		New: func(t testing.TB) collectors.Collector {
			return liveCollector(t, h.srv.URL, SourceConfig{Queries: queries[:1], Since: sourceconfig.Date{Time: h.firstWeek}}, clock)
		},
		Dirs: []string{h.srv.ConfigDir},
		Grow: func(testing.TB) {
			// A week passes: its window and the alert are new.
			mu.Lock()
			defer mu.Unlock()
			now = h.thisWeek.Add(week)
		},
		MinItems: h.fullWeeks + 1, // and the rules
	})
}

// testFaults: a stalled request ends within the timeout as a counted
// skip; drops, resets and 5xx answers are retried. The timeout is 2s, not
// less: under -race on a loaded 2-core machine a real query can take over
// half a second, and a timeout that honest requests hit proves nothing.
func testFaults(t *testing.T, h history) {
	now := func() time.Time { return h.thisWeek }
	sc := SourceConfig{Queries: queries[:1], Since: sourceconfig.Date{Time: h.firstWeek}, Timeout: "2s", Alerts: ptr(false)}

	t.Run("Stall", func(t *testing.T) {
		proxy := storetest.NewFaultProxy(t, h.srv.Addr)
		proxy.Next(storetest.Fault{PathContains: "query_range", Kind: storetest.Stall, After: 10})
		s := &collectortest.Sink{}
		start := time.Now()
		next, err := liveCollector(t, proxy.URL(), sc, now).Collect(context.Background(), nil, s)
		elapsed := time.Since(start)
		var pe *collectors.PartialError
		if !errors.As(err, &pe) || pe.Failed != 1 || len(s.Skips()) != 1 || !strings.Contains(s.Skips()[0].Reason, "timeout") {
			t.Fatalf("err %v, skips %+v; want one counted skip for the timeout", err, s.Skips())
		}
		if elapsed > 10*time.Second {
			t.Errorf("the stall took %s to end; the timeout is 2s", elapsed)
		}
		// The rules were still collected; the stalled query's windows
		// wait for the next run, which collects them all.
		if n := len(s.Items()); n != 1 {
			t.Errorf("%d items with the query stalled, want the rules only", n)
		}
		after := &collectortest.Sink{}
		if _, err := liveCollector(t, proxy.URL(), sc, now).Collect(context.Background(), next, after); err != nil || len(after.Items()) != h.fullWeeks {
			t.Errorf("next run: %v, %d items, want the %d windows", err, len(after.Items()), h.fullWeeks)
		}
	})

	t.Run("DropAndReset", func(t *testing.T) {
		proxy := storetest.NewFaultProxy(t, h.srv.Addr)
		proxy.Next(storetest.Fault{PathContains: "query_range", Kind: storetest.DropResponse})
		proxy.Next(storetest.Fault{PathContains: "query_range", Kind: storetest.Reset})
		proxy.Next(storetest.Fault{PathContains: "rules", Kind: storetest.Reset})
		s := &collectortest.Sink{}
		if _, err := liveCollector(t, proxy.URL(), sc, now).Collect(context.Background(), nil, s); err != nil {
			t.Fatalf("faults not retried: %v", err)
		}
		if proxy.Pending() != 0 {
			t.Errorf("%d faults did not fire", proxy.Pending())
		}
		if n := len(s.Items()); n != h.fullWeeks+1 {
			t.Errorf("%d items, want %d", n, h.fullWeeks+1)
		}
	})

	t.Run("ServerErrorThenSuccess", func(t *testing.T) {
		rp := proxyTo(t, h.srv.URL)
		var failures atomic.Int32
		flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "query_range") && failures.Add(1) <= 2 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, `{"status":"error","errorType":"unavailable","error":"try again"}`)
				return
			}
			rp.ServeHTTP(w, r)
		}))
		defer flaky.Close()
		s := &collectortest.Sink{}
		if _, err := liveCollector(t, flaky.URL, sc, now).Collect(context.Background(), nil, s); err != nil {
			t.Fatalf("503 twice then success: %v", err)
		}
		if n := len(s.Items()); failures.Load() < 3 || n != h.fullWeeks+1 {
			t.Errorf("%d answers of query_range, %d items", failures.Load(), n)
		}
		// Always 503: a counted skip after three tries.
		failures.Store(-1000)
		s = &collectortest.Sink{}
		_, err := liveCollector(t, flaky.URL, sc, now).Collect(context.Background(), nil, s)
		var pe *collectors.PartialError
		if !errors.As(err, &pe) || len(s.Skips()) != 1 {
			t.Errorf("503 every time: %v, skips %+v", err, s.Skips())
		}
	})

	t.Run("Down", func(t *testing.T) {
		_, err := liveCollector(t, "http://"+freeLoopback(t), sc, now).Collect(context.Background(), nil, &collectortest.Sink{})
		var pe *collectors.PartialError
		if err == nil || errors.As(err, &pe) {
			t.Errorf("nothing listening: %v, want an error (not a partial one)", err)
		}
	})
}

// testAuth: the bearer token (which Prometheus itself does not check; a
// proxy in front of it does) is resolved at collection and sent; it never
// reaches an item, a skip or an error. TestLiveBasicAuth has a server that
// checks its own users.
func testAuth(t *testing.T, h history) {
	const token, password = "tok-3b9f2c71", "pw-8d02e6aa"
	rp := proxyTo(t, h.srv.URL)
	guard := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, basic := r.BasicAuth()
		if r.Header.Get("Authorization") != "Bearer "+token && !(basic && user == "grafana" && pw == password) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer guard.Close()
	t.Setenv("KSBFOLIO_TEST_PROM_TOKEN", token)
	t.Setenv("KSBFOLIO_TEST_PROM_PASSWORD", password)
	secret := func(ref string) sourceconfig.Secret {
		s, err := sourceconfig.ParseSecret(ref, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := func() time.Time { return h.thisWeek }
	for name, auth := range map[string]*sourceconfig.Auth{
		"token": {Token: secret("${env:KSBFOLIO_TEST_PROM_TOKEN}")},
	} {
		sc := SourceConfig{Queries: queries[:1], Since: sourceconfig.Date{Time: h.firstWeek}, Auth: auth}
		s := &collectortest.Sink{}
		if _, err := liveCollector(t, guard.URL, sc, now).Collect(context.Background(), nil, s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(s.Items()) != h.fullWeeks+1 {
			t.Errorf("%s: %d items", name, len(s.Items()))
		}
		b, _ := json.Marshal(s.Items())
		if strings.Contains(string(b), token) || strings.Contains(string(b), password) {
			t.Errorf("%s: an item holds the secret", name)
		}
	}
	// Without credentials, or with a variable that is not set: errors
	// that name no secret.
	sc := SourceConfig{Queries: queries[:1], Since: sourceconfig.Date{Time: h.firstWeek}}
	s := &collectortest.Sink{}
	_, err := liveCollector(t, guard.URL, sc, now).Collect(context.Background(), nil, s)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("no credentials: %v", err)
	}
	sc.Auth = &sourceconfig.Auth{Token: secret("${env:KSBFOLIO_TEST_PROM_UNSET}")}
	if _, err := liveCollector(t, guard.URL, sc, now).Collect(context.Background(), nil, s); err == nil || !strings.Contains(err.Error(), "KSBFOLIO_TEST_PROM_UNSET is not set") {
		t.Errorf("unset token: %v", err)
	}
	for _, sk := range s.Skips() {
		if strings.Contains(sk.Reason, token) || strings.Contains(sk.Reason, password) {
			t.Errorf("skip %+v holds a secret", sk)
		}
	}
}

func freeLoopback(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	return addr
}

// TestLiveBasicAuth collects from a Prometheus that requires a user and
// password (its --web.config.file), given as a secret reference.
func TestLiveBasicAuth(t *testing.T) {
	const password = "pw-8d02e6aa"
	end := time.Now().UTC().Truncate(time.Minute)
	start := windowStart(end, week).Add(-week)
	srv := promtest.Start(t, promtest.Options{From: start, To: end, BasicAuth: map[string]string{"grafana": password},
		Series: []promtest.Series{{Name: "model_accuracy", Value: func(time.Time) float64 { return 0.93 }}}})
	t.Setenv("KSBFOLIO_TEST_PROM_PASSWORD", password)
	pw, err := sourceconfig.ParseSecret("${env:KSBFOLIO_TEST_PROM_PASSWORD}", "")
	if err != nil {
		t.Fatal(err)
	}
	sc := SourceConfig{Queries: []Query{{Name: "accuracy", Query: "model_accuracy", Threshold: ptr(0.95), Direction: "below"}},
		Since: sourceconfig.Date{Time: start}, Alerts: ptr(false), Rules: ptr(false)}
	now := func() time.Time { return start.Add(week) }
	if _, err := liveCollector(t, srv.URL, sc, now).Collect(context.Background(), nil, &collectortest.Sink{}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("without the password: %v, want a 401", err)
	}
	sc.Auth = &sourceconfig.Auth{Username: "grafana", Password: pw}
	s := &collectortest.Sink{}
	if _, err := liveCollector(t, srv.URL, sc, now).Collect(context.Background(), nil, s); err != nil {
		t.Fatal(err)
	}
	items := s.Items()
	if len(items) != 1 || items[0].Facts["seconds_beyond_threshold"] != week.Seconds() || items[0].Facts["direction"] != "below" {
		t.Fatalf("items %+v", items)
	}
	b, _ := json.Marshal(items)
	if strings.Contains(string(b), password) {
		t.Error("an item holds the password")
	}
}

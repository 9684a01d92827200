package deploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/prometheus/promtest"
)

// TestDashboardQueriesRun runs every dashboard query against a real
// Prometheus (Debian's package) holding a day of ksbfolio's metrics: each
// must succeed and return data.
func TestDashboardQueriesRun(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("grafana", "ksbfolio.json"))
	if err != nil {
		t.Fatal(err)
	}
	exprs, err := dashboardExprs(raw)
	if err != nil {
		t.Fatal(err)
	}
	to := time.Now().Add(-time.Minute).Truncate(time.Minute)
	from := to.Add(-24 * time.Hour)
	gateway := float64(to.Add(40 * 24 * time.Hour).Unix())
	constant := func(v float64) func(time.Time) float64 { return func(time.Time) float64 { return v } }
	counting := func(t time.Time) float64 { return float64(t.Sub(from) / time.Hour) }
	a := map[string]string{"apprentice": "jan"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"apprentice": "jan"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	series := []promtest.Series{
		{Name: "ksbfolio_coverage_ratio", Labels: a, Value: constant(0.4)},
		{Name: "ksbfolio_gateway_ready", Labels: a, Value: constant(0)},
		{Name: "ksbfolio_gateway_timestamp_seconds", Labels: a, Value: constant(gateway)},
		{Name: "ksbfolio_coverage_ksbs", Labels: with("status", "gap"), Value: constant(3)},
		{Name: "ksbfolio_coverage_ksbs", Labels: with("status", "claimed"), Value: constant(2)},
		{Name: "ksbfolio_ksb_status", Labels: with("ksb", "K1", "kind", "knowledge", "status", "gap"), Value: constant(1)},
		{Name: "ksbfolio_ksb_status", Labels: with("ksb", "K2", "kind", "knowledge", "status", "claimed"), Value: constant(1)},
		{Name: "ksbfolio_ksb_evidence_items", Labels: with("ksb", "K2", "kind", "knowledge", "status", "claimed"), Value: constant(4)},
		{Name: "ksbfolio_source_last_success_timestamp_seconds", Labels: with("source", "git"), Value: func(t time.Time) float64 { return float64(t.Unix()) }},
		{Name: "ksbfolio_runs_total", Type: "counter", Labels: with("outcome", "ok"), Value: counting},
		{Name: "ksbfolio_items_stored_total", Type: "counter", Labels: with("source", "git", "kind", "commit"), Value: counting},
		{Name: "ksbfolio_last_run_timestamp_seconds", Labels: with("outcome", "ok"), Value: func(t time.Time) float64 { return float64(t.Unix()) }},
		{Name: "ksbfolio_last_run_duration_seconds", Labels: a, Value: constant(1.5)},
	}
	srv := promtest.Start(t, promtest.Options{From: from, To: to, Interval: time.Minute, Series: series})
	for where, expr := range exprs {
		n, err := instantQuery(srv.URL, expr, to)
		if err != nil {
			t.Errorf("%s: %v", where, err)
		} else if n == 0 {
			t.Errorf("%s: %s returned nothing", where, expr)
		}
	}
}

// instantQuery runs expr at time at through the query API and returns how
// many series it returned.
func instantQuery(base, expr string, at time.Time) (int, error) {
	q := url.Values{"query": {expr}, "time": {strconv.FormatInt(at.Unix(), 10)}}
	resp, err := http.Get(base + "/api/v1/query?" + q.Encode())
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, fmt.Errorf("decode the answer to %s: %w", expr, err)
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("query %s: %s", expr, r.Error)
	}
	return len(r.Data.Result), nil
}

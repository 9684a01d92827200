package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func sampleCoverage() coverage.Report {
	return coverage.Report{
		Apprentice: "jdoe", Ready: false, GeneratedAt: t0,
		Summary: coverage.Summary{Confirmed: 1, Claimed: 1, Evidenced: 2, Suggested: 1, Gap: 1, Total: 4},
		KSBs: []coverage.Row{
			{KSB: "K1", Kind: "knowledge", Status: "confirmed", Counted: true, ConfirmedBy: []string{"git-aaa"}, ClaimedBy: []string{"git-aaa", "git-bbb"}},
			{KSB: "S2", Kind: "skill", Status: "claimed", Counted: true, ClaimedBy: []string{"git-ccc"}},
			{KSB: "S3", Kind: "skill", Status: "suggested", Counted: true, SuggestedBy: []string{"git-ddd"}},
			{KSB: "B1", Kind: "behaviour", Status: "gap", Counted: true},
			{KSB: "K99", Kind: "knowledge", Status: "not_in_catalogue", Counted: false, ClaimedBy: []string{"git-eee"}},
		},
	}
}

// exercised returns a gatherer of metrics of which every one has a value:
// a coverage summary and one run of two sources.
func exercised(t *testing.T) (prometheus.Gatherer, *Metrics) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.SetCoverage("jdoe", sampleCoverage(), time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC))
	obs := m.Observer("jdoe", func() time.Time { return t0 })
	obs.SourceStarted("repo")
	obs.StoreOp("put_item", 3*time.Millisecond, nil)
	obs.StoreOp("put_item", 2*time.Millisecond, errors.New("boom"))
	obs.ItemStored("repo", pipeline.StoredItem{ID: "git-aaa", Kind: evidence.KindCommit, Redactions: []evidence.Redaction{{Rule: "aws", Count: 2}}})
	obs.ItemStored("repo", pipeline.StoredItem{ID: "git-bbb", Kind: evidence.KindCommit})
	obs.Skipped("repo", collectors.Skipped{What: "x", Reason: "y"})
	obs.SourceFinished("repo", pipeline.SourceReport{Name: "repo", Outcome: pipeline.OutcomeOK})
	obs.SourceStarted("mlflow")
	obs.SourceFinished("mlflow", pipeline.SourceReport{Name: "mlflow", Outcome: pipeline.OutcomeFailed})
	m.RunFinished(&pipeline.Report{Apprentice: "jdoe", Outcome: pipeline.OutcomePartial, DurationSeconds: 1.5, FinishedAt: t0})
	m.refreshes.WithLabelValues("ok").Inc() // as a Refresher does
	m.lastRefresh.WithLabelValues().Set(float64(t0.Unix()))
	return m.Gatherer(reg), m
}

func exposition(t *testing.T, g prometheus.Gatherer) []byte {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestValues(t *testing.T) {
	reg, _ := exercised(t)
	want := `
# HELP ksbfolio_coverage_ratio Evidenced (confirmed or claimed) KSBs over the KSBs counted, 0 to 1.
# TYPE ksbfolio_coverage_ratio gauge
ksbfolio_coverage_ratio{apprentice="jdoe"} 0.5
# HELP ksbfolio_items_stored_total Items stored by runs, per source and item kind.
# TYPE ksbfolio_items_stored_total counter
ksbfolio_items_stored_total{apprentice="jdoe",kind="commit",source="repo"} 2
# HELP ksbfolio_redactions_total Secrets masked in stored items and artefacts.
# TYPE ksbfolio_redactions_total counter
ksbfolio_redactions_total{apprentice="jdoe",source="mlflow"} 0
ksbfolio_redactions_total{apprentice="jdoe",source="repo"} 2
# HELP ksbfolio_source_last_success_timestamp_seconds When the source last finished with outcome ok (Unix time).
# TYPE ksbfolio_source_last_success_timestamp_seconds gauge
ksbfolio_source_last_success_timestamp_seconds{apprentice="jdoe",source="repo"} 1.7724456e+09
# HELP ksbfolio_store_operations_total Store operations of runs, per operation and outcome (ok or error).
# TYPE ksbfolio_store_operations_total counter
ksbfolio_store_operations_total{apprentice="jdoe",operation="put_item",outcome="error"} 1
ksbfolio_store_operations_total{apprentice="jdoe",operation="put_item",outcome="ok"} 1
# HELP ksbfolio_gateway_timestamp_seconds The planned gateway date (Unix time); days to go: (ksbfolio_gateway_timestamp_seconds - time()) / 86400.
# TYPE ksbfolio_gateway_timestamp_seconds gauge
ksbfolio_gateway_timestamp_seconds{apprentice="jdoe"} 1.7991072e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "ksbfolio_coverage_ratio", "ksbfolio_items_stored_total",
		"ksbfolio_redactions_total", "ksbfolio_source_last_success_timestamp_seconds", "ksbfolio_store_operations_total",
		"ksbfolio_gateway_timestamp_seconds"); err != nil {
		t.Error(err)
	}
	out := string(exposition(t, reg))
	for _, line := range []string{
		`ksbfolio_ksb_status{apprentice="jdoe",kind="skill",ksb="S2",status="claimed"} 1`,
		`ksbfolio_ksb_status{apprentice="jdoe",kind="skill",ksb="S2",status="gap"} 0`,
		`ksbfolio_ksb_evidence_items{apprentice="jdoe",kind="knowledge",ksb="K1",status="claimed"} 2`,
		`ksbfolio_coverage_ksbs{apprentice="jdoe",status="gap"} 1`,
		`ksbfolio_runs_total{apprentice="jdoe",outcome="partial"} 1`,
		`ksbfolio_source_runs_total{apprentice="jdoe",outcome="failed",source="mlflow"} 1`,
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("exposition lacks %s", line)
		}
	}
	// Never an item ID; a KSB out of the count is left out.
	for _, bad := range []string{"git-", `ksb="K99"`} {
		if strings.Contains(out, bad) {
			t.Errorf("exposition contains %q:\n%s", bad, out)
		}
	}
}

func TestSetCoverageReplaces(t *testing.T) {
	reg, m := exercised(t)
	rep := sampleCoverage()
	rep.KSBs = rep.KSBs[:1] // S2, S3, B1 left the counted set
	m.SetCoverage("jdoe", rep, time.Time{})
	out := string(exposition(t, reg))
	for _, gone := range []string{`ksb="S2"`, "ksbfolio_gateway_timestamp_seconds{"} {
		if strings.Contains(out, gone) {
			t.Errorf("still exposed after the new summary: %s", gone)
		}
	}
}

// TestDocsListEveryMetric: docs/metrics.md lists exactly the metrics
// exposed, each with its type.
func TestDocsListEveryMetric(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(ksbfolio_[a-z_]+)` \\| ([a-z]+) \\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		documented[m[1]] = m[2]
	}
	reg, _ := exercised(t)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exposed := map[string]string{}
	for _, mf := range mfs {
		exposed[mf.GetName()] = strings.ToLower(mf.GetType().String())
	}
	for name, typ := range exposed {
		if documented[name] != typ {
			t.Errorf("exposed %s (%s) is documented as %q in docs/metrics.md", name, typ, documented[name])
		}
	}
	for name := range documented {
		if _, ok := exposed[name]; !ok {
			t.Errorf("docs/metrics.md lists %s, which is not exposed", name)
		}
	}
	if len(exposed) < 17 {
		t.Errorf("only %d metrics exposed", len(exposed))
	}
}

// TestPromtoolCheckMetrics runs Debian's promtool over the exposition.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		storetest.RequireOrSkip(t, "prometheus", "apt-get install -y prometheus")
	}
	reg, _ := exercised(t)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition(t, reg))
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestPushgateway pushes to a real Pushgateway, reads the group back, and
// checks that a second push replaces it.
func TestPushgateway(t *testing.T) {
	url := startPushgateway(t)
	ctx := context.Background()
	reg, _ := exercised(t)
	if err := Push(ctx, url, "jdoe", reg, nil); err != nil {
		t.Fatal(err)
	}
	got := scrape(t, url)
	for _, line := range []string{
		`ksbfolio_coverage_ratio{apprentice="jdoe",instance="",job="ksbfolio"} 0.5`,
		`ksbfolio_items_stored_total{apprentice="jdoe",instance="",job="ksbfolio",kind="commit",source="repo"} 2`,
		`ksbfolio_ksb_status{apprentice="jdoe",instance="",job="ksbfolio",kind="skill",ksb="S2",status="claimed"} 1`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("pushgateway lacks %s", line)
		}
	}
	// Another apprentice's group is left alone by the second push.
	if err := Push(ctx, url, "other", reg, nil); err != nil {
		t.Fatal(err)
	}
	// Second push: a run that stored nothing, coverage at 0.25.
	reg2 := prometheus.NewRegistry()
	m2, err := New(reg2)
	if err != nil {
		t.Fatal(err)
	}
	rep := sampleCoverage()
	rep.Summary.Evidenced = 1
	m2.SetCoverage("jdoe", rep, time.Time{})
	if err := Push(ctx, url, "jdoe", m2.Gatherer(reg2), nil); err != nil {
		t.Fatal(err)
	}
	got = scrape(t, url)
	if !strings.Contains(got, `ksbfolio_coverage_ratio{apprentice="jdoe",instance="",job="ksbfolio"} 0.25`+"\n") {
		t.Errorf("second push did not set the ratio:\n%s", got)
	}
	if strings.Contains(got, `ksbfolio_items_stored_total{apprentice="jdoe"`) {
		t.Errorf("second push did not replace the group: the first push's items are still there")
	}
	if !strings.Contains(got, `ksbfolio_items_stored_total{apprentice="other"`) {
		t.Errorf("another apprentice's group was touched")
	}
}

func startPushgateway(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-pushgateway")
	if err != nil {
		storetest.RequireOrSkip(t, "pushgateway", "apt-get install -y prometheus-pushgateway")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logb bytes.Buffer
	cmd := exec.Command(bin, "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "http://" + addr
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
	}
	t.Fatalf("pushgateway on %s not ready:\n%s", addr, logb.String())
	return ""
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "ksbfolio_") {
			keep = append(keep, l)
		}
	}
	slices.Sort(keep)
	return strings.Join(keep, "\n") + "\n"
}

// TestHandlerMatchesGatherer: what Handler writes (plain and gzipped)
// parses back to exactly what Gatherer gathers, label values escaped.
func TestHandlerMatchesGatherer(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.SetCoverage("jdoe", sampleCoverage(), t0)
	odd := sampleCoverage()
	odd.KSBs[0].KSB = "K\"1\\\nx" // never in a catalogue, but escaped all the same
	m.SetCoverage("amy", odd, time.Time{})
	m.SetCoverage("nil", coverage.Report{}, time.Time{}) // no KSBs counted
	want := string(exposition(t, m.Gatherer(reg)))
	if !strings.Contains(want, `ksbfolio_ksb_status{apprentice="amy"`) {
		t.Fatalf("the gatherer lacks the per-KSB metrics:\n%s", want)
	}
	srv := &http.Server{Handler: m.Handler(reg)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	for _, gzip := range []bool{false, true} {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/metrics", nil)
		if !gzip {
			req.Header.Set("Accept-Encoding", "identity") // else Go's client asks for gzip and decodes it
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Uncompressed != gzip || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Errorf("gzip %v: status %d, uncompressed %v, content type %q", gzip, resp.StatusCode, resp.Uncompressed, resp.Header.Get("Content-Type"))
		}
		p := expfmt.NewTextParser(model.LegacyValidation)
		mfs, err := p.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("gzip %v: parse what Handler wrote: %v", gzip, err)
		}
		got := string(exposition(t, prometheus.Gatherers{prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { // sorted as Gatherer sorts
			var out []*dto.MetricFamily
			for _, name := range slices.Sorted(maps.Keys(mfs)) {
				out = append(out, mfs[name])
			}
			return out, nil
		})}))
		if got != want {
			t.Errorf("gzip %v: Handler wrote\n%s\nwant (Gatherer)\n%s", gzip, got, want)
		}
	}
}

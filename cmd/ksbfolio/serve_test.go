package main

// serve's tests: a real Prometheus (Debian's package) scraping serve on
// loopback, promtool check metrics on what serve exposes, --schedule never
// starting two runs at once, and SIGTERM (the context's end) during a run.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

func freeLoopback(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `serve` in the process until the test ends (or stop is
// called); it returns once /readyz answers 200.
func startServe(t *testing.T, cfg string, args ...string) (addr string, stop func() result) {
	t.Helper()
	return startServeUntil(t, cfg, "/readyz", args...)
}

// startServeUntil is startServe returning once path (/readyz or /healthz)
// answers 200; args come after serve's own (a later --refresh wins).
func startServeUntil(t *testing.T, cfg, path string, args ...string) (addr string, stop func() result) {
	t.Helper()
	addr = freeLoopback(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		done <- cliCtx(t, ctx, append([]string{"--log-level", "info", "-c", cfg, "serve", "--listen", addr, "--refresh", "500ms"}, args...)...)
	}()
	var once sync.Once
	var res result
	stop = func() result {
		once.Do(func() {
			cancel()
			select {
			case res = <-done:
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop within 30s of its context's end")
			}
		})
		return res
	}
	t.Cleanup(func() { stop() })
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case r := <-done:
			t.Fatalf("serve exited early: %d\n%s", r.code, r.stderr)
		default:
		}
		resp, err := http.Get("http://" + addr + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr, stop
			}
		}
	}
	t.Fatalf("serve on %s: %s never answered 200", addr, path)
	return "", nil
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestServePrometheus: after a run, a real Prometheus scrapes serve and
// its query API gives back the coverage of coverage.json.
func TestServePrometheus(t *testing.T) {
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		storetest.RequireOrSkip(t, "prometheus", "apt-get install -y prometheus")
	}
	dir, cfg, _ := gitWorkspace(t, 30, "")
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	var cov struct {
		Summary struct{ Evidenced, Total, Gap int }
	}
	b, err := os.ReadFile(filepath.Join(dir, ".ksbfolio", "apprentices", "jane", "coverage.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cov); err != nil || cov.Summary.Total == 0 {
		t.Fatalf("coverage.json: %v %+v", err, cov)
	}
	addr, stop := startServe(t, cfg)

	code, body := httpGet(t, "http://"+addr+"/healthz")
	if code != 200 {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	code, exposed := httpGet(t, "http://"+addr+"/metrics")
	if code != 200 || !strings.Contains(exposed, `ksbfolio_coverage_ratio{apprentice="jane"}`) {
		t.Fatalf("/metrics: %d\n%s", code, exposed)
	}
	// promtool check metrics on what serve exposes.
	check := exec.Command("promtool", "check", "metrics")
	check.Stdin = strings.NewReader(exposed)
	if out, err := check.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}

	// A real Prometheus scraping serve every second.
	pdir := t.TempDir()
	paddr := freeLoopback(t)
	writeFile(t, filepath.Join(pdir, "prometheus.yml"), fmt.Sprintf(`global: {scrape_interval: 1s}
scrape_configs:
  - job_name: ksbfolio
    static_configs: [{targets: [%q]}]
`, addr))
	var plog bytes.Buffer
	pc := exec.Command(prom, "--config.file="+filepath.Join(pdir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(pdir, "data"),
		"--web.listen-address="+paddr)
	pc.Stdout, pc.Stderr = &plog, &plog
	if err := pc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Process.Kill(); _ = pc.Wait() })

	want := float64(cov.Summary.Evidenced) / float64(cov.Summary.Total)
	q := func(expr string) (float64, bool) {
		resp, err := http.Get("http://" + paddr + "/api/v1/query?query=" + url.QueryEscape(expr))
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		var r struct {
			Status string
			Data   struct {
				Result []struct {
					Metric map[string]string
					Value  [2]any
				}
			}
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Status != "success" || len(r.Data.Result) != 1 {
			return 0, false
		}
		s, _ := r.Data.Result[0].Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		v, ok := q(`ksbfolio_coverage_ratio{apprentice="jane",job="ksbfolio"}`)
		if ok {
			if v != want {
				t.Fatalf("Prometheus has coverage ratio %v, coverage.json says %v", v, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never got the coverage ratio from serve:\n%s", plog.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	if v, ok := q(`ksbfolio_coverage_ksbs{apprentice="jane",status="gap"}`); !ok || v != float64(cov.Summary.Gap) {
		t.Errorf("gap KSBs through Prometheus: %v %v, want %d", v, ok, cov.Summary.Gap)
	}
	if r := stop(); r.code != 0 {
		t.Errorf("serve exit %d after its context ended\n%s", r.code, r.stderr)
	}
}

// TestServeReadyz: /readyz says 503 when no coverage can
// be read (the store folder is not a folder).
func TestServeReadyz(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 3, "")
	writeFile(t, filepath.Join(dir, ".ksbfolio"), "not a folder")
	addr := freeLoopback(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- cliCtx(t, ctx, "-c", cfg, "serve", "--listen", addr, "--refresh", "200ms") }()
	defer func() { cancel(); <-done }()
	var code int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case r := <-done:
			done <- r // for the deferred receive
			if r.code == 0 {
				t.Fatalf("serve exited 0 with an unusable store:\n%s", r.stderr)
			}
			return // refusing to start on an unusable store is fine too
		default:
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			code, _ = httpGet(t, "http://"+addr+"/readyz")
			break
		}
	}
	time.Sleep(time.Second) // a few refreshes
	if code, _ = httpGet(t, "http://"+addr+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz %d with an unreadable store, want 503", code)
	}
}

// slowWorkspace is a git workspace plus a Prometheus source whose server
// takes delay to answer anything (and then fails): a slow run.
func slowWorkspace(t *testing.T, delay time.Duration) (dir, cfg string) {
	t.Helper()
	dir, cfg, _ = gitWorkspace(t, 5, "")
	slow := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
		http.Error(w, "slow and unhappy", http.StatusServiceUnavailable)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = slow.Serve(ln) }()
	t.Cleanup(func() { _ = slow.Close() })
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, string(b)+fmt.Sprintf("  - name: slow\n    type: prometheus\n    url: http://%s\n    alerts: false\n", ln.Addr()))
	return dir, cfg
}

// TestServeScheduleNeverTwoAtOnce: with a one-second schedule and runs
// taking longer, ticks are skipped (and logged), and a run starts only
// after the previous one finished.
func TestServeScheduleNeverTwoAtOnce(t *testing.T) {
	_, cfg := slowWorkspace(t, 400*time.Millisecond)
	_, stop := startServe(t, cfg, "--schedule", "@every 1s")
	time.Sleep(7 * time.Second)
	r := stop()
	if r.code != 0 {
		t.Fatalf("serve exit %d\n%s", r.code, r.stderr)
	}
	running, started, skipped := false, 0, 0
	for _, line := range strings.Split(r.stderr, "\n") {
		switch {
		case strings.Contains(line, "scheduled run started"):
			if running {
				t.Fatalf("a run started while another was running:\n%s", r.stderr)
			}
			running = true
			started++
		case strings.Contains(line, "scheduled run finished"), strings.Contains(line, "scheduled run failed"):
			running = false
		case strings.Contains(line, "skipping the scheduled run"):
			skipped++
		}
	}
	if started < 2 || skipped < 1 {
		t.Fatalf("%d runs started, %d ticks skipped; want at least 2 and 1:\n%s", started, skipped, r.stderr)
	}
}

// TestServeTermDuringRun: the end of serve's context (SIGTERM) during a
// scheduled run cancels it cleanly; the next run completes the ledger.
func TestServeTermDuringRun(t *testing.T) {
	dir, cfg := slowWorkspace(t, time.Minute)
	_, stop := startServe(t, cfg, "--schedule", "@every 1s", "--grace", "10s")
	time.Sleep(2500 * time.Millisecond) // the first run is waiting on the slow source
	begin := time.Now()
	r := stop()
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("serve took %v to stop", took)
	}
	if r.code != 0 || !strings.Contains(r.stderr, "outcome=interrupted") {
		t.Fatalf("serve exit %d, want 0 and an interrupted run:\n%s", r.code, r.stderr)
	}
	// The next run, without the slow source, completes; fsck finds the ledger sound.
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, string(b[:bytes.Index(b, []byte("  - name: slow"))]))
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	mustCode(t, cli(t, "-c", cfg, "fsck"), 0)
	if _, err := os.Stat(filepath.Join(dir, ".ksbfolio", "apprentices", "jane", "coverage.json")); err != nil {
		t.Error(err)
	}
}

// TestRunPushgateway: run --pushgateway pushes the run's metrics to a real
// Pushgateway as the apprentice's group; metrics.pushgateway in the config
// does the same.
func TestRunPushgateway(t *testing.T) {
	bin, err := exec.LookPath("prometheus-pushgateway")
	if err != nil {
		storetest.RequireOrSkip(t, "pushgateway", "apt-get install -y prometheus-pushgateway")
	}
	addr := freeLoopback(t)
	var logb bytes.Buffer
	pg := exec.Command(bin, "--web.listen-address="+addr)
	pg.Stdout, pg.Stderr = &logb, &logb
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Process.Kill(); _ = pg.Wait() })
	pgURL := "http://" + addr
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(pgURL + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pushgateway not ready:\n%s", logb.String())
		}
	}
	_, cfg, _ := gitWorkspace(t, 10, "")
	mustCode(t, cli(t, "-c", cfg, "run", "--pushgateway", pgURL), 0)
	_, body := httpGet(t, pgURL+"/metrics")
	for _, want := range []string{
		`ksbfolio_coverage_ratio{apprentice="jane",instance="",job="ksbfolio"}`,
		`ksbfolio_items_stored_total{apprentice="jane",instance="",job="ksbfolio",kind="commit",source="model-repo"} `,
		`ksbfolio_runs_total{apprentice="jane",instance="",job="ksbfolio",outcome="ok"} 1`,
		`ksbfolio_source_last_success_timestamp_seconds{apprentice="jane",instance="",job="ksbfolio",source="model-repo"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("pushgateway lacks %s", want)
		}
	}
	// From the config: the second run (nothing new) replaces the group.
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, string(b)+"metrics: {pushgateway: "+pgURL+"}\n")
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	_, body = httpGet(t, pgURL+"/metrics")
	if strings.Contains(body, `ksbfolio_items_stored_total{apprentice="jane"`) {
		t.Error("the second run's push did not replace the group: the first run's items are still there")
	}
	if !strings.Contains(body, `ksbfolio_runs_total{apprentice="jane",instance="",job="ksbfolio",outcome="ok"} 1`) {
		t.Error("the second run did not push")
	}
}

// TestServeReadyzS3: serve on an S3 store behind a fault proxy. While the
// store refuses every request (serve starts all the same), then while it
// stalls every read of a coverage summary, /healthz is 200 and /readyz 503
// (answering at once, not waiting for the refresh); once the
// store answers and a refresh is done, /readyz is 200; when the store
// becomes unreachable later, /readyz stays 200, the last coverage read is
// still served and the failed refreshes are counted (docs/cli.md).
func TestServeReadyzS3(t *testing.T) {
	srv := s3Env(t)
	proxy := storetest.NewFaultProxy(t, srv.Endpoint)
	url := srv.Through(proxy).URL("ready") + "&timeout=5s&idle_timeout=1s"
	_, cfg, _ := gitWorkspace(t, 5, "'"+url+"'")
	mustCode(t, cli(t, "-c", cfg, "run"), 0)

	proxy.Next(storetest.Fault{Kind: storetest.Reset, Times: -1}) // unreachable when serve starts
	addr, _ := startServeUntil(t, cfg, "/healthz", "--refresh", "300ms")
	client := &http.Client{Timeout: 2 * time.Second}
	get := func(path string) (int, string) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "s3 store") {
			t.Fatalf("/readyz %d %q while the store refuses everything, want 503 saying why", code, body)
		}
	}

	proxy.Clear() // reachable, but every read of a summary stalls
	proxy.Next(storetest.Fault{PathContains: "coverage.json", Kind: storetest.Stall, After: 10, Times: -1})
	stalled := func() int {
		n := 0
		for _, r := range proxy.Requests() {
			if r.Fault == storetest.Stall {
				n++
			}
		}
		return n
	}
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if code, body := get("/readyz"); code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz %d %q while the store stalls, want 503", code, body)
		}
	}
	if stalled() == 0 {
		t.Fatal("serve never read a coverage summary: the stall was not reached")
	}

	proxy.Clear()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if code, _ := get("/readyz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz not 200 within 30 s of the store answering")
		}
	}
	_, exposed := get("/metrics")
	if !strings.Contains(exposed, `ksbfolio_coverage_ratio{apprentice="jane"}`) {
		t.Fatalf("ready, but no coverage exposed:\n%s", exposed)
	}

	proxy.Next(storetest.Fault{Kind: storetest.Reset, Times: -1}) // the store goes away
	failed := regexp.MustCompile(`(?m)^ksbfolio_coverage_refreshes_total\{outcome="failed"\} [1-9]`)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, body := get("/readyz")
		if code != 200 {
			t.Fatalf("/readyz %d %q after the store went away, want 200 (the last coverage kept)", code, body)
		}
		_, exposed = get("/metrics")
		if failed.MatchString(exposed) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed refresh counted 30 s after the store went away:\n%s", exposed)
		}
	}
	if !strings.Contains(exposed, `ksbfolio_coverage_ratio{apprentice="jane"}`) ||
		!strings.Contains(exposed, "ksbfolio_coverage_last_refresh_timestamp_seconds ") {
		t.Errorf("the last coverage read is no longer served:\n%s", exposed)
	}
}

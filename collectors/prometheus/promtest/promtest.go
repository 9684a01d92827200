// Package promtest runs a real Prometheus server for tests: Debian's
// prometheus package (prometheus and promtool on PATH), with history
// backfilled by `promtool tsdb create-blocks-from openmetrics` into a temp
// data folder and a rules file, started on a free loopback port.
//
// Alerting rules are only evaluated by a running server, at the present:
// `promtool tsdb create-blocks-from rules` backfills recording rules only
// ("Alerting rules are not evaluated", its --help says). So an alert that
// should fire "in the history" is one whose expression is true over the
// most recent backfilled samples: the server evaluates it as soon as it
// starts (evaluation_interval 1s) and writes the ALERTS series into its
// head, and WaitFiring waits for that. The blocks are written with
// promtool's hidden --max-block-duration=720h (a few blocks instead of one
// per 2 h, which took 35 s for five weeks), and the server keeps them with
// --storage.tsdb.retention.time=100y (the default 15d would delete weeks
// of history on start).
package promtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// Install says how to get the server.
const Install = "apt-get install -y prometheus (Debian's package provides prometheus and promtool)"

// Series is one backfilled series: its metric name, labels, and value at
// each sample time (NaN: no sample).
type Series struct {
	Name   string
	Type   string // OpenMetrics type: gauge (default) or counter
	Labels map[string]string
	Value  func(t time.Time) float64
}

// Options are a server's history and rules.
type Options struct {
	From, To time.Time     // backfilled range, sample times From, From+Interval, … ≤ To
	Interval time.Duration // between samples; default 1m
	Series   []Series
	Rules    string // a Prometheus rules file (YAML); may be empty
	// BasicAuth, when set, makes the server require these users and
	// passwords (--web.config.file with bcrypt hashes).
	BasicAuth map[string]string
}

// Server is a running Prometheus.
type Server struct {
	URL       string // http://127.0.0.1:PORT
	Addr      string // 127.0.0.1:PORT
	DataDir   string // the TSDB; the server writes here
	ConfigDir string // prometheus.yml and rules.yml; nothing writes here

	user map[string]string // BasicAuth
}

// get fetches path from the server, as one of its users when it has
// some.
func (s *Server) get(path string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		return nil, err
	}
	for u, pw := range s.user {
		req.SetBasicAuth(u, pw)
		break
	}
	return http.DefaultClient.Do(req)
}

// Start backfills o's history, starts the server and waits until it is
// ready; it is stopped when the test ends. Without prometheus and
// promtool it skips, or fails where integration tests must run (see
// storetest.RequireOrSkip).
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	prom, err1 := exec.LookPath("prometheus")
	promtool, err2 := exec.LookPath("promtool")
	if err1 != nil || err2 != nil {
		storetest.RequireOrSkip(t, "prometheus", Install)
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	root := t.TempDir()
	s := &Server{DataDir: filepath.Join(root, "data"), ConfigDir: filepath.Join(root, "config")}
	for _, d := range []string{s.DataDir, s.ConfigDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	input := filepath.Join(root, "history.om")
	if err := writeOpenMetrics(input, o); err != nil {
		t.Fatalf("write backfill: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics",
		"--quiet", "--max-block-duration=720h", input, s.DataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	cfg := "global: {evaluation_interval: 1s}\n"
	if o.Rules != "" {
		if err := os.WriteFile(filepath.Join(s.ConfigDir, "rules.yml"), []byte(o.Rules), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg += "rule_files: [rules.yml]\n"
	}
	var webCfg string
	if len(o.BasicAuth) > 0 {
		web := "basic_auth_users:\n"
		for user, pw := range o.BasicAuth {
			hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			web += fmt.Sprintf("  %q: %q\n", user, hash)
		}
		webCfg = filepath.Join(s.ConfigDir, "web.yml")
		if err := os.WriteFile(webCfg, []byte(web), 0o644); err != nil {
			t.Fatal(err)
		}
		s.user = o.BasicAuth
	}
	cfgPath := filepath.Join(s.ConfigDir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	logPath := filepath.Join(root, "prometheus.log")
	for attempt := 1; ; attempt++ {
		s.Addr = freeAddr(t)
		s.URL = "http://" + s.Addr
		if err := s.start(t, prom, cfgPath, webCfg, logPath); err == nil {
			return s
		} else if attempt == 3 {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("start prometheus: %v\n%s", err, tail(log, 3000))
		}
	}
}

func (s *Server) start(t testing.TB, prom, cfgPath, webCfg, logPath string) error {
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	args := []string{"--config.file=" + cfgPath, "--storage.tsdb.path=" + s.DataDir,
		"--storage.tsdb.retention.time=100y", "--web.listen-address=" + s.Addr, "--log.level=warn"}
	if webCfg != "" {
		args = append(args, "--web.config.file="+webCfg)
	}
	cmd := exec.Command(prom, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("prometheus exited: %v", err)
		default:
		}
		resp, err := s.get("/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(stop)
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return fmt.Errorf("not ready within 20 s")
}

// WaitFiring waits until the server has written an ALERTS sample of the
// alert, firing, for at most 20 s. (/api/v1/alerts shows it firing a few
// seconds before the first ALERTS sample is in the TSDB.)
func (s *Server) WaitFiring(t testing.TB, alertname string) {
	t.Helper()
	q := url.Values{"query": {fmt.Sprintf(`ALERTS{alertname=%q,alertstate="firing"}`, alertname)}}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := s.get("/api/v1/query?" + q.Encode())
		if err == nil {
			var body struct {
				Data struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err == nil && len(body.Data.Result) > 0 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("alert %s did not fire within 20 s", alertname)
}

// writeOpenMetrics writes o's history as an OpenMetrics file, family by
// family, each series in time order.
func writeOpenMetrics(path string, o Options) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	byName := map[string][]Series{}
	var names []string
	for _, s := range o.Series {
		if byName[s.Name] == nil {
			names = append(names, s.Name)
		}
		byName[s.Name] = append(byName[s.Name], s)
	}
	sort.Strings(names)
	for _, name := range names {
		typ := byName[name][0].Type
		if typ == "" {
			typ = "gauge"
		}
		family := strings.TrimSuffix(name, "_total")
		fmt.Fprintf(w, "# TYPE %s %s\n", family, typ)
		for _, s := range byName[name] {
			labels := labelText(s.Labels)
			for t := o.From; !t.After(o.To); t = t.Add(o.Interval) {
				v := s.Value(t)
				if math.IsNaN(v) {
					continue
				}
				fmt.Fprintf(w, "%s%s %g %d\n", name, labels, v, t.Unix())
			}
		}
	}
	w.WriteString("# EOF\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func labelText(ls map[string]string) string {
	if len(ls) == 0 {
		return ""
	}
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, ls[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

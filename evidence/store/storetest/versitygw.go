package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// VersityGWInstall says how to install the S3 server the tests use.
const VersityGWInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 " +
	"(or point KSBFOLIO_VERSITYGW at the binary)"

// S3Server is a running S3 API server for one test. Its credentials are
// throwaway test values.
type S3Server struct {
	Endpoint  string // host:port, plain HTTP on 127.0.0.1
	AccessKey string
	SecretKey string
	Bucket    string // created empty before the test starts
	Dir       string // the server's backing directory; the bucket is Dir/Bucket
}

// URL returns the store URL of prefix in the server's bucket, in the form
// s3store.ParseURL reads:
// s3://BUCKET/PREFIX?endpoint=127.0.0.1:PORT&insecure=true.
func (s S3Server) URL(prefix string) string {
	u := url.URL{
		Scheme:   "s3",
		Host:     s.Bucket,
		Path:     "/" + strings.TrimPrefix(prefix, "/"),
		RawQuery: "endpoint=" + url.QueryEscape(s.Endpoint) + "&insecure=true",
	}
	if prefix == "" {
		u.Path = ""
	}
	return u.String()
}

// RequireOrSkip stops the test because what it needs (what: "s3",
// "prometheus", …) is missing here: it skips, saying how to install it, but
// fails instead when the environment variable CI is non-empty or
// KSBFOLIO_TEST_REQUIRE contains what (e.g. KSBFOLIO_TEST_REQUIRE=s3,git), so
// integration tests cannot quietly stop running where they must run.
func RequireOrSkip(t testing.TB, what, howToInstall string) {
	t.Helper()
	msg := fmt.Sprintf("%s is not available: install it with %s", what, howToInstall)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this is a failure, not a skip)", msg)
	}
	if req := os.Getenv("KSBFOLIO_TEST_REQUIRE"); strings.Contains(req, what) {
		t.Fatalf("%s (KSBFOLIO_TEST_REQUIRE=%s, so this is a failure, not a skip)", msg, req)
	}
	t.Skip(msg)
}

// findVersityGW returns the versitygw binary: $KSBFOLIO_VERSITYGW, else
// versitygw on PATH, else $(go env GOPATH)/bin/versitygw.
func findVersityGW(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("KSBFOLIO_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("KSBFOLIO_VERSITYGW=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "versitygw")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	RequireOrSkip(t, "s3", VersityGWInstall)
	return ""
}

// syncBuffer is a bytes.Buffer safe for the child process's output copier
// and the test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 { // keep the head; enough to diagnose
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// StartVersityGW starts a versitygw S3 server (posix backend, single
// account) on a free 127.0.0.1 port with its data under t.TempDir(), creates
// an empty bucket, and stops the server when the test ends. Its output is
// logged if the test fails. Without the binary the test skips or fails as
// RequireOrSkip says.
func StartVersityGW(t testing.TB) S3Server {
	t.Helper()
	bin := findVersityGW(t)
	dir := t.TempDir()
	srv := S3Server{
		AccessKey: "ksbfolio-test",
		SecretKey: "ksbfolio-test-secret-key",
		Bucket:    "ksbfolio-test",
		Dir:       filepath.Join(dir, "data"),
	}
	if err := os.MkdirAll(filepath.Join(srv.Dir, srv.Bucket), 0o755); err != nil {
		t.Fatalf("versitygw: create bucket directory: %v", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("versitygw: pick a port: %v", err)
		}
		srv.Endpoint = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		out := &syncBuffer{}
		cmd := exec.Command(bin, "--port", srv.Endpoint, "--access", srv.AccessKey, "--secret", srv.SecretKey,
			"--quiet", "posix", srv.Dir)
		cmd.Stdout, cmd.Stderr = out, out
		cmd.Env = append(os.Environ(), "HOME="+dir) // nothing of the user's is read or written
		if err := cmd.Start(); err != nil {
			t.Fatalf("versitygw: start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		if lastErr = waitReady(srv.Endpoint, exited, 15*time.Second); lastErr != nil {
			stop(cmd, exited)
			t.Logf("versitygw attempt %d on %s: %v (exit: %v)\n%s", attempt+1, srv.Endpoint, lastErr, waitErr, out)
			continue
		}
		t.Cleanup(func() {
			stop(cmd, exited)
			if t.Failed() {
				t.Logf("versitygw output:\n%s", out)
			}
		})
		return srv
	}
	t.Fatalf("versitygw did not start: %v", lastErr)
	return S3Server{}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits until endpoint answers HTTP (any status: unsigned requests
// are refused) or the process exits.
func waitReady(endpoint string, exited <-chan struct{}, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			return errors.New("exited before answering")
		default:
		}
		resp, err := client.Get("http://" + endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not answering after %v: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the server: SIGTERM, then SIGKILL after 5 s.
func stop(cmd *exec.Cmd, exited <-chan struct{}) {
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = cmd.Process.Kill()
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

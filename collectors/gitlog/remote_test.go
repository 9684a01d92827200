package gitlog_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// upstream is a bare repository to collect remotely and a work tree that
// pushes to it.
type upstream struct {
	t    *testing.T
	root string // the folder served
	bare string // root/up.git
	work *repo
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	src := filepath.Join(root, "src")
	if _, err := demorepo.Build(ctx, src, demorepo.Options{Commits: 300, Seed: 8, Branches: 4, TrailerEvery: 3}); err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(root, "up.git")
	if _, err := demorepo.Git(ctx, root, "clone", "-q", "--bare", src, bare); err != nil {
		t.Fatal(err)
	}
	work := &repo{t: t, dir: src, when: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	work.git("remote", "add", "up", bare)
	return &upstream{t: t, root: root, bare: bare, work: work}
}

// janeCommits is how many of jane's commits the bare repository's branches hold.
func (u *upstream) janeCommits() int {
	out, err := demorepo.Git(context.Background(), u.bare, "log", "--branches", "--format=%H", "--regexp-ignore-case", "--author=<"+janeE+">")
	if err != nil {
		u.t.Fatal(err)
	}
	return len(strings.Fields(out))
}

// gitHTTP serves root with git http-backend (CGI), asking for token as the
// password of HTTP basic auth; it counts the bytes it sends.
func gitHTTP(t *testing.T, root, token string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		storetest.RequireOrSkip(t, "git", "apt-get install git")
	}
	backend := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + root}}
	var sent atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pass, ok := r.BasicAuth(); !ok || pass != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "token required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(countingWriter{w, &sent}, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &sent
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	c.n.Add(int64(len(b)))
	return c.ResponseWriter.Write(b)
}

// caFile writes the test server's certificate as a PEM bundle.
func caFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// secretFile is a ${file:…} secret holding value.
func secretFile(t *testing.T, value string) sourceconfig.Secret {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sourceconfig.ParseSecret("${file:token}", dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRemoteHTTPS: a repository behind an HTTPS server that wants a
// token is cloned (bare, into the cache folder) on the first run; the
// second run fetches only what is new; a force-pushed branch and a deleted
// one neither duplicate nor lose items; the token is never kept.
func TestRemoteHTTPS(t *testing.T) {
	t.Parallel()
	const token = "glpat-TESTTOKEN0123456789"
	u := newUpstream(t)
	srv, sent := gitHTTP(t, u.root, token)
	cache := t.TempDir()
	rm := &gitlog.Remote{URL: srv.URL + "/up.git", Auth: &sourceconfig.Auth{Token: secretFile(t, token)},
		CAFile: caFile(t, srv), CacheDir: cache}
	c := newCollector(t, gitlog.Config{Remote: rm, Emails: []string{janeE}})

	s, cur, err := collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := sent.Load()
	if want := u.janeCommits(); len(s.items) != want {
		t.Fatalf("first run: %d items, upstream has %d of jane's commits", len(s.items), want)
	}
	seen := map[string]bool{}
	for _, it := range s.items {
		seen[it.Origin.NativeID] = true
		if it.Origin.URI != rm.URL || it.Facts["repo"] != rm.URL {
			t.Fatalf("origin %s, repo %v; want the URL %s", it.Origin.URI, it.Facts["repo"], rm.URL)
		}
	}
	clones, _ := filepath.Glob(filepath.Join(cache, "*.git"))
	if len(clones) != 1 {
		t.Fatalf("cache holds %v, want one bare clone", clones)
	}
	if _, err := os.Stat(filepath.Join(clones[0], "HEAD")); err != nil {
		t.Fatalf("the clone is not bare: %v", err)
	}

	// Three new commits: the second run fetches little and emits them.
	u.work.git("checkout", "-q", "main")
	var added []string
	for i := range 3 {
		u.work.write(fmt.Sprintf("src/new_%d.py", i), "x = 1\n")
		added = append(added, u.work.commit(jane, fmt.Sprintf("Add module %d", i)))
	}
	u.work.git("push", "-q", "up", "main")
	before := sent.Load()
	s, cur, err = collect(t, c, cur)
	if err != nil {
		t.Fatal(err)
	}
	fetched := sent.Load() - before
	if got := natives(s.items); !sameSet(got, added) {
		t.Fatalf("second run emitted %v, want the 3 new commits %v", got, added)
	}
	if fetched*10 > first {
		t.Errorf("second run received %d bytes, the clone %d: not only what is new", fetched, first)
	}
	t.Logf("clone %d bytes, fetch of 3 commits %d bytes", first, fetched)

	// Force-push a feature branch (its last commit replaced) and delete
	// another.
	branches := strings.Fields(u.work.git("for-each-ref", "--format=%(refname:short)", "refs/heads/feature/"))
	if len(branches) < 2 {
		t.Fatalf("branches %v", branches)
	}
	u.work.git("checkout", "-q", branches[len(branches)-1])
	u.work.git("reset", "-q", "--hard", "HEAD~1")
	u.work.write("src/rewritten.py", "y = 2\n")
	rewritten := u.work.commit(jane, "Rewrite the last step")
	u.work.git("push", "-q", "--force", "up", branches[len(branches)-1])
	u.work.git("push", "-q", "up", "--delete", branches[0])
	s, cur, err = collect(t, c, cur)
	if err != nil {
		t.Fatal(err)
	}
	if got := natives(s.items); !sameSet(got, []string{rewritten}) {
		t.Fatalf("after the force-push and delete: emitted %v, want only %s", got, rewritten)
	}
	if refs, _ := demorepo.Git(context.Background(), clones[0], "for-each-ref", "--format=%(refname)"); strings.Contains(refs, branches[0]) {
		t.Errorf("deleted branch %s still in the clone:\n%s", branches[0], refs)
	}
	// Nothing new: nothing emitted.
	if s, _, err = collect(t, c, cur); err != nil || len(s.items) != 0 {
		t.Errorf("rerun: err %v, %d items", err, len(s.items))
	}
	// A full run from scratch: every item reachable now, each once, all of
	// them already seen (same IDs) but the new ones.
	s, _, err = collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for sha := range s.byNative() {
		if !seen[sha] && !contains(added, sha) && sha != rewritten {
			t.Errorf("full run emitted %s, never seen before", sha)
		}
	}
	for _, b := range []string{string(cur), fmt.Sprint(s.warns)} {
		if strings.Contains(b, token) {
			t.Errorf("token kept: %s", b)
		}
	}
	cfgBytes, _ := os.ReadFile(filepath.Join(clones[0], "config"))
	if strings.Contains(string(cfgBytes), token) {
		t.Errorf("token written into the clone's config")
	}

	// A wrong token: a clear error, no clone left behind.
	cache2 := t.TempDir()
	bad := newCollector(t, gitlog.Config{Emails: []string{janeE}, Remote: &gitlog.Remote{URL: rm.URL,
		Auth: &sourceconfig.Auth{Token: secretFile(t, "wrong")}, CAFile: rm.CAFile, CacheDir: cache2}})
	_, next, err := collect(t, bad, nil)
	if err == nil || next != nil || !strings.Contains(err.Error(), "clone") {
		t.Fatalf("wrong token: err %v, cursor %s", err, next)
	}
	if left, _ := os.ReadDir(cache2); len(left) != 0 {
		t.Errorf("a failed clone left %v in the cache", left)
	}
	// A fetch that fails later collects the clone as it was, with a warning.
	srv.Close()
	s, _, err = collect(t, c, nil)
	if err != nil || len(s.items) == 0 || len(s.warns) == 0 || !strings.Contains(strings.Join(s.warns, "\n"), "cached clone") {
		t.Errorf("server down: err %v, %d items, warnings %v", err, len(s.items), s.warns)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestRemoteSSH: a repository reached over SSH (Debian's openssh-server,
// started here on loopback) with a key file, its host key checked against
// known_hosts; a host key that does not match is refused.
func TestRemoteSSH(t *testing.T) {
	t.Parallel()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/sshd"); err2 != nil {
			storetest.RequireOrSkip(t, "sshd", "apt-get install openssh-server")
		}
		sshd = "/usr/sbin/sshd"
	}
	u := newUpstream(t)
	dir := t.TempDir()
	keygen := func(name string) {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, name)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v: %s", err, out)
		}
	}
	keygen("host")
	keygen("client")
	keygen("other")
	pub, _ := os.ReadFile(filepath.Join(dir, "client.pub"))
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cfg := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\nPidFile %s\n"+
		"StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"+
		"PermitRootLogin prohibit-password\nLogLevel ERROR\n",
		port, filepath.Join(dir, "host"), filepath.Join(dir, "authorized_keys"), filepath.Join(dir, "sshd.pid"))
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		_ = os.MkdirAll("/run/sshd", 0o755) // sshd's privilege separation folder
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitPort(t, port, &stderr)

	hostPub, _ := os.ReadFile(filepath.Join(dir, "host.pub"))
	otherPub, _ := os.ReadFile(filepath.Join(dir, "other.pub"))
	knownHosts := func(name string, key []byte) string {
		f := strings.Fields(string(key))
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(fmt.Sprintf("[127.0.0.1]:%d %s %s\n", port, f[0], f[1])), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	user := os.Getenv("USER")
	if out, err := exec.Command("id", "-un").Output(); err == nil {
		user = strings.TrimSpace(string(out))
	}
	url := fmt.Sprintf("ssh://%s@127.0.0.1:%d%s", user, port, u.bare)
	rm := &gitlog.Remote{URL: url, Auth: &sourceconfig.Auth{SSHKey: filepath.Join(dir, "client")},
		KnownHosts: knownHosts("known_hosts", hostPub), CacheDir: t.TempDir()}
	c := newCollector(t, gitlog.Config{Remote: rm, Emails: []string{janeE}})
	s, cur, err := collect(t, c, nil)
	if err != nil {
		t.Fatalf("collect over ssh: %v (sshd: %s)", err, stderr.String())
	}
	if want := u.janeCommits(); len(s.items) != want {
		t.Fatalf("%d items, upstream has %d of jane's commits", len(s.items), want)
	}
	u.work.git("checkout", "-q", "main")
	u.work.write("src/ssh.py", "z = 3\n")
	added := u.work.commit(jane, "Add over ssh")
	u.work.git("push", "-q", "up", "main")
	if s, _, err = collect(t, c, cur); err != nil || !sameSet(natives(s.items), []string{added}) {
		t.Fatalf("second run: err %v, emitted %v, want %s", err, natives(s.items), added)
	}

	wrong := newCollector(t, gitlog.Config{Emails: []string{janeE}, Remote: &gitlog.Remote{URL: url,
		Auth: rm.Auth, KnownHosts: knownHosts("wrong_hosts", otherPub), CacheDir: t.TempDir()}})
	if _, _, err := collect(t, wrong, nil); err == nil || !strings.Contains(err.Error(), "key") {
		t.Fatalf("host key mismatch: err %v, want a refusal", err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, port int, stderr *strings.Builder) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sshd did not listen on %d: %s", port, stderr.String())
}

package storetest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// memStore is a small in-memory store.Store, correct unless broken names a
// fault to plant: the suite must pass the first and fail the others.
type memStore struct {
	broken string
	mu     sync.Mutex
	objs   map[string]memObj
	n      int
}

type memObj struct {
	data []byte
	etag string
	mod  time.Time
}

func newMem(broken string) *memStore { return &memStore{broken: broken, objs: map[string]memObj{}} }

func (m *memStore) String() string { return "mem" }

func (m *memStore) check(ctx context.Context, key string) error {
	if err := store.ValidKey(key); err != nil {
		return err
	}
	return ctx.Err()
}

func (m *memStore) Put(ctx context.Context, key string, r io.Reader, size int64, opts store.PutOptions) (store.Info, error) {
	if err := m.check(ctx, key); err != nil {
		return store.Info{}, err
	}
	if opts.IfAbsent && opts.IfMatch != "" {
		return store.Info{}, errors.New("both conditions")
	}
	var buf bytes.Buffer
	p := make([]byte, 32<<10)
	for {
		if err := ctx.Err(); err != nil && m.broken != "ignore-cancel" {
			return store.Info{}, err
		}
		n, err := r.Read(p)
		buf.Write(p[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			if m.broken == "keep-partial" {
				break
			}
			return store.Info{}, err
		}
	}
	if size >= 0 && int64(buf.Len()) != size {
		return store.Info{}, fmt.Errorf("size %d, read %d", size, buf.Len())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, exists := m.objs[key]
	switch {
	case opts.IfAbsent && exists && m.broken != "ignore-ifabsent":
		return store.Info{}, store.ErrPrecondition
	case opts.IfMatch != "" && (!exists || old.etag != opts.IfMatch) && m.broken != "ignore-ifmatch":
		return store.Info{}, store.ErrPrecondition
	}
	m.n++
	etag := fmt.Sprint(m.n)
	if m.broken == "constant-etag" {
		etag = "same"
	}
	m.objs[key] = memObj{data: buf.Bytes(), etag: etag, mod: time.Now()}
	if m.broken == "stale-put-info" { // returns the ETag of the version it replaced
		etag = old.etag + "-"
	}
	return store.Info{Key: key, Size: int64(buf.Len()), ModTime: m.objs[key].mod, ETag: etag}, nil
}

func (m *memStore) Get(ctx context.Context, key string) (io.ReadCloser, store.Info, error) {
	if err := m.check(ctx, key); err != nil {
		return nil, store.Info{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[key]
	if !ok {
		return nil, store.Info{}, store.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(o.data)), store.Info{Key: key, Size: int64(len(o.data)), ModTime: o.mod, ETag: o.etag}, nil
}

func (m *memStore) Stat(ctx context.Context, key string) (store.Info, error) {
	if err := m.check(ctx, key); err != nil {
		return store.Info{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[key]
	if !ok {
		return store.Info{}, store.ErrNotFound
	}
	return store.Info{Key: key, Size: int64(len(o.data)), ModTime: o.mod, ETag: o.etag}, nil
}

func (m *memStore) List(ctx context.Context, prefix string, fn func(store.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	var infos []store.Info
	for k, o := range m.objs {
		if strings.HasPrefix(k, prefix) {
			infos = append(infos, store.Info{Key: k, Size: int64(len(o.data)), ModTime: o.mod, ETag: o.etag})
		}
	}
	m.mu.Unlock()
	slices.SortFunc(infos, func(a, b store.Info) int {
		if m.broken == "segment-order" { // sorts "a/b" before "a.b", as a naive walk would
			return strings.Compare(strings.ReplaceAll(a.Key, "/", "\x00"), strings.ReplaceAll(b.Key, "/", "\x00"))
		}
		return strings.Compare(a.Key, b.Key)
	})
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) Delete(ctx context.Context, key string) error {
	if err := m.check(ctx, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, key)
	return nil
}

func TestRunPassesACorrectStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return newMem("") })
}

// TestHelperBrokenStore is not a test: TestRunCatchesFaults runs the test
// binary as a child that runs it against a broken store.
func TestHelperBrokenStore(t *testing.T) {
	broken := os.Getenv("STORETEST_BROKEN")
	if broken == "" {
		t.Skip("helper for TestRunCatchesFaults")
	}
	storetest.Run(t, func(*testing.T) store.Store { return newMem(broken) })
}

func TestRunCatchesFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	tests := []struct {
		broken   string
		failures []string // subtests that must fail
	}{
		{"ignore-ifabsent", []string{"IfAbsent", "RaceIfAbsent"}},
		{"ignore-ifmatch", []string{"IfMatch", "RaceIfMatch"}},
		{"constant-etag", []string{"Overwrite", "IfMatch"}},
		{"stale-put-info", []string{"Info"}},
		{"keep-partial", []string{"FailedPut"}},
		{"ignore-cancel", []string{"CancelledMidPut"}},
		{"segment-order", []string{"List"}},
	}
	for _, tc := range tests {
		t.Run(tc.broken, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBrokenStore$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "STORETEST_BROKEN="+tc.broken)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store with fault %q", tc.broken)
			}
			for _, name := range tc.failures {
				if !strings.Contains(string(out), "--- FAIL: TestHelperBrokenStore/"+name+" ") {
					t.Errorf("fault %q: subtest %s did not fail:\n%s", tc.broken, name, out)
				}
			}
		})
	}
}

// fakeTB records how a test ended.
type fakeTB struct {
	testing.TB
	mu      sync.Mutex
	skipped string
	fatal   string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skip(args ...any) {
	f.mu.Lock()
	f.skipped = fmt.Sprint(args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// run calls fn with a fakeTB in its own goroutine, as the testing package
// would, and returns the fake once fn has ended.
func run(t *testing.T, fn func(testing.TB)) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestRequireOrSkip(t *testing.T) {
	tests := []struct {
		ci, require string
		wantFatal   bool
	}{
		{"", "", false},
		{"", "mlflow,git", false},
		{"", "s3", true},
		{"", "git,s3,prometheus", true},
		{"true", "", true},
		{"1", "mlflow", true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("CI=%q REQUIRE=%q", tc.ci, tc.require), func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv("KSBFOLIO_TEST_REQUIRE", tc.require)
			f := run(t, func(tb testing.TB) { storetest.RequireOrSkip(tb, "s3", "apt install s3") })
			msg := f.skipped
			if tc.wantFatal {
				msg = f.fatal
			}
			if msg == "" {
				t.Fatalf("skipped %q, fatal %q; want fatal=%v", f.skipped, f.fatal, tc.wantFatal)
			}
			if !strings.Contains(msg, "s3") || !strings.Contains(msg, "apt install s3") {
				t.Errorf("message %q does not say what is missing and how to install it", msg)
			}
		})
	}
}

func TestS3ServerURL(t *testing.T) {
	srv := storetest.S3Server{Endpoint: "127.0.0.1:7070", Bucket: "bkt"}
	for prefix, want := range map[string]string{
		"":            "s3://bkt?endpoint=127.0.0.1%3A7070&insecure=true",
		"a/b":         "s3://bkt/a/b?endpoint=127.0.0.1%3A7070&insecure=true",
		"/apprentice": "s3://bkt/apprentice?endpoint=127.0.0.1%3A7070&insecure=true",
	} {
		if got := srv.URL(prefix); got != want {
			t.Errorf("URL(%q) = %q, want %q", prefix, got, want)
		}
	}
}

func TestStartVersityGW(t *testing.T) {
	var srv storetest.S3Server
	t.Run("running", func(t *testing.T) {
		srv = storetest.StartVersityGW(t)
		if fi, err := os.Stat(filepath.Join(srv.Dir, srv.Bucket)); err != nil || !fi.IsDir() {
			t.Errorf("bucket directory: %v", err)
		}
		c, err := net.Dial("tcp", srv.Endpoint)
		if err != nil {
			t.Fatalf("server not answering on %s: %v", srv.Endpoint, err)
		}
		c.Close()
		if host, _, _ := net.SplitHostPort(srv.Endpoint); host != "127.0.0.1" {
			t.Errorf("server listens on %s, want loopback", srv.Endpoint)
		}
	})
	if srv.Endpoint == "" {
		return // skipped
	}
	// The subtest's cleanup stopped it.
	if c, err := net.DialTimeout("tcp", srv.Endpoint, time.Second); err == nil {
		c.Close()
		t.Errorf("server still answering on %s after its test ended", srv.Endpoint)
	}
}

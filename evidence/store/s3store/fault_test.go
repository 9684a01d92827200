package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/s3store"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// faulty is a store on a fresh server reached through a fault proxy, with
// the given timeouts, and the same prefix reached directly.
type faulty struct {
	proxy  *storetest.FaultProxy
	s      *s3store.Store // through the proxy
	direct *s3store.Store
}

func newFaulty(t *testing.T, timeout, idle time.Duration) faulty {
	t.Helper()
	srv := storetest.StartVersityGW(t)
	p := storetest.NewFaultProxy(t, srv.Endpoint)
	cfg := config(t, srv.Through(p), "f")
	cfg.Timeout, cfg.IdleTimeout = timeout, idle
	return faulty{proxy: p, s: open(t, cfg), direct: open(t, config(t, srv, "f"))}
}

func putDirect(t *testing.T, s store.Store, key string, data []byte) {
	t.Helper()
	if _, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), store.PutOptions{}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// within runs fn and fails the test if it takes longer than max.
func within(t *testing.T, max time.Duration, fn func()) time.Duration {
	t.Helper()
	start := time.Now()
	fn()
	d := time.Since(start)
	if d > max {
		t.Errorf("took %v, want at most %v", d, max)
	}
	return d
}

func TestGetBodyStallFails(t *testing.T) {
	f := newFaulty(t, 30*time.Second, time.Second)
	data := bytes.Repeat([]byte("evidence "), 20_000)
	putDirect(t, f.direct, "items/big.json", data)
	f.proxy.Next(storetest.Fault{Method: "GET", PathContains: "/f/items/big.json", Kind: storetest.Stall, After: 4096, Times: -1})

	var got []byte
	var err error
	// Five reads that each stall for the 1s idle timeout, with backoffs of
	// 0.2+0.4+0.8+1 s between them.
	d := within(t, 15*time.Second, func() { got, _, err = store.ReadAll(context.Background(), f.s, "items/big.json", 0) })
	if err == nil {
		t.Fatalf("ReadAll of a stalled body: %d bytes, no error", len(got))
	}
	if d < 5*time.Second {
		t.Errorf("failed after %v, before five reads timed out", d)
	}
	if n := f.proxy.Forwarded("GET", "/f/items/big.json"); n != 5 {
		t.Errorf("%d GETs, want 5 (the first and four resumptions)", n)
	}
	for _, want := range []string{"items/big.json", "idle_timeout", "1s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Count(err.Error(), "items/big.json") != 1 {
		t.Errorf("error %q repeats the key", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q is not a context.DeadlineExceeded", err)
	}

	// The caller's time between reads is not the server's.
	f.proxy.Clear()
	rc, _, err := f.s.Get(context.Background(), "items/big.json")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	head := make([]byte, 10)
	if _, err := io.ReadFull(rc, head); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	rest, err := io.ReadAll(rc)
	if err != nil || len(rest)+len(head) != len(data) {
		t.Errorf("slow reader: %d bytes, %v; want all %d", len(rest)+len(head), err, len(data))
	}
}

func TestGetBodyStallResumed(t *testing.T) {
	f := newFaulty(t, 30*time.Second, time.Second)
	data := bytes.Repeat([]byte("0123456789abcdef"), 10_000)
	putDirect(t, f.direct, "items/big.json", data)
	f.proxy.Next(storetest.Fault{Method: "GET", PathContains: "/f/items/big.json", Kind: storetest.Stall, After: 5000})
	var got []byte
	var err error
	within(t, 3*time.Second, func() { got, _, err = store.ReadAll(context.Background(), f.s, "items/big.json", 0) })
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll through one stall: %d bytes (want %d), %v", len(got), len(data), err)
	}
	reqs := f.proxy.Requests()
	if n := f.proxy.Forwarded("GET", "/f/items/big.json"); n != 2 || reqs[len(reqs)-1].Fault != storetest.Pass {
		t.Errorf("requests %+v, want the stalled GET and one resumption", reqs)
	}
}

func TestGetReplacedWhileStalled(t *testing.T) {
	f := newFaulty(t, 30*time.Second, time.Second)
	ctx := context.Background()
	old := bytes.Repeat([]byte("old "), 20_000)
	putDirect(t, f.direct, "items/x", old)
	f.proxy.Next(storetest.Fault{Method: "GET", PathContains: "/f/items/x", Kind: storetest.Stall, After: 1000})
	rc, info, err := f.s.Get(ctx, "items/x")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	head := make([]byte, 1000)
	if _, err := io.ReadFull(rc, head); err != nil {
		t.Fatal(err)
	}
	putDirect(t, f.direct, "items/x", bytes.Repeat([]byte("new "), 20_000))
	rest, err := io.ReadAll(rc)
	if err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("reading on after the object was replaced: %d bytes, %v; want an error saying it was replaced", len(rest), err)
	}
	if bytes.Contains(rest, []byte("new")) {
		t.Errorf("the reader of version %s returned bytes of the next version", info.ETag)
	}
}

func TestBodyStallShorterThanIdleSucceeds(t *testing.T) {
	f := newFaulty(t, 30*time.Second, 2*time.Second)
	data := bytes.Repeat([]byte("x"), 50_000)
	putDirect(t, f.direct, "a", data)
	f.proxy.Next(storetest.Fault{Method: "GET", PathContains: "/f/a", Kind: storetest.Stall, After: 100, Duration: time.Second})
	got, _, err := store.ReadAll(context.Background(), f.s, "a", 0)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll through a 1s stall with a 2s idle timeout: %d bytes, %v", len(got), err)
	}
	if f.proxy.Pending() != 0 {
		t.Error("the stall did not happen")
	}
}

func TestListBodyStallFails(t *testing.T) {
	f := newFaulty(t, 30*time.Second, time.Second)
	for _, k := range []string{"items/a", "items/b", "items/c"} {
		putDirect(t, f.direct, k, []byte(k))
	}
	f.proxy.Next(storetest.Fault{Method: "GET", PathContains: "list-type=2", Kind: storetest.Stall, After: 50, Times: -1})
	var err error
	within(t, 5*time.Second, func() { err = f.s.List(context.Background(), "items/", func(store.Info) error { return nil }) })
	if err == nil || !strings.Contains(err.Error(), "idle_timeout") || !strings.Contains(err.Error(), `"items/"`) {
		t.Errorf("List of a stalled listing: %v, want an idle timeout naming the prefix", err)
	}
}

// TestResetRetried: a connection reset before the request reaches the
// server is retried, for every operation.
func TestResetRetried(t *testing.T) {
	f := newFaulty(t, 30*time.Second, 5*time.Second)
	ctx := context.Background()
	putDirect(t, f.direct, "items/x", []byte("x"))
	ops := []struct {
		name, method, path string
		do                 func() error
	}{
		{"get", "GET", "/f/items/x", func() error {
			b, _, err := store.ReadAll(ctx, f.s, "items/x", 0)
			if err == nil && string(b) != "x" {
				err = errors.New("wrong content " + string(b))
			}
			return err
		}},
		{"stat", "HEAD", "/f/items/x", func() error { _, err := f.s.Stat(ctx, "items/x"); return err }},
		{"list", "GET", "list-type=2", func() error {
			n := 0
			err := f.s.List(ctx, "items/", func(store.Info) error { n++; return nil })
			if err == nil && n != 1 {
				err = errors.New("wrong listing")
			}
			return err
		}},
		{"put", "PUT", "/f/items/y", func() error {
			_, err := f.s.Put(ctx, "items/y", strings.NewReader("y"), 1, store.PutOptions{IfAbsent: true})
			return err
		}},
		{"delete", "DELETE", "/f/items/y", func() error { return f.s.Delete(ctx, "items/y") }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			before := f.proxy.Forwarded(op.method, op.path)
			f.proxy.Next(storetest.Fault{Method: op.method, PathContains: op.path, Kind: storetest.Reset, Times: 2})
			if err := op.do(); err != nil {
				t.Fatalf("%s after two resets: %v", op.name, err)
			}
			if f.proxy.Pending() != 0 {
				t.Fatalf("the resets did not happen")
			}
			if n := f.proxy.Forwarded(op.method, op.path) - before; n != 1 {
				t.Errorf("%d requests reached the server, want 1", n)
			}
		})
	}
}

// TestDroppedResponseRetried: a request the server did but whose response
// was lost is sent again.
func TestDroppedResponseRetried(t *testing.T) {
	f := newFaulty(t, 30*time.Second, 5*time.Second)
	ctx := context.Background()
	putDirect(t, f.direct, "items/x", []byte("x"))

	f.proxy.Next(storetest.Fault{Method: "HEAD", PathContains: "/f/items/x", Kind: storetest.DropResponse})
	if info, err := f.s.Stat(ctx, "items/x"); err != nil || info.Size != 1 {
		t.Errorf("Stat after a dropped response: %+v, %v", info, err)
	}
	f.proxy.Next(storetest.Fault{Method: "GET", PathContains: "/f/items/x", Kind: storetest.DropResponse})
	if b, _, err := store.ReadAll(ctx, f.s, "items/x", 0); err != nil || string(b) != "x" {
		t.Errorf("Get after a dropped response: %q, %v", b, err)
	}
	f.proxy.Next(storetest.Fault{Method: "GET", PathContains: "list-type=2", Kind: storetest.DropResponse})
	if err := f.s.List(ctx, "items/", func(store.Info) error { return nil }); err != nil {
		t.Errorf("List after a dropped response: %v", err)
	}

	// An unconditional PUT is resent and succeeds.
	f.proxy.Next(storetest.Fault{Method: "PUT", PathContains: "/f/items/u", Kind: storetest.DropResponse})
	info, err := f.s.Put(ctx, "items/u", strings.NewReader("u1"), 2, store.PutOptions{})
	if err != nil {
		t.Fatalf("Put after a dropped response: %v", err)
	}
	if st, err := f.direct.Stat(ctx, "items/u"); err != nil || st.ETag != info.ETag {
		t.Errorf("Put returned ETag %q, the server has %+v, %v", info.ETag, st, err)
	}

	// A conditional PUT resent after its own write succeeded is refused:
	// the documented ambiguity a lease resolves by reading the object.
	f.proxy.Next(storetest.Fault{Method: "PUT", PathContains: "/f/lock", Kind: storetest.DropResponse})
	_, err = f.s.Put(ctx, "lock", strings.NewReader("run-1"), 5, store.PutOptions{IfAbsent: true})
	if !errors.Is(err, store.ErrPrecondition) {
		t.Errorf("IfAbsent Put resent after its write succeeded: %v, want ErrPrecondition", err)
	}
	if b, _, err := store.ReadAll(ctx, f.direct, "lock", 0); err != nil || string(b) != "run-1" {
		t.Errorf("lock holds %q, %v; want this run's write", b, err)
	}
	if n := f.proxy.Forwarded("PUT", "/f/lock"); n != 2 {
		t.Errorf("%d lock PUTs reached the server, want 2 (the write and its resend)", n)
	}
}

// TestSlowHeadersRetried: a response whose headers do not come within the
// idle timeout is abandoned and the request sent again.
func TestSlowHeadersRetried(t *testing.T) {
	f := newFaulty(t, 30*time.Second, time.Second)
	putDirect(t, f.direct, "items/x", []byte("x"))
	f.proxy.Next(storetest.Fault{Method: "HEAD", PathContains: "/f/items/x", Kind: storetest.Delay, Duration: 3 * time.Second})
	within(t, 2500*time.Millisecond, func() {
		if _, err := f.s.Stat(context.Background(), "items/x"); err != nil {
			t.Errorf("Stat after one slow response: %v", err)
		}
	})
}

// TestTotalTimeout: an operation that keeps failing ends at its deadline,
// saying so, even while retries remain.
func TestTotalTimeout(t *testing.T) {
	f := newFaulty(t, time.Second, time.Second)
	putDirect(t, f.direct, "items/x", []byte("x"))
	f.proxy.Next(storetest.Fault{Method: "HEAD", Kind: storetest.Delay, Duration: 10 * time.Second, Times: -1})
	var err error
	within(t, 3*time.Second, func() { _, err = f.s.Stat(context.Background(), "items/x") })
	if err == nil || !strings.Contains(err.Error(), "timeout") || !strings.Contains(err.Error(), "items/x") ||
		!errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stat that never gets an answer: %v, want a timeout naming the key", err)
	}

	// The caller's own deadline is reported as the caller's.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = f.s.Stat(ctx, "items/x")
	if !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "(timeout)") {
		t.Errorf("Stat past the caller's deadline: %v, want the caller's context error", err)
	}
}

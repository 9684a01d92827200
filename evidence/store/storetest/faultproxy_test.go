package storetest_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// backend is a tiny object server: PUT stores the body under the path, GET
// returns it; it records what it handled.
type backend struct {
	mu      sync.Mutex
	objs    map[string][]byte
	handled []string
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handled = append(b.handled, r.Method+" "+r.URL.Path+" host="+r.Host)
	switch r.Method {
	case http.MethodPut:
		body, _ := io.ReadAll(r.Body)
		b.objs[r.URL.Path] = body
		w.Header().Set("ETag", `"v1"`)
	case http.MethodGet, http.MethodHead:
		body, ok := b.objs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}
}

func (b *backend) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.handled...)
}

func startProxy(t *testing.T) (*backend, *storetest.FaultProxy, *http.Client) {
	t.Helper()
	b := &backend{objs: map[string][]byte{}}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	p := storetest.NewFaultProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	// No client retries: every fault must show.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	return b, p, client
}

func do(t *testing.T, c *http.Client, method, url, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body = nil
	}
	return c.Do(req)
}

func TestFaultProxyTransparent(t *testing.T) {
	b, p, c := startProxy(t)
	big := strings.Repeat("0123456789", 100_000)
	resp, err := do(t, c, "PUT", p.URL()+"/bkt/a", big)
	if err != nil {
		t.Fatalf("PUT through the proxy: %v", err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("ETag"); got != `"v1"` {
		t.Errorf("ETag through the proxy = %q, want the server's", got)
	}
	resp, err = do(t, c, "GET", p.URL()+"/bkt/a", "")
	if err != nil {
		t.Fatalf("GET through the proxy: %v", err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(got) != big {
		t.Errorf("GET through the proxy: %d bytes, %v; want the %d bytes put", len(got), err, len(big))
	}
	if s := b.seen(); len(s) != 2 || s[0] != "PUT /bkt/a host="+p.Addr() {
		t.Errorf("server handled %q, want the PUT then the GET with the client's Host", s)
	}
	if n := p.Forwarded("", ""); n != 2 {
		t.Errorf("Forwarded = %d, want 2", n)
	}
	if n := p.Forwarded("PUT", "/bkt/a"); n != 1 {
		t.Errorf("Forwarded(PUT, /bkt/a) = %d, want 1", n)
	}
}

func TestFaultProxyDropResponse(t *testing.T) {
	b, p, c := startProxy(t)
	p.Next(storetest.Fault{Method: "PUT", PathContains: "/lock", Kind: storetest.DropResponse})
	if _, err := do(t, c, "PUT", p.URL()+"/bkt/lock", "mine"); err == nil {
		t.Fatal("PUT whose response was dropped: no error")
	}
	if s := b.seen(); len(s) != 1 || !strings.HasPrefix(s[0], "PUT /bkt/lock") {
		t.Errorf("server handled %q, want the PUT (the write happened)", s)
	}
	if p.Pending() != 0 {
		t.Errorf("Pending = %d after the fault fired, want 0", p.Pending())
	}
	// Used up: the next request passes.
	resp, err := do(t, c, "GET", p.URL()+"/bkt/lock", "")
	if err != nil {
		t.Fatalf("GET after the fault: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "mine" {
		t.Errorf("GET = %q, want the dropped PUT's body", got)
	}
	reqs := p.Requests()
	if len(reqs) != 2 || reqs[0].Fault != storetest.DropResponse || !reqs[0].Forwarded || reqs[1].Fault != storetest.Pass {
		t.Errorf("Requests = %+v", reqs)
	}
}

func TestFaultProxyReset(t *testing.T) {
	b, p, c := startProxy(t)
	p.Next(storetest.Fault{Method: "GET", Kind: storetest.Reset, Times: 2})
	for i := range 2 {
		_, err := do(t, c, "GET", p.URL()+"/bkt/x", "")
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("GET %d: err = %v, want a connection reset", i, err)
		}
	}
	if s := b.seen(); len(s) != 0 {
		t.Errorf("server handled %q, want nothing", s)
	}
	if n := p.Forwarded("", ""); n != 0 {
		t.Errorf("Forwarded = %d, want 0", n)
	}
	resp, err := do(t, c, "GET", p.URL()+"/bkt/x", "")
	if err != nil {
		t.Fatalf("third GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("third GET: %s, want the server's 404", resp.Status)
	}
}

func TestFaultProxyStall(t *testing.T) {
	_, p, c := startProxy(t)
	body := strings.Repeat("x", 10_000)
	if resp, err := do(t, c, "PUT", p.URL()+"/bkt/obj", body); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	// A stall for a while delays the body, then delivers all of it.
	p.Next(storetest.Fault{Method: "GET", PathContains: "/obj", Kind: storetest.Stall, After: 100, Duration: 300 * time.Millisecond})
	resp, err := do(t, c, "GET", p.URL()+"/bkt/obj", "")
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 100)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatalf("first 100 bytes: %v", err)
	}
	start := time.Now()
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("rest of the body came after %v, want the 300ms stall", d)
	}
	if err != nil || len(rest) != len(body)-100 {
		t.Errorf("rest: %d bytes, %v; want %d", len(rest), err, len(body)-100)
	}

	// A stall forever sends the head and then nothing.
	p.Next(storetest.Fault{Method: "GET", Kind: storetest.Stall, After: 10})
	resp, err = do(t, c, "GET", p.URL()+"/bkt/obj", "")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(resp.Body); got <- b }()
	select {
	case b := <-got:
		t.Fatalf("body ended (%d bytes) during a stall forever", len(b))
	case <-time.After(500 * time.Millisecond):
	}
	p.Close() // ends the stall: the client sees a cut body, never a short whole one
	select {
	case b := <-got:
		if len(b) != 10 {
			t.Errorf("got %d bytes before the stall, want 10", len(b))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the stall")
	}
}

func TestFaultProxyDelayAndMatch(t *testing.T) {
	_, p, c := startProxy(t)
	p.Next(storetest.Fault{Kind: storetest.Delay, Duration: 300 * time.Millisecond,
		Match: func(r *http.Request) bool { return r.Header.Get("X-Slow") != "" }})
	start := time.Now()
	resp, err := do(t, c, "GET", p.URL()+"/fast", "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("unmatched request took %v", d)
	}
	req, _ := http.NewRequest("GET", p.URL()+"/slow", nil)
	req.Header.Set("X-Slow", "1")
	start = time.Now()
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("matched request took %v, want the 300ms delay", d)
	}
	if got := p.Requests()[1].Fault.String(); got != "delay" {
		t.Errorf("second request's fault = %v, want delay", p.Requests()[1].Fault)
	}
}

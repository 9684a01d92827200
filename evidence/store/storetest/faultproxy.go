package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// FaultKind is what a FaultProxy does to a request a Fault matches.
type FaultKind int

const (
	// Pass forwards the request unchanged; a Pass fault only counts (see
	// FaultProxy.Pending) or lets later faults wait their turn.
	Pass FaultKind = iota
	// DropResponse forwards the request, reads the server's whole response
	// (so the server has done the work: the write happened) and then closes
	// the client's connection without sending a byte of it.
	DropResponse
	// Reset resets the client's connection (TCP RST) before the request
	// reaches the server: the server never sees it. (Go's HTTP client may
	// itself resend an idempotent request reset on a reused connection, so
	// a client can retry more than its own retry count shows.)
	Reset
	// Stall forwards the request and sends the response's status, headers
	// and its first After body bytes, then sends nothing for Duration (zero:
	// until the client hangs up, or the proxy closes at the end of the test
	// and hangs up), then the rest. A body of After bytes or fewer is sent
	// whole, without a stall.
	Stall
	// Delay waits Duration before forwarding the request.
	Delay
)

func (k FaultKind) String() string {
	switch k {
	case Pass:
		return "pass"
	case DropResponse:
		return "drop-response"
	case Reset:
		return "reset"
	case Stall:
		return "stall"
	case Delay:
		return "delay"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault says which requests a FaultProxy harms and how. A request matches
// when Method, PathContains and Match all accept it (an empty one accepts
// every request).
type Fault struct {
	Method string // HTTP method, e.g. "PUT"; "": any
	// PathContains is a substring of the request target as sent: the
	// escaped path and query, e.g. "/bucket/prefix/lock" or "list-type=2".
	PathContains string
	Match        func(*http.Request) bool // optional further test; the body is not readable
	// Times is how many matching requests the fault applies to: 0 means
	// once, a negative number every one from now on.
	Times    int
	Kind     FaultKind
	After    int64         // Stall: body bytes sent before the stall
	Duration time.Duration // Stall: its length (0: forever); Delay: the wait
}

// Request is one request the proxy received, as FaultProxy.Requests gives it.
type Request struct {
	Method string
	Target string    // escaped path and query, as sent
	Fault  FaultKind // what the proxy did to it (Pass: nothing)
	// Forwarded: the request was sent on to the server (never for Reset,
	// nor for a Delay the client gave up waiting for).
	Forwarded bool
}

// FaultProxy is an HTTP/1.1 proxy on 127.0.0.1 in front of one server
// (typically StartVersityGW's), forwarding every request unchanged (the
// Host header too, so S3 signatures stay valid) except those a queued Fault
// matches. Point the client at Addr instead of the server, e.g. with
// S3Server.Through. Safe for concurrent use.
type FaultProxy struct {
	t         testing.TB
	target    string
	listener  net.Listener
	server    *http.Server
	transport *http.Transport
	done      chan struct{} // closed when the proxy closes

	mu       sync.Mutex
	closed   bool     // after Close, nothing is logged: the test may be over
	faults   []*Fault // queued, in order; each with Times > 0 or < 0
	requests []Request
}

// NewFaultProxy starts a proxy to target (host:port, plain HTTP) on a free
// loopback port; it stops when the test ends, ending any stall.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fault proxy: listen: %v", err)
	}
	p := &FaultProxy{
		t:        t,
		target:   target,
		listener: l,
		done:     make(chan struct{}),
		transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			DisableCompression:  true, // forward bodies byte for byte
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	p.server = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: time.Minute}
	go p.server.Serve(l)
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *FaultProxy) Addr() string { return p.listener.Addr().String() }

// URL is the proxy's base URL, http://host:port.
func (p *FaultProxy) URL() string { return "http://" + p.Addr() }

// Next queues f: it applies to the next f.Times requests that match it and
// no earlier queued fault (faults are tried in the order they were queued;
// the first that matches and has uses left applies).
func (p *FaultProxy) Next(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &f)
}

// Pending is how many uses the queued faults have left (a fault with
// negative Times counts as one), so a test can check its faults fired.
func (p *FaultProxy) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, f := range p.faults {
		if f.Times < 0 {
			n++
		} else {
			n += f.Times
		}
	}
	return n
}

// Clear removes every queued fault.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

// Requests returns every request received so far, in the order received.
func (p *FaultProxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// Forwarded counts the requests that reached the server and match method
// and pathContains as a Fault would ("" matches any).
func (p *FaultProxy) Forwarded(method, pathContains string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.requests {
		if r.Forwarded && (method == "" || r.Method == method) && strings.Contains(r.Target, pathContains) {
			n++
		}
	}
	return n
}

// Close stops the proxy and ends every stall; NewFaultProxy arranges it at
// the end of the test. Closing twice is harmless.
func (p *FaultProxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	p.server.Close()
	p.transport.CloseIdleConnections()
}

// logf logs to the test unless the proxy is closed (logging after a test
// ends panics).
func (p *FaultProxy) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.t.Logf(format, args...)
	}
}

// take returns the fault for r (a zero Fault if none) and records r,
// returning its index in p.requests.
func (p *FaultProxy) take(r *http.Request) (Fault, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var got Fault
	for i, f := range p.faults {
		if (f.Method != "" && f.Method != r.Method) || !strings.Contains(r.RequestURI, f.PathContains) ||
			(f.Match != nil && !f.Match(r)) {
			continue
		}
		got = *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				p.faults = append(p.faults[:i:i], p.faults[i+1:]...)
			}
		}
		break
	}
	p.requests = append(p.requests, Request{Method: r.Method, Target: r.RequestURI, Fault: got.Kind})
	return got, len(p.requests) - 1
}

// forwarding records that request i is being sent to the server.
func (p *FaultProxy) forwarding(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests[i].Forwarded = true
}

// hopHeaders are the connection's own headers, never forwarded.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	f, i := p.take(r)
	switch f.Kind {
	case Reset:
		p.hangUp(w, true)
		return
	case Delay:
		select {
		case <-time.After(f.Duration):
		case <-r.Context().Done():
			return
		case <-p.done:
			return
		}
	}

	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = "http", p.target
	out.Host = r.Host // signed by the client
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	if r.ContentLength == 0 {
		out.Body = nil
	} else {
		// The body is read whole before it is forwarded. Streamed, it races
		// the answer: the transport reads once more after the last byte to
		// check the length, and a server that has answered by then has
		// closed the body, so the transport drops the connection mid-answer
		// (about one request in 1,000; a fault nobody asked for).
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // the client went away mid-body
		}
		out.Body = io.NopCloser(bytes.NewReader(body))
	}
	p.forwarding(i)
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		if r.Context().Err() == nil {
			p.logf("fault proxy: %s %s: %v", r.Method, r.RequestURI, err)
		}
		http.Error(w, "fault proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()

	if f.Kind == DropResponse {
		io.Copy(io.Discard, resp.Body) // the server finishes its work
		p.hangUp(w, false)
		return
	}

	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	for _, h := range hopHeaders {
		w.Header().Del(h)
	}
	w.WriteHeader(resp.StatusCode)
	if f.Kind == Stall {
		if _, err := io.CopyN(w, resp.Body, f.After); err != nil {
			return
		}
		http.NewResponseController(w).Flush()
		var end <-chan time.Time // nil: forever
		if f.Duration > 0 {
			end = time.After(f.Duration)
		}
		select {
		case <-end:
		case <-r.Context().Done():
			return
		case <-p.done:
			// Hang up rather than return: returning would end the body
			// short, which the client could take for the whole of it.
			p.hangUp(w, false)
			return
		}
	}
	if _, err := io.Copy(w, resp.Body); err != nil && !errors.Is(err, context.Canceled) && r.Context().Err() == nil {
		p.logf("fault proxy: %s %s: copy the response: %v", r.Method, r.RequestURI, err)
	}
}

// hangUp closes the client's connection, with a TCP reset if reset is set.
func (p *FaultProxy) hangUp(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		p.logf("fault proxy: hijack the connection: %v", err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		tc.SetLinger(0)
	}
	conn.Close()
}

// Through returns s with its Endpoint replaced by p's address, so that
// s.URL(prefix) names a store reached through p.
func (s S3Server) Through(p *FaultProxy) S3Server {
	s.Endpoint = p.Addr()
	return s
}

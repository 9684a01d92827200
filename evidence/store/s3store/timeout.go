package s3store

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

// newTransport is minio-go's transport with every wait on the server
// bounded by idle: dialling, the TLS handshake, the response headers, and
// (through idleTransport) each read of a response body.
func newTransport(secure bool, idle time.Duration) (http.RoundTripper, error) {
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, err
	}
	tr.DialContext = (&net.Dialer{Timeout: idle, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = idle
	tr.ResponseHeaderTimeout = idle
	tr.ExpectContinueTimeout = min(idle, time.Second)
	return &idleTransport{base: tr, idle: idle}, nil
}

// idleTransport ends a request whose response body sends nothing for idle:
// the body's next Read fails with an *idleError.
type idleTransport struct {
	base http.RoundTripper
	idle time.Duration
}

func (t *idleTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &idleBody{rc: resp.Body, cancel: cancel, idle: t.idle}
	return resp, nil
}

// idleError says a response body stalled.
type idleError struct{ idle time.Duration }

func (e *idleError) Error() string {
	return fmt.Sprintf("the server sent nothing for %v (idle_timeout)", e.idle)
}

// Unwrap makes errors.Is(err, context.DeadlineExceeded) hold, as for the
// other timeouts.
func (e *idleError) Unwrap() error { return context.DeadlineExceeded }

// idleBody is a response body whose reads each wait at most idle; the
// time between reads (the caller's) does not count.
type idleBody struct {
	rc     io.ReadCloser
	cancel context.CancelFunc
	idle   time.Duration

	mu      sync.Mutex
	timer   *time.Timer
	stalled bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.stalled {
		b.mu.Unlock()
		return 0, &idleError{b.idle}
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(b.idle, b.stall)
	} else {
		b.timer.Reset(b.idle)
	}
	b.mu.Unlock()
	n, err := b.rc.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.timer.Stop()
	if err != nil && err != io.EOF && b.stalled {
		err = &idleError{b.idle}
	}
	return n, err
}

func (b *idleBody) stall() {
	b.mu.Lock()
	b.stalled = true
	b.mu.Unlock()
	b.cancel()
}

func (b *idleBody) Close() error {
	b.mu.Lock()
	if b.timer != nil {
		b.timer.Stop()
	}
	b.mu.Unlock()
	err := b.rc.Close()
	b.cancel()
	return err
}

// bound gives one operation its total deadline.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// expired returns the error of operation op on what when its bounded
// context octx ended while the caller's ctx did not, else nil.
func (s *Store) expired(ctx, octx context.Context, op, what string) error {
	if ctx.Err() != nil || octx.Err() == nil {
		return nil
	}
	return fmt.Errorf("%s %s: not done within %v (timeout): %w", op, what, s.timeout, context.DeadlineExceeded)
}

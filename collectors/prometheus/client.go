package prometheus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// Retries of one request.
const (
	maxAttempts  = 3
	firstBackoff = 200 * time.Millisecond
)

// errTimeout marks a request that took longer than the configured
// timeout; it is not retried.
var errTimeout = errors.New("no answer within the timeout")

// retryClient is an api.Client that bounds every request by a timeout and
// retries one that failed on the way (connection refused, reset or
// dropped) or got a 5xx answer, up to maxAttempts times.
type retryClient struct {
	api.Client
	timeout time.Duration
	sleep   func(ctx context.Context, d time.Duration) error
}

// Do implements api.Client.
func (c *retryClient) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		r := req.Clone(ctx)
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, nil, fmt.Errorf("prepare request: %w", err)
			}
			r.Body = body
		}
		rctx, cancel := context.WithTimeout(ctx, c.timeout)
		resp, body, err := c.Client.Do(rctx, r)
		timedOut := rctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case err == nil && resp.StatusCode < 500:
			return resp, body, nil
		case timedOut:
			return nil, nil, fmt.Errorf("%s %s: %w (%s)", req.Method, req.URL.Path, errTimeout, c.timeout)
		case errors.Is(err, errTooLarge):
			return nil, nil, err
		case attempt == maxAttempts:
			if err == nil {
				return resp, body, nil // the API client reports the 5xx
			}
			return nil, nil, err
		}
		if err := c.sleep(ctx, backoff); err != nil {
			return nil, nil, err
		}
		backoff *= 2
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxResponse bounds the body of one answer: a week of 11,000 points for
// a few hundred series.
const maxResponse = 256 << 20

// limitTransport fails a response whose body is longer than max, instead
// of holding it all in memory.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: t.max}
	return resp, nil
}

// errTooLarge is the error of an answer over maxResponse.
var errTooLarge = fmt.Errorf("answer larger than %d MiB; narrow the query (fewer series) or the window", maxResponse>>20)

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// authTransport adds the Authorization header to every request.
type authTransport struct {
	base   http.RoundTripper
	header string
}

func (t authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", t.header)
	return t.base.RoundTrip(r)
}

// newAPI builds the Prometheus API client of a source: hc's timeouts and
// transport, the configured credentials resolved now, and retries.
func newAPI(base string, auth *sourceconfig.Auth, hc *http.Client, timeout time.Duration) (v1.API, error) {
	client := *hc
	rt := client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	client.Transport = limitTransport{base: rt, max: maxResponse}
	if auth != nil {
		var header string
		if !auth.Token.IsZero() {
			tok, err := auth.Token.Resolve()
			if err != nil {
				return nil, fmt.Errorf("auth.token: %w", err)
			}
			header = "Bearer " + tok
		} else {
			pw, err := auth.Password.Resolve()
			if err != nil {
				return nil, fmt.Errorf("auth.password: %w", err)
			}
			r := &http.Request{Header: http.Header{}}
			r.SetBasicAuth(auth.Username, pw)
			header = r.Header.Get("Authorization")
		}
		client.Transport = authTransport{base: client.Transport, header: header}
	}
	c, err := api.NewClient(api.Config{Address: base, Client: &client})
	if err != nil {
		return nil, fmt.Errorf("server URL: %w", err)
	}
	return v1.NewAPI(&retryClient{Client: c, timeout: timeout, sleep: sleepCtx}), nil
}

// redactURL is u without credentials, query or fragment: safe to show.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.User, p.RawQuery, p.Fragment = nil, "", ""
	return p.String()
}

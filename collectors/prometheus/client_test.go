package prometheus

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLimitTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 100))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		max  int64
		fail bool
	}{{99, true}, {100, false}, {1000, false}} {
		c := &http.Client{Transport: limitTransport{base: http.DefaultTransport, max: tc.max}}
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := errors.Is(err, errTooLarge); got != tc.fail || (!tc.fail && len(b) != 100) {
			t.Errorf("max %d: %d bytes, %v", tc.max, len(b), err)
		}
	}
}

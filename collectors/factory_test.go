package collectors_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

type nopCollector struct{ set collectors.Settings }

func (nopCollector) Collect(context.Context, collectors.Cursor, collectors.Sink) (collectors.Cursor, error) {
	return collectors.Cursor("{}"), nil
}

type cfg struct{ X string }

func TestNewFactoryFillsSettings(t *testing.T) {
	f := collectors.NewFactory("nop", func(*sourceconfig.SourceKeys) *cfg { return &cfg{} },
		func(c *cfg, set collectors.Settings) (collectors.Collector, error) { return nopCollector{set}, nil })
	if f.Type() != "nop" {
		t.Errorf("Type() = %q", f.Type())
	}
	c, err := f.New(&cfg{}, collectors.Settings{Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	set := c.(nopCollector).set
	if set.Logger == nil || set.Now == nil || set.HTTPClient == nil || set.Name != "n" {
		t.Errorf("settings not filled in: %+v", set)
	}
	if _, err := f.New(struct{}{}, collectors.Settings{Name: "n"}); err == nil {
		t.Error("New accepted a config of another type")
	}
	if _, err := f.New((*cfg)(nil), collectors.Settings{Name: "n"}); err == nil {
		t.Error("New accepted a nil config")
	}
}

func TestHTTPClientHasTimeouts(t *testing.T) {
	c := collectors.NewHTTPClient()
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T", c.Transport)
	}
	if c.Timeout <= 0 || tr.ResponseHeaderTimeout <= 0 || tr.TLSHandshakeTimeout <= 0 || tr.DialContext == nil {
		t.Errorf("a request could hang: timeout %v, header %v, TLS %v", c.Timeout, tr.ResponseHeaderTimeout, tr.TLSHandshakeTimeout)
	}
	if c.Timeout < tr.ResponseHeaderTimeout {
		t.Errorf("whole-request timeout %v is shorter than the header timeout %v", c.Timeout, tr.ResponseHeaderTimeout)
	}
}

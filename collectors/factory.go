package collectors

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// Factory makes the collectors of one source type. Every collector
// package exports one (gitlog.NewFactory), and collectors/registry lists
// them: the config file and the pipeline find every source type there.
//
// A factory is two steps, as in the OpenTelemetry collector: what the
// user writes (the type's own config struct, decoded and checked when the
// config file is loaded) and what the code wires (Settings, when the
// collector is built).
type Factory interface {
	// Type is the source type, as written in `type:` ("git").
	Type() string
	// DecodeSource decodes and checks the type's own keys of one source;
	// see sourceconfig.SourceDecoder. What it returns is handed back to New.
	sourceconfig.SourceDecoder
	// New builds the collector of one source from what DecodeSource
	// returned for it. It touches nothing (no repository, no network):
	// a source that is not there is Collect's error, not New's.
	New(cfg any, set Settings) (Collector, error)
}

// Settings is what the code, not the user, gives every collector it
// builds.
type Settings struct {
	// Name is the configured source name; items carry it as "source".
	Name string
	// Logger is already scoped to the source (source=Name).
	Logger *slog.Logger
	// Now is the clock; it stamps items' collected_at.
	Now func() time.Time
	// HTTPClient is the client for collectors that call a server; it has
	// timeouts (NewHTTPClient) and is shared by the run's collectors.
	HTTPClient *http.Client
	// Apprentice is whose evidence is collected.
	Apprentice Apprentice
}

// Apprentice is who a collector collects for.
type Apprentice struct {
	ID     string   // the ledger's apprentice ID, written into every item
	Name   string   // may be empty
	Emails []string // lower-cased, at least one
}

// NewFactory makes a Factory from a type name, a decoder of the type's
// config struct C and a constructor. decode gets the source's keys, calls
// k.Decode on a *C, checks it through k and returns it; create gets that
// *C back.
func NewFactory[C any](typ string, decode func(k *sourceconfig.SourceKeys) *C, create func(cfg *C, set Settings) (Collector, error)) Factory {
	return &factory[C]{typ: typ, decode: decode, create: create}
}

type factory[C any] struct {
	typ    string
	decode func(*sourceconfig.SourceKeys) *C
	create func(*C, Settings) (Collector, error)
}

func (f *factory[C]) Type() string { return f.typ }

func (f *factory[C]) DecodeSource(k *sourceconfig.SourceKeys) any { return f.decode(k) }

func (f *factory[C]) New(cfg any, set Settings) (Collector, error) {
	c, ok := cfg.(*C)
	if !ok || c == nil {
		return nil, fmt.Errorf("%s source %s: config is %T, want %T", f.typ, set.Name, cfg, c)
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	if set.HTTPClient == nil {
		set.HTTPClient = NewHTTPClient()
	}
	return f.create(c, set)
}

// HTTP timeouts of NewHTTPClient.
const (
	httpConnectTimeout = 10 * time.Second
	httpHeaderTimeout  = 30 * time.Second
	httpRequestTimeout = 2 * time.Minute
)

// NewHTTPClient returns an HTTP client whose requests cannot hang: 10 s to
// connect (and for the TLS handshake), 30 s for the response headers and
// 2 minutes for a whole request, body included. It honours the proxy
// environment variables.
func NewHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: httpConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   httpConnectTimeout,
		ResponseHeaderTimeout: httpHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: t, Timeout: httpRequestTimeout}
}

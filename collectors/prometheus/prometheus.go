// Package prometheus collects live-monitoring evidence from a Prometheus
// server through client_golang's HTTP API client: configured PromQL
// queries summarised over windows (monitoring_window items with an SVG
// chart), firing alerts (incident items) and the alerting and recording
// rules (a monitoring_setup item). It also reads saved results: query_range
// responses and exposition-format snapshots. See README.md.
package prometheus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// Collector collects one Prometheus source.
type Collector struct {
	cfg  Config
	st   settings
	set  collectors.Settings
	log  *slog.Logger
	now  func() time.Time
	base string // the server URL, safe to show
}

// New checks cfg and returns its collector; it touches neither the server
// nor the files.
func New(cfg Config, set collectors.Settings) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus source %s: %w", cfg.Name, err)
	}
	st, _ := cfg.Source.check()
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	if set.HTTPClient == nil {
		set.HTTPClient = collectors.NewHTTPClient()
	}
	return &Collector{cfg: cfg, st: st, set: set, log: set.Logger, now: set.Now, base: redactURL(cfg.Source.URL)}, nil
}

// cursor is where the next run starts.
type cursor struct {
	// Windows maps a query (by nameKey) to the end of the last window
	// collected.
	Windows map[string]time.Time `json:"windows,omitempty"`
	// Alerts is the end of the last window searched for firing alerts.
	Alerts *time.Time `json:"alerts,omitempty"`
	// Rules is the digest of the rules last recorded.
	Rules string `json:"rules,omitempty"`
	// Files maps a saved file's absolute path to the SHA-256 of the
	// content last read.
	Files map[string]string `json:"files,omitempty"`
}

// nameKey is how a query is named in the cursor: a digest of its name,
// so that a name holding something secret is not stored in the clear.
func nameKey(name string) string {
	sum := sha256.Sum256([]byte("query\x00" + name))
	return hex.EncodeToString(sum[:8])
}

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context, raw collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var cur cursor
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &cur); err != nil {
			return nil, fmt.Errorf("read cursor: %w", err)
		}
	}
	skips := &collectors.Skips{}
	skip := func(what, reason string) {
		sk := collectors.Skipped{What: what, Reason: reason}
		skips.Add(sk)
		sink.Skip(sk)
		c.log.Warn("skipped", "what", what, "reason", reason)
	}
	var err error
	if len(c.cfg.Source.Files) > 0 {
		err = c.collectFiles(ctx, &cur, sink, skip)
	} else {
		err = c.collectServer(ctx, &cur, sink, skip)
	}
	if err != nil {
		return nil, err
	}
	next, err := json.Marshal(cur)
	if err != nil {
		return nil, fmt.Errorf("write cursor: %w", err)
	}
	return next, skips.Err()
}

// item starts an item of this source.
func (c *Collector) item(kind evidence.Kind, nativeID, uri string, occurred time.Time) evidence.Item {
	it := evidence.Item{
		Schema:      evidence.SchemaVersion,
		ID:          evidence.NewID(SourceType, nativeID),
		Apprentice:  c.cfg.Apprentice,
		Source:      c.cfg.Name,
		SourceType:  SourceType,
		Kind:        kind,
		OccurredAt:  occurred.UTC(),
		CollectedAt: c.now().UTC(),
		Origin:      evidence.Origin{URI: uri, NativeID: nativeID},
		Facts:       map[string]any{},
	}
	it.Normalize()
	return it
}

// bytesFile is an artefact held in memory.
func bytesFile(name, mediaType string, b []byte) collectors.File {
	return collectors.File{Name: name, MediaType: mediaType, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

package gitlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ksbfolio/ksbfolio/collectors"
)

// Multi collects several repositories as one source (paths: or urls:),
// one after the other. Its cursor holds each repository's own, keyed by
// the SHA-256 of its path or URL. A commit found in two repositories (a
// fork, a mirror) is emitted once. A repository that cannot be read at all
// is skipped with its reason, keeps its last cursor, and the run returns a
// *collectors.PartialError: the others are collected.
type Multi struct {
	subs []*Collector
	keys []string
}

var _ collectors.Collector = (*Multi)(nil)

// NewMulti checks each configuration (as New does) and returns their
// collector. Each cfg names one repository (Path or Remote).
func NewMulti(cfgs []Config, newOne func(Config) (*Collector, error)) (*Multi, error) {
	m := &Multi{}
	seen := map[string]bool{}
	var errs []error
	for i, cfg := range cfgs {
		c, err := newOne(cfg)
		if err != nil {
			errs = append(errs, fmt.Errorf("repository %d: %w", i+1, err))
			continue
		}
		id := "path:" + c.abs
		if cfg.Remote != nil {
			id = "url:" + cfg.Remote.URL
		}
		if seen[id] {
			errs = append(errs, fmt.Errorf("repository %d: listed twice", i+1))
			continue
		}
		seen[id] = true
		sum := sha256.Sum256([]byte(id))
		m.subs = append(m.subs, c)
		m.keys = append(m.keys, hex.EncodeToString(sum[:]))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// Collect implements collectors.Collector.
func (m *Multi) Collect(ctx context.Context, cursor collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	old := map[string]json.RawMessage{}
	if len(cursor) > 0 {
		if err := json.Unmarshal(cursor, &old); err != nil {
			old = map[string]json.RawMessage{} // unreadable: every repository walks in full
		}
	}
	next := map[string]json.RawMessage{}
	ds := &dedupSink{Sink: sink, seen: map[string]bool{}}
	var skips collectors.Skips
	var partial []string
	for i, c := range m.subs {
		key := m.keys[i]
		cur, err := c.Collect(ctx, old[key], ds)
		var pe *collectors.PartialError
		switch {
		case err == nil:
		case ds.err != nil && errors.Is(err, ds.err):
			return nil, err // the sink's error, unchanged
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &pe):
			partial = append(partial, pe.Error())
		default:
			sk := collectors.Skipped{What: "repository " + c.where(), Reason: err.Error()}
			sink.Skip(sk)
			skips.Add(sk)
			cur = old[key] // nothing of it was collected: start from where it was
		}
		if len(cur) > 0 {
			next[key] = cur
		}
	}
	b, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("encode cursor: %w", err)
	}
	if len(partial) > 0 || skips.Err() != nil {
		msgs := partial
		if e := skips.Err(); e != nil {
			msgs = append(msgs, e.Error())
		}
		return b, &collectors.PartialError{Failed: len(msgs), Err: errors.New(strings.Join(msgs, "; "))}
	}
	return b, nil
}

// where names the repository in messages: its path or URL.
func (c *Collector) where() string {
	if c.cfg.Remote != nil {
		return c.cfg.Remote.URL
	}
	return c.abs
}

// dedupSink drops an item already emitted in this run (the same commit in
// two repositories) and remembers the sink's error.
type dedupSink struct {
	collectors.Sink
	seen map[string]bool
	err  error
}

func (d *dedupSink) Emit(ctx context.Context, e collectors.Emission) error {
	if d.seen[e.Item.ID] {
		return nil
	}
	if err := d.Sink.Emit(ctx, e); err != nil {
		d.err = err
		return err
	}
	d.seen[e.Item.ID] = true
	return nil
}

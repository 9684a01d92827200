package redact

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"strings"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/textcap"
)

// The redaction boundary. Everything a collector hands over reaches the
// store, the run report, stdout and the logs only through these: Guard for
// what it emits, skips and warns about; Error for the error it returns;
// Cursor for the cursor it returns; Logger for everything logged.

// Caps applied after redaction, so a cut never leaves part of a secret.
const (
	MaxTitleRunes   = 200
	MaxSummaryBytes = 64 << 10
	MaxMessageBytes = 2 << 10 // warnings and skip reasons
)

// Guard returns the sink a collector is given: each emission's item is
// redacted (Item, then Title and Summary are capped, recorded in the facts
// title_truncated and summary_truncated), and each of its files is read
// (at most maxArtefact bytes) and prepared (Artefact) before next sees it:
// next gets the redacted UTF-8 text, or the binary bytes, with the
// original encoding of decoded text in the fact artefact_encodings (name →
// encoding). A file that cannot be read, is too large, or is binary with a
// secret in it is not passed on but reported to next.Skip, naming the rule.
// Skip reasons and warnings are redacted and capped too.
func (r *Redactor) Guard(next collectors.Sink, maxArtefact int64) collectors.Sink {
	return &guard{r: r, next: next, max: maxArtefact}
}

type guard struct {
	r    *Redactor
	next collectors.Sink
	max  int64
}

func (g *guard) Emit(ctx context.Context, e collectors.Emission) error {
	it := e.Item
	counts := Counts{}
	encodings := map[string]any{}
	var files []collectors.File
	for _, f := range e.Files {
		name := g.r.Message(f.Name)
		p, err := g.prepare(name, f)
		if err != nil {
			g.Skip(collectors.Skipped{What: "artefact " + name, Reason: err.Error()})
			continue
		}
		counts.Add(p.Counts)
		mt := f.MediaType
		if p.Text && p.Encoding != EncodingUTF8 {
			encodings[name] = p.Encoding
			mt = utf8MediaType(mt)
		}
		data := p.Data
		files = append(files, collectors.File{Name: name, MediaType: mt,
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
	}
	if len(encodings) > 0 {
		setFact(&it, "artefact_encodings", encodings)
	}
	g.r.Item(&it)
	if len(counts) > 0 {
		it.Redactions = merge(it.Redactions, counts)
	}
	if t, cut := textcap.Runes(it.Title, MaxTitleRunes, outsideMask); cut {
		it.Title = t
		setFact(&it, "title_truncated", true)
	}
	if s, cut := textcap.Bytes(it.Summary, MaxSummaryBytes, outsideMask); cut {
		it.Summary = s
		setFact(&it, "summary_truncated", true)
	}
	return g.next.Emit(ctx, collectors.Emission{Item: it, Files: files})
}

// prepare reads and prepares one file.
func (g *guard) prepare(name string, f collectors.File) (Prepared, error) {
	rc, err := f.Open()
	if err != nil {
		return Prepared{}, err
	}
	b, err := io.ReadAll(io.LimitReader(rc, g.max+1))
	rc.Close()
	if err != nil {
		return Prepared{}, fmt.Errorf("read: %w", err)
	}
	if int64(len(b)) > g.max {
		return Prepared{}, fmt.Errorf("larger than %d MiB", g.max>>20)
	}
	p := g.r.Artefact(name, b)
	if p.Refused != "" {
		return Prepared{}, fmt.Errorf("binary content holds a secret (%s) that cannot be masked; not stored", p.Refused)
	}
	return p, nil
}

func (g *guard) Skip(s collectors.Skipped) {
	s.What = g.r.Message(s.What)
	s.Reason = g.r.Message(s.Reason)
	g.next.Skip(s)
}

func (g *guard) Warn(msg string) { g.next.Warn(g.r.Message(msg)) }

// Message redacts s, then caps it at MaxMessageBytes: for warnings, skip
// reasons and other one-line messages.
func (r *Redactor) Message(s string) string {
	s, _ = r.mask(s, nil)
	s, _ = textcap.Bytes(s, MaxMessageBytes, outsideMask)
	return s
}

// Error returns err's message, redacted (not capped: it may list several
// problems). A nil error gives "".
func (r *Redactor) Error(err error) string {
	if err == nil {
		return ""
	}
	s, _ := r.mask(err.Error(), nil)
	return s
}

// Cursor redacts every string (and object key) in a cursor's JSON, and
// returns it unchanged, byte for byte, when there is nothing to mask. A
// cursor that is not JSON is redacted as text. A ref name with a secret in
// it is then stored masked, and its collector sees the masked name next
// time (and collects that ref again).
func (r *Redactor) Cursor(c json.RawMessage) json.RawMessage {
	if len(c) == 0 {
		return c
	}
	dec := json.NewDecoder(bytes.NewReader(c))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		s, _ := r.String(string(c))
		return json.RawMessage(s)
	}
	counts := Counts{}
	v, _ = r.value(v, counts)
	if len(counts) == 0 {
		return c
	}
	out, err := json.Marshal(v)
	if err != nil { // cannot happen: v came from JSON
		return nil
	}
	return out
}

// Logger returns a logger that redacts the message and every attribute of
// each record (strings, errors, anything printed) before l's handler sees
// it.
func (r *Redactor) Logger(l *slog.Logger) *slog.Logger {
	return slog.New(&logHandler{r: r, h: l.Handler()})
}

type logHandler struct {
	r *Redactor
	h slog.Handler
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, rec slog.Record) error {
	msg, _ := h.r.mask(rec.Message, nil)
	out := slog.NewRecord(rec.Time, rec.Level, msg, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &logHandler{r: h.r, h: h.h.WithAttrs(red)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{r: h.r, h: h.h.WithGroup(name)}
}

func (h *logHandler) attr(a slog.Attr) slog.Attr {
	a.Key, _ = h.r.mask(a.Key, nil)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		s, _ := h.r.mask(v.String(), nil)
		a.Value = slog.StringValue(s)
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, x := range g {
			red[i] = h.attr(x)
		}
		a.Value = slog.GroupValue(asAttrs(red)...)
	case slog.KindAny:
		var s string
		if err, ok := v.Any().(error); ok {
			s = h.r.Error(err)
		} else {
			s, _ = h.r.mask(fmt.Sprint(v.Any()), nil)
		}
		a.Value = slog.StringValue(s)
	default:
		a.Value = v
	}
	return a
}

func asAttrs(xs []any) []slog.Attr {
	out := make([]slog.Attr, len(xs))
	for i, x := range xs {
		out[i] = x.(slog.Attr)
	}
	return out
}

// setFact sets a fact on a copy of it's facts: Redactor.Item keeps a map
// with nothing to mask, so it.Facts may still be the collector's own map,
// which the guard must not write into.
func setFact(it *evidence.Item, key string, v any) {
	facts := make(map[string]any, len(it.Facts)+1)
	maps.Copy(facts, it.Facts)
	facts[key] = v
	it.Facts = facts
}

// utf8MediaType gives the media type of text re-encoded as UTF-8.
func utf8MediaType(mt string) string {
	base, params, err := mime.ParseMediaType(mt)
	if err != nil || base == "application/octet-stream" || base == "" {
		return "text/plain; charset=utf-8"
	}
	params["charset"] = "utf-8"
	return mime.FormatMediaType(base, params)
}

// outsideMask moves a cut at i back to the start of the mask it would
// split, if any, so that a capped text never ends in half a mask.
func outsideMask(s string, i int) int {
	const open = "[REDACTED:"
	j := strings.LastIndex(s[:min(len(s), i+len(open)-1)], open)
	if j < 0 || j >= i {
		return i
	}
	if k := strings.IndexByte(s[j:], ']'); k < 0 || j+k >= i {
		return j
	}
	return i
}

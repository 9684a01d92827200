// Package logs is the collector of log files (type: logs): deployment,
// model-serving, pipeline and CI logs on local disks, read incrementally,
// turned from lines into events: deployments, rollbacks, model versions,
// scaling, incidents, inference windows, Airflow pipeline runs and GitHub
// Actions jobs. See README.md.
package logs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// Sizes of what is read to know a file.
const (
	fingerprintBytes = 1024     // head bytes that identify a file's content
	sampleBytes      = 64 << 10 // head bytes the format is detected from
	sampleLines      = 50
	checkEvery       = 4096 // lines between context checks
)

// Collector collects one logs source.
type Collector struct {
	cfg      Config
	set      collectors.Settings
	patterns []*pattern
	stems    *stemIndex
	format   string
	maxLine  int
	gap      time.Duration
	pii      bool
	// noSkim sends every record down the extractor's full path (tests
	// compare the two).
	noSkim bool
}

var _ collectors.Collector = (*Collector)(nil)

// New builds a collector; it touches no file.
func New(cfg Config, set collectors.Settings) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("logs source %s: %w", cfg.Name, err)
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	if set.HTTPClient == nil {
		set.HTTPClient = collectors.NewHTTPClient()
	}
	c := &Collector{cfg: cfg, set: set, format: formatNames[cfg.Format], maxLine: cfg.MaxLineBytes,
		gap: defaultIncidentGap, pii: cfg.PII != piiKeep, stems: newStemIndex()}
	if c.maxLine == 0 {
		c.maxLine = defaultMaxLine
	}
	if cfg.IncidentGap != "" {
		c.gap, _ = time.ParseDuration(cfg.IncidentGap)
	}
	for _, pc := range cfg.Events {
		p, err := pc.compile()
		if err != nil {
			return nil, fmt.Errorf("logs source %s: %w", cfg.Name, err)
		}
		c.patterns = append(c.patterns, p)
	}
	if !cfg.DisableBuiltinEvents {
		c.patterns = append(c.patterns, builtinPatterns()...)
	}
	return c, nil
}

// cursorState is the collector's cursor: where each file was left, and
// which CI archives were read.
type cursorState struct {
	Version  int          `json:"v"`
	Files    []fileCursor `json:"files"`
	Archives []string     `json:"archives,omitempty"`
	// CloudWatch is where the configured log group was left.
	CloudWatch *cloudWatchCursor `json:"cloudwatch,omitempty"`
	// S3 is where each object under the configured prefix was left.
	S3 []s3Cursor `json:"s3,omitempty"`
}

// fileCursor identifies a file by device and inode and by a hash of its
// first FPLen bytes (decompressed), so that a renamed (rotated) or
// compressed file keeps its place and a truncated or replaced one starts
// again.
type fileCursor struct {
	Path   string `json:"path"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	FPLen  int    `json:"fp_len"`
	FP     string `json:"fp"`
	Offset int64  `json:"offset"`
}

// run is the state of one Collect.
type run struct {
	c       *Collector
	ctx     context.Context
	sink    collectors.Sink
	skips   collectors.Skips
	seen    map[string]bool // item IDs emitted
	old     cursorState
	claimed map[int]bool // old entries already matched
	next    cursorState
	runs    map[airflowRunKey]bool // Airflow runs with new lines
}

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context, cursor collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &run{c: c, ctx: ctx, sink: sink, seen: map[string]bool{}, claimed: map[int]bool{},
		next: cursorState{Version: 1, Files: []fileCursor{}}, runs: map[airflowRunKey]bool{}}
	if len(bytes.TrimSpace(cursor)) > 0 && string(bytes.TrimSpace(cursor)) != "null" {
		if err := json.Unmarshal(cursor, &r.old); err != nil {
			return nil, fmt.Errorf("read cursor: %w", err)
		}
	}
	var targets []target
	if len(c.cfg.Paths) > 0 {
		t, err := c.discover(sink, &r.skips)
		if err != nil {
			return nil, err
		}
		targets = t
	}
	var files []target
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch t.Kind {
		case targetFile:
			files = append(files, t)
			if err := r.file(t); err != nil {
				return nil, err
			}
		default:
			if err := r.gha(t); err != nil {
				return nil, err
			}
		}
	}
	if err := r.airflow(files); err != nil {
		return nil, err
	}
	if c.cfg.CloudWatch != nil {
		if err := r.cloudwatch(); err != nil {
			return nil, err
		}
	}
	if c.cfg.S3 != nil {
		if err := r.s3(); err != nil {
			return nil, err
		}
	}
	out, err := json.Marshal(r.next)
	if err != nil {
		return nil, fmt.Errorf("encode cursor: %w", err)
	}
	return out, r.skips.Err()
}

func (r *run) skip(what, why string) {
	s := collectors.Skipped{What: what, Reason: why}
	r.sink.Skip(s)
	r.skips.Add(s)
}

// openStream opens a file and returns its content, decompressed when it
// is gzip.
func openStream(path string) (io.Reader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		zr.Multistream(true)
		return zr, f, nil
	}
	return br, f, nil
}

// head reads up to n bytes of a stream, and says whether the file is
// gzip-compressed.
func head(path string, n int) ([]byte, bool, error) {
	rd, cl, err := openStream(path)
	if err != nil {
		return nil, false, err
	}
	defer cl.Close()
	b, err := io.ReadAll(io.LimitReader(rd, int64(n)))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return b, isGzipReader(rd), err
	}
	return b, isGzipReader(rd), nil
}

func fingerprint(b []byte) (int, string) {
	n := min(len(b), fingerprintBytes)
	return n, fingerprintOf(b[:n])
}

func fingerprintOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// match finds where a file was left: the old entry with the same device
// and inode whose head still matches, else any unclaimed entry whose head
// matches (a rotated copy, a compressed one).
func (r *run) match(dev, ino uint64, headBytes []byte) (fileCursor, bool) {
	ok := func(e fileCursor) bool {
		if e.FPLen > len(headBytes) || e.FPLen == 0 {
			return false
		}
		sum := sha256.Sum256(headBytes[:e.FPLen])
		return hex.EncodeToString(sum[:]) == e.FP
	}
	for i, e := range r.old.Files {
		if !r.claimed[i] && e.Ino != 0 && e.Dev == dev && e.Ino == ino && ok(e) {
			r.claimed[i] = true
			return e, true
		}
	}
	for i, e := range r.old.Files {
		if !r.claimed[i] && ok(e) {
			r.claimed[i] = true
			return e, true
		}
	}
	return fileCursor{}, false
}

// file reads one log file from where the cursor left it.
func (r *run) file(t target) error {
	c := r.c
	sample, gz, err := head(t.Path, sampleBytes)
	if err != nil {
		r.skip(t.Path, fmt.Sprintf("cannot read: %v", err))
		return nil
	}
	if len(sample) == 0 {
		return nil
	}
	if bytes.IndexByte(sample[:min(len(sample), 8<<10)], 0) >= 0 {
		r.skip(t.Path, "binary data, not a text log")
		return nil
	}
	dev, ino := fileID(t.Info)
	fpLen, fp := fingerprint(sample)
	start := int64(0)
	if old, ok := r.match(dev, ino, sample); ok {
		start = old.Offset
		if t.Info.Size() < start && !gz {
			start = 0 // cannot happen with a matching head, but be safe
		}
	}
	entry := fileCursor{Path: t.Path, Dev: dev, Ino: ino, FPLen: fpLen, FP: fp, Offset: start}
	if !gz && start == t.Info.Size() {
		r.next.Files = append(r.next.Files, entry)
		return nil
	}
	format, stamped := c.detect(sample, t.Info.ModTime())
	end, err := r.read(t, start, format, stamped, fp)
	if err != nil {
		return err
	}
	if isAirflowTask(t.Path) && (start == 0 || end != start) {
		r.runs[airflowKey(t.Path)] = true // its DAG run's item is built again
	}
	entry.Offset = end
	r.next.Files = append(r.next.Files, entry)
	return nil
}

// detect returns the format of a stream from its first bytes, and whether
// its lines carry timestamps (then unstamped lines continue a record).
func (c *Collector) detect(sample []byte, mod time.Time) (format string, stamped bool) {
	lines := splitSample(sample)
	format = c.format
	if format == formatAuto {
		format = detectFormat(lines, mod.UTC().Year())
	}
	for _, s := range lines {
		if _, _, ok := leadingTime(strings.TrimPrefix(s, "\ufeff"), mod.UTC().Year()); ok {
			return format, true
		}
	}
	return format, false
}

func splitSample(b []byte) []string {
	var out []string
	for len(b) > 0 && len(out) < sampleLines {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // the last line may be cut
		}
		out = append(out, strings.TrimSuffix(toText(b[:i]), "\r"))
		b = b[i+1:]
	}
	if len(out) == 0 && len(b) > 0 {
		out = append(out, toText(b[:min(len(b), 4096)]))
	}
	return out
}

// read streams a file from start and returns the offset the next run
// starts from.
func (r *run) read(t target, start int64, format string, stamped bool, fp string) (int64, error) {
	rd, cl, err := openStream(t.Path)
	if err != nil {
		r.skip(t.Path, fmt.Sprintf("cannot read: %v", err))
		return start, nil
	}
	defer cl.Close()
	if start > 0 {
		if f, ok := cl.(*os.File); ok && !isGzipReader(rd) {
			if _, err := f.Seek(start, io.SeekStart); err != nil {
				r.skip(t.Path, fmt.Sprintf("cannot seek: %v", err))
				return start, nil
			}
			rd = f
		} else if n, err := io.CopyN(io.Discard, rd, start); err != nil || n < start {
			// A compressed copy shorter than what was read: nothing new.
			return start, nil
		}
	}
	end, off, err := r.scan(t, rd, start, format, stamped, fp)
	if err != nil {
		return 0, err
	}
	if f, ok := cl.(*os.File); ok && !isGzipReader(rd) {
		if fi, err := f.Stat(); err == nil && fi.Size() < off {
			r.skip(t.Path, "truncated while being read; read again from the start next run")
			return 0, nil
		}
	}
	return end, nil
}

// scan streams rd, positioned at start, through the record assembler and
// the extractor, and returns the offset the next run starts from and the
// offset reached.
func (r *run) scan(t target, rd io.Reader, start int64, format string, stamped bool, fp string) (int64, int64, error) {
	c := r.c
	year := t.Info.ModTime().UTC().Year()
	ex := &extractor{patterns: c.patterns, stems: c.stems, gap: c.gap, fp: fp, fallback: t.Info.ModTime().UTC()}
	ex.out = func(ev *event) error { return r.emit(ev, t) }
	asm := &assembler{format: format, year: year, stamped: stamped, emit: ex.record}
	if !c.noSkim {
		asm.skim = ex.skim
	}
	lr := newLineReader(rd, start, c.maxLine)
	var binary, cut int
	end := start
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := r.ctx.Err(); err != nil {
				return 0, 0, err
			}
		}
		l, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.skip(t.Path, fmt.Sprintf("read stopped at byte %d: %v", end, err))
			break
		}
		if l.Closed {
			end = l.End
		}
		if l.Cut {
			cut++
		}
		b := l.Text
		if l.Start == 0 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		// text is the reader's buffer until the next line: add copies what
		// it keeps.
		text := view(b)
		if !printableASCII(text) { // else text it is, and valid UTF-8
			if binaryLine(text) {
				binary++
				continue
			}
			text = toText(b)
		}
		if err := asm.add(l, text); err != nil {
			return 0, 0, err
		}
	}
	if err := asm.flush(); err != nil {
		return 0, 0, err
	}
	hold, err := ex.finish()
	if err != nil {
		return 0, 0, err
	}
	if hold >= 0 && hold < end {
		end = hold
	}
	if binary > 0 {
		r.skip(t.Path, fmt.Sprintf("%d lines of binary data skipped", binary))
	}
	if cut > 0 {
		r.skip(t.Path, fmt.Sprintf("%d lines longer than %d bytes cut to that length", cut, c.maxLine))
	}
	return end, lr.off, nil
}

func isGzipReader(rd io.Reader) bool {
	_, ok := rd.(*gzip.Reader)
	return ok
}

// emit turns an event into an item, once per ID per collection.
func (r *run) emit(ev *event, t target) error {
	it, files := r.c.item(ev, t)
	if r.seen[it.ID] {
		return nil
	}
	r.seen[it.ID] = true
	return r.sink.Emit(r.ctx, collectors.Emission{Item: it, Files: files})
}

// textFile is an in-memory text artefact.
func textFile(name, content string) collectors.File {
	return collectors.File{Name: name, MediaType: "text/plain; charset=utf-8", Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(content)), nil
	}}
}

// base fills the fields every item of this source has.
func (c *Collector) base(kind evidence.Kind, native string, at time.Time, uri string) evidence.Item {
	return evidence.Item{
		Schema:      evidence.SchemaVersion,
		ID:          evidence.NewID(SourceType, native),
		Apprentice:  c.cfg.Apprentice,
		Source:      c.cfg.Name,
		SourceType:  SourceType,
		Kind:        kind,
		OccurredAt:  at.UTC(),
		CollectedAt: c.set.Now().UTC(),
		Origin:      evidence.Origin{URI: uri, NativeID: native},
	}
}

// text masks PII in s unless the source keeps it.
func (c *Collector) text(s string) string {
	if !c.pii {
		return s
	}
	return maskPII(s)
}

package prometheus

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// Limits on saved files.
const (
	maxSavedFile = 64 << 20 // bytes of one saved file
	// maxExpoLine bounds one line of an exposition file: the OpenMetrics
	// parser's time grows faster than linearly with line length.
	maxExpoLine = 64 << 10
)

// collectFiles reads the saved results the globs match, in path order,
// each once per content: a file already read with the same SHA-256 is
// passed over.
func (c *Collector) collectFiles(ctx context.Context, cur *cursor, sink collectors.Sink, skip func(what, reason string)) error {
	var paths []string
	seenPath := map[string]bool{}
	for _, g := range c.cfg.Source.Files {
		base, pattern := doublestar.SplitPattern(filepath.ToSlash(g))
		if info, err := os.Stat(base); err != nil || !info.IsDir() {
			return fmt.Errorf("files %s: folder %s: %w", g, base, collectors.ErrSourceMissing)
		}
		matches, err := doublestar.Glob(os.DirFS(base), pattern, doublestar.WithFilesOnly(), doublestar.WithFailOnIOErrors())
		if err != nil {
			return fmt.Errorf("files %s: %w", g, err)
		}
		if len(matches) == 0 {
			sink.Warn(fmt.Sprintf("files %s: no file matches", g))
		}
		for _, m := range matches {
			p := filepath.Join(base, filepath.FromSlash(m))
			if !seenPath[p] {
				seenPath[p] = true
				paths = append(paths, p)
			}
		}
	}
	sort.Strings(paths)
	if cur.Files == nil {
		cur.Files = map[string]string{}
	}
	emitted := map[string]bool{}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := readSaved(p)
		if err != nil {
			skip(p, oneLine(err))
			continue
		}
		sum := sha256.Sum256(b)
		digest := hex.EncodeToString(sum[:])
		if cur.Files[p] == digest {
			continue
		}
		e, err := c.savedEmission(p, b, digest)
		if err != nil {
			skip(p, oneLine(err))
			continue
		}
		if !emitted[e.Item.ID] {
			emitted[e.Item.ID] = true
			if err := sink.Emit(ctx, e); err != nil {
				return err
			}
		}
		cur.Files[p] = digest
	}
	return nil
}

// readSaved reads one saved file, refusing what is not a regular file or
// is too large.
func readSaved(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSavedFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSavedFile {
		return nil, fmt.Errorf("larger than %d MiB", maxSavedFile>>20)
	}
	return b, nil
}

// savedEmission parses one saved file into its item.
func (c *Collector) savedEmission(p string, b []byte, digest string) (collectors.Emission, error) {
	native := "saved/" + filepath.Base(p) + "@" + digest[:32]
	uri := "file://" + filepath.ToSlash(p)
	trimmed := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(trimmed) > 0 && (trimmed[0] == '[' || trimmed[0] == '{') {
		ss, err := ParseQueryRange(b)
		if err != nil {
			return collectors.Emission{}, err
		}
		return c.savedRange(p, native, uri, ss)
	}
	snap, err := ParseExposition(b)
	if err != nil {
		return collectors.Emission{}, err
	}
	info, err := os.Stat(p)
	if err != nil {
		return collectors.Emission{}, err
	}
	return c.savedSnapshot(p, native, uri, snap, info.ModTime()), nil
}

// savedRange is a saved query_range result as one monitoring window
// spanning its samples.
func (c *Collector) savedRange(p, native, uri string, ss []series) (collectors.Emission, error) {
	var start, end time.Time
	for _, s := range ss {
		for _, pt := range s.Points {
			if start.IsZero() || pt.T.Before(start) {
				start = pt.T
			}
			if pt.T.After(end) {
				end = pt.T
			}
		}
	}
	if start.IsZero() {
		return collectors.Emission{}, errors.New("no samples")
	}
	st := summarize(ss, 0, nil)
	it := c.item(evidence.KindMonitoringWindow, native, uri, start)
	name := metricNames(ss)
	it.Title = fmt.Sprintf("%s: %s to %s (saved)", name, start.Format("2006-01-02 15:04"), end.Format("2006-01-02 15:04"))
	it.Summary = windowSummary(st, nil, end.Sub(start))
	f := it.Facts
	f["file"] = p
	f["format"] = "query_range"
	f["metric"] = name
	f["window_start"] = start.Format(time.RFC3339)
	f["window_end"] = end.Format(time.RFC3339)
	st.facts(f)
	f["series_stats"] = seriesFacts(ss, 0, nil)
	chart := chartSVG(it.Title, ss, start, end, nil)
	return collectors.Emission{Item: it, Files: []collectors.File{bytesFile("chart.svg", "image/svg+xml", chart)}}, nil
}

// metricNames names the metrics of ss: one name, or the first and a
// count.
func metricNames(ss []series) string {
	names := map[string]bool{}
	for _, s := range ss {
		names[s.Labels["__name__"]] = true
	}
	list := make([]string, 0, len(names))
	for n := range names {
		if n == "" {
			n = "(expression)"
		}
		list = append(list, n)
	}
	sort.Strings(list)
	switch len(list) {
	case 0:
		return "(no series)"
	case 1:
		return list[0]
	}
	return fmt.Sprintf("%s and %d more metrics", list[0], len(list)-1)
}

// ParseQueryRange reads a saved query_range response: the whole API
// answer ({"status": "success", "data": {"resultType": "matrix",
// "result": [...]}}), its data ({"resultType": …, "result": …}), or the
// bare result list ([{"metric": {…}, "values": [[t, "v"], …]}, …]). An
// instant vector result is read as one sample per series. Native
// histogram samples are not read; a result of only those is an error.
func ParseQueryRange(b []byte) ([]series, error) {
	trimmed := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return nil, errors.New("empty file")
	}
	result := json.RawMessage(trimmed)
	resultType := model.ValMatrix.String()
	if trimmed[0] == '{' {
		var env struct {
			Status    string          `json:"status"`
			ErrorType string          `json:"errorType"`
			Error     string          `json:"error"`
			Data      json.RawMessage `json:"data"`
			// data's own fields, for a saved data object
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(trimmed, &env); err != nil {
			return nil, fmt.Errorf("not a query_range response: %w", err)
		}
		if env.Status == "error" {
			return nil, fmt.Errorf("saved response is an error (%s): %s", clip(env.ErrorType, 40), clip(env.Error, 200))
		}
		if len(env.Data) > 0 {
			var data struct {
				ResultType string          `json:"resultType"`
				Result     json.RawMessage `json:"result"`
			}
			if err := json.Unmarshal(env.Data, &data); err != nil {
				return nil, fmt.Errorf("data: %w", err)
			}
			env.ResultType, env.Result = data.ResultType, data.Result
		}
		if len(env.Result) == 0 {
			return nil, errors.New("not a query_range response: no data.result")
		}
		result, resultType = env.Result, env.ResultType
	}
	var out []series
	switch resultType {
	case model.ValMatrix.String():
		var m model.Matrix
		if err := json.Unmarshal(result, &m); err != nil {
			return nil, fmt.Errorf("matrix result: %w", err)
		}
		for _, s := range m {
			sr := series{Labels: metricLabels(s.Metric)}
			for _, p := range s.Values {
				sr.Points = append(sr.Points, point{T: p.Timestamp.Time().UTC(), V: float64(p.Value)})
			}
			sort.SliceStable(sr.Points, func(i, j int) bool { return sr.Points[i].T.Before(sr.Points[j].T) })
			if len(sr.Points) > 0 {
				out = append(out, sr)
			}
		}
	case model.ValVector.String():
		var v model.Vector
		if err := json.Unmarshal(result, &v); err != nil {
			return nil, fmt.Errorf("vector result: %w", err)
		}
		for _, s := range v {
			if s.Histogram == nil {
				out = append(out, series{Labels: metricLabels(s.Metric), Points: []point{{T: s.Timestamp.Time().UTC(), V: float64(s.Value)}}})
			}
		}
	default:
		return nil, fmt.Errorf("result type %q: want matrix or vector", clip(resultType, 20))
	}
	if len(out) == 0 {
		return nil, errors.New("no float samples")
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out, nil
}

func metricLabels(m model.Metric) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

// Snapshot is what an exposition-format file holds, as the item shows
// it.
type Snapshot struct {
	Format     string   // "text" (Prometheus 0.0.4) or "openmetrics"
	Families   []Family // sorted by name
	Histograms []Histogram
	// Created maps "family{labels}" to a counter's, histogram's or
	// summary's creation time, from _created samples.
	Created map[string]time.Time
	// Latest is the latest sample timestamp written in the file, if any.
	Latest time.Time
}

// Family is one metric family of a snapshot.
type Family struct {
	Name, Type, Help, Unit string
	Series                 int // label sets; a histogram's or summary's counted once
}

// Histogram is one classic (or native) histogram series of a snapshot.
type Histogram struct {
	Family, Labels string
	Count, Sum     float64
	Buckets        []Bucket // cumulative, by upper bound
}

// Bucket is one cumulative histogram bucket.
type Bucket struct{ UpperBound, Count float64 }

// ParseExposition reads a metrics snapshot in the Prometheus text format
// or OpenMetrics (told apart by OpenMetrics's closing "# EOF") with the
// parser Prometheus scrapes with, prometheus/prometheus model/textparse.
// _created samples become creation times: OpenMetrics's through the
// parser's start timestamps, and in the text format the X_created gauge
// families client_python writes, folded into the counter, histogram or
// summary they belong to. Lines over 64 KiB are refused.
func ParseExposition(b []byte) (*Snapshot, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxExpoLine)
	openMetrics := false
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "# EOF" {
			openMetrics = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("exposition: %w", err)
	}
	snap := &Snapshot{Format: "text", Created: map[string]time.Time{}}
	contentType := "text/plain; version=0.0.4"
	if openMetrics {
		snap.Format, contentType = "openmetrics", "application/openmetrics-text; version=1.0.0"
	}
	p, err := textparse.New(b, contentType, labels.NewSymbolTable(), textparse.ParserOptions{OpenMetricsSkipSTSeries: true})
	if err != nil || p == nil {
		return nil, fmt.Errorf("%s exposition: no parser: %v", snap.Format, err)
	}
	fams := map[string]*Family{}
	family := func(name string) *Family {
		f := fams[name]
		if f == nil {
			f = &Family{Name: name, Type: "unknown"}
			fams[name] = f
		}
		return f
	}
	seen := map[string]bool{}        // family + labels counted
	hists := map[string]*Histogram{} // by family + labels
	var histOrder []string
	createdSeries := map[string]float64{} // the text format's X_created samples, by name + labels
	var ls labels.Labels
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s exposition: %w", snap.Format, err)
		}
		switch entry {
		case textparse.EntryType:
			name, typ := p.Type()
			family(string(name)).Type = string(typ)
		case textparse.EntryHelp:
			name, help := p.Help()
			family(string(name)).Help = string(help)
		case textparse.EntryUnit:
			name, unit := p.Unit()
			family(string(name)).Unit = string(unit)
		case textparse.EntrySeries, textparse.EntryHistogram:
			var ts *int64
			var v, count, sum float64
			native := entry == textparse.EntryHistogram
			if !native {
				_, ts, v = p.Series()
			} else {
				var h *histogram.Histogram
				var fh *histogram.FloatHistogram
				_, ts, h, fh = p.Histogram()
				switch {
				case h != nil:
					count, sum = float64(h.Count), h.Sum
				case fh != nil:
					count, sum = fh.Count, fh.Sum
				}
			}
			p.Labels(&ls)
			fam, suffix := familyOf(ls.Get(model.MetricNameLabel), fams)
			m := ls.Map()
			delete(m, model.MetricNameLabel)
			le := m["le"]
			f := family(fam)
			isHist := f.Type == "histogram" || f.Type == "gaugehistogram"
			if isHist || f.Type == "summary" {
				delete(m, "le")
				delete(m, "quantile")
			}
			key := fam + labelString(m)
			if suffix == "_created" {
				createdSeries[key] = v
				continue
			}
			if !seen[key] {
				seen[key] = true
				f.Series++
			}
			if ts != nil {
				if t := time.UnixMilli(*ts).UTC(); t.After(snap.Latest) {
					snap.Latest = t
				}
			}
			if st := p.StartTimestamp(); st != 0 {
				snap.Created[key] = time.UnixMilli(st).UTC()
			}
			if !isHist && !native {
				continue
			}
			h := hists[key]
			if h == nil {
				h = &Histogram{Family: fam, Labels: labelString(m)}
				hists[key] = h
				histOrder = append(histOrder, key)
			}
			switch {
			case native:
				h.Count, h.Sum = count, sum
			case suffix == "_bucket":
				if ub, err := strconv.ParseFloat(le, 64); err == nil {
					h.Buckets = append(h.Buckets, Bucket{UpperBound: ub, Count: v})
				}
			case suffix == "_count" || suffix == "_gcount":
				h.Count = v
			case suffix == "_sum" || suffix == "_gsum":
				h.Sum = v
			}
		}
	}
	// The text format's X_created families are the creation times of
	// their owner's series.
	for name := range fams {
		owner := createdOwner(name, fams)
		if owner == nil {
			continue
		}
		for key, v := range createdSeries {
			if lbl, ok := strings.CutPrefix(key, name+"{"); ok && !math.IsNaN(v) && v > 0 && v < 1e11 {
				snap.Created[owner.Name+"{"+lbl] = time.Unix(0, int64(v*1e9)).UTC()
			}
		}
		delete(fams, name)
	}
	for _, f := range fams {
		snap.Families = append(snap.Families, *f)
	}
	if len(snap.Families) == 0 {
		return nil, errors.New("no metric families")
	}
	sort.Slice(snap.Families, func(i, j int) bool { return snap.Families[i].Name < snap.Families[j].Name })
	for _, key := range histOrder {
		h := hists[key]
		sort.SliceStable(h.Buckets, func(i, j int) bool { return h.Buckets[i].UpperBound < h.Buckets[j].UpperBound })
		snap.Histograms = append(snap.Histograms, *h)
	}
	return snap, nil
}

// createdOwner is the counter, histogram or summary family an X_created
// family of the text format belongs to (X, or X_total), or nil.
func createdOwner(name string, fams map[string]*Family) *Family {
	base, ok := strings.CutSuffix(name, "_created")
	if !ok {
		return nil
	}
	for _, n := range []string{base, base + "_total"} {
		if f := fams[n]; f != nil && f.Type != "gauge" && f.Type != "unknown" {
			return f
		}
	}
	return nil
}

// familyOf finds the family a sample name belongs to and the suffix that
// tells the sample's role: "_created" for the text format's X_created
// families, else the name itself when a family has it, else the name
// without a _bucket, _sum, _count, _total, _created or _info suffix.
func familyOf(name string, fams map[string]*Family) (string, string) {
	if _, ok := fams[name]; ok {
		if createdOwner(name, fams) != nil {
			return name, "_created"
		}
		return name, ""
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count", "_gsum", "_gcount", "_total", "_created", "_info"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if _, known := fams[base]; known {
				return base, suffix
			}
		}
	}
	return name, ""
}

// Caps on what a snapshot item lists.
const (
	maxSnapshotFamilies   = 200
	maxSnapshotHistograms = 50
)

// savedSnapshot is an exposition snapshot as one monitoring window at
// the time it was taken: its latest sample timestamp, else the file's
// modification time.
func (c *Collector) savedSnapshot(p, native, uri string, snap *Snapshot, mtime time.Time) collectors.Emission {
	at := snap.Latest
	if at.IsZero() {
		at = mtime
	}
	it := c.item(evidence.KindMonitoringWindow, native, uri, at)
	series := 0
	var families, hists []any
	for _, fam := range snap.Families {
		series += fam.Series
		if len(families) < maxSnapshotFamilies {
			e := map[string]any{"name": fam.Name, "type": fam.Type, "series": fam.Series}
			if fam.Help != "" {
				e["help"] = clip(fam.Help, 300)
			}
			if fam.Unit != "" {
				e["unit"] = fam.Unit
			}
			families = append(families, e)
		}
	}
	histograms := len(snap.Histograms)
	for i, h := range snap.Histograms {
		if i == maxSnapshotHistograms {
			break
		}
		e := map[string]any{"name": h.Family, "labels": h.Labels, "count": h.Count, "sum": h.Sum, "buckets": len(h.Buckets)}
		if h.Count > 0 {
			e["mean"] = h.Sum / h.Count
			for _, q := range []float64{0.5, 0.95, 0.99} {
				if v, ok := bucketQuantile(q, h); ok {
					e[fmt.Sprintf("p%g", q*100)] = v
				}
			}
		}
		if t, ok := snap.Created[h.Family+h.Labels]; ok {
			e["created_at"] = t.Format(time.RFC3339)
		}
		hists = append(hists, e)
	}
	it.Title = fmt.Sprintf("Metrics snapshot %s: %d families, %d series", filepath.Base(p), len(snap.Families), series)
	it.Summary = fmt.Sprintf("%s exposition taken %s: %d metric families, %d series, %d histograms", snap.Format, at.Format("2006-01-02 15:04 MST"), len(snap.Families), series, histograms)
	f := it.Facts
	f["file"] = p
	f["format"] = snap.Format
	f["taken_at"] = at.Format(time.RFC3339)
	f["families"] = len(snap.Families)
	f["series"] = series
	f["histograms"] = histograms
	f["metric_families"] = families
	if len(snap.Families) > maxSnapshotFamilies {
		f["metric_families_truncated"] = true
	}
	if len(hists) > 0 {
		f["histogram_stats"] = hists
	}
	if len(snap.Created) > 0 {
		f["created_series"] = len(snap.Created)
		var first time.Time
		for _, t := range snap.Created {
			if first.IsZero() || t.Before(first) {
				first = t
			}
		}
		f["earliest_created_at"] = first.Format(time.RFC3339)
	}
	return collectors.Emission{Item: it}
}

// bucketQuantile estimates a quantile from cumulative buckets by linear
// interpolation, as PromQL's histogram_quantile does; false when the
// buckets cannot tell (none, or the quantile falls in the +Inf bucket).
func bucketQuantile(q float64, h Histogram) (float64, bool) {
	if len(h.Buckets) == 0 || !(h.Count > 0) {
		return 0, false
	}
	rank := q * h.Count
	prevBound, prevCount := 0.0, 0.0
	for _, b := range h.Buckets {
		if b.Count >= rank {
			if math.IsInf(b.UpperBound, 1) {
				return 0, false
			}
			if b.Count == prevCount {
				return b.UpperBound, true
			}
			return prevBound + (b.UpperBound-prevBound)*(rank-prevCount)/(b.Count-prevCount), true
		}
		prevBound, prevCount = b.UpperBound, b.Count
	}
	return 0, false
}

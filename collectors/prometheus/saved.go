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
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

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
		matches, err := doublestar.Glob(os.DirFS(base), pattern, doublestar.WithFilesOnly(), doublestar.WithFailOnIOErrors())
		if err != nil {
			return fmt.Errorf("files %s: %w", g, err)
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
	Format   string // "text" (Prometheus 0.0.4) or "openmetrics"
	Families []*dto.MetricFamily
	// Created maps "family{labels}" to a counter's, histogram's or
	// summary's creation time, from _created samples.
	Created map[string]time.Time
	// Latest is the latest sample timestamp written in the file, if any.
	Latest time.Time
}

// ParseExposition reads a metrics snapshot in the Prometheus text format
// or OpenMetrics (told apart by OpenMetrics's closing "# EOF"), with
// prometheus/common/expfmt. In the text format, _created series are
// separate gauge families (as client_python writes them); they are read
// as the creation times of the counters, histograms and summaries they
// belong to. Lines over 64 KiB are refused.
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
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	snap := &Snapshot{Format: "text", Created: map[string]time.Time{}}
	if openMetrics {
		format = expfmt.NewFormat(expfmt.TypeOpenMetrics)
		snap.Format = "openmetrics"
	}
	dec := expfmt.NewDecoder(bytes.NewReader(b), format)
	byName := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s exposition: %w", snap.Format, err)
		}
		snap.Families = append(snap.Families, mf)
		byName[mf.GetName()] = mf
	}
	if len(snap.Families) == 0 {
		return nil, errors.New("no metric families")
	}
	// Text format: fold X_created gauges into their families.
	kept := snap.Families[:0]
	for _, mf := range snap.Families {
		base, isCreated := strings.CutSuffix(mf.GetName(), "_created")
		owner := byName[base]
		if owner == nil {
			owner = byName[base+"_total"]
		}
		if isCreated && owner != nil && owner.GetType() != dto.MetricType_GAUGE && owner.GetType() != dto.MetricType_UNTYPED {
			for _, m := range mf.Metric {
				v := gaugeValue(m)
				if !math.IsNaN(v) && !math.IsInf(v, 0) && v > 0 && v < 1e11 {
					snap.Created[owner.GetName()+labelString(pairs(m.Label))] = time.Unix(0, int64(v*1e9)).UTC()
				}
			}
			continue
		}
		kept = append(kept, mf)
	}
	snap.Families = kept
	for _, mf := range snap.Families {
		for _, m := range mf.Metric {
			if m.TimestampMs != nil {
				if t := time.UnixMilli(m.GetTimestampMs()).UTC(); t.After(snap.Latest) {
					snap.Latest = t
				}
			}
			var ct interface{ AsTime() time.Time }
			switch {
			case m.Counter != nil && m.Counter.CreatedTimestamp != nil:
				ct = m.Counter.CreatedTimestamp
			case m.Histogram != nil && m.Histogram.CreatedTimestamp != nil:
				ct = m.Histogram.CreatedTimestamp
			case m.Summary != nil && m.Summary.CreatedTimestamp != nil:
				ct = m.Summary.CreatedTimestamp
			}
			if ct != nil {
				snap.Created[mf.GetName()+labelString(pairs(m.Label))] = ct.AsTime().UTC()
			}
		}
	}
	return snap, nil
}

func gaugeValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return math.NaN()
}

func pairs(lps []*dto.LabelPair) map[string]string {
	out := make(map[string]string, len(lps))
	for _, lp := range lps {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
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
	histograms, series := 0, 0
	var families, hists []any
	for _, mf := range snap.Families {
		series += len(mf.Metric)
		typ := strings.ToLower(mf.GetType().String())
		if len(families) < maxSnapshotFamilies {
			fam := map[string]any{"name": mf.GetName(), "type": typ, "series": len(mf.Metric)}
			if h := mf.GetHelp(); h != "" {
				fam["help"] = clip(h, 300)
			}
			families = append(families, fam)
		}
		if mf.GetType() != dto.MetricType_HISTOGRAM && mf.GetType() != dto.MetricType_GAUGE_HISTOGRAM {
			continue
		}
		for _, m := range mf.Metric {
			histograms++
			if len(hists) >= maxSnapshotHistograms || m.Histogram == nil {
				continue
			}
			h := m.Histogram
			labels := labelString(pairs(m.Label))
			e := map[string]any{"name": mf.GetName(), "labels": labels, "count": h.GetSampleCount(), "sum": h.GetSampleSum(), "buckets": len(h.Bucket)}
			if n := h.GetSampleCount(); n > 0 {
				e["mean"] = h.GetSampleSum() / float64(n)
				for _, q := range []float64{0.5, 0.95, 0.99} {
					if v, ok := bucketQuantile(q, h); ok {
						e[fmt.Sprintf("p%g", q*100)] = v
					}
				}
			}
			if t, ok := snap.Created[mf.GetName()+labels]; ok {
				e["created_at"] = t.Format(time.RFC3339)
			}
			hists = append(hists, e)
		}
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
func bucketQuantile(q float64, h *dto.Histogram) (float64, bool) {
	bs := h.Bucket
	if len(bs) == 0 || h.GetSampleCount() == 0 {
		return 0, false
	}
	rank := q * float64(h.GetSampleCount())
	prevBound, prevCount := 0.0, 0.0
	for _, b := range bs {
		bound, count := b.GetUpperBound(), float64(b.GetCumulativeCount())
		if count >= rank {
			if math.IsInf(bound, 1) {
				return 0, false
			}
			if count == prevCount {
				return bound, true
			}
			return prevBound + (bound-prevBound)*(rank-prevCount)/(count-prevCount), true
		}
		prevBound, prevCount = bound, count
	}
	return 0, false
}

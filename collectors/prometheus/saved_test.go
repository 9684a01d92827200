package prometheus

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
)

// corpusDir holds real query_range results saved without their
// envelope, in the shared corpus.
const corpusDir = "prometheus-query-range"

var fixedNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newFiles(t testing.TB, globs ...string) *Collector {
	t.Helper()
	c, err := New(Config{Name: "saved", Apprentice: "jdoe", Source: SourceConfig{Files: globs}},
		collectors.Settings{Name: "saved", Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCorpusReadsAsMonitoringWindows reads the saved corpus: each file is
// one window over its nine `up` series.
func TestCorpusReadsAsMonitoringWindows(t *testing.T) {
	dir := corpustest.Dir(t, corpusDir)
	s := &collectortest.Sink{}
	if _, err := newFiles(t, filepath.Join(dir, "*.json")).Collect(context.Background(), nil, s); err != nil {
		t.Fatal(err)
	}
	items := s.Items()
	if len(items) != 2 {
		t.Fatalf("%d items, want 2", len(items))
	}
	for _, it := range items {
		f := it.Facts
		if it.Kind != evidence.KindMonitoringWindow || f["series"] != 9.0 || f["metric"] != "up" || f["format"] != "query_range" {
			t.Errorf("item %s: kind %s facts %v", it.Title, it.Kind, f)
		}
		// The prophet-0 target was down: min 0, max 1.
		if f["min"] != 0.0 || f["max"] != 1.0 {
			t.Errorf("%s: min %v max %v, want 0 and 1", it.Title, f["min"], f["max"])
		}
		if mean := f["mean"].(float64); mean <= 0.9 || mean >= 1 {
			t.Errorf("%s: mean %v", it.Title, mean)
		}
		if !strings.HasPrefix(it.OccurredAt.Format(time.RFC3339), "2019-07-28T") {
			t.Errorf("occurred_at %s", it.OccurredAt)
		}
		svg, ok := s.File(it.ID, "chart.svg")
		if !ok {
			t.Fatalf("%s: no chart", it.Title)
		}
		if n := checkSVG(t, svg); n != 9 {
			t.Errorf("%s: chart has %d paths, want one per series (9)", it.Title, n)
		}
	}
	if items[0].Facts["samples"] != 6839.0 {
		t.Errorf("first file: %v samples, want 6839 (1079 + 3×1080 + 4×360 + 1080)", items[0].Facts["samples"])
	}
}

// checkSVG parses svg as XML, fails on any script or external reference,
// and returns the number of path elements.
func checkSVG(t testing.TB, svg []byte) int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	paths, texts := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch strings.ToLower(se.Name.Local) {
			case "path":
				paths++
			case "text":
				texts++
			case "script", "foreignobject", "image", "use", "a":
				t.Errorf("chart has a <%s> element", se.Name.Local)
			}
			for _, a := range se.Attr {
				if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") || strings.Contains(a.Value, "http://") && a.Name.Local != "xmlns" {
					t.Errorf("chart has attribute %s=%q", a.Name.Local, a.Value)
				}
			}
		}
	}
	if texts < 5 {
		t.Errorf("chart has %d texts; want axis labels and a legend", texts)
	}
	return paths
}

func TestChartEscapesText(t *testing.T) {
	ss := []series{
		{Labels: map[string]string{"__name__": "x", "job": `</text><script>alert(1)</script>&`}, Points: []point{{fixedNow, 1}, {fixedNow.Add(time.Minute), 2}}},
		{Labels: map[string]string{"__name__": "y"}, Points: []point{{fixedNow, 3}}},
	}
	svg := chartSVG("t <&>", ss, fixedNow, fixedNow.Add(time.Hour), &threshold{Value: 1.5})
	if n := checkSVG(t, svg); n != 2 {
		t.Errorf("%d paths, want 2", n)
	}
	if strings.Contains(string(svg), "<script") {
		t.Error("label text reached the SVG unescaped")
	}
}

func TestParseQueryRangeForms(t *testing.T) {
	data := `{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[1,"2"],[2,"3"]]}]}`
	for name, in := range map[string]string{
		"bare":     `[{"metric":{"a":"1"},"values":[[1,"2"],[2,"3"]]}]`,
		"data":     data,
		"envelope": `{"status":"success","data":` + data + `}`,
		"bom":      "\ufeff" + `{"status":"success","data":` + data + `}`,
	} {
		ss, err := ParseQueryRange([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(ss) != 1 || len(ss[0].Points) != 2 || ss[0].Points[1].V != 3 || ss[0].Labels["a"] != "1" {
			t.Errorf("%s: %+v", name, ss)
		}
	}
	for name, in := range map[string]string{
		"error":   `{"status":"error","errorType":"bad_data","error":"nope"}`,
		"scalar":  `{"resultType":"scalar","result":[1,"2"]}`,
		"empty":   `[]`,
		"garbage": `{"status":`,
		"object":  `{"foo":1}`,
	} {
		if _, err := ParseQueryRange([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSavedFiles(t *testing.T) {
	s := &collectortest.Sink{}
	_, err := newFiles(t, "testdata/*").Collect(context.Background(), nil, s)
	if err == nil || len(s.Skips()) != 1 || !strings.Contains(s.Skips()[0].What, "error.json") {
		t.Fatalf("err %v skips %+v; want the saved error response skipped", err, s.Skips())
	}
	byFile := map[string]evidence.Item{}
	for _, it := range s.Items() {
		byFile[filepath.Base(it.Facts["file"].(string))] = it
	}
	env := byFile["envelope.json"]
	if env.Facts["samples"] != 3.0 || env.Facts["non_finite_samples"] != 1.0 || env.Facts["max"] != 0.2 || env.Facts["last"] != 0.03 {
		t.Errorf("envelope facts %v", env.Facts)
	}
	text := byFile["snapshot.prom"]
	if text.Facts["format"] != "text" || text.Facts["families"] != 3.0 || text.Facts["created_series"] != 3.0 {
		t.Errorf("text snapshot facts %v", text.Facts)
	}
	if got := text.OccurredAt; !got.Equal(time.UnixMilli(1764590400000)) {
		t.Errorf("text snapshot at %s, want its sample timestamp", got)
	}
	h := text.Facts["histogram_stats"].([]any)[0].(map[string]any)
	if h["count"] != 1030.0 || h["created_at"] != "2025-11-30T10:53:20Z" {
		t.Errorf("histogram %v", h)
	}
	// p50 = rank 515 in (0.05, 0.1]: 0.05 + 0.05*(515-400)/500.
	if p50 := h["p50"].(float64); p50 < 0.0614 || p50 > 0.0616 {
		t.Errorf("p50 %v, want 0.0615", p50)
	}
	om := byFile["snapshot.om.txt"]
	if om.Facts["format"] != "openmetrics" || om.Facts["families"] != 2.0 || om.Facts["created_series"] != 2.0 {
		t.Errorf("openmetrics snapshot facts %v", om.Facts)
	}
}

func TestChartCapsSeries(t *testing.T) {
	var ss []series
	for i := range 60 {
		ss = append(ss, series{Labels: map[string]string{"i": string(rune('a' + i%26))}, Points: []point{{fixedNow, float64(i)}}})
	}
	svg := chartSVG("many", ss, fixedNow, fixedNow.Add(time.Hour), nil)
	if n := checkSVG(t, svg); n != maxChartSeries {
		t.Errorf("%d paths for 60 series, want %d", n, maxChartSeries)
	}
	if !strings.Contains(string(svg), "and 48 more series (10 not drawn)") {
		t.Error("the legend does not count the series left out")
	}
}

func TestSavedFilesMissing(t *testing.T) {
	dir := t.TempDir()
	_, err := newFiles(t, filepath.Join(dir, "nope", "*.json")).Collect(context.Background(), nil, &collectortest.Sink{})
	if !errors.Is(err, collectors.ErrSourceMissing) {
		t.Errorf("missing folder: %v, want ErrSourceMissing", err)
	}
	s := &collectortest.Sink{}
	if _, err := newFiles(t, filepath.Join(dir, "*.json")).Collect(context.Background(), nil, s); err != nil || len(s.Warnings()) != 1 {
		t.Errorf("no match: %v, warnings %q", err, s.Warnings())
	}
}

package prometheus

import (
	"math"
	"os"
	"testing"
	"time"
)

// FuzzParseQueryRange: any input gives series or an error, never a
// panic; the series are sorted, non-empty and their points in time order,
// and the statistics and chart of what parses are well formed.
func FuzzParseQueryRange(f *testing.F) {
	for _, p := range []string{"testdata/envelope.json", "testdata/error.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"metric":{"__name__":"up","job":"a"},"values":[[1564308009.804,"1"],[1564308029.804,"0"]]}]`))
	f.Add([]byte(`{"resultType":"vector","result":[{"metric":{},"value":[1,"+Inf"]}]}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"histograms":[[1,{"count":"1","sum":"1"}]]}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, err := ParseQueryRange(b)
		if err != nil {
			return
		}
		if len(ss) == 0 {
			t.Fatal("no series and no error")
		}
		for i, s := range ss {
			if len(s.Points) == 0 {
				t.Fatalf("series %d has no points", i)
			}
			for j := 1; j < len(s.Points); j++ {
				if s.Points[j].T.Before(s.Points[j-1].T) {
					t.Fatalf("series %d out of order", i)
				}
			}
		}
		st := summarize(ss, 0, &threshold{Value: 0.5})
		if st.Samples > 0 && (math.IsNaN(st.Mean) || st.Min > st.Max) {
			t.Fatalf("stats %+v", st)
		}
		first, last := ss[0].Points[0].T, ss[0].Points[len(ss[0].Points)-1].T
		checkSVG(t, chartSVG("fuzz", ss, first, last.Add(time.Second), nil))
	})
}

// FuzzParseExposition: any input gives a snapshot or an error, never a
// panic, and in bounded time (lines are capped before the OpenMetrics
// parser sees them).
func FuzzParseExposition(f *testing.F) {
	for _, p := range []string{"testdata/snapshot.prom", "testdata/snapshot.om.txt"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("# TYPE x summary\nx{quantile=\"0.5\"} 1\nx_sum 2\nx_count 3\nx_created 1e9\n# EOF\n"))
	f.Add([]byte("a_created 5\na 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		snap, err := ParseExposition(b)
		if err != nil {
			return
		}
		if len(snap.Families) == 0 {
			t.Fatal("no families and no error")
		}
		for _, h := range snap.Histograms {
			if v, ok := bucketQuantile(0.95, h); ok && math.IsNaN(v) {
				t.Fatalf("p95 NaN from %+v", h)
			}
		}
	})
}

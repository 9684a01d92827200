package mlflow

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParseMetricLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want metricPoint
		err  string
	}{
		{in: "1627274657188 0.851520572450805 0", want: metricPoint{1627274657188, 0.851520572450805, 0}},
		{in: "1627274657188 0.85", want: metricPoint{1627274657188, 0.85, 0}},
		{in: "5 -1e-3 42\r", want: metricPoint{5, -0.001, 42}},
		{in: "5 nan 1", want: metricPoint{5, math.NaN(), 1}},
		{in: "5 -inf 1", want: metricPoint{5, math.Inf(-1), 1}},
		{in: "5", err: "1 fields"},
		{in: "5 1 2 3", err: "4 fields"},
		{in: "5  1", err: "value"}, // a double space makes an empty field, as in MLflow
		{in: "x 1", err: "timestamp"},
		{in: "5 one", err: "value"},
		{in: "5 0x1p3", err: "value"}, // Go syntax Python's float() refuses
		{in: "5 1_0", err: "value"},
		{in: "5 1 1.5", err: "step"},
	} {
		got, err := parseMetricLine(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		same := got.Value == tc.want.Value || math.IsNaN(got.Value) && math.IsNaN(tc.want.Value)
		if got.Timestamp != tc.want.Timestamp || got.Step != tc.want.Step || !same {
			t.Errorf("%q = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// FuzzParseMetricLine checks that the parser never panics, that what it
// accepts has 2 or 3 fields, and that an accepted line written back in
// MLflow's form parses to the same point.
func FuzzParseMetricLine(f *testing.F) {
	for _, s := range []string{"1627274657188 0.851520572450805 0", "1 2", "1 nan 3", "", " ", "1 2 3 4", "-1 -inf -9223372036854775808", "1 1e309 0\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 4096 {
			return
		}
		p, err := parseMetricLine(line)
		if err != nil {
			if len(err.Error()) > 200 {
				t.Errorf("error too long: %d bytes", len(err.Error()))
			}
			return
		}
		if n := len(strings.Split(strings.TrimSuffix(line, "\r"), " ")); n != 2 && n != 3 {
			t.Fatalf("accepted %q with %d fields", line, n)
		}
		back := strconv.FormatInt(p.Timestamp, 10) + " " + strconv.FormatFloat(p.Value, 'g', -1, 64) + " " + strconv.FormatInt(p.Step, 10)
		q, err := parseMetricLine(back)
		if err != nil {
			t.Fatalf("%q parsed, its rewrite %q did not: %v", line, back, err)
		}
		if q.Timestamp != p.Timestamp || q.Step != p.Step || (q.Value != p.Value && !(math.IsNaN(q.Value) && math.IsNaN(p.Value))) {
			t.Fatalf("%q → %+v, rewrite → %+v", line, p, q)
		}
	})
}

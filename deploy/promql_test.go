package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// documentedMetrics returns the metric names of docs/metrics.md's table,
// with the _bucket, _sum and _count series of its histograms.
func documentedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(ksbfolio_[a-z0-9_]+)` \\| ([a-z]+) \\|")
	names := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		names[m[1]] = true
		if m[2] == "histogram" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+s] = true
			}
		}
	}
	if len(names) < 17 {
		t.Fatalf("docs/metrics.md lists only %d metrics: has its table changed?", len(names))
	}
	return names
}

// metricNames parses a PromQL expression and returns the metric names its
// selectors use. A selector without a metric name is an error: the test
// could not check it.
func metricNames(expr string) ([]string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", expr, err)
	}
	var names []string
	var bad error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			if vs.Name == "" {
				bad = fmt.Errorf("%q: a selector without a metric name (%s)", expr, vs)
			}
			names = append(names, vs.Name)
		}
		return nil
	})
	if bad != nil {
		return nil, bad
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%q uses no metric", expr)
	}
	sort.Strings(names)
	return names, nil
}

// checkDocumented fails the test for every metric of exprs (keyed by
// where they come from) that docs/metrics.md does not list.
func checkDocumented(t *testing.T, exprs map[string]string) {
	t.Helper()
	doc := documentedMetrics(t)
	for where, expr := range exprs {
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		for _, n := range names {
			if !doc[n] {
				t.Errorf("%s uses %s, which docs/metrics.md does not list", where, n)
			}
		}
	}
}

func TestMetricNamesOfExpr(t *testing.T) {
	for _, tc := range []struct {
		expr, want, err string
	}{
		{expr: `time() - ksbfolio_a > 2`, want: "ksbfolio_a"},
		{expr: `sum by (x) (rate(b[5m])) / on (x) c{y="1"}`, want: "b c"},
		{expr: `{apprentice="jan"}`, err: "without a metric name"},
		{expr: `1 + 1`, err: "uses no metric"},
		{expr: `sum(`, err: "parse"},
	} {
		got, err := metricNames(tc.expr)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.expr, err, tc.err)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %v, %v; want %s", tc.expr, got, err, tc.want)
		}
	}
}

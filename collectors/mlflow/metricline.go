package mlflow

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// metricPoint is one logged metric value as MLflow stores it.
type metricPoint struct {
	Timestamp int64 // ms since the epoch
	Value     float64
	Step      int64
}

// parseMetricLine reads one line of a file store's metric file,
// "<timestamp_ms> <value> [<step>]", split on single spaces as MLflow's
// FileStore._get_metric_from_line does: two or three fields, step 0 when
// missing. The value may be nan, inf or -inf (Python's spellings). A
// trailing "\r" (a file copied from Windows) is ignored.
func parseMetricLine(line string) (metricPoint, error) {
	line = strings.TrimSuffix(line, "\r")
	var f [3]string
	n := 0
	for rest := line; ; n++ {
		i := strings.IndexByte(rest, ' ')
		if n == 3 {
			// a fourth field
			return metricPoint{}, fmt.Errorf("metric line has %d fields, want 2 or 3", 4+strings.Count(rest, " "))
		}
		if i < 0 {
			f[n] = rest
			n++
			break
		}
		f[n], rest = rest[:i], rest[i+1:]
	}
	if n != 2 && n != 3 {
		return metricPoint{}, fmt.Errorf("metric line has %d fields, want 2 or 3", n)
	}
	ts, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return metricPoint{}, fmt.Errorf("metric timestamp %q: not an integer", cut(f[0]))
	}
	v, err := strconv.ParseFloat(f[1], 64)
	if err != nil || strings.ContainsAny(f[1], "_xXpP") {
		return metricPoint{}, fmt.Errorf("metric value %q: not a number", cut(f[1]))
	}
	var step int64
	if n == 3 {
		if step, err = strconv.ParseInt(f[2], 10, 64); err != nil {
			return metricPoint{}, fmt.Errorf("metric step %q: not an integer", cut(f[2]))
		}
	}
	return metricPoint{Timestamp: ts, Value: v, Step: step}, nil
}

// cut keeps quoted input short in messages.
func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func nan() float64 { return math.NaN() }

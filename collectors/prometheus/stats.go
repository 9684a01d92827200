package prometheus

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// point is one sample.
type point struct {
	T time.Time
	V float64
}

// series is one time series of a result: its labels and samples in time
// order.
type series struct {
	Labels map[string]string
	Points []point
}

// key is the series' label set written out, sorted: its identity.
func (s series) key() string { return labelString(s.Labels) }

// labelString writes labels as {a="1", b="2"}, sorted by name, with
// __name__ first when present.
func labelString(ls map[string]string) string {
	names := make([]string, 0, len(ls))
	for k := range ls {
		if k != "__name__" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(ls["__name__"])
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(ls[k]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// threshold is a configured limit and which side of it is bad.
type threshold struct {
	Value float64
	Below bool // bad when below Value; else when above
}

func (th threshold) beyond(v float64) bool {
	if th.Below {
		return v < th.Value
	}
	return v > th.Value
}

// stats are the summary statistics of a set of series over a window.
type stats struct {
	Series    int
	Samples   int
	NonFinite int // NaN and ±Inf samples, left out of the figures
	Min, Max  float64
	Mean      float64
	Last      float64
	LastAt    time.Time
	// Beyond is the time at least one series was beyond the threshold:
	// each sample beyond it counts until the next sample, or for at most
	// one step.
	Beyond time.Duration
}

// summarize computes stats over ss. step bounds how long one sample
// counts (0: the series' own median interval).
func summarize(ss []series, step time.Duration, th *threshold) stats {
	st := stats{Series: len(ss), Min: math.Inf(1), Max: math.Inf(-1)}
	var sum float64
	var spans [][2]time.Time
	for _, s := range ss {
		hold := step
		if hold <= 0 {
			hold = medianInterval(s.Points)
		}
		for i, p := range s.Points {
			if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
				st.NonFinite++
				continue
			}
			st.Samples++
			sum += p.V
			st.Min = min(st.Min, p.V)
			st.Max = max(st.Max, p.V)
			if !p.T.Before(st.LastAt) {
				st.Last, st.LastAt = p.V, p.T
			}
			if th != nil && th.beyond(p.V) {
				end := p.T.Add(hold)
				if i+1 < len(s.Points) && s.Points[i+1].T.Before(end) {
					end = s.Points[i+1].T
				}
				spans = append(spans, [2]time.Time{p.T, end})
			}
		}
	}
	if st.Samples == 0 {
		st.Min, st.Max = 0, 0
		return st
	}
	st.Mean = sum / float64(st.Samples)
	st.Beyond = unionLength(spans)
	return st
}

// medianInterval is the median gap between consecutive points (0 for
// fewer than two).
func medianInterval(ps []point) time.Duration {
	if len(ps) < 2 {
		return 0
	}
	gaps := make([]time.Duration, 0, len(ps)-1)
	for i := 1; i < len(ps); i++ {
		gaps = append(gaps, ps[i].T.Sub(ps[i-1].T))
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// unionLength is the total length covered by spans.
func unionLength(spans [][2]time.Time) time.Duration {
	slices.SortFunc(spans, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	var total time.Duration
	var cur [2]time.Time
	for i, s := range spans {
		switch {
		case i == 0:
			cur = s
		case !s[0].After(cur[1]):
			if s[1].After(cur[1]) {
				cur[1] = s[1]
			}
		default:
			total += cur[1].Sub(cur[0])
			cur = s
		}
	}
	if len(spans) > 0 {
		total += cur[1].Sub(cur[0])
	}
	return total
}

// facts writes st into an item's facts under the names of the README.
func (st stats) facts(f map[string]any) {
	f["series"] = st.Series
	f["samples"] = st.Samples
	if st.NonFinite > 0 {
		f["non_finite_samples"] = st.NonFinite
	}
	if st.Samples == 0 {
		return
	}
	f["min"] = st.Min
	f["max"] = st.Max
	f["mean"] = st.Mean
	f["last"] = st.Last
	f["last_at"] = st.LastAt.UTC().Format(time.RFC3339)
}

// maxSeriesFacts bounds the per-series statistics an item lists.
const maxSeriesFacts = 20

// seriesFacts lists per-series statistics, at most maxSeriesFacts.
func seriesFacts(ss []series, step time.Duration, th *threshold) []any {
	var out []any
	for i, s := range ss {
		if i == maxSeriesFacts {
			break
		}
		st := summarize([]series{s}, step, th)
		m := map[string]any{"labels": labelString(s.Labels), "samples": st.Samples}
		if st.Samples > 0 {
			m["min"], m["max"], m["mean"], m["last"] = st.Min, st.Max, st.Mean, st.Last
		}
		if th != nil {
			m["seconds_beyond_threshold"] = st.Beyond.Seconds()
		}
		out = append(out, m)
	}
	return out
}

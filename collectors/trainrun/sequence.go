package trainrun

import (
	"cmp"
	"maps"
	"math"
	"regexp"
	"slices"
	"time"
)

// Succession is where a run stands among the runs of its experiment, as
// Sequence works it out; Build writes it as the facts
// experiment_run_number, improves_on, improvement and reruns_failed.
type Succession struct {
	// Number is the run's place (from 1) in its experiment by start time.
	Number int
	// ImprovesOn is the native ID of the earlier run whose best value of
	// the experiment's main metric this run beats; Metric, Direction,
	// Best and Previous say how.
	ImprovesOn string
	Metric     string
	Direction  Direction
	Best       float64
	Previous   float64
	// RerunsFailed is the native ID of the earlier failed or killed run
	// this finished run re-ran (same parameters, or same run name).
	RerunsFailed string
}

// Sequence orders the runs of one experiment by start time (end time when
// a run has none; ties by native ID) and sets each run's Succession:
//
//   - Number: 1, 2, … in that order.
//   - ImprovesOn: for a top-level run (no parent) that is neither failed
//     nor killed, when its best value of the main metric strictly beats
//     the best value of every earlier such run, the ID of the run that
//     held the best value until then (the earliest of equals). The main
//     metric is the one with a direction (declared by the source, else
//     GuessDirection; a key declared both ways is left out) that the
//     most of those runs log; ties go to a held-out metric (val, test,
//     eval) and then to the first key in alphabetical order. Trials of a
//     search (child runs) are tuning, not successive refinement.
//   - RerunsFailed: for a finished run, the ID of the latest earlier
//     failed or killed run with the same non-empty parameter set, or
//     the same run name, that no earlier finished run has re-run.
//
// Sequence reorders runs in place and resets every run's Succession.
func Sequence(runs []*Run) {
	slices.SortStableFunc(runs, func(a, b *Run) int {
		if c := when(a).Compare(when(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.NativeID, b.NativeID)
	})
	for i, r := range runs {
		r.Succession = Succession{Number: i + 1}
	}
	improvements(runs)
	reruns(runs)
}

func when(r *Run) time.Time {
	if !r.StartTime.IsZero() {
		return r.StartTime
	}
	return r.EndTime
}

var heldOut = regexp.MustCompile(`(?i)(^|[_./-])(val|valid|validation|test|eval|holdout)([_./-]|$)`)

// comparable says whether a run takes part in the improvement order.
func comparable(r *Run) bool {
	return r.ParentID == "" && r.Status != StatusFailed && r.Status != StatusKilled
}

func improvements(runs []*Run) {
	dirs := map[string]Direction{}
	conflict := map[string]bool{}
	count := map[string]int{}
	for _, r := range runs {
		if !comparable(r) {
			continue
		}
		seen := map[string]bool{}
		for _, m := range r.Metrics {
			d := m.Direction
			if d == DirectionUnknown {
				d = GuessDirection(m.Key)
			}
			if d == DirectionUnknown || m.Key == "" || seen[m.Key] {
				continue
			}
			if _, ok := bestOf(m.Points, d); !ok {
				continue
			}
			seen[m.Key] = true
			if old, ok := dirs[m.Key]; ok && old != d {
				conflict[m.Key] = true
			}
			dirs[m.Key] = d
			count[m.Key]++
		}
	}
	key := ""
	for k := range dirs {
		if conflict[k] {
			continue
		}
		if key == "" || count[k] > count[key] ||
			count[k] == count[key] && (heldOut.MatchString(k) && !heldOut.MatchString(key) ||
				heldOut.MatchString(k) == heldOut.MatchString(key) && k < key) {
			key = k
		}
	}
	if key == "" {
		return
	}
	dir := dirs[key]
	var leader *Run
	var lead float64
	for _, r := range runs {
		if !comparable(r) {
			continue
		}
		v, ok := runBest(r, key, dir)
		if !ok {
			continue
		}
		if leader == nil {
			leader, lead = r, v
			continue
		}
		if dir == Maximize && v > lead || dir == Minimize && v < lead {
			r.Succession.ImprovesOn = leader.NativeID
			r.Succession.Metric, r.Succession.Direction = key, dir
			r.Succession.Best, r.Succession.Previous = v, lead
			leader, lead = r, v
		}
	}
}

// runBest is a run's best finite value of metric key.
func runBest(r *Run, key string, dir Direction) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Key == key {
			return bestOf(m.Points, dir)
		}
	}
	return 0, false
}

func bestOf(pts []Point, dir Direction) (float64, bool) {
	found := false
	var best float64
	for _, p := range pts {
		v := p.Value
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if !found || dir == Maximize && v > best || dir == Minimize && v < best {
			best, found = v, true
		}
	}
	return best, found
}

func reruns(runs []*Run) {
	rerun := map[*Run]bool{}
	for i, r := range runs {
		if r.Status != StatusFinished {
			continue
		}
		for j := i - 1; j >= 0; j-- {
			f := runs[j]
			if f.Status != StatusFailed && f.Status != StatusKilled || rerun[f] {
				continue
			}
			sameParams := len(r.Params) > 0 && maps.Equal(r.Params, f.Params)
			sameName := r.Name != "" && r.Name == f.Name
			if sameParams || sameName {
				r.Succession.RerunsFailed = f.NativeID
				rerun[f] = true
				break
			}
		}
	}
}

package prometheus

import (
	"math"
	"testing"
	"time"
)

func TestWindowStart(t *testing.T) {
	mon := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC) // a Monday
	for _, tc := range []struct {
		t    time.Time
		w    time.Duration
		want time.Time
	}{
		{mon, week, mon},
		{mon.Add(-time.Nanosecond), week, mon.Add(-week)},
		{mon.Add(3*24*time.Hour + 5*time.Hour), week, mon},
		{mon.Add(13 * time.Hour), 6 * time.Hour, mon.Add(12 * time.Hour)},
		{time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), week, time.Date(1959, 12, 28, 0, 0, 0, 0, time.UTC)}, // before the epoch
	} {
		if got := windowStart(tc.t, tc.w); !got.Equal(tc.want) {
			t.Errorf("windowStart(%s, %s) = %s, want %s", tc.t, tc.w, got, tc.want)
		}
	}
}

func TestAutoStep(t *testing.T) {
	for _, tc := range []struct{ w, want time.Duration }{
		{week, time.Minute},                      // 10,080 points
		{30 * 24 * time.Hour, 236 * time.Second}, // 2,592,000 s / 11,000 = 235.6 → 236
		{time.Hour, time.Minute},
	} {
		got := autoStep(tc.w)
		if got != tc.want || tc.w/got > MaxPoints {
			t.Errorf("autoStep(%s) = %s, want %s", tc.w, got, tc.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	at := func(min int) time.Time { return fixedNow.Add(time.Duration(min) * time.Minute) }
	a := series{Points: []point{{at(0), 1}, {at(1), 5}, {at(2), math.NaN()}, {at(3), 2}, {at(10), 6}}}
	b := series{Points: []point{{at(1), 7}, {at(2), 0}}}
	st := summarize([]series{a, b}, time.Minute, &threshold{Value: 4})
	// Beyond 4: a at 1 (1 min), a at 10 (1 min, the last sample holds a
	// step), b at 1 (overlaps a's): 2 min.
	if st.Samples != 6 || st.NonFinite != 1 || st.Min != 0 || st.Max != 7 || st.Last != 6 || st.Beyond != 2*time.Minute {
		t.Errorf("stats %+v", st)
	}
	if want := (1 + 5 + 2 + 6 + 7 + 0) / 6.0; st.Mean != want {
		t.Errorf("mean %v, want %v", st.Mean, want)
	}
	below := summarize([]series{a}, time.Minute, &threshold{Value: 2, Below: true})
	if below.Beyond != time.Minute { // only the 1 at 0
		t.Errorf("below: %s", below.Beyond)
	}
	// Without a step, a sample holds until the next, at most the median gap.
	if got := summarize([]series{{Points: []point{{at(0), 9}, {at(1), 9}, {at(2), 0}}}}, 0, &threshold{Value: 4}); got.Beyond != 2*time.Minute {
		t.Errorf("median step: %s", got.Beyond)
	}
}

func TestFiringRuns(t *testing.T) {
	at := func(min int) point { return point{T: fixedNow.Add(time.Duration(min) * time.Minute), V: 1} }
	runs := firingRuns([]point{at(0), at(1), at(2), at(5), at(6)}, time.Minute)
	if len(runs) != 2 || !runs[0][1].Equal(at(2).T) || !runs[1][0].Equal(at(5).T) {
		t.Errorf("runs %v", runs)
	}
}

package mlflow_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
)

// TestCorpusSequence counts the runs of the two real stores that
// trainrun.Sequence gives each fact, and checks a few by hand.
func TestCorpusSequence(t *testing.T) {
	for _, tc := range []struct {
		rel                        string
		runs, improves, reruns     int
		improvesPairs, rerunsPairs map[string]string // run ID prefix → earlier run ID prefix
		neverRerun                 []string
	}{
		// Three experiments; GridSearchCV trials (child runs) are not
		// compared. log_loss is the metric every top-level run shares.
		// All six failed runs (Baseline_*) were re-run.
		{"mlflow-abtest/notebooks/mlruns", 65, 5, 6,
			map[string]string{"31b2d3ee": "468a4cf6", "ad778925": "31b2d3ee", "1c5b1f36": "2f84b024", "aeaa406a": "1c5b1f36", "470f5939": "ca6ce1d9"},
			map[string]string{"b5b1dbec": "70630ae4", "ace4fcd0": "68fc2e4e", "88f4f0ff": "36355d0b"},
			nil},
		// The pipeline retrains the same two models on the same data:
		// only RandomForest's first run beats LogisticRegression's
		// (accuracy 0.795 > 0.731). Six of nine failed
		// LogisticRegression runs were re-run; the last three were not.
		{"churn-pipeline/mlruns", 68, 1, 6,
			map[string]string{"e1dc7446": "9f8a2292"},
			map[string]string{"63b012fc": "6e6359dd", "2add1af6": "980e3be6", "758f77ef": "7a4c300b", "3a9f7578": "0cac9e7c"},
			[]string{"c6d3fdab", "bfd3adb9", "3aec329c"}},
	} {
		t.Run(tc.rel, func(t *testing.T) {
			s, err := collectAll(t, newFile(t, corpustest.Dir(t, tc.rel), nil))
			if err != nil {
				t.Fatalf("collect: %v", err)
			}
			byPrefix := map[string]evidence.Item{}
			numbered, improves, reruns := 0, 0, 0
			failedRerun := map[any]bool{}
			for _, it := range byKind(s, evidence.KindTrainingRun) {
				byPrefix[it.Origin.NativeID[:8]] = it
				if n := fmt.Sprint(it.Facts["experiment_run_number"]); n != "<nil>" && n != "0" {
					numbered++
				}
				if _, ok := it.Facts["improves_on"]; ok {
					improves++
				}
				if f, ok := it.Facts["reruns_failed"]; ok {
					reruns++
					failedRerun[f] = true
				}
			}
			if numbered != tc.runs || improves != tc.improves || reruns != tc.reruns {
				t.Errorf("%d runs numbered, %d improve on an earlier one, %d re-run a failed one; want %d, %d, %d",
					numbered, improves, reruns, tc.runs, tc.improves, tc.reruns)
			}
			if len(failedRerun) != reruns {
				t.Errorf("%d reruns of %d failed runs: a failed run re-run twice", reruns, len(failedRerun))
			}
			check := func(fact string, pairs map[string]string) {
				for run, earlier := range pairs {
					got, _ := byPrefix[run].Facts[fact].(string)
					if len(got) < 8 || got[:8] != earlier {
						t.Errorf("run %s: %s %q, want %s…", run, fact, got, earlier)
					}
				}
			}
			check("improves_on", tc.improvesPairs)
			check("reruns_failed", tc.rerunsPairs)
			for _, id := range tc.neverRerun {
				if it := byPrefix[id]; it.Facts["status"] != "failed" || failedRerun[it.Origin.NativeID] {
					t.Errorf("run %s (%v) is re-run or not failed", id, it.Facts["status"])
				}
			}
		})
	}
	// The first run of an experiment that improves gives the numbers.
	s, _ := collectAll(t, newFile(t, corpustest.Dir(t, "churn-pipeline/mlruns"), nil))
	for _, it := range byKind(s, evidence.KindTrainingRun) {
		if it.Origin.NativeID[:8] != "e1dc7446" {
			continue
		}
		imp, _ := it.Facts["improvement"].(map[string]any)
		if fmt.Sprint(it.Facts["experiment_run_number"]) != "2" || imp["metric"] != "accuracy" || imp["direction"] != "max" ||
			imp["best"] != 0.7953091684434968 || imp["previous"] != 0.7306325515280739 {
			t.Errorf("run e1dc7446: number %v, improvement %v", it.Facts["experiment_run_number"], imp)
		}
	}
}

// TestServerSequenceFromCursor checks that a new run of an experiment is
// compared with the earlier runs' whole histories, kept in the cursor,
// without fetching those again; and that a full collection agrees.
func TestServerSequenceFromCursor(t *testing.T) {
	r := newReplay(t)
	r.clean = true
	// acc and loss are logged by both; acc comes first. Run 7's acc gets to
	// 1.8, run 6's to 0.9 (its latest value is NaN: only the history says).
	r.scale = map[string]float64{srvRunID(7): 2}
	srv := httptest.NewServer(r)
	defer srv.Close()
	c := newServerCollector(t, srv, bearer(t))
	cur, err := c.Collect(context.Background(), nil, &collectortest.Sink{})
	if err != nil {
		t.Fatal(err)
	}
	history6 := func() (n int) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for k, v := range r.calls {
			if strings.Contains(k, "get-history?"+srvRunID(6)) {
				n += v
			}
		}
		return n
	}
	before := history6()
	r.mu.Lock()
	r.grow = true
	r.mu.Unlock()
	s := &collectortest.Sink{}
	if _, err := c.Collect(context.Background(), cur, s); err != nil {
		t.Fatal(err)
	}
	if n := history6() - before; n != 0 {
		t.Errorf("from the cursor: %d history requests of unchanged run 6", n)
	}
	want := map[string]any{"experiment_run_number": "2", "improves_on": srvRunID(6),
		"improvement": "map[best:1.8 direction:max metric:acc previous:0.9]"}
	check := func(how string, s *collectortest.Sink) {
		n := 0
		for _, it := range s.Items() {
			if it.Origin.NativeID != srvRunID(7) {
				continue
			}
			n++
			for k, v := range want {
				if got := fmt.Sprint(it.Facts[k]); got != v {
					t.Errorf("%s: run 7 %s = %s, want %s", how, k, got, v)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: run 7 emitted %d times", how, n)
		}
	}
	check("from the cursor", s)
	full := &collectortest.Sink{}
	if _, err := newServerCollector(t, srv, bearer(t)).Collect(context.Background(), nil, full); err != nil {
		t.Fatal(err)
	}
	check("in full", full)
}

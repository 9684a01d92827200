package trainrun_test

import (
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
)

// seqRun is a run of the Sequence table: started at minute at, with one
// value per metric.
type seqRun struct {
	id, name string
	at       int
	status   trainrun.Status
	parent   string
	params   map[string]string
	metrics  map[string]float64
	declared map[string]trainrun.Direction
}

func (s seqRun) run() *trainrun.Run {
	r := &trainrun.Run{SourceType: "mlflow", NativeID: s.id, Name: s.name, Status: s.status, ParentID: s.parent,
		Params: s.params, StartTime: time.Date(2026, 3, 1, 9, s.at, 0, 0, time.UTC)}
	if r.Status == "" {
		r.Status = trainrun.StatusFinished
	}
	for k, v := range s.metrics {
		// two points: the best is the better of the two for either direction
		r.Metrics = append(r.Metrics, trainrun.Metric{Key: k, Direction: s.declared[k],
			Points: []trainrun.Point{{Step: 0, Value: v}, {Step: 1, Value: v}}})
	}
	return r
}

func TestSequence(t *testing.T) {
	lr := func(v string) map[string]string { return map[string]string{"lr": v} }
	type want struct {
		number         int
		improves, rrun string
		metric         string
	}
	for _, tc := range []struct {
		name string
		runs []seqRun
		want map[string]want
	}{
		{"improving loss, given out of order", []seqRun{
			{id: "x", at: 3, metrics: map[string]float64{"val_loss": 0.3}},
			{id: "z", at: 1, metrics: map[string]float64{"val_loss": 0.5}},
			{id: "y", at: 2, metrics: map[string]float64{"val_loss": 0.4}},
		}, map[string]want{"z": {number: 1}, "y": {2, "z", "", "val_loss"}, "x": {3, "y", "", "val_loss"}}},
		{"not improving: a later run beats the one before but not the best", []seqRun{
			{id: "a", at: 1, metrics: map[string]float64{"accuracy": 0.90}},
			{id: "b", at: 2, metrics: map[string]float64{"accuracy": 0.80}},
			{id: "c", at: 3, metrics: map[string]float64{"accuracy": 0.85}},
			{id: "d", at: 4, metrics: map[string]float64{"accuracy": 0.91}},
		}, map[string]want{"a": {number: 1}, "b": {number: 2}, "c": {number: 3}, "d": {4, "a", "", "accuracy"}}},
		{"a tie is no improvement; the earliest of equals leads", []seqRun{
			{id: "a", at: 1, metrics: map[string]float64{"auc": 0.8}},
			{id: "b", at: 2, metrics: map[string]float64{"auc": 0.8}},
			{id: "c", at: 3, metrics: map[string]float64{"auc": 0.81}},
		}, map[string]want{"a": {number: 1}, "b": {number: 2}, "c": {3, "a", "", "auc"}}},
		{"mixed directions: the shared metric decides, not the other", []seqRun{
			{id: "a", at: 1, metrics: map[string]float64{"loss": 0.5, "f1": 0.7}},
			{id: "b", at: 2, metrics: map[string]float64{"loss": 0.6, "f1": 0.8}},
			{id: "c", at: 3, metrics: map[string]float64{"loss": 0.4}},
		}, map[string]want{"a": {number: 1}, "b": {number: 2}, "c": {3, "a", "", "loss"}}},
		{"a declared direction wins over the guess", []seqRun{
			{id: "a", at: 1, metrics: map[string]float64{"score": 5}, declared: map[string]trainrun.Direction{"score": trainrun.Minimize}},
			{id: "b", at: 2, metrics: map[string]float64{"score": 3}, declared: map[string]trainrun.Direction{"score": trainrun.Minimize}},
		}, map[string]want{"a": {number: 1}, "b": {2, "a", "", "score"}}},
		{"a key declared both ways is not the main metric", []seqRun{
			{id: "a", at: 1, metrics: map[string]float64{"score": 3, "zz_loss": 2}, declared: map[string]trainrun.Direction{"score": trainrun.Minimize}},
			{id: "b", at: 2, metrics: map[string]float64{"score": 5, "zz_loss": 3}, declared: map[string]trainrun.Direction{"score": trainrun.Maximize}},
		}, map[string]want{"a": {number: 1}, "b": {number: 2}}},
		{"held-out metric breaks a tie of counts", []seqRun{
			{id: "a", at: 1, metrics: map[string]float64{"accuracy": 0.9, "val_accuracy": 0.7}},
			{id: "b", at: 2, metrics: map[string]float64{"accuracy": 0.8, "val_accuracy": 0.75}},
		}, map[string]want{"a": {number: 1}, "b": {2, "a", "", "val_accuracy"}}},
		{"failed runs and search trials are not compared", []seqRun{
			{id: "a", at: 1, metrics: map[string]float64{"loss": 0.5}},
			{id: "b", at: 2, status: trainrun.StatusFailed, metrics: map[string]float64{"loss": 0.1}},
			{id: "c", at: 3, parent: "a", metrics: map[string]float64{"loss": 0.2}},
			{id: "d", at: 4, metrics: map[string]float64{"loss": 0.45}},
		}, map[string]want{"a": {number: 1}, "b": {number: 2}, "c": {number: 3}, "d": {4, "a", "", "loss"}}},
		{"a failed run then a successful rerun with the same params", []seqRun{
			{id: "a", at: 1, status: trainrun.StatusFailed, params: lr("0.1")},
			{id: "b", at: 2, params: lr("0.01")},
			{id: "c", at: 3, params: lr("0.1")},
			{id: "d", at: 4, params: lr("0.1")},
		}, map[string]want{"a": {number: 1}, "b": {number: 2}, "c": {number: 3, rrun: "a"}, "d": {number: 4}}},
		{"a killed run re-run under the same name, other params", []seqRun{
			{id: "a", name: "resnet-big", at: 1, status: trainrun.StatusKilled, params: lr("0.1")},
			{id: "b", name: "resnet-big", at: 2, params: lr("0.05")},
		}, map[string]want{"a": {number: 1}, "b": {number: 2, rrun: "a"}}},
		{"a failed run never re-run", []seqRun{
			{id: "a", name: "one", at: 1, status: trainrun.StatusFailed, params: lr("0.1")},
			{id: "b", name: "two", at: 2, params: lr("0.2")},
			{id: "c", name: "three", at: 3, status: trainrun.StatusRunning, params: lr("0.1")},
			{id: "d", name: "four", at: 4, status: trainrun.StatusFailed, params: lr("0.1")},
		}, map[string]want{"a": {number: 1}, "b": {number: 2}, "c": {number: 3}, "d": {number: 4}}},
		{"no params and no names match nothing", []seqRun{
			{id: "a", at: 1, status: trainrun.StatusFailed},
			{id: "b", at: 2},
		}, map[string]want{"a": {number: 1}, "b": {number: 2}}},
		{"equal start times are ordered by ID", []seqRun{
			{id: "b", at: 1, metrics: map[string]float64{"loss": 0.1}},
			{id: "a", at: 1, metrics: map[string]float64{"loss": 0.2}},
		}, map[string]want{"a": {number: 1}, "b": {2, "a", "", "loss"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := make([]*trainrun.Run, len(tc.runs))
			for i, s := range tc.runs {
				runs[i] = s.run()
			}
			trainrun.Sequence(runs)
			for i, r := range runs {
				if r.Succession.Number != i+1 {
					t.Errorf("runs[%d] is %s numbered %d: not in order", i, r.NativeID, r.Succession.Number)
				}
				w := tc.want[r.NativeID]
				s := r.Succession
				if s.Number != w.number || s.ImprovesOn != w.improves || s.RerunsFailed != w.rrun || s.Metric != w.metric {
					t.Errorf("run %s: number %d, improves on %q by %q, reruns %q; want %d, %q by %q, %q",
						r.NativeID, s.Number, s.ImprovesOn, s.Metric, s.RerunsFailed, w.number, w.improves, w.metric, w.rrun)
				}
			}
		})
	}
}

func TestSequenceFacts(t *testing.T) {
	a := seqRun{id: "a", at: 1, status: trainrun.StatusFailed, params: map[string]string{"lr": "0.1"}}.run()
	b := seqRun{id: "b", at: 2, metrics: map[string]float64{"val_loss": 0.5}}.run()
	c := seqRun{id: "c", at: 3, params: map[string]string{"lr": "0.1"}, metrics: map[string]float64{"val_loss": 0.25}}.run()
	trainrun.Sequence([]*trainrun.Run{c, a, b})
	em, err := trainrun.Build(*c, trainrun.Meta{Apprentice: "jdoe", Source: "runs"})
	if err != nil {
		t.Fatal(err)
	}
	f := em.Item.Facts
	imp, _ := f["improvement"].(map[string]any)
	if f["experiment_run_number"] != 3 || f["improves_on"] != "b" || f["reruns_failed"] != "a" ||
		imp["metric"] != "val_loss" || imp["direction"] != "min" || imp["best"] != 0.25 || imp["previous"] != 0.5 {
		t.Errorf("facts: number %v, improves_on %v, improvement %v, reruns_failed %v", f["experiment_run_number"],
			f["improves_on"], imp, f["reruns_failed"])
	}
	em, err = trainrun.Build(*seqRun{id: "z", at: 1}.run(), trainrun.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"experiment_run_number", "improves_on", "improvement", "reruns_failed"} {
		if v, ok := em.Item.Facts[k]; ok {
			t.Errorf("a run never sequenced has fact %s = %v", k, v)
		}
	}
}

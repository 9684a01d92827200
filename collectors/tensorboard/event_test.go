package tensorboard

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestDecodeEventScalars(t *testing.T) {
	tests := []struct {
		name   string
		value  []byte
		want   float64
		tensor bool
		plugin string
	}{
		{"simple_value", simpleValue("loss", 0.25), 0.25, false, ""},
		{"tensor_content float", tensorValue("epoch_loss", floatContent(1.5), true), 1.5, true, "scalars"},
		{"float_val", tensorValue("epoch_loss", floatVal(-2), false), -2, true, ""},
		{"double_val", tensorValue("lr", doubleVal(1e-3), true), 1e-3, true, "scalars"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeEvent(eventMsg(1700000000.5, 42, tt.value))
			if err != nil {
				t.Fatal(err)
			}
			if ev.WallTime != 1700000000.5 || ev.Step != 42 || len(ev.Values) != 1 {
				t.Fatalf("event %+v", ev)
			}
			v := ev.Values[0]
			if !v.HasScalar || v.Scalar != tt.want || v.Tensor != tt.tensor || v.Plugin != tt.plugin {
				t.Errorf("value %+v, want %v (tensor %v, plugin %q)", v, tt.want, tt.tensor, tt.plugin)
			}
		})
	}
}

func TestDecodeEventNotScalar(t *testing.T) {
	// A 2-element tensor is not a scalar.
	two := pbVarint(nil, 1, dtFloat)
	two = pbBytes(two, 5, []byte{0, 0, 128, 63, 0, 0, 0, 64})
	ev, err := DecodeEvent(eventMsg(1, 1, tensorValue("hist", two, false)))
	if err != nil || len(ev.Values) != 1 || ev.Values[0].HasScalar {
		t.Fatalf("%+v, %v", ev, err)
	}
	if _, err := DecodeEvent([]byte{0x0a, 0x05, 'a'}); err == nil {
		t.Error("a truncated message decoded")
	}
	if _, err := DecodeEvent(pbVarint(nil, 1, 3)); err == nil {
		t.Error("wall_time as a varint decoded")
	}
}

func TestHalfToFloat(t *testing.T) {
	for h, want := range map[uint16]float64{0x3c00: 1, 0xc000: -2, 0x3800: 0.5, 0x0000: 0, 0x7c00: math.Inf(1)} {
		if got := halfToFloat(h); got != want {
			t.Errorf("halfToFloat(%#x) = %v, want %v", h, got, want)
		}
	}
}

// TestReadRunPluginsAndHParams: metadata on a tag's first value only still
// marks later tensor values of that tag as scalars; the hparams plugin's
// experiment, session start and end are read; tensors of other plugins
// are not scalars.
func TestReadRunPluginsAndHParams(t *testing.T) {
	dir := t.TempDir()
	b := eventFile(
		fileVersionMsg(1700000000),
		eventMsg(1700000000, 0, hparamsExperiment("sweep", []string{"lr", "opt"}, []string{"val/loss"})),
		eventMsg(1700000000, 0, hparamsStart(map[string]any{"lr": 0.01, "opt": "adam", "bn": true}, "g1")),
		eventMsg(1700000001, 0, tensorValue("epoch_loss", floatContent(0.9), true)),
		eventMsg(1700000002, 1, tensorValue("epoch_loss", floatContent(0.5), false)),
		eventMsg(1700000002, 1, pbBytes(pbBytes(pbString(nil, 1, "note"), 8, floatContent(7)), 9, metadata("text", nil))),
		eventMsg(1700000003, 2, tensorValue("note", floatContent(8), false)),
		eventMsg(1700000004, 2, hparamsEnd(2)),
	)
	if err := os.WriteFile(filepath.Join(dir, "events.out.tfevents.1.host"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	rds, err := discoverRuns(context.Background(), dir, func(w, y string) { t.Errorf("skip %s: %s", w, y) })
	if err != nil || len(rds) != 1 {
		t.Fatalf("runs %v, %v", rds, err)
	}
	run, err := readRun(context.Background(), rds[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Series) != 1 || run.Series["epoch_loss"] == nil || run.Series["epoch_loss"].Count != 2 ||
		run.Series["epoch_loss"].Last.Value != 0.5 || run.Series["epoch_loss"].Min != 0.5 {
		t.Errorf("series %v", run.Series)
	}
	want := &HParams{Values: map[string]any{"lr": 0.01, "opt": "adam", "bn": true}, GroupName: "g1", StartTime: 1700000000,
		EndTime: 1700000100, Status: "failure", Experiment: "sweep", HParamNames: []string{"lr", "opt"}, MetricTags: []string{"val/loss"}}
	if !reflect.DeepEqual(run.HParams, want) {
		t.Errorf("hparams\n%+v, want\n%+v", run.HParams, want)
	}
	if run.Name != "." || run.Events != 8 || run.FileVersion != "brain.Event:2" {
		t.Errorf("run %s: %d events, version %q", run.Name, run.Events, run.FileVersion)
	}
}

// TestSeriesThinning: past maxPoints, points are thinned but the count,
// extremes and last point see every value.
func TestSeriesThinning(t *testing.T) {
	var s Series
	n := 5*maxPoints + 3
	for i := 0; i < n; i++ {
		s.add(Point{Step: int64(i), Value: float64(i % 1000)})
	}
	if s.Count != n || s.Min != 0 || s.Max != 999 || s.Last.Step != int64(n-1) || s.First.Step != 0 {
		t.Errorf("count %d min %v max %v first %v last %v", s.Count, s.Min, s.Max, s.First, s.Last)
	}
	if len(s.Points) >= 2*maxPoints || len(s.Points) < maxPoints/2 {
		t.Errorf("%d points kept", len(s.Points))
	}
	for i := 1; i < len(s.Points); i++ {
		if s.Points[i].Step <= s.Points[i-1].Step {
			t.Fatalf("points out of order at %d", i)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add(eventMsg(1, 2, simpleValue("loss", 0.5), append(simpleValue("acc", 0.5), 0x38, 0x01)))
	f.Add(fileVersionMsg(1))
	f.Add(eventMsg(1, 2, simpleValue("loss", 0.5)))
	f.Add(eventMsg(1, 2, tensorValue("acc", floatContent(0.5), true)))
	f.Add(eventMsg(1, 2, hparamsStart(map[string]any{"lr": 0.1, "name": "x"}, "g")))
	f.Add(eventMsg(1, 2, hparamsExperiment("e", []string{"lr"}, []string{"loss"})))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent(b)
		var slow Event
		slowErr := (&eventDecoder{noFast: true}).decode(b, &slow)
		if (err == nil) != (slowErr == nil) || fmt.Sprintf("%+v", ev) != fmt.Sprintf("%+v", slow) { // %v: NaN equals NaN
			t.Fatalf("the short path decoded %+v (%v), the general one %+v (%v)", ev, err, slow, slowErr)
		}
		if err != nil {
			return
		}
		run := &Run{Series: map[string]*Series{}}
		run.addEvent(&ev, map[string]string{})
		if run.Events != 1 {
			t.Fatal("event not counted")
		}
	})
}

// TestReadRunVanishedFile: a file removed between discovery and reading
// fails its run with an error that names the file once.
func TestReadRunVanishedFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "events.out.tfevents.1.h")
	if err := os.WriteFile(p, eventFile(fileVersionMsg(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	rds, err := discoverRuns(context.Background(), dir, func(string, string) {})
	if err != nil || len(rds) != 1 {
		t.Fatal(rds, err)
	}
	os.Remove(p)
	_, err = readRun(context.Background(), rds[0])
	if err == nil || err.Error() != "events.out.tfevents.1.h: open: no such file or directory" {
		t.Errorf("error %v", err)
	}
}

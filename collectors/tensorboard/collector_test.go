package tensorboard_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/tensorboard"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
)

const (
	lightning = "tensorboard-lightning"
	keras     = "tensorboard-keras"
)

var fixedNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newCollector(t testing.TB, dir string) collectors.Collector {
	t.Helper()
	c, err := tensorboard.New(tensorboard.Config{Name: "experiments", Path: dir, Apprentice: "jdoe"},
		collectors.Settings{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// copyTree copies a folder (event files and all) into a temporary one.
func copyTree(t testing.TB, src string) string {
	dst := filepath.Join(t.TempDir(), "logs")
	collectortest.CopyDir(t, src, dst)
	return dst
}

func byRun(items []evidence.Item) map[string]evidence.Item {
	out := map[string]evidence.Item{}
	for _, it := range items {
		out[it.Facts["run_name"].(string)] = it
	}
	return out
}

func metricFacts(t testing.TB, it evidence.Item) map[string]any {
	t.Helper()
	m, _ := it.Facts["metrics"].(map[string]any)
	return m
}

// TestLightningCorpus: every scalar series of every Lightning run is read,
// with as many points as the files hold values of that tag (counted in
// the raw bytes: a simple_value Value holds its tag once), and the hparams
// of version_20.
func TestLightningCorpus(t *testing.T) {
	dir := corpustest.Dir(t, lightning)
	s, _, err := collectortest.Collect(t, newCollector(t, dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sk := s.Skips(); len(sk) != 0 {
		t.Errorf("skips on the clean corpus: %v", sk)
	}
	runs := byRun(s.Items())
	want := map[string][]string{
		"lightning_logs/version_17": {"accuracy", "epoch", "train_acc", "val_acc"},
		"lightning_logs/version_18": {"accuracy", "epoch", "train_acc", "val_acc"},
		"lightning_logs/version_19": {"epoch", "test_acc", "train_acc", "val_acc"},
		"lightning_logs/version_20": {"epoch", "hp_metric", "test_acc", "train_acc", "val_acc"},
	}
	if len(runs) != len(want) {
		t.Fatalf("%d runs, want %d: %v", len(runs), len(want), keys(runs))
	}
	for name, tags := range want {
		it, ok := runs[name]
		if !ok {
			t.Errorf("run %s missing", name)
			continue
		}
		ms := metricFacts(t, it)
		if got := keys(ms); !slices.Equal(got, tags) {
			t.Errorf("%s: series %v, want %v", name, got, tags)
		}
		raw := readEventBytes(t, filepath.Join(dir, name))
		for _, tag := range tags {
			if tag == "hp_metric" {
				continue // also named in the hparams experiment definition
			}
			m, _ := ms[tag].(map[string]any)
			if n := bytes.Count(raw, append([]byte{0x0a, byte(len(tag))}, tag...)); m == nil || int(m["points"].(float64)) != n {
				t.Errorf("%s %s: %v points, the files hold %d", name, tag, m["points"], n)
			}
		}
		if it.Facts["hardware"].(map[string]any)["host"] != "jithish-ThinkPad-P53" {
			t.Errorf("%s: hardware %v", name, it.Facts["hardware"])
		}
	}
	v20 := runs["lightning_logs/version_20"]
	if p := v20.Facts["params"].(map[string]any); p["learning_rate"] != "0.05" {
		t.Errorf("version_20 params %v, want learning_rate 0.05 (hparams.yaml says so)", p)
	}
	if v20.Facts["status"] != "finished" {
		t.Errorf("version_20 status %v", v20.Facts["status"])
	}
	svg, ok := s.File(v20.ID, trainrun.ChartName)
	if !ok {
		t.Fatal("version_20 has no chart")
	}
	// The chart parses as XML and has one path per series of 2 or more
	// points (epoch, hp_metric, train_acc, val_acc; test_acc has one).
	paths := 0
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "path" {
			paths++
		}
	}
	if paths != 4 {
		t.Errorf("chart has %d paths, want 4", paths)
	}
}

// readEventBytes concatenates a run folder's event files.
func readEventBytes(t testing.TB, dir string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, e := range entries {
		if !strings.Contains(e.Name(), "tfevents") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestKerasCorpus: every Keras run reads epoch_loss and epoch_accuracy
// for each of its 10 epochs. The corpus's files (TF 2 Keras callback,
// written through MLflow autolog) in fact hold simple_value scalars (wire
// tag 0x15 after each tag, no "scalars" plugin metadata), so the
// subtest "tensors" rewrites them as tf.summary.scalar writes tensors
// and checks that the same series come out.
func TestKerasCorpus(t *testing.T) {
	dir := corpustest.Dir(t, keras)
	s, _, err := collectortest.Collect(t, newCollector(t, dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkKeras(t, s)
	t.Run("tensors", func(t *testing.T) {
		tdir := copyTree(t, dir)
		n := 0
		err := filepath.WalkDir(tdir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !strings.HasSuffix(p, ".v2") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			tb, err := tensorboard.AsTF2Tensors(b)
			if err != nil {
				return err
			}
			n++
			return os.WriteFile(p, tb, 0o644)
		})
		if err != nil || n != 3 {
			t.Fatalf("rewrote %d files: %v", n, err)
		}
		ts, _, err := collectortest.Collect(t, newCollector(t, tdir), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkKeras(t, ts)
		want := map[string]any{}
		for _, it := range s.Items() {
			want[it.Facts["run_name"].(string)] = it.Facts["metrics"]
		}
		for _, it := range ts.Items() {
			if got := it.Facts["metrics"]; !reflect.DeepEqual(got, want[it.Facts["run_name"].(string)]) {
				t.Errorf("%s: tensor-encoded metrics %v, simple_value ones %v", it.Facts["run_name"], got, want[it.Facts["run_name"].(string)])
			}
		}
	})
}

func checkKeras(t *testing.T, s *collectortest.Sink) {
	t.Helper()
	items := s.Items()
	if len(items) != 3 {
		t.Fatalf("%d runs, want 3", len(items))
	}
	for _, it := range items {
		ms := metricFacts(t, it)
		for _, tag := range []string{"epoch_loss", "epoch_accuracy"} {
			m, _ := ms[tag].(map[string]any)
			if m == nil || m["points"].(float64) != 10 || m["final_step"].(float64) != 9 {
				t.Errorf("%s %s: %v, want 10 points up to step 9", it.Facts["run_name"], tag, m)
			}
		}
		if !strings.HasSuffix(it.Facts["run_name"].(string), "/train") || it.Facts["experiment"] == nil {
			t.Errorf("run %v in experiment %v", it.Facts["run_name"], it.Facts["experiment"])
		}
		if best := it.Facts["best_metrics"].(map[string]any); best["epoch_loss"] == nil || best["epoch_accuracy"] == nil {
			t.Errorf("best metrics %v", best)
		}
	}
}

// TestDamagedCopies: a truncated copy of an event file is reported, not a
// failure; a flipped byte costs one counted record and reading resumes;
// empty and tiny files are fine.
func TestDamagedCopies(t *testing.T) {
	src := filepath.Join(corpustest.Dir(t, lightning), "lightning_logs/version_20")
	const file = "events.out.tfevents.1707963507.jithish-ThinkPad-P53.52223.0"
	clean, _, err := collectortest.Collect(t, newCollector(t, copyTree(t, src)), nil)
	if err != nil {
		t.Fatal(err)
	}
	cleanVal := metricFacts(t, clean.Items()[0])["val_acc"].(map[string]any)["points"].(float64)

	t.Run("truncated", func(t *testing.T) {
		dir := copyTree(t, src)
		p := filepath.Join(dir, file)
		b, _ := os.ReadFile(p)
		if err := os.WriteFile(p, b[:len(b)-37], 0o644); err != nil {
			t.Fatal(err)
		}
		s, _, err := collectortest.Collect(t, newCollector(t, dir), nil)
		if err != nil {
			t.Fatalf("a truncated file failed the collection: %v", err)
		}
		if sk := s.Skips(); len(sk) != 1 || !strings.Contains(sk[0].Reason, "incomplete last record") {
			t.Errorf("skips %v, want one incomplete record", sk)
		}
		if len(s.Items()) != 1 {
			t.Fatalf("%d items", len(s.Items()))
		}
		if f := s.Items()[0].Facts["tensorboard"].(map[string]any); f["incomplete_files"] != 1.0 {
			t.Errorf("facts %v", f)
		}
	})
	t.Run("flipped byte", func(t *testing.T) {
		dir := copyTree(t, src)
		p := filepath.Join(dir, file)
		b, _ := os.ReadFile(p)
		i := bytes.Index(b, []byte("val_acc"))
		b[i+2] ^= 0x20 // in a record's data: its data checksum fails
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, _, err := collectortest.Collect(t, newCollector(t, dir), nil)
		var pe *collectors.PartialError
		if !errors.As(err, &pe) || pe.Failed != 1 {
			t.Fatalf("collection returned %v, want a partial error of 1", err)
		}
		if sk := s.Skips(); len(sk) != 1 || !strings.Contains(sk[0].Reason, "checksum") {
			t.Errorf("skips %v", sk)
		}
		got := metricFacts(t, s.Items()[0])["val_acc"].(map[string]any)["points"].(float64)
		if got != cleanVal-1 {
			t.Errorf("val_acc has %v points, want %v (one record lost, the rest read)", got, cleanVal-1)
		}
	})
	t.Run("empty and tiny files", func(t *testing.T) {
		dir := copyTree(t, src)
		if err := os.WriteFile(filepath.Join(dir, "events.out.tfevents.1707999999.host.1.0"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "only empty"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "only empty", "events.out.tfevents.1.h"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		s, _, err := collectortest.Collect(t, newCollector(t, dir), nil)
		if err != nil || len(s.Items()) != 1 || len(s.Skips()) != 0 {
			t.Fatalf("%d items, skips %v, %v", len(s.Items()), s.Skips(), err)
		}
	})
}

// TestIncremental: from the cursor nothing is read again; a file that
// grows re-emits its run only, with the new points.
func TestIncremental(t *testing.T) {
	dir := copyTree(t, corpustest.Dir(t, lightning))
	c := newCollector(t, dir)
	first, cur, err := collectortest.Collect(t, c, nil)
	if err != nil || len(first.Items()) != 4 {
		t.Fatalf("%d items, %v", len(first.Items()), err)
	}
	again, cur, err := collectortest.Collect(t, c, cur)
	if err != nil || len(again.Items()) != 0 {
		t.Fatalf("rerun emitted %d items, %v", len(again.Items()), err)
	}
	p := filepath.Join(dir, "lightning_logs/version_19/events.out.tfevents.1707958029.jithish-ThinkPad-P53.33306.0")
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(tensorboard.AppendScalarEvent(nil, 1707958300, 5000, "val_acc", 0.99)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	grown, _, err := collectortest.Collect(t, c, cur)
	if err != nil || len(grown.Items()) != 1 {
		t.Fatalf("after growth %d items, %v", len(grown.Items()), err)
	}
	m := metricFacts(t, grown.Items()[0])["val_acc"].(map[string]any)
	if m["final_step"].(float64) != 5000 || m["final"].(float64) < 0.98 {
		t.Errorf("val_acc after growth %v", m)
	}
}

func TestMissingFolder(t *testing.T) {
	_, _, err := collectortest.Collect(t, newCollector(t, filepath.Join(t.TempDir(), "nope")), nil)
	if !errors.Is(err, collectors.ErrSourceMissing) {
		t.Errorf("missing folder: %v", err)
	}
}

func TestConformance(t *testing.T) {
	dir := copyTree(t, corpustest.Dir(t, lightning))
	collectortest.Check(t, collectortest.Fixture{
		New:  func(t testing.TB) collectors.Collector { return newCollector(t, dir) },
		Dirs: []string{dir},
		Grow: func(t testing.TB) {
			run := filepath.Join(dir, "lightning_logs", "version 21 (retry)")
			if err := os.MkdirAll(run, 0o755); err != nil {
				t.Fatal(err)
			}
			b := tensorboard.AppendScalarEvent(nil, 1708000000, 1, "val_loss", 0.4)
			b = tensorboard.AppendScalarEvent(b, 1708000010, 2, "val_loss", 0.3)
			if err := os.WriteFile(filepath.Join(run, "events.out.tfevents.1708000000.box.1.0"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		MinItems: 4,
	})
}

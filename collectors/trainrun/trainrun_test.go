package trainrun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

func curve(n int, f func(i int) float64) []trainrun.Point {
	pts := make([]trainrun.Point, n)
	for i := range pts {
		pts[i] = trainrun.Point{Step: int64(i), Time: t0.Add(time.Duration(i) * time.Second), Value: f(i)}
	}
	return pts
}

func sampleRun() trainrun.Run {
	return trainrun.Run{
		SourceType: "mlflow", NativeID: "abc123", URI: "file:///m/mlruns/1/abc123", Name: "xgb-depth6",
		Experiment: "churn", ExperimentID: "1", Status: trainrun.StatusFinished,
		StartTime: t0, EndTime: t0.Add(90 * time.Second), User: "jdoe",
		Params: map[string]string{"max_depth": "6", "eta": "0.1"},
		Metrics: []trainrun.Metric{
			{Key: "val_loss", Points: curve(10, func(i int) float64 { return 1/float64(i+1) + float64(i)/50 })},
			{Key: "val_accuracy", Points: curve(10, func(i int) float64 { return 0.5 + float64(i)/30 })},
			{Key: "lr", Points: []trainrun.Point{{Value: 0.1}}},
		},
		Datasets:  []trainrun.Dataset{{Name: "churn-train", Digest: "d41d8cd9", Source: "s3://b/train.csv", Context: "training"}},
		Hardware:  trainrun.Hardware{Host: "gpu-box", GPU: "NVIDIA A10G", GPUCount: 1},
		ParentID:  "parent9",
		GitCommit: "5225820CE944C3BE84CF07AC86B900C4B124D776",
		KSBs:      []string{"s10", "S10", "nope"},
	}
}

// roundTrip gives the facts as a reader of the ledger sees them.
func roundTrip(t *testing.T, it evidence.Item) evidence.Item {
	t.Helper()
	b, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	var out evidence.Item
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuildFacts(t *testing.T) {
	e, err := trainrun.Build(sampleRun(), trainrun.Meta{Apprentice: "jdoe", Source: "tracking", CollectedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Item.Validate(); err != nil {
		t.Fatalf("item does not validate: %v", err)
	}
	it := roundTrip(t, e.Item)
	if it.Kind != evidence.KindTrainingRun || it.ID != evidence.NewID("mlflow", "abc123") {
		t.Errorf("kind %s id %s", it.Kind, it.ID)
	}
	f := it.Facts
	checks := map[string]any{
		"status": "finished", "run_name": "xgb-depth6", "experiment": "churn", "duration_seconds": 90.0,
		"param_count": 2.0, "metric_count": 3.0, "parent_run_id": "parent9", "is_child": true,
		"git_commit": "5225820CE944C3BE84CF07AC86B900C4B124D776", "user": "jdoe",
		"started_at": "2025-03-04T10:00:00Z", "ended_at": "2025-03-04T10:01:30Z",
	}
	for k, want := range checks {
		if f[k] != want {
			t.Errorf("facts.%s = %#v, want %#v", k, f[k], want)
		}
	}
	if p := f["params"].(map[string]any); p["max_depth"] != "6" {
		t.Errorf("params %v", p)
	}
	loss := f["metrics"].(map[string]any)["val_loss"].(map[string]any)
	// val_loss is 1/(i+1)+i/50: lowest at i=6 (0.262857…), last at i=9 (0.28).
	if loss["direction"] != "min" || loss["best_step"] != 6.0 || math.Abs(loss["final"].(float64)-0.28) > 1e-9 || loss["points"] != 10.0 {
		t.Errorf("val_loss summary %v", loss)
	}
	acc := f["metrics"].(map[string]any)["val_accuracy"].(map[string]any)
	if acc["direction"] != "max" || acc["best_step"] != 9.0 {
		t.Errorf("val_accuracy summary %v", acc)
	}
	if _, ok := f["metrics"].(map[string]any)["lr"].(map[string]any)["best"]; ok {
		t.Error("lr has no direction, yet a best value")
	}
	if f["best_metrics"].(map[string]any)["val_loss"] != loss["best"] || f["final_metrics"].(map[string]any)["lr"] != 0.1 {
		t.Errorf("best/final metrics %v %v", f["best_metrics"], f["final_metrics"])
	}
	if ds := f["datasets"].([]any)[0].(map[string]any); ds["digest"] != "d41d8cd9" || ds["context"] != "training" {
		t.Errorf("datasets %v", ds)
	}
	if hw := f["hardware"].(map[string]any); hw["gpu"] != "NVIDIA A10G" || hw["gpu_count"] != 1.0 {
		t.Errorf("hardware %v", hw)
	}
	want := []evidence.Link{
		{Rel: trainrun.RelChildOf, Item: evidence.NewID("mlflow", "parent9")},
		{Rel: trainrun.RelTrainedFrom, Item: evidence.NewID("git", "5225820ce944c3be84cf07ac86b900c4b124d776")},
	}
	if len(it.Links) != 2 || it.Links[0] != want[0] || it.Links[1] != want[1] {
		t.Errorf("links %v, want %v", it.Links, want)
	}
	if len(it.Tags) != 1 || it.Tags[0].KSB != "S10" || it.Tags[0].By != "declared:run-tag" {
		t.Errorf("tags %v", it.Tags)
	}
	if !strings.Contains(it.Summary, "max_depth = 6") || !strings.Contains(it.Summary, "val_loss = 0.28 (best 0.262857)") {
		t.Errorf("summary:\n%s", it.Summary)
	}
	if len(e.Files) != 1 || e.Files[0].Name != trainrun.ChartName || e.Files[0].MediaType != "image/svg+xml" {
		t.Fatalf("files %v", e.Files)
	}
}

func TestBuildRefuses(t *testing.T) {
	for name, r := range map[string]trainrun.Run{
		"no native id": {SourceType: "mlflow", StartTime: t0},
		"no type":      {NativeID: "x", StartTime: t0},
		"no time":      {SourceType: "mlflow", NativeID: "x"},
	} {
		if _, err := trainrun.Build(r, trainrun.Meta{Apprentice: "a"}); err == nil {
			t.Errorf("%s: Build succeeded", name)
		}
	}
}

func TestBuildMinimal(t *testing.T) {
	e, err := trainrun.Build(trainrun.Run{SourceType: "tensorboard", NativeID: "v1", EndTime: t0,
		GitCommit: "abc1234"}, trainrun.Meta{Apprentice: "a", CollectedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if e.Item.Facts["status"] != "unknown" || len(e.Item.Links) != 0 || len(e.Files) != 0 || !e.Item.OccurredAt.Equal(t0) {
		t.Errorf("minimal run: facts %v links %v files %d", e.Item.Facts, e.Item.Links, len(e.Files))
	}
	if err := e.Item.Validate(); err != nil {
		t.Error(err)
	}
}

func TestGuessDirection(t *testing.T) {
	for key, want := range map[string]trainrun.Direction{
		"loss": trainrun.Minimize, "val_loss": trainrun.Minimize, "rmse": trainrun.Minimize, "training_log_loss": trainrun.Minimize,
		"accuracy": trainrun.Maximize, "eval_roc_auc": trainrun.Maximize, "f1": trainrun.Maximize, "training_score": trainrun.Maximize,
		"cv_f1_std": trainrun.Minimize, "eval_false_negatives": trainrun.Minimize, "lr": trainrun.DirectionUnknown, "epoch": trainrun.DirectionUnknown,
	} {
		if got := trainrun.GuessDirection(key); got != want {
			t.Errorf("GuessDirection(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestValidateLinks(t *testing.T) {
	if err := trainrun.ValidateLinks([]evidence.Link{{Rel: "x", Item: evidence.NewID("git", "a")}}); err != nil {
		t.Error(err)
	}
	if err := trainrun.ValidateLinks([]evidence.Link{{Rel: "", Item: "nope"}}); err == nil {
		t.Error("bad link accepted")
	}
}

// svgDoc is what the chart test reads back.
type svgDoc struct {
	XMLName xml.Name  `xml:"svg"`
	Title   string    `xml:"title"`
	Paths   []svgPath `xml:"path"`
	Legend  []struct {
		Text string `xml:"text"`
	} `xml:"g"`
}

type svgPath struct {
	D     string `xml:"d,attr"`
	Title string `xml:"title"`
}

func TestChartParsesWithOnePathPerSeries(t *testing.T) {
	nasty := `</text><script>alert("x")</script> & ]]>` + "\x00\x1b"
	ms := []trainrun.Metric{
		{Key: "loss", Points: curve(50, func(i int) float64 { return 2 / float64(i+1) })},
		{Key: nasty, Points: curve(5, func(i int) float64 { return float64(i) })},
		{Key: "acc", Points: curve(3000, func(i int) float64 { return float64(i) / 3000 })},
		{Key: "one-point", Points: curve(1, func(int) float64 { return 1 })},
		{Key: "nan", Points: curve(4, func(int) float64 { return math.NaN() })},
	}
	svg := trainrun.Chart(nasty, ms, 6)
	var doc svgDoc
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatalf("chart is not XML: %v\n%s", err, svg)
	}
	if len(doc.Paths) != 3 {
		t.Fatalf("%d paths, want 3 (one per series with two finite points)", len(doc.Paths))
	}
	if doc.Paths[0].Title != "loss" || doc.Paths[1].Title != "acc" {
		t.Errorf("series order %q %q: loss, then accuracy, first", doc.Paths[0].Title, doc.Paths[1].Title)
	}
	if !strings.Contains(doc.Title, "<script>") {
		t.Errorf("title %q lost its text", doc.Title)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local == "script" || se.Name.Local == "image" || se.Name.Local == "foreignObject" {
				t.Errorf("chart has a <%s> element", se.Name.Local)
			}
			for _, a := range se.Attr {
				if strings.HasPrefix(a.Name.Local, "on") || a.Name.Local == "href" {
					t.Errorf("chart has attribute %s", a.Name.Local)
				}
			}
		}
	}
	if n := strings.Count(doc.Paths[1].D, "L"); n > 2100 {
		t.Errorf("3000-point series drawn with %d segments; want it thinned", n)
	}
	for _, want := range []string{"<line", "step", "value"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("chart lacks %q (axes)", want)
		}
	}
	if trainrun.Chart("x", ms[3:], 6) != nil {
		t.Error("a chart of no plottable series")
	}
	if got := trainrun.Chart("x", ms, 1); strings.Count(string(got), "<path") != 1 {
		t.Error("maxSeries 1 drew more than one path")
	}
}

// TestCommitItemIDMatchesGit collects a real repository with the git
// collector and checks that CommitItemID names its items.
func TestCommitItemIDMatchesGit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	if _, err := demorepo.Build(context.Background(), dir, demorepo.Options{Commits: 3, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	c, err := gitlog.New(gitlog.Config{Name: "r", Path: dir, Emails: []string{demorepo.DefaultAuthors()[0].Email}, Apprentice: "a"},
		slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	s := &collectortest.Sink{}
	if _, err := c.Collect(context.Background(), nil, s); err != nil {
		t.Fatal(err)
	}
	if len(s.Items()) == 0 {
		t.Fatal("no commits collected")
	}
	for _, it := range s.Items() {
		sha := it.Origin.NativeID
		if got := trainrun.CommitItemID(strings.ToUpper(sha)); got != it.ID {
			t.Errorf("CommitItemID(%s) = %s, the git item is %s", sha, got, it.ID)
		}
	}
	if trainrun.CommitItemID("abc1234") != "" {
		t.Error("an abbreviated SHA named an item")
	}
}

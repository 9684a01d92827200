// Package trainrun builds the one evidence item of a model-training run,
// whatever the source (MLflow, TensorBoard, W&B, SageMaker): a collector
// fills a Run with what its source knows, and Build turns it into an
// Emission whose item has kind training_run, facts of the same names for
// every source, links to its parent run and its code version, and an SVG
// chart of its main curves.
//
// The API is Run (with Metric, Point, Dataset, Hardware, Model), Meta, Build
// and Sequence (a run's place among its experiment's runs); CommitItemID and RunItemID give the IDs links point at. Fact
// names are a contract read by tagging rules; see Build.
package trainrun

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// Status is a run's state, the same words for every source.
type Status string

// The run states. A source's own names map onto these (MLflow FINISHED →
// StatusFinished, SageMaker Completed → StatusFinished, Stopped →
// StatusKilled).
const (
	StatusRunning   Status = "running"
	StatusScheduled Status = "scheduled"
	StatusFinished  Status = "finished"
	StatusFailed    Status = "failed"
	StatusKilled    Status = "killed"
	StatusUnknown   Status = "unknown"
)

// Direction says whether a metric is better high or low.
type Direction string

// Metric directions. DirectionUnknown means the best value is not given.
const (
	Maximize         Direction = "max"
	Minimize         Direction = "min"
	DirectionUnknown Direction = ""
)

// Link relations of training-run items.
const (
	// RelTrainedFrom points at the git commit item of the run's code.
	RelTrainedFrom = "trained_from"
	// RelChildOf points at the parent run (a sweep or grid search).
	RelChildOf = "child_of"
)

// Run is one training run as its source records it. Only SourceType,
// NativeID and one of StartTime or EndTime are required.
type Run struct {
	SourceType   string // the items' source_type and ID namespace: "mlflow", "tensorboard", …
	NativeID     string // the run's identity in the source (MLflow run ID, job name, run folder)
	URI          string // where the run is: the source URI plus whatever locates the run
	Name         string
	Experiment   string // experiment, project or job group name
	ExperimentID string
	Status       Status
	StartTime    time.Time
	EndTime      time.Time // zero while running
	User         string
	Params       map[string]string
	Metrics      []Metric
	Datasets     []Dataset
	Hardware     Hardware
	// ParentID is the native ID of the parent run in the same source.
	ParentID string
	// ChildIDs are the native IDs of the runs whose parent this is.
	ChildIDs []string
	// GitCommit is the full SHA of the code the run was trained from.
	GitCommit string
	// SourceName is the script, notebook or entry point that ran.
	SourceName string
	// Tags are the user's own tags (system tags left out by the source).
	Tags map[string]string
	// Models are models logged by the run.
	Models []Model
	// KSBs are KSB IDs the apprentice declared on the run (a run tag);
	// they become tags By "declared:run-tag".
	KSBs []string
	// Succession is the run's place among the runs of its experiment;
	// the collector sets it with Sequence.
	Succession Succession
	// Extra facts, source-specific, under facts.<source_type>; keys must
	// not clash with the common facts.
	Extra map[string]any
}

// Metric is one metric of a run: its history, or only its latest value.
type Metric struct {
	Key string
	// Points in the order logged. A source that knows only the latest
	// value gives one point.
	Points []Point
	// Direction, when the source says; else Build guesses it from Key.
	Direction Direction
}

// Point is one logged value of a metric.
type Point struct {
	Step  int64
	Time  time.Time // may be zero
	Value float64
}

// Dataset is a dataset the run used.
type Dataset struct {
	Name       string `json:"name"`
	Digest     string `json:"digest,omitempty"`
	Source     string `json:"source,omitempty"`
	SourceType string `json:"source_type,omitempty"`
	Context    string `json:"context,omitempty"` // "training", "eval", …
}

// Hardware is what the run ran on; zero fields are unknown.
type Hardware struct {
	Host          string `json:"host,omitempty"`
	InstanceType  string `json:"instance_type,omitempty"`
	InstanceCount int    `json:"instance_count,omitempty"`
	CPUCount      int    `json:"cpu_count,omitempty"`
	GPU           string `json:"gpu,omitempty"`
	GPUCount      int    `json:"gpu_count,omitempty"`
}

// Model is a model the run logged.
type Model struct {
	Name    string   `json:"name,omitempty"`
	ID      string   `json:"id,omitempty"` // MLflow 3 model ID, "m-…"
	Path    string   `json:"path,omitempty"`
	Flavors []string `json:"flavors,omitempty"`
	// AttachedBy says how the model was tied to the run when the source
	// did not say: "source_run_id", "outputs", "history" or "time".
	AttachedBy string `json:"attached_by,omitempty"`
}

// Meta is the per-source part of every item.
type Meta struct {
	Apprentice  string
	Source      string // the configured source name
	CollectedAt time.Time
}

// ChartName is the file name of a run's chart artefact.
const ChartName = "metrics.svg"

// RunItemID is the item ID of a run of sourceType with that native ID.
func RunItemID(sourceType, nativeID string) string { return evidence.NewID(sourceType, nativeID) }

var fullSHA = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// CommitItemID is the ID of the git item of a commit, as the git collector
// makes it, or "" when sha is not a full SHA-1 or SHA-256 (an abbreviated
// SHA names no item).
func CommitItemID(sha string) string {
	sha = strings.ToLower(strings.TrimSpace(sha))
	if !fullSHA.MatchString(sha) {
		return ""
	}
	return evidence.NewID(gitlog.SourceType, sha)
}

// maxChartSeries bounds the curves of one chart.
const maxChartSeries = 6

// Build makes the Emission of one run. Its item's facts are:
//
//	run_id, run_name, experiment, experiment_id, status, user, source_name
//	started_at, ended_at (RFC 3339), duration_seconds
//	params            {key: value}
//	metrics           {key: {final, final_step, best, best_step, direction,
//	                   min, max, first, points}}  (best only with a direction)
//	final_metrics     {key: value}          best_metrics {key: value}
//	metric_count, param_count
//	datasets          [{name, digest, source, source_type, context}]
//	hardware          {host, instance_type, instance_count, cpu_count, gpu, gpu_count}
//	parent_run_id, child_run_ids, is_parent, is_child
//	git_commit, tags, models [{name, id, path, flavors, attached_by}]
//	<source_type>     Run.Extra
//
// and, when the collector called Sequence on the runs of the experiment
// (Run.Succession):
//
//	experiment_run_number  the run's place (from 1) in its experiment by start time
//	improves_on       native ID of the earlier run whose best value of the
//	                  experiment's main metric this run beats
//	improvement       {metric, direction, best, previous}  (with improves_on)
//	reruns_failed     native ID of the earlier failed or killed run with the
//	                  same parameters or run name that this finished run re-ran
//
// Facts with nothing to say are left out. The item links to its parent
// run (RelChildOf) and to its commit (RelTrainedFrom). A run with at least
// one metric of two or more points gets a chart file (ChartName).
func Build(r Run, m Meta) (collectors.Emission, error) {
	if r.SourceType == "" || r.NativeID == "" {
		return collectors.Emission{}, errors.New("training run: source type and native ID are required")
	}
	occurred := r.StartTime
	if occurred.IsZero() {
		occurred = r.EndTime
	}
	if occurred.IsZero() {
		return collectors.Emission{}, fmt.Errorf("training run %s: no start or end time", r.NativeID)
	}
	if r.Status == "" {
		r.Status = StatusUnknown
	}
	facts := map[string]any{"run_id": r.NativeID, "status": string(r.Status)}
	put := func(k, v string) {
		if v != "" {
			facts[k] = v
		}
	}
	put("run_name", r.Name)
	put("experiment", r.Experiment)
	put("experiment_id", r.ExperimentID)
	put("user", r.User)
	put("source_name", r.SourceName)
	if !r.StartTime.IsZero() {
		facts["started_at"] = r.StartTime.UTC().Format(time.RFC3339Nano)
	}
	if !r.EndTime.IsZero() {
		facts["ended_at"] = r.EndTime.UTC().Format(time.RFC3339Nano)
		if !r.StartTime.IsZero() && !r.EndTime.Before(r.StartTime) {
			facts["duration_seconds"] = r.EndTime.Sub(r.StartTime).Seconds()
		}
	}
	if len(r.Params) > 0 {
		p := make(map[string]any, len(r.Params))
		for k, v := range r.Params {
			p[k] = v
		}
		facts["params"] = p
	}
	facts["param_count"] = len(r.Params)
	metrics, finals, bests := summarise(r.Metrics)
	if len(metrics) > 0 {
		facts["metrics"] = metrics
		facts["final_metrics"] = finals
		if len(bests) > 0 {
			facts["best_metrics"] = bests
		}
	}
	facts["metric_count"] = len(metrics)
	if len(r.Datasets) > 0 {
		ds := make([]any, len(r.Datasets))
		for i, d := range r.Datasets {
			ds[i] = structFacts(d)
		}
		facts["datasets"] = ds
	}
	if hw := structFacts(r.Hardware); len(hw) > 0 {
		facts["hardware"] = hw
	}
	var links []evidence.Link
	if r.ParentID != "" {
		facts["parent_run_id"] = r.ParentID
		facts["is_child"] = true
		links = append(links, evidence.Link{Rel: RelChildOf, Item: RunItemID(r.SourceType, r.ParentID)})
	}
	if len(r.ChildIDs) > 0 {
		ids := slices.Clone(r.ChildIDs)
		sort.Strings(ids)
		c := make([]any, len(ids))
		for i, id := range ids {
			c[i] = id
		}
		facts["child_run_ids"] = c
		facts["is_parent"] = true
	}
	if r.GitCommit != "" {
		facts["git_commit"] = r.GitCommit
		if id := CommitItemID(r.GitCommit); id != "" {
			links = append(links, evidence.Link{Rel: RelTrainedFrom, Item: id})
		}
	}
	if len(r.Tags) > 0 {
		t := make(map[string]any, len(r.Tags))
		for k, v := range r.Tags {
			t[k] = v
		}
		facts["tags"] = t
	}
	if len(r.Models) > 0 {
		ms := make([]any, len(r.Models))
		for i, md := range r.Models {
			ms[i] = structFacts(md)
		}
		facts["models"] = ms
	}
	if s := r.Succession; s.Number > 0 {
		facts["experiment_run_number"] = s.Number
		if s.ImprovesOn != "" {
			facts["improves_on"] = s.ImprovesOn
			facts["improvement"] = map[string]any{"metric": s.Metric, "direction": string(s.Direction),
				"best": s.Best, "previous": s.Previous}
		}
		if s.RerunsFailed != "" {
			facts["reruns_failed"] = s.RerunsFailed
		}
	}
	if len(r.Extra) > 0 {
		facts[r.SourceType] = r.Extra
	}
	var tags []evidence.Tag
	for _, k := range r.KSBs {
		k = evidence.NormalizeKSB(k)
		if !evidence.LooksLikeKSB(k) || slices.ContainsFunc(tags, func(t evidence.Tag) bool { return t.KSB == k }) {
			continue
		}
		tags = append(tags, evidence.Tag{KSB: k, By: evidence.ByDeclared + "run-tag", Confidence: 1,
			Reason: "declared on the run"})
	}
	it := evidence.Item{
		Schema:      evidence.SchemaVersion,
		ID:          RunItemID(r.SourceType, r.NativeID),
		Apprentice:  m.Apprentice,
		Source:      m.Source,
		SourceType:  r.SourceType,
		Kind:        evidence.KindTrainingRun,
		Title:       title(r),
		Summary:     summary(r, metrics),
		OccurredAt:  occurred.UTC(),
		CollectedAt: m.CollectedAt.UTC(),
		Origin:      evidence.Origin{URI: r.URI, NativeID: r.NativeID},
		Facts:       facts,
		Tags:        tags,
		Links:       links,
	}
	it.Normalize()
	if err := ValidateLinks(it.Links); err != nil {
		return collectors.Emission{}, fmt.Errorf("training run %s: %w", r.NativeID, err)
	}
	e := collectors.Emission{Item: it}
	if svg := Chart(r.Name, r.Metrics, maxChartSeries); svg != nil {
		e.Files = append(e.Files, collectors.File{Name: ChartName, MediaType: "image/svg+xml", Open: bytesOpener(svg)})
	}
	return e, nil
}

// ValidateLinks checks that every link has a relation and points at an
// item ID of the NewID form.
func ValidateLinks(links []evidence.Link) error {
	var errs []error
	for i, l := range links {
		if strings.TrimSpace(l.Rel) == "" {
			errs = append(errs, fmt.Errorf("links[%d]: empty rel", i))
		}
		if !evidence.ValidID(l.Item) {
			errs = append(errs, fmt.Errorf("links[%d].item %q: not an item ID", i, l.Item))
		}
	}
	return errors.Join(errs...)
}

func title(r Run) string {
	name := r.Name
	if name == "" {
		name = r.NativeID
	}
	t := "Training run " + name
	if r.Experiment != "" {
		t += " in " + r.Experiment
	}
	return t + " (" + string(r.Status) + ")"
}

// summary lists the params and final metrics, a line each, sorted.
func summary(r Run, metrics map[string]any) string {
	var b strings.Builder
	if len(r.Params) > 0 {
		b.WriteString("Params:\n")
		for _, k := range sortedKeys(r.Params) {
			fmt.Fprintf(&b, "  %s = %s\n", k, r.Params[k])
		}
	}
	if len(metrics) > 0 {
		b.WriteString("Metrics (final):\n")
		for _, k := range sortedKeys(metrics) {
			s := metrics[k].(map[string]any)
			fmt.Fprintf(&b, "  %s = %s", k, formatValue(s["final"].(float64)))
			if best, ok := s["best"]; ok && best != s["final"] {
				fmt.Fprintf(&b, " (best %s)", formatValue(best.(float64)))
			}
			b.WriteString("\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func formatValue(v float64) string { return fmt.Sprintf("%.6g", v) }

// summarise gives each metric's summary (facts.metrics), its final values
// and its best values (for metrics with a direction). NaN and infinite
// values are left out of min, max and best; JSON cannot carry them.
func summarise(ms []Metric) (summaries, finals, bests map[string]any) {
	summaries, finals, bests = map[string]any{}, map[string]any{}, map[string]any{}
	for _, m := range ms {
		pts := finite(m.Points)
		if m.Key == "" || len(pts) == 0 {
			continue
		}
		dir := m.Direction
		if dir == DirectionUnknown {
			dir = GuessDirection(m.Key)
		}
		last := pts[len(pts)-1]
		s := map[string]any{"final": last.Value, "final_step": last.Step, "points": len(m.Points),
			"first": pts[0].Value}
		lo, hi := pts[0], pts[0]
		for _, p := range pts[1:] {
			if p.Value < lo.Value {
				lo = p
			}
			if p.Value > hi.Value {
				hi = p
			}
		}
		s["min"], s["max"] = lo.Value, hi.Value
		finals[m.Key] = last.Value
		if dir != DirectionUnknown {
			best := hi
			if dir == Minimize {
				best = lo
			}
			s["direction"] = string(dir)
			s["best"], s["best_step"] = best.Value, best.Step
			bests[m.Key] = best.Value
		}
		summaries[m.Key] = s
	}
	return summaries, finals, bests
}

// finite returns pts without NaN and infinite values; pts itself when
// they are all finite.
func finite(pts []Point) []Point {
	i := 0
	for i < len(pts) && !math.IsNaN(pts[i].Value) && !math.IsInf(pts[i].Value, 0) {
		i++
	}
	if i == len(pts) {
		return pts
	}
	out := append(make([]Point, 0, len(pts)), pts[:i]...)
	pts = pts[i:]
	for _, p := range pts {
		if !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
			out = append(out, p)
		}
	}
	return out
}

var (
	lowerBetter  = regexp.MustCompile(`(?i)(loss|error|err$|^err|mse|rmse|mae|mape|perplexity|wer|cer|latency|time|duration|false_(positive|negative)s?|fpr|fnr|brier|_std$|divergence|kl)`)
	higherBetter = regexp.MustCompile(`(?i)(acc|auc|f1|precision|recall|score|r2|iou|map|bleu|rouge|ndcg|specificity|sensitivity|true_(positive|negative)s?|tpr|dice|kappa|mcc|coverage|reward|return)`)
)

// GuessDirection guesses from a metric's name whether higher or lower is
// better: loss, error, mse, … are minimised; accuracy, auc, f1, … are
// maximised; anything else is DirectionUnknown.
func GuessDirection(key string) Direction {
	switch {
	case lowerBetter.MatchString(key):
		return Minimize
	case higherBetter.MatchString(key):
		return Maximize
	}
	return DirectionUnknown
}

// structFacts turns a struct of string and int fields tagged json into
// facts, leaving zero values out.
func structFacts(v any) map[string]any {
	out := map[string]any{}
	switch x := v.(type) {
	case Dataset:
		putS(out, "name", x.Name)
		putS(out, "digest", x.Digest)
		putS(out, "source", x.Source)
		putS(out, "source_type", x.SourceType)
		putS(out, "context", x.Context)
	case Hardware:
		putS(out, "host", x.Host)
		putS(out, "instance_type", x.InstanceType)
		putI(out, "instance_count", x.InstanceCount)
		putI(out, "cpu_count", x.CPUCount)
		putS(out, "gpu", x.GPU)
		putI(out, "gpu_count", x.GPUCount)
	case Model:
		putS(out, "name", x.Name)
		putS(out, "id", x.ID)
		putS(out, "path", x.Path)
		if len(x.Flavors) > 0 {
			f := make([]any, len(x.Flavors))
			for i, s := range x.Flavors {
				f[i] = s
			}
			out["flavors"] = f
		}
		putS(out, "attached_by", x.AttachedBy)
	}
	return out
}

func putS(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func putI(m map[string]any, k string, v int) {
	if v != 0 {
		m[k] = v
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

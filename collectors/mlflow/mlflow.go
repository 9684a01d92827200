// Package mlflow collects MLflow training runs as evidence: from a file
// store (mlruns/, every layout from 1.x to 3.x), a SQLite store (MLflow's
// default backend since 3.x) or a tracking server's REST API. Every run is
// one training_run item built by collectors/trainrun, with the same ID
// whichever store it is read from; a registered model version is a
// model_version item linked to its run. See README.md.
package mlflow

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// RelFromRun is the link from a model version to the run that made it.
const RelFromRun = "from_run"

// Collector collects one MLflow store.
type Collector struct {
	cfg  Config
	set  collectors.Settings
	back backend
}

// New builds the collector of cfg; it touches nothing.
func New(cfg Config, set collectors.Settings) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mlflow source %s: %w", cfg.Name, err)
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	if set.HTTPClient == nil {
		set.HTTPClient = collectors.NewHTTPClient()
	}
	c := &Collector{cfg: cfg, set: set}
	switch cfg.Kind {
	case storeFile:
		c.back = &fileStore{root: cfg.Location, cfg: cfg.SourceConfig}
	case storeSQLite:
		c.back = &sqliteStore{path: cfg.Location, cfg: cfg.SourceConfig}
	case storeServer:
		c.back = newServer(cfg, set)
	}
	return c, nil
}

// backend is one kind of MLflow store.
type backend interface {
	// runs calls yield with every run of the store that f may keep
	// (backends may filter early; the collector filters again), and
	// reports what it could not read to skip.
	runs(ctx context.Context, f filter, yield func(*runRecord) error, skip func(collectors.Skipped)) error
	// versions calls yield with every registered model version.
	versions(ctx context.Context, yield func(*versionRecord) error, skip func(collectors.Skipped)) error
}

// runRecord is one run as a backend read it.
type runRecord struct {
	Run       trainrun.Run
	Lifecycle string // "active" or "deleted"
	// ExperimentDeleted is set for runs of a deleted experiment.
	ExperimentDeleted bool
	ArtifactURI       string
	Artifacts         []artifactEntry
	// ArtifactsNote says why artefacts were not listed, if they were not.
	ArtifactsNote string
	Files         []collectors.File
	// Fill, when set, reads the rest of the run (a backend leaves it to
	// be done only if the run changed since the cursor); it must be
	// called before the record is used.
	Fill func(ctx context.Context) error
	// Problems are parts of the run that could not be read (a malformed
	// metric line, an unreadable tag); the run is emitted without them
	// and each is reported as a skip.
	Problems []string
	// Updated stands for the run's state: a change makes it collected
	// again.
	Updated string
}

// artifactEntry is one listed artefact file.
type artifactEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"` // of what was downloaded
	Stored bool   `json:"stored,omitempty"`
}

// versionRecord is one registered model version.
type versionRecord struct {
	Name, Version, RunID, Stage, Status, Source, Description, User string
	Aliases                                                        []string
	Created, Updated                                               time.Time
}

// filter is what the user asked to keep.
type filter struct {
	experiments []string // names or IDs
	users       []string
	deleted     bool
	expr        string // server filter
	// seen is the previous cursor's state of each item, by item ID.
	seen map[string]string
}

func (c *Collector) filter() filter {
	return filter{experiments: c.cfg.Experiments, users: c.cfg.Users, deleted: c.cfg.IncludeDeleted, expr: c.cfg.Filter}
}

// keep applies f to a run.
func (f filter) keep(r *runRecord) bool {
	if !f.deleted && (r.Lifecycle == "deleted" || r.ExperimentDeleted) {
		return false
	}
	if len(f.experiments) > 0 && !slices.Contains(f.experiments, r.Run.ExperimentID) && !slices.Contains(f.experiments, r.Run.Experiment) {
		return false
	}
	if len(f.users) > 0 && !slices.Contains(f.users, r.Run.User) {
		return false
	}
	return true
}

// cursor is what the next collection starts from: the state of each item
// collected, so that a run that finished or was re-tagged since is
// collected again.
type cursor struct {
	V    int               `json:"v"`
	Seen map[string]string `json:"seen"` // item ID → state
	// Ranges are the emitted server runs' metric ranges (item ID → key
	// → [min, max]): what trainrun.Sequence needs of a run that is not
	// read again.
	Ranges map[string]map[string][2]float64 `json:"ranges,omitempty"`
}

// metricRanges gives each metric's finite minimum and maximum.
func metricRanges(ms []trainrun.Metric) map[string][2]float64 {
	out := map[string][2]float64{}
	for _, m := range ms {
		for _, p := range m.Points {
			if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
				continue
			}
			rg, ok := out[m.Key]
			if !ok {
				rg = [2]float64{p.Value, p.Value}
			}
			rg[0], rg[1] = min(rg[0], p.Value), max(rg[1], p.Value)
			out[m.Key] = rg
		}
	}
	return out
}

// rangeMetrics turns saved ranges back into metrics of two points, whose
// best is the best of the run's history either way.
func rangeMetrics(rg map[string][2]float64) []trainrun.Metric {
	out := make([]trainrun.Metric, 0, len(rg))
	keys := make([]string, 0, len(rg))
	for k := range rg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, trainrun.Metric{Key: k, Points: []trainrun.Point{{Value: rg[k][0]}, {Value: rg[k][1]}}})
	}
	return out
}

const cursorVersion = 1

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context, prev collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cur := cursor{V: cursorVersion, Seen: map[string]string{}, Ranges: map[string]map[string][2]float64{}}
	if len(prev) > 0 && string(prev) != "null" {
		var old cursor
		if err := json.Unmarshal(prev, &old); err != nil || old.V != cursorVersion {
			sink.Warn(fmt.Sprintf("mlflow source %s: the saved cursor is unreadable; collecting everything again", c.cfg.Name))
		} else {
			if old.Seen != nil {
				cur.Seen = old.Seen
			}
			if old.Ranges != nil {
				cur.Ranges = old.Ranges
			}
		}
	}
	var skips collectors.Skips
	skip := func(s collectors.Skipped) {
		skips.Add(s)
		sink.Skip(s)
	}
	meta := trainrun.Meta{Apprentice: c.cfg.Apprentice, Source: c.cfg.Name, CollectedAt: c.set.Now()}
	f := c.filter()
	f.seen = cur.Seen
	runIDs := map[string]bool{}
	emitted := 0
	// Runs are emitted an experiment at a time, so that a parent run
	// knows its children.
	var pending []*runRecord
	// Only a server leaves runs unread (Fill); the stores' runs are read
	// whole every time, so their metric ranges need not be kept.
	_, lazy := c.back.(*server)
	fill := func(r *runRecord) error {
		if r.Fill == nil {
			return nil
		}
		r.Run.Metrics = nil
		if err := r.Fill(ctx); err != nil {
			return err // only ctx.Err(): problems are recorded in r
		}
		r.Fill = nil
		return nil
	}
	flush := func() error {
		children := map[string][]string{}
		for _, r := range pending {
			if p := r.Run.ParentID; p != "" {
				children[p] = append(children[p], r.Run.NativeID)
			}
		}
		// A run's facts depend on the earlier runs of its experiment
		// (trainrun.Sequence), so when any run changed, every run of the
		// experiment is read in full and those whose facts changed are
		// emitted again.
		changed := false
		for _, r := range pending {
			r.Run.ChildIDs = children[r.Run.NativeID]
			prev := cur.Seen[trainrun.RunItemID(SourceType, r.Run.NativeID)]
			if !strings.HasPrefix(prev, fmt.Sprintf("%s|%d|", r.Updated, len(r.Run.ChildIDs))) || strings.HasSuffix(prev, "|retry") {
				changed = true
			}
		}
		if !changed {
			pending = pending[:0]
			return nil
		}
		runs := make([]*trainrun.Run, len(pending))
		for i, r := range pending {
			// A run not read again stands in Sequence for the range of its
			// metrics saved in the cursor.
			if rg, ok := cur.Ranges[trainrun.RunItemID(SourceType, r.Run.NativeID)]; r.Fill != nil && ok {
				r.Run.Metrics = rangeMetrics(rg)
			} else if err := fill(r); err != nil {
				return err
			}
			runs[i] = &r.Run
		}
		trainrun.Sequence(runs)
		for _, r := range pending {
			if err := ctx.Err(); err != nil {
				return err
			}
			s := r.Run.Succession
			state := fmt.Sprintf("%s|%d|%d %s %s", r.Updated, len(r.Run.ChildIDs), s.Number, s.ImprovesOn, s.RerunsFailed)
			id := trainrun.RunItemID(SourceType, r.Run.NativeID)
			if cur.Seen[id] == state {
				continue
			}
			if err := fill(r); err != nil {
				return err
			}
			if lazy {
				cur.Ranges[id] = metricRanges(r.Run.Metrics)
			}
			for _, p := range r.Problems {
				skip(collectors.Skipped{What: "run " + r.Run.NativeID + " " + p, Reason: "could not be read; the run is kept without it"})
			}
			e, err := c.runEmission(r, meta)
			if err != nil {
				skip(collectors.Skipped{What: "run " + r.Run.NativeID, Reason: err.Error()})
				continue
			}
			if err := sink.Emit(ctx, e); err != nil {
				return err
			}
			emitted++
			if len(r.Problems) > 0 {
				state += "|retry" // read it again next time
			}
			cur.Seen[id] = state
		}
		pending = pending[:0]
		return nil
	}
	err := c.back.runs(ctx, f, func(r *runRecord) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !f.keep(r) || runIDs[r.Run.NativeID] {
			return nil
		}
		runIDs[r.Run.NativeID] = true
		if len(pending) > 0 && pending[0].Run.ExperimentID != r.Run.ExperimentID {
			if err := flush(); err != nil {
				return err
			}
		}
		pending = append(pending, r)
		return nil
	}, skip)
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, err
	}
	err = c.back.versions(ctx, func(v *versionRecord) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !runIDs[v.RunID] && (len(f.users) > 0 || len(f.experiments) > 0) {
			return nil // the version of a run that is not the apprentice's
		}
		it, state, ok := c.versionItem(v, meta)
		if !ok || cur.Seen[it.ID] == state {
			return nil
		}
		if err := sink.Emit(ctx, collectors.Emission{Item: it}); err != nil {
			return err
		}
		cur.Seen[it.ID] = state
		return nil
	}, skip)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.set.Logger.Info("mlflow collected", "store", c.cfg.Kind, "runs", len(runIDs), "emitted", emitted)
	out, err := json.Marshal(cur)
	if err != nil {
		return nil, fmt.Errorf("encode cursor: %w", err)
	}
	return out, skips.Err()
}

// runEmission builds a run's item, adding what only MLflow has under
// facts.mlflow.
func (c *Collector) runEmission(r *runRecord, meta trainrun.Meta) (collectors.Emission, error) {
	run := r.Run
	run.SourceType = SourceType
	extra := map[string]any{"lifecycle_stage": r.Lifecycle}
	if r.ArtifactURI != "" {
		extra["artifact_uri"] = r.ArtifactURI
	}
	if len(r.Artifacts) > 0 {
		list := make([]any, 0, min(len(r.Artifacts), maxListed))
		for _, a := range r.Artifacts[:min(len(r.Artifacts), maxListed)] {
			m := map[string]any{"path": a.Path, "size": a.Size}
			if a.SHA256 != "" {
				m["sha256"] = a.SHA256
			}
			if a.Stored {
				m["stored"] = true
			}
			list = append(list, m)
		}
		extra["artifacts"] = list
		extra["artifact_count"] = len(r.Artifacts)
	}
	if r.ArtifactsNote != "" {
		extra["artifacts_note"] = r.ArtifactsNote
	}
	for k, v := range run.Extra {
		extra[k] = v
	}
	run.Extra = extra
	e, err := trainrun.Build(run, meta)
	if err != nil {
		return e, err
	}
	e.Files = append(e.Files, r.Files...)
	return e, nil
}

// maxListed caps the artefacts listed in one item's facts.
const maxListed = 500

// versionItem builds a registered model version's item and its state.
func (c *Collector) versionItem(v *versionRecord, meta trainrun.Meta) (evidence.Item, string, bool) {
	native := "models:/" + v.Name + "/" + v.Version
	when := v.Created
	if when.IsZero() {
		when = v.Updated
	}
	if v.Name == "" || v.Version == "" || when.IsZero() {
		return evidence.Item{}, "", false
	}
	facts := map[string]any{"model_name": v.Name, "version": v.Version, "stage": v.Stage}
	put := func(k, s string) {
		if s != "" {
			facts[k] = s
		}
	}
	put("run_id", v.RunID)
	put("status", v.Status)
	put("source", v.Source)
	put("description", v.Description)
	put("user", v.User)
	if len(v.Aliases) > 0 {
		a := make([]any, len(v.Aliases))
		for i, s := range v.Aliases {
			a[i] = s
		}
		facts["aliases"] = a
	}
	if !v.Updated.IsZero() {
		facts["updated_at"] = v.Updated.UTC().Format(time.RFC3339Nano)
	}
	var links []evidence.Link
	if v.RunID != "" {
		links = append(links, evidence.Link{Rel: RelFromRun, Item: trainrun.RunItemID(SourceType, v.RunID)})
	}
	title := fmt.Sprintf("Model %s version %s", v.Name, v.Version)
	if v.Stage != "" && v.Stage != "None" {
		title += " (" + v.Stage + ")"
	}
	if len(v.Aliases) > 0 {
		title += " @" + strings.Join(v.Aliases, ", @")
	}
	it := evidence.Item{
		Schema: evidence.SchemaVersion, ID: evidence.NewID(SourceType, native), Apprentice: meta.Apprentice,
		Source: meta.Source, SourceType: SourceType, Kind: evidence.KindModelVersion, Title: title,
		Summary: v.Description, OccurredAt: when.UTC(), CollectedAt: meta.CollectedAt.UTC(),
		Origin: evidence.Origin{URI: c.originURI(), NativeID: native}, Facts: facts, Links: links,
	}
	it.Normalize()
	aliases := slices.Clone(v.Aliases)
	sort.Strings(aliases)
	state := fmt.Sprintf("%s|%s|%s|%d", v.Stage, strings.Join(aliases, ","), v.Status, v.Updated.UnixMilli())
	return it, state, true
}

func (c *Collector) originURI() string {
	if c.cfg.Kind == storeServer {
		return c.cfg.Location
	}
	return c.cfg.Kind + "://" + c.cfg.Location
}

// msTime converts MLflow's milliseconds since the epoch; 0 is no time.
func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// statusOf maps MLflow's RunStatus (enum number or name) onto trainrun's.
func statusOf(s string) trainrun.Status {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "1", "RUNNING":
		return trainrun.StatusRunning
	case "2", "SCHEDULED":
		return trainrun.StatusScheduled
	case "3", "FINISHED":
		return trainrun.StatusFinished
	case "4", "FAILED":
		return trainrun.StatusFailed
	case "5", "KILLED":
		return trainrun.StatusKilled
	}
	return trainrun.StatusUnknown
}

// Well-known MLflow tags.
const (
	tagRunName   = "mlflow.runName"
	tagUser      = "mlflow.user"
	tagParent    = "mlflow.parentRunId"
	tagGitCommit = "mlflow.source.git.commit"
	tagSource    = "mlflow.source.name"
	tagModelHist = "mlflow.log-model.history"
)

// applyTags fills the run's fields that MLflow keeps in tags, and keeps
// the user's own tags (not mlflow.*). KSBs come from a "ksb" or "ksbs" tag
// ("S10, K4").
func applyTags(r *trainrun.Run, tags map[string]string) {
	if v := tags[tagRunName]; v != "" && r.Name == "" {
		r.Name = v
	}
	if v := tags[tagUser]; v != "" {
		r.User = v
	}
	r.ParentID = tags[tagParent]
	r.GitCommit = tags[tagGitCommit]
	r.SourceName = tags[tagSource]
	user := map[string]string{}
	for k, v := range tags {
		switch {
		case strings.HasPrefix(k, "mlflow."):
		case k == "ksb" || k == "ksbs":
			r.KSBs = append(r.KSBs, strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == ' ' || c == ';' })...)
		default:
			user[k] = v
		}
	}
	if len(user) > 0 {
		r.Tags = user
	}
	if h := tags[tagModelHist]; h != "" {
		r.Models = append(r.Models, modelsFromHistory(h)...)
	}
}

// modelsFromHistory reads the mlflow.log-model.history tag: a JSON list of
// {artifact_path, flavors, model_uuid}. A tag that does not parse gives
// nothing.
func modelsFromHistory(h string) []trainrun.Model {
	var hist []struct {
		ArtifactPath string                     `json:"artifact_path"`
		ModelUUID    string                     `json:"model_uuid"`
		Flavors      map[string]json.RawMessage `json:"flavors"`
	}
	if json.Unmarshal([]byte(h), &hist) != nil {
		return nil
	}
	var out []trainrun.Model
	for _, m := range hist {
		md := trainrun.Model{Name: m.ArtifactPath, ID: m.ModelUUID, Path: m.ArtifactPath, AttachedBy: "history"}
		for f := range m.Flavors {
			md.Flavors = append(md.Flavors, f)
		}
		sort.Strings(md.Flavors)
		out = append(out, md)
	}
	return out
}

// metricsOf orders each metric's points by step, then time, then value,
// so that the last point is the latest value as MLflow's SQL store
// defines it, and applies the hardware that system metrics reveal.
func metricsOf(r *trainrun.Run, byKey map[string][]metricPoint) {
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	gpus := map[string]bool{}
	for _, k := range keys {
		pts := byKey[k]
		sort.SliceStable(pts, func(i, j int) bool {
			a, b := pts[i], pts[j]
			if a.Step != b.Step {
				return a.Step < b.Step
			}
			if a.Timestamp != b.Timestamp {
				return a.Timestamp < b.Timestamp
			}
			return a.Value < b.Value
		})
		m := trainrun.Metric{Key: k, Points: make([]trainrun.Point, len(pts))}
		for i, p := range pts {
			m.Points[i] = trainrun.Point{Step: p.Step, Time: msTime(p.Timestamp), Value: p.Value}
		}
		r.Metrics = append(r.Metrics, m)
		// System metrics (MLflow 2.8+): system/gpu_0_utilization_percentage.
		if rest, ok := strings.CutPrefix(k, "system/gpu_"); ok {
			if i := strings.IndexByte(rest, '_'); i > 0 {
				gpus[rest[:i]] = true
			}
		}
	}
	if len(gpus) > 0 && r.Hardware.GPUCount == 0 {
		r.Hardware.GPUCount = len(gpus)
	}
}

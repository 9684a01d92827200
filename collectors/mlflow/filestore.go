package mlflow

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
)

// fileStore reads an MLflow file store (mlruns/) without writing to it:
//
//	<exp>/meta.yaml            experiment (may be missing: the ID is the name)
//	<exp>/<run>/meta.yaml      run; params/, tags/, metrics/ hold one file per
//	                           key, keys with "/" as nested folders
//	<exp>/<run>/inputs/<id>/   dataset inputs → <exp>/datasets/<id>/meta.yaml
//	<exp>/<run>/outputs/<id>/  logged models the run output (MLflow 3)
//	<exp>/models/m-*/          logged models (MLflow 3)
//	<run>/meta.yaml            a run directly under the root
//	.trash/<exp>/              deleted experiments
//	models/<name>/version-N/   the model registry
//
// Folders under the root that hold neither (an artifact folder left by a
// run whose artifact URI points there) are not runs.
type fileStore struct {
	root string
	cfg  SourceConfig
	// real holds the root and the allowed artifact roots with symbolic
	// links resolved (resolveRoots); artifacts reads nothing without it.
	real []string
}

// resolveRoots fills s.real; call it before reading runs.
func (s *fileStore) resolveRoots() {
	s.real = nil
	for _, r := range append([]string{s.root}, s.cfg.ArtifactRoots...) {
		if rr, err := filepath.EvalSymlinks(r); err == nil {
			s.real = append(s.real, rr)
		} else {
			s.real = append(s.real, "") // matches nothing
		}
	}
}

// Caps on what is read from one file of the store.
const (
	maxMetaBytes  = 1 << 20
	maxValueBytes = 1 << 20
	maxMetricLine = 4096
	maxWalkDepth  = 32
)

// Folder names inside an experiment that are not runs.
var reservedExpDirs = []string{"tags", "datasets", "traces", "models", "meta.yaml"}

var (
	hexID     = regexp.MustCompile(`^[0-9a-f]*[a-f][0-9a-f]*$`)
	floatLike = regexp.MustCompile(`^[0-9]+[eE][0-9]+$`)
)

var windowsDrive = regexp.MustCompile(`^/?[A-Za-z]:[/\\]`)

var runIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

func (s *fileStore) runs(ctx context.Context, f filter, yield func(*runRecord) error, skip func(collectors.Skipped)) error {
	s.resolveRoots()
	entries, err := os.ReadDir(s.root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("read MLflow file store %s: %w", s.root, collectors.ErrSourceMissing)
		}
		return fmt.Errorf("read MLflow file store: %w", err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := e.Name()
		if !e.IsDir() || name == "models" {
			continue
		}
		dir := filepath.Join(s.root, name)
		if name == ".trash" {
			if !f.deleted {
				continue
			}
			trashed, err := os.ReadDir(dir)
			if err != nil {
				skip(collectors.Skipped{What: ".trash", Reason: err.Error()})
				continue
			}
			for _, t := range trashed {
				if t.IsDir() {
					if err := s.experiment(ctx, filepath.Join(dir, t.Name()), t.Name(), true, yield, skip); err != nil {
						return err
					}
				}
			}
			continue
		}
		meta, err := readMeta(filepath.Join(dir, "meta.yaml"))
		switch {
		case err == nil && (meta.str("run_id") != "" || meta.str("run_uuid") != ""):
			// A run directly under the root, with no experiment level.
			exp := experimentInfo{id: meta.str("experiment_id")}
			if exp.id == "" {
				exp.id = "0"
			}
			if ee, err := readMeta(filepath.Join(s.root, exp.id, "meta.yaml")); err == nil {
				exp.name = ee.str("name")
			}
			rec, err := s.run(dir, exp, meta, nil)
			if err != nil {
				skip(collectors.Skipped{What: "run " + name, Reason: err.Error()})
				continue
			}
			if err := yield(rec); err != nil {
				return err
			}
		case err == nil || errors.Is(err, fs.ErrNotExist):
			if err := s.experiment(ctx, dir, name, false, yield, skip); err != nil {
				return err
			}
		default:
			skip(collectors.Skipped{What: "experiment " + name, Reason: err.Error()})
		}
	}
	return nil
}

type experimentInfo struct {
	id, name string
	deleted  bool
	dir      string
	models   []loggedModel
}

// experiment reads the runs of one experiment folder.
func (s *fileStore) experiment(ctx context.Context, dir, id string, trashed bool, yield func(*runRecord) error, skip func(collectors.Skipped)) error {
	exp := experimentInfo{id: id, name: id, deleted: trashed, dir: dir}
	meta, err := readMeta(filepath.Join(dir, "meta.yaml"))
	switch {
	case err == nil:
		if v := meta.str("experiment_id"); v != "" {
			exp.id = v
		}
		if v := meta.str("name"); v != "" {
			exp.name = v
		}
		if meta.str("lifecycle_stage") == "deleted" {
			exp.deleted = true
		}
	case !errors.Is(err, fs.ErrNotExist):
		skip(collectors.Skipped{What: "experiment " + id, Reason: err.Error()})
		return nil
	}
	exp.models = s.loggedModels(filepath.Join(dir, "models"), skip)
	entries, err := os.ReadDir(dir)
	if err != nil {
		skip(collectors.Skipped{What: "experiment " + id, Reason: err.Error()})
		return nil
	}
	var runDirs []string
	for _, e := range entries {
		if e.IsDir() && !slices.Contains(reservedExpDirs, e.Name()) {
			runDirs = append(runDirs, e.Name())
		}
	}
	// Runs are read by a few goroutines at once (reading is mostly
	// waiting on the file system) and yielded in folder order.
	results := make([]chan runRead, len(runDirs))
	for i := range results {
		results[i] = make(chan runRead, 1)
	}
	done := make(chan struct{})
	defer close(done)
	sem := make(chan struct{}, readAhead)
	go func() {
		for i, name := range runDirs {
			select {
			case sem <- struct{}{}:
			case <-done:
				return
			}
			go func() {
				results[i] <- s.readRun(filepath.Join(dir, name), exp)
			}()
		}
	}()
	for i := range runDirs {
		var r runRead
		select {
		case r = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-sem
		if r.skip != nil {
			skip(*r.skip)
		}
		if r.rec == nil {
			continue
		}
		if err := yield(r.rec); err != nil {
			return err
		}
	}
	return nil
}

// readAhead is how many runs of an experiment are read at once.
const readAhead = 8

// runRead is what reading one run folder gave: a record, a skip, or
// neither (a folder that is not a run).
type runRead struct {
	rec  *runRecord
	skip *collectors.Skipped
}

// readRun reads the run folder dir of exp.
func (s *fileStore) readRun(dir string, exp experimentInfo) (out runRead) {
	name := filepath.Base(dir)
	rm, err := readMeta(filepath.Join(dir, "meta.yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		return out // not a run (an artifact folder, or unknown)
	}
	if err != nil {
		out.skip = &collectors.Skipped{What: "run " + name, Reason: err.Error()}
		return out
	}
	rec, err := s.run(dir, exp, rm, exp.models)
	if err != nil {
		out.skip = &collectors.Skipped{What: "run " + name, Reason: err.Error()}
		return out
	}
	out.rec = rec
	return out
}

// run reads one run folder whose meta.yaml is m.
func (s *fileStore) run(dir string, exp experimentInfo, m metaDoc, models []loggedModel) (*runRecord, error) {
	key := "run_id"
	if m.str(key) == "" {
		key = "run_uuid"
	}
	id := m.str(key)
	if _, quoted := m[key].(string); !quoted && id != "" && runIDPattern.MatchString(filepath.Base(dir)) {
		// An all-digit ID written unquoted reads as a number and loses
		// its leading zeros; the folder name keeps them.
		id = filepath.Base(dir)
	}
	if !runIDPattern.MatchString(id) {
		return nil, fmt.Errorf("meta.yaml: run_id %q is not a run ID", cut(id))
	}
	if id != filepath.Base(dir) {
		return nil, fmt.Errorf("meta.yaml: run_id %s does not match the folder", id)
	}
	if v := m.str("experiment_id"); v != "" && v != exp.id && exp.dir != "" {
		exp.id = v
	}
	r := trainrun.Run{
		NativeID: id, URI: "file://" + filepath.ToSlash(dir), Name: m.str("run_name"),
		Experiment: exp.name, ExperimentID: exp.id, Status: statusOf(m.str("status")),
		StartTime: msTime(m.int("start_time")), EndTime: msTime(m.int("end_time")), User: m.str("user_id"),
	}
	if r.Name == "" {
		r.Name = m.str("name") // MLflow 1.x
	}
	rec := &runRecord{Lifecycle: m.str("lifecycle_stage"), ExperimentDeleted: exp.deleted, ArtifactURI: m.str("artifact_uri")}
	if rec.Lifecycle == "" {
		rec.Lifecycle = "active"
	}
	var bad []string
	params, err := readKeyed(filepath.Join(dir, "params"))
	if err != nil {
		bad = append(bad, "params: "+err.Error())
	}
	r.Params = params
	tags, err := readKeyed(filepath.Join(dir, "tags"))
	if err != nil {
		bad = append(bad, "tags: "+err.Error())
	}
	applyTags(&r, tags)
	metrics, err := readMetrics(filepath.Join(dir, "metrics"))
	if err != nil {
		bad = append(bad, "metrics: "+err.Error())
	}
	metricsOf(&r, metrics)
	r.Datasets = s.inputs(dir, exp.dir)
	// Logged models (MLflow 3): by source_run_id, by the run's outputs/,
	// or else by time: made during the run or within a few seconds of
	// its end, by the latest-started run of the experiment.
	outputs := dirNames(filepath.Join(dir, "outputs"))
	var files []collectors.File
	for _, lm := range models {
		by := ""
		switch {
		case lm.runID == id:
			by = "source_run_id"
		case slices.Contains(outputs, lm.id):
			by = "outputs"
		case lm.runID == "" && lm.timeRun == id:
			by = "time"
		}
		if by == "" {
			continue
		}
		r.Models = append(r.Models, trainrun.Model{Name: lm.name, ID: lm.id, Flavors: lm.flavors, AttachedBy: by,
			Path: "models/" + lm.id})
		if lm.mlmodel != "" {
			files = append(files, fileAt("models/"+lm.id+"/MLmodel", lm.mlmodel, maxMetaBytes))
		}
	}
	rec.Problems = bad
	rec.Run = r
	s.artifacts(rec, dir)
	rec.Files = append(files, rec.Files...)
	rec.Updated = fmt.Sprintf("%s|%s|%d|%d|%d|%d", r.Status, rec.Lifecycle, m.int("end_time"), len(params), len(tags), pointCount(r.Metrics))
	return rec, nil
}

func pointCount(ms []trainrun.Metric) int {
	n := 0
	for _, m := range ms {
		n += len(m.Points)
	}
	return n
}

// readKeyed reads a params/ or tags/ folder: one file per key, the key's
// "/" as nested folders, the file's content the value.
func readKeyed(dir string) (map[string]string, error) {
	out := map[string]string{}
	var errs []string
	err := walkFiles(dir, func(key, p string) {
		b, err := readSmall(p, maxValueBytes)
		if err != nil {
			errs = append(errs, key+": "+err.Error())
			return
		}
		out[key] = string(b)
	})
	if err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return out, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

// readMetrics reads a metrics/ folder. A malformed line is left out and
// reported; the rest of the file is kept.
func readMetrics(dir string) (map[string][]metricPoint, error) {
	out := map[string][]metricPoint{}
	var errs []string
	err := walkFiles(dir, func(key, p string) {
		pts, err := readMetricFile(p)
		if err != nil {
			errs = append(errs, key+": "+err.Error())
		}
		if len(pts) > 0 {
			out[key] = pts
		}
	})
	if err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return out, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

// readMetricFile parses one metric file, keeping its good lines.
func readMetricFile(p string) ([]metricPoint, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	var pts []metricPoint
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), maxMetricLine)
	badLines, first := 0, ""
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		pt, err := parseMetricLine(line)
		if err != nil {
			if badLines == 0 {
				first = fmt.Sprintf("line %d: %v", n, err)
			}
			badLines++
			continue
		}
		pts = append(pts, pt)
	}
	if err := sc.Err(); err != nil {
		return pts, fmt.Errorf("after line %d: %w", n, err)
	}
	if badLines > 0 {
		return pts, fmt.Errorf("%d malformed lines, first %s", badLines, first)
	}
	return pts, nil
}

// walkFiles calls fn for every regular file under dir with its key (its
// path under dir, "/"-separated). A missing dir is no error; symbolic
// links and other non-regular files are not read.
func walkFiles(dir string, fn func(key, path string)) error {
	var walk func(d, prefix string, depth int) error
	walk = func(d, prefix string, depth int) error {
		if depth > maxWalkDepth {
			return fmt.Errorf("%s: nested deeper than %d folders", prefix, maxWalkDepth)
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			if depth == 0 && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		for _, e := range entries {
			key := prefix + e.Name()
			switch {
			case e.IsDir():
				if err := walk(filepath.Join(d, e.Name()), key+"/", depth+1); err != nil {
					return err
				}
			case e.Type().IsRegular():
				fn(key, filepath.Join(d, e.Name()))
			}
		}
		return nil
	}
	return walk(dir, "", 0)
}

// readSmall reads a regular file of at most limit bytes. It opens without
// blocking and checks the file's type before reading, so that a FIFO put
// in place of a file cannot hang it.
func readSmall(p string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	b := make([]byte, 0, fi.Size()+1)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			if int64(len(b)) > limit {
				return nil, fmt.Errorf("larger than %d bytes", limit)
			}
			b = append(b, 0)[:len(b)] // grew since Stat: keep reading
		}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// metaDoc is a parsed meta.yaml.
type metaDoc map[string]any

// readMeta parses a meta.yaml of at most maxMetaBytes.
func readMeta(p string) (metaDoc, error) {
	b, err := readSmall(p, maxMetaBytes)
	if err != nil {
		return nil, err
	}
	if m, ok := parseFlatMeta(b); ok {
		return m, nil
	}
	m := metaDoc{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(p), err)
	}
	return m, nil
}

// parseFlatMeta reads the flat "key: value" form MLflow writes its
// meta.yaml files in (plain, single-quoted or null scalars, [] and {}),
// as YAML would, ten times faster; ok is false for anything else, which
// the caller leaves to the YAML parser.
func parseFlatMeta(b []byte) (metaDoc, bool) {
	m := metaDoc{}
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(": "))
		if !ok {
			if k, ok = bytes.CutSuffix(line, []byte(":")); !ok {
				return nil, false
			}
			v = nil
		}
		if len(k) == 0 || !flatKey(k) {
			return nil, false
		}
		val, ok := flatScalar(string(v))
		if !ok {
			return nil, false
		}
		if _, dup := m[string(k)]; dup {
			return nil, false
		}
		m[string(k)] = val
	}
	return m, true
}

func flatKey(k []byte) bool {
	for _, c := range k {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// flatScalar reads one value: ” quoted, a decimal integer, null, true or
// false, [] or {}, or a plain string without YAML's special characters.
func flatScalar(v string) (any, bool) {
	switch v {
	case "", "null", "~", "Null", "NULL":
		return nil, true
	case "[]":
		return []any{}, true
	case "{}":
		return map[string]any{}, true
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	if v[0] == '\'' {
		if len(v) < 2 || v[len(v)-1] != '\'' {
			return nil, false
		}
		inner := v[1 : len(v)-1]
		if strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") {
			return nil, false
		}
		return strings.ReplaceAll(inner, "''", "'"), true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && (v[0] != '0' || v == "0") && v[0] != '+' {
		if n == int64(int(n)) {
			return int(n), true
		}
	}
	// A hex ID (a run ID starting with a digit) is a string, unless YAML
	// reads it as a number (1e5) or a binary integer (0b101).
	if hexID.MatchString(v) && !floatLike.MatchString(v) && !strings.HasPrefix(v, "0b") {
		return v, true
	}
	// Anything YAML could read as another type or as structure goes to
	// the YAML parser.
	if strings.ContainsAny(v[:1], "-?:,[]{}#&*!|>'\"%@` \t0123456789.+") || strings.Contains(v, ": ") || strings.Contains(v, " #") ||
		strings.HasSuffix(v, ":") || strings.HasSuffix(v, " ") {
		return nil, false
	}
	switch strings.ToLower(v) {
	case "yes", "no", "on", "off", "y", "n", ".nan", ".inf", "-.inf":
		return nil, false
	}
	return v, true
}

func (m metaDoc) str(k string) string {
	switch v := m[k].(type) {
	case nil:
		return ""
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func (m metaDoc) int(k string) int64 {
	switch v := m[k].(type) {
	case int:
		return int64(v)
	case int64:
		return v
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

func dirNames(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// inputs reads a run's dataset inputs: inputs/<id>/meta.yaml names a
// dataset of the experiment (datasets/<source_id>/meta.yaml).
func (s *fileStore) inputs(runDir, expDir string) []trainrun.Dataset {
	var out []trainrun.Dataset
	for _, id := range dirNames(filepath.Join(runDir, "inputs")) {
		in, err := readMeta(filepath.Join(runDir, "inputs", id, "meta.yaml"))
		if err != nil || expDir == "" {
			continue
		}
		dsID := in.str("source_id")
		if dsID == "" || !runIDPattern.MatchString(dsID) {
			continue
		}
		ds, err := readMeta(filepath.Join(expDir, "datasets", dsID, "meta.yaml"))
		if err != nil {
			continue
		}
		d := trainrun.Dataset{Name: ds.str("name"), Digest: ds.str("digest"), Source: ds.str("source"), SourceType: ds.str("source_type")}
		if tags, ok := in["tags"].(map[string]any); ok {
			if c, ok := tags["mlflow.data.context"].(string); ok {
				d.Context = c
			}
		}
		out = append(out, d)
	}
	return out
}

// loggedModel is an MLflow 3 logged model of an experiment.
type loggedModel struct {
	id, name, runID string
	created         int64
	flavors         []string
	mlmodel         string // path of its MLmodel file, if any
	timeRun         string // the run it was made by, by time, when runID is empty
}

// loggedModels reads <exp>/models/m-*/meta.yaml and, for models that do
// not name their run, finds it by time.
func (s *fileStore) loggedModels(dir string, skip func(collectors.Skipped)) []loggedModel {
	var out []loggedModel
	for _, id := range dirNames(dir) {
		m, err := readMeta(filepath.Join(dir, id, "meta.yaml"))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				skip(collectors.Skipped{What: "logged model " + id, Reason: err.Error()})
			}
			continue
		}
		lm := loggedModel{id: m.str("model_id"), name: m.str("name"), runID: m.str("source_run_id"), created: m.int("creation_timestamp")}
		if lm.id == "" {
			lm.id = id
		}
		mlm := filepath.Join(dir, id, "artifacts", "MLmodel")
		if mm, err := readMeta(mlm); err == nil {
			lm.mlmodel = mlm
			if fl, ok := mm["flavors"].(map[string]any); ok {
				for k := range fl {
					lm.flavors = append(lm.flavors, k)
				}
				sort.Strings(lm.flavors)
			}
		}
		out = append(out, lm)
	}
	if len(out) == 0 {
		return nil
	}
	// Runs of the experiment with their times, for models without a run.
	type span struct {
		id         string
		start, end int64
	}
	var spans []span
	for _, rid := range dirNames(filepath.Dir(dir)) {
		if slices.Contains(reservedExpDirs, rid) {
			continue
		}
		if m, err := readMeta(filepath.Join(filepath.Dir(dir), rid, "meta.yaml")); err == nil {
			spans = append(spans, span{rid, m.int("start_time"), m.int("end_time")})
		}
	}
	const grace = 5000 // ms after a run's end
	for i := range out {
		if out[i].runID != "" || out[i].created == 0 {
			continue
		}
		best := -1
		for j, sp := range spans {
			end := sp.end
			if end == 0 {
				end = out[i].created
			}
			if sp.start <= out[i].created && out[i].created <= end+grace && (best < 0 || sp.start > spans[best].start) {
				best = j
			}
		}
		if best >= 0 {
			out[i].timeRun = spans[best].id
		}
	}
	return out
}

// artifacts resolves the run's artifact URI inside the store (or an
// allowed root), lists its files and attaches those within the caps.
func (s *fileStore) artifacts(rec *runRecord, runDir string) {
	dir, note := resolveArtifactDir(rec.ArtifactURI, runDir, s.root, s.cfg.ArtifactRoots, s.real)
	rec.ArtifactsNote = note
	if dir == "" {
		return
	}
	budget := s.cfg.maxRun()
	perFile := s.cfg.maxArtifact()
	_ = walkFiles(dir, func(key, p string) {
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return
		}
		a := artifactEntry{Path: key, Size: fi.Size()}
		if s.cfg.artifacts() && fi.Size() <= perFile && fi.Size() <= budget {
			budget -= fi.Size()
			a.Stored = true
			rec.Files = append(rec.Files, fileAt("artifacts/"+key, p, perFile))
		}
		rec.Artifacts = append(rec.Artifacts, a)
	})
}

// fileAt is an artefact read from p when opened, never more than limit
// bytes (a file that grew since is cut, not read whole).
func fileAt(name, p string, limit int64) collectors.File {
	return collectors.File{Name: name, MediaType: mediaType(name), Open: func() (io.ReadCloser, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			f.Close()
			return nil, fmt.Errorf("artefact %s: not a regular file", name)
		}
		return struct {
			io.Reader
			io.Closer
		}{io.LimitReader(f, limit), f}, nil
	}}
}

func mediaType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	case ".yaml", ".yml":
		return "application/yaml"
	case ".txt", ".log", ".md", ".csv":
		return "text/plain"
	case ".html":
		return "text/html"
	}
	if path.Base(name) == "MLmodel" {
		return "application/yaml"
	}
	return "application/octet-stream"
}

// resolveArtifactDir finds the local folder of an artifact URI without
// leaving the store (or one of the allowed roots): an absolute path inside
// them is taken as it is; another local path (a Windows file:///C:/…, a
// container's file:///opt/…, a relative path) is matched by its longest
// tail that exists inside the store; failing that, the run's own
// artifacts/ folder. It returns "" and why when there is none.
//
// real holds root and then allowed with symbolic links resolved.
func resolveArtifactDir(uri, runDir, root string, allowed, real []string) (string, string) {
	if len(real) != 1+len(allowed) {
		return "", "artifact roots not resolved"
	}
	local := filepath.Join(runDir, "artifacts")
	fallback := func(why string) (string, string) {
		if isDirInside(local, real[0]) {
			return local, ""
		}
		return "", why
	}
	if uri == "" {
		return fallback("no artifact URI")
	}
	p := uri
	if u, err := url.Parse(uri); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		if u.Scheme != "file" {
			return fallback(fmt.Sprintf("artifacts on %s storage are not read from a file store", u.Scheme))
		}
		p = u.Path
	}
	// Windows drive paths come as /C:/… from a file URI.
	win := windowsDrive.MatchString(p)
	if !win && filepath.IsAbs(p) {
		for _, r := range real {
			if isDirInside(p, r) {
				return filepath.Clean(p), ""
			}
		}
	}
	comps := strings.FieldsFunc(p, func(c rune) bool { return c == '/' || c == '\\' })
	if slices.Contains(comps, "..") {
		return fallback("artifact URI has .. in it; not followed")
	}
	// The tail is at least two folders (<run>/artifacts), so that a URI
	// never resolves to a lone folder name that happens to exist.
	for i := range len(comps) - 1 {
		if i == 0 && win {
			continue
		}
		cand := filepath.Join(append([]string{root}, comps[i:]...)...)
		if isDirInside(cand, real[0]) {
			return cand, ""
		}
	}
	return fallback("artifact URI not found inside the store; nothing outside it is read")
}

// isDirInside reports whether p is a folder inside rr (a path with its
// symbolic links resolved) once p's symbolic links are resolved.
func isDirInside(p, rr string) bool {
	if rr == "" {
		return false
	}
	rp, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	if fi, err := os.Stat(rp); err != nil || !fi.IsDir() {
		return false
	}
	rel, err := filepath.Rel(rr, rp)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// versions reads the file store's model registry: models/<name>/meta.yaml
// and models/<name>/version-<n>/meta.yaml.
func (s *fileStore) versions(ctx context.Context, yield func(*versionRecord) error, skip func(collectors.Skipped)) error {
	dir := filepath.Join(s.root, "models")
	for _, name := range dirNames(dir) {
		for _, v := range dirNames(filepath.Join(dir, name)) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !strings.HasPrefix(v, "version-") {
				continue
			}
			m, err := readMeta(filepath.Join(dir, name, v, "meta.yaml"))
			if err != nil {
				skip(collectors.Skipped{What: "model version " + name + "/" + v, Reason: err.Error()})
				continue
			}
			rec := &versionRecord{Name: m.str("name"), Version: m.str("version"), RunID: m.str("run_id"),
				Stage: m.str("current_stage"), Status: m.str("status"), Source: m.str("source"),
				Description: m.str("description"), User: m.str("user_id"),
				Created: msTime(m.int("creation_timestamp")), Updated: msTime(m.int("last_updated_timestamp"))}
			if rec.Name == "" {
				rec.Name = name
			}
			switch a := m["aliases"].(type) {
			case []any:
				for _, x := range a {
					if s, ok := x.(string); ok {
						rec.Aliases = append(rec.Aliases, s)
					}
				}
			}
			if err := yield(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

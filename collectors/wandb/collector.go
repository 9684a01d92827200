// Package wandb collects Weights & Biases runs from the local run folders
// the client writes (wandb/offline-run-<time>-<id>/ and, for synced runs,
// wandb/run-<time>-<id>/): one training_run item per run from its
// files/config.yaml (params), files/wandb-summary.json (final metrics),
// files/wandb-metadata.json (start time, program, git commit, host, CPU
// and GPU) and its binary run log run-<id>.wandb (metric history, name,
// project, tags, exit status; datastore.go and record.go).
package wandb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/pathsource"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
)

// The files read of each run folder, under files/.
var runFiles = []string{"config.yaml", "wandb-summary.json", "wandb-metadata.json"}

// runFolder matches a run folder's name: offline-run-20231114_221319-abc123xy.
var runFolder = regexp.MustCompile(`^(offline-)?run-(\d{8}_\d{6})-([A-Za-z0-9_-]+)$`)

const cursorVersion = 1

// fileState is what the cursor keeps of one file.
type fileState struct {
	Size    int64 `json:"size"`
	ModTime int64 `json:"mtime"`
}

// cursorState keys files by pathsource.FileKey of the run folder and
// file name, so no path is stored.
type cursorState = pathsource.Cursor[fileState]

// Collector collects one wandb source.
type Collector struct{ src pathsource.Source }

// New returns the collector of cfg; set gives its logger and clock.
func New(cfg Config, set collectors.Settings) (*Collector, error) {
	src, err := pathType().Open(cfg, set)
	if err != nil {
		return nil, err
	}
	return &Collector{src}, nil
}

// folder is one run folder found.
type folder struct {
	name, dir, id, stamp string
	offline              bool
	files                map[string]fileState // of runFiles present
}

// wandbDir returns the folder holding the run folders: path/wandb when
// there is one, else path itself.
func wandbDir(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("wandb folder %s: %w", path, collectors.ErrSourceMissing)
		}
		return "", fmt.Errorf("wandb folder: %w", err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("wandb folder %s: not a folder", path)
	}
	if info, err := os.Stat(filepath.Join(path, "wandb")); err == nil && info.IsDir() {
		return filepath.Join(path, "wandb"), nil
	}
	return path, nil
}

// Collect implements collectors.Collector. Runs whose files are unchanged
// since the cursor are not read again; a changed run is emitted again
// under the same ID.
func (c *Collector) Collect(ctx context.Context, cursor collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prev := pathsource.DecodeCursor[fileState](cursor, cursorVersion, SourceType, c.src.Set.Logger)
	dir, err := wandbDir(c.src.Abs)
	if err != nil {
		return nil, err
	}
	var skips collectors.Skips
	skip := func(what, why string) {
		sk := collectors.Skipped{What: what, Reason: why}
		sink.Skip(sk)
		skips.Add(sk)
	}
	runs, err := findRuns(dir, skip)
	if err != nil {
		return nil, err
	}
	next := pathsource.NewCursor[fileState](cursorVersion)
	project := filepath.Base(filepath.Dir(dir))
	if dir == c.src.Abs && filepath.Base(dir) != "wandb" {
		project = filepath.Base(dir)
	}
	for _, id := range sortedKeys(runs) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		folders := runs[id]
		if unchanged(prev, folders) {
			remember(next, folders)
			continue
		}
		r, problems, err := readRun(folders, project)
		if err != nil {
			skip("run "+id, err.Error())
			continue // not remembered: read again next time
		}
		for _, p := range problems {
			skip("run "+id, p)
		}
		e, err := trainrun.Build(r, trainrun.Meta{Apprentice: c.src.Config.Apprentice, Source: c.src.Config.Name, CollectedAt: c.src.Set.Now()})
		if err != nil {
			skip("run "+id, err.Error())
			continue
		}
		if err := sink.Emit(ctx, e); err != nil {
			return nil, err
		}
		remember(next, folders)
	}
	b, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("encode cursor: %w", err)
	}
	return b, skips.Err()
}

// findRuns lists the run folders under dir, grouped by run ID (a resumed
// run has one folder per session), each group in time order.
func findRuns(dir string, skip func(what, why string)) (map[string][]folder, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list run folders: %w", err)
	}
	runs := map[string][]folder{}
	for _, e := range entries {
		m := runFolder.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() { // latest-run is a symlink; debug logs are files
			continue
		}
		f := folder{name: e.Name(), dir: filepath.Join(dir, e.Name()), offline: m[1] != "", stamp: m[2], id: m[3],
			files: map[string]fileState{}}
		for _, n := range runFiles {
			info, err := os.Lstat(filepath.Join(f.dir, "files", n))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err == nil && !info.Mode().IsRegular() {
				err = errors.New("not a regular file (a symlink is not followed)")
			}
			if err != nil {
				skip(filepath.Join(e.Name(), "files", n), err.Error())
				continue
			}
			f.files[n] = fileState{Size: info.Size(), ModTime: info.ModTime().UnixNano()}
		}
		logName := "run-" + f.id + ".wandb"
		if info, err := os.Lstat(filepath.Join(f.dir, logName)); err == nil && info.Mode().IsRegular() {
			f.files[logName] = fileState{Size: info.Size(), ModTime: info.ModTime().UnixNano()}
		}
		if len(f.files) == 0 {
			continue // nothing written yet
		}
		runs[f.id] = append(runs[f.id], f)
	}
	for _, fs := range runs {
		sort.Slice(fs, func(i, j int) bool { return fs[i].stamp < fs[j].stamp })
	}
	return runs, nil
}

func unchanged(prev cursorState, folders []folder) bool {
	for _, f := range folders {
		for n, st := range f.files {
			if prev.Files[pathsource.FileKey(f.name, n)] != st {
				return false
			}
		}
	}
	return true
}

func remember(next cursorState, folders []folder) {
	for _, f := range folders {
		for n, st := range f.files {
			next.Files[pathsource.FileKey(f.name, n)] = st
		}
	}
}

// readRun reads a run's files: params and summary from its latest
// session, the start from its first, and the history, name, tags and exit
// status from the run logs of every session, in order. Damage in a run
// log is returned as problems (the run is still built); a file that
// cannot be read or parsed is an error.
func readRun(folders []folder, project string) (trainrun.Run, []string, error) {
	first, last := folders[0], folders[len(folders)-1]
	r := trainrun.Run{SourceType: SourceType, NativeID: last.id, Name: last.id, Experiment: project,
		URI: fileURI(last.dir), Status: trainrun.StatusUnknown}
	read := func(f folder, name string) ([]byte, error) {
		if _, ok := f.files[name]; !ok {
			return nil, nil
		}
		b, err := readCapped(filepath.Join(f.dir, filePath(name)))
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", f.name, filePath(name), pathless(err))
		}
		return b, nil
	}
	extra := map[string]any{"offline": last.offline}
	if len(folders) > 1 {
		extra["sessions"] = len(folders)
	}
	b, err := read(last, "config.yaml")
	if err != nil {
		return r, nil, err
	}
	if b != nil {
		params, client, err := parseConfig(b)
		if err != nil {
			return r, nil, err
		}
		r.Params = params
		if v, ok := client["cli_version"].(string); ok {
			extra["client_version"] = v
		}
		if v, ok := client["framework"].(string); ok {
			extra["framework"] = v
		}
	}
	var md metadata
	if b, err := read(first, "wandb-metadata.json"); err != nil {
		return r, nil, err
	} else if b != nil {
		if md, err = parseMetadata(b); err != nil {
			return r, nil, err
		}
	}
	if b, err := read(last, "wandb-metadata.json"); err != nil {
		return r, nil, err
	} else if b != nil && len(folders) > 1 {
		lm, err := parseMetadata(b)
		if err != nil {
			return r, nil, err
		}
		started := md.StartedAt
		md, md.StartedAt = lm, started
	}
	r.StartTime = startTime(md.StartedAt)
	if r.StartTime.IsZero() {
		// The folder's time stamp, in the writer's local time; read as UTC.
		r.StartTime, _ = time.Parse("20060102_150405", first.stamp)
	}
	r.SourceName = md.CodePath
	if r.SourceName == "" {
		r.SourceName = md.Program
	}
	r.User = md.Username
	if md.Git != nil {
		r.GitCommit = strings.TrimSpace(md.Git.Commit)
		if md.Git.Remote != "" {
			extra["git_remote"] = md.Git.Remote
		}
	}
	r.Hardware = trainrun.Hardware{Host: md.Host, CPUCount: md.CPUCount, GPU: md.GPU, GPUCount: md.GPUCount}
	if r.Hardware.CPUCount == 0 {
		r.Hardware.CPUCount = md.CPULogical
	}
	for k, v := range map[string]string{"python": md.Python, "os": md.OS, "cuda": md.CUDA} {
		if v != "" {
			extra[k] = v
		}
	}
	b, err = read(last, "wandb-summary.json")
	if err != nil {
		return r, nil, err
	}
	if b != nil {
		s, err := parseSummary(b)
		if err != nil {
			return r, nil, err
		}
		step := max(s.Step, 0)
		at := time.Time{}
		if s.Timestamp > 0 {
			at = time.Unix(0, int64(s.Timestamp*1e9)).UTC()
		}
		for _, k := range sortedKeys(s.Metrics) {
			r.Metrics = append(r.Metrics, trainrun.Metric{Key: k, Points: []trainrun.Point{{Step: step, Time: at, Value: s.Metrics[k]}}})
		}
		switch {
		case s.Runtime > 0 && !r.StartTime.IsZero():
			r.EndTime = r.StartTime.Add(time.Duration(s.Runtime * float64(time.Second)))
		case !at.IsZero():
			r.EndTime = at
		}
		if s.Step >= 0 {
			extra["steps"] = s.Step + 1
		}
	}
	lr, problems := readLogs(folders)
	applyLog(&r, lr, extra)
	r.Extra = extra
	return r, problems, nil
}

// filePath is where a tracked file is in its run folder: the run log at
// the top, the others under files/.
func filePath(name string) string {
	if strings.HasSuffix(name, ".wandb") {
		return name
	}
	return filepath.Join("files", name)
}

func fileURI(dir string) string {
	p := filepath.ToSlash(dir)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// pathless drops the path an *fs.PathError repeats, so that errors name
// the file once.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

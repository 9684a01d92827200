package tensorboard

import (
	"math"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
)

// nativeID is a run's identity: its folder relative to the log directory
// and the name of its first event file, which holds the writer's start
// time, host and process ID. Two projects' "lightning_logs/version_0" so
// differ, and moving the log directory keeps the IDs.
func nativeIDOf(run *Run) string { return run.Name + "/" + sortedFiles(run)[0] }

// eventFileName matches "events.out.tfevents.<unix time>.<host>[.<pid>.<n>][.v2]".
var eventFileName = regexp.MustCompile(`^events\.out\.tfevents\.\d+\.(.+)$`)

// hostOf returns the host an event file name records, or "".
func hostOf(name string) string {
	m := eventFileName.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	parts := strings.Split(m[1], ".")
	for len(parts) > 1 {
		last := parts[len(parts)-1]
		if _, err := strconv.Atoi(last); err == nil || last == "v2" || last == "profile-empty" {
			parts = parts[:len(parts)-1]
			continue
		}
		break
	}
	return strings.Join(parts, ".")
}

func wallTime(s float64) time.Time {
	if s <= 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return time.Time{}
	}
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// trainRun maps a run read from event files to the shared training run.
func trainRun(run *Run, logdir string) trainrun.Run {
	r := trainrun.Run{
		SourceType: SourceType,
		NativeID:   nativeIDOf(run),
		URI:        fileURI(run.Dir),
		Name:       run.Name,
		Status:     trainrun.StatusUnknown,
		StartTime:  wallTime(run.FirstWall),
		EndTime:    wallTime(run.LastWall),
	}
	if r.Name == "." {
		r.Name = filepath.Base(logdir)
	}
	if dir := path.Dir(run.Name); dir != "." {
		r.Experiment = dir
	}
	extra := map[string]any{"event_files": len(run.Files), "events": run.Events}
	if hp := run.HParams; hp != nil {
		if hp.Experiment != "" {
			r.Experiment = hp.Experiment
		}
		switch hp.Status {
		case "success":
			r.Status = trainrun.StatusFinished
		case "failure":
			r.Status = trainrun.StatusFailed
		case "running":
			r.Status = trainrun.StatusRunning
		}
		if t := wallTime(hp.StartTime); !t.IsZero() {
			r.StartTime = t
		}
		if t := wallTime(hp.EndTime); !t.IsZero() {
			r.EndTime = t
		}
		if len(hp.Values) > 0 {
			r.Params = map[string]string{}
			for k, v := range hp.Values {
				r.Params[k] = paramString(v)
			}
		}
		if hp.GroupName != "" {
			extra["hparams_group"] = hp.GroupName
		}
		if len(hp.MetricTags) > 0 {
			extra["hparams_metrics"] = stringsAny(hp.MetricTags)
		}
	}
	tags := make([]string, 0, len(run.Series))
	for tag := range run.Series {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	counts := map[string]any{}
	for _, tag := range tags {
		s := run.Series[tag]
		pts := make([]trainrun.Point, 0, len(s.Points)+1)
		for _, p := range s.Points {
			pts = append(pts, trainrun.Point{Step: p.Step, Time: wallTime(p.WallTime), Value: p.Value})
		}
		if n := len(s.Points); n == 0 || s.Points[n-1] != s.Last {
			pts = append(pts, trainrun.Point{Step: s.Last.Step, Time: wallTime(s.Last.WallTime), Value: s.Last.Value})
		}
		r.Metrics = append(r.Metrics, trainrun.Metric{Key: tag, Points: pts})
		counts[tag] = s.Count
	}
	if len(counts) > 0 {
		extra["scalar_points"] = counts // every point read; the metrics' points are thinned past 10,000
	}
	if len(run.Corrupt) > 0 {
		extra["corrupt_records"] = len(run.Corrupt)
	}
	if len(run.Partial) > 0 {
		extra["incomplete_files"] = len(run.Partial)
	}
	for _, n := range sortedFiles(run) {
		if h := hostOf(n); h != "" {
			r.Hardware.Host = h
			break
		}
	}
	r.Extra = extra
	return r
}

func sortedFiles(run *Run) []string {
	names := make([]string, 0, len(run.Files))
	for n := range run.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func paramString(v any) string {
	switch v := v.(type) {
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case string:
		return v
	}
	return ""
}

func stringsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// fileURI renders an absolute folder as a file:// URI.
func fileURI(dir string) string {
	p := filepath.ToSlash(dir)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive path
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// emission builds the item of a run.
func (c *Collector) emission(run *Run) (collectors.Emission, error) {
	return trainrun.Build(trainRun(run, c.src.Abs), trainrun.Meta{Apprentice: c.src.Config.Apprentice, Source: c.src.Config.Name, CollectedAt: c.src.Set.Now()})
}

package wandb

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// readLogs reads the run log of every session of a run, in order, into
// one logRun; nil when no session has a log. Damage is returned as
// problems.
func readLogs(folders []folder) (*logRun, []string) {
	var lr *logRun
	var problems []string
	for _, f := range folders {
		name := "run-" + f.id + ".wandb"
		if _, ok := f.files[name]; !ok {
			continue
		}
		if lr == nil {
			lr = &logRun{}
		}
		st, bad, err := readLogFile(filepath.Join(f.dir, name), lr)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s/%s: %v", f.name, name, err))
		}
		if st.Corrupt > 0 {
			problems = append(problems, fmt.Sprintf("%s/%s: %d damaged stretches skipped; reading resumed at the next block", f.name, name, st.Corrupt))
		}
		if bad > 0 {
			problems = append(problems, fmt.Sprintf("%s/%s: %d records that do not decode skipped", f.name, name, bad))
		}
	}
	return lr, problems
}

func readLogFile(path string, lr *logRun) (logStats, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return logStats{}, 0, pathless(err)
	}
	defer f.Close()
	bad := 0
	st, err := readLog(f, func(rec []byte) error {
		if err := lr.add(rec); err != nil {
			bad++
		}
		return nil
	})
	return st, bad, err
}

// maxNotes bounds the run's notes kept, in bytes.
const maxNotes = 16 << 10

// applyLog adds what the run logs say to r: name, project, tags, notes,
// exit status, start, git, host, and the metric histories (which replace
// the summary's single points of the same keys).
func applyLog(r *trainrun.Run, lr *logRun, extra map[string]any) {
	if lr == nil {
		extra["history"] = "no run log"
		return
	}
	extra["log_records"] = lr.Records
	if lr.DisplayName != "" {
		r.Name = lr.DisplayName
	}
	if lr.Project != "" {
		r.Experiment = lr.Project
	}
	notes := lr.Notes
	if len(notes) > maxNotes {
		notes = strings.ToValidUTF8(notes[:maxNotes], "")
		extra["notes_truncated"] = true
	}
	for k, v := range map[string]string{"entity": lr.Entity, "group": lr.Group, "job_type": lr.JobType,
		"notes": notes, "sweep_id": lr.SweepID} {
		if v != "" {
			extra[k] = v
		}
	}
	if len(lr.Tags) > 0 {
		tags := make([]any, len(lr.Tags))
		for i, t := range lr.Tags {
			tags[i] = t
		}
		extra["tags"] = tags
		r.KSBs = append(r.KSBs, declaredKSBs(lr.Tags)...)
	}
	if r.StartTime.IsZero() {
		r.StartTime = lr.Start
	}
	if r.GitCommit == "" {
		r.GitCommit = lr.GitCommit
	}
	if r.Hardware.Host == "" {
		r.Hardware.Host = lr.Host
	}
	if lr.Exited {
		extra["exit_code"] = lr.ExitCode
		r.Status = trainrun.StatusFinished
		if lr.ExitCode != 0 {
			r.Status = trainrun.StatusFailed
		}
		if lr.Runtime > 0 && !r.StartTime.IsZero() && r.EndTime.IsZero() {
			r.EndTime = r.StartTime.Add(time.Duration(lr.Runtime) * time.Second)
		}
	}
	if len(lr.History) == 0 {
		return
	}
	keys := make([]string, 0, len(lr.History))
	for k := range lr.History {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	byKey := map[string]int{}
	for i, m := range r.Metrics {
		byKey[m.Key] = i
	}
	counts := map[string]any{}
	for _, k := range keys {
		s := lr.History[k]
		pts := make([]trainrun.Point, 0, len(s.Points)+1)
		for _, p := range s.Points {
			pts = append(pts, trainrun.Point{Step: p.Step, Time: p.At, Value: p.Value})
		}
		if n := len(s.Points); n == 0 || s.Points[n-1] != s.Last {
			pts = append(pts, trainrun.Point{Step: s.Last.Step, Time: s.Last.At, Value: s.Last.Value})
		}
		m := trainrun.Metric{Key: k, Points: pts}
		switch lr.Goals[k] {
		case 1:
			m.Direction = trainrun.Minimize
		case 2:
			m.Direction = trainrun.Maximize
		}
		if i, ok := byKey[k]; ok {
			r.Metrics[i] = m
		} else {
			r.Metrics = append(r.Metrics, m)
		}
		counts[k] = s.Count
	}
	extra["history_points"] = counts
}

// declaredKSBs reads KSB IDs from tags written "ksb:S10" or "ksb:S10,K4"
// (any case).
func declaredKSBs(tags []string) []string {
	var out []string
	for _, t := range tags {
		rest, ok := cutPrefixFold(strings.TrimSpace(t), "ksb:")
		if !ok {
			continue
		}
		for _, k := range strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' }) {
			k = evidence.NormalizeKSB(k)
			if evidence.LooksLikeKSB(k) && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

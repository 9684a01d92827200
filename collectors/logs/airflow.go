package logs

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/textcap"
)

// airflowRunKey names one DAG run.
type airflowRunKey struct{ Dag, Run string }

// airflowPath is what an Airflow 2 task log's path says:
// dag_id=<dag>/run_id=<run>/task_id=<task>[/map_index=<i>]/attempt=<n>.log.
type airflowPath struct {
	Dag, Run, Task string
	MapIndex       string
	Attempt        int
}

var attemptRe = regexp.MustCompile(`^attempt=(\d+)\.log$`)

// parseAirflowPath reads an Airflow task log path. Windows checkouts store
// the ":" of run IDs as U+F03A; it is read back as ":".
func parseAirflowPath(p string) (airflowPath, bool) {
	parts := strings.Split(filepath.ToSlash(p), "/")
	var ap airflowPath
	m := attemptRe.FindStringSubmatch(parts[len(parts)-1])
	if m == nil {
		return ap, false
	}
	ap.Attempt, _ = strconv.Atoi(m[1])
	for _, s := range parts[:len(parts)-1] {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		v = strings.ReplaceAll(v, "\uF03A", ":")
		switch k {
		case "dag_id":
			ap.Dag = v
		case "run_id":
			ap.Run = v
		case "task_id":
			ap.Task = v
		case "map_index":
			ap.MapIndex = v
		}
	}
	return ap, ap.Dag != "" && ap.Run != "" && ap.Task != ""
}

func isAirflowTask(p string) bool { _, ok := parseAirflowPath(p); return ok }

func airflowKey(p string) airflowRunKey {
	ap, _ := parseAirflowPath(p)
	return airflowRunKey{ap.Dag, ap.Run}
}

// taskAttempt is what one attempt log says.
type taskAttempt struct {
	Task      string
	Attempt   int
	Of        int
	State     string // SUCCESS, FAILED, UP_FOR_RETRY, … ("" when the log does not say)
	Started   time.Time
	Ended     time.Time
	Operator  string
	Errors    int
	FirstErr  string
	Path      string
	RunIDs    []string
	lastLines []string
}

var (
	startingRe = regexp.MustCompile(`^Starting attempt (\d+) of (\d+)`)
	markingRe  = regexp.MustCompile(`^Marking task as ([A-Z_]+)\b`)
	operatorRe = regexp.MustCompile(`^Executing <Task\((\w+)\): `)
)

// readAttempt reads one task attempt log, in constant memory.
func (r *run) readAttempt(t target) (taskAttempt, error) {
	ap, _ := parseAirflowPath(t.Path)
	ta := taskAttempt{Task: ap.Task, Attempt: ap.Attempt, Path: t.Path}
	if ap.MapIndex != "" && ap.MapIndex != "-1" {
		ta.Task += "[" + ap.MapIndex + "]"
	}
	rd, cl, err := openStream(t.Path)
	if err != nil {
		return ta, err
	}
	defer cl.Close()
	year := t.Info.ModTime().Year()
	lr := newLineReader(rd, 0, r.c.maxLine)
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := r.ctx.Err(); err != nil {
				return ta, err
			}
		}
		l, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ta, err
		}
		e, ok := parseText(toText(l.Text), year)
		if !ok {
			continue
		}
		if ta.Started.IsZero() {
			ta.Started = e.Time
		}
		ta.Ended = e.Time
		msg := e.Message
		if m := startingRe.FindStringSubmatch(msg); m != nil {
			ta.Attempt, _ = strconv.Atoi(m[1])
			ta.Of, _ = strconv.Atoi(m[2])
		}
		if m := markingRe.FindStringSubmatch(msg); m != nil {
			ta.State = m[1]
		}
		if m := operatorRe.FindStringSubmatch(msg); m != nil {
			ta.Operator = m[1]
		}
		if e.Level == "ERROR" || e.Level == "CRITICAL" {
			ta.Errors++
			if ta.FirstErr == "" {
				ta.FirstErr = textcap.CutBeforeWord(strings.TrimSpace(msg), 300)
			}
		}
		if len(ta.RunIDs) < 5 {
			f := map[string]any{}
			refs(msg, f, nil)
			if id, ok := f["mlflow_run_id"].(string); ok && !contains(ta.RunIDs, id) {
				ta.RunIDs = append(ta.RunIDs, id)
			}
		}
		if ta.State != "" || e.Level == "ERROR" {
			if len(ta.lastLines) < 8 {
				ta.lastLines = append(ta.lastLines, textcap.CutBeforeWord(toText(l.Text), maxExcerptLine))
			}
		}
	}
	return ta, nil
}

// airflow emits one pipeline-run item for each DAG run that got new log
// lines in this collection, from all of that run's attempt logs.
func (r *run) airflow(files []target) error {
	if len(r.runs) == 0 {
		return nil
	}
	byRun := map[airflowRunKey][]target{}
	for _, t := range files {
		if ap, ok := parseAirflowPath(t.Path); ok {
			k := airflowRunKey{ap.Dag, ap.Run}
			if r.runs[k] {
				byRun[k] = append(byRun[k], t)
			}
		}
	}
	keys := make([]airflowRunKey, 0, len(byRun))
	for k := range byRun {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Dag != keys[j].Dag {
			return keys[i].Dag < keys[j].Dag
		}
		return keys[i].Run < keys[j].Run
	})
	for _, k := range keys {
		var attempts []taskAttempt
		for _, t := range byRun[k] {
			ta, err := r.readAttempt(t)
			if err != nil {
				if r.ctx.Err() != nil {
					return r.ctx.Err()
				}
				r.skip(t.Path, fmt.Sprintf("cannot read Airflow task log: %v", err))
				continue
			}
			attempts = append(attempts, ta)
		}
		if len(attempts) == 0 {
			continue
		}
		it, excerpt := r.c.pipelineRun(k, attempts, filepath.Dir(filepath.Dir(filepath.Dir(byRun[k][0].Path))))
		if r.seen[it.ID] {
			continue
		}
		r.seen[it.ID] = true
		if err := r.sink.Emit(r.ctx, emission(it, excerpt)); err != nil {
			return err
		}
	}
	return nil
}

// pipelineRun builds the item of one DAG run.
func (c *Collector) pipelineRun(k airflowRunKey, attempts []taskAttempt, dir string) (evidence.Item, string) {
	sort.Slice(attempts, func(i, j int) bool {
		if !attempts[i].Started.Equal(attempts[j].Started) {
			return attempts[i].Started.Before(attempts[j].Started)
		}
		if attempts[i].Task != attempts[j].Task {
			return attempts[i].Task < attempts[j].Task
		}
		return attempts[i].Attempt < attempts[j].Attempt
	})
	type task struct {
		name     string
		attempts int
		final    taskAttempt
	}
	var order []string
	tasks := map[string]*task{}
	var first, last time.Time
	var runIDs []string
	retries, errorsN := 0, 0
	for _, a := range attempts {
		tk := tasks[a.Task]
		if tk == nil {
			tk = &task{name: a.Task}
			tasks[a.Task] = tk
			order = append(order, a.Task)
		}
		tk.attempts++
		if a.Attempt >= tk.final.Attempt {
			tk.final = a
		}
		if !a.Started.IsZero() && (first.IsZero() || a.Started.Before(first)) {
			first = a.Started
		}
		if a.Ended.After(last) {
			last = a.Ended
		}
		errorsN += a.Errors
		for _, id := range a.RunIDs {
			if !contains(runIDs, id) {
				runIDs = append(runIDs, id)
			}
		}
	}
	outcome := "success"
	var failed []string
	var taskFacts []any
	var b strings.Builder
	fmt.Fprintf(&b, "# Airflow DAG %s, run %s\n", k.Dag, k.Run)
	for _, name := range order {
		tk := tasks[name]
		retries += tk.attempts - 1
		f := tk.final
		state := strings.ToLower(f.State)
		switch f.State {
		case "SUCCESS", "SKIPPED":
		case "FAILED", "UPSTREAM_FAILED":
			outcome = "failed"
			failed = append(failed, name)
		default:
			if outcome == "success" {
				outcome = "unknown"
			}
			if state == "" {
				state = "unknown"
			}
		}
		tf := map[string]any{"task_id": name, "attempts": tk.attempts, "state": state}
		if f.Operator != "" {
			tf["operator"] = f.Operator
		}
		if !f.Started.IsZero() {
			tf["started_at"] = f.Started.UTC().Format(time.RFC3339Nano)
			tf["ended_at"] = f.Ended.UTC().Format(time.RFC3339Nano)
			tf["duration_seconds"] = f.Ended.Sub(f.Started).Seconds()
		}
		if f.FirstErr != "" {
			tf["first_error"] = c.text(f.FirstErr)
		}
		taskFacts = append(taskFacts, tf)
		fmt.Fprintf(&b, "\n## %s: %s after %d attempt%s (%s)\n", name, state, tk.attempts, plural(tk.attempts), f.Path)
		for _, s := range f.lastLines {
			b.WriteString(c.text(s))
			b.WriteByte('\n')
		}
	}
	runType, _, _ := strings.Cut(k.Run, "__")
	facts := map[string]any{
		"event": "pipeline_run", "orchestrator": "airflow", "dag_id": k.Dag, "run_id": k.Run,
		"run_type": runType, "outcome": outcome, "tasks": taskFacts, "task_count": len(order),
		"retries": retries, "errors": errorsN, "logs": dir,
	}
	if !first.IsZero() {
		facts["started_at"] = first.UTC().Format(time.RFC3339Nano)
		facts["ended_at"] = last.UTC().Format(time.RFC3339Nano)
		facts["duration_seconds"] = last.Sub(first).Seconds()
	}
	if len(failed) > 0 {
		facts["failed_tasks"] = failed
	}
	if len(runIDs) > 0 {
		facts["mlflow_run_id"] = runIDs[0]
		facts["mlflow_run_ids"] = runIDs
	}
	at := first
	if at.IsZero() {
		at = c.set.Now()
	}
	native := "airflow|" + k.Dag + "|" + k.Run
	it := c.base(evidence.KindPipelineRun, native, at, "file://"+dir)
	it.Title = textcap.CutBeforeWord(fmt.Sprintf("Airflow %s run %s: %s (%d task%s, %d retr%s)", k.Dag, k.Run, outcome,
		len(order), plural(len(order)), retries, map[bool]string{true: "y", false: "ies"}[retries == 1]), maxTitle)
	if len(failed) > 0 {
		it.Summary = "Failed: " + strings.Join(failed, ", ")
	} else {
		it.Summary = "Tasks: " + strings.Join(order, ", ")
	}
	it.Facts = facts
	it.Normalize()
	return it, b.String()
}

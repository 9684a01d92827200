package logs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/textcap"
)

// ghaStep is one step log of a GitHub Actions job.
type ghaStep struct {
	Num     int
	Name    string
	Started time.Time
	Ended   time.Time
	Errors  []string
	Lines   int
}

var (
	jobDefinedRe = regexp.MustCompile(`^Job defined at: (?P<repo>[^/\s]+/[^/\s]+)/(?P<file>\.github/workflows/[^@\s]+)@(?P<ref>\S+)`)
	shaLineRe    = regexp.MustCompile(`^[0-9a-f]{40}$`)
	exitCodeRe   = regexp.MustCompile(`^##\[error\]Process completed with exit code (\d+)`)
)

// gha reads a GitHub Actions log archive (a zip or its unpacked folder)
// into one CI job item per job folder.
func (r *run) gha(t target) error {
	var fsys fs.FS
	var closer io.Closer
	if t.Kind == targetGHAZip {
		zr, err := openZip(t.Path)
		if err != nil {
			r.skip(t.Path, fmt.Sprintf("not a readable zip archive: %v", err))
			return nil
		}
		fsys, closer = zr, zr
	} else {
		fsys = os.DirFS(t.Path)
	}
	if closer != nil {
		defer closer.Close()
	}
	if !isGHA(fsys) {
		r.skip(t.Path, "not a GitHub Actions log archive (no <job>/<n>_<step>.txt files)")
		return nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		r.skip(t.Path, fmt.Sprintf("cannot list: %v", err))
		return nil
	}
	for _, e := range entries {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if !e.IsDir() {
			continue
		}
		if err := r.ghaJob(t, fsys, e.Name()); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) ghaJob(t target, fsys fs.FS, job string) error {
	sub, err := fs.ReadDir(fsys, job)
	if err != nil {
		r.skip(t.Path+"/"+job, fmt.Sprintf("cannot list: %v", err))
		return nil
	}
	h := sha256.New()
	var steps []ghaStep
	facts := map[string]any{"event": "ci_job", "ci": "github_actions", "job": job, "archive": t.Path}
	var commit string
	for _, s := range sub {
		name := s.Name()
		info, err := s.Info()
		if err == nil {
			fmt.Fprintf(h, "%s\x00%d\x00", name, info.Size())
		}
		p := path.Join(job, name)
		if name == "system.txt" {
			r.ghaLines(fsys, p, func(_ time.Time, msg string) {
				if m := jobDefinedRe.FindStringSubmatch(msg); m != nil {
					facts["repository"], facts["workflow"], facts["ref"] = m[1], m[2], m[3]
				}
				if strings.HasPrefix(msg, "Requested labels: ") {
					facts["runner_labels"] = strings.TrimPrefix(msg, "Requested labels: ")
				}
			})
			continue
		}
		if s.IsDir() || !ghaStepRe.MatchString(name) {
			continue
		}
		numS, stepName, _ := strings.Cut(strings.TrimSuffix(name, ".txt"), "_")
		num, _ := strconv.Atoi(numS)
		st := ghaStep{Num: num, Name: stepName}
		checkout := strings.Contains(stepName, "checkout")
		err = r.ghaLines(fsys, p, func(ts time.Time, msg string) {
			st.Lines++
			if !ts.IsZero() {
				if st.Started.IsZero() {
					st.Started = ts
				}
				st.Ended = ts
			}
			if strings.HasPrefix(msg, "##[error]") && len(st.Errors) < 5 {
				st.Errors = append(st.Errors, textcap.CutBeforeWord(strings.TrimPrefix(msg, "##[error]"), 300))
			}
			if checkout && commit == "" && shaLineRe.MatchString(strings.TrimSpace(msg)) {
				commit = strings.TrimSpace(msg)
			}
		})
		if err != nil {
			if r.ctx.Err() != nil {
				return r.ctx.Err()
			}
			r.skip(t.Path+"/"+p, fmt.Sprintf("cannot read step log: %v", err))
			continue
		}
		steps = append(steps, st)
	}
	if len(steps) == 0 {
		return nil
	}
	sum := hex.EncodeToString(h.Sum(nil))
	for _, a := range r.old.Archives {
		if a == sum {
			r.next.Archives = append(r.next.Archives, sum)
			return nil // read in an earlier run
		}
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].Num < steps[j].Num })
	var first, last time.Time
	conclusion := "success"
	var stepFacts []any
	var b strings.Builder
	fmt.Fprintf(&b, "# GitHub Actions job %s (%s)\n", job, t.Path)
	var failed []string
	for _, st := range steps {
		if !st.Started.IsZero() && (first.IsZero() || st.Started.Before(first)) {
			first = st.Started
		}
		if st.Ended.After(last) {
			last = st.Ended
		}
		sf := map[string]any{"number": st.Num, "name": st.Name, "lines": st.Lines, "conclusion": "success"}
		if !st.Started.IsZero() {
			sf["started_at"] = st.Started.UTC().Format(time.RFC3339Nano)
			sf["ended_at"] = st.Ended.UTC().Format(time.RFC3339Nano)
			sf["duration_seconds"] = round3(st.Ended.Sub(st.Started).Seconds())
		}
		if len(st.Errors) > 0 {
			sf["conclusion"] = "failure"
			sf["errors"] = st.Errors
			conclusion = "failure"
			failed = append(failed, st.Name)
			for _, e := range st.Errors {
				if m := exitCodeRe.FindStringSubmatch("##[error]" + e); m != nil {
					sf["exit_code"], _ = strconv.Atoi(m[1])
				}
			}
		}
		stepFacts = append(stepFacts, sf)
		fmt.Fprintf(&b, "%2d. %-50s %8.1fs %s\n", st.Num, st.Name, st.Ended.Sub(st.Started).Seconds(), sf["conclusion"])
		for _, e := range st.Errors {
			fmt.Fprintf(&b, "    error: %s\n", r.c.text(e))
		}
	}
	facts["steps"] = stepFacts
	facts["step_count"] = len(steps)
	facts["conclusion"] = conclusion
	facts["outcome"] = conclusion
	if len(failed) > 0 {
		facts["failed_steps"] = failed
	}
	if commit != "" {
		facts["commit"] = commit
	}
	if !first.IsZero() {
		facts["started_at"] = first.UTC().Format(time.RFC3339Nano)
		facts["ended_at"] = last.UTC().Format(time.RFC3339Nano)
		facts["duration_seconds"] = round3(last.Sub(first).Seconds())
	} else {
		first = t.Info.ModTime()
	}
	wf, _ := facts["workflow"].(string)
	native := fmt.Sprintf("gha|%v|%s|%s|%s", facts["repository"], wf, job, first.UTC().Format(time.RFC3339Nano))
	it := r.c.base(evidence.KindCIJob, native, first, "file://"+t.Path)
	title := fmt.Sprintf("CI job %s: %s, %d steps in %s", job, conclusion, len(steps), last.Sub(first).Round(time.Second))
	if wf != "" {
		title += " (" + path.Base(wf) + ")"
	}
	it.Title = textcap.CutBeforeWord(title, maxTitle)
	names := make([]string, len(steps))
	for i, st := range steps {
		names[i] = st.Name
	}
	it.Summary = "Steps: " + strings.Join(names, "; ")
	it.Facts = facts
	it.Normalize()
	r.next.Archives = append(r.next.Archives, sum)
	if r.seen[it.ID] {
		return nil
	}
	r.seen[it.ID] = true
	return r.sink.Emit(r.ctx, emission(it, b.String()))
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// ghaLines calls fn with the time and text of each line of a step log
// (the BOM and the timestamp stripped).
func (r *run) ghaLines(fsys fs.FS, p string, fn func(time.Time, string)) error {
	f, err := fsys.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	lr := newLineReader(f, 0, r.c.maxLine)
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
		}
		l, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		s := strings.TrimPrefix(toText(l.Text), "\ufeff")
		ts, rest, ok := isoTime(s)
		if !ok {
			fn(time.Time{}, s)
			continue
		}
		fn(ts, strings.TrimPrefix(rest, " "))
	}
}

// emission wraps an item and its excerpt.
func emission(it evidence.Item, excerpt string) collectors.Emission {
	return collectors.Emission{Item: it, Files: []collectors.File{textFile("excerpt.txt", excerpt)}}
}

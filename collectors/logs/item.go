package logs

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/textcap"
)

// maxTitle bounds titles; the pipeline cuts again after redaction.
const maxTitle = 200

// labels are the title prefixes of point events.
var labels = map[string]string{
	evRollback: "Rollback", evModelLoaded: "Model loaded", evModelRegister: "Model version registered",
	evModelPromoted: "Model version promoted", evScaling: "Scaling change", evServingStarted: "Model server serving",
}

// item maps an event to its item and excerpt.
func (c *Collector) item(ev *event, t target) (evidence.Item, []collectors.File) {
	kind := eventKinds[ev.Name]
	msg := c.text(strings.TrimSpace(ev.Message))
	file := filepath.Base(t.Path)
	facts := map[string]any{"event": ev.Name, "file": t.Path, "line": ev.Line}
	for k, v := range ev.Facts {
		if s, ok := v.(string); ok {
			v = c.text(s)
		}
		if ss, ok := v.([]string); ok {
			masked := make([]string, len(ss))
			for i, s := range ss {
				masked[i] = c.text(s)
			}
			v = masked
		}
		facts[k] = v
	}
	if ev.Pattern != "" {
		facts["pattern"] = ev.Pattern
	}
	if ev.Level != "" {
		facts["level"] = ev.Level
	}
	if ev.Logger != "" {
		facts["logger"] = ev.Logger
	}
	var title, summary string
	switch ev.Name {
	case evDeployment:
		facts["outcome"] = ev.Outcome
		if !ev.End.IsZero() {
			facts["ended_at"] = ev.End.UTC().Format(time.RFC3339Nano)
			facts["duration_seconds"] = ev.End.Sub(ev.Time).Seconds()
		}
		title = fmt.Sprintf("Deployment %s", ev.Outcome)
		if ev.Outcome == outStarted {
			title = "Deployment started (no outcome logged yet)"
		}
		if m, ok := facts["model"].(string); ok {
			title += " of model " + m
		}
		if v, ok := facts["model_version"].(string); ok {
			title += " version " + v
		}
		summary = msg
		if om, ok := facts["outcome_message"].(string); ok {
			summary += "\n" + om
		}
	case evServingStarted:
		facts["outcome"] = ev.Outcome
		title = labels[ev.Name] + ": " + msg
		summary = msg
	case evIncident:
		kind = evidence.KindIncident
		count := intFact(ev.Facts["count"])
		if count == 0 {
			count = 1
			facts["count"] = 1
		}
		title = fmt.Sprintf("Incident: %d error%s in %s", count, plural(count), file)
		if !ev.End.IsZero() && !ev.End.Equal(ev.Time) {
			title += fmt.Sprintf(" over %s", ev.End.Sub(ev.Time).Round(time.Second))
		}
		if ss, ok := facts["samples"].([]string); ok {
			summary = strings.Join(ss, "\n")
		} else {
			summary = msg
		}
	case "inference":
		kind = evidence.KindMonitoringWindow
		n := intFact(ev.Facts["requests"])
		facts["event"] = "inference_window"
		ms, _ := ev.Facts["metrics"].(map[string]*metricStats)
		names := make([]string, 0, len(ms))
		for k := range ms {
			names = append(names, k)
		}
		sort.Strings(names)
		if n > 0 {
			title = fmt.Sprintf("Served %d inference request%s", n, plural(n))
			if m, ok := facts["models"].([]string); ok && len(m) > 0 {
				title += " (" + strings.Join(m, ", ") + ")"
			}
		} else {
			title = fmt.Sprintf("Model server metrics (%d series)", len(names))
		}
		title += fmt.Sprintf(" from %s, %s", file, ev.Time.UTC().Format("2006-01-02 15:00 UTC"))
		summary = fmt.Sprintf("%d requests between %s and %s", n, ev.Time.UTC().Format(time.RFC3339), ev.End.UTC().Format(time.RFC3339))
		if len(names) > 0 {
			summary += "; metrics: " + strings.Join(names, ", ")
		}
	default:
		title = labels[ev.Name] + ": " + msg
		summary = msg
	}
	uri := "file://" + t.Path
	if strings.Contains(t.Path, "://") { // s3://…, cloudwatch://…
		uri = t.Path
	}
	it := c.base(kind, ev.Native, ev.Time, uri)
	it.Title = textcap.CutBeforeWord(title, maxTitle)
	it.Summary = summary
	it.Facts = facts
	it.Normalize()
	return it, []collectors.File{textFile("excerpt.txt", c.excerpt(ev, t))}
}

// excerpt is the text artefact of an event: the lines around it.
func (c *Collector) excerpt(ev *event, t target) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s, from line %d\n", t.Path, max(1, ev.Line-contextLines))
	for _, s := range ev.Excerpt {
		b.WriteString(c.text(s))
		b.WriteByte('\n')
	}
	if ev.More > 0 {
		fmt.Fprintf(&b, "[… %d more lines not kept]\n", ev.More)
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

package prometheus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// windowEpoch is what windows are aligned to: a Monday, so that weekly
// windows run Monday to Monday (UTC).
var windowEpoch = time.Date(1970, 1, 5, 0, 0, 0, 0, time.UTC)

// maxWindowsPerRun bounds the windows one run collects per query; the
// rest wait for the next run.
const maxWindowsPerRun = 1000

// alertsQuery selects the firing alerts.
const alertsQuery = `ALERTS{alertstate="firing"}`

// windowStart is the start of the window holding t.
func windowStart(t time.Time, w time.Duration) time.Time {
	n := t.Sub(windowEpoch) / w
	if t.Before(windowEpoch) && t.Sub(windowEpoch)%w != 0 {
		n--
	}
	return windowEpoch.Add(n * w)
}

// windows lists the complete windows from the cursor (or the configured
// start) up to now.
func (c *Collector) windows(last *time.Time) []time.Time {
	w := c.st.window
	now := c.now()
	var start time.Time
	switch {
	case last != nil:
		start = windowStart(*last, w)
	case !c.cfg.Source.Since.IsZero():
		start = windowStart(c.cfg.Source.Since.Time, w)
	default:
		start = windowStart(now, w).Add(-DefaultWindows * w)
	}
	var out []time.Time
	for s := start; !s.Add(w).After(now) && len(out) < maxWindowsPerRun; s = s.Add(w) {
		out = append(out, s)
	}
	return out
}

// errFailed marks a request that failed after its retries; the piece is
// skipped.
var errFailed = errors.New("request failed")

// rangeResult is a query's series over one window.
type rangeResult struct {
	series   []series
	requests int
	warnings []string
}

// queryRange evaluates query over [start, end) at step, in as many
// requests as Prometheus's limit of MaxPoints points per series needs,
// and merges the series.
func queryRange(ctx context.Context, a v1.API, query string, start, end time.Time, step time.Duration) (rangeResult, error) {
	var res rangeResult
	byKey := map[string]*series{}
	var order []string
	last := end.Add(-step) // the window's last evaluation; end is the next window's
	for s := start; !s.After(last); {
		e := s.Add((MaxPoints - 1) * step)
		if e.After(last) {
			e = last
		}
		res.requests++
		val, warns, _, err := a.QueryRange(ctx, query, v1.Range{Start: s, End: e, Step: step})
		if err != nil {
			return res, err
		}
		res.warnings = append(res.warnings, warns...)
		m, ok := val.(model.Matrix)
		if !ok {
			return res, fmt.Errorf("result is a %s, want a matrix", val.Type())
		}
		for _, ss := range m {
			labels := make(map[string]string, len(ss.Metric))
			for k, v := range ss.Metric {
				labels[string(k)] = string(v)
			}
			k := labelString(labels)
			sr := byKey[k]
			if sr == nil {
				sr = &series{Labels: labels}
				byKey[k] = sr
				order = append(order, k)
			}
			for _, p := range ss.Values {
				sr.Points = append(sr.Points, point{T: p.Timestamp.Time().UTC(), V: float64(p.Value)})
			}
		}
		s = e.Add(step)
	}
	sort.Strings(order)
	for _, k := range order {
		res.series = append(res.series, *byKey[k])
	}
	return res, nil
}

// collectServer collects the rules, each query's windows and the firing
// alerts. A request that fails after its retries skips its piece; a
// query's later windows wait for the next run, so nothing is lost. When
// no request at all succeeds, the server could not be read: that is the
// error.
func (c *Collector) collectServer(ctx context.Context, cur *cursor, sink collectors.Sink, skip func(what, reason string)) error {
	src := c.cfg.Source
	a, err := newAPI(src.URL, src.Auth, c.set.HTTPClient, c.st.timeout)
	if err != nil {
		return fmt.Errorf("prometheus %s: %w", c.base, err)
	}
	var ok, failed int
	var firstErr error
	fail := func(what string, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		failed++
		if firstErr == nil {
			firstErr = err
		}
		skip(what, oneLine(err))
		return nil
	}
	if src.wantRules() {
		rules, err := a.Rules(ctx, nil)
		if err != nil {
			if err := fail("rules", err); err != nil {
				return err
			}
		} else {
			ok++
			if err := c.emitRules(ctx, rules, cur, sink); err != nil {
				return err
			}
		}
	}
	if cur.Windows == nil {
		cur.Windows = map[string]time.Time{}
	}
	defStep := c.st.step
	if defStep == 0 {
		defStep = autoStep(c.st.window)
	}
	warned := map[string]bool{} // each warning once per run
	for _, q := range src.Queries {
		key := nameKey(q.Name)
		step := q.stepOr(defStep)
		var last *time.Time
		if t, found := cur.Windows[key]; found {
			last = &t
		}
		for _, start := range c.windows(last) {
			end := start.Add(c.st.window)
			res, err := queryRange(ctx, a, q.PromQL(), start, end, step)
			if err != nil {
				if err := fail(fmt.Sprintf("query %s, window from %s", q.Name, start.Format(time.RFC3339)), err); err != nil {
					return err
				}
				break
			}
			ok++
			for _, w := range res.warnings {
				msg := fmt.Sprintf("query %s: Prometheus warns: %s", q.Name, clip(w, 300))
				if !warned[msg] {
					warned[msg] = true
					sink.Warn(msg)
				}
			}
			if len(res.series) > 0 {
				if err := c.emitWindow(ctx, sink, q, start, end, step, res); err != nil {
					return err
				}
			}
			cur.Windows[key] = end
		}
	}
	if src.wantAlerts() {
		alertStep := autoStep(c.st.window)
		for _, start := range c.windows(cur.Alerts) {
			end := start.Add(c.st.window)
			res, err := queryRange(ctx, a, alertsQuery, start, end, alertStep)
			if err != nil {
				if err := fail("alerts, window from "+start.Format(time.RFC3339), err); err != nil {
					return err
				}
				break
			}
			ok++
			if err := c.emitAlerts(ctx, sink, res.series, start, end, alertStep); err != nil {
				return err
			}
			cur.Alerts = &end
		}
	}
	if ok == 0 && failed > 0 {
		return fmt.Errorf("prometheus %s: %w", c.base, firstErr)
	}
	return nil
}

// oneLine is err's message on one line, at most 300 characters.
func oneLine(err error) string {
	return clip(strings.Join(strings.Fields(err.Error()), " "), 300)
}

// emitWindow emits one query's window item with its chart.
func (c *Collector) emitWindow(ctx context.Context, sink collectors.Sink, q Query, start, end time.Time, step time.Duration, res rangeResult) error {
	var th *threshold
	if q.Threshold != nil {
		th = &threshold{Value: *q.Threshold, Below: q.Direction == "below"}
	}
	st := summarize(res.series, step, th)
	native := fmt.Sprintf("query/%s/%s", q.Name, start.Format(time.RFC3339))
	it := c.item(evidence.KindMonitoringWindow, native, c.base, start)
	it.Title = fmt.Sprintf("%s: %s to %s", q.Name, start.Format("2006-01-02 15:04"), end.Format("2006-01-02 15:04"))
	it.Summary = windowSummary(st, th, end.Sub(start))
	f := it.Facts
	f["query_name"] = q.Name
	f["query"] = q.PromQL()
	f["server"] = c.base
	f["window_start"] = start.Format(time.RFC3339)
	f["window_end"] = end.Format(time.RFC3339)
	f["step_seconds"] = step.Seconds()
	f["requests"] = res.requests
	st.facts(f)
	if th != nil {
		f["threshold"] = th.Value
		f["direction"] = map[bool]string{false: "above", true: "below"}[th.Below]
		f["seconds_beyond_threshold"] = st.Beyond.Seconds()
	}
	f["series_stats"] = seriesFacts(res.series, step, th)
	chart := chartSVG(it.Title, res.series, start, end, th)
	return sink.Emit(ctx, collectors.Emission{Item: it, Files: []collectors.File{bytesFile("chart.svg", "image/svg+xml", chart)}})
}

// windowSummary says what a window's statistics show, in one sentence.
func windowSummary(st stats, th *threshold, span time.Duration) string {
	if st.Samples == 0 {
		return fmt.Sprintf("%d series, no finite samples", st.Series)
	}
	s := fmt.Sprintf("%d series, %d samples: min %s, max %s, mean %s, last %s",
		st.Series, st.Samples, formatValue(st.Min), formatValue(st.Max), formatValue(st.Mean), formatValue(st.Last))
	if th != nil {
		side := "above"
		if th.Below {
			side = "below"
		}
		s += fmt.Sprintf("; %s %s threshold %s over %s", st.Beyond.Round(time.Second), side, formatValue(th.Value), model.Duration(span))
	}
	return s
}

// emitAlerts emits one incident per run of an alert's firing samples.
func (c *Collector) emitAlerts(ctx context.Context, sink collectors.Sink, ss []series, start, end time.Time, step time.Duration) error {
	for _, s := range ss {
		labels := map[string]string{}
		for k, v := range s.Labels {
			if k != "__name__" && k != "alertstate" {
				labels[k] = v
			}
		}
		for _, run := range firingRuns(s.Points, step) {
			from, to := run[0], run[1]
			sum := sha256.Sum256([]byte(labelString(labels)))
			native := fmt.Sprintf("alert/%s/%s/%s", labels["alertname"], hex.EncodeToString(sum[:8]), from.Format(time.RFC3339))
			it := c.item(evidence.KindIncident, native, c.base, from)
			name := labels["alertname"]
			it.Title = "Alert " + name + " fired"
			if sev := labels["severity"]; sev != "" {
				it.Title += " (" + sev + ")"
			}
			dur := to.Sub(from) + step
			it.Summary = fmt.Sprintf("Prometheus alert %s was firing from %s for about %s", name, from.Format("2006-01-02 15:04 MST"), dur.Round(time.Second))
			f := it.Facts
			f["alertname"] = name
			f["labels"] = labelString(labels)
			f["firing_from"] = from.Format(time.RFC3339)
			f["firing_to"] = to.Format(time.RFC3339)
			f["duration_seconds"] = dur.Seconds()
			f["server"] = c.base
			f["resolution_seconds"] = step.Seconds()
			if !from.After(start) {
				f["firing_before_window"] = true
			}
			if !to.Add(step).Before(end) {
				f["firing_after_window"] = true
			}
			if err := sink.Emit(ctx, collectors.Emission{Item: it}); err != nil {
				return err
			}
		}
	}
	return nil
}

// firingRuns splits samples into runs without a gap of more than one
// step and a half: each run is one firing.
func firingRuns(ps []point, step time.Duration) [][2]time.Time {
	var runs [][2]time.Time
	for i, p := range ps {
		if i > 0 && p.T.Sub(ps[i-1].T) <= step+step/2 {
			runs[len(runs)-1][1] = p.T
			continue
		}
		runs = append(runs, [2]time.Time{p.T, p.T})
	}
	return runs
}

// ruleDef is a rule's definition, without its state.
type ruleDef struct {
	Group       string            `json:"group"`
	File        string            `json:"file"`
	Type        string            `json:"type"` // alerting or recording
	Name        string            `json:"name"`
	Query       string            `json:"query"`
	For         float64           `json:"for_seconds,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Health      string            `json:"health,omitempty"`
}

// emitRules emits the rules as one monitoring_setup item when they
// differ from the rules last recorded.
func (c *Collector) emitRules(ctx context.Context, rr v1.RulesResult, cur *cursor, sink collectors.Sink) error {
	var defs []ruleDef
	alerting, recording := 0, 0
	groups := map[string]bool{}
	for _, g := range rr.Groups {
		groups[g.Name] = true
		for _, r := range g.Rules {
			switch r := r.(type) {
			case v1.AlertingRule:
				alerting++
				defs = append(defs, ruleDef{Group: g.Name, File: g.File, Type: "alerting", Name: r.Name, Query: r.Query,
					For: r.Duration, Labels: labelMap(r.Labels), Annotations: labelMap(r.Annotations), Health: string(r.Health)})
			case v1.RecordingRule:
				recording++
				defs = append(defs, ruleDef{Group: g.Name, File: g.File, Type: "recording", Name: r.Name, Query: r.Query,
					Labels: labelMap(r.Labels), Health: string(r.Health)})
			}
		}
	}
	if len(defs) == 0 {
		return nil
	}
	// The digest leaves out health, which changes without the rules
	// changing.
	stable := make([]ruleDef, len(defs))
	for i, d := range defs {
		d.Health = ""
		stable[i] = d
	}
	canon, err := json.Marshal(stable)
	if err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	sum := sha256.Sum256(canon)
	digest := hex.EncodeToString(sum[:])
	if digest == cur.Rules {
		return nil
	}
	it := c.item(evidence.KindMonitoringSetup, "rules/"+digest, c.base, c.now())
	it.Title = fmt.Sprintf("Prometheus rules: %d alerting, %d recording", alerting, recording)
	var names []string
	for _, d := range defs {
		if d.Type == "alerting" {
			names = append(names, d.Name)
		}
	}
	it.Summary = fmt.Sprintf("%d rule groups on %s", len(groups), c.base)
	if len(names) > 0 {
		it.Summary += "; alerts: " + clip(strings.Join(names, ", "), 500)
	}
	f := it.Facts
	f["server"] = c.base
	f["groups"] = len(groups)
	f["alerting_rules"] = alerting
	f["recording_rules"] = recording
	f["rules_digest"] = digest
	list := make([]any, 0, len(defs))
	for i, d := range defs {
		if i == 200 {
			f["rules_truncated"] = true
			break
		}
		m := map[string]any{"group": d.Group, "type": d.Type, "name": d.Name, "query": d.Query}
		if d.For > 0 {
			m["for_seconds"] = d.For
		}
		if d.Health != "" {
			m["health"] = d.Health
		}
		list = append(list, m)
	}
	f["rules"] = list
	body, err := json.MarshalIndent(defs, "", "  ")
	if err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	if err := sink.Emit(ctx, collectors.Emission{Item: it, Files: []collectors.File{bytesFile("rules.json", "application/json", body)}}); err != nil {
		return err
	}
	cur.Rules = digest
	return nil
}

func labelMap(ls model.LabelSet) map[string]string {
	if len(ls) == 0 {
		return nil
	}
	out := make(map[string]string, len(ls))
	for k, v := range ls {
		out[string(k)] = string(v)
	}
	return out
}

package logs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"iter"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/internal/textcap"
)

// Bounds of the extractor.
const (
	contextLines     = 5         // lines kept before and after an event for its excerpt
	maxSpanLines     = 60        // lines of a deployment kept for its excerpt
	maxSpanRecords   = 20000     // records after which an open deployment is closed
	maxSpan          = time.Hour // a deployment still open after this is closed
	maxIncidentLines = 60
	maxSamples       = 5
	maxEndpoints     = 20
)

// event is what the extractor found: one future item.
type event struct {
	Name     string // evDeployment, …; "incident", "inference"
	Outcome  string
	Pattern  string
	Time     time.Time
	End      time.Time
	Message  string // the triggering record's message (first line)
	Facts    map[string]any
	Excerpt  []string
	More     int // excerpt lines left out
	after    int // context lines still wanted after it
	Native   string
	Line     int
	Level    string
	Logger   string
	startOff int64
	records  int
	// endpoints counts an inference window's requests per endpoint
	// (facts "endpoints" when it closes).
	endpoints map[string]*int
}

func (ev *event) add(lines []string) {
	for _, s := range lines {
		ev.add1(s)
	}
}

func (ev *event) add1(s string) {
	if len(ev.Excerpt) >= maxSpanLines {
		ev.More++
		return
	}
	ev.Excerpt = append(ev.Excerpt, s)
}

// extractor turns one file's records into events.
type extractor struct {
	patterns []*pattern
	stems    *stemIndex
	gap      time.Duration
	fp       string    // the file's head fingerprint, for IDs of aggregates
	fallback time.Time // time of records without one (the file's mtime)
	last     time.Time // the last record time seen
	// ring holds copies of the last lines, ring[(head+i)%contextLines]
	// the i-th oldest of nring: records skimmed leave only these behind.
	ring    [contextLines][]byte
	head    int
	nring   int
	pending []*event // events waiting for their context lines after
	span    *event   // an open deployment
	inc     *event   // an open incident cluster
	win     *event   // an open inference window
	out     func(*event) error
	// fold lower-cases messages for the patterns, refFold for refs.
	fold, refFold folder
}

// context returns the last lines, oldest first.
func (x *extractor) context() []string {
	if x.nring == 0 {
		return nil
	}
	out := make([]string, x.nring)
	for i := range out {
		out[i] = string(x.ring[(x.head+i)%contextLines])
	}
	return out
}

func (x *extractor) push(lines []string) {
	for _, s := range lines {
		i := x.head
		if x.nring < contextLines {
			i = (x.head + x.nring) % contextLines
			x.nring++
		} else {
			x.head = (x.head + 1) % contextLines
		}
		x.ring[i] = append(x.ring[i][:0], s...)
	}
}

// skim takes a record whose strings are views (see assembler.arena) when
// no event waits for context lines and the record is no error and matches
// no pattern: it does what record would (the time, an incident closed by
// the gap, inference counts, the open deployment, the context lines),
// copying what it keeps, and returns true. For any other record it
// changes nothing and returns false: record gets it, made of strings of
// its own.
func (x *extractor) skim(r *record) (bool, error) {
	if len(x.pending) > 0 || r.isIncident() || x.matches(r) {
		return false, nil
	}
	t := r.timeOr(x.last)
	if t.IsZero() {
		t = x.fallback
	}
	if !r.Time.IsZero() {
		x.last = r.Time
	}
	if x.inc != nil && t.Sub(x.inc.End) > x.gap {
		if err := x.closeIncident(); err != nil {
			return false, err
		}
	}
	if err := x.inference(r, t); err != nil { // it copies what it keeps
		return false, err
	}
	if err := x.inSpan(r, t); err != nil {
		return false, err
	}
	x.push(r.Lines)
	return true, nil
}

// matches reports whether one of the patterns matches r, as patterns1
// tries them.
func (x *extractor) matches(r *record) bool {
	msg := strings.TrimSpace(r.Message)
	for p, lower := range x.candidates(msg) {
		if p.matches(msg, lower) {
			return true
		}
	}
	return false
}

// candidates yields, in order, the patterns that may match msg (trimmed),
// each with msg in lower case: none for an empty msg, and no built-in
// pattern none of whose words starts a word of msg. lower is valid until
// the next call that folds (x.fold).
func (x *extractor) candidates(msg string) iter.Seq2[*pattern, string] {
	return func(yield func(*pattern, string) bool) {
		if msg == "" {
			return
		}
		stems := x.stems.mask(msg)
		lower := ""
		for _, p := range x.patterns {
			if len(p.any) > 0 && p.stems&stems == 0 {
				continue // a built-in pattern, and none of its words is here
			}
			if lower == "" {
				lower = x.fold.lower(msg)
			}
			if !yield(p, lower) {
				return
			}
		}
	}
}

// record processes one record.
func (x *extractor) record(r *record) error {
	t := r.timeOr(x.last)
	if t.IsZero() {
		t = x.fallback
	}
	if !r.Time.IsZero() {
		x.last = r.Time
	}
	// Context after earlier events.
	kept := x.pending[:0]
	for _, ev := range x.pending {
		for _, s := range r.Lines {
			if ev.after == 0 {
				break
			}
			ev.Excerpt = append(ev.Excerpt, s)
			ev.after--
		}
		if ev.after > 0 {
			kept = append(kept, ev)
			continue
		}
		if err := x.out(ev); err != nil {
			return err
		}
	}
	x.pending = kept

	if err := x.incident(r, t); err != nil {
		return err
	}
	if err := x.inference(r, t); err != nil {
		return err
	}
	if err := x.inSpan(r, t); err != nil {
		return err
	}
	if err := x.patterns1(r, t); err != nil {
		return err
	}
	x.push(r.Lines)
	return nil
}

// inSpan adds r to the open deployment, if any, and closes it when it ran
// too long. r's strings may be views (skim): it copies what it keeps.
func (x *extractor) inSpan(r *record, t time.Time) error {
	if x.span == nil {
		return nil
	}
	for _, s := range r.Lines {
		if len(x.span.Excerpt) < maxSpanLines {
			s = strings.Clone(s) // kept
		}
		x.span.add1(s)
	}
	refs(r.Message, x.span.Facts, &x.refFold)
	x.span.records++
	if x.span.records > maxSpanRecords || t.Sub(x.span.Time) > maxSpan {
		return x.closeSpan(outUnknown, t, r)
	}
	return nil
}

func (x *extractor) patterns1(r *record, t time.Time) error {
	msg := strings.TrimSpace(r.Message)
	for p, lower := range x.candidates(msg) {
		groups := p.match(msg, lower)
		if groups == nil {
			continue
		}
		if p.Event == evDeployment {
			return x.deployment(p, groups, r, t)
		}
		ev := x.newEvent(p, groups, r, t)
		ev.Excerpt = append(x.context(), r.Lines...)
		ev.after = contextLines
		x.pending = append(x.pending, ev)
		return nil
	}
	return nil
}

func (x *extractor) newEvent(p *pattern, groups map[string]string, r *record, t time.Time) *event {
	ev := &event{Name: p.Event, Outcome: p.Outcome, Pattern: p.Name, Time: t, Message: r.Message,
		Facts: map[string]any{}, Line: r.Num, Level: r.Level, Logger: r.Logger, startOff: r.Start}
	if p.Event == evServingStarted {
		ev.Outcome = outCompleted
	}
	for k, v := range groups {
		k = strings.TrimRight(k, "0123456789")
		if _, ok := ev.Facts[k]; !ok {
			ev.Facts[k] = v
		}
	}
	refs(r.Message, ev.Facts, &x.refFold)
	sum := sha256.Sum256([]byte(r.Message))
	ev.Native = fmt.Sprintf("%s|%s|%s", p.Event, t.UTC().Format(time.RFC3339Nano), hex.EncodeToString(sum[:8]))
	if r.Time.IsZero() {
		ev.Native += "|" + x.fp + fmt.Sprintf("|%d", r.Num)
	}
	return ev
}

// deployment opens, closes or records a deployment.
func (x *extractor) deployment(p *pattern, groups map[string]string, r *record, t time.Time) error {
	switch p.Outcome {
	case outStarted:
		if x.span != nil {
			return nil // already in one: a second "starting" line belongs to it
		}
		ev := x.newEvent(p, groups, r, t)
		ev.Excerpt = append(x.context(), r.Lines...)
		x.span = ev
		return nil
	default:
		if x.span != nil {
			x.span.Pattern += "," + p.Name
			return x.closeSpan(p.Outcome, t, r)
		}
		ev := x.newEvent(p, groups, r, t)
		ev.Excerpt = append(x.context(), r.Lines...)
		ev.after = contextLines
		x.pending = append(x.pending, ev)
		return nil
	}
}

func (x *extractor) closeSpan(outcome string, t time.Time, r *record) error {
	ev := x.span
	x.span = nil
	ev.Outcome = outcome
	ev.End = t
	if r != nil && outcome != outUnknown {
		ev.Facts["outcome_message"] = strings.TrimSpace(r.Message)
	}
	ev.after = contextLines
	x.pending = append(x.pending, ev)
	return nil
}

// incident clusters error records: one closes when no error follows
// within gap.
func (x *extractor) incident(r *record, t time.Time) error {
	if x.inc != nil && t.Sub(x.inc.End) > x.gap {
		if err := x.closeIncident(); err != nil {
			return err
		}
	}
	if !r.isIncident() {
		return nil
	}
	if x.inc == nil {
		sum := sha256.Sum256([]byte(r.Message))
		x.inc = &event{Name: evIncident, Time: t, End: t, Message: r.Message, Line: r.Num, Level: r.Level,
			Logger: r.Logger, startOff: r.Start, Facts: map[string]any{},
			Native: fmt.Sprintf("incident|%s|%s", t.UTC().Format(time.RFC3339Nano), hex.EncodeToString(sum[:8]))}
		x.inc.Excerpt = x.context()
	}
	ev := x.inc
	ev.records++
	ev.End = t
	if len(ev.Excerpt) < maxIncidentLines {
		ev.add(r.Lines)
	} else {
		ev.More += len(r.Lines)
	}
	sample := strings.TrimSpace(r.Message)
	if r.Exception != "" {
		sample = r.Exception
	}
	if r.Status >= 500 {
		sample = fmt.Sprintf("%s → %d", r.Request, r.Status)
	}
	samples, _ := ev.Facts["samples"].([]string)
	if len(samples) < maxSamples && sample != "" && !contains(samples, sample) {
		ev.Facts["samples"] = append(samples, textcap.CutBeforeWord(sample, 300))
	}
	switch {
	case r.Traceback:
		ev.Facts["tracebacks"] = intFact(ev.Facts["tracebacks"]) + 1
	case r.Status >= 500:
		ev.Facts["http_5xx"] = intFact(ev.Facts["http_5xx"]) + 1
	default:
		ev.Facts["errors"] = intFact(ev.Facts["errors"]) + 1
	}
	refs(r.Message, ev.Facts, &x.refFold)
	return nil
}

func (x *extractor) closeIncident() error {
	ev := x.inc
	x.inc = nil
	ev.Facts["count"] = ev.records
	ev.Facts["first_seen"] = ev.Time.UTC().Format(time.RFC3339Nano)
	ev.Facts["last_seen"] = ev.End.UTC().Format(time.RFC3339Nano)
	ev.after = contextLines
	x.pending = append(x.pending, ev)
	return nil
}

func intFact(v any) int {
	n, _ := v.(int)
	return n
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// isInference reports whether a request path is a model-serving endpoint
// (TorchServe /predictions, KServe :predict and /infer, SageMaker
// /invocations, …).
func isInference(req string) bool {
	_, p, _ := strings.Cut(req, " ")
	p = strings.ToLower(p)
	return strings.Contains(p, "/predictions/") || strings.HasSuffix(p, ":predict") || strings.Contains(p, "/predict") ||
		strings.Contains(p, "/invocations") || strings.HasSuffix(p, "/infer") || strings.Contains(p, "/generate")
}

// hourOf numbers the hour t is in: t.Truncate(time.Hour) for each hour,
// cheaper (hours since the Unix epoch, which is on an hour).
func hourOf(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 3599) / 3600
	}
	return s / 3600
}

// inference counts served inference requests per hour. r's strings may
// be views (skim): it copies what it keeps.
func (x *extractor) inference(r *record, t time.Time) error {
	var metric tsMetric
	var model string
	isMetric := false
	if r.Request == "" || !isInference(r.Request) {
		if !strings.Contains(r.Message, "|#") {
			return nil
		}
		var dims string
		if metric, dims, isMetric = parseTSMetricHead(strings.TrimSpace(r.Message)); !isMetric {
			return nil
		}
		model = metricModel(dims)
	}
	if x.win != nil && hourOf(x.win.Time) != hourOf(t) {
		if err := x.closeWindow(); err != nil {
			return err
		}
	}
	if x.win == nil {
		x.win = &event{Name: "inference", Time: t, End: t, Line: r.Num, startOff: r.Start, Message: strings.Clone(r.Message),
			Facts: map[string]any{}, Native: fmt.Sprintf("inference|%s|%s", x.fp, t.UTC().Truncate(time.Hour).Format(time.RFC3339))}
		x.win.Excerpt = nil
	}
	w := x.win
	w.End = t
	if isMetric {
		x.addMetric(w, metric, model)
		return nil
	}
	w.records++
	if len(w.Excerpt) < 10 {
		w.Excerpt = append(w.Excerpt, strings.Clone(r.Lines[0]))
	} else {
		w.More++
	}
	class := "other"
	if c := r.Status / 100; c >= 1 && c <= 5 {
		class = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}[c-1]
	}
	st, _ := w.Facts["status"].(map[string]int)
	if st == nil {
		st = map[string]int{}
		w.Facts["status"] = st
	}
	st[class]++
	// Counted through pointers: assigning to a map with an equal key
	// stores the new key, which may be a view.
	if n := w.endpoints[r.Request]; n != nil {
		*n++
	} else if len(w.endpoints) < maxEndpoints {
		if w.endpoints == nil {
			w.endpoints = map[string]*int{}
		}
		w.endpoints[strings.Clone(r.Request)] = new(1)
	}
	if _, p, _ := strings.Cut(r.Request, " "); strings.Contains(p, "/predictions/") {
		_, p, _ = strings.Cut(p, "/predictions/")
		p, _, _ = strings.Cut(p, "?")
		model := path.Base(p)
		models, _ := w.Facts["models"].([]string)
		if model != "" && !contains(models, model) && len(models) < maxEndpoints {
			w.Facts["models"] = append(models, strings.Clone(model))
		}
	}
	return nil
}

// metricStats summarises one metric of a window.
type metricStats struct {
	Unit  string  `json:"unit,omitempty"`
	Count int     `json:"count"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	Last  float64 `json:"last"`
}

// addMetric adds a TorchServe metric value to a window: per metric (and
// model, for model metrics) its count, min, max, mean and last value.
func (x *extractor) addMetric(w *event, m tsMetric, model string) {
	ms, _ := w.Facts["metrics"].(map[string]*metricStats)
	if ms == nil {
		ms = map[string]*metricStats{}
		w.Facts["metrics"] = ms
	}
	name := m.Name
	if model != "" {
		name += "{" + model + "}"
	}
	st := ms[name]
	if st == nil {
		if len(ms) >= 40 || strings.HasPrefix(m.Name, "W-") { // per-worker load times: one name per worker
			return
		}
		st = &metricStats{Unit: strings.Clone(m.Unit), Min: m.Value, Max: m.Value}
		ms[strings.Clone(name)] = st
	}
	st.Mean = (st.Mean*float64(st.Count) + m.Value) / float64(st.Count+1)
	st.Count++
	st.Min, st.Max, st.Last = min(st.Min, m.Value), max(st.Max, m.Value), m.Value
}

func (x *extractor) closeWindow() error {
	w := x.win
	x.win = nil
	w.Facts["requests"] = w.records
	if len(w.endpoints) > 0 {
		eps := make(map[string]int, len(w.endpoints))
		for k, n := range w.endpoints {
			eps[k] = *n
		}
		w.Facts["endpoints"] = eps
	}
	w.Facts["first_seen"] = w.Time.UTC().Format(time.RFC3339Nano)
	w.Facts["last_seen"] = w.End.UTC().Format(time.RFC3339Nano)
	if m, ok := w.Facts["models"].([]string); ok {
		sort.Strings(m)
	}
	return x.out(w)
}

// finish closes what is open at the end of the file and returns the
// offset the next run must start from: the start of an open deployment or
// inference window, which the next run reads again and completes (same
// item IDs), or -1 when nothing is open.
func (x *extractor) finish() (int64, error) {
	hold := int64(-1)
	if x.span != nil {
		hold = x.span.startOff
		ev := x.span
		x.span = nil
		ev.Outcome = outStarted
		ev.End = time.Time{}
		x.pending = append(x.pending, ev)
	}
	if x.win != nil {
		if hold < 0 || x.win.startOff < hold {
			hold = x.win.startOff
		}
		if err := x.closeWindow(); err != nil {
			return 0, err
		}
	}
	if x.inc != nil {
		if err := x.closeIncident(); err != nil {
			return 0, err
		}
	}
	for _, ev := range x.pending {
		if err := x.out(ev); err != nil {
			return 0, err
		}
	}
	x.pending = nil
	return hold, nil
}

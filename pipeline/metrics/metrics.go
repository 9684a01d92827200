// Package metrics exposes what ksbfolio knows as Prometheus metrics, on a
// registry of the caller's (never the global one): the coverage of each
// apprentice, read from its coverage.json, and what runs do, watched as a
// pipeline.Observer. Labels are bounded: apprentice, ksb, kind, source,
// status, outcome and operation (a store operation's name); never an item
// ID or a path. docs/metrics.md lists every metric.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

// Statuses are the KSB statuses coverage reports, each a value of the
// status label.
var statuses = []string{"confirmed", "claimed", "suggested", "gap"}

// Metrics are ksbfolio's metrics: most registered on one registry, the
// per-KSB ones held here (see Gatherer and Handler).
type Metrics struct {
	ksb             ksbTable // ksbfolio_ksb_status and ksbfolio_ksb_evidence_items (see ksb.go)
	coverageKSBs    *prometheus.GaugeVec
	coverageRatio   *prometheus.GaugeVec
	ready           *prometheus.GaugeVec
	gateway         *prometheus.GaugeVec
	coverageTime    *prometheus.GaugeVec
	itemsStored     *prometheus.CounterVec
	sourceRuns      *prometheus.CounterVec
	sourceSuccess   *prometheus.GaugeVec
	redactions      *prometheus.CounterVec
	skipped         *prometheus.CounterVec
	runs            *prometheus.CounterVec
	runDuration     *prometheus.GaugeVec
	runFinished     *prometheus.GaugeVec
	storeOps        *prometheus.CounterVec
	storeOpDuration *prometheus.HistogramVec
	refreshes       *prometheus.CounterVec // serve's refreshes, per outcome
	lastRefresh     *prometheus.GaugeVec   // no labels; absent until a refresh succeeds
}

// New makes the metrics and registers them on reg, all but the per-KSB
// ones, which Gatherer and Handler add.
func New(reg prometheus.Registerer) (*Metrics, error) {
	g := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "ksbfolio", Name: name, Help: help}, labels)
	}
	c := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ksbfolio", Name: name, Help: help}, labels)
	}
	m := &Metrics{
		coverageKSBs:  g("coverage_ksbs", "KSBs counted by coverage, per status (confirmed, claimed, suggested, gap).", "apprentice", "status"),
		coverageRatio: g("coverage_ratio", "Evidenced (confirmed or claimed) KSBs over the KSBs counted, 0 to 1.", "apprentice"),
		ready:         g("gateway_ready", "1 when coverage says the apprentice is ready for the gateway, else 0.", "apprentice"),
		gateway:       g("gateway_timestamp_seconds", "The planned gateway date (Unix time); days to go: (ksbfolio_gateway_timestamp_seconds - time()) / 86400.", "apprentice"),
		coverageTime:  g("coverage_generated_timestamp_seconds", "When the coverage summary was computed (Unix time).", "apprentice"),
		itemsStored:   c("items_stored_total", "Items stored by runs, per source and item kind.", "apprentice", "source", "kind"),
		sourceRuns:    c("source_runs_total", "Sources collected by runs, per outcome (ok, partial, failed, interrupted).", "apprentice", "source", "outcome"),
		sourceSuccess: g("source_last_success_timestamp_seconds", "When the source last finished with outcome ok (Unix time).", "apprentice", "source"),
		redactions:    c("redactions_total", "Secrets masked in stored items and artefacts.", "apprentice", "source"),
		skipped:       c("skipped_total", "Pieces of a source not collected (see the run report for why).", "apprentice", "source"),
		runs:          c("runs_total", "Runs finished, per outcome (ok, partial, failed, interrupted).", "apprentice", "outcome"),
		runDuration:   g("last_run_duration_seconds", "How long the last run took.", "apprentice"),
		runFinished:   g("last_run_timestamp_seconds", "When the last run finished (Unix time), per outcome.", "apprentice", "outcome"),
		storeOps:      c("store_operations_total", "Store operations of runs, per operation and outcome (ok or error).", "apprentice", "operation", "outcome"),
		storeOpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "ksbfolio", Name: "store_operation_duration_seconds",
			Help: "How long store operations of runs took.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)}, []string{"apprentice", "operation"}),
		refreshes:   c("coverage_refreshes_total", "Refreshes of the coverage metrics from the store by serve, per outcome (ok or failed).", "outcome"),
		lastRefresh: g("coverage_last_refresh_timestamp_seconds", "When serve last refreshed the coverage metrics from the store (Unix time)."),
	}
	for _, col := range []prometheus.Collector{m.coverageKSBs, m.coverageRatio, m.ready, m.gateway, m.coverageTime,
		m.itemsStored, m.sourceRuns, m.sourceSuccess, m.redactions, m.skipped, m.runs, m.runDuration, m.runFinished, m.storeOps, m.storeOpDuration,
		m.refreshes, m.lastRefresh} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// DeleteCoverage removes the apprentice's coverage metrics: its
// coverage.json is gone (never run, or erased).
func (m *Metrics) DeleteCoverage(apprentice string) {
	m.ksb.delete(apprentice)
	for _, s := range statuses {
		m.coverageKSBs.DeleteLabelValues(apprentice, s)
	}
	for _, v := range []*prometheus.GaugeVec{m.coverageRatio, m.ready, m.gateway, m.coverageTime} {
		v.DeleteLabelValues(apprentice)
	}
}

// SetCoverage replaces the apprentice's coverage metrics with those of
// rep (its coverage.json); gateway is the planned gateway date (zero: not
// set, and the metric is left out).
func (m *Metrics) SetCoverage(apprentice string, rep coverage.Report, gateway time.Time) {
	m.ksb.set(apprentice, rep)
	s := rep.Summary
	for status, n := range map[string]int{"confirmed": s.Confirmed, "claimed": s.Claimed, "suggested": s.Suggested, "gap": s.Gap} {
		m.coverageKSBs.WithLabelValues(apprentice, status).Set(float64(n))
	}
	ratio := 0.0
	if s.Total > 0 {
		ratio = float64(s.Evidenced) / float64(s.Total)
	}
	m.coverageRatio.WithLabelValues(apprentice).Set(ratio)
	m.ready.WithLabelValues(apprentice).Set(boolValue(rep.Ready))
	if gateway.IsZero() {
		m.gateway.DeleteLabelValues(apprentice)
	} else {
		m.gateway.WithLabelValues(apprentice).Set(float64(gateway.Unix()))
	}
	if !rep.GeneratedAt.IsZero() {
		m.coverageTime.WithLabelValues(apprentice).Set(float64(rep.GeneratedAt.Unix()))
	}
}

// RunFinished records a finished run's outcome and duration.
func (m *Metrics) RunFinished(rep *pipeline.Report) {
	m.runs.WithLabelValues(rep.Apprentice, rep.Outcome).Inc()
	m.runDuration.WithLabelValues(rep.Apprentice).Set(rep.DurationSeconds)
	m.runFinished.WithLabelValues(rep.Apprentice, rep.Outcome).Set(float64(rep.FinishedAt.Unix()))
}

// Observer returns a pipeline.Observer that counts what a run of the
// apprentice does; now gives the time of a source's success.
func (m *Metrics) Observer(apprentice string, now func() time.Time) pipeline.Observer {
	return &observer{m: m, apprentice: apprentice, now: now}
}

// observer is the metrics' pipeline.Observer for one apprentice's runs.
// It holds no state of its own (the metric vectors are safe for
// concurrent use), so it is safe from several goroutines.
type observer struct {
	pipeline.NopObserver
	m          *Metrics
	apprentice string
	now        func() time.Time
}

func (o *observer) SourceStarted(source string) {
	// Make the source's series exist (at 0) from the start of its first run.
	o.m.redactions.WithLabelValues(o.apprentice, source)
	o.m.skipped.WithLabelValues(o.apprentice, source)
}

func (o *observer) SourceFinished(source string, sr pipeline.SourceReport) {
	o.m.sourceRuns.WithLabelValues(o.apprentice, source, sr.Outcome).Inc()
	if sr.Outcome == pipeline.OutcomeOK {
		o.m.sourceSuccess.WithLabelValues(o.apprentice, source).Set(float64(o.now().Unix()))
	}
}

func (o *observer) ItemStored(source string, it pipeline.StoredItem) {
	o.m.itemsStored.WithLabelValues(o.apprentice, source, string(it.Kind)).Inc()
	n := 0
	for _, r := range it.Redactions {
		n += r.Count
	}
	o.m.redactions.WithLabelValues(o.apprentice, source).Add(float64(n))
}

func (o *observer) Skipped(source string, _ collectors.Skipped) {
	o.m.skipped.WithLabelValues(o.apprentice, source).Inc()
}

func (o *observer) StoreOp(op string, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	o.m.storeOps.WithLabelValues(o.apprentice, op, outcome).Inc()
	o.m.storeOpDuration.WithLabelValues(o.apprentice, op).Observe(d.Seconds())
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

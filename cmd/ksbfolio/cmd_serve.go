package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/metrics"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

type serveOptions struct {
	listen   string
	schedule string
	refresh  time.Duration
	grace    time.Duration
	parallel int
}

func newServeCommand(g *globals) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] [--schedule CRON]",
		Short: "Serve Prometheus metrics of coverage (/metrics, /healthz, /readyz); optionally run on a schedule",
		Long: `serve exposes each configured apprentice's coverage as Prometheus metrics
on /metrics (docs/metrics.md lists them), reading only each apprentice's
coverage.json from the store, again every --refresh. /healthz answers 200
while the process runs; /readyz answers 503 until the store was reachable
(a store not reachable at start is waited for) and a refresh is done, then
200, also while later refreshes fail (the last coverage read stays exposed;
ksbfolio_coverage_last_refresh_timestamp_seconds says how old it is).

--schedule CRON runs ` + "`run`" + ` in the process on that schedule (five fields, an
optional leading seconds field, or @every 10m, @hourly, …), never two at
once: a tick that comes while a run is still going is skipped, and logged.
On SIGTERM or Ctrl-C the server stops; a run in progress is cancelled and
given --grace to stop cleanly (what it stored stays stored; the next run
carries on).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(g, o) },
	}
	cmd.Flags().StringVar(&o.listen, "listen", "127.0.0.1:9464", "address to listen on (host:port)")
	cmd.Flags().StringVar(&o.schedule, "schedule", "", "run the pipeline in the process on this cron schedule")
	cmd.Flags().DurationVar(&o.refresh, "refresh", time.Minute, "how often to re-read the coverage summaries")
	cmd.Flags().DurationVar(&o.grace, "grace", 30*time.Second, "on shutdown, how long a run in progress has to stop")
	cmd.Flags().IntVar(&o.parallel, "parallel", 8, "coverage summaries read at once")
	return cmd
}

// cronParser reads --schedule: standard five fields, an optional seconds
// field first, and descriptors (@every 1m, @daily).
func cronParser() cron.Parser {
	return cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// server holds serve's state: the metrics and whether it is ready.
type server struct {
	g         *globals
	metrics   *metrics.Metrics
	refresher *metrics.Refresher
	running   sync.Mutex // held by the run in progress
}

// newServer returns serve's state for cfg's apprentices, whose coverage it
// reads, parallel at a time, into metrics registered on reg, from st (nil:
// not reachable at start; opened again at each refresh until it is).
func newServer(g *globals, cfg *config.Config, st store.Store, reg prometheus.Registerer, parallel int) (*server, error) {
	m, err := metrics.New(reg)
	if err != nil {
		return nil, err
	}
	var all []metrics.Apprentice
	for _, a := range cfg.All() {
		all = append(all, metrics.Apprentice{ID: a.ID, Gateway: a.Gateway.Time})
	}
	open := func(ctx context.Context) (store.Store, error) {
		if st != nil {
			return st, nil
		}
		return workspace.OpenStore(ctx, cfg.Store, cfg.Dir)
	}
	return &server{g: g, metrics: m, refresher: metrics.NewRefresher(m, open, all, parallel, g.log)}, nil
}

func serve(g *globals, o serveOptions) error {
	if o.refresh <= 0 || o.parallel < 1 || o.grace < 0 {
		return usageErrorf("--refresh must be positive, --parallel at least 1, --grace not negative")
	}
	var sched cron.Schedule
	if o.schedule != "" {
		var err error
		if sched, err = cronParser().Parse(o.schedule); err != nil {
			return usageErrorf("--schedule %q: %v", o.schedule, err)
		}
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	// A store named wrongly (a bad URL) stops serve; one not reachable yet
	// (a server starting, a volume not mounted) is waited for, /readyz
	// answering 503 until it is.
	st, err := workspace.OpenStore(g.ctx, cfg.Store, cfg.Dir)
	if err != nil {
		var se *workspace.SetupError
		if errors.As(err, &se) {
			return setupCode(err)
		}
		g.log.Warn("the store is not reachable yet: /readyz answers 503 until it is", "error", err)
		st = nil // not a nil *s3store.Store in the interface
	}
	reg := prometheus.NewRegistry()
	s, err := newServer(g, cfg, st, reg, o.parallel)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usageErrorf("--listen %s: %v", o.listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.metrics.Handler(reg))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.refresher.Ready() {
			msg := "not ready: no refresh of coverage from the store has succeeded yet"
			if err := s.refresher.Err(); err != nil {
				msg += "; the last failed: " + err.Error()
			}
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	g.log.Info("serving metrics", "addr", ln.Addr().String(), "apprentices", len(cfg.All()), "schedule", o.schedule)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.refresher.Run(g.ctx, o.refresh)
	}()
	if sched != nil {
		c := cron.New(cron.WithParser(cronParser()), cron.WithLocation(time.UTC))
		c.Schedule(sched, cron.FuncJob(func() { s.scheduled(g.ctx) }))
		c.Start()
		defer func() {
			done := c.Stop() // no new ticks; done when the job in progress returns
			select {
			case <-done.Done():
			case <-time.After(o.grace):
				g.log.Error("the run in progress did not stop within the grace period", "grace", o.grace)
			}
		}()
	}

	select {
	case <-g.ctx.Done():
		g.log.Info("shutting down")
	case err := <-served:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.grace)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		g.log.Warn("http shutdown", "error", err)
	}
	wg.Wait()
	return nil
}

// scheduled is one cron tick: a run, unless one is still going.
func (s *server) scheduled(ctx context.Context) {
	if !s.running.TryLock() {
		s.g.log.Warn("skipping the scheduled run: the previous one is still running")
		return
	}
	defer s.running.Unlock()
	if ctx.Err() != nil {
		return
	}
	s.g.log.Info("scheduled run started")
	rep, err := s.runOnce(ctx)
	switch {
	case rep != nil:
		s.g.log.Info("scheduled run finished", "run", rep.RunID, "outcome", rep.Outcome, "seconds", rep.DurationSeconds, "error", err)
	case err != nil:
		s.g.log.Error("scheduled run failed", "error", err)
	}
	if err := s.refresher.Refresh(ctx); err != nil && ctx.Err() == nil {
		s.g.log.Warn("refresh coverage", "error", err)
	}
}

// runOnce does what `run` does, its metrics going to the server's.
func (s *server) runOnce(ctx context.Context) (*pipeline.Report, error) {
	ws, err := s.g.workspace("")
	if err != nil {
		return nil, err
	}
	r, _, err := ws.Runner(s.metrics.Observer(ws.Apprentice.ID, time.Now))
	if err != nil {
		return nil, err
	}
	rep, err := r.Run(ctx, pipeline.Options{Command: "run", Coverage: true, LeaseTTL: ws.LeaseTTL})
	if rep != nil {
		s.metrics.RunFinished(rep)
	}
	return rep, err
}

// pushMetrics are one run's metrics, for run --pushgateway.
type pushMetrics struct {
	reg      *prometheus.Registry
	metrics  *metrics.Metrics
	observer pipeline.Observer
}

func newPushMetrics(apprentice string) (*pushMetrics, error) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		return nil, err
	}
	return &pushMetrics{reg: reg, metrics: m, observer: m.Observer(apprentice, time.Now)}, nil
}

// push adds the run's outcome and the stored coverage, and pushes them.
func (p *pushMetrics) push(g *globals, ws *workspace.Workspace, rep *pipeline.Report, url string) error {
	p.metrics.RunFinished(rep)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // pushed even when the run was interrupted
	defer cancel()
	if cov, err := pipeline.ReadCoverage(ctx, ws.Ledger); err == nil {
		p.metrics.SetCoverage(ws.Apprentice.ID, cov, ws.Apprentice.Gateway.Time)
	} else if !errors.Is(err, store.ErrNotFound) {
		g.log.Warn("read coverage for the push", "error", err)
	}
	return metrics.Push(ctx, url, ws.Apprentice.ID, p.metrics.Gatherer(p.reg), nil)
}

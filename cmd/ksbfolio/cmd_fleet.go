package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/fleet"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

// Outcomes of one apprentice in run --all, besides the run's own (ok,
// partial, interrupted).
const (
	fleetFailed = "failed" // could not be set up, or the run stopped with an error
	fleetBusy   = "busy"   // another run holds the apprentice's lease
)

// fleetResult is one apprentice's line in run --all.
type fleetResult struct {
	Apprentice string           `json:"apprentice"`
	Outcome    string           `json:"outcome"`
	Items      int              `json:"items"`
	Seconds    float64          `json:"seconds"`
	Error      string           `json:"error,omitempty"`
	Report     *pipeline.Report `json:"report,omitempty"`
}

// fleetConfigs loads what --config names for the --all commands: one
// config file, or a folder of them (every *.yaml and *.yml directly in it,
// in name order). It returns the apprentice IDs in order and the config
// of each; an ID in two files, or any file that is not a valid config, is
// a usage error before anything runs.
func fleetConfigs(g *globals) ([]string, map[string]*config.Config, error) {
	var files []string
	if fi, err := os.Stat(g.configPath); err == nil && fi.IsDir() {
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, err := filepath.Glob(filepath.Join(g.configPath, pat))
			if err != nil {
				return nil, nil, err
			}
			files = append(files, m...)
		}
		slices.Sort(files)
		if len(files) == 0 {
			return nil, nil, usageErrorf("%s: a folder without any *.yaml config", g.configPath)
		}
	}
	var cfgs []*config.Config
	if files == nil {
		cfg, err := g.loadConfig()
		if err != nil {
			return nil, nil, err
		}
		cfgs = append(cfgs, cfg)
	}
	for _, f := range files {
		cfg, err := config.Load(f, registry.Default())
		if err != nil {
			return nil, nil, withCode(exitUsage, err)
		}
		cfgs = append(cfgs, cfg)
	}
	var ids []string
	of := map[string]*config.Config{}
	for _, cfg := range cfgs {
		for _, a := range cfg.All() {
			if prev, dup := of[a.ID]; dup {
				return nil, nil, usageErrorf("apprentice %q is in both %s and %s", a.ID, prev.File, cfg.File)
			}
			ids = append(ids, a.ID)
			of[a.ID] = cfg
		}
	}
	return ids, of, nil
}

// selectShard returns the IDs of ids in shard spec ("" for all).
func selectShard(ids []string, spec string) ([]string, error) {
	if spec == "" {
		return ids, nil
	}
	sh, err := fleet.ParseShard(spec)
	if err != nil {
		return nil, usageErrorf("--%w", err)
	}
	return sh.Select(ids), nil
}

// runAll is run --all: every apprentice (of the shard), o.parallel at a
// time, each with its own workspace and lease.
func runAll(g *globals, o runOptions) error {
	if o.parallel < 1 {
		return usageErrorf("--parallel %d: want 1 or more", o.parallel)
	}
	ids, cfgs, err := fleetConfigs(g)
	if err != nil {
		return err
	}
	if ids, err = selectShard(ids, o.shard); err != nil {
		return err
	}
	job := func(ctx context.Context, id string) fleetResult {
		start := time.Now()
		res := runOne(ctx, g, cfgs[id], id, o)
		res.Seconds = time.Since(start).Seconds()
		return res
	}
	skipped := func(id string, err error) fleetResult {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return fleetResult{Apprentice: id, Outcome: pipeline.OutcomeInterrupted, Error: "not started: interrupted"}
		}
		return fleetResult{Apprentice: id, Outcome: fleetFailed, Error: err.Error()}
	}
	results := fleet.Run(g.ctx, ids, o.parallel, job, skipped)
	if o.json {
		if err := writeJSON(g.stdout, results); err != nil {
			return err
		}
	} else {
		printFleet(g.stdout, results, o.shard)
	}
	return fleetCode(results)
}

// runOne runs one apprentice of run --all.
func runOne(ctx context.Context, g *globals, cfg *config.Config, id string, o runOptions) fleetResult {
	res := fleetResult{Apprentice: id}
	fail := func(err error) fleetResult {
		res.Outcome, res.Error = fleetFailed, err.Error()
		if errors.Is(err, ledger.ErrLeaseHeld) {
			res.Outcome = fleetBusy
		}
		return res
	}
	gg := *g
	gg.ctx, gg.log = ctx, g.log.With("apprentice", id)
	ws, err := gg.openWorkspace(cfg, id, "")
	if err != nil {
		return fail(err)
	}
	r, warns, err := ws.Runner(nil)
	if err != nil {
		return fail(err)
	}
	for _, w := range warns {
		gg.log.Debug("tagging rules", "warning", w)
	}
	rep, err := r.Run(ctx, pipeline.Options{Command: "run", Coverage: true, Wait: o.wait, LeaseTTL: ws.LeaseTTL, Full: o.full})
	if rep == nil {
		return fail(err)
	}
	res.Report = rep
	for _, s := range rep.Sources {
		res.Items += s.Items
	}
	res.Outcome = rep.Outcome
	if err != nil && rep.Outcome != pipeline.OutcomeInterrupted {
		res.Outcome, res.Error = fleetFailed, err.Error()
	}
	for _, s := range rep.Sources {
		if s.Error != "" && res.Error == "" {
			res.Error = s.Name + ": " + s.Error
		}
	}
	return res
}

// fleetCode is the exit code over all apprentices: 130 if interrupted,
// else 3 if any failed or was partial, else 4 if any was busy, else 0.
func fleetCode(results []fleetResult) error {
	count := map[string]int{}
	for _, r := range results {
		count[r.Outcome]++
	}
	switch {
	case count[pipeline.OutcomeInterrupted] > 0:
		return withCode(exitInterrupted, errors.New("interrupted (what was stored stays stored; the next run carries on)"))
	case count[fleetFailed]+count[pipeline.OutcomePartial] > 0:
		return errPartial
	case count[fleetBusy] > 0:
		return withCode(exitLeaseHeld, fmt.Errorf("%s held by another run", termsafe.Plural(count[fleetBusy], "apprentice was", "apprentices were")))
	}
	return nil
}

// printFleet writes run --all's table: one line per apprentice, then the
// totals. Errors are escaped and cut to one line.
func printFleet(w io.Writer, results []fleetResult, shard string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APPRENTICE\tOUTCOME\tITEMS\tSECONDS\tDETAIL")
	count := map[string]int{}
	for _, r := range results {
		count[r.Outcome]++
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%s\n", termsafe.String(r.Apprentice), r.Outcome, r.Items, r.Seconds, termsafe.String(oneLine(r.Error, 100)))
	}
	tw.Flush()
	of := ""
	if shard != "" {
		of = " (shard " + shard + ")"
	}
	fmt.Fprintf(w, "%s%s: %d ok, %d partial, %d failed, %d busy, %d interrupted\n",
		termsafe.Plural(len(results), "apprentice", "apprentices"), of, count[pipeline.OutcomeOK], count[pipeline.OutcomePartial],
		count[fleetFailed], count[fleetBusy], count[pipeline.OutcomeInterrupted])
}

// oneLine returns the first line of s, at most n runes.
func oneLine(s string, n int) string {
	for i, c := range s {
		if c == '\n' {
			s = s[:i]
			break
		}
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// coverageLine is one apprentice's line in coverage --all.
type coverageLine struct {
	Apprentice string     `json:"apprentice"`
	Confirmed  int        `json:"confirmed"`
	Claimed    int        `json:"claimed"`
	Suggested  int        `json:"suggested"`
	Gaps       int        `json:"gaps"`
	Total      int        `json:"total"`
	Ready      bool       `json:"ready"`
	Updated    *time.Time `json:"updated,omitempty"`         // coverage.json's generated_at; nil: never run
	DaysToGate *int       `json:"days_to_gateway,omitempty"` // nil: no gateway date configured
	Error      string     `json:"error,omitempty"`
}

// coverageAll is coverage --all: each apprentice's stored coverage.json,
// read with bounded concurrency, one line each.
func coverageAll(g *globals, asJSON bool) error {
	ids, cfgs, err := fleetConfigs(g)
	if err != nil {
		return err
	}
	stores := map[*config.Config]store.Store{}
	for _, id := range ids {
		if cfg := cfgs[id]; stores[cfg] == nil {
			if stores[cfg], err = workspaceStore(g, cfg); err != nil {
				return err
			}
		}
	}
	now := time.Now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	lines := fleet.Run(g.ctx, ids, 8, func(ctx context.Context, id string) coverageLine {
		line := coverageLine{Apprentice: id}
		cfg, s := cfgs[id], stores[cfgs[id]]
		if a, _ := cfg.FindApprentice(id); !a.Gateway.IsZero() {
			d := int(a.Gateway.Sub(today).Hours() / 24)
			line.DaysToGate = &d
		}
		l, err := ledger.New(s, id)
		if err != nil {
			line.Error = err.Error()
			return line
		}
		rep, err := pipeline.ReadCoverage(ctx, l)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return line
		case err != nil:
			line.Error = err.Error()
			return line
		}
		sum := rep.Summary
		line.Confirmed, line.Claimed, line.Suggested, line.Gaps, line.Total, line.Ready = sum.Confirmed, sum.Claimed, sum.Suggested, sum.Gap, sum.Total, rep.Ready
		t := rep.GeneratedAt
		line.Updated = &t
		return line
	}, func(id string, err error) coverageLine { return coverageLine{Apprentice: id, Error: err.Error()} })
	if asJSON {
		err = writeJSON(g.stdout, lines)
	} else {
		tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "APPRENTICE\tCONFIRMED\tCLAIMED\tSUGGESTED\tGAPS\tGATEWAY\tUPDATED\tDAYS TO GATEWAY")
		for _, c := range lines {
			days := "-"
			if c.DaysToGate != nil {
				days = fmt.Sprint(*c.DaysToGate)
			}
			switch {
			case c.Error != "":
				fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t%s\t%s\n", termsafe.String(c.Apprentice), "unreadable: "+termsafe.String(oneLine(c.Error, 80)), days)
			case c.Updated == nil:
				fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\tnever run\t%s\n", termsafe.String(c.Apprentice), days)
			default:
				ready := "not ready"
				if c.Ready {
					ready = "ready"
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d/%d\t%s\t%s\t%s\n", termsafe.String(c.Apprentice), c.Confirmed, c.Claimed, c.Suggested,
					c.Gaps, c.Total, ready, c.Updated.UTC().Format("2006-01-02 15:04"), days)
			}
		}
		err = tw.Flush()
	}
	if err != nil {
		return err
	}
	for _, c := range lines {
		if c.Error != "" {
			return errPartial
		}
	}
	return nil
}

// workspaceStore opens cfg's store (exit 2 for a bad store URL).
func workspaceStore(g *globals, cfg *config.Config) (store.Store, error) {
	s, err := workspace.OpenStore(g.ctx, cfg.Store, cfg.Dir)
	if err != nil {
		return nil, setupCode(err)
	}
	return s, nil
}

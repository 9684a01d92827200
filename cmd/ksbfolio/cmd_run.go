package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

type runOptions struct {
	wait   time.Duration
	source string
	json   bool
	full   bool
	// all, parallel and shard: run every apprentice of the config
	// (cmd_fleet.go).
	all      bool
	parallel int
	shard    string
	// pushgateway, when set (or metrics.pushgateway in the config), is
	// where the run's metrics are pushed.
	pushgateway string
}

func newRunCommand(g *globals) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run",
		Short: "The scheduled job: collect every source, redact, tag, store, update coverage",
		Long: `run collects every configured source (only what is new since the last run),
masks secrets, tags each item against the KSBs, stores it in the ledger, and
updates coverage.json. It prints a summary; the full report is stored under
runs/ in the ledger. --full ignores the saved cursors and collects
everything again (after fsck --repair quarantined an item, or to re-read
history): items keep their IDs, so nothing is duplicated.

Exit codes: 0 ok; 1 error (the store is unusable, or the run lost its lease
and stopped); 3 finished but some sources failed or were partial; 4 another
run holds the apprentice's lease (--wait to wait for it); 130 interrupted
(what was stored stays stored; the next run carries on).

--all runs every apprentice of the config (apprentices:), --parallel at a
time, each under its own lease, one failure not stopping the others, and
prints one line per apprentice. --shard INDEX/COUNT (with --all) runs only
the apprentices whose ID hashes to INDEX of COUNT, so that COUNT processes
split the list without talking to each other. Exit codes over all: 0 every
apprentice ok; 3 any failed, was partial or could not be set up; 4 none
failed but another run held some apprentice's lease; 130 interrupted.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.all {
				return runAll(g, o)
			}
			if o.shard != "" || cmd.Flags().Changed("parallel") {
				return usageErrorf("--shard and --parallel go with --all")
			}
			return runPipeline(g, o, "run", true)
		},
	}
	cmd.Flags().BoolVar(&o.all, "all", false, "run every apprentice of the config")
	cmd.Flags().IntVar(&o.parallel, "parallel", 4, "with --all: how many apprentices run at a time")
	cmd.Flags().StringVar(&o.shard, "shard", "", "with --all: run only share INDEX of COUNT (INDEX/COUNT, from 0)")
	cmd.Flags().DurationVar(&o.wait, "wait", 0, "wait up to this long for another run on the same apprentice")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the run report as JSON")
	cmd.Flags().BoolVar(&o.full, "full", false, "ignore saved cursors: collect everything again (idempotent)")
	cmd.Flags().StringVar(&o.pushgateway, "pushgateway", "", "push the run's metrics to this Pushgateway URL (default: metrics.pushgateway in the config)")
	return cmd
}

func newCollectCommand(g *globals) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "collect [--source NAME]",
		Short: "Collection only: collect, redact, tag and store, without updating coverage",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return runPipeline(g, o, "collect", false) },
	}
	cmd.Flags().StringVar(&o.source, "source", "", "collect only this source")
	cmd.Flags().DurationVar(&o.wait, "wait", 0, "wait up to this long for another run on the same apprentice")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the run report as JSON")
	cmd.Flags().BoolVar(&o.full, "full", false, "ignore saved cursors: collect everything again (idempotent)")
	return cmd
}

func runPipeline(g *globals, o runOptions, command string, coverage bool) error {
	ws, err := g.workspace("")
	if err != nil {
		return err
	}
	var obs pipeline.Observer
	if g.progressOn() {
		obs = &progressLine{g: g}
	}
	pushTo := o.pushgateway
	if pushTo == "" && command == "run" {
		pushTo = ws.Config.Metrics.Pushgateway
	}
	var pm *pushMetrics
	if pushTo != "" {
		if pm, err = newPushMetrics(ws.Apprentice.ID); err != nil {
			return err
		}
		obs = pipeline.Observers(obs, pm.observer)
	}
	r, warns, err := ws.Runner(obs)
	if err != nil {
		return setupCode(err)
	}
	for _, w := range warns {
		g.log.Warn("tagging rules", "warning", w)
	}
	rep, err := r.Run(g.ctx, pipeline.Options{Command: command, Only: o.source, Coverage: coverage, Wait: o.wait, LeaseTTL: ws.LeaseTTL, Full: o.full})
	if rep == nil {
		return err
	}
	if pm != nil {
		if perr := pm.push(g, ws, rep, pushTo); perr != nil {
			g.log.Error("push metrics", "error", perr)
			if err == nil && rep.Outcome == pipeline.OutcomeOK {
				rep.Outcome = pipeline.OutcomePartial
				rep.Warnings = append(rep.Warnings, perr.Error())
			}
		}
	}
	if o.json {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		if e := enc.Encode(rep); e != nil {
			return e
		}
	} else {
		printReport(g.stdout, rep)
	}
	switch {
	case rep.Outcome == pipeline.OutcomeInterrupted:
		return withCode(exitInterrupted, fmt.Errorf("interrupted: %v (what was stored stays stored; the next run carries on)", err))
	case err != nil:
		return err
	case rep.Outcome == pipeline.OutcomePartial:
		return errPartial
	}
	return nil
}

// printReport writes the run's summary for a person. Strings from sources
// (errors, skip reasons, warnings) are escaped for the terminal, and each
// list shows at most maxListed entries; the stored report has them all.
func printReport(w io.Writer, rep *pipeline.Report) {
	const maxListed = 5
	q := termsafe.String
	fmt.Fprintf(w, "%s %s for %s: %s in %.1fs (store %s)\n", rep.Command, rep.RunID, q(rep.Apprentice), rep.Outcome, rep.DurationSeconds, q(rep.Store))
	for _, s := range rep.Sources {
		fmt.Fprintf(w, "  %s (%s): %s, %s stored, %d skipped, %s masked\n",
			q(s.Name), q(s.Type), s.Outcome, termsafe.Plural(s.Items, "item", "items"), s.SkippedTotal,
			termsafe.Plural(s.Redactions, "secret", "secrets"))
		if s.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", q(s.Error))
		}
		for i, sk := range s.Skipped {
			if i == maxListed {
				fmt.Fprintf(w, "    … and %s more skipped (see the run report)\n", termsafe.Count(s.SkippedTotal-maxListed))
				break
			}
			fmt.Fprintf(w, "    skipped %s: %s\n", q(sk.What), q(sk.Reason))
		}
		for i, wn := range s.Warnings {
			if i == maxListed {
				fmt.Fprintf(w, "    … and %s more (see the run report)\n", termsafe.Plural(len(s.Warnings)-maxListed, "warning", "warnings"))
				break
			}
			fmt.Fprintf(w, "    warning: %s\n", q(wn))
		}
	}
	for _, c := range termsafe.Cap(rep.Corrupt, maxListed) {
		fmt.Fprintf(w, "  skipped unreadable object: %s\n", q(c))
	}
	for _, wn := range termsafe.Cap(rep.Warnings, maxListed) {
		fmt.Fprintf(w, "  warning: %s\n", q(wn))
	}
	if c := rep.Coverage; c != nil {
		ready := "not ready"
		if c.Ready {
			ready = "ready"
		}
		fmt.Fprintf(w, "coverage against %s: %d confirmed, %d claimed, %d suggested, %d gaps of %d KSBs; gateway: %s (ksbfolio coverage for details)\n",
			rep.Catalogue, c.Confirmed, c.Claimed, c.Suggested, c.Gap, c.Total, ready)
	}
}

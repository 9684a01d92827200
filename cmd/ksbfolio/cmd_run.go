package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/pipeline"
)

type runOptions struct {
	wait   time.Duration
	source string
	json   bool
}

func newRunCommand(g *globals) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run",
		Short: "The scheduled job: collect every source, redact, tag, store, update coverage",
		Long: `run collects every configured source (only what is new since the last run),
masks secrets, tags each item against the KSBs, stores it in the ledger, and
updates coverage.json. It prints a summary; the full report is stored under
runs/ in the ledger.

Exit codes: 0 ok; 3 finished but some sources failed or were partial; 4
another run holds the apprentice's lease (--wait to wait for it); 130
interrupted (what was stored stays stored; the next run carries on).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runPipeline(g, o, "run", true) },
	}
	cmd.Flags().DurationVar(&o.wait, "wait", 0, "wait up to this long for another run on the same apprentice")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the run report as JSON")
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
	r, warns, err := ws.Runner(obs)
	if err != nil {
		return setupCode(err)
	}
	for _, w := range warns {
		g.log.Warn("tagging rules", "warning", w)
	}
	rep, err := r.Run(g.ctx, pipeline.Options{Command: command, Only: o.source, Coverage: coverage, Wait: o.wait})
	if rep == nil {
		return err
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

func printReport(w io.Writer, rep *pipeline.Report) {
	fmt.Fprintf(w, "%s %s for %s: %s in %.1fs (store %s)\n", rep.Command, rep.RunID, rep.Apprentice, rep.Outcome, rep.DurationSeconds, rep.Store)
	for _, s := range rep.Sources {
		fmt.Fprintf(w, "  %s (%s): %s, %d items stored, %d skipped, %d secrets masked\n",
			s.Name, s.Type, s.Outcome, s.Items, s.SkippedTotal, s.Redactions)
		if s.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", s.Error)
		}
		for i, sk := range s.Skipped {
			if i == 5 {
				fmt.Fprintf(w, "    … %d more skipped (see the run report)\n", s.SkippedTotal-5)
				break
			}
			fmt.Fprintf(w, "    skipped %s: %s\n", sk.What, sk.Reason)
		}
		for i, wn := range s.Warnings {
			if i == 5 {
				fmt.Fprintf(w, "    … %d more warnings (see the run report)\n", len(s.Warnings)-5)
				break
			}
			fmt.Fprintf(w, "    warning: %s\n", wn)
		}
	}
	for _, c := range rep.Corrupt {
		fmt.Fprintf(w, "  skipped unreadable object: %s\n", c)
	}
	for _, wn := range rep.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", wn)
	}
	if c := rep.Coverage; c != nil {
		ready := "not ready"
		if c.Ready {
			ready = "ready"
		}
		fmt.Fprintf(w, "coverage against %s: %d evidenced, %d suggested, %d gaps of %d KSBs; gateway: %s (ksbfolio coverage for details)\n",
			rep.Catalogue, c.Evidenced, c.Suggested, c.Gap, c.Total, ready)
	}
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/maintain"
)

func newRetagCommand(g *globals) *cobra.Command {
	var catalogue string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "retag [--catalogue ID]",
		Short: "Re-apply the tagging rules to every stored item without re-collecting",
		Long: `retag re-applies the rules (built-in plus the config's rules file) to every
stored item, after the rules or the catalogue changed. Declared tags and
reviews are kept. --catalogue tags against another catalogue (built-in or
imported); set standard: in the config too so that later runs use it.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := g.workspace(catalogue)
			if err != nil {
				return err
			}
			tg, warns, err := ws.Tagger()
			if err != nil {
				return setupCode(err)
			}
			var (
				res       maintain.RetagResult
				before    coverage.Report
				beforeErr error
				after     coverage.Report
			)
			err = g.hold(ws, "retag", wait, func(ctx context.Context) error {
				before, beforeErr = pipeline.ReadCoverage(ctx, ws.Ledger)
				var err error
				if res, err = maintain.Retag(ctx, ws.Ledger, tg); err != nil {
					return err
				}
				after, _, err = pipeline.UpdateCoverage(ctx, ws.Ledger, ws.Catalogue, ws.Target, ws.Now())
				return err
			})
			if err != nil {
				return err
			}
			for _, w := range append(warns, res.Warnings...) {
				g.warnf("%s", w)
			}
			for _, c := range res.Corrupt {
				fmt.Fprintln(g.stderr, "ksbfolio: skipped "+termsafe.String(c))
			}
			fmt.Fprintf(g.stdout, "retagged %s against %s: %d changed\n", termsafe.Plural(res.Items, "item", "items"), ws.Catalogue.ID, res.Changed)
			for _, line := range maintain.CoverageChanges(before, beforeErr == nil, after) {
				fmt.Fprintln(g.stdout, termsafe.String(line))
			}
			if catalogue != "" && catalogue != ws.Config.Standard {
				fmt.Fprintf(g.stdout, "note: set `standard: %s` in %s so that later runs tag against it too\n", catalogue, g.configPath)
			}
			if len(res.Corrupt) > 0 {
				return errPartial
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&catalogue, "catalogue", "", "catalogue ID to tag against (default: the config's standard)")
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for another run on the same apprentice")
	return cmd
}

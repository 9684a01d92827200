package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

func newCoverageCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "coverage [--json]",
		Short: "Per-KSB status (evidenced, suggested, gap), gaps and gateway readiness",
		Long: `coverage computes, from the ledger, each KSB's status: evidenced (a tag the
apprentice declared at the source or a reviewer accepted), suggested (only
rule tags nobody has reviewed yet) or gap; KSBs tagged on evidence but absent
from the catalogue are listed as not_in_catalogue. KSBs are grouped by
assessment method and grade theme. The counts and gateway readiness are on
the KSBs the portfolio covers (portfolio.covers in the config; default: the
39 the professional discussion assesses); the others are shown, not counted.
It also says which version of the standard applies to the apprentice's
start, and how many items were tagged against another catalogue revision
(ksbfolio retag re-tags them). Readiness is never claimed against an
incomplete catalogue.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := g.workspace("")
			if err != nil {
				return err
			}
			rep, corrupt, err := pipeline.ComputeCoverage(g.ctx, ws.Ledger, ws.Catalogue, ws.Target, ws.Now())
			if err != nil {
				return err
			}
			for _, c := range corrupt {
				fmt.Fprintln(g.stderr, "ksbfolio: skipped "+termsafe.String(c))
			}
			if asJSON {
				err = writeJSON(g.stdout, rep)
			} else {
				err = rep.WriteTable(g.stdout)
			}
			if err != nil {
				return err
			}
			if len(corrupt) > 0 {
				return errPartial
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

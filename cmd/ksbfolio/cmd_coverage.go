package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

func newCoverageCommand(g *globals) *cobra.Command {
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "coverage [--all] [--json]",
		Short: "Per-KSB status (confirmed, claimed, suggested, gap), gaps and gateway readiness",
		Long: `coverage computes, from the ledger, each KSB's status, saying who vouches
for it: confirmed (a coach, employer or assessor configured under reviewers:
accepted it, with a signature that verifies over the item's current
content), claimed (the apprentice declared it at the source, added it with
add --ksb or accepted it, or another role accepted it without a verified
signature), suggested (only rule tags nobody has reviewed yet) or gap; KSBs
tagged on evidence but absent from the catalogue are listed as
not_in_catalogue. Decisions that did not apply (overruled by a higher role, assessor >
employer > coach > apprentice, or a --confidential=false that only the
employer or the marking's own role may make) are listed as conflicts. KSBs are grouped by
assessment method and grade theme. The counts and gateway readiness are on
the KSBs the portfolio covers (portfolio.covers in the config; default: the
39 the professional discussion assesses); the others are shown, not counted.
Gateway readiness needs every one of them confirmed. It also says which
version of the standard applies to the apprentice's start, and how many
items were tagged against another catalogue revision (ksbfolio retag
re-tags them). Readiness is never claimed against an incomplete catalogue.

--all prints one line per apprentice of the config (confirmed, claimed,
suggested, gaps, gateway readiness, when coverage was last updated, days to
the gateway), read from each apprentice's stored coverage.json only; an
apprentice never run shows "never run". Exit 3 if a coverage.json could not
be read.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all {
				return coverageAll(g, asJSON)
			}
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
	cmd.Flags().BoolVar(&all, "all", false, "one line per apprentice of the config, from their stored coverage")
	return cmd
}

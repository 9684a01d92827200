package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline/maintain"
)

// maxProblemsListed is how many problems fsck prints for a person.
const maxProblemsListed = 100

func newFsckCommand(g *globals) *cobra.Command {
	var repair, asJSON bool
	var grace, wait time.Duration
	cmd := &cobra.Command{
		Use:   "fsck [--repair]",
		Short: "Check the ledger: unreadable objects, missing or damaged blobs, orphan blobs, stale leases",
		Long: `fsck reads the whole ledger of the apprentice and reports items that cannot
be read, items whose artefacts are missing, blobs whose content does not
match their SHA-256, blobs no item names, unreadable reviews and cursors, and
a stale lease left by a run that died (its process is gone from this host,
or it expired). --repair takes the lease itself (taking a stale one over),
moves unreadable objects to quarantine/ (never deletes possible evidence),
deletes orphan blobs and the temporary files a killed run left once they are
older than --grace; missing artefacts need their source collected again.

Exit codes: 0 clean (or everything repaired); 3 problems remain; 4 a run is
going on (with --repair).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := g.workspace("")
			if err != nil {
				return err
			}
			res, err := maintain.Fsck(g.ctx, ws.Ledger, maintain.FsckOptions{Repair: repair, Grace: grace, Lease: ws.HoldOptions("fsck", wait)})
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(g.stdout, res); err != nil {
					return err
				}
			} else {
				for i, p := range res.Problems {
					if i == maxProblemsListed {
						fmt.Fprintf(g.stdout, "… and %s more (fsck --json lists them all)\n", termsafe.Count(len(res.Problems)-i))
						break
					}
					line := fmt.Sprintf("%s %s: %s", p.Kind, p.Key, p.Detail)
					if p.Repaired != "" {
						line += " [repaired: " + p.Repaired + "]"
					}
					if p.Pending != "" {
						line += " [" + p.Pending + "]"
					}
					fmt.Fprintln(g.stdout, termsafe.String(line))
				}
				fmt.Fprintf(g.stdout, "checked %s, %s, %s: %s, %d left\n",
					termsafe.Plural(res.Items, "item", "items"), termsafe.Plural(res.Blobs, "blob", "blobs"),
					termsafe.Plural(res.Reviews, "review", "reviews"), termsafe.Plural(len(res.Problems), "problem", "problems"), res.Unrepaired())
			}
			if res.Unrepaired() > 0 {
				return errPartial
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "repair what can be repaired")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().DurationVar(&grace, "grace", maintain.DefaultGrace, "with --repair, keep orphan blobs and temporary files younger than this (a run may still be writing)")
	cmd.Flags().DurationVar(&wait, "wait", 0, "with --repair, wait up to this long for another run on the same apprentice")
	return cmd
}

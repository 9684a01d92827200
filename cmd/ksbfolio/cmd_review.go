package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

type reviewOptions struct {
	accept, reject        string
	exclude, confidential bool
	note, by, role        string
	wait                  time.Duration
}

func newReviewCommand(g *globals) *cobra.Command {
	var o reviewOptions
	cmd := &cobra.Command{
		Use:   "review ITEM [--accept IDS] [--reject IDS] [--exclude] [--confidential] [--note TEXT] [--by NAME --role ROLE]",
		Short: "Record a human decision on an item's tags",
		Long: `review records who (name and role: apprentice, coach, employer, assessor)
decided what, and when: accepting KSBs (the item then evidences them),
rejecting KSBs (suggestions or declarations that do not hold), excluding the
item from the portfolio (--exclude, undo with --exclude=false), or marking it
confidential (--confidential, undo with --confidential=false). Decisions are
kept apart from items, in order, so they survive re-collection and retag.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runReview(g, cmd, args[0], o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.accept, "accept", "", "KSBs to accept (comma-separated)")
	f.StringVar(&o.reject, "reject", "", "KSBs to reject (comma-separated)")
	f.BoolVar(&o.exclude, "exclude", false, "leave this item out of the portfolio")
	f.BoolVar(&o.confidential, "confidential", false, "mark this item confidential")
	f.StringVar(&o.note, "note", "", "a note kept with the decision")
	f.StringVar(&o.by, "by", "", "who decides (default: the apprentice's name)")
	f.StringVar(&o.role, "role", "apprentice", "their role: "+strings.Join(evidence.Roles, ", "))
	f.DurationVar(&o.wait, "wait", 0, "wait up to this long for another run on the same apprentice")
	return cmd
}

func splitKSBs(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		k := evidence.NormalizeKSB(p)
		if !evidence.LooksLikeKSB(k) {
			return nil, usageErrorf("%q is not a KSB ID (K, S or B and a number, e.g. S10)", p)
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

func runReview(g *globals, cmd *cobra.Command, ref string, o reviewOptions) error {
	accept, err := splitKSBs(o.accept)
	if err != nil {
		return err
	}
	reject, err := splitKSBs(o.reject)
	if err != nil {
		return err
	}
	for _, a := range accept {
		for _, r := range reject {
			if a == r {
				return usageErrorf("%s is both accepted and rejected", a)
			}
		}
	}
	if !evidence.ValidRole(o.role) {
		return usageErrorf("--role %q: want one of %s", o.role, strings.Join(evidence.Roles, ", "))
	}
	d := evidence.Decision{ID: evidence.NewDecisionID(), By: o.by, Role: o.role, Accept: accept, Reject: reject, Note: o.note}
	if cmd.Flags().Changed("exclude") {
		v := o.exclude
		d.Exclude = &v
	}
	if cmd.Flags().Changed("confidential") {
		v := o.confidential
		d.Confidential = &v
	}
	if len(accept) == 0 && len(reject) == 0 && d.Exclude == nil && d.Confidential == nil && o.note == "" {
		return usageErrorf("review needs at least one of --accept, --reject, --exclude, --confidential or --note")
	}
	ws, err := g.workspace("")
	if err != nil {
		return err
	}
	if d.By == "" {
		d.By = ws.Apprentice.Name
		if d.By == "" {
			d.By = ws.Apprentice.ID
		}
	}
	it, _, err := resolveItem(g, ws, ref)
	if err != nil {
		return err
	}
	for _, k := range accept {
		if _, ok := ws.Catalogue.Lookup(k); !ok {
			fmt.Fprintf(g.stderr, "ksbfolio: warning: %s is not in catalogue %s; recorded, and coverage lists it as not in the catalogue\n", k, ws.Catalogue.ID)
		}
	}
	d.At = ws.Now().UTC()
	return g.hold(ws, "review", o.wait, func(ctx context.Context) error {
		if _, err := ws.Ledger.AddDecision(ctx, it.ID, d); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "recorded %s's decision (%s) on %s\n", d.By, d.Role, it.ID)
		if _, _, err := pipeline.UpdateCoverage(ctx, ws.Ledger, ws.Catalogue, ws.Target, ws.Now()); err != nil {
			g.log.Warn("coverage not updated", "err", err)
		}
		return nil
	})
}

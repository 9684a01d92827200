package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

type itemsOptions struct {
	ksbs   string
	source string
	status string
	json   bool
}

// Item statuses items --status selects on; an item can have several.
var itemStatuses = []string{"suggested", "claimed", "confirmed", "unreviewed"}

// hasStatus reports whether v has status: "suggested", a rule suggestion
// nobody has accepted or rejected yet (the item not excluded);
// "claimed", a KSB declared or accepted but not confirmed; "confirmed", a
// KSB accepted by a verified reviewer; "unreviewed", no decision at all.
func hasStatus(v ledger.View, status string) bool {
	switch status {
	case "unreviewed":
		return v.Review == nil || len(v.Review.Decisions) == 0
	case "suggested":
		return len(pendingSuggestions(v, nil)) > 0
	case "confirmed":
		for _, a := range v.State.Accepted {
			if a.Confirmed {
				return true
			}
		}
		return false
	case "claimed":
		for _, a := range v.State.Accepted {
			if !a.Confirmed {
				return true
			}
		}
		for _, t := range v.Tags {
			if _, acc := v.State.Accepted[t.KSB]; !acc && !t.IsRule() {
				return true
			}
		}
	}
	return false
}

func newItemsCommand(g *globals) *cobra.Command {
	var o itemsOptions
	cmd := &cobra.Command{
		Use:   "items [--ksb IDS] [--source NAME] [--status suggested|claimed|confirmed|unreviewed] [--json]",
		Short: "List the evidence items in the ledger",
		Long: `items lists stored evidence items, oldest first, with their tags as
reviewed (rejected KSBs left out, accepted ones added as review:<role>).
Items a review excluded or marked confidential are listed as such (the
REVIEW column; "excluded" and "confidential" in JSON). --json prints a JSON
array of items, each with its review decisions ("reviews"). Unreadable
items are reported on stderr and skipped (exit 3).

--status is the review queue: suggested (an unreviewed rule suggestion
waits), claimed (a KSB declared or accepted but not confirmed by a verified
reviewer), confirmed (a KSB a verified reviewer accepted) or unreviewed (no
decision at all). An item can be in several.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runItems(g, o) },
	}
	cmd.Flags().StringVar(&o.ksbs, "ksb", "", "only items tagged with one of these KSBs (comma-separated)")
	cmd.Flags().StringVar(&o.source, "source", "", "only items from this source")
	cmd.Flags().StringVar(&o.status, "status", "", "only items with this status: "+strings.Join(itemStatuses, ", "))
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

// readSnapshot reads the ledger once (items with their reviews applied),
// reporting unreadable objects on stderr.
func readSnapshot(g *globals, ws *workspace.Workspace) (*ledger.Snapshot, error) {
	snap, err := ws.Ledger.Snapshot(g.ctx, ledger.SnapshotOptions{Verifier: ws.Target.Reviewers})
	if err != nil {
		return nil, err
	}
	for _, c := range snap.Corrupt {
		fmt.Fprintln(g.stderr, "ksbfolio: skipped "+termsafe.String(c.Error()))
	}
	return snap, nil
}

// itemJSON is an item as `items --json` and `show --json` print it: the
// stored item with its tags as reviewed, whether a review excluded it or
// marked it confidential, every review decision as stored with its
// signature check, and the decisions that did not apply (evidence.Fold).
type itemJSON struct {
	evidence.Item
	Excluded     bool                `json:"excluded"`
	Confidential bool                `json:"confidential"`
	Reviews      []decisionJSON      `json:"reviews"`
	Conflicts    []evidence.Conflict `json:"conflicts"`
}

// decisionJSON is a stored decision with its signature_status (verified,
// unsigned, unknown_key, invalid, stale) and signature_detail.
type decisionJSON struct {
	evidence.Decision
	evidence.Check
}

func toJSON(v ledger.View) itemJSON {
	out := itemJSON{Item: v.Item, Excluded: v.Excluded, Confidential: v.Confidential, Reviews: []decisionJSON{},
		Conflicts: append([]evidence.Conflict{}, v.State.Conflicts...)}
	out.Tags = v.Tags
	if v.Review != nil {
		for i, d := range v.Review.Decisions {
			out.Reviews = append(out.Reviews, decisionJSON{Decision: d, Check: v.State.Checks[i]})
		}
	}
	return out
}

// reviewState names what a review made of an item, for the text listing.
func reviewState(v ledger.View) string {
	var s []string
	if v.Excluded {
		s = append(s, "excluded")
	}
	if v.Confidential {
		s = append(s, "confidential")
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

func runItems(g *globals, o itemsOptions) error {
	if o.status != "" && !contains(itemStatuses, o.status) {
		return usageErrorf("--status %q: want one of %s", o.status, strings.Join(itemStatuses, ", "))
	}
	ws, err := g.workspace("")
	if err != nil {
		return err
	}
	snap, err := readSnapshot(g, ws)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, k := range strings.Split(o.ksbs, ",") {
		if k = evidence.NormalizeKSB(k); k != "" {
			want[k] = true
		}
	}
	var out []ledger.View
	excluded, confidential := 0, 0
	for _, v := range snap.Views {
		if o.source != "" && v.Item.Source != o.source {
			continue
		}
		if len(want) > 0 && !hasAnyKSB(v.Tags, want) {
			continue
		}
		if o.status != "" && !hasStatus(v, o.status) {
			continue
		}
		out = append(out, v)
		if v.Excluded {
			excluded++
		}
		if v.Confidential {
			confidential++
		}
	}
	if o.json {
		js := make([]itemJSON, len(out))
		for i, v := range out {
			js[i] = toJSON(v)
		}
		if err := writeJSON(g.stdout, js); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tDATE\tKIND\tSOURCE\tKSBS\tREVIEW\tTITLE")
		for _, v := range out {
			it := v.Item
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", termsafe.String(it.ID), it.OccurredAt.UTC().Format("2006-01-02"),
				termsafe.String(string(it.Kind)), termsafe.String(it.Source), termsafe.String(ksbList(v.Tags)), reviewState(v), truncate(it.Title, 60))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		line := termsafe.Plural(len(out), "item", "items")
		var notes []string
		if excluded > 0 {
			notes = append(notes, fmt.Sprintf("%d excluded", excluded))
		}
		if confidential > 0 {
			notes = append(notes, fmt.Sprintf("%d confidential", confidential))
		}
		if len(notes) > 0 {
			line += " (" + strings.Join(notes, ", ") + ")"
		}
		fmt.Fprintln(g.stdout, line)
	}
	if len(snap.Corrupt) > 0 {
		return errPartial
	}
	return nil
}

func hasAnyKSB(tags []evidence.Tag, want map[string]bool) bool {
	for _, t := range tags {
		if want[t.KSB] {
			return true
		}
	}
	return false
}

// ksbList prints a tag list compactly: declared or accepted KSBs plain,
// rule suggestions with a trailing "?".
func ksbList(tags []evidence.Tag) string {
	best := map[string]bool{} // KSB → firm
	var order []string
	for _, t := range tags {
		firm := !t.IsRule()
		if _, ok := best[t.KSB]; !ok {
			order = append(order, t.KSB)
		}
		best[t.KSB] = best[t.KSB] || firm
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = k
		if !best[k] {
			parts[i] += "?"
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

// truncate folds s onto one line, cuts it to n runes and escapes what a
// terminal would act on (termsafe.String): it is for text from sources.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return termsafe.String(s)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

type itemsOptions struct {
	ksbs   string
	source string
	json   bool
}

func newItemsCommand(g *globals) *cobra.Command {
	var o itemsOptions
	cmd := &cobra.Command{
		Use:   "items [--ksb IDS] [--source NAME] [--json]",
		Short: "List the evidence items in the ledger",
		Long: `items lists stored evidence items, oldest first, with their tags as
reviewed (rejected KSBs left out, accepted ones added as review:<role>).
--json prints a JSON array of items. Unreadable items are reported on stderr
and skipped (exit 3).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runItems(g, o) },
	}
	cmd.Flags().StringVar(&o.ksbs, "ksb", "", "only items tagged with one of these KSBs (comma-separated)")
	cmd.Flags().StringVar(&o.source, "source", "", "only items from this source")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

// viewItems loads the ledger's items with their reviews applied to tags.
func viewItems(g *globals, ws *pipeline.Workspace) ([]evidence.Item, map[string]*evidence.Review, []string, error) {
	items, reviews, corrupt, err := pipeline.LoadLedger(g.ctx, ws.Ledger)
	if err != nil {
		return nil, nil, nil, err
	}
	for i := range items {
		items[i].Tags = evidence.Reviewed(items[i], reviews[items[i].ID])
		if items[i].Tags == nil {
			items[i].Tags = []evidence.Tag{}
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].OccurredAt.Equal(items[j].OccurredAt) {
			return items[i].OccurredAt.Before(items[j].OccurredAt)
		}
		return items[i].ID < items[j].ID
	})
	for _, c := range corrupt {
		fmt.Fprintln(g.stderr, "ksbfolio: skipped "+termsafe.String(c))
	}
	return items, reviews, corrupt, nil
}

func runItems(g *globals, o itemsOptions) error {
	ws, err := g.workspace("")
	if err != nil {
		return err
	}
	items, _, corrupt, err := viewItems(g, ws)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, k := range strings.Split(o.ksbs, ",") {
		if k = evidence.NormalizeKSB(k); k != "" {
			want[k] = true
		}
	}
	out := []evidence.Item{}
	for _, it := range items {
		if o.source != "" && it.Source != o.source {
			continue
		}
		if len(want) > 0 && !hasAnyKSB(it, want) {
			continue
		}
		out = append(out, it)
	}
	if o.json {
		if err := writeJSON(g.stdout, out); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tDATE\tKIND\tSOURCE\tKSBS\tTITLE")
		for _, it := range out {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", termsafe.String(it.ID), it.OccurredAt.UTC().Format("2006-01-02"),
				termsafe.String(string(it.Kind)), termsafe.String(it.Source), termsafe.String(ksbList(it.Tags)), truncate(it.Title, 60))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, termsafe.Plural(len(out), "item", "items"))
	}
	if len(corrupt) > 0 {
		return errPartial
	}
	return nil
}

func hasAnyKSB(it evidence.Item, want map[string]bool) bool {
	for _, t := range it.Tags {
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

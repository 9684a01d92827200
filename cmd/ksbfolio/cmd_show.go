package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

func newShowCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ITEM [--json]",
		Short: "Show one evidence item (by ID, a unique ID prefix, or its commit SHA / native ID prefix)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := g.workspace("")
			if err != nil {
				return err
			}
			it, rv, err := resolveItem(g, ws, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(g.stdout, it)
			}
			printItem(g, it, rv)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// resolveItem finds one item with its review applied to its tags. An exact
// ID is read directly; a prefix or native ID needs the whole ledger.
func resolveItem(g *globals, ws *pipeline.Workspace, ref string) (evidence.Item, *evidence.Review, error) {
	if evidence.ValidID(ref) {
		it, err := ws.Ledger.GetItem(g.ctx, ref)
		if err == nil {
			rv, err := ws.Ledger.Review(g.ctx, ref)
			if err != nil {
				return evidence.Item{}, nil, err
			}
			it.Tags = evidence.Reviewed(*it, rv)
			if it.Tags == nil {
				it.Tags = []evidence.Tag{}
			}
			return *it, rv, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return evidence.Item{}, nil, err
		}
	}
	items, reviews, _, err := viewItems(g, ws)
	if err != nil {
		return evidence.Item{}, nil, err
	}
	it, err := findItem(items, ref)
	return it, reviews[it.ID], err
}

// findItem resolves ref: an exact item ID, a unique prefix of one (at least
// 6 characters after the type), or a unique prefix (at least 7) of a native
// ID such as a commit SHA.
func findItem(items []evidence.Item, ref string) (evidence.Item, error) {
	var byPrefix, byNative []evidence.Item
	for _, it := range items {
		if it.ID == ref {
			return it, nil
		}
		if len(ref) >= 10 && strings.HasPrefix(it.ID, ref) {
			byPrefix = append(byPrefix, it)
		}
		if len(ref) >= 7 && strings.HasPrefix(it.Origin.NativeID, ref) {
			byNative = append(byNative, it)
		}
	}
	for _, m := range [][]evidence.Item{byPrefix, byNative} {
		switch len(m) {
		case 0:
		case 1:
			return m[0], nil
		default:
			ids := make([]string, 0, len(m))
			for _, it := range m {
				ids = append(ids, it.ID)
			}
			return evidence.Item{}, withCode(exitError, fmt.Errorf("item %q is ambiguous: %s", ref, strings.Join(ids, ", ")))
		}
	}
	return evidence.Item{}, withCode(exitError, fmt.Errorf("no item %q in the ledger (ksbfolio items lists them)", ref))
}

// printItem writes the item for a person; every string from the item or
// its review passes termsafe.String (q) on its way out.
func printItem(g *globals, it evidence.Item, rv *evidence.Review) {
	w := g.stdout
	q := termsafe.String
	fmt.Fprintf(w, "%s\n%s\n\n", q(it.ID), q(it.Title))
	fmt.Fprintf(w, "kind:        %s\nsource:      %s (%s)\noccurred:    %s\ncollected:   %s\norigin:      %s %s\n",
		q(string(it.Kind)), q(it.Source), q(it.SourceType), it.OccurredAt.UTC().Format("2006-01-02 15:04 MST"),
		it.CollectedAt.UTC().Format("2006-01-02 15:04 MST"), q(it.Origin.URI), q(it.Origin.NativeID))
	if it.Summary != "" {
		fmt.Fprintf(w, "\n%s\n", q(it.Summary))
	}
	fmt.Fprintln(w, "\ntags:")
	if len(it.Tags) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, t := range it.Tags {
		fmt.Fprintf(w, "  %-4s %-24s %.2f  %s\n", q(t.KSB), q(t.By), t.Confidence, q(t.Reason))
	}
	if len(it.Artefacts) > 0 {
		fmt.Fprintln(w, "\nartefacts:")
		for _, a := range it.Artefacts {
			fmt.Fprintf(w, "  %s  %d bytes  %s  sha256:%s\n", q(a.Name), a.Size, q(a.MediaType), q(a.SHA256))
		}
	}
	if len(it.Redactions) > 0 {
		fmt.Fprintln(w, "\nredacted:")
		for _, r := range it.Redactions {
			fmt.Fprintf(w, "  %s × %d\n", q(r.Rule), r.Count)
		}
	}
	if len(it.Facts) > 0 {
		fmt.Fprintln(w, "\nfacts:")
		keys := make([]string, 0, len(it.Facts))
		for k := range it.Facts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b, _ := json.Marshal(it.Facts[k])
			fmt.Fprintf(w, "  %s: %s\n", q(k), truncate(string(b), 200))
		}
	}
	if rv != nil && len(rv.Decisions) > 0 {
		fmt.Fprintln(w, "\nreviews:")
		for _, d := range rv.Decisions {
			fmt.Fprintf(w, "  %s %s (%s):", d.At.UTC().Format("2006-01-02 15:04"), q(d.By), q(d.Role))
			if len(d.Accept) > 0 {
				fmt.Fprintf(w, " accept %s", q(strings.Join(d.Accept, ",")))
			}
			if len(d.Reject) > 0 {
				fmt.Fprintf(w, " reject %s", q(strings.Join(d.Reject, ",")))
			}
			if d.Exclude != nil {
				fmt.Fprintf(w, " exclude=%v", *d.Exclude)
			}
			if d.Confidential != nil {
				fmt.Fprintf(w, " confidential=%v", *d.Confidential)
			}
			if d.Note != "" {
				fmt.Fprintf(w, " — %s", q(d.Note))
			}
			fmt.Fprintln(w)
		}
	}
}

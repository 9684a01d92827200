package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

func newStandardCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "standard list | show ID | import FILE",
		Short: "KSB catalogues: built-in and imported",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("standard needs a subcommand: list, show or import")
		},
	}
	cmd.AddCommand(newStandardListCommand(g), newStandardShowCommand(g), newStandardImportCommand(g))
	return cmd
}

// catalogueStore opens the store of the config if there is one, else the
// default folder store in the current directory (or none if it does not
// exist and create is false).
func (g *globals) catalogueStore(create bool) (store.Store, error) {
	cfg, err := g.loadConfig()
	if err == nil {
		s, err := pipeline.OpenStore(g.ctx, cfg.Store, cfg.Dir)
		return s, setupCode(err)
	}
	var ee *exitErr
	if !errors.As(err, &ee) || ee.code != exitUsage || g.configPath != "ksbfolio.yaml" {
		return nil, err
	}
	// No config: fall back to the default store here.
	if _, statErr := os.Stat(pipeline.DefaultStore); statErr != nil && !create {
		return nil, nil
	}
	return pipeline.OpenStore(g.ctx, "", ".")
}

func newStandardListCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in and imported catalogues",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := g.catalogueStore(false)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(termsafe.Writer(g.stdout), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tWHERE\tSTANDARD\tKSBS\tCOMPLETE")
			for _, c := range ksb.Builtin() {
				printCatalogueRow(tw, c, "built-in")
			}
			if s != nil {
				ids, err := ledger.StandardIDs(g.ctx, s)
				if err != nil {
					return err
				}
				for _, id := range ids {
					c, err := pipeline.LoadCatalogue(g.ctx, id, s, ".")
					if err != nil {
						fmt.Fprintf(tw, "%s\timported\t(unreadable: %s)\t\t\n", id, err)
						continue
					}
					printCatalogueRow(tw, c, "imported")
				}
			}
			return tw.Flush()
		},
	}
}

func printCatalogueRow(w *tabwriter.Writer, c *ksb.Catalogue, where string) {
	k, s, b := c.Counts()
	total := fmt.Sprintf("%d (%s)", len(c.KSBs), kindCounts(k, s, b))
	if c.TotalKSBs > 0 {
		total = fmt.Sprintf("%d of %d (%s)", len(c.KSBs), c.TotalKSBs, kindCounts(k, s, b))
	}
	complete := "no"
	if c.Complete {
		complete = "yes"
	}
	fmt.Fprintf(w, "%s\t%s\t%s %s v%s\t%s\t%s\n", c.ID, where, c.Reference, c.Title, c.Version, total, complete)
}

func newStandardShowCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Print every KSB of a catalogue, with its provenance",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.catalogueStore(false)
			if err != nil {
				return err
			}
			c, err := pipeline.LoadCatalogue(g.ctx, args[0], s, ".")
			if err != nil {
				return setupCode(err)
			}
			if asJSON {
				return writeJSON(g.stdout, c)
			}
			w := termsafe.Writer(g.stdout) // an imported catalogue's text is from a file
			fmt.Fprintf(w, "%s — %s %s, version %s", c.ID, c.Reference, c.Title, c.Version)
			if c.Level > 0 {
				fmt.Fprintf(w, ", level %d", c.Level)
			}
			fmt.Fprintln(w)
			if !c.Complete {
				fmt.Fprintf(w, "INCOMPLETE: %d KSBs known", len(c.KSBs))
				if c.TotalKSBs > 0 {
					fmt.Fprintf(w, " of %d", c.TotalKSBs)
				}
				fmt.Fprintln(w, "; import the official list with `ksbfolio standard import`.")
			}
			if c.Provenance != "" {
				fmt.Fprintf(w, "provenance: %s\n", strings.TrimSpace(c.Provenance))
			}
			for _, n := range c.Notes {
				fmt.Fprintf(w, "note: %s\n", n)
			}
			fmt.Fprintln(w)
			for _, k := range c.KSBs {
				fmt.Fprintf(w, "%-4s %-9s %s\n", k.ID, k.Kind, k.Display())
				var prov []string
				if k.Source != "" {
					prov = append(prov, "source: "+k.Source)
				}
				if k.Confidence != "" {
					prov = append(prov, "confidence: "+k.Confidence)
				}
				if k.Note != "" {
					prov = append(prov, "note: "+k.Note)
				}
				if len(prov) > 0 {
					fmt.Fprintf(w, "               (%s)\n", strings.Join(prov, "; "))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newStandardImportCommand(g *globals) *cobra.Command {
	var o ksb.ImportOptions
	var complete bool
	cmd := &cobra.Command{
		Use:   "import FILE [--id ID] [--title T] [--reference ST1398] [--version V] [--complete]",
		Short: "Import a KSB catalogue: the official list pasted as text, a YAML catalogue, or the standards API's JSON",
		Long: `import reads FILE (the format is detected): the official KSB list pasted as
text, one "K1: statement" / "S1 statement" / "B1 - statement" per line
(bullets, headings, blank and wrapped lines are fine; --id is then required),
a YAML catalogue, or the standards API's JSON. The catalogue is stored in the
ledger's store under standards/<id>.yaml; select it with standard: <id> in
the config, then run ksbfolio retag. --complete asserts that the file holds
every KSB of the standard (only then can gateway readiness be judged).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return withCode(exitError, fmt.Errorf("standard import: %w", err)) // names the path
			}
			if cmd.Flags().Changed("complete") {
				o.Complete = &complete
			}
			c, err := ksb.Parse(args[0], data, o)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("import %s: %w", args[0], err))
			}
			for _, b := range ksb.BuiltinIDs() {
				if b == c.ID {
					return usageErrorf("import %s: %q is the ID of a built-in catalogue; choose another with --id", args[0], c.ID)
				}
			}
			out, err := ksb.Marshal(c)
			if err != nil {
				return err
			}
			s, err := g.catalogueStore(true)
			if err != nil {
				return err
			}
			if err := ledger.PutStandard(g.ctx, s, c.ID, out); err != nil {
				return err
			}
			k, sk, b := c.Counts()
			fmt.Fprintf(g.stdout, "imported %s into %s: %d KSBs (%s), complete: %v\nselect it with `standard: %s` in the config, then run `ksbfolio retag`\n",
				c.ID, s, len(c.KSBs), kindCounts(k, sk, b), c.Complete, c.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ID, "id", "", "catalogue ID, e.g. st1398-v1.0-official (required for pasted text)")
	f.StringVar(&o.Title, "title", "", "standard title")
	f.StringVar(&o.Reference, "reference", "", "standard reference, e.g. ST1398")
	f.StringVar(&o.Version, "version", "", "standard version, e.g. 1.0")
	f.BoolVar(&complete, "complete", false, "the file holds every KSB of the standard")
	return cmd
}

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
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
		s, err := workspace.OpenStore(g.ctx, cfg.Store, cfg.Dir)
		return s, setupCode(err)
	}
	var ee *exitErr
	if !errors.As(err, &ee) || ee.code != exitUsage || g.configPath != "ksbfolio.yaml" {
		return nil, err
	}
	// No config: fall back to the default store here.
	if _, statErr := os.Stat(workspace.DefaultStore); statErr != nil && !create {
		return nil, nil
	}
	return workspace.OpenStore(g.ctx, "", ".")
}

func newStandardListCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in and imported catalogues, and each standard's version log",
		Long: `list prints every catalogue (built-in, then imported into the store), then
the version log of each standard: which version applies to which
apprenticeship starts, and which catalogue holds it.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := g.catalogueStore(false)
			if err != nil {
				return err
			}
			cats := ksb.Builtin()
			where := map[string]string{}
			for _, c := range cats {
				where[c.ID] = "built-in"
			}
			tw := tabwriter.NewWriter(termsafe.Writer(g.stdout), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tWHERE\tSTANDARD\tKSBS\tCOMPLETE\tREVISION")
			if s != nil {
				ids, err := ledger.StandardIDs(g.ctx, s)
				if err != nil {
					return err
				}
				for _, id := range ids {
					c, err := workspace.LoadCatalogue(g.ctx, id, s, ".")
					if err != nil {
						fmt.Fprintf(g.stderr, "ksbfolio: imported catalogue %s is unreadable: %v\n", id, err)
						continue
					}
					if where[c.ID] == "" {
						where[c.ID] = "imported"
						cats = append(cats, c)
					}
				}
			}
			for _, c := range cats {
				printCatalogueRow(tw, c, where[c.ID])
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			printVersionLogs(termsafe.Writer(g.stdout), cats)
			return nil
		},
	}
}

func printCatalogueRow(w *tabwriter.Writer, c *ksb.Catalogue, where string) {
	k, s, b := c.Counts()
	total := fmt.Sprintf("%d (%s)", len(c.KSBs), kindCounts(k, s, b))
	if c.TotalKSBs > 0 && c.TotalKSBs != len(c.KSBs) {
		total = fmt.Sprintf("%d of %d (%s)", len(c.KSBs), c.TotalKSBs, kindCounts(k, s, b))
	}
	complete := "no"
	if c.Complete {
		complete = "yes"
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", flat(c.ID), where, flat(c.Reference+" "+c.Title+" v"+c.Version), total, complete, c.Revision())
}

// printVersionLogs writes, for each standard whose catalogues carry a
// version log, which version applies to which starts and which of cats
// holds it.
func printVersionLogs(w io.Writer, cats []*ksb.Catalogue) {
	done := map[string]bool{}
	for _, c := range cats {
		if len(c.VersionLog) == 0 || done[c.Reference] {
			continue
		}
		done[c.Reference] = true
		held := map[int][]string{}
		for _, o := range cats {
			if o.Reference == c.Reference {
				if i := ksb.MatchVersion(c.VersionLog, o.Version); i >= 0 {
					held[i] = append(held[i], o.ID)
				}
			}
		}
		fmt.Fprintf(w, "\n%s version log (from %s):\n", flat(c.Reference), c.ID)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for i, e := range c.VersionLog {
			have := "catalogue: " + strings.Join(held[i], ", ")
			if len(held[i]) == 0 {
				have = fmt.Sprintf("its KSB list is not known yet: when published, import it with `ksbfolio standard import FILE --id %s-v%s`",
					strings.ToLower(c.Reference), nextMajor(c.VersionLog))
			}
			fmt.Fprintf(tw, "  %s\tstarts %s\t%s\t%s\n", flat(e.Version), startSpan(e), flat(e.Change), have)
		}
		tw.Flush()
	}
}

// startSpan writes a log entry's starts: "2024-12-18 to 2026-12-10", "from
// 2026-12-11".
func startSpan(e ksb.VersionEntry) string {
	_, fromErr := time.Parse(time.DateOnly, e.EarliestStart)
	_, toErr := time.Parse(time.DateOnly, e.LatestStart)
	switch {
	case fromErr == nil && toErr == nil:
		return e.EarliestStart + " to " + e.LatestStart
	case fromErr == nil:
		return "from " + e.EarliestStart
	case toErr == nil:
		return "until " + e.LatestStart
	}
	return "(dates not given)"
}

// nextMajor is the version after the log's highest numbered one: "2.0"
// after "1.0".
func nextMajor(log []ksb.VersionEntry) string {
	major := 0
	for _, e := range log {
		var n int
		if _, err := fmt.Sscanf(e.Version, "%d", &n); err == nil && n > major {
			major = n
		}
	}
	return fmt.Sprintf("%d.0", major+1)
}

func newStandardShowCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Print a catalogue: its provenance and licence, facts, version log, assessment methods, duties and every KSB",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.catalogueStore(false)
			if err != nil {
				return err
			}
			c, err := workspace.LoadCatalogue(g.ctx, args[0], s, ".")
			if err != nil {
				return setupCode(err)
			}
			if asJSON {
				return writeJSON(g.stdout, struct {
					Revision string `json:"revision"`
					*ksb.Catalogue
				}{c.Revision(), c})
			}
			return writeCatalogue(termsafe.Writer(g.stdout), c) // an imported catalogue's text is from a file
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// writeCatalogue prints a catalogue for a person. Every KSB's statement is
// printed whole, on one line.
func writeCatalogue(w io.Writer, c *ksb.Catalogue) error {
	ew := &termsafe.ErrWriter{W: w}
	fmt.Fprintf(ew, "%s — %s %s, version %s", flat(c.ID), flat(c.Reference), flat(c.Title), flat(c.Version))
	if c.Level > 0 {
		fmt.Fprintf(ew, ", level %d", c.Level)
	}
	fmt.Fprintln(ew)
	k, sk, b := c.Counts()
	if c.Complete {
		fmt.Fprintf(ew, "complete: all %d KSBs of the standard (%s); revision %s\n", len(c.KSBs), kindCounts(k, sk, b), c.Revision())
	} else {
		fmt.Fprintf(ew, "INCOMPLETE: %d KSBs known", len(c.KSBs))
		if c.TotalKSBs > 0 {
			fmt.Fprintf(ew, " of %d", c.TotalKSBs)
		}
		fmt.Fprintf(ew, " (%s); revision %s; readiness is never judged against it\n", kindCounts(k, sk, b), c.Revision())
	}
	if c.Licence != "" {
		fmt.Fprintf(ew, "licence: %s\n", flat(c.Licence))
	}
	if p := strings.TrimSpace(c.Provenance); p != "" {
		fmt.Fprintln(ew, "provenance:")
		for line := range strings.SplitSeq(p, "\n") {
			fmt.Fprintf(ew, "  %s\n", flat(line))
		}
	}
	for _, n := range c.Notes {
		fmt.Fprintf(ew, "note: %s\n", flat(n))
	}
	if len(c.Facts) > 0 {
		fmt.Fprintln(ew, "\nFacts:")
		for _, f := range c.Facts {
			fmt.Fprintf(ew, "  %s: %s\n", flat(f.Name), flat(f.Value))
		}
	}
	if len(c.VersionLog) > 0 {
		fmt.Fprintln(ew, "\nVersion log:")
		for _, e := range c.VersionLog {
			fmt.Fprintf(ew, "  %s: starts %s — %s\n", flat(e.Version), startSpan(e), flat(e.Change))
		}
	}
	if len(c.Methods) > 0 {
		fmt.Fprintln(ew, "\nAssessment methods:")
		for _, m := range c.Methods {
			fmt.Fprintf(ew, "  %s (%s): %d KSBs\n", flat(m.ID), flat(m.Name), len(c.AssessedBy(m.ID)))
			for _, th := range m.Themes {
				var ids []string
				for _, k := range c.KSBs {
					if k.GradeTheme == th && slices.Contains(k.Methods, m.ID) {
						ids = append(ids, k.ID)
					}
				}
				fmt.Fprintf(ew, "    %s: %s\n", flat(th), strings.Join(ids, " "))
			}
			for _, d := range m.Distinction {
				fmt.Fprintf(ew, "    distinction: %s\n", flat(d))
			}
		}
	}
	duties := map[string][]string{}
	if len(c.Duties) > 0 {
		fmt.Fprintln(ew, "\nDuties:")
		for _, d := range c.Duties {
			fmt.Fprintf(ew, "  %s: %s\n", flat(d.ID), flat(d.Text))
			if len(d.KSBs) > 0 {
				fmt.Fprintf(ew, "      KSBs: %s\n", strings.Join(d.KSBs, " "))
			}
			for _, k := range d.KSBs {
				duties[k] = append(duties[k], d.ID)
			}
		}
	}
	fmt.Fprintln(ew, "\nKSBs:")
	for _, k := range c.KSBs {
		var about []string
		if len(k.Methods) > 0 {
			about = append(about, strings.Join(k.Methods, ", "))
		}
		if k.GradeTheme != "" {
			about = append(about, k.GradeTheme)
		}
		if len(duties[k.ID]) > 0 {
			about = append(about, "duties "+strings.Join(duties[k.ID], " "))
		}
		for _, p := range []struct{ name, v string }{{"source", k.Source}, {"confidence", k.Confidence}, {"note", k.Note}} {
			if p.v != "" {
				about = append(about, p.name+": "+p.v)
			}
		}
		fmt.Fprintf(ew, "%-4s %-9s %s\n", flat(k.ID), flat(k.Kind), flat(strings.Join(about, " · ")))
		fmt.Fprintf(ew, "     %s\n", flat(k.Statement))
	}
	return ew.Err
}

// flat folds white space, so that catalogue text cannot break a line.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

func newStandardImportCommand(g *globals) *cobra.Command {
	var o ksb.ImportOptions
	var complete bool
	cmd := &cobra.Command{
		Use:   "import FILE [--id ID] [--title T] [--reference ST1398] [--version V] [--complete]",
		Short: "Import a KSB catalogue: the official list pasted as text, a YAML catalogue, or the standards API's JSON",
		Long: `import reads FILE (the format is detected): the official KSB list pasted as
text, one "K1: statement" / "S1 statement" / "B1 - statement" per line
(bullets, headings, blank and wrapped lines are fine; --id is then required,
and an ID such as st1398-v2.0 also gives the reference and version), a YAML
catalogue (ours, or the reference list's shape), or the standards API's
JSON. The catalogue is stored in the ledger's store under
standards/<id>.yaml, beside the built-in st1398-v1.0; select it with
standard: <id> in the config, then run ksbfolio retag. --complete asserts
that the file holds every KSB of the standard (only then can gateway
readiness be judged).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return withCode(exitError, err)
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
			fmt.Fprintf(termsafe.Writer(g.stdout), "imported %s into %s: %d KSBs (%s), complete: %v\nselect it with `standard: %s` in the config, then run `ksbfolio retag`\n",
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

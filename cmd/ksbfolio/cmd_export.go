package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence/workbook"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

func newExportCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the portfolio in other formats (xlsx: the assessor workbook)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("export needs a format: ksbfolio export xlsx -o FILE")
		},
	}
	cmd.AddCommand(newExportXLSXCommand(g))
	return cmd
}

func newExportXLSXCommand(g *globals) *cobra.Command {
	var out string
	var showConfidential bool
	cmd := &cobra.Command{
		Use:   "xlsx -o FILE [--show-confidential]",
		Short: "Write the assessor workbook (Summary, Matrix, Evidence, Gaps, Review)",
		Long: `export xlsx writes the assessor workbook on its own: Summary (figures and
a coverage chart), Matrix (KSB rows × evidence columns, coloured by status),
Evidence (every field of every item, with links to the item's folder in the
pack, evidence/NN-<slug>/, and to its web page), Gaps, and Review, whose
Accept, Reject, Exclude, Reviewer, Role and Note columns
ksbfolio review import reads back (by header). Evidence and Review also
list each item's decisions that did not apply, in show's words. Source text is always a text cell,
never a formula. Items a review marked confidential are listed as withheld
(ID, kind, source, dates, KSBs; no title, summary, facts or links) unless
--show-confidential. The file is written whole or not at all.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf("export xlsx needs -o FILE")
			}
			ws, err := g.workspace("")
			if err != nil {
				return err
			}
			snap, err := readSnapshot(g, ws)
			if err != nil {
				return err
			}
			rep := pipeline.SnapshotCoverage(snap, ws.Catalogue, ws.Target, ws.Now())
			if err := writeFileAtomic(out, func(f *os.File) error {
				return workbook.Write(f, workbook.Input{Snapshot: snap, Coverage: rep, ShowConfidential: showConfidential})
			}); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "wrote %s: %d items, %d KSBs\n", out, len(snap.Views), len(rep.KSBs))
			if len(snap.Corrupt) > 0 {
				return errPartial
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the .xlsx file to write")
	cmd.Flags().BoolVar(&showConfidential, "show-confidential", false, "write the content of items marked confidential")
	return cmd
}

// writeFileAtomic writes path through a temporary file in its folder,
// renamed into place only when write succeeds: a failure leaves any old
// file untouched and no partial one.
func writeFileAtomic(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

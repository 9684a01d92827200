package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/workbook"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

func newReviewImportCommand(g *globals) *cobra.Command {
	var allowUnknown bool
	var signKey string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "import FILE.xlsx",
		Short: "Record the decisions filled in on a workbook's Review sheet",
		Long: `review import reads the Review sheet of a workbook from ksbfolio export
xlsx and records one decision per row that has something in Accept, Reject
(KSB IDs, comma-separated), Exclude (yes or no) or Note, made by the row's
Reviewer in its Role (default apprentice; an empty Reviewer is the
apprentice's name, and is required for any other role). Without --sign-key
the decisions are unsigned, so a coach's, employer's or assessor's
acceptance counts as claimed, not confirmed. With --sign-key FILE every row
is signed with that key, and a row whose Reviewer and Role are not those the
config lists for the key is not applied. Each row that
cannot be applied is reported with its row number and why (exit 1); the
others are recorded. Importing the same file again records nothing twice.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReviewImport(g, args[0], signKey, allowUnknown, wait)
		},
	}
	cmd.Flags().BoolVar(&allowUnknown, "allow-unknown", false, "accept KSBs the catalogue lacks")
	cmd.Flags().StringVar(&signKey, "sign-key", "", "sign every decision with this private key (from ksbfolio keygen); rows must name its configured reviewer")
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for another run on the same apprentice")
	return cmd
}

// maxWorkbookBytes bounds the workbook review import reads.
const maxWorkbookBytes = 512 << 20

// importedDecision is a Review-sheet row turned into a decision.
type importedDecision struct {
	row workbook.ReviewRow
	it  evidence.Item
	d   evidence.Decision
}

func runReviewImport(g *globals, path, signKey string, allowUnknown bool, wait time.Duration) error {
	st, err := os.Stat(path)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("read workbook: %w", err))
	}
	if !st.Mode().IsRegular() || st.Size() > maxWorkbookBytes {
		return usageErrorf("%s: not a regular file of at most %d MiB", path, maxWorkbookBytes>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("read workbook: %w", err))
	}
	rows, err := workbook.ReadReview(bytes.NewReader(data))
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("%s: %w", path, err))
	}
	ws, err := g.workspace("")
	if err != nil {
		return err
	}
	snap, err := readSnapshot(g, ws)
	if err != nil {
		return err
	}
	var key ed25519.PrivateKey
	if signKey != "" {
		if key, err = workspace.ReadPrivateKey(signKey); err != nil {
			return withCode(exitUsage, err)
		}
	}
	sum := sha256.Sum256(data)
	decisions, failed := importDecisions(ws, snap, rows, hex.EncodeToString(sum[:]), key, allowUnknown)
	report := func(row workbook.ReviewRow, why string) {
		fmt.Fprintf(g.stderr, "ksbfolio: row %d (item %s) not applied: %s\n", row.Row, termsafe.String(row.Item), termsafe.String(why))
	}
	for _, f := range failed {
		report(f.row, f.why)
	}
	unconfirmed := 0
	err = g.hold(ws, "review", wait, func(ctx context.Context) error {
		recorded := 0
		for _, x := range decisions {
			if _, err := ws.Ledger.AddDecision(ctx, x.it.ID, x.d); err != nil {
				return fmt.Errorf("after %d of %d decisions: %w", recorded, len(decisions), err)
			}
			recorded++
			if x.d.Role != evidence.RoleApprentice && x.d.Signature == "" && len(x.d.Accept)+len(x.d.Reject) > 0 {
				unconfirmed++
			}
		}
		fmt.Fprintf(g.stdout, "recorded %s from %s", termsafe.Plural(recorded, "decision", "decisions"), termsafe.String(path))
		if len(failed) > 0 {
			fmt.Fprintf(g.stdout, "; %s not applied", termsafe.Plural(len(failed), "row", "rows"))
		}
		fmt.Fprintln(g.stdout)
		if recorded > 0 {
			updateCoverage(ctx, g, ws)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if unconfirmed > 0 {
		g.warnf("%s by a coach, employer or assessor %s unsigned: they count as claimed, not confirmed (use review --sign-key to confirm)",
			termsafe.Plural(unconfirmed, "decision", "decisions"), map[bool]string{true: "is", false: "are"}[unconfirmed == 1])
	}
	if len(failed) > 0 || len(snap.Corrupt) > 0 {
		return errPartial
	}
	return nil
}

type failedRow struct {
	row workbook.ReviewRow
	why string
}

// importDecisions turns rows into decisions, checking each as review does;
// fileHash makes each decision's ID (file and row), so that importing the
// same file again records nothing twice.
// With key, each decision is signed, and rows whose reviewer and role
// the config does not list for key fail.
func importDecisions(ws *workspace.Workspace, snap *ledger.Snapshot, rows []workbook.ReviewRow, fileHash string, key ed25519.PrivateKey, allowUnknown bool) ([]importedDecision, []failedRow) {
	byID := make(map[string]*evidence.Item, len(snap.Views))
	for i := range snap.Views {
		byID[snap.Views[i].Item.ID] = &snap.Views[i].Item
	}
	var out []importedDecision
	var failed []failedRow
	for _, row := range rows {
		d, it, why := importRow(ws, byID, row, allowUnknown)
		if why != "" {
			failed = append(failed, failedRow{row, why})
			continue
		}
		id := sha256.Sum256([]byte(fileHash + "\x00" + strconv.Itoa(row.Row) + "\x00" + row.Item))
		d.ID = hex.EncodeToString(id[:16])
		d.At = ws.Now().UTC()
		d.ItemHash = evidence.ContentHash(*it)
		if key != nil {
			if !keyOf(ws, key, d.By, d.Role) {
				failed = append(failed, failedRow{row, fmt.Sprintf("--sign-key is not the key the config lists for %s as %s", d.By, d.Role)})
				continue
			}
			d = evidence.Sign(it.ID, d.ItemHash, d, key)
		}
		out = append(out, importedDecision{row: row, it: *it, d: d})
	}
	return out, failed
}

// importRow checks one row; why says what is wrong with it ("" if
// nothing).
func importRow(ws *workspace.Workspace, byID map[string]*evidence.Item, row workbook.ReviewRow, allowUnknown bool) (d evidence.Decision, it *evidence.Item, why string) {
	if row.Item == "" {
		return d, nil, "no item ID in the Item column"
	}
	it = byID[row.Item]
	if it == nil {
		return d, nil, "no such item in the ledger"
	}
	accept, err := splitKSBs(row.Accept)
	if err != nil {
		return d, nil, "accept: " + err.Error()
	}
	reject, err := splitKSBs(row.Reject)
	if err != nil {
		return d, nil, "reject: " + err.Error()
	}
	for _, a := range accept {
		if contains(reject, a) {
			return d, nil, a + " is both accepted and rejected"
		}
	}
	if !allowUnknown {
		var unknown []string
		for _, k := range accept {
			if _, ok := ws.Catalogue.Lookup(k); !ok {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			return d, nil, fmt.Sprintf("catalogue %s has no %s (pass --allow-unknown to record it anyway)", ws.Catalogue.ID, strings.Join(unknown, ", "))
		}
	}
	exclude, err := workbook.ParseExclude(row.Exclude)
	if err != nil {
		return d, nil, err.Error()
	}
	role := strings.ToLower(row.Role)
	if role == "" {
		role = evidence.RoleApprentice
	}
	if !evidence.ValidRole(role) {
		return d, nil, fmt.Sprintf("role %q: want one of %s", row.Role, strings.Join(evidence.Roles, ", "))
	}
	by := row.Reviewer
	if by == "" {
		if role != evidence.RoleApprentice {
			return d, nil, "a " + role + "'s decision needs the reviewer's name in the Reviewer column"
		}
		by = ws.Apprentice.Name
		if by == "" {
			by = ws.Apprentice.ID
		}
	}
	return evidence.Decision{By: by, Role: role, Accept: accept, Reject: reject, Exclude: exclude, Note: row.Note}, it, ""
}

// keyOf reports whether the config lists key's public half for the
// reviewer by in role.
func keyOf(ws *workspace.Workspace, key ed25519.PrivateKey, by, role string) bool {
	pub := key.Public().(ed25519.PublicKey)
	for _, c := range ws.Target.Reviewers.Reviewers() {
		if c.Name == by && c.Role == role && c.Key.Equal(pub) {
			return true
		}
	}
	return false
}

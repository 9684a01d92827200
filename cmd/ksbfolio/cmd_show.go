package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

type showOptions struct {
	json     bool
	artefact string
	out      string
	force    bool
}

func newShowCommand(g *globals) *cobra.Command {
	var o showOptions
	cmd := &cobra.Command{
		Use:   "show ITEM [--json] [--artefact NAME -o FILE [--force]]",
		Short: "Show one evidence item (by ID, a unique ID prefix, or its commit SHA / native ID prefix)",
		Long: `show prints one item with its tags as reviewed, its artefacts and its
review decisions. ITEM is an item ID, a unique prefix of one (at least 10
characters), or a unique prefix (at least 7) of its native ID, such as a
commit SHA. It lists the item's links and the items linking to it (a
commit shows the runs trained from it and the deployments that name it).
--json prints the item with "excluded", "confidential", its "reviews" and
its "backlinks". --artefact NAME -o FILE writes that artefact back out, checked
against its SHA-256 (-o - writes it to stdout); an existing FILE is
replaced only with --force.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.artefact == "" && o.out != "" {
				return usageErrorf("-o names where --artefact is written; give --artefact NAME too")
			}
			if o.artefact != "" && o.out == "" {
				return usageErrorf("--artefact needs -o FILE (or -o - for stdout)")
			}
			ws, err := g.workspace("")
			if err != nil {
				return err
			}
			if o.artefact != "" {
				v, err := resolveView(g, ws, args[0])
				if err != nil {
					return err
				}
				return writeArtefact(g, ws, v.Item, o)
			}
			snap, v, err := snapshotView(g, ws, args[0])
			if err != nil {
				return err
			}
			back := pipeline.Backlinks(snap.Items())[v.Item.ID]
			if back == nil {
				back = []evidence.Link{}
			}
			if o.json {
				return writeJSON(g.stdout, showJSON{itemJSON: toJSON(v), Backlinks: back})
			}
			printItem(g, v)
			printLinks(g, snap, v.Item.Links, back)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, "print JSON")
	f.StringVar(&o.artefact, "artefact", "", "write the artefact with this name back out (with -o)")
	f.StringVarP(&o.out, "output", "o", "", "where --artefact is written (- for stdout)")
	f.BoolVar(&o.force, "force", false, "replace an existing -o file")
	return cmd
}

// resolveItem finds one item with its review applied to its tags (see
// resolveView).
func resolveItem(g *globals, ws *workspace.Workspace, ref string) (evidence.Item, *evidence.Review, error) {
	v, err := resolveView(g, ws, ref)
	if err != nil {
		return evidence.Item{}, nil, err
	}
	it := v.Item
	it.Tags = v.Tags
	return it, v.Review, nil
}

// resolveView finds one item. An exact ID is read directly; a prefix or
// native ID needs a snapshot of the whole ledger.
func resolveView(g *globals, ws *workspace.Workspace, ref string) (ledger.View, error) {
	if evidence.ValidID(ref) {
		v, err := ws.Ledger.View(g.ctx, ref, ws.Target.Reviewers)
		if !errors.Is(err, store.ErrNotFound) {
			return v, err
		}
	}
	if err := checkRef(ref); err != nil {
		return ledger.View{}, err
	}
	snap, err := readSnapshot(g, ws)
	if err != nil {
		return ledger.View{}, err
	}
	return findItem(snap.Views, ref)
}

// showJSON is an item as `show --json` prints it: itemJSON and the links
// other items make to it, with the inverse relation (pipeline.Backlinks).
type showJSON struct {
	itemJSON
	Backlinks []evidence.Link `json:"backlinks"`
}

// snapshotView reads the ledger and finds ref in it (findItem). An exact
// ID that is not among the readable items is read directly, so that an
// unreadable item gives its own error.
func snapshotView(g *globals, ws *workspace.Workspace, ref string) (*ledger.Snapshot, ledger.View, error) {
	snap, err := readSnapshot(g, ws)
	if err != nil {
		return nil, ledger.View{}, err
	}
	v, err := findItem(snap.Views, ref)
	if err != nil && evidence.ValidID(ref) {
		if _, verr := ws.Ledger.View(g.ctx, ref, ws.Target.Reviewers); verr != nil && !errors.Is(verr, store.ErrNotFound) {
			return nil, ledger.View{}, verr
		}
	}
	return snap, v, err
}

// printLinks writes an item's outgoing links and the links to it
// (backlinks), each with its target's kind and title, or "(not in the
// ledger)" for a target that is not stored.
func printLinks(g *globals, snap *ledger.Snapshot, out, back []evidence.Link) {
	byID := make(map[string]*evidence.Item, len(snap.Views))
	for i := range snap.Views {
		byID[snap.Views[i].Item.ID] = &snap.Views[i].Item
	}
	q := termsafe.String
	list := func(head string, ls []evidence.Link) {
		if len(ls) == 0 {
			return
		}
		fmt.Fprintf(g.stdout, "\n%s:\n", head)
		for _, l := range ls {
			what := "(not in the ledger)"
			if it := byID[l.Item]; it != nil {
				what = string(it.Kind) + "  " + truncate(it.Title, 80)
			}
			fmt.Fprintf(g.stdout, "  %-16s %s  %s\n", q(l.Rel), q(l.Item), q(what))
		}
	}
	list("links", out)
	list("linked from", back)
}

// Shortest references findItem accepts: an item ID prefix must go past the
// type ("git-") into the hash; a native ID prefix is a short commit SHA.
const (
	minIDPrefix     = 10
	minNativePrefix = 7
)

func checkRef(ref string) error {
	if len(ref) < minNativePrefix {
		return usageErrorf("item %q is too short to find an item by: give at least %d characters of a commit SHA or native ID, or %d of an item ID",
			ref, minNativePrefix, minIDPrefix)
	}
	return nil
}

// findItem resolves ref: an exact item ID, a unique prefix of one (at least
// minIDPrefix characters), or a unique prefix (at least minNativePrefix) of
// a native ID such as a commit SHA.
func findItem(views []ledger.View, ref string) (ledger.View, error) {
	if err := checkRef(ref); err != nil {
		return ledger.View{}, err
	}
	var byPrefix, byNative []ledger.View
	for _, v := range views {
		if v.Item.ID == ref {
			return v, nil
		}
		if len(ref) >= minIDPrefix && strings.HasPrefix(v.Item.ID, ref) {
			byPrefix = append(byPrefix, v)
		}
		if strings.HasPrefix(v.Item.Origin.NativeID, ref) {
			byNative = append(byNative, v)
		}
	}
	for _, m := range [][]ledger.View{byPrefix, byNative} {
		switch len(m) {
		case 0:
		case 1:
			return m[0], nil
		default:
			const shown = 5
			ids := make([]string, 0, shown+1)
			for i, v := range m {
				if i == shown {
					ids = append(ids, "…")
					break
				}
				ids = append(ids, v.Item.ID)
			}
			return ledger.View{}, withCode(exitError, fmt.Errorf("item %q is ambiguous (%d items): %s; give more characters",
				ref, len(m), strings.Join(ids, ", ")))
		}
	}
	return ledger.View{}, withCode(exitError, fmt.Errorf("no item %q in the ledger (ksbfolio items lists them)", ref))
}

// writeArtefact writes the named artefact of it to o.out ("-": stdout),
// checking its SHA-256 on the way. A file is written whole or not at all
// (a temporary file beside it, then a rename), and an existing one is
// replaced only with o.force.
func writeArtefact(g *globals, ws *workspace.Workspace, it evidence.Item, o showOptions) error {
	var art *evidence.Artefact
	names := make([]string, 0, len(it.Artefacts))
	for i := range it.Artefacts {
		names = append(names, it.Artefacts[i].Name)
		if it.Artefacts[i].Name == o.artefact && art == nil {
			art = &it.Artefacts[i]
		}
	}
	if art == nil {
		has := "it has none"
		if len(names) > 0 {
			has = "it has: " + strings.Join(names, ", ")
		}
		return withCode(exitError, fmt.Errorf("item %s has no artefact %q (%s)", it.ID, o.artefact, has))
	}
	if o.out != "-" && !o.force {
		if _, err := os.Lstat(o.out); err == nil {
			return withCode(exitError, fmt.Errorf("%s exists; use --force to replace it", o.out))
		}
	}
	rc, err := ws.Ledger.GetBlob(g.ctx, art.SHA256)
	if err != nil {
		return fmt.Errorf("read artefact %s of %s: %w", art.Name, it.ID, err)
	}
	defer rc.Close()
	if o.out == "-" {
		// Stdout cannot be taken back: check the blob first, then copy it.
		b, err := io.ReadAll(io.LimitReader(rc, art.Size+1))
		if err != nil {
			return fmt.Errorf("read artefact %s of %s: %w", art.Name, it.ID, err)
		}
		if err := checkBlob(b, art); err != nil {
			return err
		}
		_, err = g.stdout.Write(b)
		return err
	}
	dir := filepath.Dir(o.out)
	tmp, err := os.CreateTemp(dir, ".ksbfolio-artefact-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(rc, art.Size+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	if n != art.Size || hex.EncodeToString(h.Sum(nil)) != art.SHA256 {
		return fmt.Errorf("artefact %s of %s: the stored blob does not match its SHA-256 (run ksbfolio fsck)", art.Name, it.ID)
	}
	if o.force {
		err = os.Rename(tmp.Name(), o.out)
	} else {
		err = os.Link(tmp.Name(), o.out) // fails if something appeared meanwhile
	}
	if errors.Is(err, fs.ErrExist) {
		return withCode(exitError, fmt.Errorf("%s exists; use --force to replace it", o.out))
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	fmt.Fprintf(g.stderr, "wrote %s (%d bytes) to %s\n", art.Name, n, o.out)
	return nil
}

func checkBlob(b []byte, art *evidence.Artefact) error {
	sum := sha256.Sum256(b)
	if int64(len(b)) != art.Size || hex.EncodeToString(sum[:]) != art.SHA256 {
		return fmt.Errorf("artefact %s: the stored blob does not match its SHA-256 (run ksbfolio fsck)", art.Name)
	}
	return nil
}

// printItem writes the item for a person; every string from the item or
// its review passes termsafe.String (q) on its way out.
func printItem(g *globals, v ledger.View) {
	w := g.stdout
	q := termsafe.String
	it, rv := v.Item, v.Review
	it.Tags = v.Tags
	fmt.Fprintf(w, "%s\n%s\n\n", q(it.ID), q(it.Title))
	if st := reviewState(v); st != "-" {
		fmt.Fprintf(w, "review:      %s\n", st)
	}
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
		for i, d := range rv.Decisions {
			c := v.State.Checks[i]
			fmt.Fprintf(w, "  %s %s (%s) [%s]:", d.At.UTC().Format("2006-01-02 15:04:05"), q(d.By), q(d.Role), sigLabel(c.Status))
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
				fmt.Fprintf(w, " — note: %s", q(d.Note))
			}
			fmt.Fprintln(w)
			if c.Detail != "" {
				fmt.Fprintf(w, "      %s\n", q(c.Detail))
			}
		}
	}
	if cs := v.State.Conflicts; len(cs) > 0 {
		fmt.Fprintln(w, "\nconflicts (decisions that did not apply):")
		for _, c := range cs {
			fmt.Fprintf(w, "  %s\n", c.Describe(q))
		}
	}
}

// sigLabel writes a signature status for a person: "verified", "unsigned",
// "unknown key", "INVALID signature", "stale".
func sigLabel(s evidence.SigStatus) string {
	switch s {
	case evidence.SigUnknownKey:
		return "unknown key"
	case evidence.SigInvalid:
		return "INVALID signature"
	}
	return string(s)
}

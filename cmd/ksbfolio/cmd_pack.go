package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/pack"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/workbook"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

type packOptions struct {
	out      string
	maxItems int
	// maxItemsSet: --max-items was given; without it pack.max_items of
	// the config applies.
	maxItemsSet bool
	signKey     string
	pdf         bool
}

func newPackCommand(g *globals) *cobra.Command {
	var o packOptions
	cmd := &cobra.Command{
		Use:   "pack [-o DIR|FILE.zip] [--max-items N] [--sign-key KEY] [--pdf]",
		Short: "Build the portfolio pack: index.html, artefacts, manifest.json, SHA256SUMS",
		Long: `pack builds the portfolio pack from the ledger: a self-contained index.html
(cover, coverage summary and chart, KSB → evidence matrix, the professional
discussion brief by grade theme, the KSBs the project assesses, one section
per item with its facts, charts, redacted excerpt, related items,
provenance and review history, and a declaration to sign), the selected
items' artefacts under evidence/NN-<slug>/, manifest.json and SHA256SUMS.

-o names the pack: a folder (it must not exist or be empty; default
pack-<apprentice>) or, ending in .zip, a zip that is the same byte for
byte for the same ledger whatever the time zone, umask or build time. Its
time is SOURCE_DATE_EPOCH when set, else the end of the ledger's last run.

Items reviewed as excluded never appear; confidential items are withheld
(listed, without content) unless the employer approved them: after the
item was last marked confidential, a decision of role employer whose
signature verified accepts a KSB or clears the flag. --max-items N picks at most N items by a weighted set cover over the
KSBs the portfolio covers (confirmed over claimed over suggested, a fuller
item over a thinner one, then by item ID) and lists the KSBs left
uncovered; without it every evidenced item is included.

--sign-key signs manifest.json with an ed25519 key (ksbfolio keygen) into
manifest.json.sig; ksbfolio verify --pub-key checks it. --pdf also prints
index.html to PDF next to the pack (NAME.pdf) with headless Chromium.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.maxItemsSet = cmd.Flags().Changed("max-items")
			return runPack(g, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "", "the pack: a folder, or a file ending in .zip (default pack-<apprentice>)")
	f.IntVar(&o.maxItems, "max-items", 0, "select at most N items by set cover (0: every evidenced item; default: pack.max_items of the config)")
	f.StringVar(&o.signKey, "sign-key", "", "sign the manifest with this ed25519 private key (PEM, ksbfolio keygen)")
	f.BoolVar(&o.pdf, "pdf", false, "also print index.html to PDF (NAME.pdf) with headless Chromium")
	return cmd
}

func runPack(g *globals, o packOptions) error {
	if o.maxItems < 0 {
		return usageErrorf("--max-items must be 0 or more, not %d", o.maxItems)
	}
	var priv []byte
	if o.signKey != "" {
		k, err := workspace.ReadPrivateKey(o.signKey)
		if err != nil {
			return err
		}
		priv = k
	}
	var chromium string
	if o.pdf {
		c, err := pack.FindChromium()
		if err != nil {
			return fmt.Errorf("pack --pdf: %w", err)
		}
		chromium = c
	}
	ws, err := g.workspace("")
	if err != nil {
		return err
	}
	if !o.maxItemsSet && ws.Config.Pack.MaxItems > 0 {
		o.maxItems = ws.Config.Pack.MaxItems
	}
	out := o.out
	if out == "" {
		out = "pack-" + ws.Apprentice.ID
	}
	isZip := strings.HasSuffix(strings.ToLower(out), ".zip")
	if _, err := os.Lstat(out); err == nil {
		if isZip {
			return withCode(exitError, fmt.Errorf("%s exists; remove it or choose another -o", out))
		}
		if ents, err := os.ReadDir(out); err != nil || len(ents) > 0 {
			return withCode(exitError, fmt.Errorf("%s exists and is not an empty folder; remove it or choose another -o", out))
		}
	}
	snap, err := readSnapshot(g, ws)
	if err != nil {
		return err
	}
	gen, err := packTime(g.ctx, ws.Ledger, snap)
	if err != nil {
		return err
	}
	rep := pipeline.SnapshotCoverage(snap, ws.Catalogue, ws.Target, gen)
	who := pack.Person{Apprentice: ws.Apprentice.Name, Employer: ws.Apprentice.Employer}
	// The assessor workbook goes in the pack, its Evidence sheet linking
	// each selected item's folder there.
	dirs := pack.Select(snap.Views, rep.Covers.KSBs, o.maxItems).Dirs()
	var wb bytes.Buffer
	// It withholds what the page withholds: confidential items the
	// employer approved are shown (pack.Released).
	if err := workbook.Write(&wb, workbook.Input{Snapshot: pack.Released(snap), Coverage: rep, Generated: gen,
		ItemDir: func(id string) string { return dirs[id] }}); err != nil {
		return fmt.Errorf("write the workbook: %w", err)
	}
	p, err := pack.Build(g.ctx, pack.Input{Snapshot: snap, Catalogue: ws.Catalogue, Coverage: rep, Who: who,
		Generated: gen, MaxItems: o.maxItems, Blobs: ws.Ledger,
		Extra: []pack.File{{Path: pack.WorkbookFile, Data: wb.Bytes()}}})
	if err != nil {
		return err
	}
	if priv != nil {
		if err := p.Sign(priv); err != nil {
			return err
		}
	}
	if isZip {
		err = p.WriteZipFile(out)
	} else {
		err = p.WriteDir(out)
	}
	if err != nil {
		return err
	}
	q := termsafe.String
	sel := p.Selection
	fmt.Fprintf(g.stdout, "wrote %s: %s, %d of %d KSBs evidenced, generated %s\n", q(out),
		termsafe.Plural(len(sel.Items), "item", "items"), len(sel.Covered), len(rep.Covers.KSBs), gen.Format(time.RFC3339))
	if len(sel.Uncovered) > 0 {
		fmt.Fprintf(g.stdout, "uncovered: %s\n", q(strings.Join(sel.Uncovered, " ")))
	}
	if len(sel.Withheld) > 0 {
		fmt.Fprintf(g.stdout, "withheld as confidential: %s\n", termsafe.Plural(len(sel.Withheld), "item", "items"))
	}
	if priv != nil {
		fmt.Fprintf(g.stdout, "signed: %s\n", pack.SignatureFile)
	}
	if o.pdf {
		pdf := strings.TrimSuffix(out, filepath.Ext(out)) + ".pdf"
		if !isZip {
			pdf = filepath.Clean(out) + ".pdf"
		}
		if err := printPackPDF(g.ctx, p, chromium, out, isZip, pdf); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "wrote %s\n", q(pdf))
	}
	return nil
}

// printPackPDF prints the pack's index.html to pdf; a zip pack is unpacked
// into a temporary folder first.
func printPackPDF(ctx context.Context, p *pack.Pack, chromium, out string, isZip bool, pdf string) error {
	dir := out
	if isZip {
		tmp, err := os.MkdirTemp("", "ksbfolio-pdf-")
		if err != nil {
			return fmt.Errorf("print pdf: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "pack")
		if err := p.WriteDir(dir); err != nil {
			return err
		}
	}
	return pack.PrintPDF(ctx, chromium, filepath.Join(dir, pack.IndexFile), pdf)
}

// packTime is the pack's time: SOURCE_DATE_EPOCH (seconds) when set, else
// when the ledger's last run finished, else (no run yet: items added by
// hand) the newest item's collection time, else the Unix epoch.
func packTime(ctx context.Context, l *ledger.Ledger, snap *ledger.Snapshot) (time.Time, error) {
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, usageErrorf("SOURCE_DATE_EPOCH=%q: not a number of seconds", v)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	key, err := l.LastRun(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("find the last run: %w", err)
	}
	if key == "" {
		var newest time.Time
		for i := range snap.Views {
			if c := snap.Views[i].Item.CollectedAt; c.After(newest) {
				newest = c
			}
		}
		if newest.IsZero() {
			return time.Unix(0, 0).UTC(), nil
		}
		return newest.UTC().Truncate(time.Second), nil
	}
	b, _, err := store.ReadAll(ctx, l.Store(), key, ledger.MaxObject)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the last run: %w", err)
	}
	var run struct {
		FinishedAt time.Time `json:"finished_at"`
	}
	if err := json.Unmarshal(b, &run); err != nil || run.FinishedAt.IsZero() {
		return time.Time{}, &ledger.CorruptError{Key: key, Err: errors.Join(err, errors.New("no finished_at"))}
	}
	return run.FinishedAt.UTC().Truncate(time.Second), nil
}

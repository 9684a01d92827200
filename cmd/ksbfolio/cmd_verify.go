package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/pack"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

// signatureCheck is one signed decision as verify-reviews reports it.
type signatureCheck struct {
	Item     string    `json:"item"`
	Decision string    `json:"decision"`
	By       string    `json:"by"`
	Role     string    `json:"role"`
	At       time.Time `json:"at"`
	evidence.Check
}

// verifyReport is `verify-reviews --json`.
type verifyReport struct {
	Checked  int              `json:"checked"`
	Verified int              `json:"verified"`
	Failed   []signatureCheck `json:"failed"`   // never null
	Corrupt  []string         `json:"corrupt"`  // unreadable reviews or items; never null
	Unsigned int              `json:"unsigned"` // decisions by coach, employer or assessor without a signature
}

func newVerifyReviewsCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify-reviews [--json]",
		Short: "Check every stored review signature against the configured reviewers",
		Long: `verify-reviews checks the signature of every signed review decision
against the public keys of the reviewers in the config, over the item's
content as it is now, and reports each one that fails: invalid (the stored
decision was changed after it was signed), unknown_key (no reviewer of that
name and role is configured with the key that signed it) or stale (the item
was re-collected with different content, or is gone). An unreadable review
is a failure too. It exits 1 when anything fails, 0 otherwise. Unsigned
decisions by a coach, employer or assessor are counted, not failures: they
count as claims.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := g.workspace("")
			if err != nil {
				return err
			}
			snap, err := readSnapshot(g, ws)
			if err != nil {
				return err
			}
			hashes := map[string]string{}
			for _, v := range snap.Views {
				hashes[v.Item.ID] = evidence.ContentHash(v.Item)
			}
			ids := make([]string, 0, len(snap.Reviews))
			for id := range snap.Reviews {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			rep := verifyReport{Failed: []signatureCheck{}, Corrupt: snap.CorruptStrings()}
			for _, id := range ids {
				rv := snap.Reviews[id]
				for _, d := range rv.Decisions {
					c := ws.Target.Reviewers.Check(id, hashes[id], d)
					switch {
					case c.Status == evidence.SigUnsigned:
						if d.Role != evidence.RoleApprentice {
							rep.Unsigned++
						}
						continue
					case c.Status == evidence.SigVerified:
						rep.Verified++
					default:
						rep.Failed = append(rep.Failed, signatureCheck{Item: id, Decision: d.ID, By: d.By, Role: d.Role, At: d.At, Check: c})
					}
					rep.Checked++
				}
			}
			if asJSON {
				if err := writeJSON(g.stdout, rep); err != nil {
					return err
				}
			} else {
				q := termsafe.String
				for _, f := range rep.Failed {
					fmt.Fprintf(g.stdout, "FAIL %s decision %s by %s (%s) at %s: %s: %s\n", q(f.Item), q(f.Decision), q(f.By), q(f.Role),
						f.At.UTC().Format("2006-01-02 15:04"), f.Status, q(f.Detail))
				}
				fmt.Fprintf(g.stdout, "%s checked: %d verified, %d failed", termsafe.Plural(rep.Checked, "signature", "signatures"), rep.Verified, len(rep.Failed))
				if len(rep.Corrupt) > 0 {
					fmt.Fprintf(g.stdout, "; %d unreadable (listed above)", len(rep.Corrupt))
				}
				fmt.Fprintln(g.stdout)
				if rep.Unsigned > 0 {
					fmt.Fprintf(g.stdout, "%s by a coach, employer or assessor count as claims only\n",
						termsafe.Plural(rep.Unsigned, "unsigned decision", "unsigned decisions"))
				}
			}
			if len(rep.Failed) > 0 || len(rep.Corrupt) > 0 {
				return withCode(exitError, errors.New(termsafe.Plural(len(rep.Failed)+len(rep.Corrupt), "review signature or object fails", "review signatures or objects fail")+" verification"))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newVerifyCommand(g *globals) *cobra.Command {
	var pubKey string
	cmd := &cobra.Command{
		Use:   "verify PACK [--pub-key KEY.pub]",
		Short: "Check a portfolio pack (folder or zip) against its manifest",
		Long: `verify checks a pack that ksbfolio pack wrote, a folder or a zip: every file
manifest.json lists, by SHA-256 and size, every file it does not list, and
SHA256SUMS. It names each changed, missing and extra file. With --pub-key
it also checks manifest.json.sig against that ed25519 public key
(ksbfolio keygen). It exits 1 when anything fails, 0 otherwise. No config
is needed.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pub ed25519.PublicKey
			if pubKey != "" {
				k, err := workspace.ReadPublicKey(pubKey)
				if err != nil {
					return err
				}
				pub = k
			}
			r, err := pack.Verify(args[0], pub)
			if err != nil {
				return withCode(exitError, err)
			}
			q := termsafe.String
			for _, p := range r.Changed {
				fmt.Fprintf(g.stdout, "CHANGED %s\n", q(p))
			}
			for _, p := range r.Missing {
				fmt.Fprintf(g.stdout, "MISSING %s\n", q(p))
			}
			for _, p := range r.Extra {
				fmt.Fprintf(g.stdout, "EXTRA %s\n", q(p))
			}
			if r.Sums != "" {
				fmt.Fprintf(g.stdout, "SHA256SUMS %s\n", q(r.Sums))
			}
			if r.Signature != "" {
				fmt.Fprintf(g.stdout, "SIGNATURE %s\n", q(r.Signature))
			}
			if !r.OK() {
				return withCode(exitError, fmt.Errorf("pack %s fails verification", args[0]))
			}
			sig := "not checked (no --pub-key)"
			if r.Signed {
				sig = "verified"
			}
			fmt.Fprintf(g.stdout, "OK %s: %s match the manifest; signature %s\n", q(args[0]), termsafe.Plural(r.Files, "file", "files"), sig)
			return nil
		},
	}
	cmd.Flags().StringVar(&pubKey, "pub-key", "", "check manifest.json.sig with this ed25519 public key (PEM)")
	return cmd
}

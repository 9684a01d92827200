package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

type reviewOptions struct {
	accept, reject        string
	exclude, confidential bool
	note, by, role        string
	signKey               string
	allowUnknown          bool
	wait                  time.Duration
	// Bulk: accept the pending suggestions of KSBs on many items.
	ksbs             string
	source           string
	acceptSuggested  bool
	yes, interactive bool
}

func newReviewCommand(g *globals) *cobra.Command {
	var o reviewOptions
	cmd := &cobra.Command{
		Use: "review ITEM [--accept IDS] [--reject IDS] [--exclude] [--confidential] [--note TEXT] [--by NAME --role ROLE] [--sign-key FILE]\n" +
			"  review --ksb IDS [--source NAME] --accept-suggested [--yes]\n  review -i",
		Short: "Record a human decision on an item's tags (one item, in bulk, or interactively)",
		Long: `review records who (name and role: apprentice, coach, employer, assessor)
decided what, and when: accepting KSBs, rejecting KSBs (suggestions or
declarations that do not hold), excluding the item from the portfolio
(--exclude, undo with --exclude=false), or marking it confidential
(--confidential, undo with --confidential=false). Decisions are kept apart
from items, in order, so they survive re-collection and retag.

--sign-key FILE signs the decision with a key from ksbfolio keygen. A coach's,
employer's or assessor's acceptance confirms a KSB only when it is signed
with the key the config lists for that name and role (reviewers:), over the
item's content as it is now; otherwise it counts as a claim. A decision of a
higher role (assessor > employer > coach > apprentice) is not overridden by a
later one of a lower role. A confidential marking fails safe: anyone may
mark an item confidential, and --confidential=false clears a marking only
when the verified employer makes it (every marking) or the role that made
the marking takes it back.

--accept of a KSB the catalogue lacks is refused (exit 2) unless
--allow-unknown.

Bulk: review --ksb K12 [--source NAME] --accept-suggested lists every item
with an unreviewed rule suggestion of K12 and what it would record; --yes
records it, one decision per item.

review -i walks through the unreviewed suggestions on a terminal, one item at
a time: y accept, n reject, s skip, e exclude, c confidential, m add a note,
b back, q quit (? for help). Each decision is stored as it is made.`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case o.interactive:
				if len(args) > 0 || o.acceptSuggested {
					return usageErrorf("review -i takes no ITEM and no --accept-suggested")
				}
				return runInteractive(g, o)
			case o.acceptSuggested:
				if len(args) > 0 {
					return usageErrorf("--accept-suggested works on every item with the suggestion; give --ksb (and --source), not an ITEM")
				}
				return runBulkReview(g, cmd, o)
			case len(args) == 0:
				return usageErrorf("review needs an ITEM, or --ksb IDS --accept-suggested, or -i")
			}
			return runReview(g, cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.accept, "accept", "", "KSBs to accept (comma-separated)")
	f.StringVar(&o.reject, "reject", "", "KSBs to reject (comma-separated)")
	f.BoolVar(&o.exclude, "exclude", false, "leave this item out of the portfolio")
	f.BoolVar(&o.confidential, "confidential", false, "mark this item confidential")
	f.StringVar(&o.note, "note", "", "a note kept with the decision")
	f.StringVar(&o.by, "by", "", "who decides (default: the configured reviewer whose key --sign-key holds, else the apprentice's name)")
	f.StringVar(&o.role, "role", "apprentice", "their role: "+strings.Join(evidence.Roles, ", "))
	f.StringVar(&o.signKey, "sign-key", "", "sign the decision with this private key (from ksbfolio keygen)")
	f.BoolVar(&o.allowUnknown, "allow-unknown", false, "accept KSBs the catalogue lacks")
	f.StringVar(&o.ksbs, "ksb", "", "bulk: the KSBs whose suggestions to accept (comma-separated); -i: only these KSBs")
	f.StringVar(&o.source, "source", "", "bulk and -i: only items from this source")
	f.BoolVar(&o.acceptSuggested, "accept-suggested", false, "bulk: accept the unreviewed suggestions of --ksb on every item")
	f.BoolVar(&o.yes, "yes", false, "bulk: record the decisions (without it, only list them)")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "walk through unreviewed suggestions on a terminal")
	f.DurationVar(&o.wait, "wait", 0, "wait up to this long for another run on the same apprentice")
	cmd.AddCommand(newReviewImportCommand(g))
	return cmd
}

func splitKSBs(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		k := evidence.NormalizeKSB(p)
		if !evidence.LooksLikeKSB(k) {
			return nil, usageErrorf("%q is not a KSB ID (K, S or B and a number, e.g. S10)", p)
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// reviewer is who records decisions: name, role and, when signing, the key.
type reviewer struct {
	by, role string
	key      ed25519.PrivateKey
}

// newReviewer checks --role and reads --sign-key. When --by is not given,
// the name is that of the configured reviewer of --role whose public key
// matches the signing key, else the apprentice's.
func newReviewer(g *globals, ws *workspace.Workspace, o reviewOptions) (reviewer, error) {
	if !evidence.ValidRole(o.role) {
		return reviewer{}, usageErrorf("--role %q: want one of %s", o.role, strings.Join(evidence.Roles, ", "))
	}
	r := reviewer{by: o.by, role: o.role}
	if o.signKey != "" {
		k, err := workspace.ReadPrivateKey(o.signKey)
		if err != nil {
			return reviewer{}, withCode(exitUsage, err)
		}
		r.key = k
		if r.by == "" {
			pub := k.Public().(ed25519.PublicKey)
			for _, c := range ws.Target.Reviewers.Reviewers() {
				if c.Role == r.role && c.Key.Equal(pub) {
					r.by = c.Name
				}
			}
		}
	}
	if r.by == "" {
		r.by = ws.Apprentice.Name
		if r.by == "" {
			r.by = ws.Apprentice.ID
		}
	}
	return r, nil
}

// decide completes d, a decision on it by r: ID, time, the item's content
// hash and, with a key, the signature.
func (r reviewer) decide(ws *workspace.Workspace, it evidence.Item, d evidence.Decision) evidence.Decision {
	d.ID, d.By, d.Role, d.At = evidence.NewDecisionID(), r.by, r.role, ws.Now().UTC()
	d.ItemHash = evidence.ContentHash(it)
	if r.key != nil {
		d = evidence.Sign(it.ID, d.ItemHash, d, r.key)
	}
	return d
}

// warnUnconfirmed warns when a decision by a role other than the
// apprentice will not count as confirmed.
func (r reviewer) warnUnconfirmed(g *globals, ws *workspace.Workspace, it evidence.Item, d evidence.Decision) {
	if r.role == evidence.RoleApprentice || len(d.Accept)+len(d.Reject) == 0 && d.Exclude == nil && d.Confidential == nil {
		return
	}
	c := ws.Target.Reviewers.Check(it.ID, d.ItemHash, d)
	if c.Status == evidence.SigVerified {
		return
	}
	why := "it is unsigned (give --sign-key)"
	if c.Detail != "" {
		why = c.Detail
	}
	g.warnf("%s's decision as %s is recorded but counts no higher than the apprentice's: %s", d.By, d.Role, why)
}

// checkKnown refuses accepted KSBs the catalogue lacks, naming the closest
// IDs it has, unless allowed.
func checkKnown(g *globals, cat *ksb.Catalogue, accept []string, allow bool) error {
	var unknown []string
	for _, k := range accept {
		if _, ok := cat.Lookup(k); !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	if allow {
		for _, k := range unknown {
			g.warnf("%s is not in catalogue %s; recorded (--allow-unknown), and coverage lists it as not in the catalogue", k, cat.ID)
		}
		return nil
	}
	var parts []string
	for _, k := range unknown {
		parts = append(parts, fmt.Sprintf("%s (closest: %s)", k, strings.Join(closestKSBs(cat, k, 3), ", ")))
	}
	return usageErrorf("catalogue %s has no %s; nothing recorded (check the ID, or pass --allow-unknown to record it anyway)",
		cat.ID, strings.Join(parts, "; "))
}

// closestKSBs returns up to n IDs of cat nearest to id: same kind first,
// then fewest edits, then nearest number.
func closestKSBs(cat *ksb.Catalogue, id string, n int) []string {
	type cand struct {
		id         string
		kind, dist int
		gap        int
	}
	num := func(s string) int { v, _ := strconv.Atoi(s[min(1, len(s)):]); return v }
	var cs []cand
	for _, k := range cat.KSBs {
		c := cand{id: k.ID, dist: editDistance(id, k.ID), gap: abs(num(id) - num(k.ID))}
		if id == "" || k.ID == "" || id[0] != k.ID[0] {
			c.kind = 1
		}
		cs = append(cs, c)
	}
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.dist != b.dist {
			return a.dist < b.dist
		}
		return a.gap < b.gap
	})
	var out []string
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].id)
	}
	if len(out) == 0 {
		return []string{"none: the catalogue is empty"}
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// editDistance is the Levenshtein distance between two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func runReview(g *globals, cmd *cobra.Command, ref string, o reviewOptions) error {
	accept, err := splitKSBs(o.accept)
	if err != nil {
		return err
	}
	reject, err := splitKSBs(o.reject)
	if err != nil {
		return err
	}
	for _, a := range accept {
		for _, r := range reject {
			if a == r {
				return usageErrorf("%s is both accepted and rejected", a)
			}
		}
	}
	if !evidence.ValidRole(o.role) {
		return usageErrorf("--role %q: want one of %s", o.role, strings.Join(evidence.Roles, ", "))
	}
	d := evidence.Decision{Accept: accept, Reject: reject, Note: o.note}
	if cmd.Flags().Changed("exclude") {
		v := o.exclude
		d.Exclude = &v
	}
	if cmd.Flags().Changed("confidential") {
		v := o.confidential
		d.Confidential = &v
	}
	if len(accept) == 0 && len(reject) == 0 && d.Exclude == nil && d.Confidential == nil && o.note == "" {
		return usageErrorf("review needs at least one of --accept, --reject, --exclude, --confidential or --note")
	}
	ws, err := g.workspace("")
	if err != nil {
		return err
	}
	if err := checkKnown(g, ws.Catalogue, accept, o.allowUnknown); err != nil {
		return err
	}
	rv, err := newReviewer(g, ws, o)
	if err != nil {
		return err
	}
	v, err := resolveView(g, ws, ref)
	if err != nil {
		return err
	}
	d = rv.decide(ws, v.Item, d)
	rv.warnUnconfirmed(g, ws, v.Item, d)
	return g.hold(ws, "review", o.wait, func(ctx context.Context) error {
		if _, err := ws.Ledger.AddDecision(ctx, v.Item.ID, d); err != nil {
			return err
		}
		signed := ""
		if d.Signature != "" {
			signed = ", signed"
		}
		fmt.Fprintf(g.stdout, "recorded %s's decision (%s%s) on %s\n", termsafe.String(d.By), d.Role, signed, v.Item.ID)
		updateCoverage(ctx, g, ws)
		return nil
	})
}

func updateCoverage(ctx context.Context, g *globals, ws *workspace.Workspace) {
	if _, _, err := pipeline.UpdateCoverage(ctx, ws.Ledger, ws.Catalogue, ws.Target, ws.Now()); err != nil {
		g.log.Warn("coverage not updated", "err", err)
	}
}

// pendingSuggestions returns the KSBs of want (all when want is nil) that
// rule tags suggest on v and no decision has accepted or rejected yet, in
// tag order. An excluded item has none.
func pendingSuggestions(v ledger.View, want map[string]bool) []string {
	if v.Excluded {
		return nil
	}
	var out []string
	for _, t := range v.Item.Tags {
		k := evidence.NormalizeKSB(t.KSB)
		if !t.IsRule() || (want != nil && !want[k]) || contains(out, k) {
			continue
		}
		if _, ok := v.State.Accepted[k]; ok {
			continue
		}
		if _, ok := v.State.Rejected[k]; ok {
			continue
		}
		out = append(out, k)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func runBulkReview(g *globals, cmd *cobra.Command, o reviewOptions) error {
	ksbs, err := splitKSBs(o.ksbs)
	if err != nil {
		return err
	}
	if len(ksbs) == 0 {
		return usageErrorf("--accept-suggested needs --ksb IDS: the KSBs whose suggestions to accept")
	}
	for _, name := range []string{"accept", "reject", "exclude", "confidential"} {
		if cmd.Flags().Changed(name) {
			return usageErrorf("--accept-suggested records acceptances only; --%s works on one ITEM", name)
		}
	}
	ws, err := g.workspace("")
	if err != nil {
		return err
	}
	if err := checkKnown(g, ws.Catalogue, ksbs, o.allowUnknown); err != nil {
		return err
	}
	rv, err := newReviewer(g, ws, o)
	if err != nil {
		return err
	}
	snap, err := readSnapshot(g, ws)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, k := range ksbs {
		want[k] = true
	}
	type change struct {
		v   ledger.View
		ksb []string
	}
	var changes []change
	for _, v := range snap.Views {
		if o.source != "" && v.Item.Source != o.source {
			continue
		}
		if ks := pendingSuggestions(v, want); len(ks) > 0 {
			changes = append(changes, change{v, ks})
		}
	}
	q := termsafe.String
	where := ""
	if o.source != "" {
		where = " from source " + q(o.source)
	}
	if len(changes) == 0 {
		fmt.Fprintf(g.stdout, "no item%s has an unreviewed suggestion of %s; nothing to do\n", where, strings.Join(ksbs, ", "))
		return nil
	}
	verb := "would record"
	if o.yes {
		verb = "recording"
	}
	fmt.Fprintf(g.stdout, "%s %s's acceptance (%s) on %s%s:\n", verb, q(rv.by), rv.role, termsafe.Plural(len(changes), "item", "items"), where)
	for _, c := range changes {
		fmt.Fprintf(g.stdout, "  %s  %s  %-12s accept %s  %s\n", q(c.v.Item.ID), c.v.Item.OccurredAt.UTC().Format("2006-01-02"),
			q(c.v.Item.Source), strings.Join(c.ksb, ","), truncate(c.v.Item.Title, 50))
	}
	if !o.yes {
		fmt.Fprintf(g.stdout, "nothing recorded: run again with --yes to record these %s\n", termsafe.Plural(len(changes), "decision", "decisions"))
		return nil
	}
	return g.hold(ws, "review", o.wait, func(ctx context.Context) error {
		for i, c := range changes {
			d := rv.decide(ws, c.v.Item, evidence.Decision{Accept: c.ksb, Note: o.note})
			if i == 0 {
				rv.warnUnconfirmed(g, ws, c.v.Item, d)
			}
			if _, err := ws.Ledger.AddDecision(ctx, c.v.Item.ID, d); err != nil {
				return fmt.Errorf("after %d of %d decisions: %w", i, len(changes), err)
			}
		}
		fmt.Fprintf(g.stdout, "recorded %s\n", termsafe.Plural(len(changes), "decision", "decisions"))
		updateCoverage(ctx, g, ws)
		return nil
	})
}

package evidence

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Roles that may record a review, lowest precedence first.
var Roles = []string{"apprentice", "coach", "employer", "assessor"}

// RoleApprentice is the role whose decisions are the apprentice's own
// claims, whatever their signature.
const RoleApprentice = "apprentice"

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool { return RoleRank(r) >= 0 }

// RoleRank is a role's precedence: apprentice 0, coach 1, employer 2,
// assessor 3; -1 for anything else.
func RoleRank(r string) int {
	for i, x := range Roles {
		if x == r {
			return i
		}
	}
	return -1
}

// Review holds every human decision on one item, oldest first. It is stored
// apart from the item (apprentices/<id>/reviews/<item-id>.json) so that
// re-collecting or re-tagging the item never loses it.
type Review struct {
	Schema    int        `json:"schema"`
	Item      string     `json:"item"`
	Decisions []Decision `json:"decisions"`
}

// Decision is one review act: who, in which role, when, and what.
type Decision struct {
	// ID is random, made once per decision (once per `review` command), so
	// that a retried write never records the decision twice. Decisions
	// stored before IDs existed have none.
	ID           string    `json:"id,omitempty"`
	At           time.Time `json:"at"`
	By           string    `json:"by"`
	Role         string    `json:"role"`
	Accept       []string  `json:"accept,omitempty"`
	Reject       []string  `json:"reject,omitempty"`
	Exclude      *bool     `json:"exclude,omitempty"`
	Confidential *bool     `json:"confidential,omitempty"`
	Note         string    `json:"note,omitempty"`
	// ItemHash is the item's ContentHash when the decision was made;
	// empty on decisions stored before hashes were recorded.
	ItemHash string `json:"item_hash,omitempty"`
	// Key is the fingerprint (KeyFingerprint) of the key that signed the
	// decision, and Signature the base64 (standard, padded) ed25519
	// signature of SignedPayload; both empty when unsigned.
	Key       string `json:"key,omitempty"`
	Signature string `json:"signature,omitempty"`
}

// NewDecisionID returns a random decision ID (32 hex digits).
func NewDecisionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Verdict is a decision as it bears on one KSB or flag.
type Verdict struct {
	Decision Decision
	Check    Check
	// Rank is the precedence the decision carries: its role's RoleRank
	// when its signature is verified (or it is the apprentice's), else 0,
	// the apprentice's: an unverified decision counts no higher than a
	// claim.
	Rank int
	// Confirmed says the decision is verified and not the apprentice's.
	Confirmed bool
}

// DecisionRef names a decision in a Conflict.
type DecisionRef struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Role   string    `json:"role"`
	Action string    `json:"action"` // "accept", "reject", "exclude=true", …
}

// Conflict is a decision that did not apply. On a KSB or on exclude: a
// decision of a higher role (Kept) had already said otherwise. On
// confidential: a confidential=false that may not undo the standing
// marking Kept (see State); one Conflict per marking left standing.
type Conflict struct {
	KSB       string      `json:"ksb,omitempty"`  // the KSB, or "" for a flag
	Flag      string      `json:"flag,omitempty"` // "exclude" or "confidential", or "" for a KSB
	Kept      DecisionRef `json:"kept"`
	Overruled DecisionRef `json:"overruled"`
}

// Describe words the conflict as `ksbfolio show` and the workbook show it:
// "S10: Pat (coach) reject on 2026-03-01 09:00 stands over Ada
// (apprentice) accept on 2026-02-27 10:00", times in UTC. Each name, role,
// action and the KSB or flag pass through quote (for a terminal, say).
func (c Conflict) Describe(quote func(string) string) string {
	what := c.KSB
	if what == "" {
		what = c.Flag
	}
	const at = "2006-01-02 15:04"
	return fmt.Sprintf("%s: %s (%s) %s on %s stands over %s (%s) %s on %s", quote(what),
		quote(c.Kept.By), quote(c.Kept.Role), quote(c.Kept.Action), c.Kept.At.UTC().Format(at),
		quote(c.Overruled.By), quote(c.Overruled.Role), quote(c.Overruled.Action), c.Overruled.At.UTC().Format(at))
}

// State is the effect of all decisions on an item. Decisions apply in time
// order (decisions made at the same instant, as stored).
//
// On a KSB and on exclude, a later decision replaces an earlier one unless
// the earlier carries a higher Rank, in which case the later one is
// overruled and recorded as a Conflict when it says otherwise.
//
// Confidential fails safe, since the information is the employer's: every
// confidential=true is a marking that stands, whoever made it and whatever
// its signature; the item is Confidential while any marking stands, and
// each role has at most one (its latest). A later confidential=false
// removes every standing marking when it is the employer's and verified;
// otherwise it removes only the marking of its own role, and only when it
// is the apprentice's or verified. Each marking it leaves standing is
// recorded as a Conflict, so a coach's or an assessor's clearing, an
// unverified one, or the apprentice's over a reviewer's marking, is seen
// not to have applied.
type State struct {
	Accepted     map[string]Verdict // KSB → the decision that accepted it
	Rejected     map[string]Verdict // KSB → the decision that rejected it
	Excluded     bool
	Confidential bool
	// Checks holds each decision's signature check, in the order of
	// Review.Decisions; never nil.
	Checks    []Check
	Conflicts []Conflict
	// EmployerApproved reports whether the employer released the item's
	// content for the portfolio pack, confidential or not: after the
	// latest decision that marked it confidential, a decision of the role
	// employer whose signature verified accepts a KSB or sets
	// confidential=false (docs/cli.md, "Confidential items"). A coach's
	// or an assessor's decision, an unverified one, one made before the
	// latest marking, or one that itself marks the item, does not count.
	EmployerApproved bool
}

// Fold works out the effect of r's decisions on it, the item as stored
// now (nil when it is not stored), checking signatures with v (nil: no
// reviewer is configured, so nothing is verified). The item's ContentHash
// is computed only when a decision is signed. Signatures are checked on the decisions as stored; KSB IDs
// are then normalised (NormalizeKSB), so "s10" in a decision matches the
// tag "S10". A nil review has no effect.
func Fold(r *Review, it *Item, v *Verifier) State {
	s := State{Accepted: map[string]Verdict{}, Rejected: map[string]Verdict{}, Checks: []Check{}}
	if r == nil {
		return s
	}
	itemHash, hashed := "", false
	type step struct {
		i int
		d Decision
	}
	steps := make([]step, len(r.Decisions))
	for i, d := range r.Decisions {
		steps[i] = step{i, d}
		if d.Signature != "" && !hashed && it != nil {
			itemHash, hashed = ContentHash(*it), true
		}
		s.Checks = append(s.Checks, v.Check(r.Item, itemHash, d))
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].d.At.Before(steps[j].d.At) })

	type holder struct {
		v     Verdict
		value string // "accept"/"reject", or "exclude=true"/"exclude=false"
		set   bool
	}
	ksbs := map[string]*holder{}
	var exclude holder
	apply := func(h *holder, value string, vd Verdict, conflict func(kept Verdict, keptValue string)) {
		if h.set && h.v.Rank > vd.Rank {
			if h.value != value {
				conflict(h.v, h.value)
			}
			return
		}
		h.v, h.value, h.set = vd, value, true
	}
	var marks markings
	for _, st := range steps {
		d, c := st.d, s.Checks[st.i]
		vd := Verdict{Decision: d, Check: c}
		if d.Role == RoleApprentice || c.Status == SigVerified {
			vd.Rank = max(RoleRank(d.Role), 0)
		}
		vd.Confirmed = vd.Rank > 0
		ksb := func(k, action string) {
			h := ksbs[k]
			if h == nil {
				h = &holder{}
				ksbs[k] = h
			}
			apply(h, action, vd, func(kept Verdict, keptValue string) {
				s.Conflicts = append(s.Conflicts, Conflict{KSB: k, Kept: ref(kept.Decision, keptValue), Overruled: ref(d, action)})
			})
		}
		for _, k := range d.Accept {
			ksb(NormalizeKSB(k), "accept")
		}
		for _, k := range d.Reject {
			ksb(NormalizeKSB(k), "reject")
		}
		if d.Exclude != nil {
			value := "exclude=" + strconv.FormatBool(*d.Exclude)
			apply(&exclude, value, vd, func(kept Verdict, keptValue string) {
				s.Conflicts = append(s.Conflicts, Conflict{Flag: "exclude", Kept: ref(kept.Decision, keptValue), Overruled: ref(d, value)})
			})
		}
		if d.Confidential != nil {
			s.Conflicts = append(s.Conflicts, marks.apply(vd, *d.Confidential)...)
		}
		switch {
		case d.Confidential != nil && *d.Confidential:
			s.EmployerApproved = false
		case d.Role == RoleEmployer && c.Status == SigVerified && (len(d.Accept) > 0 || d.Confidential != nil):
			s.EmployerApproved = true
		}
	}
	for k, h := range ksbs {
		if h.value == "accept" {
			s.Accepted[k] = h.v
		} else {
			s.Rejected[k] = h.v
		}
	}
	s.Excluded = exclude.value == "exclude=true"
	s.Confidential = len(marks) > 0
	return s
}

// RoleEmployer is the role that owns confidential information: its
// verified confidential=false clears every marking.
const RoleEmployer = "employer"

// markings are the confidential markings standing while Fold applies an
// item's decisions in time order: at most one per role, the latest, in
// the order they were made.
type markings []Verdict

// apply records vd, a decision setting confidential to value, and returns
// a Conflict for each marking a confidential=false leaves standing. The
// rule is State's.
func (m *markings) apply(vd Verdict, value bool) []Conflict {
	d := vd.Decision
	verified := vd.Check.Status == SigVerified
	if !value && d.Role == RoleEmployer && verified {
		*m = nil
		return nil
	}
	if value || d.Role == RoleApprentice || verified {
		// A marking replaces its role's earlier one; a clearing
		// that counts as its role removes it.
		*m = slices.DeleteFunc(*m, func(x Verdict) bool { return x.Decision.Role == d.Role })
	}
	if value {
		*m = append(*m, vd)
		return nil
	}
	var cs []Conflict
	for _, x := range *m {
		cs = append(cs, Conflict{Flag: "confidential", Kept: ref(x.Decision, "confidential=true"), Overruled: ref(d, "confidential=false")})
	}
	return cs
}

// ref names d, which did action, in a Conflict.
func ref(d Decision, action string) DecisionRef {
	return DecisionRef{ID: d.ID, At: d.At, By: d.By, Role: d.Role, Action: action}
}

// Reviewed returns the item's tags with the review's effect st applied:
// tags on rejected KSBs are dropped, and each accepted KSB gets a
// "review:<role>" tag whose reason says whether the acceptance is
// confirmed. The item itself is not changed.
func Reviewed(it Item, st State) []Tag {
	var out []Tag
	catalogue := ""
	for _, t := range it.Tags {
		if catalogue == "" {
			catalogue = t.Catalogue
		}
		if _, rej := st.Rejected[t.KSB]; rej {
			continue
		}
		out = append(out, t)
	}
	keys := make([]string, 0, len(st.Accepted))
	for k := range st.Accepted {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := st.Accepted[k]
		reason := "accepted by " + v.Decision.By
		if !v.Confirmed && v.Decision.Role != RoleApprentice {
			reason += " (" + string(v.Check.Status) + ": counts as claimed)"
		}
		if v.Decision.Note != "" {
			reason += ": " + v.Decision.Note
		}
		out = append(out, Tag{KSB: k, By: ByReview + v.Decision.Role, Confidence: 1, Reason: reason, Catalogue: catalogue})
	}
	return out
}

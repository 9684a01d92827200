package evidence

import (
	"crypto/rand"
	"encoding/hex"
	"sort"
	"time"
)

// Roles that may record a review.
var Roles = []string{"apprentice", "coach", "employer", "assessor"}

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
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
}

// NewDecisionID returns a random decision ID (32 hex digits).
func NewDecisionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// State is the effect of all decisions on an item: later decisions win.
type State struct {
	Accepted     map[string]Decision // KSB → the decision that accepted it
	Rejected     map[string]Decision // KSB → the decision that rejected it
	Excluded     bool
	Confidential bool
}

// State folds the decisions, oldest first, into their current effect.
func (r *Review) State() State {
	s := State{Accepted: map[string]Decision{}, Rejected: map[string]Decision{}}
	if r == nil {
		return s
	}
	ds := append([]Decision(nil), r.Decisions...)
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].At.Before(ds[j].At) })
	for _, d := range ds {
		for _, k := range d.Accept {
			delete(s.Rejected, k)
			s.Accepted[k] = d
		}
		for _, k := range d.Reject {
			delete(s.Accepted, k)
			s.Rejected[k] = d
		}
		if d.Exclude != nil {
			s.Excluded = *d.Exclude
		}
		if d.Confidential != nil {
			s.Confidential = *d.Confidential
		}
	}
	return s
}

// Reviewed returns the item's tags with the review applied: tags on
// rejected KSBs are dropped, and each accepted KSB gets a "review:<role>"
// tag. The item itself is not changed.
func Reviewed(it Item, r *Review) []Tag {
	st := r.State()
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
		d := st.Accepted[k]
		reason := "accepted by " + d.By
		if d.Note != "" {
			reason += ": " + d.Note
		}
		out = append(out, Tag{KSB: k, By: ByReview + d.Role, Confidence: 1, Reason: reason, Catalogue: catalogue})
	}
	return out
}

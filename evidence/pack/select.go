// Package pack builds the portfolio pack: the items chosen to evidence the
// KSBs the portfolio covers (Select), a self-contained index.html with the
// selected artefacts, manifest.json and SHA256SUMS (Build), written as a
// folder or a byte-for-byte reproducible zip (WriteDir, WriteZip), signed
// with ed25519 (Sign) and checked years later (Verify).
//
// It reads the ledger only through a ledger.Snapshot and the blob reader it
// is given; it never writes to the ledger.
package pack

import (
	"slices"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
)

// Level is how strongly an item evidences a KSB.
type Level int

// The levels, weakest first.
const (
	None      Level = iota
	Suggested       // only a rule tag nobody reviewed
	Claimed         // declared by the apprentice, or accepted without a verified signature
	Confirmed       // accepted by a configured reviewer with a verified signature
)

func (l Level) String() string {
	switch l {
	case Suggested:
		return "suggested"
	case Claimed:
		return "claimed"
	case Confirmed:
		return "confirmed"
	}
	return "none"
}

// Levels returns, for every KSB the view evidences, how strongly: rejected
// tags count for nothing; an accepted KSB is confirmed when the accepting
// decision is verified and not the apprentice's, else claimed; a rule tag
// nobody reviewed is suggested and any other tag claimed.
func Levels(v *ledger.View) map[string]Level {
	out := map[string]Level{}
	raise := func(k string, l Level) {
		if l > out[k] {
			out[k] = l
		}
	}
	for _, t := range v.Item.Tags {
		k := evidence.NormalizeKSB(t.KSB)
		if _, rej := v.State.Rejected[k]; rej {
			continue
		}
		if _, acc := v.State.Accepted[k]; acc {
			continue
		}
		if t.IsRule() {
			raise(k, Suggested)
		} else {
			raise(k, Claimed)
		}
	}
	for k, vd := range v.State.Accepted {
		if vd.Confirmed {
			raise(k, Confirmed)
		} else {
			raise(k, Claimed)
		}
	}
	return out
}

// Released returns snap as the pack shows it: every confidential item the
// employer approved (evidence.State.EmployerApproved) no longer marked
// confidential, so that what goes beside index.html (the workbook)
// withholds exactly what the page withholds. snap itself is not changed.
func Released(snap *ledger.Snapshot) *ledger.Snapshot {
	out := *snap
	out.Views = slices.Clone(snap.Views)
	for i := range out.Views {
		if v := &out.Views[i]; v.Confidential && v.State.EmployerApproved {
			v.Confidential = false
		}
	}
	return &out
}

// Chosen is one selected item.
type Chosen struct {
	View   *ledger.View
	Levels map[string]Level // every KSB it evidences
	// Gain lists the covered KSBs it was chosen for (set cover order);
	// empty when every evidenced item is included.
	Gain []string
}

// Withheld is a confidential item left out of the pack; only its ID, kind
// and date are shown.
type Withheld struct {
	ID   string
	Kind evidence.Kind
	At   string // YYYY-MM-DD
}

// Selection is what Select chose.
type Selection struct {
	// Items are the chosen items, oldest first (by OccurredAt, then ID).
	Items []Chosen
	// Withheld are the confidential items without an employer approval.
	Withheld []Withheld
	// Excluded counts the items a review excluded (never shown).
	Excluded int
	// Covered maps each KSB of covers the chosen items evidence to the
	// strongest level among them; Uncovered lists the KSBs of covers none
	// of them evidences, in catalogue order.
	Covered   map[string]Level
	Uncovered []string
	// Max is the limit asked for (0: none).
	Max int
}

// weight is what evidencing a KSB at l is worth to the set cover: a newly
// covered KSB always outweighs any number of upgrades (confirmed over
// claimed over suggested) on KSBs already covered.
func weight(l Level) int {
	if l == None {
		return 0
	}
	return 1000 + int(l)
}

// richness ranks a fuller item above a thinner one: its facts, artefacts
// and links.
func richness(v *ledger.View) int {
	return len(v.Item.Facts) + 2*len(v.Item.Artefacts) + len(v.Item.Links)
}

// Select chooses the items of views for the pack. Excluded items never
// appear; confidential ones are withheld unless State.EmployerApproved. With max
// <= 0 it takes every remaining item that evidences a KSB. Otherwise it
// takes at most max items by a greedy weighted set cover over covers:
// each step takes the item that adds the most weight (weight) over the
// KSBs of covers, ties broken by richness and then by item ID, and stops
// when no item adds anything.
func Select(views []ledger.View, covers []string, max int) Selection {
	sel := Selection{Covered: map[string]Level{}, Max: max}
	var cands []Chosen
	for i := range views {
		v := &views[i]
		switch {
		case v.Excluded:
			sel.Excluded++
			continue
		case v.Confidential && !v.State.EmployerApproved:
			sel.Withheld = append(sel.Withheld, Withheld{ID: v.Item.ID, Kind: v.Item.Kind, At: v.Item.OccurredAt.UTC().Format("2006-01-02")})
			continue
		}
		lv := Levels(v)
		if len(lv) == 0 {
			continue
		}
		cands = append(cands, Chosen{View: v, Levels: lv})
	}
	inCovers := make(map[string]bool, len(covers))
	for _, k := range covers {
		inCovers[evidence.NormalizeKSB(k)] = true
	}
	if max <= 0 {
		sel.Items = cands
	} else {
		best := map[string]Level{}
		used := make([]bool, len(cands))
		for len(sel.Items) < max {
			pick, pickGain := -1, 0
			for i := range cands {
				if used[i] {
					continue
				}
				g := 0
				for k, l := range cands[i].Levels {
					if inCovers[k] && l > best[k] {
						g += weight(l) - weight(best[k])
					}
				}
				if g == 0 {
					continue
				}
				if pick < 0 || better(g, &cands[i], pickGain, &cands[pick]) {
					pick, pickGain = i, g
				}
			}
			if pick < 0 {
				break
			}
			used[pick] = true
			c := cands[pick]
			for k, l := range c.Levels {
				if inCovers[k] && l > best[k] {
					c.Gain = append(c.Gain, k)
					best[k] = l
				}
			}
			slices.SortFunc(c.Gain, evidence.CompareKSB)
			sel.Items = append(sel.Items, c)
		}
		slices.SortFunc(sel.Items, func(a, b Chosen) int {
			return evidence.CompareOccurred(a.View.Item.OccurredAt, a.View.Item.ID, b.View.Item.OccurredAt, b.View.Item.ID)
		})
	}
	for _, c := range sel.Items {
		for k, l := range c.Levels {
			if inCovers[k] && l > sel.Covered[k] {
				sel.Covered[k] = l
			}
		}
	}
	for _, k := range covers {
		if sel.Covered[evidence.NormalizeKSB(k)] == None {
			sel.Uncovered = append(sel.Uncovered, k)
		}
	}
	return sel
}

// better reports whether candidate a (adding ga) beats b (adding gb).
func better(ga int, a *Chosen, gb int, b *Chosen) bool {
	if ga != gb {
		return ga > gb
	}
	if ra, rb := richness(a.View), richness(b.View); ra != rb {
		return ra > rb
	}
	return a.View.Item.ID < b.View.Item.ID
}

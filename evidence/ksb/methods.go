package ksb

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// LabelOnlyMarker prefixes every label shown in place of a statement, so a
// short paraphrase is never mistaken for the official wording.
const LabelOnlyMarker = "[label only — official statement not known]"

// noStatementMarker is shown for a KSB with neither statement nor label
// (Validate rejects such catalogues, but Display must still say something
// honest).
const noStatementMarker = "[official statement not known]"

var (
	catalogueIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	// canonicalKSBPattern is a KSB code as catalogues store it: K, S or B
	// and a number from 1 without leading zeros.
	canonicalKSBPattern = regexp.MustCompile(`^[KSB][1-9][0-9]{0,2}$`)
)

// ValidCatalogueID reports whether id is usable as a catalogue ID: a
// lower-case slug, safe as a file name and an object key
// (standards/<id>.yaml).
func ValidCatalogueID(id string) bool { return catalogueIDPattern.MatchString(id) }

// KindOf returns the kind that a KSB code's letter names ("K12" →
// Knowledge), or "" when the code does not start with K, S or B.
func KindOf(id string) string {
	switch {
	case strings.HasPrefix(id, "K"):
		return Knowledge
	case strings.HasPrefix(id, "S"):
		return Skill
	case strings.HasPrefix(id, "B"):
		return Behaviour
	}
	return ""
}

// HasStatement reports whether the KSB's statement is known (not only a
// label).
func (k KSB) HasStatement() bool { return strings.TrimSpace(k.Statement) != "" }

// Display is the text to show for the KSB: its statement, or, when only a
// label is known, the label behind LabelOnlyMarker. It never returns a bare
// label.
func (k KSB) Display() string {
	if k.HasStatement() {
		return k.Statement
	}
	if l := strings.TrimSpace(k.Label); l != "" {
		return LabelOnlyMarker + " " + l
	}
	return noStatementMarker
}

// Lookup finds a KSB by ID; id is normalised first ("s10 " finds S10).
func (c *Catalogue) Lookup(id string) (KSB, bool) {
	if c == nil {
		return KSB{}, false
	}
	id = evidence.NormalizeKSB(id)
	for _, k := range c.KSBs {
		if k.ID == id {
			return k, true
		}
	}
	return KSB{}, false
}

// Counts returns how many knowledge, skill and behaviour KSBs the
// catalogue holds.
func (c *Catalogue) Counts() (k, s, b int) {
	if c == nil {
		return 0, 0, 0
	}
	for _, x := range c.KSBs {
		switch x.Kind {
		case Knowledge:
			k++
		case Skill:
			s++
		case Behaviour:
			b++
		}
	}
	return k, s, b
}

// Validate checks that the catalogue can be used and stored: a safe ID,
// at least one KSB, every KSB ID of the form K|S|B + number (from 1, no
// leading zeros) and unique, each kind valid and matching its ID's letter,
// each KSB with a statement or a label, and a catalogue that claims to be
// complete holding every KSB with its statement. Every problem is reported,
// joined with errors.Join.
func (c *Catalogue) Validate() error {
	if c == nil {
		return errors.New("catalogue: nil")
	}
	var errs []error
	switch {
	case c.ID == "":
		errs = append(errs, errors.New("id: empty"))
	case !ValidCatalogueID(c.ID):
		errs = append(errs, fmt.Errorf("id %q: not a lower-case slug (a-z, 0-9, '.', '_', '-'; at most 64 characters)", c.ID))
	}
	if len(c.KSBs) == 0 {
		errs = append(errs, errors.New("ksbs: none"))
	}
	if c.TotalKSBs < 0 {
		errs = append(errs, fmt.Errorf("total_ksbs %d: negative", c.TotalKSBs))
	} else if c.TotalKSBs > 0 && len(c.KSBs) > c.TotalKSBs {
		errs = append(errs, fmt.Errorf("total_ksbs %d: fewer than the %d KSBs listed", c.TotalKSBs, len(c.KSBs)))
	}
	if c.Level < 0 {
		errs = append(errs, fmt.Errorf("level %d: negative", c.Level))
	}
	seen := make(map[string]int, len(c.KSBs))
	for i, k := range c.KSBs {
		where := fmt.Sprintf("ksbs[%d]", i)
		if k.ID != "" {
			where += " (" + k.ID + ")"
		}
		switch {
		case k.ID == "":
			errs = append(errs, fmt.Errorf("%s: id empty", where))
		case !canonicalKSBPattern.MatchString(k.ID):
			errs = append(errs, fmt.Errorf("%s: id %q is not K, S or B followed by a number from 1 (no leading zeros)", where, k.ID))
		default:
			if j, dup := seen[k.ID]; dup {
				errs = append(errs, fmt.Errorf("%s: duplicate id, also ksbs[%d]", where, j))
			} else {
				seen[k.ID] = i
			}
		}
		switch k.Kind {
		case Knowledge, Skill, Behaviour:
			if want := KindOf(k.ID); want != "" && want != k.Kind {
				errs = append(errs, fmt.Errorf("%s: kind %q does not match the id's letter (%s)", where, k.Kind, want))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: kind %q is not knowledge, skill or behaviour", where, k.Kind))
		}
		if !k.HasStatement() && strings.TrimSpace(k.Label) == "" {
			errs = append(errs, fmt.Errorf("%s: neither statement nor label", where))
		}
		if c.Complete && !k.HasStatement() {
			errs = append(errs, fmt.Errorf("%s: no statement, but the catalogue says it is complete", where))
		}
	}
	if c.Complete && c.TotalKSBs > 0 && len(c.KSBs) != c.TotalKSBs {
		errs = append(errs, fmt.Errorf("complete: the catalogue lists %d KSBs but total_ksbs is %d", len(c.KSBs), c.TotalKSBs))
	}
	duties := make(map[string]int, len(c.Duties))
	for i, d := range c.Duties {
		where := fmt.Sprintf("duties[%d]", i)
		if d.ID == "" {
			errs = append(errs, fmt.Errorf("%s: id empty", where))
		} else if j, dup := duties[d.ID]; dup {
			errs = append(errs, fmt.Errorf("%s (%s): duplicate id, also duties[%d]", where, d.ID, j))
		} else {
			duties[d.ID] = i
		}
		if strings.TrimSpace(d.Text) == "" {
			errs = append(errs, fmt.Errorf("%s: text empty", where))
		}
	}
	return errors.Join(errs...)
}

// CompareIDs orders KSB codes naturally: knowledge before skills before
// behaviours, then by number (K5 < K11 < S1 < B2). Codes that do not look
// like KSBs sort after those that do, by string.
func CompareIDs(a, b string) int { return evidence.CompareKSB(a, b) }

// sortKSBs puts ks in natural order (CompareIDs); stable, so entries with
// equal IDs keep their relative order.
func sortKSBs(ks []KSB) {
	slices.SortStableFunc(ks, func(a, b KSB) int { return CompareIDs(a.ID, b.ID) })
}

// Clone returns a deep copy of the catalogue.
func (c *Catalogue) Clone() *Catalogue {
	if c == nil {
		return nil
	}
	out := *c
	out.Notes = slices.Clone(c.Notes)
	out.Duties = slices.Clone(c.Duties)
	out.KSBs = slices.Clone(c.KSBs)
	for i := range out.KSBs {
		out.KSBs[i].Methods = slices.Clone(c.KSBs[i].Methods)
	}
	return &out
}

// canonicalize brings a parsed catalogue to the form every constructor
// returns: KSB IDs normalised, empty kinds filled from the ID's letter, KSBs
// in natural order, and empty lists nil (so a YAML round trip, which omits
// empty lists, gives an equal value).
func (c *Catalogue) canonicalize() {
	for i := range c.KSBs {
		k := &c.KSBs[i]
		k.ID = evidence.NormalizeKSB(k.ID)
		if k.Kind == "" {
			k.Kind = KindOf(k.ID)
		}
		if len(k.Methods) == 0 {
			k.Methods = nil
		}
	}
	sortKSBs(c.KSBs)
	if len(c.Notes) == 0 {
		c.Notes = nil
	}
	if len(c.Duties) == 0 {
		c.Duties = nil
	}
	if len(c.KSBs) == 0 {
		c.KSBs = nil
	}
}

package ksb

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ksbfolio/ksbfolio/evidence"
)

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
// each KSB with a statement, a complete catalogue holding total_ksbs KSBs,
// duties with unique IDs, a text and KSBs the catalogue has, and, when the
// catalogue lists its assessment methods, every KSB's methods among them
// and its grade theme one of its method's themes. Every problem is
// reported, joined with errors.Join.
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
	methods := map[string]*Method{}
	for i := range c.Methods {
		m := &c.Methods[i]
		switch {
		case m.ID == "":
			errs = append(errs, fmt.Errorf("methods[%d]: id empty", i))
		case methods[m.ID] != nil:
			errs = append(errs, fmt.Errorf("methods[%d] (%s): duplicate id", i, m.ID))
		default:
			methods[m.ID] = m
		}
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
		if strings.TrimSpace(k.Statement) == "" {
			errs = append(errs, fmt.Errorf("%s: no statement", where))
		}
		if len(c.Methods) == 0 {
			continue
		}
		for _, m := range k.Methods {
			if methods[m] == nil {
				errs = append(errs, fmt.Errorf("%s: method %q is not one of the catalogue's methods (%s)", where, m, strings.Join(c.MethodIDs(), ", ")))
			}
		}
		if k.GradeTheme != "" && !slices.ContainsFunc(k.Methods, func(m string) bool {
			return methods[m] != nil && slices.Contains(methods[m].Themes, k.GradeTheme)
		}) {
			errs = append(errs, fmt.Errorf("%s: grade theme %q is not a theme of its methods (%s)", where, k.GradeTheme, strings.Join(k.Methods, ", ")))
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
			where += " (" + d.ID + ")"
		}
		if strings.TrimSpace(d.Text) == "" {
			errs = append(errs, fmt.Errorf("%s: text empty", where))
		}
		for _, k := range d.KSBs {
			if _, ok := seen[k]; !ok {
				errs = append(errs, fmt.Errorf("%s: KSB %s is not in the catalogue", where, k))
			}
		}
	}
	return errors.Join(errs...)
}

// MethodIDs lists the IDs of the catalogue's assessment methods, in order.
func (c *Catalogue) MethodIDs() []string {
	ids := make([]string, len(c.Methods))
	for i, m := range c.Methods {
		ids[i] = m.ID
	}
	return ids
}

// Method finds an assessment method by ID.
func (c *Catalogue) Method(id string) (Method, bool) {
	for _, m := range c.Methods {
		if m.ID == id {
			return m, true
		}
	}
	return Method{}, false
}

// AssessedBy lists, in natural order, the IDs of the KSBs that the
// assessment method assesses.
func (c *Catalogue) AssessedBy(method string) []string {
	var ids []string
	for _, k := range c.KSBs {
		if slices.Contains(k.Methods, method) {
			ids = append(ids, k.ID)
		}
	}
	slices.SortFunc(ids, CompareIDs)
	return ids
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
	out.Facts = slices.Clone(c.Facts)
	out.VersionLog = slices.Clone(c.VersionLog)
	out.Methods = slices.Clone(c.Methods)
	for i := range out.Methods {
		out.Methods[i].Themes = slices.Clone(c.Methods[i].Themes)
		out.Methods[i].Distinction = slices.Clone(c.Methods[i].Distinction)
	}
	out.Duties = slices.Clone(c.Duties)
	for i := range out.Duties {
		out.Duties[i].KSBs = slices.Clone(c.Duties[i].KSBs)
	}
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
	for i := range c.Duties {
		d := &c.Duties[i]
		for j := range d.KSBs {
			d.KSBs[j] = evidence.NormalizeKSB(d.KSBs[j])
		}
		if len(d.KSBs) == 0 {
			d.KSBs = nil
		}
	}
	for i := range c.Methods {
		m := &c.Methods[i]
		if len(m.Themes) == 0 {
			m.Themes = nil
		}
		if len(m.Distinction) == 0 {
			m.Distinction = nil
		}
	}
	if len(c.Notes) == 0 {
		c.Notes = nil
	}
	if len(c.Facts) == 0 {
		c.Facts = nil
	}
	if len(c.VersionLog) == 0 {
		c.VersionLog = nil
	}
	if len(c.Methods) == 0 {
		c.Methods = nil
	}
	if len(c.Duties) == 0 {
		c.Duties = nil
	}
	if len(c.KSBs) == 0 {
		c.KSBs = nil
	}
}

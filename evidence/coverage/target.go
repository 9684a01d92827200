package coverage

import (
	"fmt"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
)

// Target is what a report is judged against beside the catalogue: the KSBs
// the portfolio must cover, and which version of the standard applies to
// the apprentice.
type Target struct {
	Covers  Covers       // zero: every KSB of the catalogue (All)
	Version *VersionNote // nil: nothing to say
}

// Names of covers sets that are not an assessment method.
const (
	CoversAll    = "all"
	CoversListed = "listed"
	// DefaultMethod is the method whose KSBs the portfolio covers by
	// default: the portfolio is what the apprentice takes into the
	// professional discussion.
	DefaultMethod = "professional_discussion"
)

// Covers is the set of KSBs the portfolio must cover.
type Covers struct {
	// Set is how the set was chosen: an assessment method's ID
	// ("professional_discussion"), "all", or "listed" (IDs given one by
	// one).
	Set string `json:"set"`
	// Name says it in words, after "KSBs": "assessed by the professional
	// discussion", "of catalogue st1398-v1.0", "listed in portfolio.covers".
	Name string `json:"name"`
	// KSBs are the set's IDs in natural order; never null.
	KSBs []string `json:"ksbs"`
}

// All is the set of every KSB of the catalogue.
func All(cat *ksb.Catalogue) Covers {
	ids := make([]string, 0, len(cat.KSBs))
	for _, k := range cat.KSBs {
		ids = append(ids, evidence.NormalizeKSB(k.ID))
	}
	sortIDs(ids)
	return Covers{Set: CoversAll, Name: "of catalogue " + cat.ID, KSBs: ids}
}

// NewCovers resolves the configured set against the catalogue. set is a
// method ID, "all", or "" for the default; ids, when not empty, lists the
// KSBs one by one (set is then ignored). The default is the KSBs the
// professional discussion assesses, or every KSB when the catalogue does
// not say which method assesses what. A method the catalogue lacks, or a
// listed KSB it lacks, is an error naming it and what the catalogue has.
func NewCovers(cat *ksb.Catalogue, set string, ids []string) (Covers, error) {
	switch {
	case len(ids) > 0:
		out := Covers{Set: CoversListed, Name: "listed in portfolio.covers"}
		seen := map[string]bool{}
		var missing []string
		for _, raw := range ids {
			id := evidence.NormalizeKSB(raw)
			if seen[id] {
				continue
			}
			seen[id] = true
			if _, ok := cat.Lookup(id); !ok {
				missing = append(missing, id)
				continue
			}
			out.KSBs = append(out.KSBs, id)
		}
		if len(missing) > 0 {
			return Covers{}, fmt.Errorf("portfolio.covers: catalogue %s has no %s", cat.ID, strings.Join(missing, ", "))
		}
		sortIDs(out.KSBs)
		return out, nil
	case set == CoversAll:
		return All(cat), nil
	case set == "":
		if len(cat.AssessedBy(DefaultMethod)) == 0 {
			return All(cat), nil
		}
		set = DefaultMethod
	}
	ids = cat.AssessedBy(set)
	if len(ids) == 0 {
		methods := cat.MethodIDs()
		if len(methods) == 0 {
			return Covers{}, fmt.Errorf("portfolio.covers: %s: catalogue %s does not say which assessment method assesses its KSBs; use all or list the KSBs", set, cat.ID)
		}
		return Covers{}, fmt.Errorf("portfolio.covers: %s: not an assessment method of catalogue %s (%s, or all, or a list of KSBs)",
			set, cat.ID, strings.Join(methods, ", "))
	}
	return Covers{Set: set, Name: "assessed by the " + methodName(cat, set), KSBs: ids}, nil
}

// methodName is the method's name, or its ID in words.
func methodName(cat *ksb.Catalogue, id string) string {
	if m, ok := cat.Method(id); ok && m.Name != "" {
		return m.Name
	}
	return strings.ReplaceAll(id, "_", " ")
}

// VersionNote says which version of the standard applies to the
// apprentice, from the standard's version log and the apprentice's start.
type VersionNote struct {
	Start string `json:"start"` // the apprentice's start, YYYY-MM-DD; "" when not configured
	// Applies is the version log's version for that start ("1.0",
	// "revised (number not shown)"); "" when it cannot be told.
	Applies string `json:"applies"`
	// Current says the catalogue is that version.
	Current bool   `json:"current"`
	Note    string `json:"note"` // one line for a person
}

// StandardVersion tells which version of the standard in log applies to an
// apprentice who started on start (zero: unknown), and whether cat is it
// (ksb.MatchVersion: a log entry without a version number is taken to be
// cat's version when cat's version is not in the log). It returns nil for
// an empty log.
func StandardVersion(cat *ksb.Catalogue, log []ksb.VersionEntry, start time.Time) *VersionNote {
	if len(log) == 0 {
		return nil
	}
	own := ksb.MatchVersion(log, cat.Version)
	if start.IsZero() {
		note := "the apprentice's start date is not set (apprentice.start), so which version of the standard applies is not checked"
		if own >= 0 && numbered(log[own].Version) {
			note += fmt.Sprintf("; version %s is for starts %s", log[own].Version, span(log[own]))
		}
		return &VersionNote{Note: note}
	}
	day := start.UTC().Format(time.DateOnly)
	i := ksb.VersionIndex(log, start)
	if i < 0 {
		return &VersionNote{Start: day, Note: fmt.Sprintf("no version in the standard's version log is for a start on %s", day)}
	}
	e, current := log[i], i == own
	v := &VersionNote{Start: day, Applies: e.Version, Current: current}
	switch {
	case current:
		v.Note = fmt.Sprintf("version %s applies (start %s; starts %s), and catalogue %s is that version", e.Version, day, span(e), cat.ID)
	default:
		what := "version " + e.Version
		if !numbered(e.Version) {
			what = "the " + e.Version + " version"
		}
		if e.Change != "" {
			what += " (" + e.Change + ")"
		}
		v.Note = fmt.Sprintf("the apprentice started on %s, so %s applies (starts %s); its KSB list is not known to this catalogue, "+
			"which is version %s: when it is published, import it (ksbfolio standard import FILE --id %s) and select it with standard:",
			day, what, span(e), cat.Version, nextID(cat))
	}
	return v
}

// span writes an entry's starts: "2024-12-18 to 2026-12-10", "from
// 2026-12-11".
func span(e ksb.VersionEntry) string {
	from, to := isDay(e.EarliestStart), isDay(e.LatestStart)
	switch {
	case from && to:
		return e.EarliestStart + " to " + e.LatestStart
	case from:
		return "from " + e.EarliestStart
	case to:
		return "until " + e.LatestStart
	}
	return "of any date"
}

func isDay(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// numbered reports whether a version log version is a number ("1.0").
func numbered(v string) bool { return v != "" && v[0] >= '0' && v[0] <= '9' }

// nextID suggests an ID for the next version's catalogue: st1398-v1.0 →
// st1398-v2.0.
func nextID(cat *ksb.Catalogue) string {
	ref := strings.ToLower(cat.Reference)
	if ref == "" {
		return "<id>"
	}
	major := 1
	if _, err := fmt.Sscanf(cat.Version, "%d", &major); err != nil {
		major = 1
	}
	return fmt.Sprintf("%s-v%d.0", ref, major+1)
}

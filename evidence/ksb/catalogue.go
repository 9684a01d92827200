// Package ksb holds KSB catalogues: the knowledge, skills and behaviours of
// an apprenticeship standard, as data. The built-in ST1398 v1.0 catalogue
// is embedded verbatim from the official list (builtin/st1398-v1.0.yaml);
// other lists are imported with `standard import`.
package ksb

// Kinds of KSB.
const (
	Knowledge = "knowledge"
	Skill     = "skill"
	Behaviour = "behaviour"
)

// Catalogue is one version of one standard's KSB list.
type Catalogue struct {
	ID        string `yaml:"id" json:"id"`               // e.g. "st1398-v1.0"
	Title     string `yaml:"title" json:"title"`         // "Machine learning engineer"
	Reference string `yaml:"reference" json:"reference"` // "ST1398"
	Version   string `yaml:"version" json:"version"`     // "1.0"
	Level     int    `yaml:"level,omitempty" json:"level,omitempty"`
	// Complete is true only when the catalogue holds every KSB of the
	// standard with its official statement. Gateway readiness is never
	// claimed against an incomplete catalogue.
	Complete bool `yaml:"complete" json:"complete"`
	// TotalKSBs is how many KSBs the standard has, when known (0: unknown).
	TotalKSBs  int    `yaml:"total_ksbs,omitempty" json:"total_ksbs,omitempty"`
	Provenance string `yaml:"provenance,omitempty" json:"provenance,omitempty"` // where the list came from
	// Licence names the licence of the text, e.g. "OGL-UK-3.0"; the
	// attribution it asks for is in Provenance.
	Licence string   `yaml:"licence,omitempty" json:"licence,omitempty"`
	Notes   []string `yaml:"notes,omitempty" json:"notes,omitempty"`
	// Facts are the standard's published facts (status, dates, funding,
	// route, …) in the order the source gives them.
	Facts []Fact `yaml:"facts,omitempty" json:"facts,omitempty"`
	// VersionLog says which version of the standard applies to which
	// apprenticeship starts, oldest first.
	VersionLog []VersionEntry `yaml:"version_log,omitempty" json:"version_log,omitempty"`
	// Methods are the assessment methods of the end-point assessment plan,
	// with their grade themes in the plan's order. KSB.Methods names them
	// by ID.
	Methods []Method `yaml:"methods,omitempty" json:"methods,omitempty"`
	Duties  []Duty   `yaml:"duties,omitempty" json:"duties,omitempty"`
	KSBs    []KSB    `yaml:"ksbs" json:"ksbs"`
}

// KSB is one knowledge, skill or behaviour.
type KSB struct {
	ID   string `yaml:"id" json:"id"`     // "K12", "S10", "B3"
	Kind string `yaml:"kind" json:"kind"` // knowledge | skill | behaviour
	// Statement is the KSB's wording as published (for an imported list:
	// as the importer gave it). Never empty in a valid catalogue.
	Statement  string `yaml:"statement" json:"statement"`
	Source     string `yaml:"source,omitempty" json:"source,omitempty"`         // where this entry came from, when not the catalogue's provenance
	Confidence string `yaml:"confidence,omitempty" json:"confidence,omitempty"` // e.g. "imported"
	Note       string `yaml:"note,omitempty" json:"note,omitempty"`
	// Methods are the IDs of the assessment methods that assess the KSB
	// ("project", "professional_discussion"); empty: unknown.
	Methods []string `yaml:"methods,omitempty" json:"methods,omitempty"`
	// GradeTheme is the theme of the method's grading descriptors the KSB
	// is listed under ("Model management"); empty: unknown.
	GradeTheme string `yaml:"grade_theme,omitempty" json:"grade_theme,omitempty"`
}

// Duty is one duty of the occupation.
type Duty struct {
	ID         string   `yaml:"id" json:"id"`
	Text       string   `yaml:"text" json:"text"`
	KSBs       []string `yaml:"ksbs,omitempty" json:"ksbs,omitempty"` // the KSBs the standard maps to the duty
	Source     string   `yaml:"source,omitempty" json:"source,omitempty"`
	Confidence string   `yaml:"confidence,omitempty" json:"confidence,omitempty"`
}

// Fact is one published fact about the standard ("approved_for_delivery":
// "2024-12-18").
type Fact struct {
	Name  string `yaml:"name" json:"name"`
	Value string `yaml:"value" json:"value"`
}

// VersionEntry is one line of a standard's version log: a version and the
// apprenticeship starts it applies to. Starts are YYYY-MM-DD, or the
// source's words when it gives no date ("Not set": open-ended).
type VersionEntry struct {
	Version       string `yaml:"version" json:"version"` // "1.0", or the source's words ("revised (number not shown)")
	Change        string `yaml:"change,omitempty" json:"change,omitempty"`
	EarliestStart string `yaml:"earliest_start,omitempty" json:"earliest_start,omitempty"`
	LatestStart   string `yaml:"latest_start,omitempty" json:"latest_start,omitempty"`
}

// Method is one assessment method of the end-point assessment.
type Method struct {
	ID   string `yaml:"id" json:"id"`     // "professional_discussion"
	Name string `yaml:"name" json:"name"` // "professional discussion"
	// Themes are the grade themes of the method's descriptors, in the
	// plan's order.
	Themes []string `yaml:"grade_themes,omitempty" json:"grade_themes,omitempty"`
	// Distinction holds the distinction descriptors as published.
	Distinction []string `yaml:"distinction_descriptors,omitempty" json:"distinction_descriptors,omitempty"`
}

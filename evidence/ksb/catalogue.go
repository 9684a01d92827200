// Package ksb holds KSB catalogues: the knowledge, skills and behaviours of
// an apprenticeship standard, as data. The built-in ST1398 v1.0 catalogue
// is embedded from the project's reference material and is incomplete;
// training providers import the official list with `standard import`.
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
	TotalKSBs  int      `yaml:"total_ksbs,omitempty" json:"total_ksbs,omitempty"`
	Provenance string   `yaml:"provenance,omitempty" json:"provenance,omitempty"` // where the list came from
	Notes      []string `yaml:"notes,omitempty" json:"notes,omitempty"`
	Duties     []Duty   `yaml:"duties,omitempty" json:"duties,omitempty"`
	KSBs       []KSB    `yaml:"ksbs" json:"ksbs"`
}

// KSB is one knowledge, skill or behaviour.
type KSB struct {
	ID   string `yaml:"id" json:"id"`     // "K12", "S10", "B3"
	Kind string `yaml:"kind" json:"kind"` // knowledge | skill | behaviour
	// Statement is the KSB's wording as published, or as quoted by a
	// source that says it is quoting. Empty when only a label is known.
	Statement string `yaml:"statement,omitempty" json:"statement,omitempty"`
	// Label is a short paraphrase. It is never the official statement and
	// must never be shown as one.
	Label      string   `yaml:"label,omitempty" json:"label,omitempty"`
	Source     string   `yaml:"source,omitempty" json:"source,omitempty"`         // provenance of this entry
	Confidence string   `yaml:"confidence,omitempty" json:"confidence,omitempty"` // e.g. "provider-quoted"
	Note       string   `yaml:"note,omitempty" json:"note,omitempty"`
	Methods    []string `yaml:"methods,omitempty" json:"methods,omitempty"` // assessment methods; empty: unknown
}

// Duty is one duty of the occupation.
type Duty struct {
	ID         string `yaml:"id" json:"id"`
	Text       string `yaml:"text" json:"text"`
	Source     string `yaml:"source,omitempty" json:"source,omitempty"`
	Confidence string `yaml:"confidence,omitempty" json:"confidence,omitempty"`
}

// Package evidence holds the domain nouns of ksbfolio: evidence items, their
// tags, artefacts and redaction records. It does no I/O and imports nothing
// but the standard library; every other package speaks in these types.
//
// The JSON form of Item is a published contract (docs/ledger.md, "Items"):
// scripts and assessors read these field names. Change them only with a new
// SchemaVersion.
package evidence

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SchemaVersion is written into every stored item as "schema".
const SchemaVersion = 1

// Kind says what an item is evidence of.
type Kind string

// The item kinds of docs/ledger.md.
const (
	KindCommit           Kind = "commit"
	KindMerge            Kind = "merge"
	KindRelease          Kind = "release"
	KindTrainingRun      Kind = "training_run"
	KindModelVersion     Kind = "model_version"
	KindDeployment       Kind = "deployment"
	KindRollback         Kind = "rollback"
	KindIncident         Kind = "incident"
	KindScaling          Kind = "scaling"
	KindMonitoringWindow Kind = "monitoring_window"
	KindMonitoringSetup  Kind = "monitoring_setup"
	KindManual           Kind = "manual"
	KindPipelineRun      Kind = "pipeline_run" // an orchestrated pipeline run (Airflow DAG run)
	KindCIJob            Kind = "ci_job"       // a CI job with its steps (GitHub Actions)
)

// Kinds lists every known kind, in a fixed order.
var Kinds = []Kind{KindCommit, KindMerge, KindRelease, KindTrainingRun, KindModelVersion,
	KindDeployment, KindRollback, KindIncident, KindScaling, KindMonitoringWindow,
	KindMonitoringSetup, KindManual, KindPipelineRun, KindCIJob}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Item is one piece of evidence, as stored at apprentices/<id>/items/<item-id>.json.
type Item struct {
	Schema      int            `json:"schema"`
	ID          string         `json:"id"`
	Apprentice  string         `json:"apprentice"`
	Source      string         `json:"source"`      // configured source name, e.g. "model-repo"
	SourceType  string         `json:"source_type"` // "git", "mlflow", "manual", …
	Kind        Kind           `json:"kind"`
	Title       string         `json:"title"`
	Summary     string         `json:"summary"`
	OccurredAt  time.Time      `json:"occurred_at"`
	CollectedAt time.Time      `json:"collected_at"`
	Origin      Origin         `json:"origin"`
	Facts       map[string]any `json:"facts"`
	Artefacts   []Artefact     `json:"artefacts"`
	Tags        []Tag          `json:"tags"`
	Links       []Link         `json:"links"`
	Redactions  []Redaction    `json:"redactions"`
}

// Origin says where an item came from: a URI for the source and the item's
// native identity there (commit SHA, run ID, …).
type Origin struct {
	URI      string `json:"uri"`
	NativeID string `json:"native_id"`
}

// Artefact is a file stored with an item, content-addressed by SHA-256.
type Artefact struct {
	Name      string `json:"name"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
}

// Tag links an item to one KSB. By says who or what made it:
// "rule:<id>", "declared:<trailer|run-tag|add>" or "review:<role>".
// Catalogue and Revision name the KSB catalogue the tag was made (or last
// checked) against and that catalogue's content revision; an empty
// Revision means the tag predates revisions.
type Tag struct {
	KSB        string  `json:"ksb"`
	By         string  `json:"by"`
	Confidence float64 `json:"confidence"`
	Reason     string  `json:"reason"`
	Catalogue  string  `json:"catalogue"`
	Revision   string  `json:"catalogue_revision,omitempty"`
}

// Tag origins, the prefix of Tag.By.
const (
	ByRule     = "rule:"
	ByDeclared = "declared:"
	ByReview   = "review:"
)

// IsRule reports whether the tag was made by a tagging rule (a suggestion).
func (t Tag) IsRule() bool { return strings.HasPrefix(t.By, ByRule) }

// IsDeclared reports whether the apprentice declared the tag at the source.
func (t Tag) IsDeclared() bool { return strings.HasPrefix(t.By, ByDeclared) }

// Link relates an item to another item.
type Link struct {
	Rel  string `json:"rel"`
	Item string `json:"item"`
}

// Redaction records that a rule masked Count secrets in an item. It never
// holds the value.
type Redaction struct {
	Rule  string `json:"rule"`
	Count int    `json:"count"`
}

// NewID derives an item's ID from its source type and native identity
// (commit SHA, run ID, path relative to the source root, …), never from the
// configured source name, so renaming a source or collecting the same commit
// from a fork gives the same ID. The form is "<type>-<32 hex digits>": safe
// as a file name and an object key whatever the native identity holds.
func NewID(sourceType, nativeID string) string {
	sum := sha256.Sum256([]byte(sourceType + "\x00" + nativeID))
	return sourceType + "-" + hex.EncodeToString(sum[:16])
}

// ValidID reports whether id has the form NewID makes: a type of
// lower-case letters, digits and underscores that starts with a letter,
// "-", and 32 lower-case hex digits. (Checked byte by byte: it is asked of
// every item stored and every key listed.)
func ValidID(id string) bool {
	n := len(id) - 33 // the type's length
	if n < 1 || id[n] != '-' || !lowerHex(id[n+1:]) {
		return false
	}
	if c := id[0]; c < 'a' || c > 'z' {
		return false
	}
	for i := 1; i < n; i++ {
		if c := id[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// lowerHex reports whether s is lower-case hex digits only.
func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Validate checks the fields every stored item must have.
func (it *Item) Validate() error {
	var errs []error
	if it.Schema != SchemaVersion {
		errs = append(errs, fmt.Errorf("schema %d: this build reads schema %d", it.Schema, SchemaVersion))
	}
	if !ValidID(it.ID) {
		errs = append(errs, fmt.Errorf("id %q: not of the form <type>-<32 hex>", it.ID))
	}
	if it.Apprentice == "" {
		errs = append(errs, errors.New("apprentice: empty"))
	}
	if it.SourceType == "" {
		errs = append(errs, errors.New("source_type: empty"))
	}
	if !it.Kind.Valid() {
		errs = append(errs, fmt.Errorf("kind %q: unknown", it.Kind))
	}
	if it.OccurredAt.IsZero() {
		errs = append(errs, errors.New("occurred_at: empty"))
	}
	for i, a := range it.Artefacts {
		if !ValidSHA256(a.SHA256) {
			errs = append(errs, fmt.Errorf("artefacts[%d].sha256 %q: not a hex SHA-256", i, a.SHA256))
		}
	}
	return errors.Join(errs...)
}

// ValidSHA256 reports whether s is a lower-case hex SHA-256.
func ValidSHA256(s string) bool { return len(s) == 64 && lowerHex(s) }

// Normalize fills nil slices and maps so that the JSON form always has
// arrays and objects, never null.
func (it *Item) Normalize() {
	if it.Facts == nil {
		it.Facts = map[string]any{}
	}
	if it.Artefacts == nil {
		it.Artefacts = []Artefact{}
	}
	if it.Tags == nil {
		it.Tags = []Tag{}
	}
	if it.Links == nil {
		it.Links = []Link{}
	}
	if it.Redactions == nil {
		it.Redactions = []Redaction{}
	}
}

// NormalizeKSB upper-cases and trims a KSB ID as written by a person
// ("s10 " → "S10"). It does not check the ID against any catalogue.
func NormalizeKSB(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

var ksbIDPattern = regexp.MustCompile(`^[KSB][0-9]{1,3}$`)

// LooksLikeKSB reports whether s (already normalised) has the shape of a
// KSB code: K, S or B followed by a number.
func LooksLikeKSB(s string) bool { return ksbIDPattern.MatchString(s) }

// CompareKSB orders KSB IDs naturally: knowledge, then skills, then
// behaviours, each by number (K2 < K10 < S1 < B1); IDs of any other shape
// come last, in byte order. It returns -1, 0 or +1.
func CompareKSB(a, b string) int {
	ra, na, oka := splitKSB(a)
	rb, nb, okb := splitKSB(b)
	switch {
	case oka && okb:
		if c := cmp.Compare(ra, rb); c != 0 {
			return c
		}
		if c := cmp.Compare(na, nb); c != 0 {
			return c
		}
	case oka:
		return -1
	case okb:
		return 1
	}
	return strings.Compare(a, b)
}

func splitKSB(s string) (rank, num int, ok bool) {
	if !LooksLikeKSB(s) {
		return 0, 0, false
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil {
		return 0, 0, false
	}
	return strings.IndexByte("KSB", s[0]), n, true
}

package ksb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
)

// ImportOptions fills or overrides a catalogue's metadata on import. A
// non-empty field replaces what the source says; an empty one leaves it.
type ImportOptions struct {
	// ID is the catalogue ID (a lower-case slug such as "st1398-v1.0").
	// Required for pasted text, which carries none; for the other formats
	// it overrides the ID in the file or the one derived from reference
	// and version.
	ID string
	// Title, Reference and Version override the source's. For API JSON
	// holding several standards, Reference and Version also pick which
	// one to import.
	Title     string
	Reference string
	Version   string
	// Complete, when set, overrides whether the catalogue is complete.
	// Only whoever provides the list can assert that: pasted text is
	// incomplete unless this says true.
	Complete *bool
}

// Format is one of the catalogue formats Parse reads.
type Format string

// The formats Parse detects.
const (
	// FormatText is the official list pasted as text, one KSB a line
	// ("K1: statement").
	FormatText Format = "text"
	// FormatYAML is a catalogue in this package's own schema (the yaml tags
	// of Catalogue), as Marshal writes it.
	FormatYAML Format = "yaml"
	// FormatJSON is a catalogue in this package's own schema as JSON (the
	// json tags of Catalogue).
	FormatJSON Format = "json"
	// FormatReference is the project's reference list of a standard
	// (standard:, duties:, ksbs: with text, methods and grade_theme, epa:,
	// version_log:), the shape of the built-in catalogue's source.
	FormatReference Format = "reference-yaml"
	// FormatAPIJSON is a standard (or a list of standards) as the Skills
	// England apprenticeship standards API or the courses API publish it.
	FormatAPIJSON Format = "api-json"
)

// DetectFormat says which format data is in, from its content: a JSON
// object or array is API JSON (or a catalogue in our schema when it has
// "id" and "ksbs" and no standard reference); YAML whose top level has
// "standard" and "ksbs" is the reference-list shape; YAML with a top-level
// "ksbs" is our schema; anything else is pasted text.
func DetectFormat(data []byte) Format {
	f, _ := detect(data)
	return f
}

// detect is DetectFormat, also returning why YAML could not be read (for a
// better message when the text parser then finds nothing).
func detect(data []byte) (Format, error) {
	b := bytes.TrimLeft(trimBOM(data), " \t\r\n")
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		if b[0] == '{' && isOwnJSON(b) {
			return FormatJSON, nil
		}
		return FormatAPIJSON, nil
	}
	keys, err := yamlTopKeys(b)
	if err != nil {
		return FormatText, err
	}
	switch {
	case keys["standard"] && keys["labels_only"]:
		return FormatText, errSuperseded
	case keys["standard"] && keys["ksbs"]:
		return FormatReference, nil
	case keys["ksbs"]:
		return FormatYAML, nil
	}
	return FormatText, nil
}

// Parse reads a KSB catalogue in any format DetectFormat knows, applies
// opts and validates the result. name (a file name) is used in messages
// and as the provenance of imported statements. Errors name what was wrong
// and where (line numbers, entries).
func Parse(name string, data []byte, opts ImportOptions) (*Catalogue, error) {
	f, yamlErr := detect(data)
	if errors.Is(yamlErr, errSuperseded) {
		return nil, fmt.Errorf("parse %s: %w", name, yamlErr)
	}
	c, err := ParseFormat(f, name, data, opts)
	if err != nil && f == FormatText && yamlErr != nil && errors.Is(err, errNoKSBs) && looksLikeYAML(data) {
		return nil, fmt.Errorf("%w (read as YAML it fails: %v)", err, yamlErr)
	}
	return c, err
}

// ParseFormat is Parse with the format given rather than detected.
func ParseFormat(f Format, name string, data []byte, opts ImportOptions) (c *Catalogue, err error) {
	switch f {
	case FormatText:
		c, err = parseText(name, data, opts)
	case FormatYAML:
		c, err = parseOwnYAML(name, data, opts)
	case FormatJSON:
		c, err = parseOwnJSON(name, data, opts)
	case FormatReference:
		c, err = parseReference(name, data, opts)
	case FormatAPIJSON:
		c, err = parseAPIJSON(name, data, opts)
	default:
		return nil, fmt.Errorf("parse %s: unknown format %q", name, f)
	}
	if err != nil {
		return nil, err
	}
	c.canonicalize()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("catalogue from %s (%s) is not valid: %w", name, f, err)
	}
	return c, nil
}

// Marshal writes c as YAML in this package's schema, with KSBs in natural
// order. Parse reads the result back to a catalogue equal to c whenever c
// came from Parse or Builtin. An invalid catalogue is refused.
func Marshal(c *Catalogue) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("marshal catalogue: %w", err)
	}
	out := c.Clone()
	sortKSBs(out.KSBs)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# KSB catalogue %s, ksbfolio schema (evidence/ksb).\n", out.ID)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("marshal catalogue %s: %w", out.ID, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal catalogue %s: %w", out.ID, err)
	}
	return buf.Bytes(), nil
}

// parseOwnYAML decodes our schema with the strict YAML walker shared with
// the config file and the rules (internal/yamlstrict): every unknown key
// (with a "did you mean" hint), wrong type and duplicate key is reported at
// once, each as "file:line: path: message".
func parseOwnYAML(name string, data []byte, opts ImportOptions) (*Catalogue, error) {
	d := yamlstrict.New(name)
	c := new(Catalogue)
	if root := readYAML(d, data); root != nil {
		d.Struct(root, "", root.Line, "", c)
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("read as a catalogue (%s): %w", FormatYAML, err)
	}
	applyOptions(c, opts)
	return c, nil
}

// readYAML reads data (a byte-order mark dropped) as one YAML document
// with d, recording a problem when it holds none.
func readYAML(d *yamlstrict.Decoder, data []byte) *yaml.Node {
	root := d.Read(trimBOM(data))
	if root == nil && len(d.Problems()) == 0 {
		d.Problemf(0, "", "empty document")
	}
	return root
}

// parseOwnJSON decodes our schema as JSON, strictly.
func parseOwnJSON(name string, data []byte, opts ImportOptions) (*Catalogue, error) {
	b := trimBOM(data)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	c := new(Catalogue)
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("parse %s as JSON: %w", name, jsonErrorAt(b, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("parse %s as JSON: %s: more data after the catalogue", name, lineCol(b, dec.InputOffset()))
	}
	applyOptions(c, opts)
	return c, nil
}

// applyOptions overrides c's metadata with the non-empty fields of opts.
func applyOptions(c *Catalogue, opts ImportOptions) {
	if opts.ID != "" {
		c.ID = opts.ID
	}
	if opts.Title != "" {
		c.Title = opts.Title
	}
	if opts.Reference != "" {
		c.Reference = strings.ToUpper(strings.TrimSpace(opts.Reference))
	}
	if opts.Version != "" && normVersion(opts.Version) != normVersion(c.Version) {
		// "1" picks and keeps a file's "1.0"; anything else replaces it.
		c.Version = strings.TrimSpace(opts.Version)
	}
	if opts.Complete != nil {
		c.Complete = *opts.Complete
	}
}

// deriveID makes a catalogue ID from a standard's reference and version
// ("ST1398", "1.0" → "st1398-v1.0"), or "" when either is missing or the
// result is not a valid ID.
func deriveID(reference, version string) string {
	reference, version = strings.TrimSpace(reference), strings.TrimSpace(version)
	if reference == "" || version == "" {
		return ""
	}
	id := strings.ToLower(reference) + "-v" + strings.ToLower(version)
	if !ValidCatalogueID(id) {
		return ""
	}
	return id
}

// isOwnJSON reports whether a JSON object looks like a catalogue in our
// schema: "id" and "ksbs" at the top, and no standard reference fields.
func isOwnJSON(b []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return false
	}
	keys := make(map[string]bool, len(top))
	for k := range top {
		keys[strings.ToLower(k)] = true
	}
	for _, k := range []string{"referencenumber", "ifatereferencenumber", "standarduid", "knowledges", "skills", "behaviours", "standards"} {
		if keys[k] {
			return false
		}
	}
	return keys["id"] && keys["ksbs"]
}

// yamlTopKeys returns the keys of data's top-level YAML mapping (none when
// the top level is not a mapping).
func yamlTopKeys(b []byte) (keys map[string]bool, err error) {
	defer recoverYAML("input", &err)
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	keys = map[string]bool{}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return keys, nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return keys, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode {
			keys[k.Value] = true
		}
	}
	return keys, nil
}

// looksLikeYAML reports whether data has a top-level line that starts a
// catalogue key, so a YAML syntax error is worth mentioning.
func looksLikeYAML(data []byte) bool {
	for line := range strings.SplitSeq(string(data), "\n") {
		for _, k := range []string{"ksbs:", "id:", "standard:"} {
			if strings.HasPrefix(line, k) {
				return true
			}
		}
	}
	return false
}

// recoverYAML turns a panic inside the YAML library into an error, so bad
// input never crashes the caller.
func recoverYAML(name string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("parse %s as YAML: %v", name, r)
	}
}

// errSuperseded is the superseded "known-reference" shape (labels_only:),
// which held short labels in place of statements.
var errSuperseded = errors.New("this is the superseded partial list (labels_only: holds labels, not the official statements); import the official list instead")

// Confidence values the importers set.
const confidenceImported = "imported"

var bom = []byte("\uFEFF")

func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, bom) }

// jsonErrorAt adds the line and column to a JSON decoding error when it
// knows its offset.
func jsonErrorAt(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("%s: %w", lineCol(data, syn.Offset), err)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: %w", lineCol(data, typ.Offset), err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%s: unexpected end of input", lineCol(data, int64(len(data))))
	}
	return err
}

// lineCol describes a byte offset as "line L, column C" (1-based).
func lineCol(data []byte, off int64) string {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

package ksb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// knownFile is the project's known-reference YAML (see
// builtin/st1398-v1.0-known.yaml): what public material says about a
// standard whose official KSB table could not be read. Keys not listed
// here (epa details, related_standards, …) are ignored.
type knownFile struct {
	Standard struct {
		Title     string `yaml:"title"`
		Reference string `yaml:"reference"`
		Version   string `yaml:"version"`
		Level     int    `yaml:"level"`
		Status    string `yaml:"status"`
		TotalKSBs int    `yaml:"total_ksbs"`
		SourceURL string `yaml:"source_url"`
	} `yaml:"standard"`
	EPA struct {
		Confirmed bool `yaml:"confirmed"`
	} `yaml:"epa"`
	Duties []struct {
		ID         string `yaml:"id"`
		Text       string `yaml:"text"`
		Source     string `yaml:"source"`
		Confidence string `yaml:"confidence"`
	} `yaml:"duties"`
	KSBs []struct {
		ID         string   `yaml:"id"`
		Kind       string   `yaml:"kind"`
		Text       string   `yaml:"text"`
		Methods    []string `yaml:"methods"`
		Source     string   `yaml:"source"`
		Confidence string   `yaml:"confidence"`
		Note       string   `yaml:"note"`
	} `yaml:"ksbs"`
	LabelsOnly []struct {
		ID       string `yaml:"id"`
		Kind     string `yaml:"kind"`
		Label    string `yaml:"label"`
		Source   string `yaml:"source"`
		Disputed string `yaml:"disputed"`
		Note     string `yaml:"note"`
	} `yaml:"labels_only"`
	Truncated []struct {
		ID         string `yaml:"id"`
		Kind       string `yaml:"kind"`
		TextPrefix string `yaml:"text_prefix"`
		Source     string `yaml:"source"`
	} `yaml:"truncated"`
}

// Confidence values the conversion sets.
const (
	confidenceLabelOnly = "label-only"
	confidenceImported  = "imported"
)

// parseKnown converts the known-reference shape to a catalogue: "ksbs:"
// entries keep their quoted text as the statement (with source,
// confidence, note and methods), "labels_only:" entries become KSBs with a
// label and no statement (their "disputed" text goes to the note), and
// "truncated:" entries, which have no usable ID, are left out and named in
// the notes. The catalogue is never complete unless opts says so.
func parseKnown(name string, data []byte, opts ImportOptions) (c *Catalogue, err error) {
	defer recoverYAML(name, &err)
	var f knownFile
	dec := yaml.NewDecoder(bytes.NewReader(trimBOM(data)))
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("parse %s as known-reference YAML: empty document", name)
		}
		return nil, fmt.Errorf("parse %s as known-reference YAML: %w", name, err)
	}
	s := f.Standard
	c = &Catalogue{
		ID:        deriveID(s.Reference, s.Version),
		Title:     strings.TrimSpace(s.Title),
		Reference: strings.ToUpper(strings.TrimSpace(s.Reference)),
		Version:   strings.TrimSpace(s.Version),
		Level:     s.Level,
		TotalKSBs: s.TotalKSBs,
	}
	var errs []error
	for i, d := range f.Duties {
		if strings.TrimSpace(d.ID) == "" || strings.TrimSpace(d.Text) == "" {
			errs = append(errs, fmt.Errorf("duties[%d]: id and text are required", i))
			continue
		}
		c.Duties = append(c.Duties, Duty{ID: strings.TrimSpace(d.ID), Text: strings.TrimSpace(d.Text), Source: d.Source, Confidence: d.Confidence})
	}
	for i, k := range f.KSBs {
		if strings.TrimSpace(k.Text) == "" {
			errs = append(errs, fmt.Errorf("ksbs[%d] (%s): text is required (an entry known only by a label belongs under labels_only)", i, k.ID))
			continue
		}
		c.KSBs = append(c.KSBs, KSB{
			ID:         evidence.NormalizeKSB(k.ID),
			Kind:       strings.TrimSpace(k.Kind),
			Statement:  strings.TrimSpace(k.Text),
			Source:     k.Source,
			Confidence: k.Confidence,
			Note:       k.Note,
			Methods:    k.Methods,
		})
	}
	for i, k := range f.LabelsOnly {
		if strings.TrimSpace(k.Label) == "" {
			errs = append(errs, fmt.Errorf("labels_only[%d] (%s): label is required", i, k.ID))
			continue
		}
		note := k.Note
		if k.Disputed != "" {
			note = joinNonEmpty("; ", note, "Disputed: "+k.Disputed)
		}
		c.KSBs = append(c.KSBs, KSB{
			ID:         evidence.NormalizeKSB(k.ID),
			Kind:       strings.TrimSpace(k.Kind),
			Label:      strings.TrimSpace(k.Label),
			Source:     k.Source,
			Confidence: confidenceLabelOnly,
			Note:       note,
		})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("parse %s as known-reference YAML: %w", name, errors.Join(errs...))
	}
	statements, labels := 0, 0
	for _, k := range c.KSBs {
		if k.HasStatement() {
			statements++
		} else {
			labels++
		}
	}
	of := ""
	if c.TotalKSBs > 0 {
		of = fmt.Sprintf(" of the standard's %d", c.TotalKSBs)
	}
	c.Provenance = fmt.Sprintf("Converted from the known-reference file %s. No entry was read from the official KSB table: "+
		"statements are quoted by training-provider material and are unverified. It lists %d KSBs%s: %d with a quoted statement, %d known only by a short label.",
		name, len(c.KSBs), of, statements, labels)
	if s.SourceURL != "" {
		c.Provenance += " The official standard: " + s.SourceURL + "."
	}
	c.Notes = append(c.Notes,
		"Incomplete: only what public training-provider material quotes is known. A training provider holds the official list: "+
			"import it (`ksbfolio standard import`: pasted \"K1: …\" text, a YAML catalogue or the standards API JSON) to replace this catalogue.")
	if labels > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%d KSBs are known only by a short label. A label is a paraphrase, never the official statement, "+
			"and is always shown behind the marker %q.", labels, LabelOnlyMarker))
	}
	if !f.EPA.Confirmed {
		c.Notes = append(c.Notes, "Assessment methods are not confirmed: an empty methods list means unknown, not none.")
	}
	for _, t := range f.Truncated {
		c.Notes = append(c.Notes, fmt.Sprintf("Left out, no usable ID: %s (%s), known only from the truncated text %q (%s).",
			t.ID, t.Kind, t.TextPrefix, t.Source))
	}
	applyOptions(c, opts)
	if c.ID == "" {
		return nil, fmt.Errorf("parse %s as known-reference YAML: no catalogue ID: the file's standard has no usable reference and version, so one must be given", name)
	}
	return c, nil
}

// joinNonEmpty joins the non-empty strings of parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

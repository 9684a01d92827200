package ksb

import (
	"embed"
	"fmt"
	"path"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// builtinEntry describes one embedded catalogue: its file, and what the
// package knows about it beyond the file itself.
type builtinEntry struct {
	id         string
	file       string
	title      string
	provenance string
	notes      []string
}

// builtins lists the embedded catalogues, in the order Builtin returns
// them.
func builtins() []builtinEntry {
	return []builtinEntry{{
		id:    "st1398-v1.0",
		file:  "builtin/st1398-v1.0-known.yaml",
		title: "Machine learning engineer",
		provenance: "Built in from the project's reference file st1398-v1.0-known.yaml (copied verbatim into evidence/ksb/builtin/). " +
			"No entry was read from the official IfATE / Skills England KSB table (stored copies of that page were truncated): " +
			"statements are quoted from training-provider material (Corndel AI6 course repositories) that says it maps to ST1398 v1.0, " +
			"and are unverified. The catalogue is incomplete: it lists %d of the standard's %d KSBs, %d with a quoted statement and %d known only by a short label. " +
			"Official standard: https://www.instituteforapprenticeships.org/apprenticeship-standards/st1398-v1-0?view=standard",
		notes: []string{
			"Version 2.0 of ST1398 is due from 11 December 2026. Tags name the catalogue they were made against, so evidence tagged against v1.0 stays readable.",
			"Gateway readiness is never claimed against this catalogue, because it is incomplete.",
		},
	}}
}

// Builtin returns the built-in catalogues, freshly built on each call (the
// caller may change them). The only one today is st1398-v1.0, which is
// incomplete.
func Builtin() []*Catalogue {
	bs := builtins()
	out := make([]*Catalogue, 0, len(bs))
	for _, b := range bs {
		c, err := loadBuiltin(b)
		if err != nil {
			// Cannot happen for the embedded files: TestBuiltin loads
			// every one. Skipping keeps a bad build from crashing.
			continue
		}
		out = append(out, c)
	}
	return out
}

// BuiltinIDs returns the IDs of the built-in catalogues.
func BuiltinIDs() []string {
	bs := builtins()
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.id
	}
	return ids
}

// loadBuiltin converts one embedded known-reference file.
func loadBuiltin(b builtinEntry) (*Catalogue, error) {
	data, err := builtinFS.ReadFile(b.file)
	if err != nil {
		return nil, fmt.Errorf("read built-in catalogue %s: %w", b.id, err)
	}
	c, err := ParseFormat(FormatKnown, path.Base(b.file), data, ImportOptions{ID: b.id, Title: b.title})
	if err != nil {
		return nil, fmt.Errorf("load built-in catalogue %s: %w", b.id, err)
	}
	statements := 0
	for _, k := range c.KSBs {
		if k.HasStatement() {
			statements++
		}
	}
	c.Complete = false
	c.Provenance = fmt.Sprintf(b.provenance, len(c.KSBs), c.TotalKSBs, statements, len(c.KSBs)-statements)
	c.Notes = append(append([]string(nil), b.notes...), c.Notes...)
	return c, nil
}

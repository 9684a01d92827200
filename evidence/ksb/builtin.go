package ksb

import (
	"embed"
	"fmt"
	"path"
)

// builtinFS holds the built-in catalogues' sources. Each is a verbatim
// copy of the project's reference file of the same name (TestBuiltinVerbatim
// compares them).
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// builtinFiles lists the embedded reference lists, in the order Builtin
// returns them. A catalogue's ID comes from its standard's reference and
// version ("st1398-v1.0").
var builtinFiles = []string{"builtin/st1398-v1.0.yaml"}

// Builtin returns the built-in catalogues, freshly built on each call (the
// caller may change them). The only one today is st1398-v1.0: the official
// list of all 70 KSBs of ST1398 v1.0, complete.
func Builtin() []*Catalogue {
	out := make([]*Catalogue, 0, len(builtinFiles))
	for _, f := range builtinFiles {
		c, err := loadBuiltin(f)
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
	var ids []string
	for _, c := range Builtin() {
		ids = append(ids, c.ID)
	}
	return ids
}

// loadBuiltin converts one embedded reference list.
func loadBuiltin(file string) (*Catalogue, error) {
	data, err := builtinFS.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read built-in catalogue %s: %w", file, err)
	}
	c, err := ParseFormat(FormatReference, path.Base(file), data, ImportOptions{})
	if err != nil {
		return nil, fmt.Errorf("load built-in catalogue %s: %w", file, err)
	}
	return c, nil
}

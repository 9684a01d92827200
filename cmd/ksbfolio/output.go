package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

// maxErrorLines is how many problems an error message lists before "and N
// more" (the full list is in --json outputs and the run report).
const maxErrorLines = 20

// errorText is how an error reaches stderr: config errors one problem per
// line, others on one line with their parts joined by "; ", at most
// maxErrorLines problems either way, and everything escaped for the
// terminal (an error can quote a path or a message from a source).
func errorText(err error) string {
	var ce *yamlstrict.Error
	if errors.As(err, &ce) && errors.Is(ce, config.ErrInvalid) {
		lines := strings.Split(ce.Error(), "\n")
		return "invalid config:\n" + termsafe.String(strings.Join(termsafe.Cap(lines, maxErrorLines), "\n"))
	}
	lines := strings.Split(err.Error(), "\n")
	return termsafe.String(strings.Join(termsafe.Cap(lines, maxErrorLines), "; "))
}

// kindCounts says how many knowledge, skill and behaviour statements there
// are in words, so that the counts cannot be read as KSB IDs (not
// "K11 S15 B5").
func kindCounts(k, s, b int) string {
	return fmt.Sprintf("%s, %s, %s", termsafe.Plural(k, "knowledge", "knowledge"),
		termsafe.Plural(s, "skill", "skills"), termsafe.Plural(b, "behaviour", "behaviours"))
}

// warnf writes a warning to stderr, escaped.
func (g *globals) warnf(format string, a ...any) {
	fmt.Fprintln(g.stderr, "ksbfolio: warning: "+termsafe.String(fmt.Sprintf(format, a...)))
}

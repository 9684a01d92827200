// Package resyntax answers questions about RE2 expressions from their
// syntax tree, for the checks of configured patterns (the config file and
// the redactor share it).
package resyntax

import "regexp/syntax"

// CanMatchEmpty reports whether the RE2 expression expr can match an empty
// string somewhere, treating every zero-width assertion (^, $, \b, \A, …)
// as one that may hold. Such a pattern would "find" a secret at every
// position of every text, so the config refuses it. An expression that
// does not parse reports false: compiling it reports the error.
func CanMatchEmpty(expr string) bool {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return false
	}
	return nullable(re.Simplify())
}

// nullable reports whether re matches the empty string.
func nullable(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpLiteral, syntax.OpCharClass, syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return re.Op == syntax.OpLiteral && len(re.Rune) == 0
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpStar, syntax.OpQuest:
		return true
	case syntax.OpCapture, syntax.OpPlus:
		return nullable(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min == 0 || nullable(re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !nullable(s) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if nullable(s) {
				return true
			}
		}
		return false
	}
	return true // an operator this does not know: assume the worst
}

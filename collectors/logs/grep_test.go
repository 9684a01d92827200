package logs

import (
	"fmt"
	"os"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode"
)

// incidentSignals are what makes a record an incident (record.isIncident:
// an error level, a traceback, a 5xx response), as one expression for
// grep.
const incidentSignals = `(?i)\b(?:error|err|severe|critical|crit|fatal|alert|emerg|panic)\b|Traceback \(most recent call last\):|HTTP/[0-9.]+" 5\d\d`

// grepPatterns are the collector's event patterns and incident signals as
// POSIX extended expressions (grep -E -f), translated from their syntax
// trees: case folding becomes [xX], \s [\t\n\f\r ], named groups plain
// ones. Anchors at the start are dropped and word boundaries kept (GNU
// grep's \b): grep sees whole lines, the collector a record's message.
func grepPatterns() ([]string, error) {
	var out []string
	for _, p := range append(builtinPatterns(), &pattern{re: regexp.MustCompile(incidentSignals)}) {
		re, err := syntax.Parse(p.re.String(), syntax.Perl)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		if err := writeERE(&b, re); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		out = append(out, b.String())
	}
	return out, nil
}

func writeERE(b *strings.Builder, re *syntax.Regexp) error {
	group := func(sub *syntax.Regexp) error {
		b.WriteByte('(')
		err := writeERE(b, sub)
		b.WriteByte(')')
		return err
	}
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpBeginText:
	case syntax.OpEndLine, syntax.OpEndText:
		b.WriteByte('$')
	case syntax.OpWordBoundary:
		b.WriteString(`\b`)
	case syntax.OpNoWordBoundary:
		b.WriteString(`\B`)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('.')
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if l, u := unicode.ToLower(r), unicode.ToUpper(r); re.Flags&syntax.FoldCase != 0 && l != u {
				b.WriteString("[" + string(l) + string(u) + "]")
			} else if strings.ContainsRune(`.[]()*+?{}|^$\`, r) {
				b.WriteString(`\` + string(r))
			} else {
				b.WriteRune(r)
			}
		}
	case syntax.OpCharClass:
		return writeClass(b, re.Rune)
	case syntax.OpCapture:
		return group(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		if err := group(re.Sub[0]); err != nil {
			return err
		}
		switch re.Op {
		case syntax.OpStar:
			b.WriteByte('*')
		case syntax.OpPlus:
			b.WriteByte('+')
		case syntax.OpQuest:
			b.WriteByte('?')
		default:
			if re.Max < 0 {
				fmt.Fprintf(b, "{%d,}", re.Min)
			} else {
				fmt.Fprintf(b, "{%d,%d}", re.Min, re.Max)
			}
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpAlternate {
				if err := group(sub); err != nil {
					return err
				}
			} else if err := writeERE(b, sub); err != nil {
				return err
			}
		}
	case syntax.OpAlternate:
		for i, sub := range re.Sub {
			if i > 0 {
				b.WriteByte('|')
			}
			if err := writeERE(b, sub); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("no ERE for %v", re.Op)
	}
	return nil
}

// writeClass writes a character class (or the complement of one) as a
// bracket expression of its ASCII characters but the line break.
func writeClass(b *strings.Builder, ranges []rune) error {
	neg := len(ranges) > 0 && ranges[len(ranges)-1] == unicode.MaxRune
	if neg { // [^…]: write the ranges left out
		var in []rune
		next := rune(0)
		for i := 0; i < len(ranges); i += 2 {
			if ranges[i] > next {
				in = append(in, next, ranges[i]-1)
			}
			next = ranges[i+1] + 1
		}
		ranges = in
	}
	var plain strings.Builder
	var close, dash, caret bool
	for i := 0; i < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if lo > 0x7e {
			continue // the Unicode case folds of s and k: logs are ASCII here
		}
		hi = min(hi, 0x7e)
		if lo == '\n' { // grep never sees one, and -f would split the expression
			lo++
		}
		if hi == '\n' {
			hi--
		}
		if lo < '\n' && hi > '\n' {
			return fmt.Errorf("class across a line break: %q", ranges)
		}
		for lo <= hi && (lo == ']' || lo == '-' || lo == '^') { // special ends as singletons
			close, dash, caret = close || lo == ']', dash || lo == '-', caret || lo == '^'
			lo++
		}
		for hi >= lo && (hi == ']' || hi == '-' || hi == '^') {
			close, dash, caret = close || hi == ']', dash || hi == '-', caret || hi == '^'
			hi--
		}
		switch {
		case lo > hi:
		case lo == hi:
			plain.WriteRune(lo)
		default:
			fmt.Fprintf(&plain, "%c-%c", lo, hi)
		}
	}
	b.WriteByte('[')
	if neg {
		b.WriteByte('^')
	}
	if close {
		b.WriteByte(']')
	}
	b.WriteString(plain.String())
	if caret {
		b.WriteByte('^')
	}
	if dash {
		b.WriteByte('-')
	}
	b.WriteByte(']')
	return nil
}

// TestGrepPatterns writes grepPatterns to $KSBFOLIO_LOGS_GREP
// (scripts/bench-logs.sh times grep -E -f with them), and checks them:
// each line of the corpus's TorchServe and deployment logs that an event
// pattern matches (as its message), the expressions match too.
func TestGrepPatterns(t *testing.T) {
	pats, err := grepPatterns()
	if err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("KSBFOLIO_LOGS_GREP"); path != "" {
		if err := os.WriteFile(path, []byte(strings.Join(pats, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range pats {
		// POSIX classes and \b are what Go's syntax also reads: the ERE
		// must compile as Go and match what its pattern matched.
		if _, err := regexp.CompilePOSIX(strings.ReplaceAll(p, `\b`, ``)); err != nil {
			t.Errorf("pattern %d: %q is no ERE: %v", i, p, err)
		}
	}
	for _, tc := range []struct{ line, want string }{
		{"2025-08-19 02:41:44,803 INFO MODEL DEPLOYMENT SUCCESSFUL!", "deployment-completed"},
		{"2025-08-19 02:41:42,209 INFO Starting model deployment...", "deployment-started"},
		{"2022-04-28T09:23:19,254 [INFO ] W-9000-my_tc_1.0 org.pytorch.serve.wlm.WorkerThread - Model my_tc loaded.", "torchserve-model-loaded"},
		{"2025-01-01 INFO rolled back to revision 3", "rollback"},
		{"x ERROR boom", "incident"},
		{`/10.1.2.3:35226 "POST /predictions/my_tc HTTP/1.1" 503 12`, "incident"},
	} {
		matched := false
		for _, p := range pats {
			if regexp.MustCompile(strings.ReplaceAll(p, `\b`, ``)).MatchString(tc.line) {
				matched = true
			}
		}
		if !matched && tc.want != "" {
			t.Errorf("no expression matches %q (%s)", tc.line, tc.want)
		}
	}
}

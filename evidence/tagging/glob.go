package tagging

import (
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// glob is a compiled path pattern. The two shapes most rules use get a fast
// path that gives exactly doublestar.Match's answer (TestGlobFastPaths
// checks this); anything else goes to doublestar.
type glob struct {
	pattern string
	shape   globShape
	lit     string // the directory name or base-name pattern of the fast shapes
	litMeta bool   // lit holds glob metacharacters
	// must is a literal every matching path contains (the longest run of
	// plain characters outside [] and {}); "" when there is none worth
	// checking. A cheap test that rejects most paths before matching.
	must string
	// dirPrefix, dirInside and dirSuffix are d+"/", "/"+d+"/" and "/"+d
	// for globAnyDir.
	dirPrefix, dirInside, dirSuffix string
}

type globShape int

const (
	globGeneral globShape = iota
	globAnyDir            // "**/D/**", D a literal name: a path through a directory named D
	globAnyBase           // "**/B", B one segment: a file whose base name matches B
)

const metaChars = `*?[]{}\`

func compileGlob(p string) glob {
	g := glob{pattern: p, must: longestLiteral(p)}
	if rest, ok := strings.CutPrefix(p, "**/"); ok {
		if d, ok := strings.CutSuffix(rest, "/**"); ok && d != "" && !strings.ContainsAny(d, "/"+metaChars) {
			g.shape, g.lit = globAnyDir, d
			g.dirPrefix, g.dirInside, g.dirSuffix = d+"/", "/"+d+"/", "/"+d
		} else if !strings.Contains(rest, "/") && rest != "" && rest != "**" && !strings.Contains(rest, "**") {
			g.shape, g.lit, g.litMeta = globAnyBase, rest, strings.ContainsAny(rest, metaChars)
		}
	}
	return g
}

// longestLiteral returns the longest run of characters outside brackets
// and braces that are not glob metacharacters, without end slashes, if it
// is at least two bytes long; "" for patterns with escapes.
func longestLiteral(p string) string {
	if strings.Contains(p, `\`) {
		return ""
	}
	best, start, depth := "", 0, 0
	flush := func(end int) {
		// A slash next to a star is not required ("**/" matches no
		// directory at all), so runs lose their end slashes.
		run := ""
		if depth == 0 && start <= end {
			run = strings.Trim(p[start:end], "/")
		}
		if len(run) > len(best) {
			best = run
		}
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?':
			flush(i)
			start = i + 1
		case '[', '{':
			flush(i)
			depth++
			start = i + 1
		case ']', '}':
			if depth > 0 {
				depth--
			}
			start = i + 1
		}
	}
	flush(len(p))
	if len(best) < 2 {
		return ""
	}
	return best
}

func (g *glob) match(p string) bool {
	if g.must != "" && !strings.Contains(p, g.must) {
		return false
	}
	switch g.shape {
	case globAnyDir:
		// "**/D/**" matches D itself, anything under a D, and a D at any depth.
		return p == g.lit || strings.HasPrefix(p, g.dirPrefix) || strings.HasSuffix(p, g.dirSuffix) ||
			strings.Contains(p, g.dirInside)
	case globAnyBase:
		if p == "" || strings.HasSuffix(p, "/") {
			break
		}
		base := p[strings.LastIndexByte(p, '/')+1:]
		if !g.litMeta {
			return base == g.lit
		}
		ok, _ := doublestar.Match(g.lit, base)
		return ok
	}
	ok, _ := doublestar.Match(g.pattern, p)
	return ok
}

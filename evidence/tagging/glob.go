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

// globNames indexes the globs that name a directory (globAnyDir) or a
// base name without metacharacters (globAnyBase) by that name, so that
// which of them an item's paths match is found by looking up each path's
// names, rather than by trying every glob on every path.
type globNames struct {
	dirs    map[string][]int // directory name → globs (by index)
	bases   map[string][]int // base name → globs
	covered []uint64         // bit i: globs[i] is in dirs or bases
}

func newGlobNames(globs []glob) globNames {
	n := globNames{dirs: map[string][]int{}, bases: map[string][]int{}, covered: make([]uint64, (len(globs)+63)/64)}
	for i, g := range globs {
		switch {
		case g.shape == globAnyDir:
			n.dirs[g.lit] = append(n.dirs[g.lit], i)
		case g.shape == globAnyBase && !g.litMeta:
			n.bases[g.lit] = append(n.bases[g.lit], i)
		default:
			continue
		}
		n.covered[i/64] |= 1 << (i % 64)
	}
	return n
}

// match sets in hit the bit of every covered glob that matches one of
// paths, as glob.match would, and reports true; or, if a path is empty or
// ends in a slash (where glob.match asks doublestar), false without
// setting any.
func (n *globNames) match(paths []string, hit []uint64) bool {
	for _, p := range paths {
		if p == "" || strings.HasSuffix(p, "/") {
			return false
		}
	}
	set := func(gs []int) {
		for _, i := range gs {
			hit[i/64] |= 1 << (i % 64)
		}
	}
	for _, p := range paths {
		// "**/B" with a plain B: the base name is B. "**/D/**": some
		// name along the path (the base name too) is D.
		set(n.bases[p[strings.LastIndexByte(p, '/')+1:]])
		for rest := p; ; {
			name, after, more := strings.Cut(rest, "/")
			set(n.dirs[name])
			if !more {
				break
			}
			rest = after
		}
	}
	return true
}

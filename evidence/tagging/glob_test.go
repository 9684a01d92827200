package tagging

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bmatcuk/doublestar/v4"
)

// TestGlobFastPaths checks that the fast shapes answer exactly as
// doublestar.Match does, for every built-in glob and some odd ones.
func TestGlobFastPaths(t *testing.T) {
	patterns := []string{"**/monitoring/**", "**/*.tf", "**/README*", "**/NEWS", "**/a.b", "**/[Dd]ockerfile*",
		"**/x/**/y", "**/", "**/**", "**/.", "**/..", "docs/**", "**/\\*", "**/{a,b/c}", "**/*_test.go"}
	for _, r := range Builtin() {
		patterns = append(patterns, r.Match.Paths...)
	}
	paths := []string{
		"monitoring", "monitoring/a.yaml", "src/monitoring/psi.py", "src/monitoring", "xmonitoring/a", "monitoringx/a",
		"a/monitoring/b/monitoring/c", "main.tf", "infra/main.tf", "infra/main.tfvars", "README.md", "docs/README",
		"a/READMEx", "NEWS", "a/NEWS", "a/NEWS.md", "a.b", "x/a.b", "axb", "Dockerfile", "svc/dockerfile.dev",
		"x/y", "x/z/y", "y", ".", "..", "a/.", "a/..", "a/", "/abs/x/README", "a//README", "*", "a/*",
		"a", "b/c", "x/b/c", "pkg/foo_test.go", "foo_test.go", ".github/workflows/ci.yml", "k8s/hpa.yaml",
		"deploy/prometheus/fraud-alerts.yaml", "tests/test_a.py", "requirements/dev.txt", "a/docs/b", "docs/b",
		"src/model_card.md", "CHANGELOG.md", "pkg/CHANGELOG", "é/README", "a b/c d/README",
	}
	if compileGlob("**/monitoring/**").shape != globAnyDir || compileGlob("**/*.tf").shape != globAnyBase ||
		compileGlob("docs/**").shape != globGeneral {
		t.Error("fast shapes not recognised")
	}
	// Random paths built from the names the patterns use.
	segs := []string{"monitoring", "k8s", "deploy", "docs", "tests", "README.md", "NEWS", "main.tf", "a.b",
		"Dockerfile", "x", "y", ".github", "workflows", "ci.yml", "fraud-alerts.yaml", "requirements.txt",
		"model_card.md", "CHANGELOG", ".", "", "foo_test.go", "é"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		parts := make([]string, 1+rng.IntN(4))
		for i := range parts {
			parts[i] = segs[rng.IntN(len(segs))]
		}
		paths = append(paths, strings.Join(parts, "/"))
	}
	for _, p := range patterns {
		if !doublestar.ValidatePattern(p) {
			continue
		}
		g := compileGlob(p)
		for _, x := range paths {
			want, _ := doublestar.Match(p, x)
			if got := g.match(x); got != want {
				t.Errorf("glob %q (shape %d) on %q = %v, doublestar says %v", p, g.shape, x, got, want)
			}
		}
	}
}

// globNames decides the globs it covers as trying each on every path
// does, for lists of random paths (and says it cannot for a list with an
// empty path or one ending in a slash).
func TestGlobNames(t *testing.T) {
	patterns := []string{"**/monitoring/**", "**/.", "**/..", "**/./**", "**/NEWS", "**/a.b", "**/x/**/y", "**/*.tf", "docs/**"}
	for _, r := range Builtin() {
		patterns = append(patterns, r.Match.Paths...)
	}
	var globs []glob
	for _, p := range patterns {
		globs = append(globs, compileGlob(p))
	}
	names := newGlobNames(globs)
	covered := 0
	for i := range globs {
		if names.covered[i/64]&(1<<(i%64)) != 0 {
			covered++
		}
	}
	if covered < len(globs)/2 {
		t.Fatalf("only %d of %d globs covered", covered, len(globs))
	}
	segs := []string{"monitoring", "k8s", "deploy", "docs", "tests", "README.md", "NEWS", "main.tf", "a.b", "Dockerfile",
		"x", "y", ".github", "workflows", "ci.yml", "Jenkinsfile", "conftest.py", "helm", ".", "..", "", "é", "charts", "grafana"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		var paths []string
		for range 1 + rng.IntN(3) {
			parts := make([]string, 1+rng.IntN(4))
			for i := range parts {
				parts[i] = segs[rng.IntN(len(segs))]
			}
			paths = append(paths, strings.Join(parts, "/"))
		}
		hit := make([]uint64, len(names.covered))
		ok := names.match(paths, hit)
		odd := false
		for _, p := range paths {
			odd = odd || p == "" || strings.HasSuffix(p, "/")
		}
		if ok == odd {
			t.Fatalf("match(%q) = %v", paths, ok)
		}
		if !ok {
			continue
		}
		for i, g := range globs {
			if names.covered[i/64]&(1<<(i%64)) == 0 {
				continue
			}
			want := false
			for _, p := range paths {
				want = want || g.match(p)
			}
			if got := hit[i/64]&(1<<(i%64)) != 0; got != want {
				t.Fatalf("glob %q on %q: by name %v, by trying %v", g.pattern, paths, got, want)
			}
		}
	}
}

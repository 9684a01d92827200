package corpustest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// outcome records how a test ended: skipped, failed or neither.
type outcome struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (o *outcome) Helper() {}
func (o *outcome) Fatalf(format string, args ...any) {
	o.failed, o.msg = true, format
	runtime.Goexit()
}
func (o *outcome) Skip(args ...any) {
	o.skipped = true
	runtime.Goexit()
}

// run calls Dir with a recording TB in its own goroutine, as Fatalf and
// Skip end the goroutine.
func run(t *testing.T, rel string) (string, *outcome) {
	o := &outcome{TB: t}
	var got string
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = Dir(o, rel)
	}()
	<-done
	return got, o
}

func TestDir(t *testing.T) {
	tree := t.TempDir()
	corpus := filepath.Join(tree, "shared", "corpus")
	if err := os.MkdirAll(filepath.Join(corpus, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(tree, "wt", "branch", "pkg")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, env, ci, require, rel string
		want                        string // "" when the test does not get a path
		skipped, failed             bool
	}{
		{name: "env root", env: corpus, rel: "", want: corpus},
		{name: "env rel", env: corpus, rel: "logs", want: filepath.Join(corpus, "logs")},
		{name: "env missing", env: filepath.Join(tree, "nonexistent"), rel: "", failed: true},
		{name: "env rel missing", env: corpus, rel: "nope", failed: true},
		{name: "walk up root", rel: "", want: corpus},
		{name: "walk up rel", rel: "logs", want: filepath.Join(corpus, "logs")},
		{name: "missing skips", rel: "no-such-corpus-folder", skipped: true},
		{name: "missing in CI fails", ci: "true", rel: "no-such-corpus-folder", failed: true},
		{name: "missing and required fails", require: "s3,corpus", rel: "no-such-corpus-folder", failed: true},
	}
	t.Chdir(deep)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KSBFOLIO_CORPUS", tc.env)
			t.Setenv("CI", tc.ci)
			t.Setenv("KSBFOLIO_TEST_REQUIRE", tc.require)
			got, o := run(t, tc.rel)
			if got != tc.want || o.skipped != tc.skipped || o.failed != tc.failed {
				t.Errorf("Dir(%q) = %q, skipped %v, failed %v (%s); want %q, skipped %v, failed %v",
					tc.rel, got, o.skipped, o.failed, o.msg, tc.want, tc.skipped, tc.failed)
			}
		})
	}
}

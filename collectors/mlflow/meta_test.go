package mlflow

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/internal/corpustest"
)

// TestFlatMetaMatchesYAML checks the fast meta.yaml reader against the
// YAML parser: where it accepts a document it must read what YAML reads.
func TestFlatMetaMatchesYAML(t *testing.T) {
	docs := []string{
		"artifact_uri: file:///D:/a/b\nend_time: 1627274660051\nentry_point_name: ''\nexperiment_id: '1'\nname: ''\nstatus: 3\ntags: []\nuser_id: same\n",
		"end_time: null\nname: it''s\n", "name: 'it''s'\n", "a: 012\n", "a: -5\n", "a: 1.5\n", "a: yes\n", "a: x: y\n", "a: 'x\n",
		"a: [1, 2]\n", "a:\n  b: 1\n", "a: b # c\n", "a: true\nb: False\nc: ~\n", "a: {}\n", "aliases: {}\n", "a: 99999999999999999999\n",
		"a: 'x''\n", "a: x\r\nb: 'y'\r\n", "a: 1\na: 2\n", "- a\n", "a: \"q\"\n", "a: .nan\n", "a: 0x10\n", "a: 1e3\n", "a: +1\n",
		"a: Churn Prediction (Airflow)\n", "a: 0349ac2712b54981adcaca35f5cd725e\n", "a: 1e5\n", "a: 0b101\n", "a: 12e3\n", "a: 1abc\n", "a: file:///C:/Users/x/OneDrive%20-%20Comcast\n",
	}
	// check compares the two readers on docs and returns how many the
	// flat reader accepted.
	check := func(t *testing.T, docs []string) int {
		accepted := 0
		for _, doc := range docs {
			flat, ok := parseFlatMeta([]byte(doc))
			if !ok {
				continue
			}
			accepted++
			var want map[string]any
			if err := yaml.Unmarshal([]byte(doc), &want); err != nil {
				t.Errorf("flat reader accepted %q, which YAML refuses: %v", doc, err)
				continue
			}
			if want == nil {
				want = map[string]any{}
			}
			if !reflect.DeepEqual(map[string]any(flat), want) {
				t.Errorf("%q: flat %#v, YAML %#v", doc, flat, want)
			}
		}
		t.Logf("%d documents, %d read by the flat reader", len(docs), accepted)
		return accepted
	}
	if accepted := check(t, docs); accepted < 3 {
		t.Errorf("flat reader accepted only %d documents", accepted)
	}
	// The corpus's real meta.yaml files.
	t.Run("corpus", func(t *testing.T) {
		var docs []string
		root := corpustest.Dir(t, "")
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Name() == "meta.yaml" {
				if b, err := os.ReadFile(p); err == nil {
					docs = append(docs, string(b))
				}
			}
			return nil
		})
		if len(docs) < 100 {
			t.Errorf("only %d meta.yaml files under %s", len(docs), root)
		}
		check(t, docs)
	})
}

package ledger

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// TestEncoderIsMarshalIndent: the stored bytes of an item are what
// json.MarshalIndent gives plus a newline (docs/ledger.md: indented, one
// trailing newline), however often an encoder is reused, whatever the
// size of the item before.
func TestEncoderIsMarshalIndent(t *testing.T) {
	var p encoders
	big := evidence.Item{ID: "git-0", Summary: string(bytes.Repeat([]byte("<x>&é\u2028"), 5000)), Facts: map[string]any{"n": 1.5, "l": []any{"a", nil, true}}}
	small := evidence.Item{ID: "git-1", Title: "t", OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Links: []evidence.Link{{Rel: "r", Item: "i"}}}
	for _, it := range []evidence.Item{big, small, big, small} {
		e := p.get()
		got, err := e.encode(&it)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.MarshalIndent(&it, "", "  ")
		want = append(want, '\n')
		if !bytes.Equal(got, want) {
			t.Fatalf("encoded\n%s\nwant\n%s", got, want)
		}
		p.put(e)
	}
}

// indent gives json.Indent's bytes for any JSON value json.Marshal writes.
func FuzzIndent(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,{"b":"x\"y,{}:"},[]],"c":{}}`, `"s"`, `[[[]]]`, `{"k":"\\"}`, `3`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		compact, err := json.Marshal(v)
		if err != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact, "", "  "); err != nil {
			t.Fatal(err)
		}
		if got := indent(nil, compact, 0); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("indent(%s) =\n%s\nwant\n%s", compact, got, want.Bytes())
		}
	})
}

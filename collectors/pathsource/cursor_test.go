package pathsource_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/pathsource"
)

type state struct {
	Size int64 `json:"size"`
}

// FileKey is part of every stored cursor: it must not change.
func TestFileKeyIsStable(t *testing.T) {
	if got, want := pathsource.FileKey("version_20", "events.out.tfevents.1"), "1398cf961a57010d2e81bf6120bb0acb"; got != want {
		t.Errorf("FileKey = %s, want %s (stored cursors would no longer match)", got, want)
	}
	if pathsource.FileKey("a", "bc") == pathsource.FileKey("ab", "c") {
		t.Error("FileKey does not separate the folder from the name")
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := pathsource.NewCursor[state](3)
	c.Files[pathsource.FileKey("run", "f")] = state{Size: 42}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"version":3,"files":{"` + pathsource.FileKey("run", "f") + `":{"size":42}}}`; string(b) != want {
		t.Errorf("stored as %s, want %s", b, want)
	}
	var log bytes.Buffer
	back := pathsource.DecodeCursor[state](b, 3, "runs", slog.New(slog.NewTextHandler(&log, nil)))
	if back.Files[pathsource.FileKey("run", "f")].Size != 42 || log.Len() != 0 {
		t.Errorf("decoded %+v, log %q", back, log.String())
	}
	for _, stored := range []string{"", "null"} {
		if c := pathsource.DecodeCursor[state]([]byte(stored), 3, "runs", slog.New(slog.NewTextHandler(&log, nil))); len(c.Files) != 0 || log.Len() != 0 {
			t.Errorf("no cursor (%q): %+v, log %q", stored, c, log.String())
		}
	}
	for _, stored := range []string{`{"version":2,"files":{"k":{"size":1}}}`, `{not json`} {
		log.Reset()
		c := pathsource.DecodeCursor[state]([]byte(stored), 3, "runs", slog.New(slog.NewTextHandler(&log, nil)))
		if len(c.Files) != 0 || !strings.Contains(log.String(), "runs cursor unusable; reading every run") {
			t.Errorf("unusable cursor %s: %+v, log %q", stored, c, log.String())
		}
	}
}

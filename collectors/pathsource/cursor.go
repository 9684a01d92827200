package pathsource

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
)

// Cursor is the cursor of a path source: what the collector kept of each
// file it read (S: its size, modification time, …), keyed by FileKey so
// that no path is stored. It is stored as JSON
// {"version": …, "files": {key: S}}.
type Cursor[S any] struct {
	Version int          `json:"version"`
	Files   map[string]S `json:"files"`
}

// NewCursor returns an empty cursor of version.
func NewCursor[S any](version int) Cursor[S] {
	return Cursor[S]{Version: version, Files: map[string]S{}}
}

// FileKey is the key of file name of folder (a run) in a Cursor: the hex
// of the first 16 bytes of the SHA-256 of "<folder>\x00<name>".
func FileKey(folder, name string) string {
	sum := sha256.Sum256([]byte(folder + "\x00" + name))
	return hex.EncodeToString(sum[:16])
}

// DecodeCursor reads a stored cursor of version. None stored gives an
// empty cursor; one that does not decode or is of another version gives
// an empty cursor too, with a warning in log that every file of the
// source (of type typ) is read again.
func DecodeCursor[S any](b []byte, version int, typ string, log *slog.Logger) Cursor[S] {
	var c Cursor[S]
	if len(b) == 0 || string(b) == "null" {
		return c
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Version != version {
		log.Warn(typ+" cursor unusable; reading every run", "err", err, "version", c.Version)
		return Cursor[S]{}
	}
	return c
}

package wandb

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func FuzzReadLog(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "project", "wandb", "offline-run-20240305_090000-zz9k3m1q", "run-zz9k3m1q.wandb"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:100])
	f.Add([]byte(":W&B\xe1\xbe\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var lr logRun
		n := 0
		st, err := readLog(bytes.NewReader(b), func(rec []byte) error {
			n++
			_ = lr.add(rec)
			return nil
		})
		if err != nil && err != errNotWandb {
			t.Fatalf("in-memory input: %v", err)
		}
		if n > len(b)/7+1 || st.Corrupt > len(b) {
			t.Fatalf("%d records, %d corrupt from %d bytes", n, st.Corrupt, len(b))
		}
	})
}

// TestChecksums: the Python writer's CRC-32 seeded with the type byte,
// and LevelDB's masked CRC-32C, are both accepted; anything else is not.
func TestChecksums(t *testing.T) {
	data := []byte("record")
	// python3 -c 'import zlib; print(hex(zlib.crc32(b"record", zlib.crc32(b"\x01"))))'
	if !checksumOK(0x11edeaf8, 1, data) {
		t.Error("the Python writer's checksum is refused")
	}
	if checksumOK(0x11edeaf8, 2, data) {
		t.Error("the checksum of another record type is accepted")
	}
	if checksumOK(0x12345678, 1, data) {
		t.Error("a wrong checksum is accepted")
	}
}

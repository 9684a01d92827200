package pack

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVerifyZip: whatever bytes a zip holds, Verify returns a result or an
// error, never panics, and never accepts an entry leaving the pack.
func FuzzVerifyZip(f *testing.F) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("manifest.json")
	w.Write([]byte(`{"files":[{"path":"a","sha256":"00","size":1}]}`))
	w, _ = zw.Create("SHA256SUMS")
	w.Write([]byte("00  a\n"))
	w, _ = zw.Create("../evil")
	w.Write([]byte("x"))
	zw.Close()
	f.Add(b.Bytes())
	f.Add([]byte("PK\x03\x04"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "p.zip")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Verify(p, nil)
		if err == nil && r.OK() && bytes.Contains(data, []byte("../evil")) && bytes.Equal(data, b.Bytes()) {
			t.Fatal("a zip with an entry outside the pack verified")
		}
	})
}

func TestVerifyRefusesEscapingZip(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range []string{"manifest.json", "../evil"} {
		w, _ := zw.Create(n)
		w.Write([]byte(`{"files":[]}`))
	}
	zw.Close()
	p := filepath.Join(t.TempDir(), "p.zip")
	os.WriteFile(p, b.Bytes(), 0o644)
	if _, err := Verify(p, nil); err == nil || !bytes.Contains([]byte(err.Error()), []byte(`"../evil" leaves the pack`)) {
		t.Fatalf("Verify: %v", err)
	}
}

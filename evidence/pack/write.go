package pack

import (
	"archive/zip"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Modes every file and folder of a pack gets, whatever the umask.
const (
	FileMode = 0o644
	DirMode  = 0o755
)

// Sign adds manifest.json.sig: the base64 (standard, padded) ed25519
// signature of manifest.json's bytes, and a newline. SHA256SUMS does not
// list it.
func (p *Pack) Sign(key ed25519.PrivateKey) error {
	m := p.file(ManifestFile)
	if m == nil {
		return fmt.Errorf("sign pack: no %s", ManifestFile)
	}
	sig := ed25519.Sign(key, m)
	for i := range p.Files {
		if p.Files[i].Path == SignatureFile {
			p.Files = append(p.Files[:i], p.Files[i+1:]...)
			break
		}
	}
	p.Files = append(p.Files, File{Path: SignatureFile, Data: []byte(base64.StdEncoding.EncodeToString(sig) + "\n")})
	sortFiles(p.Files)
	return nil
}

func (p *Pack) file(path string) []byte {
	for _, f := range p.Files {
		if f.Path == path {
			return f.Data
		}
	}
	return nil
}

func sortFiles(fs []File) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Path < fs[j-1].Path; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// WriteZip writes the pack as a zip: entries in path order, deflated, each
// with mode FileMode and the pack's time in UTC, no folder entries and no
// other metadata, so the same pack gives the same bytes.
func (p *Pack) WriteZip(w io.Writer) error {
	zw := zip.NewWriter(w)
	for _, f := range p.Files {
		h := &zip.FileHeader{Name: f.Path, Method: zip.Deflate, Modified: p.Generated.UTC()}
		h.SetMode(FileMode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("write zip entry %s: %w", f.Path, err)
		}
		if _, err := fw.Write(f.Data); err != nil {
			return fmt.Errorf("write zip entry %s: %w", f.Path, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write zip: %w", err)
	}
	return nil
}

// WriteZipFile writes the zip to path through a temporary file in the
// same folder, renamed into place only when complete.
func (p *Pack) WriteZipFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pack-*.zip")
	if err != nil {
		return fmt.Errorf("write pack: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = p.WriteZip(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), FileMode)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write pack %s: %w", path, err)
	}
	return nil
}

// WriteDir writes the pack as the folder dir, which must not exist or be
// empty. It is built in a temporary sibling folder and renamed into place,
// so a failure leaves nothing half-written. Files get FileMode, folders
// DirMode, and every one the pack's time.
func (pk *Pack) WriteDir(dir string) error {
	dir = filepath.Clean(dir)
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("write pack: %s exists and is not empty", dir)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".pack-")
	if err != nil {
		return fmt.Errorf("write pack: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	for _, f := range pk.Files {
		if !safePath(f.Path) {
			return fmt.Errorf("write pack: path %q leaves the pack", f.Path)
		}
		full := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(full), DirMode); err != nil {
			return fmt.Errorf("write pack: %w", err)
		}
		if err := os.WriteFile(full, f.Data, FileMode); err != nil {
			return fmt.Errorf("write pack: %w", err)
		}
	}
	// Fix modes and times last, whatever the umask did.
	err = filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(FileMode)
		if d.IsDir() {
			mode = DirMode
		}
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
		return os.Chtimes(p, pk.Generated, pk.Generated)
	})
	if err != nil {
		return fmt.Errorf("write pack: %w", err)
	}
	os.Remove(dir) // an empty folder in the way
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("write pack: %w", err)
	}
	ok = true
	return nil
}

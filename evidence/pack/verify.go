package pack

import (
	"archive/zip"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// maxVerifyFile is the largest file Verify reads.
const maxVerifyFile = MaxArtefact + 1<<20

// Result is what Verify found. A pack verifies when OK.
type Result struct {
	Files   int      // files the manifest lists
	Changed []string // listed, present, different content
	Missing []string // listed, absent
	Extra   []string // present, not listed (and not manifest.json, SHA256SUMS or the signature)
	// Sums is set when SHA256SUMS does not match the files it names.
	Sums string
	// Signed says a signature was checked (a public key was given);
	// Signature says why it failed ("" when it verified or was not checked).
	Signed    bool
	Signature string
}

// OK reports whether nothing was wrong.
func (r Result) OK() bool {
	return len(r.Changed) == 0 && len(r.Missing) == 0 && len(r.Extra) == 0 && r.Sums == "" && r.Signature == ""
}

// Verify checks the pack at path (a folder or a zip) against its
// manifest: every listed file's SHA-256 and size, every unlisted file,
// SHA256SUMS, and, when pub is not nil, manifest.json.sig. An error means
// the pack could not be read at all (no manifest, not a zip).
func Verify(path string, pub ed25519.PublicKey) (Result, error) {
	files, err := readPack(path)
	if err != nil {
		return Result{}, err
	}
	mb, ok := files[ManifestFile]
	if !ok {
		return Result{}, fmt.Errorf("verify %s: no %s", path, ManifestFile)
	}
	var man Manifest
	if err := json.Unmarshal(mb, &man); err != nil {
		return Result{}, fmt.Errorf("verify %s: read %s: %w", path, ManifestFile, err)
	}
	r := Result{Files: len(man.Files)}
	listed := map[string]bool{ManifestFile: true, SumsFile: true, SignatureFile: true}
	for _, e := range man.Files {
		listed[e.Path] = true
		b, ok := files[e.Path]
		switch {
		case !ok:
			r.Missing = append(r.Missing, e.Path)
		case int64(len(b)) != e.Size || sum(b) != e.SHA256:
			r.Changed = append(r.Changed, e.Path)
		}
	}
	for p := range files {
		if !listed[p] {
			r.Extra = append(r.Extra, p)
		}
	}
	slices.Sort(r.Extra)
	if s, ok := files[SumsFile]; !ok {
		r.Sums = "missing"
	} else {
		r.Sums = checkSums(s, files)
	}
	if pub != nil {
		r.Signed = true
		sig, ok := files[SignatureFile]
		switch {
		case !ok:
			r.Signature = SignatureFile + " is missing"
		default:
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sig)))
			if err != nil || !ed25519.Verify(pub, mb, raw) {
				r.Signature = SignatureFile + " does not match manifest.json and this key"
			}
		}
	}
	return r, nil
}

// checkSums checks SHA256SUMS as `sha256sum -c` would; "" when it holds.
func checkSums(s []byte, files map[string][]byte) string {
	var bad []string
	for _, line := range strings.Split(strings.TrimRight(string(s), "\n"), "\n") {
		h, p, ok := strings.Cut(line, "  ")
		if !ok {
			return "malformed line " + fmt.Sprintf("%q", line)
		}
		if b, ok := files[p]; !ok || sum(b) != h {
			bad = append(bad, p)
		}
	}
	if len(bad) > 0 {
		return "does not match " + strings.Join(bad, ", ")
	}
	return ""
}

// readPack reads every regular file of a pack folder or zip, by
// slash-separated path. Symbolic links and paths leaving the pack are
// refused.
func readPack(path string) (map[string][]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	files := map[string][]byte{}
	if !fi.IsDir() {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil, fmt.Errorf("verify %s: not a pack folder or zip: %w", path, err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, "/") && f.UncompressedSize64 == 0 {
				continue
			}
			if !safePath(f.Name) {
				return nil, fmt.Errorf("verify %s: entry %q leaves the pack", path, f.Name)
			}
			if f.UncompressedSize64 > maxVerifyFile {
				return nil, fmt.Errorf("verify %s: entry %s larger than %d bytes", path, f.Name, maxVerifyFile)
			}
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("verify %s: open %s: %w", path, f.Name, err)
			}
			b, err := io.ReadAll(io.LimitReader(rc, maxVerifyFile+1))
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("verify %s: read %s: %w", path, f.Name, err)
			}
			files[f.Name] = b
		}
		return files, nil
	}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(path, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > maxVerifyFile {
			return fmt.Errorf("%s larger than %d bytes", rel, maxVerifyFile)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	return files, nil
}

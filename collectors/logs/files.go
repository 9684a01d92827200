package logs

import (
	"archive/zip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/ksbfolio/ksbfolio/collectors"
)

// targetKind says how a found path is read.
type targetKind int

const (
	targetFile   targetKind = iota // a log file, maybe gzip-compressed
	targetGHADir                   // an unpacked GitHub Actions log archive
	targetGHAZip                   // a GitHub Actions log archive as downloaded
)

// target is one thing to read.
type target struct {
	Path string // as found, under its root
	Kind targetKind
	Info fs.FileInfo // of the real file (symlinks resolved)
}

// ghaStepRe matches the step logs of a GitHub Actions archive: "1_Set up job.txt".
var ghaStepRe = regexp.MustCompile(`^\d+_.+\.txt$`)

// discover expands the configured paths. A symlink is followed only when
// its target stays under the real folder of the pattern's fixed part;
// one that leaves it is skipped and reported.
func (c *Collector) discover(sink collectors.Sink, skips *collectors.Skips) ([]target, error) {
	var out []target
	seen := map[string]bool{}
	missing := 0
	add := func(t target, real string) {
		if seen[real] {
			return
		}
		seen[real] = true
		out = append(out, t)
	}
	skip := func(what, why string) {
		s := collectors.Skipped{What: what, Reason: why}
		sink.Skip(s)
		skips.Add(s)
	}
	for _, p := range c.cfg.Paths {
		base, pat := doublestar.SplitPattern(filepath.ToSlash(p))
		base = filepath.FromSlash(base)
		if !hasMeta(p) {
			// A literal path: a folder is its own root; a file's root is
			// its folder.
			base, pat = p, ""
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				base, pat = filepath.Dir(p), filepath.Base(p)
			}
		}
		root, err := filepath.EvalSymlinks(base)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				missing++
				continue
			}
			return nil, fmt.Errorf("resolve %s: %w", base, err)
		}
		var matches []string
		if !hasMeta(pat) {
			matches = []string{filepath.Join(base, filepath.FromSlash(pat))}
		} else {
			ms, err := doublestar.Glob(os.DirFS(base), pat, doublestar.WithNoFollow())
			if err != nil {
				return nil, fmt.Errorf("expand %s: %w", p, err)
			}
			for _, m := range ms {
				matches = append(matches, filepath.Join(base, filepath.FromSlash(m)))
			}
			if len(ms) == 0 {
				sink.Warn(fmt.Sprintf("paths: %s matches no file", p))
			}
		}
		for _, m := range matches {
			real, fi, ok := c.resolve(m, root, skip)
			if !ok {
				if _, err := os.Lstat(m); errors.Is(err, fs.ErrNotExist) {
					missing++
				}
				continue
			}
			switch {
			case fi.IsDir():
				if isGHA(os.DirFS(real)) {
					add(target{Path: m, Kind: targetGHADir, Info: fi}, real)
					continue
				}
				err := filepath.WalkDir(m, func(path string, d fs.DirEntry, err error) error {
					if err != nil {
						skip(path, fmt.Sprintf("cannot read: %v", err))
						return nil
					}
					if d.IsDir() {
						if path != m && isGHA(os.DirFS(path)) {
							if info, err := d.Info(); err == nil {
								add(target{Path: path, Kind: targetGHADir, Info: info}, path)
							}
							return fs.SkipDir
						}
						return nil
					}
					r, info, ok := c.resolve(path, root, skip)
					if !ok || info.IsDir() {
						return nil // a symlinked folder is not walked
					}
					add(fileTarget(path, info), r)
					return nil
				})
				if err != nil {
					return nil, fmt.Errorf("walk %s: %w", m, err)
				}
			default:
				add(fileTarget(m, fi), real)
			}
		}
	}
	if len(out) == 0 && missing > 0 {
		return nil, fmt.Errorf("logs paths %s: %w", strings.Join(c.cfg.Paths, ", "), collectors.ErrSourceMissing)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Info.ModTime(), out[j].Info.ModTime()
		if !a.Equal(b) {
			return a.Before(b) // oldest first: rotated files before the live one
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// fileTarget classifies a regular file.
func fileTarget(path string, fi fs.FileInfo) target {
	if strings.EqualFold(filepath.Ext(path), ".zip") {
		return target{Path: path, Kind: targetGHAZip, Info: fi}
	}
	return target{Path: path, Kind: targetFile, Info: fi}
}

// resolve returns the real path of p and its info, following a symlink
// only when it stays under root; ok is false when p is to be skipped.
func (c *Collector) resolve(p, root string, skip func(string, string)) (string, fs.FileInfo, bool) {
	li, err := os.Lstat(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			skip(p, fmt.Sprintf("cannot read: %v", err))
		}
		return "", nil, false
	}
	real := p
	if li.Mode()&fs.ModeSymlink != 0 {
		real, err = filepath.EvalSymlinks(p)
		if err != nil {
			skip(p, "broken symlink")
			return "", nil, false
		}
		if !within(root, real) {
			skip(p, "symlink points outside "+root+"; not followed")
			return "", nil, false
		}
	} else if r, err := filepath.EvalSymlinks(p); err == nil {
		if !within(root, r) {
			skip(p, "reached through a symlink outside "+root+"; not followed")
			return "", nil, false
		}
		real = r
	}
	fi, err := os.Stat(real)
	if err != nil {
		skip(p, fmt.Sprintf("cannot read: %v", err))
		return "", nil, false
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		skip(p, "not a regular file (a FIFO, socket or device is not read)")
		return "", nil, false
	}
	return real, fi, true
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func hasMeta(p string) bool { return strings.ContainsAny(p, "*?[{\\") }

// isGHA reports whether a folder (or a zip) is laid out as a GitHub
// Actions log archive: a subfolder of step logs named "<n>_<step>.txt".
func isGHA(fsys fs.FS) bool {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub, err := fs.ReadDir(fsys, e.Name())
		if err != nil {
			continue
		}
		steps := 0
		for _, s := range sub {
			if !s.IsDir() && ghaStepRe.MatchString(s.Name()) {
				steps++
			}
		}
		if steps > 0 && steps*2 >= len(sub) {
			return true
		}
	}
	return false
}

// openZip opens a zip archive as a file system.
func openZip(path string) (*zip.ReadCloser, error) {
	return zip.OpenReader(path)
}

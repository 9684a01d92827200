package pack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
)

// The pack's fixed file names.
const (
	IndexFile     = "index.html"
	ManifestFile  = "manifest.json"
	SumsFile      = "SHA256SUMS"
	SignatureFile = "manifest.json.sig"
	// WorkbookFile is where `ksbfolio pack` puts the assessor workbook
	// (evidence/workbook), an Extra file of the pack.
	WorkbookFile = "workbook.xlsx"
)

// MaxArtefact is the largest artefact copied into a pack; a larger one is
// listed, not copied.
const MaxArtefact = 64 << 20

// File is one file of the pack: a slash-separated path inside it and its
// bytes.
type File struct {
	Path string
	Data []byte
}

// Blobs reads a stored artefact by its SHA-256 (ledger.Ledger does).
type Blobs interface {
	GetBlob(ctx context.Context, sum string) (io.ReadCloser, error)
}

// Person is who the cover names.
type Person struct {
	Apprentice string // name, or the apprentice ID
	Employer   string
}

// Input is everything a pack is made from.
type Input struct {
	Snapshot  *ledger.Snapshot
	Catalogue *ksb.Catalogue
	// Coverage is pipeline.SnapshotCoverage of Snapshot; its Covers are
	// the KSBs the selection works on.
	Coverage coverage.Report
	Who      Person
	// Generated is the pack's time: the ledger's last run, or
	// SOURCE_DATE_EPOCH. Every file's time in the pack is this.
	Generated time.Time
	// MaxItems limits the selection (0: every evidenced item).
	MaxItems int
	Blobs    Blobs
	// Extra are more files to include and list in the manifest, such as
	// the assessor workbook (evidence/workbook). Their paths must be
	// clean, relative and not clash with the pack's own files.
	Extra []File
}

// Pack is a built pack: its files sorted by path (manifest.json and
// SHA256SUMS included), the manifest and the selection.
type Pack struct {
	Files     []File
	Manifest  Manifest
	Selection Selection
	Generated time.Time
}

// Manifest is manifest.json.
type Manifest struct {
	Schema     int    `json:"schema"`
	Generator  string `json:"generator"`
	Apprentice string `json:"apprentice"`
	Catalogue  string `json:"catalogue"`
	Revision   string `json:"catalogue_revision"`
	// GeneratedAt is the pack's time (Input.Generated), RFC 3339 UTC.
	GeneratedAt string          `json:"generated_at"`
	Selection   ManifestSel     `json:"selection"`
	Files       []ManifestEntry `json:"files"`
}

// ManifestSel records what was selected.
type ManifestSel struct {
	MaxItems  int      `json:"max_items"`
	Items     []string `json:"items"`
	Withheld  []string `json:"withheld"`
	Uncovered []string `json:"uncovered"`
}

// ManifestEntry is one file the manifest vouches for: every file of the
// pack but manifest.json, SHA256SUMS and manifest.json.sig.
type ManifestEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Dirs gives each selected item's folder in the pack,
// "evidence/NN-<slug>" (NN from 01, wider from 100 items on), by item ID:
// where Build puts its artefacts, and what the workbook links.
func (s Selection) Dirs() map[string]string {
	width := max(2, len(fmt.Sprint(len(s.Items))))
	out := make(map[string]string, len(s.Items))
	for i, c := range s.Items {
		out[c.View.Item.ID] = fmt.Sprintf("evidence/%0*d-%s", width, i+1, Slug(c.View.Item.Title, c.View.Item.ID))
	}
	return out
}

// Build makes the pack in memory: it selects the items, copies their
// artefacts under evidence/NN-<slug>/, renders index.html and writes the
// manifest and SHA256SUMS. The same input gives the same bytes.
func Build(ctx context.Context, in Input) (*Pack, error) {
	if in.Snapshot == nil || in.Catalogue == nil {
		return nil, fmt.Errorf("build pack: no snapshot or catalogue")
	}
	gen := in.Generated.UTC().Truncate(time.Second)
	sel := Select(in.Snapshot.Views, in.Coverage.Covers.KSBs, in.MaxItems)
	files := map[string][]byte{}
	add := func(p string, b []byte) error {
		if !safePath(p) {
			return fmt.Errorf("build pack: file path %q is not a clean relative path", p)
		}
		if _, dup := files[p]; dup {
			return fmt.Errorf("build pack: two files at %q", p)
		}
		files[p] = b
		return nil
	}
	pages := make([]itemPage, len(sel.Items))
	dirs := sel.Dirs()
	for i := range sel.Items {
		c := &sel.Items[i]
		dir := dirs[c.View.Item.ID]
		pg := itemPage{Chosen: c, Anchor: anchor(c.View.Item.ID), Dir: dir}
		names := map[string]bool{}
		for _, a := range c.View.Item.Artefacts {
			art := artefactView{Artefact: a}
			if a.Size > MaxArtefact || in.Blobs == nil || !evidence.ValidSHA256(a.SHA256) {
				art.Note = "not copied (too large or not stored)"
				pg.Artefacts = append(pg.Artefacts, art)
				continue
			}
			b, err := readBlob(ctx, in.Blobs, a.SHA256)
			if err != nil {
				art.Note = "not copied: " + err.Error()
				pg.Artefacts = append(pg.Artefacts, art)
				continue
			}
			name := uniqueName(FileName(a.Name), names)
			art.Path = dir + "/" + name
			if err := add(art.Path, b); err != nil {
				return nil, err
			}
			if a.MediaType == "image/svg+xml" {
				art.SVG = b
			}
			pg.Artefacts = append(pg.Artefacts, art)
		}
		pages[i] = pg
	}
	for _, f := range in.Extra {
		if f.Path == IndexFile || f.Path == ManifestFile || f.Path == SumsFile || f.Path == SignatureFile {
			return nil, fmt.Errorf("build pack: extra file %q clashes with the pack's own", f.Path)
		}
		if err := add(f.Path, f.Data); err != nil {
			return nil, err
		}
	}
	html, err := renderIndex(in, sel, pages, gen)
	if err != nil {
		return nil, err
	}
	if err := add(IndexFile, html); err != nil {
		return nil, err
	}
	man := Manifest{Schema: 1, Generator: "ksbfolio", Apprentice: in.Snapshot.Apprentice, Catalogue: in.Catalogue.ID,
		Revision: in.Catalogue.Revision(), GeneratedAt: gen.Format(time.RFC3339),
		Selection: ManifestSel{MaxItems: max(in.MaxItems, 0), Items: []string{}, Withheld: []string{}, Uncovered: []string{}}}
	for _, c := range sel.Items {
		man.Selection.Items = append(man.Selection.Items, c.View.Item.ID)
	}
	for _, w := range sel.Withheld {
		man.Selection.Withheld = append(man.Selection.Withheld, w.ID)
	}
	man.Selection.Uncovered = append(man.Selection.Uncovered, sel.Uncovered...)
	for _, p := range sortedKeys(files) {
		man.Files = append(man.Files, ManifestEntry{Path: p, SHA256: sum(files[p]), Size: int64(len(files[p]))})
	}
	mb, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	files[ManifestFile] = append(mb, '\n')
	var sums bytes.Buffer
	for _, p := range sortedKeys(files) {
		fmt.Fprintf(&sums, "%s  %s\n", sum(files[p]), p)
	}
	files[SumsFile] = sums.Bytes()
	pk := &Pack{Manifest: man, Selection: sel, Generated: gen}
	for _, p := range sortedKeys(files) {
		pk.Files = append(pk.Files, File{Path: p, Data: files[p]})
	}
	return pk, nil
}

func readBlob(ctx context.Context, b Blobs, s string) ([]byte, error) {
	rc, err := b.GetBlob(ctx, s)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxArtefact+1))
	if err != nil {
		return nil, fmt.Errorf("read artefact %s: %w", s, err)
	}
	if sum(data) != s {
		return nil, fmt.Errorf("artefact %s: content does not match its hash", s)
	}
	return data, nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func sortedKeys(m map[string][]byte) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// safePath reports whether p is a clean, relative, slash-separated path
// that stays inside the pack.
func safePath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

// Slug makes a short folder-name part from an item title: lower-case
// letters, digits and dashes, at most 40 characters; the item ID's hash
// part when the title gives nothing.
func Slug(title, id string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		if i := strings.LastIndexByte(id, '-'); i >= 0 && len(id) > i+8 {
			return id[i+1 : i+9]
		}
		return "item"
	}
	return s
}

// FileName makes an artefact name safe as one file name inside the pack:
// only its last path element, letters, digits, '.', '_' and '-' (others
// become '_'), no leading dot, at most 80 bytes.
func FileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if len(s) > 80 {
		s = s[len(s)-80:]
	}
	if s == "" {
		s = "artefact"
	}
	return s
}

func uniqueName(n string, used map[string]bool) string {
	out := n
	for i := 2; used[out]; i++ {
		out = fmt.Sprintf("%d-%s", i, n)
	}
	used[out] = true
	return out
}

func anchor(id string) string { return "item-" + id }

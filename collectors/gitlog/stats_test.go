package gitlog

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// countingObject is a blob whose reads are counted.
type countingObject struct {
	plumbing.EncodedObject
	opened bool
	read   int
}

func (o *countingObject) Reader() (io.ReadCloser, error) {
	o.opened = true
	r, err := o.EncodedObject.Reader()
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{readCounter{r, &o.read}, r}, nil
}

type readCounter struct {
	r io.Reader
	n *int
}

func (c readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += n
	return n, err
}

func blobObject(t *testing.T, content []byte) *countingObject {
	t.Helper()
	o := &plumbing.MemoryObject{}
	o.SetType(plumbing.BlobObject)
	if _, err := o.Write(content); err != nil {
		t.Fatal(err)
	}
	return &countingObject{EncodedObject: o}
}

// TestReadBlob: the size is checked before anything is read, a binary blob
// is read only as far as its first bytes, a text blob whole.
func TestReadBlob(t *testing.T) {
	t.Parallel()
	text := []byte(strings.Repeat("a line of text\n", 2000))
	binary := append([]byte("PK\x00\x03"), bytes.Repeat([]byte{1, 2, 3}, 100_000)...)
	cases := []struct {
		name     string
		content  []byte
		limit    int64
		kind     blobKind
		maxRead  int
		wantBody bool
	}{
		{"over the limit: not opened", text, int64(len(text)) - 1, largeBlob, 0, false},
		{"binary: first bytes only", binary, 1 << 20, binaryBlob, binarySniffLen, false},
		{"text: whole", text, int64(len(text)), textBlob, len(text), true},
		{"empty", nil, 10, textBlob, 0, true},
	}
	for _, tc := range cases {
		o := blobObject(t, tc.content)
		got, kind, err := readBlob(o, tc.limit)
		if err != nil || kind != tc.kind {
			t.Errorf("%s: kind %v err %v, want kind %v", tc.name, kind, err, tc.kind)
		}
		if o.read > tc.maxRead || (tc.kind == largeBlob && o.opened) {
			t.Errorf("%s: read %d bytes (opened %v), want at most %d", tc.name, o.read, o.opened, tc.maxRead)
		}
		if tc.wantBody != (got != nil || len(tc.content) == 0) || (tc.wantBody && !bytes.Equal(got, tc.content)) {
			t.Errorf("%s: content %d bytes, want %v", tc.name, len(got), tc.wantBody)
		}
	}
}

package tensorboard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// readAll reads every record of b, returning the records, the end error
// (nil for io.EOF) and what was skipped.
func readAll(t testing.TB, b []byte) ([]string, error, []Corruption, int64) {
	t.Helper()
	r := NewReader(bytes.NewReader(b), 0)
	var recs []string
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs, nil, r.Corrupt, r.Offset()
		}
		if err != nil {
			return recs, err, r.Corrupt, r.Offset()
		}
		recs = append(recs, string(rec))
	}
}

// TestMaskedCRCKnownValue checks the masked CRC-32C against a real
// writer's: the first header of a Lightning event file of the corpus
// (version_17/…14338.0) is length 72 followed by fe 92 48 9d.
func TestMaskedCRCKnownValue(t *testing.T) {
	hdr := binary.LittleEndian.AppendUint64(nil, 72)
	if got, want := maskedCRC(hdr), uint32(0x9d4892fe); got != want {
		t.Errorf("maskedCRC(length 72) = %#x, want %#x", got, want)
	}
}

func TestReader(t *testing.T) {
	recs := []string{"first", "", "third record", strings.Repeat("x", 70_000)}
	var clean []byte
	var starts []int
	for _, r := range recs {
		starts = append(starts, len(clean))
		clean = appendRecord(clean, []byte(r))
	}
	flip := func(at int) []byte {
		b := slices.Clone(clean)
		b[at] ^= 0x40
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		want    []string
		err     error
		corrupt []string // reasons, in order
	}{
		{"empty", nil, nil, nil, nil},
		{"clean", clean, recs, nil, nil},
		{"partial header", clean[:starts[3]+5], recs[:3], ErrPartial, nil},
		{"partial data", clean[:len(clean)-10], recs[:3], ErrPartial, nil},
		{"partial footer", clean[:len(clean)-1], recs[:3], ErrPartial, nil},
		{"flipped data byte", flip(starts[2] + headerLen + 2), []string{recs[0], recs[1], recs[3]}, nil, []string{"data checksum mismatch"}},
		{"flipped data checksum", flip(starts[1] + headerLen), []string{recs[0], recs[2], recs[3]}, nil, []string{"data checksum mismatch"}},
		{"flipped length byte", flip(starts[1]), []string{recs[0], recs[2], recs[3]}, nil, []string{"length checksum mismatch"}},
		{"flipped length checksum", flip(starts[2] + 9), []string{recs[0], recs[1], recs[3]}, nil, []string{"length checksum mismatch"}},
		{"garbage before", append([]byte("not a record at all, just text"), clean...), recs, nil, []string{"length checksum mismatch"}},
		{"garbage after", append(slices.Clone(clean), []byte("trailing junk that is long enough")...), recs, nil, []string{"length checksum mismatch"}},
		{"short garbage", []byte("abc"), nil, ErrPartial, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err, corrupt, _ := readAll(t, tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("records %d %q, want %d", len(got), abbrev(got), len(tt.want))
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("end: %v, want %v", err, tt.err)
			}
			var reasons []string
			for _, c := range corrupt {
				reasons = append(reasons, c.Reason)
			}
			if !slices.Equal(reasons, tt.corrupt) {
				t.Errorf("skipped %v, want %v", corrupt, tt.corrupt)
			}
		})
	}
}

func abbrev(recs []string) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		if len(r) > 20 {
			r = r[:20] + fmt.Sprintf("…(%d)", len(r))
		}
		out[i] = r
	}
	return out
}

// TestReaderOffsetResumes: after ErrPartial, Offset is the start of the
// incomplete record, and a reader started there on the grown file reads
// the rest.
func TestReaderOffsetResumes(t *testing.T) {
	full := eventFile([]byte("one"), []byte("two"), []byte("three"))
	cut := full[:len(full)-3]
	r := NewReader(bytes.NewReader(cut), 0)
	for {
		if _, err := r.Next(); err != nil {
			if !errors.Is(err, ErrPartial) {
				t.Fatalf("end %v, want ErrPartial", err)
			}
			break
		}
	}
	off := r.Offset()
	if want := int64(len(eventFile([]byte("one"), []byte("two")))); off != want {
		t.Fatalf("offset %d, want %d", off, want)
	}
	r2 := NewReader(bytes.NewReader(full[off:]), off)
	rec, err := r2.Next()
	if err != nil || string(rec) != "three" {
		t.Fatalf("resumed read %q, %v", rec, err)
	}
	if _, err := r2.Next(); !errors.Is(err, io.EOF) || r2.Offset() != int64(len(full)) {
		t.Fatalf("after resume: %v at %d", err, r2.Offset())
	}
}

// TestReaderTooLarge: a record with a valid header over maxRecord is
// skipped unread and counted.
func TestReaderTooLarge(t *testing.T) {
	var hdr [headerLen]byte
	binary.LittleEndian.PutUint64(hdr[:8], maxRecord+1)
	binary.LittleEndian.PutUint32(hdr[8:], maskedCRC(hdr[:8]))
	b := append(hdr[:], make([]byte, maxRecord+1+footerLen)...)
	b = appendRecord(b, []byte("after"))
	got, err, corrupt, _ := readAll(t, b)
	if err != nil || !slices.Equal(got, []string{"after"}) || len(corrupt) != 1 {
		t.Fatalf("got %q, %v, skipped %v", got, err, corrupt)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(eventFile([]byte("a"), []byte("bc")))
	f.Add(eventFile(fileVersionMsg(1), eventMsg(2, 3, simpleValue("loss", 0.5)))[:30])
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b), 0)
		var total int64
		for i := 0; ; i++ {
			rec, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ErrPartial) {
					t.Fatalf("error %v on an in-memory input", err)
				}
				break
			}
			total += int64(len(rec)) + headerLen + footerLen
			if i > len(b) {
				t.Fatal("more records than bytes")
			}
		}
		if r.Offset() > int64(len(b)) || r.Offset() < 0 {
			t.Fatalf("offset %d outside the %d-byte input", r.Offset(), len(b))
		}
		var skipped int64
		for _, c := range r.Corrupt {
			skipped += c.Skip
		}
		if total+skipped > r.Offset() {
			t.Fatalf("records (%d) and skips (%d) cover more than the %d bytes read", total, skipped, r.Offset())
		}
	})
}

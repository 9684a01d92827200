package tensorboard

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// TFRecord framing, as TensorFlow's record_writer.cc writes it; every
// integer is little-endian:
//
//	uint64 length
//	uint32 masked CRC-32C of the 8 length bytes
//	byte   data[length]
//	uint32 masked CRC-32C of data
//
// masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8.
const (
	headerLen  = 12
	footerLen  = 4
	maskDelta  = 0xa282ead8
	maxRecord  = 64 << 20 // records larger than this are skipped unread
	resyncScan = 64 << 20 // at most this many bytes are scanned for the next valid header
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TFRecord's masked CRC-32C of b.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + maskDelta
}

// ErrPartial is returned by Reader.Next when the input ends inside a
// record: a file still being written, or a truncated copy. Reading it again
// once it has grown, from Reader.Offset, can succeed.
var ErrPartial = errors.New("incomplete last record")

// Corruption is one stretch of input the Reader skipped: a record whose
// length or data checksum is wrong, or a record too large to read.
type Corruption struct {
	Offset int64  // where the bad record (or the unreadable stretch) began
	Skip   int64  // bytes skipped, up to the next valid record or the end
	Reason string // what was wrong
}

// Reader reads the records of one TFRecord stream. A record whose data
// checksum fails is skipped whole (its length was valid); a header whose
// length checksum fails is skipped by scanning forward, one byte at a time,
// for the next header whose length checksum holds. Both are reported in
// Corrupt and reading goes on.
type Reader struct {
	r   *bufio.Reader
	off int64 // offset of the next unread byte
	buf []byte
	// Corrupt lists what was skipped so far.
	Corrupt []Corruption
}

// NewReader returns a Reader of r whose first byte is at offset start (0
// for the start of a file; Offset values are reported from it).
func NewReader(r io.Reader, start int64) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), off: start}
}

// Offset is where the next record starts: after the last record returned
// or skipped. After ErrPartial it is the start of the incomplete record.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the data of the next valid record, valid until the next
// call. At the end of the input it returns io.EOF, or ErrPartial when the
// input ends inside a record; any other error is from the underlying
// reader.
func (r *Reader) Next() ([]byte, error) {
	for {
		hdr, err := r.r.Peek(headerLen)
		if err != nil {
			return nil, r.endErr(len(hdr), err)
		}
		length := binary.LittleEndian.Uint64(hdr[:8])
		if maskedCRC(hdr[:8]) != binary.LittleEndian.Uint32(hdr[8:12]) {
			if err := r.resync(); err != nil {
				return nil, err
			}
			continue
		}
		if length > maxRecord {
			if err := r.skipLarge(length); err != nil {
				return nil, err
			}
			continue
		}
		total := headerLen + int(length) + footerLen
		var buf []byte
		if total <= r.r.Size() {
			// Small records are read in place, without a copy; buf is
			// valid until the next read.
			buf, err = r.r.Peek(total)
			if err == nil {
				_, _ = r.r.Discard(total)
			}
		} else {
			if cap(r.buf) < total {
				r.buf = make([]byte, total)
			}
			buf = r.buf[:total]
			_, err = io.ReadFull(r.r, buf)
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				// The bytes are consumed but Offset stays at the record.
				return nil, ErrPartial
			}
			return nil, fmt.Errorf("read record at offset %d: %w", r.off, err)
		}
		start := r.off
		r.off += int64(total)
		data := buf[headerLen : headerLen+int(length)]
		if maskedCRC(data) != binary.LittleEndian.Uint32(buf[headerLen+int(length):]) {
			r.Corrupt = append(r.Corrupt, Corruption{Offset: start, Skip: int64(total), Reason: "data checksum mismatch"})
			continue
		}
		return data, nil
	}
}

// endErr maps the end of the input, with n bytes of a header left, to
// io.EOF or ErrPartial.
func (r *Reader) endErr(n int, err error) error {
	if errors.Is(err, io.EOF) {
		if n == 0 {
			return io.EOF
		}
		return ErrPartial
	}
	return fmt.Errorf("read record header at offset %d: %w", r.off, err)
}

// resync skips a header whose length checksum fails: it scans forward for
// the next offset holding a header whose checksum holds (or the end).
func (r *Reader) resync() error {
	start := r.off
	c := Corruption{Offset: start, Reason: "length checksum mismatch"}
	defer func() {
		c.Skip = r.off - start
		r.Corrupt = append(r.Corrupt, c)
	}()
	for r.off-start < resyncScan {
		if _, err := r.r.Discard(1); err != nil {
			return r.endErr(0, err)
		}
		r.off++
		hdr, err := r.r.Peek(headerLen)
		if err != nil {
			// Too short for a header: what is left is the corrupt tail.
			n, _ := r.r.Discard(len(hdr))
			r.off += int64(n)
			return io.EOF
		}
		if maskedCRC(hdr[:8]) == binary.LittleEndian.Uint32(hdr[8:12]) {
			return nil
		}
	}
	c.Reason += fmt.Sprintf("; no valid record in the next %d bytes", resyncScan)
	return io.EOF
}

// skipLarge discards a record of a valid but too large length, unchecked.
func (r *Reader) skipLarge(length uint64) error {
	start := r.off
	total := int64(headerLen) + int64(length) + footerLen
	n, err := r.r.Discard(int(min(total, 1<<62)))
	if err != nil {
		if errors.Is(err, io.EOF) {
			return ErrPartial
		}
		return fmt.Errorf("skip record at offset %d: %w", start, err)
	}
	r.off += int64(n)
	r.Corrupt = append(r.Corrupt, Corruption{Offset: start, Skip: int64(n),
		Reason: fmt.Sprintf("record of %d bytes is over the %d-byte limit", length, maxRecord)})
	return nil
}

// appendRecord appends data framed as one TFRecord to b; tests and the
// benchmark write event files with it.
func appendRecord(b, data []byte) []byte {
	var hdr [headerLen]byte
	binary.LittleEndian.PutUint64(hdr[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(hdr[8:], maskedCRC(hdr[:8]))
	b = append(b, hdr[:]...)
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, maskedCRC(data))
}

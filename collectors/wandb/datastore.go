package wandb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// The binary run log, run-<id>.wandb, as wandb/sdk/internal/datastore.py
// writes it: a 7-byte header (":W&B", uint16 LE 0xBEE1, version 0), then
// LevelDB log format: 32 KiB blocks of records, each
//
//	uint32 LE checksum | uint16 LE length | uint8 type | data[length]
//
// type FULL=1, or FIRST=2, MIDDLE=3, LAST=4 for data split across blocks;
// a block tail shorter than a record header is zero padding. The checksum
// is zlib's CRC-32 of the type byte then the data (the Python writer); a
// LevelDB-style masked CRC-32C of the same is accepted too. Each assembled
// data is a wandb_internal.Record protobuf.
const (
	logHeaderLen = 7
	logBlockLen  = 32 << 10
	logMaxRecord = 64 << 20 // assembled records larger than this are dropped

	logFull, logFirst, logMiddle, logLast = 1, 2, 3, 4
)

var (
	logIdent    = []byte(":W&B")
	castagnoli  = crc32.MakeTable(crc32.Castagnoli)
	errNotWandb = errors.New("not a W&B run log (bad header)")
)

// logStats is what reading a log skipped.
type logStats struct {
	Corrupt int  // stretches dropped: bad checksum, bad length, broken sequence
	Partial bool // the log ends inside a record (the run is still writing)
}

// checksumOK accepts the Python writer's CRC-32 seeded with the type byte
// and LevelDB's masked CRC-32C.
func checksumOK(sum uint32, typ byte, data []byte) bool {
	ieee := crc32.Update(crc32.ChecksumIEEE([]byte{typ}), crc32.IEEETable, data)
	if sum == ieee {
		return true
	}
	c := crc32.Update(crc32.Checksum([]byte{typ}, castagnoli), castagnoli, data)
	return sum == ((c>>15)|(c<<17))+0xa282ead8
}

// readLog calls fn with each record of a run log, in order. Damage is
// counted and reading resumes at the next block, as LevelDB's reader
// does; an error from fn stops the read.
func readLog(r io.Reader, fn func(rec []byte) error) (logStats, error) {
	var st logStats
	br := bufio.NewReaderSize(r, logBlockLen)
	hdr := make([]byte, logHeaderLen)
	if _, err := io.ReadFull(br, hdr); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			st.Partial = len(hdr) > 0
			return st, nil // nothing written yet
		}
		return st, fmt.Errorf("read header: %w", err)
	}
	if string(hdr[:4]) != string(logIdent) || binary.LittleEndian.Uint16(hdr[4:6]) != 0xBEE1 || hdr[6] != 0 {
		return st, errNotWandb
	}
	off := int64(logHeaderLen)
	var pending []byte // data of a FIRST/MIDDLE sequence
	inSeq := false
	skipToBlock := func() error {
		n := logBlockLen - off%logBlockLen
		d, err := br.Discard(int(n))
		off += int64(d)
		return err
	}
	for {
		if left := logBlockLen - off%logBlockLen; left < logHeaderLen {
			d, err := br.Discard(int(left))
			off += int64(d)
			if err != nil {
				return st, endOf(err, &st, d > 0 && inSeq)
			}
		}
		h, err := br.Peek(logHeaderLen)
		if err != nil {
			if errors.Is(err, io.EOF) {
				st.Partial = st.Partial || len(h) > 0 || inSeq
				return st, nil
			}
			return st, fmt.Errorf("read record header at %d: %w", off, err)
		}
		sum, length, typ := binary.LittleEndian.Uint32(h), int(binary.LittleEndian.Uint16(h[4:6])), h[6]
		if sum == 0 && length == 0 && typ == 0 {
			// Zero-filled rest of a block (a preallocated or torn tail).
			if err := skipToBlock(); err != nil {
				return st, endOf(err, &st, false)
			}
			continue
		}
		if typ < logFull || typ > logLast || int64(length) > logBlockLen-off%logBlockLen-logHeaderLen {
			st.Corrupt++
			pending, inSeq = pending[:0], false
			if err := skipToBlock(); err != nil {
				return st, endOf(err, &st, false)
			}
			continue
		}
		rec, err := br.Peek(logHeaderLen + length)
		if err != nil {
			if errors.Is(err, io.EOF) {
				st.Partial = true
				return st, nil
			}
			return st, fmt.Errorf("read record at %d: %w", off, err)
		}
		data := rec[logHeaderLen:]
		if !checksumOK(sum, typ, data) {
			st.Corrupt++
			pending, inSeq = pending[:0], false
			if err := skipToBlock(); err != nil {
				return st, endOf(err, &st, false)
			}
			continue
		}
		var whole []byte
		switch typ {
		case logFull:
			if inSeq {
				st.Corrupt++ // a FIRST without its LAST
			}
			pending, inSeq = pending[:0], false
			whole = data
		case logFirst:
			if inSeq {
				st.Corrupt++
			}
			pending, inSeq = append(pending[:0], data...), true
		case logMiddle, logLast:
			switch {
			case !inSeq:
				st.Corrupt++
			case len(pending)+len(data) > logMaxRecord:
				st.Corrupt++
				pending, inSeq = pending[:0], false
			default:
				pending = append(pending, data...)
				if typ == logLast {
					whole, inSeq = pending, false
				}
			}
		}
		if whole != nil {
			if err := fn(whole); err != nil {
				return st, err
			}
		}
		d, _ := br.Discard(logHeaderLen + length)
		off += int64(d)
	}
}

// endOf maps the end of input met while skipping to the next block.
func endOf(err error, st *logStats, partial bool) error {
	if errors.Is(err, io.EOF) {
		st.Partial = st.Partial || partial
		return nil
	}
	return err
}

package logs

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"time"
	"unicode/utf8"
)

// line is one line of a log file, without its line break.
type line struct {
	Text   []byte // valid only until the next call to next; may be cut
	Start  int64  // offset of its first byte in the (decompressed) stream
	End    int64  // offset just after its line break (or its last byte)
	Num    int    // 1-based line number, counted from where reading began
	Cut    bool   // longer than the limit: Text holds its first bytes
	Closed bool   // ended with a line break; false only for a last line
	// Fresh starts a record even without a timestamp, and Time is its
	// time then: the first line of a CloudWatch event.
	Fresh bool
	Time  time.Time
}

// lineReader reads lines in constant memory: a line longer than max is
// cut to its first max bytes and the rest discarded, so neither a 10 MB
// line nor a file without line breaks grows the buffer.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
	off int64
	num int
}

func newLineReader(r io.Reader, start int64, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max, buf: make([]byte, 0, min(max, 64<<10)), off: start}
}

// next returns the next line, or io.EOF when there is none; other errors
// are the reader's.
func (lr *lineReader) next() (line, error) {
	lr.buf = lr.buf[:0]
	l := line{Start: lr.off}
	first := true
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.off += int64(len(chunk))
		if first && err == nil && len(chunk) <= lr.max+1 {
			// The whole line is in the reader's buffer: no copy.
			l.Closed = true
			l.Text = bytes.TrimSuffix(chunk[:len(chunk)-1], []byte{'\r'})
			l.End = lr.off
			lr.num++
			l.Num = lr.num
			return l, nil
		}
		first = false
		if room := lr.max + 1 - len(lr.buf); room > 0 { // +1: the line break
			lr.buf = append(lr.buf, chunk[:min(len(chunk), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && lr.off == l.Start {
			return line{}, io.EOF
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return line{}, err
		}
		l.Closed = err == nil
		break
	}
	length := lr.off - l.Start // bytes of the line, without its break
	if l.Closed {
		length--
	}
	text := lr.buf
	if int64(len(text)) > length {
		text = text[:length]
	}
	if int64(len(text)) > int64(lr.max) {
		text = text[:lr.max]
	}
	l.Cut = length > int64(lr.max)
	l.Text = bytes.TrimSuffix(text, []byte{'\r'})
	l.End = lr.off
	lr.num++
	l.Num = lr.num
	return l, nil
}

// binaryLine reports whether a line is binary junk rather than text: it
// holds a NUL byte, or more than a tenth of its bytes are control
// characters (other than tab and the escape of ANSI colours) or bytes
// that are not UTF-8.
func binaryLine(b []byte) bool {
	plain := true // printable ASCII and tabs only: the common case
	for _, c := range b {
		if c < 0x20 && c != '\t' || c >= 0x7f {
			plain = false
			break
		}
	}
	if plain {
		return false
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	bad := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != 0x1b || c == 0x7f {
				bad++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			bad++
		}
		i += n
	}
	return bad*10 > len(b)
}

// toText returns b as a valid UTF-8 string: invalid bytes become U+FFFD,
// so that a stray Latin-1 byte keeps its line.
func toText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

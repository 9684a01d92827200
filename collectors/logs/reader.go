package logs

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/ksbfolio/ksbfolio/internal/textcap"
)

// line is one line of a log file, without its line break.
type line struct {
	// Text is the line, cut to the reader's limit; it is the reader's
	// buffer, valid only until the next call to next.
	Text   []byte
	Start  int64 // offset of its first byte in the (decompressed) stream
	End    int64 // offset just after its line break (or its last byte)
	Num    int   // 1-based line number, counted from where reading began
	Cut    bool  // longer than the limit: Text holds its first bytes
	Closed bool  // ended with a line break; false only for a last line
	// Fresh starts a record even without a timestamp, and Time is its
	// time then: the first line of a CloudWatch event.
	Fresh bool
	Time  time.Time
}

// Sizes of the line reader's buffers.
const (
	readBytes = 256 << 10 // read buffer
	// maxEmptyReads is how many reads in a row may return nothing before
	// the reader gives up (as bufio does).
	maxEmptyReads = 100
)

// lineReader reads lines in constant memory: a line longer than max is
// cut before a word to at most max bytes (textcap.BeforeWord) and the rest
// discarded, so neither a 10 MB line nor a file without line breaks grows
// the buffer past max.
type lineReader struct {
	r    io.Reader
	max  int
	buf  []byte // read buffer; buf[lo:hi] is not yet in a block
	lo   int
	hi   int
	err  error  // the reader's error (io.EOF at the end), once it gave one
	blk  []byte // whole lines of buf, returned one by one
	pos  int    // where the next line of blk starts
	long []byte // the kept head of a line longer than buf
	off  int64  // offset of blk[pos] in the stream
	num  int
}

func newLineReader(r io.Reader, start int64, max int) *lineReader {
	return &lineReader{r: r, max: max, buf: make([]byte, readBytes), off: start}
}

// next returns the next line, or io.EOF when there is none; other errors
// are the reader's.
func (lr *lineReader) next() (line, error) {
	for lr.pos >= len(lr.blk) {
		if l, ok, err := lr.fill(); err != nil || ok {
			return l, err
		}
	}
	rest := lr.blk[lr.pos:]
	n := bytes.IndexByte(rest, '\n')
	closed := n >= 0
	if closed {
		rest = rest[:n]
		n++
	} else {
		n = len(rest) // the last line, without a line break
	}
	lr.pos += n
	return lr.newLine(rest, int64(n), closed), nil
}

// newLine makes the line of raw, the n bytes of the stream at lr.off.
func (lr *lineReader) newLine(raw []byte, n int64, closed bool) line {
	l := line{Start: lr.off, End: lr.off + n, Closed: closed}
	lr.off += n
	if len(raw) > lr.max { // cut before a word
		raw, l.Cut = raw[:textcap.BeforeWord(view(raw), lr.max)], true
	}
	l.Text = bytes.TrimSuffix(raw, []byte{'\r'})
	lr.num++
	l.Num = lr.num
	return l
}

// fill makes the next whole lines of the stream the block, reading as
// needed. A line longer than the buffer is returned instead (ok), cut.
func (lr *lineReader) fill() (line, bool, error) {
	lr.blk, lr.pos = nil, 0
	seen := 0 // bytes at the start of data known to hold no line break
	for {
		data := lr.buf[lr.lo:lr.hi]
		i := bytes.LastIndexByte(data[seen:], '\n')
		if i >= 0 {
			i += seen
		}
		seen = len(data)
		switch {
		case i >= 0:
			lr.blk = data[:i+1]
			lr.lo += i + 1
			return line{}, false, nil
		case lr.err != nil && !errors.Is(lr.err, io.EOF):
			return line{}, false, lr.err
		case lr.err != nil && len(data) == 0:
			return line{}, false, io.EOF
		case lr.err != nil: // the last line has no line break
			lr.blk = data
			lr.lo = lr.hi
			return line{}, false, nil
		case len(data) == len(lr.buf):
			l, err := lr.longLine()
			return l, true, err
		}
		if lr.hi == len(lr.buf) {
			lr.hi = copy(lr.buf, data)
			lr.lo = 0
		}
		lr.read()
	}
}

// read reads once more into the free end of the buffer, setting err at
// the end of the stream or when the reader fails or gives nothing.
func (lr *lineReader) read() {
	for range maxEmptyReads {
		n, err := lr.r.Read(lr.buf[lr.hi:])
		lr.hi += n
		if err != nil {
			lr.err = err
		}
		if n > 0 || err != nil {
			return
		}
	}
	lr.err = io.ErrNoProgress
}

// longLine reads a line that fills the whole buffer: it keeps its first
// max bytes and discards the rest, up to and including its line break.
func (lr *lineReader) longLine() (line, error) {
	lr.long = lr.long[:0]
	var n int64
	for {
		data := lr.buf[lr.lo:lr.hi]
		i := bytes.IndexByte(data, '\n')
		part := data
		if i >= 0 {
			part = data[:i]
		}
		if room := lr.max + 1 - len(lr.long); room > 0 { // +1: a \r before the break
			lr.long = append(lr.long, part[:min(len(part), room)]...)
		}
		n += int64(len(part))
		lr.lo += len(part)
		if i >= 0 {
			lr.lo++
			return lr.newLine(lr.long, n+1, true), nil
		}
		if lr.err != nil {
			if !errors.Is(lr.err, io.EOF) {
				return line{}, lr.err
			}
			return lr.newLine(lr.long, n, false), nil
		}
		lr.lo, lr.hi = 0, 0
		lr.read()
	}
}

// binaryLine reports whether a line is binary junk rather than text: it
// holds a NUL byte, or more than a tenth of its bytes are control
// characters (other than tab and the escape of ANSI colours) or bytes
// that are not UTF-8. The scan asks only of a line that is not
// printableASCII (the common case, which is never binary).
func binaryLine(s string) bool {
	if strings.IndexByte(s, 0) >= 0 {
		return true
	}
	bad := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != 0x1b || c == 0x7f {
				bad++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			bad++
		}
		i += n
	}
	return bad*10 > len(s)
}

// Masks of the word-at-a-time test of printableASCII.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// word64 is the first 8 bytes of s as a little-endian word (the compiler
// makes it one load).
func word64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// printableASCII reports whether s holds only printable ASCII and tabs.
// It tests 8 bytes at a time: a word is plain when no byte has its high
// bit set, none is below 0x20 and none is 0x7f (DEL); a word that fails
// is tested byte by byte (it may hold a tab).
func printableASCII(s string) bool {
	for len(s) >= 8 {
		w := word64(s)
		del := w ^ 0x7f*ones
		if w&highs != 0 || (w-0x20*ones)&^w&highs != 0 || (del-ones)&^del&highs != 0 {
			if !printableBytes(s[:8]) {
				return false
			}
		}
		s = s[8:]
	}
	return printableBytes(s)
}

// isASCII reports whether s holds only ASCII, 8 bytes at a time.
func isASCII(s string) bool {
	for ; len(s) >= 8; s = s[8:] {
		if word64(s)&highs != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func printableBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c >= 0x7f {
			return false
		}
	}
	return true
}

// toText returns b as a valid UTF-8 string of its own: invalid bytes
// become U+FFFD, so that a stray Latin-1 byte keeps its line.
func toText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// view is b as a string without a copy, for code that reads it and keeps
// nothing of it before b changes: a line being scanned.
func view(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

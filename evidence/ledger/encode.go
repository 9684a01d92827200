package ledger

import (
	"bytes"
	"encoding/json"
	"sync"
)

// encoder writes an object as the ledger stores it: indented JSON with one
// trailing newline, as json.MarshalIndent(v, "", "  ") and a newline give.
// Its buffers are reused from one object to the next (Ledger.encoders),
// which spares the garbage collector two copies of every item a run
// stores. encode goes through encoding/json and indents the compact
// encoding itself (indent), several times faster than json.Indent's
// general scanner; encodeItem writes an evidence.Item's same bytes by
// hand, without reflection.
type encoder struct {
	compact bytes.Buffer
	enc     *json.Encoder // into compact
	out     []byte
	keys    []string // encodeItem's stack of map keys being written
}

// encoders is a pool of *encoder.
type encoders struct{ pool sync.Pool }

func (p *encoders) get() *encoder {
	if e, ok := p.pool.Get().(*encoder); ok {
		return e
	}
	e := &encoder{}
	e.enc = json.NewEncoder(&e.compact)
	return e
}

// put returns e to the pool, unless it grew past what an ordinary item
// needs (the pool should not hold on to a one-off giant).
func (p *encoders) put(e *encoder) {
	if e.compact.Cap() <= 1<<20 && cap(e.out) <= 2<<20 && cap(e.keys) <= 1<<14 {
		p.pool.Put(e)
	}
}

// encode returns v's encoding by encoding/json, valid until e is used
// again or put back. It is encodeItem's reference and its fallback.
func (e *encoder) encode(v any) ([]byte, error) {
	e.compact.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(e.compact.Bytes(), []byte("\n"))
	e.out = append(indent(e.out[:0], b, 0), '\n')
	return e.out, nil
}

// indent appends to dst the compact JSON src (as json.Marshal writes it:
// valid, no space outside strings) indented as json.Indent(dst, src, "",
// "  ") would, or, for a value nested at depth in indented JSON, as
// json.Indent(dst, src, prefix, "  ") would with a prefix of depth
// indents.
func indent(dst, src []byte, depth int) []byte {
	needIndent := false // after { or [: indent before what follows, unless it closes
	for i := 0; i < len(src); i++ {
		c := src[i]
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			dst = newline(dst, depth)
		}
		switch c {
		case '"':
			// Copy the string whole: its punctuation is not JSON's.
			j := stringEnd(src, i+1)
			dst = append(dst, src[i:min(j+1, len(src))]...)
			i = j
		case '{', '[':
			needIndent = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = newline(dst, depth)
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if needIndent {
				needIndent = false // {} and [] stay empty
			} else {
				depth--
				dst = newline(dst, depth)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// stringEnd returns the index of the quote that ends the JSON string
// whose contents start at i (len(src) if there is none): the first quote
// not escaped, that is, not after an odd number of backslashes.
func stringEnd(src []byte, i int) int {
	for j := i; ; {
		k := bytes.IndexByte(src[j:], '"')
		if k < 0 {
			return len(src)
		}
		q := j + k
		n := 0
		for p := q - 1; p >= i && src[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		j = q + 1
	}
}

func newline(dst []byte, depth int) []byte {
	dst = append(dst, '\n')
	for range depth {
		dst = append(dst, ' ', ' ')
	}
	return dst
}

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
// stores.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// encoders is a pool of *encoder.
type encoders struct{ pool sync.Pool }

func (p *encoders) get() *encoder {
	if e, ok := p.pool.Get().(*encoder); ok {
		return e
	}
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetIndent("", "  ")
	return e
}

// put returns e to the pool, unless it grew past what an ordinary item
// needs (the pool should not hold on to a one-off giant).
func (p *encoders) put(e *encoder) {
	if e.buf.Cap() <= 1<<20 {
		p.pool.Put(e)
	}
}

// encode returns v's encoding, valid until e is used again or put back.
func (e *encoder) encode(v any) ([]byte, error) {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

package gitlog

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// objectSource reads objects by hash: what the walk and the diffs need of
// a repository.
type objectSource interface {
	EncodedObject(plumbing.ObjectType, plumbing.Hash) (plumbing.EncodedObject, error)
}

// packSet is the pack files of a repository, indexed once and shared by
// the goroutines of a Collect: their .idx files held in memory (searched,
// never expanded into maps) and their .pack files read with ReadAt, which
// is safe for concurrent use. go-git's own storage reads the same objects
// several times slower, expands each index into maps and is not safe for
// concurrent use; it stays the fallback (see fastObjects).
type packSet struct {
	dotgit billy.Filesystem
	once   sync.Once
	packs  []*pack
}

type pack struct {
	name string
	file billy.File
	size int64
	idx  []byte // the whole .idx (version 2)
	n    int    // objects
}

// openPacks returns the packs of dotgit's objects/pack, opened when the
// first object is looked up: a run that finds nothing new reads no index.
func openPacks(dotgit billy.Filesystem) *packSet { return &packSet{dotgit: dotgit} }

// load opens the packs. A pack it cannot read (an unknown index version,
// say) is left out: its objects come from the fallback.
func (ps *packSet) load() {
	dotgit := ps.dotgit
	dir := "objects/pack"
	infos, err := dotgit.ReadDir(dir)
	if err != nil {
		return
	}
	for _, fi := range infos {
		name := fi.Name()
		if !strings.HasSuffix(name, ".idx") {
			continue
		}
		base := strings.TrimSuffix(name, ".idx")
		p, err := openPack(dotgit, path.Join(dir, base))
		if err != nil {
			continue
		}
		ps.packs = append(ps.packs, p)
	}
}

func openPack(fs billy.Filesystem, base string) (*pack, error) {
	f, err := fs.Open(base + ".idx")
	if err != nil {
		return nil, err
	}
	idx, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	if len(idx) < 8+256*4 || !bytes.Equal(idx[:4], []byte{0xff, 't', 'O', 'c'}) || binary.BigEndian.Uint32(idx[4:]) != 2 {
		return nil, errors.New("not a version 2 pack index")
	}
	n := int(binary.BigEndian.Uint32(idx[8+255*4:]))
	if len(idx) < 8+256*4+n*(20+4+4)+40 {
		return nil, errors.New("pack index cut short")
	}
	pf, err := fs.Open(base + ".pack")
	if err != nil {
		return nil, err
	}
	st, err := fs.Stat(base + ".pack")
	if err != nil {
		pf.Close()
		return nil, err
	}
	return &pack{name: base, file: pf, size: st.Size(), idx: idx, n: n}, nil
}

func (ps *packSet) close() {
	ps.once.Do(func() {}) // no load after close
	for _, p := range ps.packs {
		_ = p.file.Close()
	}
}

// find returns the pack and offset of object h.
func (ps *packSet) find(h plumbing.Hash) (*pack, int64, bool) {
	ps.once.Do(ps.load)
	for _, p := range ps.packs {
		if off, ok := p.offset(h); ok {
			return p, off, true
		}
	}
	return nil, 0, false
}

func (p *pack) offset(h plumbing.Hash) (int64, bool) {
	fan := p.idx[8:]
	lo := 0
	if h[0] > 0 {
		lo = int(binary.BigEndian.Uint32(fan[(int(h[0])-1)*4:]))
	}
	hi := int(binary.BigEndian.Uint32(fan[int(h[0])*4:]))
	names := p.idx[8+256*4:]
	for lo < hi {
		mid := (lo + hi) / 2
		switch c := bytes.Compare(names[mid*20:mid*20+20], h[:]); {
		case c == 0:
			offs := names[p.n*24:]
			o := binary.BigEndian.Uint32(offs[mid*4:])
			if o&0x80000000 == 0 {
				return int64(o), true
			}
			large := offs[p.n*4:]
			i := int(o & 0x7fffffff)
			if len(large) < (i+1)*8 {
				return 0, false
			}
			return int64(binary.BigEndian.Uint64(large[i*8:])), true
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0, false
}

// Pack object types.
const (
	packCommit   = 1
	packTree     = 2
	packBlob     = 3
	packTag      = 4
	packOFSDelta = 6
	packREFDelta = 7
)

// maxDeltaChain bounds how deep a delta chain is followed.
const maxDeltaChain = 10_000

// fastObjects reads objects for one goroutine: small objects from the
// shared packSet, with its own cache of delta bases; large, loose or
// unknown ones from the fallback (go-git's storage, shared under a lock),
// which also streams what is too large to hold.
type fastObjects struct {
	packs    *packSet
	fallback *lockedObjects
	bases    *baseCache
	zr       io.ReadCloser
	src      bytes.Reader
	buf      []byte
	lz       io.ReadCloser // loose objects' zlib reader, reused
	lbr      bufio.Reader
}

// lockedObjects serialises access to an object source that is not safe
// for concurrent use.
type lockedObjects struct {
	mu  sync.Mutex
	src objectSource
}

func (l *lockedObjects) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, err := l.src.EncodedObject(t, h)
	if err != nil {
		return nil, err
	}
	if o.Size() > largeObjectThreshold {
		return lockedObject{o, &l.mu}, nil
	}
	return o, nil
}

// lockedObject reads a large (streamed) object under its storage's lock.
type lockedObject struct {
	plumbing.EncodedObject
	mu *sync.Mutex
}

func (o lockedObject) Reader() (io.ReadCloser, error) {
	o.mu.Lock()
	r, err := o.EncodedObject.Reader()
	if err != nil {
		o.mu.Unlock()
		return nil, err
	}
	return &unlockOnClose{ReadCloser: r, mu: o.mu}, nil
}

type unlockOnClose struct {
	io.ReadCloser
	mu   *sync.Mutex
	once sync.Once
}

func (u *unlockOnClose) Close() error {
	err := u.ReadCloser.Close()
	u.once.Do(u.mu.Unlock)
	return err
}

func newFastObjects(ps *packSet, fallback *lockedObjects, cacheBytes int) *fastObjects {
	f := &fastObjects{packs: ps, fallback: fallback, bases: newBaseCache(cacheBytes)}
	f.lbr = *bufio.NewReaderSize(nil, 32<<10)
	return f
}

// errTooLarge: the object is larger than asked for; the fallback streams it.
var errTooLarge = errors.New("object too large to hold")

// EncodedObject returns object h. want is checked unless it is
// plumbing.AnyObject.
func (f *fastObjects) EncodedObject(want plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	p, off, ok := f.packs.find(h)
	if !ok {
		if o, ok := f.loose(h); ok {
			if want != plumbing.AnyObject && o.typ != want {
				return nil, plumbing.ErrObjectNotFound
			}
			return o, nil
		}
		return f.fallback.EncodedObject(want, h)
	}
	t, content, err := f.read(p, off, 0, largeObjectThreshold)
	if errors.Is(err, errTooLarge) {
		return f.fallback.EncodedObject(want, h) // streamed, not held
	}
	if err != nil {
		return nil, fmt.Errorf("pack %s: object %s: %w", path.Base(p.name), h, err)
	}
	if want != plumbing.AnyObject && t != want {
		return nil, plumbing.ErrObjectNotFound
	}
	return &memObject{hash: h, typ: t, content: content}, nil
}

// loose reads a small loose object (objects/ab/cdef…); ok is false when
// there is none, it is over largeObjectThreshold or anything is odd: the
// fallback then reads it (and reports what is wrong).
func (f *fastObjects) loose(h plumbing.Hash) (*memObject, bool) {
	hex := h.String()
	file, err := f.packs.dotgit.Open("objects/" + hex[:2] + "/" + hex[2:])
	if err != nil {
		return nil, false
	}
	defer file.Close()
	f.lbr.Reset(file)
	if f.lz == nil {
		f.lz, err = zlib.NewReader(&f.lbr)
	} else {
		err = f.lz.(zlib.Resetter).Reset(&f.lbr, nil)
	}
	if err != nil {
		return nil, false
	}
	zr := f.lz
	var hdr []byte
	var one [1]byte
	for len(hdr) < 32 {
		if _, err := io.ReadFull(zr, one[:]); err != nil {
			return nil, false
		}
		if one[0] == 0 {
			break
		}
		hdr = append(hdr, one[0])
	}
	typName, sizeText, ok := strings.Cut(string(hdr), " ")
	if !ok {
		return nil, false
	}
	t, err := plumbing.ParseObjectType(typName)
	if err != nil {
		return nil, false
	}
	size, err := strconv.ParseInt(sizeText, 10, 64)
	if err != nil || size < 0 || size > largeObjectThreshold {
		return nil, false
	}
	content := make([]byte, size)
	if _, err := io.ReadFull(zr, content); err != nil {
		return nil, false
	}
	return &memObject{hash: h, typ: t, content: content}, true
}

// entry reads the object entry at off: its header and its compressed data
// (data holds at least all of it, maybe more). For a delta, size is the
// size of the delta data and the base is an offset or, for a ref delta, a
// hash. One read for a small object; the buffer is reused by the next call.
func (f *fastObjects) entry(p *pack, off int64) (typ byte, size int64, baseOff int64, baseHash plumbing.Hash, data []byte, err error) {
	const first = 1024
	if cap(f.buf) < first {
		f.buf = make([]byte, first)
	}
	b := f.buf[:min(first, max(p.size-off, 0))]
	n, err := p.file.ReadAt(b, off)
	if n < len(b) {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return 0, 0, 0, baseHash, nil, err
	}
	i := 0
	next := func() (byte, bool) {
		if i >= len(b) {
			return 0, false
		}
		c := b[i]
		i++
		return c, true
	}
	bad := func(what string) (byte, int64, int64, plumbing.Hash, []byte, error) {
		return 0, 0, 0, plumbing.ZeroHash, nil, errors.New(what)
	}
	c, ok := next()
	if !ok {
		return bad("empty object entry")
	}
	typ = (c >> 4) & 7
	size = int64(c & 15)
	shift := 4
	for c&0x80 != 0 {
		if c, ok = next(); !ok || shift > 56 {
			return bad("bad object header")
		}
		size |= int64(c&0x7f) << shift
		shift += 7
	}
	switch typ {
	case packOFSDelta:
		if c, ok = next(); !ok {
			return bad("bad delta offset")
		}
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if c, ok = next(); !ok || rel > 1<<55 {
				return bad("bad delta offset")
			}
			rel = ((rel + 1) << 7) | int64(c&0x7f)
		}
		baseOff = off - rel
		if baseOff < 12 || baseOff >= off {
			return bad("bad delta offset")
		}
	case packREFDelta:
		if len(b)-i < 20 {
			return bad("bad ref delta")
		}
		copy(baseHash[:], b[i:i+20])
		i += 20
	case packCommit, packTree, packBlob, packTag:
	default:
		return bad(fmt.Sprintf("unknown object type %d", typ))
	}
	if size < 0 || size > maxBlobSize {
		return typ, size, baseOff, baseHash, nil, errTooLarge
	}
	// zlib never grows data by more than 5 bytes per 16 KiB block and 6
	// of header and checksum.
	need := int64(i) + size + 5*(size/16000+1) + 6
	need = min(need, p.size-off)
	if need > int64(len(b)) {
		big := make([]byte, need)
		copy(big, b)
		if _, err := p.file.ReadAt(big[len(b):], off+int64(len(b))); err != nil && err != io.EOF {
			return 0, 0, 0, baseHash, nil, err
		}
		b = big
		if need <= 1<<20 {
			f.buf = big
		}
	}
	return typ, size, baseOff, baseHash, b[i:], nil
}

// inflate decompresses n bytes from the zlib stream at the start of data.
func (f *fastObjects) inflate(data []byte, n int64) ([]byte, error) {
	f.src.Reset(data)
	var err error
	if f.zr == nil {
		f.zr, err = zlib.NewReader(&f.src)
	} else {
		err = f.zr.(zlib.Resetter).Reset(&f.src, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(f.zr, out); err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	return out, nil
}

// read returns the type and content of the object at off, applying
// deltas; errTooLarge when it is over limit bytes.
func (f *fastObjects) read(p *pack, off int64, depth int, limit int64) (plumbing.ObjectType, []byte, error) {
	if depth > maxDeltaChain {
		return 0, nil, errors.New("delta chain too long")
	}
	if t, b, ok := f.bases.get(p, off); ok {
		return t, b, nil
	}
	typ, size, baseOff, baseHash, data, err := f.entry(p, off)
	if err != nil {
		return 0, nil, err
	}
	if typ != packOFSDelta && typ != packREFDelta {
		if size > limit {
			return 0, nil, errTooLarge
		}
		b, err := f.inflate(data, size)
		return plumbing.ObjectType(typ), b, err
	}
	delta, err := f.inflate(data, size)
	if err != nil {
		return 0, nil, err
	}
	if dst, n := targetSize(delta); n == 0 || int64(dst) > limit {
		if n == 0 {
			return 0, nil, errors.New("bad delta header")
		}
		return 0, nil, errTooLarge
	}
	bp, bo := p, baseOff
	if typ == packREFDelta {
		var ok bool
		if bp, bo, ok = f.packs.find(baseHash); !ok {
			return 0, nil, fmt.Errorf("delta base %s not in a pack", baseHash)
		}
	}
	t, base, err := f.read(bp, bo, depth+1, maxBlobSize)
	if err != nil {
		return 0, nil, err
	}
	f.bases.put(bp, bo, t, base)
	out, err := applyDelta(base, delta)
	return t, out, err
}

// targetSize reads a delta's result size (its second varint).
func targetSize(delta []byte) (uint64, int) {
	_, k := deltaSize(delta)
	if k == 0 {
		return 0, 0
	}
	dst, k2 := deltaSize(delta[k:])
	if k2 == 0 {
		return 0, 0
	}
	return dst, k + k2
}

// deltaSize reads a delta header's size varint; n is 0 when it is bad.
func deltaSize(b []byte) (size uint64, n int) {
	shift := 0
	for i, c := range b {
		if shift > 56 {
			return 0, 0
		}
		size |= uint64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			return size, i + 1
		}
	}
	return 0, 0
}

// applyDelta applies a git delta to base.
func applyDelta(base, delta []byte) ([]byte, error) {
	src, n := deltaSize(delta)
	if n == 0 || src != uint64(len(base)) {
		return nil, errors.New("delta base size mismatch")
	}
	delta = delta[n:]
	dst, n := deltaSize(delta)
	if n == 0 || dst > maxBlobSize {
		return nil, errors.New("bad delta target size")
	}
	delta = delta[n:]
	out := make([]byte, 0, dst)
	for len(delta) > 0 {
		op := delta[0]
		delta = delta[1:]
		switch {
		case op&0x80 != 0:
			var off, sz uint64
			for i := uint(0); i < 4; i++ {
				if op&(1<<i) != 0 {
					if len(delta) == 0 {
						return nil, errors.New("delta cut short")
					}
					off |= uint64(delta[0]) << (8 * i)
					delta = delta[1:]
				}
			}
			for i := uint(0); i < 3; i++ {
				if op&(0x10<<i) != 0 {
					if len(delta) == 0 {
						return nil, errors.New("delta cut short")
					}
					sz |= uint64(delta[0]) << (8 * i)
					delta = delta[1:]
				}
			}
			if sz == 0 {
				sz = 0x10000
			}
			if off+sz > uint64(len(base)) || uint64(len(out))+sz > dst {
				return nil, errors.New("delta copy out of range")
			}
			out = append(out, base[off:off+sz]...)
		case op != 0:
			if int(op) > len(delta) || uint64(len(out))+uint64(op) > dst {
				return nil, errors.New("delta insert out of range")
			}
			out = append(out, delta[:op]...)
			delta = delta[op:]
		default:
			return nil, errors.New("delta opcode 0")
		}
	}
	if uint64(len(out)) != dst {
		return nil, errors.New("delta result size mismatch")
	}
	return out, nil
}

// memObject is an object held in memory.
type memObject struct {
	hash    plumbing.Hash
	typ     plumbing.ObjectType
	content []byte
}

func (o *memObject) Hash() plumbing.Hash           { return o.hash }
func (o *memObject) Type() plumbing.ObjectType     { return o.typ }
func (o *memObject) SetType(t plumbing.ObjectType) { o.typ = t }
func (o *memObject) Size() int64                   { return int64(len(o.content)) }
func (o *memObject) SetSize(int64)                 {}
func (o *memObject) Reader() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.content)), nil
}
func (o *memObject) Writer() (io.WriteCloser, error) {
	return nil, errors.New("read-only object")
}

// baseCache keeps recently used delta bases, up to a number of bytes.
type baseCache struct {
	max, used int
	ll        *list.List
	byKey     map[baseKey]*list.Element
}

type baseKey struct {
	p   *pack
	off int64
}

type baseEntry struct {
	key     baseKey
	typ     plumbing.ObjectType
	content []byte
}

func newBaseCache(max int) *baseCache {
	return &baseCache{max: max, ll: list.New(), byKey: map[baseKey]*list.Element{}}
}

func (c *baseCache) get(p *pack, off int64) (plumbing.ObjectType, []byte, bool) {
	el, ok := c.byKey[baseKey{p, off}]
	if !ok {
		return 0, nil, false
	}
	c.ll.MoveToFront(el)
	e := el.Value.(*baseEntry)
	return e.typ, e.content, true
}

func (c *baseCache) put(p *pack, off int64, t plumbing.ObjectType, b []byte) {
	k := baseKey{p, off}
	if _, ok := c.byKey[k]; ok || len(b) > c.max/4 {
		return
	}
	c.byKey[k] = c.ll.PushFront(&baseEntry{key: k, typ: t, content: b})
	c.used += len(b)
	for c.used > c.max {
		last := c.ll.Back()
		e := last.Value.(*baseEntry)
		c.ll.Remove(last)
		delete(c.byKey, e.key)
		c.used -= len(e.content)
	}
}

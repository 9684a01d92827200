package tagging

import (
	"slices"
	"unicode/utf8"
)

// literals holds the prefilter literals of every rule of a Tagger in one
// Aho–Corasick automaton, so that one pass over an item's lower-cased
// text finds every literal that occurs with the word boundaries it needs,
// whatever the number of rules; each rule then only looks up its own
// (prefilter.admits on each rule would scan the text once per literal).
type literals struct {
	lits  []lit
	index map[lit]int32

	classes [utf8.RuneSelf]uint8 // byte → class; 0: a byte no literal holds
	nclass  int
	// next is state*nclass + class → next state (failure links folded
	// in), with hasOut set when literals end there. It is kept small, for
	// the cache: nil when there are more states than fit (scan then says
	// every literal occurs, which only lets every rule's expression run).
	next []uint16
	out  [][]int32 // state → the literals ending there (own and via failure links)
}

// hasOut marks a state of literals.next where literals end; maxStates is
// how many states fit beside it.
const (
	hasOut    = 1 << 15
	maxStates = hasOut
)

// add returns the set of p's literals, adding those not yet known. It
// must be called before build.
func (a *literals) add(p prefilter) litSet {
	if a.index == nil {
		a.index = map[lit]int32{}
	}
	var set litSet
	for _, l := range p {
		id, ok := a.index[l]
		if !ok {
			id = int32(len(a.lits))
			a.index[l] = id
			a.lits = append(a.lits, l)
		}
		w, bit := int(id/64), uint64(1)<<(id%64)
		if i := slices.IndexFunc(set, func(x litWord) bool { return x.w == w }); i >= 0 {
			set[i].bits |= bit
		} else {
			set = append(set, litWord{w, bit})
		}
	}
	return set
}

// litSet is a set of literals, as the words of a found set (see scan)
// that hold them: literal id is in it if bit id%64 of the entry for word
// id/64 is set.
type litSet []litWord

type litWord struct {
	w    int
	bits uint64
}

// any reports whether found holds one of the literals of set.
func (set litSet) any(found []uint64) bool {
	for _, x := range set {
		if found[x.w]&x.bits != 0 {
			return true
		}
	}
	return false
}

// build makes the automaton of the literals added.
func (a *literals) build() {
	a.nclass = 1
	for _, l := range a.lits {
		for i := 0; i < len(l.s); i++ {
			if c := l.s[i]; a.classes[c] == 0 {
				a.classes[c] = uint8(a.nclass)
				a.nclass++
			}
		}
	}
	// The trie: goto[state][class], -1 where there is no edge.
	var own [][]int32
	var goTo [][]int32
	newState := func() int32 {
		row := make([]int32, a.nclass)
		for i := range row {
			row[i] = -1
		}
		goTo = append(goTo, row)
		own = append(own, nil)
		return int32(len(goTo) - 1)
	}
	newState()
	for id, l := range a.lits {
		s := int32(0)
		for i := 0; i < len(l.s); i++ {
			c := a.classes[l.s[i]]
			if goTo[s][c] < 0 {
				t := newState()
				goTo[s][c] = t
			}
			s = goTo[s][c]
		}
		own[s] = append(own[s], int32(id))
	}
	// Breadth first: each state's failure link is the longest proper
	// suffix of its string that is a state, whose edges fill its missing
	// ones, and whose output it inherits.
	fail := make([]int32, len(goTo))
	a.out = make([][]int32, len(goTo))
	var queue []int32
	for c := range a.nclass {
		if t := goTo[0][c]; t >= 0 {
			queue = append(queue, t)
		} else {
			goTo[0][c] = 0
		}
	}
	a.out[0] = own[0]
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		a.out[s] = append(own[s], a.out[fail[s]]...)
		for c := range a.nclass {
			if t := goTo[s][c]; t >= 0 {
				fail[t] = goTo[fail[s]][c]
				queue = append(queue, t)
			} else {
				goTo[s][c] = goTo[fail[s]][c]
			}
		}
	}
	if len(goTo) > maxStates {
		return
	}
	a.next = make([]uint16, 0, len(goTo)*a.nclass)
	for _, row := range goTo {
		for _, t := range row {
			n := uint16(t)
			if len(a.out[t]) > 0 {
				n |= hasOut
			}
			a.next = append(a.next, n)
		}
	}
}

// scan sets bit id of found (len(found) >= (len(lits)+63)/64) for every
// literal that occurs in lower (lower-cased ASCII) with the word
// boundaries it needs.
func (a *literals) scan(lower string, found []uint64) {
	if len(a.lits) == 0 {
		return
	}
	if a.next == nil {
		for id := range a.lits {
			found[id/64] |= 1 << (id % 64)
		}
		return
	}
	s := uint16(0)
	for i := 0; i < len(lower); i++ {
		var c uint8
		if b := lower[i]; b < utf8.RuneSelf {
			c = a.classes[b]
		}
		s = a.next[int(s&^hasOut)*a.nclass+int(c)]
		if s&hasOut == 0 {
			continue
		}
		for _, id := range a.out[s&^hasOut] {
			l := &a.lits[id]
			if (l.before && !boundary(lower, i+1-len(l.s))) || (l.after && !boundary(lower, i+1)) {
				continue
			}
			found[id/64] |= 1 << (id % 64)
		}
	}
}

// words is how many uint64 a found set needs.
func (a *literals) words() int { return (len(a.lits) + 63) / 64 }

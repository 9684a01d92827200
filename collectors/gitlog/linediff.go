package gitlog

import "bytes"

// binarySniffLen is how much of a blob git looks at for a NUL byte to call
// it binary (xdiff's FIRST_FEW_BYTES).
const binarySniffLen = 8000

// isBinary reports whether git would treat content as binary for a diff.
func isBinary(content []byte) bool {
	if len(content) > binarySniffLen {
		content = content[:binarySniffLen]
	}
	return bytes.IndexByte(content, 0) >= 0
}

// myersBudget bounds the work of one line diff; past it lineStat falls
// back to an estimate. Git's xdiff also gives up minimality on costly
// diffs (its "heuristic" cut-off), so neither is exact there.
const myersBudget = 50_000_000

// lineStat counts the lines a change from a to b adds and removes, as
// `git diff --numstat` does for text: lines include their terminating
// newline (so "x" at the end of a file differs from "x\n"), and the counts
// come from a minimal line diff (Myers), exact unless the diff is
// pathologically costly (see myersBudget).
func lineStat(a, b []byte) (ins, del int) {
	la, lb := splitLines(a), splitLines(b)
	// common prefix and suffix
	for len(la) > 0 && len(lb) > 0 && bytes.Equal(la[0], lb[0]) {
		la, lb = la[1:], lb[1:]
	}
	for len(la) > 0 && len(lb) > 0 && bytes.Equal(la[len(la)-1], lb[len(lb)-1]) {
		la, lb = la[:len(la)-1], lb[:len(lb)-1]
	}
	if len(la) == 0 || len(lb) == 0 {
		return len(lb), len(la)
	}
	// Intern lines as small integers.
	ids := make(map[string]int32, len(la)+len(lb))
	intern := func(ls [][]byte) []int32 {
		out := make([]int32, len(ls))
		for i, l := range ls {
			id, ok := ids[string(l)]
			if !ok {
				id = int32(len(ids))
				ids[string(l)] = id
			}
			out[i] = id
		}
		return out
	}
	xa, xb := intern(la), intern(lb)
	// A line that the other side lacks is certainly removed or added;
	// dropping it does not change the longest common subsequence.
	inA := make([]bool, len(ids))
	inB := make([]bool, len(ids))
	for _, id := range xa {
		inA[id] = true
	}
	for _, id := range xb {
		inB[id] = true
	}
	ka, kb := xa[:0:0], xb[:0:0]
	for _, id := range xa {
		if inB[id] {
			ka = append(ka, id)
		}
	}
	for _, id := range xb {
		if inA[id] {
			kb = append(kb, id)
		}
	}
	d, ok := editDistance(ka, kb, myersBudget)
	if !ok {
		d = multisetDistance(ka, kb, len(ids))
	}
	// d = ins' + del' over the kept lines, and ins' - del' = len(kb) - len(ka).
	insK := (d + len(kb) - len(ka)) / 2
	delK := d - insK
	return insK + len(xb) - len(kb), delK + len(xa) - len(ka)
}

// splitLines splits b after each '\n'; a last line without one is kept.
func splitLines(b []byte) [][]byte {
	if len(b) == 0 {
		return nil
	}
	n := bytes.Count(b, []byte{'\n'})
	out := make([][]byte, 0, n+1)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}

// editDistance is the length of the shortest edit script (insertions plus
// deletions) turning a into b: Myers' O(ND) greedy forward search. ok is
// false when it would take more than budget steps.
func editDistance(a, b []int32, budget int) (d int, ok bool) {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return n + m, true
	}
	maxD := n + m
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	steps := 0
	for d := 0; d <= maxD; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			x0 := x
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			steps += 1 + x - x0
			v[off+k] = x
			if x >= n && y >= m {
				return d, true
			}
		}
		if steps > budget {
			return 0, false
		}
	}
	return maxD, true
}

// multisetDistance estimates the edit distance from the lines the two
// sides share regardless of order: a lower bound, used only when the exact
// search is too costly.
func multisetDistance(a, b []int32, nids int) int {
	count := make([]int, nids)
	for _, id := range a {
		count[id]++
	}
	common := 0
	for _, id := range b {
		if count[id] > 0 {
			count[id]--
			common++
		}
	}
	return len(a) + len(b) - 2*common
}

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

// Constants of git's xdiff/xprepare.c.
const (
	xdlKPDisRun     = 4
	xdlMaxEqLimit   = 1024
	xdlSimScanWin   = 100
	xdlTailBlock    = 1024
	xdlDiscard      = 0 // no match in the other file
	xdlKeep         = 1
	xdlMaybeDiscard = 2 // matches many lines of the other file
)

// lineStat counts the lines a change from a to b adds and removes, as
// `git diff --numstat` does for text. It follows git's xdiff where that
// changes the counts, not just the hunks:
//
//   - the common tail is cut off in 1 KiB blocks first (xdi_diff);
//   - lines include their newline, so "x" at the end of a file differs
//     from "x\n";
//   - common leading and trailing lines are trimmed, then lines with no
//     match in the other file are discarded, and so are lines with many
//     matches that sit in a run of discarded lines (xdl_cleanup_records);
//     a discarded line always counts as changed, even when a minimal diff
//     would have kept it;
//   - the rest gets a minimal Myers diff. Git is minimal there too unless
//     the diff is very costly (see myersBudget).
func lineStat(a, b []byte) (ins, del int) {
	a, b = trimCommonTail(a, b)
	la, lb := splitLines(a), splitLines(b)
	// Classify lines as small integers, counting occurrences per side.
	ids := make(map[string]int32, len(la)+len(lb))
	var occA, occB []int
	classify := func(ls [][]byte, side int) []int32 {
		out := make([]int32, len(ls))
		for i, l := range ls {
			id, ok := ids[string(l)]
			if !ok {
				id = int32(len(ids))
				ids[string(l)] = id
				occA = append(occA, 0)
				occB = append(occB, 0)
			}
			if side == 0 {
				occA[id]++
			} else {
				occB[id]++
			}
			out[i] = id
		}
		return out
	}
	xa, xb := classify(la, 0), classify(lb, 1)
	// Trim common leading and trailing lines.
	start := 0
	for start < len(xa) && start < len(xb) && xa[start] == xb[start] {
		start++
	}
	endA, endB := len(xa), len(xb) // exclusive
	for endA > start && endB > start && xa[endA-1] == xb[endB-1] {
		endA--
		endB--
	}
	if start == endA || start == endB {
		return endB - start, endA - start
	}
	ka, discA := cleanupRecords(xa, start, endA, occB)
	kb, discB := cleanupRecords(xb, start, endB, occA)
	d, ok := editDistance(ka, kb, myersBudget)
	if !ok {
		d = multisetDistance(ka, kb, len(ids))
	}
	// d = ins' + del' over the kept lines, and ins' - del' = len(kb) - len(ka).
	insK := (d + len(kb) - len(ka)) / 2
	return insK + discB, d - insK + discA
}

// trimCommonTail drops the common tail of a and b in whole 1 KiB blocks,
// then gives back the part of the last block after its first newline, as
// git's trim_common_tail does before diffing for stats.
func trimCommonTail(a, b []byte) ([]byte, []byte) {
	smaller := min(len(a), len(b))
	trimmed := 0
	for trimmed+xdlTailBlock <= smaller &&
		bytes.Equal(a[len(a)-trimmed-xdlTailBlock:len(a)-trimmed], b[len(b)-trimmed-xdlTailBlock:len(b)-trimmed]) {
		trimmed += xdlTailBlock
	}
	recovered := 0
	ap := len(a) - trimmed
	for recovered < trimmed {
		c := a[ap+recovered]
		recovered++
		if c == '\n' {
			break
		}
	}
	cut := trimmed - recovered
	return a[:len(a)-cut], b[:len(b)-cut]
}

// bogosqrt is xdiff's integer square root approximation.
func bogosqrt(n int) int {
	i := 1
	for ; n > 0; n >>= 2 {
		i <<= 1
	}
	return i
}

// cleanupRecords is xdl_cleanup_records for one side: of the lines
// x[start:end], it returns those kept for the diff and how many were
// discarded. other counts each line's occurrences in the whole other file.
func cleanupRecords(x []int32, start, end int, other []int) (kept []int32, discarded int) {
	mlim := min(bogosqrt(len(x)), xdlMaxEqLimit)
	dis := make([]byte, end-start)
	for i := start; i < end; i++ {
		nm := other[x[i]]
		switch {
		case nm == 0:
			dis[i-start] = xdlDiscard
		case nm >= mlim:
			dis[i-start] = xdlMaybeDiscard
		default:
			dis[i-start] = xdlKeep
		}
	}
	kept = make([]int32, 0, end-start)
	for i := range dis {
		if dis[i] == xdlKeep || (dis[i] == xdlMaybeDiscard && !cleanMatch(dis, i)) {
			kept = append(kept, x[start+i])
		} else {
			discarded++
		}
	}
	return kept, discarded
}

// cleanMatch is xdl_clean_mmatch: whether the many-matches line dis[i]
// sits in a run of mostly unmatched lines and so should be discarded.
func cleanMatch(dis []byte, i int) bool {
	s, e := 0, len(dis)-1
	if i-s > xdlSimScanWin {
		s = i - xdlSimScanWin
	}
	if e-i > xdlSimScanWin {
		e = i + xdlSimScanWin
	}
	rdis0, rpdis0 := 0, 1
	for r := 1; i-r >= s; r++ {
		if dis[i-r] == xdlDiscard {
			rdis0++
		} else if dis[i-r] == xdlMaybeDiscard {
			rpdis0++
		} else {
			break
		}
	}
	if rdis0 == 0 {
		return false
	}
	rdis1, rpdis1 := 0, 1
	for r := 1; i+r <= e; r++ {
		if dis[i+r] == xdlDiscard {
			rdis1++
		} else if dis[i+r] == xdlMaybeDiscard {
			rpdis1++
		} else {
			break
		}
	}
	if rdis1 == 0 {
		return false
	}
	rdis1 += rdis0
	rpdis1 += rpdis0
	return rpdis1*xdlKPDisRun < rpdis1+rdis1
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

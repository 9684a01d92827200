package gitlog

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

func TestLineStat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		a, b     string
		ins, del int
	}{
		{"both empty", "", "", 0, 0},
		{"added file", "", "a\nb\n", 2, 0},
		{"deleted file", "a\nb\nc\n", "", 0, 3},
		{"same", "a\nb\n", "a\nb\n", 0, 0},
		{"append", "a\nb\n", "a\nb\nc\n", 1, 0},
		{"prepend", "b\n", "a\nb\n", 1, 0},
		{"replace middle", "a\nb\nc\n", "a\nx\nc\n", 1, 1},
		{"no final newline added", "a\nb", "a\nb\n", 1, 1},
		{"no final newline kept", "a\nb", "a\nb", 0, 0},
		{"move line", "a\nb\nc\n", "b\nc\na\n", 1, 1},
		{"swap two blocks", "1\n2\n3\n4\n", "3\n4\n1\n2\n", 2, 2},
		{"repeated lines", "x\nx\nx\n", "x\nx\n", 0, 1},
		{"crlf", "a\r\nb\r\n", "a\nb\n", 2, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ins, del := lineStat([]byte(tc.a), []byte(tc.b))
			if ins != tc.ins || del != tc.del {
				t.Errorf("lineStat(%q, %q) = +%d -%d, want +%d -%d", tc.a, tc.b, ins, del, tc.ins, tc.del)
			}
		})
	}
}

// randomEdit makes a file and an edited copy, with blank and repeated
// lines so that git's discard heuristics come into play.
func randomEdit(rng *rand.Rand) (a, b string) {
	pool := []string{"", "", "    return df", "}", "x = 1", "import os"}
	line := func() string {
		if rng.IntN(3) == 0 {
			return pool[rng.IntN(len(pool))]
		}
		return fmt.Sprintf("line %d", rng.IntN(60))
	}
	n := rng.IntN(80)
	la := make([]string, n)
	for i := range la {
		la[i] = line()
	}
	lb := append([]string(nil), la...)
	for k := rng.IntN(6); k >= 0; k-- {
		pos := rng.IntN(len(lb) + 1)
		switch rng.IntN(3) {
		case 0:
			var ins []string
			for j := rng.IntN(10); j >= 0; j-- {
				ins = append(ins, line())
			}
			lb = append(lb[:pos], append(ins, lb[pos:]...)...)
		case 1:
			if pos < len(lb) {
				end := min(len(lb), pos+1+rng.IntN(8))
				lb = append(lb[:pos], lb[end:]...)
			}
		default:
			if pos < len(lb) {
				lb[pos] = line()
			}
		}
	}
	a = strings.Join(la, "\n")
	b = strings.Join(lb, "\n")
	if rng.IntN(4) > 0 && a != "" {
		a += "\n"
	}
	if rng.IntN(4) > 0 && b != "" {
		b += "\n"
	}
	return a, b
}

// TestLineStatMatchesGitDiff compares lineStat with
// `git diff --no-index --numstat` on random edits.
func TestLineStatMatchesGitDiff(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	n := 60
	if testing.Short() {
		n = 15
	}
	for i := 0; i < n; i++ {
		a, b := randomEdit(rng)
		if i%10 == 0 { // a long common tail, for trimCommonTail
			tail := strings.Repeat("tail line with some text\n", 200)
			a, b = a+"\n"+tail, b+"\n"+tail
		}
		pa, pb := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
		if err := os.WriteFile(pa, []byte(a), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pb, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := demorepo.Git(context.Background(), dir, "diff", "--no-index", "--numstat", "a.txt", "b.txt")
		wi, wd := 0, 0
		if err != nil && out == "" && a != b {
			t.Fatal(err)
		}
		if f := strings.Fields(out); len(f) >= 2 {
			wi, _ = strconv.Atoi(f[0])
			wd, _ = strconv.Atoi(f[1])
		}
		gi, gd := lineStat([]byte(a), []byte(b))
		if gi != wi || gd != wd {
			t.Errorf("case %d: lineStat = +%d -%d, git +%d -%d\n--- a\n%s\n--- b\n%s", i, gi, gd, wi, wd, a, b)
		}
	}
}

// lcs is the textbook dynamic programme, for checking editDistance.
func lcs(a, b []int32) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			case prev[j+1] > cur[j]:
				cur[j+1] = prev[j+1]
			default:
				cur[j+1] = cur[j]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func TestEditDistanceIsMinimal(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		a := make([]int32, rng.IntN(30))
		b := make([]int32, rng.IntN(30))
		for j := range a {
			a[j] = int32(rng.IntN(5))
		}
		for j := range b {
			b[j] = int32(rng.IntN(5))
		}
		d, ok := editDistance(a, b, myersBudget)
		want := len(a) + len(b) - 2*lcs(a, b)
		if !ok || d != want {
			t.Fatalf("editDistance(%v, %v) = %d, %v; want %d", a, b, d, ok, want)
		}
	}
	// Over budget: reported, not guessed.
	a := make([]int32, 400)
	b := make([]int32, 400)
	for j := range a {
		a[j], b[j] = int32(j), int32(399-j)
	}
	if _, ok := editDistance(a, b, 1000); ok {
		t.Error("editDistance ignored its budget")
	}
}

func FuzzLineStat(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), []byte("a\nx\nc\n"))
	f.Add([]byte(""), []byte("new\n"))
	f.Add([]byte("no newline"), []byte("no newline\n"))
	f.Add([]byte("\x00binary"), []byte("text\n"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ins, del := lineStat(a, b)
		na, nb := len(splitLines(a)), len(splitLines(b))
		if ins < 0 || del < 0 || ins > nb || del > na {
			t.Fatalf("lineStat = +%d -%d for %d → %d lines", ins, del, na, nb)
		}
		if ins-del != nb-na {
			t.Fatalf("lineStat = +%d -%d, but the line count went %d → %d", ins, del, na, nb)
		}
		if string(a) == string(b) && (ins != 0 || del != 0) {
			t.Fatalf("identical inputs gave +%d -%d", ins, del)
		}
	})
}

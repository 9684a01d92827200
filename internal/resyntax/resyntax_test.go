package resyntax

import "testing"

func TestCanMatchEmpty(t *testing.T) {
	for expr, want := range map[string]bool{
		`a*`: true, `\b`: true, `^`: true, `(?:x|)`: true, `a{0,2}`: true, `(a?)(b*)`: true, `(?m)$`: true,
		`a`: false, `(?:\]|^)a`: false, `a+`: false, `\bkey\b`: false, `x{1,}`: false, `[a-z]+\.corp`: false, `(`: false,
	} {
		if got := CanMatchEmpty(expr); got != want {
			t.Errorf("CanMatchEmpty(%q) = %v, want %v", expr, got, want)
		}
	}
}

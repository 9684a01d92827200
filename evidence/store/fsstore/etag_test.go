package fsstore

import (
	"fmt"
	"math"
	"testing"
)

// etagOf writes what fmt's "%x-%x-%x" writes, the form ETags have always
// had (a changed form would make every ETag a stored index holds stale).
func TestETagForm(t *testing.T) {
	for _, c := range []struct {
		ino         uint64
		size, mtime int64
	}{
		{0, 0, 0}, {1, 2, 3}, {math.MaxUint64, math.MaxInt64, math.MinInt64},
		{0x1a2b, 4096, 1764633600123456789}, {7, -1, -1764633600123456789},
	} {
		if got, want := etagOf(c.ino, c.size, c.mtime), fmt.Sprintf("%x-%x-%x", c.ino, c.size, c.mtime); got != want {
			t.Errorf("etagOf(%d, %d, %d) = %q, want %q", c.ino, c.size, c.mtime, got, want)
		}
	}
}

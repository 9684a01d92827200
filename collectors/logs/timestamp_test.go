package logs

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestUTCTimeIsTimeDate: utcTime agrees with time.Date(…).UTC() on every
// field the parsers let through, including days past a month's end, leap
// seconds, leap years and zone offsets.
func TestUTCTimeIsTimeDate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	check := func(y, mo, d, h, mi, se, nsec, off int) {
		t.Helper()
		want := time.Date(y, time.Month(mo), d, h, mi, se, nsec, time.FixedZone("", off)).UTC()
		if got := utcTime(y, mo, d, h, mi, se, nsec, off); got != want {
			t.Fatalf("utcTime(%d-%d-%d %d:%d:%d.%d %+d) = %v, want %v", y, mo, d, h, mi, se, nsec, off, got, want)
		}
	}
	for _, y := range []int{0, 1, 1600, 1900, 1969, 1970, 2000, 2024, 2025, 2100, 9999} {
		for mo := 1; mo <= 12; mo++ {
			check(y, mo, 1, 0, 0, 0, 0, 0)
			check(y, mo, 31, 23, 59, 60, 999999999, -14*3600)
		}
	}
	for range 100000 {
		check(rng.IntN(10000), 1+rng.IntN(12), 1+rng.IntN(31), rng.IntN(24), rng.IntN(60), rng.IntN(61),
			rng.IntN(1e9), (rng.IntN(29)-14)*3600+rng.IntN(60)*60)
	}
}

// TestHourOf: two times are in the same hour by hourOf exactly when
// Truncate(time.Hour) says so.
func TestHourOf(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		a := time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9)).UTC()
		b := a.Add(time.Duration(rng.Int64N(int64(3*time.Hour))) - 90*time.Minute)
		if got, want := hourOf(a) == hourOf(b), a.Truncate(time.Hour).Equal(b.Truncate(time.Hour)); got != want {
			t.Fatalf("hourOf(%v) == hourOf(%v) is %v, want %v", a, b, got, want)
		}
	}
}

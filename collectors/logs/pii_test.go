package logs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/internal/corpustest"
)

func TestMaskPII(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"client 203.0.113.7 connected", "client [ip] connected"},
		{`/10.1.2.3:35226 "POST /predictions/my_tc HTTP/1.1" 200`, `/[ip]:35226 "POST /predictions/my_tc HTTP/1.1" 200`},
		{"Inference API bind to: http://127.0.0.1:8080", "Inference API bind to: http://127.0.0.1:8080"},
		{"listening on 0.0.0.0:80 and [::1]:80", "listening on 0.0.0.0:80 and [::1]:80"},
		{"from 2001:db8::17 via fe80::1", "from [ip] via fe80::1"},
		{"call +44 20 7946 0958 or 020 7946 0958", "call [phone] or [phone]"},
		{"US (202) 555-0147 and 202-555-0147", "US [phone] and [phone]"},
		{"mobile 07700 900123.", "mobile [phone]."},
		{"call back on +44 7700 900123\n", "call back on [phone]\n"}, // UK mobile: a 6-digit group
		{"version 1.2.3.4.5 of lib 10.0.0.1b", "version 1.2.3.4.5 of lib 10.0.0.1b"},
		{"DiskAvailable.Gigabytes:26.384445190429688", "DiskAvailable.Gigabytes:26.384445190429688"},
		{"2025-12-31T17:58:21.6735965Z at 17:58:21 epoch 1651137801625", "2025-12-31T17:58:21.6735965Z at 17:58:21 epoch 1651137801625"},
		{"run 5183fedfa78c48cbb36e6fee2581613a job 39", "run 5183fedfa78c48cbb36e6fee2581613a job 39"},
		{"request 601ebfb4-268e-4ac1-a438-2f327b1f9d58", "request 601ebfb4-268e-4ac1-a438-2f327b1f9d58"},
		{"999.1.1.1 is no address", "999.1.1.1 is no address"},
	} {
		if got := maskPII(tc.in); got != tc.want {
			t.Errorf("maskPII(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// refMaskPII is maskPII without its prefilters: every regexp on every
// string.
func refMaskPII(s string) string {
	s = replaceChecked(s, ipv4Re, maskIP, isIPToMask)
	s = replaceChecked(s, ipv6Re, maskIP, isIPv6ToMask)
	return replaceChecked(s, phoneRe, maskPhone, isPhone)
}

var piiSeeds = []string{
	"client 203.0.113.7 connected", "call +44 20 7946 0958 or 020 7946 0958", "US (202) 555-0147 and 202-555-0147",
	"mobile 07700 900123.", "from 2001:db8::17 via fe80::1", "1:2:3:4:5:6:7:8", "a:b:c:d:e:f:0:1 x", "(0123) 456 7890",
	"0123)-456 7890", "1.2.3", "1.2.3.4", "x+1 y", "tel:+1-202-555-0147", "202 555 0147", "0207 946 0958", "+1 12 34 56 78", "+44(20)12 34 56",
}

// TestMaskPIIPrefilters: the prefilters never change what is masked, on
// the seeds and on every line of the corpus's logs.
func TestMaskPIIPrefilters(t *testing.T) {
	lines := append([]string(nil), piiSeeds...)
	filepath.WalkDir(corpustest.Dir(t, ""), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".log") {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil {
			lines = append(lines, strings.Split(string(b), "\n")...)
		}
		return nil
	})
	if len(lines) < 1000 {
		t.Fatalf("only %d lines in the corpus's logs", len(lines))
	}
	for _, s := range lines {
		if got, want := maskPII(s), refMaskPII(s); got != want {
			t.Errorf("maskPII(%q)\n got %q\nwant %q", s, got, want)
		}
	}
}

func FuzzMaskPIIPrefilters(f *testing.F) {
	for _, s := range piiSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := maskPII(s), refMaskPII(s); got != want {
			t.Errorf("maskPII(%q) = %q, want %q", s, got, want)
		}
	})
}

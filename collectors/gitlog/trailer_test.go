package gitlog

import (
	"slices"
	"strings"
	"testing"
)

func TestDeclaredKSBs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		msg     string
		ids     []string
		badVals []badValue
	}{
		{"simple", "Add drift detection\n\nKSB: S10, K12\n", []string{"S10", "K12"}, nil},
		{"KSBs key, lower case values, semicolons", "Tune model\n\nBody text.\n\nksbs: s1; k5;b3\n", []string{"S1", "K5", "B3"}, nil},
		{"whitespace separated", "Fix\n\nKSB: S10 K12\tB2\n", []string{"S10", "K12", "B2"}, nil},
		{"with other trailers", "Fix\n\nSigned-off-by: J <j@x>\nKSB: S10\nCo-authored-by: S <s@x>\n", []string{"S10"}, nil},
		{"two KSB lines, duplicates dropped", "Fix\n\nKSB: S10\nKSB: s10, K1\n", []string{"S10", "K1"}, nil},
		{"folded continuation", "Fix\n\nKSB: S10,\n  K12\n", []string{"S10", "K12"}, nil},
		{"bad values reported", "Fix\n\nKSB: S10, monitoring, K99999\n", []string{"S10"}, []badValue{{2, 10}, {3, 6}}},
		{"secret in a trailer", "Fix\n\nKSB: K1\n  hunter2-s3cr3t\n", []string{"K1"}, []badValue{{2, 14}}},
		{"subject only is not a trailer", "KSB: S10\n", nil, nil},
		{"not in last paragraph", "Fix\n\nKSB: S10\n\nMore text after.\n", nil, nil},
		{"key must be KSB", "Fix\n\nKSBX: S10\nNot-KSB: S1\n", nil, nil},
		{"trailing blank lines", "Fix\n\nKSB: K5\n\n\n", []string{"K5"}, nil},
		{"crlf", "Fix\r\n\r\nKSB: K5\r\n", []string{"K5"}, nil},
		{"empty", "", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ids, bad := declaredKSBs(tc.msg)
			if !slices.Equal(ids, tc.ids) || !slices.Equal(bad, tc.badVals) {
				t.Errorf("declaredKSBs(%q) = %q, bad %v; want %q, bad %v", tc.msg, ids, bad, tc.ids, tc.badVals)
			}
		})
	}
}

func FuzzDeclaredKSBs(f *testing.F) {
	f.Add("Add drift detection\n\nKSB: S10, K12\n")
	f.Add("x\n\nksbs: s1;;k2 ,b3\n  k4\n")
	f.Add("KSB: S1")
	f.Add("\n\n\nKSB:\n")
	f.Fuzz(func(t *testing.T, msg string) {
		ids, bad := declaredKSBs(msg)
		seen := map[string]bool{}
		for _, id := range ids {
			if id != strings.ToUpper(strings.TrimSpace(id)) || len(id) < 2 || len(id) > 4 || !strings.ContainsRune("KSB", rune(id[0])) {
				t.Fatalf("id %q does not look like a KSB", id)
			}
			if seen[id] {
				t.Fatalf("id %q twice", id)
			}
			seen[id] = true
			if !strings.Contains(strings.ToUpper(msg), id) {
				t.Fatalf("id %q is not in the message", id)
			}
		}
		for i, b := range bad {
			if b.Len < 1 || b.Index < 1 || (i > 0 && b.Index <= bad[i-1].Index) || b.Len > len(msg) {
				t.Fatalf("bad value %d: %+v", i, b)
			}
		}
	})
}

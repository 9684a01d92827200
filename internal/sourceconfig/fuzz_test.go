package sourceconfig_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// FuzzParseSecret checks that a rejected secret is never repeated in the
// error.
func FuzzParseSecret(f *testing.F) {
	for _, s := range []string{"hunter2", "${env:X}", "${file:/x}", "${vault:abc}", "${env:1}", "${file:~/x}", "${env:A B}"} {
		f.Add(s)
	}
	// The fixed wording of every rejection; an input that is part of it is
	// not a leak.
	var fixed strings.Builder
	for _, in := range []string{"x", "${env:1}", "${file:}", "${file:~}", "${vault:x}"} {
		_, err := sourceconfig.ParseSecret(in, "/cfg")
		fixed.WriteString(err.Error() + "\n")
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := sourceconfig.ParseSecret(in, "/cfg")
		if err == nil {
			if s.IsZero() || !strings.HasPrefix(s.Ref(), "${") {
				t.Fatalf("accepted %q as %q", in, s.Ref())
			}
			return
		}
		v := strings.TrimSpace(in)
		if len(v) >= 6 && strings.Contains(err.Error(), v) && !strings.Contains(fixed.String(), v) {
			t.Fatalf("error repeats the input %q: %v", in, err)
		}
	})
}

func ExampleSecret() {
	s, err := sourceconfig.ParseSecret("${env:GIT_TOKEN}", "/work")
	fmt.Println(s, err)
	_, err = sourceconfig.ParseSecret("ghp_notAReference", "/work")
	fmt.Println(err)
	// Output:
	// ${env:GIT_TOKEN} <nil>
	// secrets must be a reference like ${env:NAME} or ${file:PATH}, not the value
}

package workbook

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestLinksStopAtMaxLinkedItems: the first MaxLinkedItems items are
// linked; the next keeps its path and URL as text, unlinked.
func TestLinksStopAtMaxLinkedItems(t *testing.T) {
	in := benchInput(MaxLinkedItems + 2)
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, c := range []struct {
		row    int
		linked bool
	}{{2, true}, {MaxLinkedItems + 1, true}, {MaxLinkedItems + 2, false}, {MaxLinkedItems + 3, false}} {
		for _, col := range []string{"L", "M"} {
			ref := fmt.Sprintf("%s%d", col, c.row)
			ok, _, err := f.GetCellHyperLink(SheetEvidence, ref)
			if err != nil || ok != c.linked {
				t.Errorf("%s linked = %v (%v), want %v", ref, ok, err, c.linked)
			}
			v, _ := f.GetCellValue(SheetEvidence, ref)
			if !strings.HasPrefix(v, "evidence/") && !strings.HasPrefix(v, "https://") {
				t.Errorf("%s = %q, want the path or URL as text", ref, v)
			}
		}
	}
}

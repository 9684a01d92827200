package evidence

import (
	"cmp"
	"time"
)

// CompareOccurred orders items as the ledger lists them: oldest first (by
// OccurredAt), then by ID. It takes the two fields rather than items so
// that summaries of items sort the same way.
func CompareOccurred(aAt time.Time, aID string, bAt time.Time, bID string) int {
	if c := aAt.Compare(bAt); c != 0 {
		return c
	}
	return cmp.Compare(aID, bID)
}

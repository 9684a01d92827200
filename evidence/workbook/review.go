package workbook

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// ReviewRow is one filled-in row of a workbook's Review sheet, as typed:
// the caller checks the KSB IDs, the role and the item.
type ReviewRow struct {
	// Row is the sheet's row number (the header is row 1).
	Row int
	// Item is the item ID; Accept and Reject the KSB lists as typed
	// ("S10, K4"); Exclude "", "yes" or "no" (see ParseExclude).
	Item, Accept, Reject, Exclude string
	Reviewer, Role, Note          string
}

// Empty reports whether the row records nothing (no accept, reject,
// exclude or note): such rows are left alone.
func (r ReviewRow) Empty() bool {
	return r.Accept == "" && r.Reject == "" && r.Exclude == "" && r.Note == ""
}

// ParseExclude reads an Exclude cell: yes/y/true/x/1 exclude, no/n/false/0
// include again, empty says nothing (nil). Anything else is an error.
func ParseExclude(s string) (*bool, error) {
	t, f := true, false
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return nil, nil
	case "yes", "y", "true", "x", "1":
		return &t, nil
	case "no", "n", "false", "0":
		return &f, nil
	}
	return nil, fmt.Errorf("exclude %q: want yes or no", s)
}

// MaxReviewRows bounds how many rows ReadReview reads, so a doctored file
// cannot exhaust memory.
const MaxReviewRows = 2_000_000

// ReadReview reads the Review sheet of the workbook in r and returns the
// rows that record something (Empty rows are skipped), in sheet order.
// Columns are found by their header (ColItem, ColAccept, …), so they may
// be moved; ColItem, ColAccept, ColReject and ColReviewer are required.
// Every cell is read as its text.
func ReadReview(r io.Reader) ([]ReviewRow, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, fmt.Errorf("read workbook: %w", err)
	}
	defer f.Close()
	if idx, _ := f.GetSheetIndex(SheetReview); idx < 0 {
		return nil, fmt.Errorf("the workbook has no %s sheet", SheetReview)
	}
	rows, err := f.Rows(SheetReview)
	if err != nil {
		return nil, fmt.Errorf("read sheet %s: %w", SheetReview, err)
	}
	defer rows.Close()
	col := map[string]int{}
	var out []ReviewRow
	n := 0
	for rows.Next() {
		n++
		if n > MaxReviewRows {
			return nil, fmt.Errorf("sheet %s has more than %d rows", SheetReview, MaxReviewRows)
		}
		cells, err := rows.Columns()
		if err != nil {
			return nil, fmt.Errorf("read sheet %s row %d: %w", SheetReview, n, err)
		}
		if n == 1 {
			for i, c := range cells {
				col[strings.TrimSpace(c)] = i
			}
			var missing []string
			for _, h := range []string{ColItem, ColAccept, ColReject, ColReviewer} {
				if _, ok := col[h]; !ok {
					missing = append(missing, h)
				}
			}
			if len(missing) > 0 {
				return nil, fmt.Errorf("sheet %s lacks the column(s) %s in its first row", SheetReview, strings.Join(missing, ", "))
			}
			continue
		}
		get := func(h string) string {
			i, ok := col[h]
			if !ok || i >= len(cells) {
				return ""
			}
			return strings.TrimSpace(cells[i])
		}
		row := ReviewRow{Row: n, Item: get(ColItem), Accept: get(ColAccept), Reject: get(ColReject),
			Exclude: get(ColExclude), Reviewer: get(ColReviewer), Role: get(ColRole), Note: get(ColNote)}
		if !row.Empty() {
			out = append(out, row)
		}
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("read sheet %s: %w", SheetReview, err)
	}
	if n == 0 {
		return nil, errors.New("sheet " + SheetReview + " is empty")
	}
	return out, nil
}

// Package maintain holds the commands that change a ledger outside a run:
// fsck (check and repair), add (evidence made by hand) and retag (the
// rules applied again, and what that changed in coverage). Each holds the
// apprentice's lease while it writes.
package maintain

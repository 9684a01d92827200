package fsstore

// NamedTemporaryFiles makes s write each Put's data to a named temporary
// file, as it does where the filesystem refuses unnamed ones (O_TMPFILE).
func NamedTemporaryFiles(s *Store) { s.tmpfile.Store(refused) }

// PutPath says how s writes a Put's data: "unnamed" or "named" files, or
// "untried" before its first Put.
func PutPath(s *Store) string {
	return map[int32]string{untried: "untried", works: "unnamed", refused: "named"}[s.tmpfile.Load()]
}

// LinkViaProc makes s link unnamed files from /proc/self/fd/N, as it does
// where linkat(2) refuses AT_EMPTY_PATH.
func LinkViaProc(s *Store) { s.emptyPath.Store(refused) }

// LinkPath says how s links unnamed files: "descriptor" (AT_EMPTY_PATH),
// "proc", or "untried".
func LinkPath(s *Store) string {
	return map[int32]string{untried: "untried", works: "descriptor", refused: "proc"}[s.emptyPath.Load()]
}

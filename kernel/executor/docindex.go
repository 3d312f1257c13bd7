package executor

// embeddedDoc returns the documentation of an import path from the index compiled into
// the binary, or nil.
func embeddedDoc(p string) *pkgDoc { return nil }

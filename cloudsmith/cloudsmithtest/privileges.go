package cloudsmithtest

// Privilege is a repository privilege, in Cloudsmith's order: each one
// includes those below it.
type Privilege int

// Repository privileges (RepositoryPrivilegeDict's "privilege").
const (
	PrivilegeNone Privilege = iota
	PrivilegeRead
	PrivilegeWrite
	PrivilegeAdmin
)

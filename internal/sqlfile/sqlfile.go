// Package sqlfile owns how packages read the SQL they embed beside their code
// (sql/NAME.sql): one lookup, so every package names its queries the same
// way and a missing file fails the same way.
package sqlfile

import (
	"fmt"
	"io/fs"
)

// Queries returns a lookup of sql/NAME.sql in fsys. A missing file is a
// programming error caught by every test of the package, so it panics.
func Queries(fsys fs.FS) func(name string) string {
	return func(name string) string {
		b, err := fs.ReadFile(fsys, "sql/"+name+".sql")
		if err != nil {
			panic(fmt.Sprintf("embedded query sql/%s.sql: %v", name, err))
		}
		return string(b)
	}
}

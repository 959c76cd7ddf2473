package stream

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// recordErrors is the outcome of a write some of whose records failed:
// one error per failed record. Its message is a count and the distinct
// causes (at most three), for logs; Unwrap gives the distinct causes.
type recordErrors struct {
	errs  []error // one per failed record
	total int     // records in the write
}

func (e *recordErrors) Error() string {
	msgs, _ := e.distinct()
	return fmt.Sprintf("%d of %d records failed: %s", len(e.errs), e.total, strings.Join(msgs, "; "))
}

func (e *recordErrors) Unwrap() []error {
	_, errs := e.distinct()
	return errs
}

// distinct returns up to three distinct causes; connection errors that
// differ only by their addresses count as one.
func (e *recordErrors) distinct() ([]string, []error) {
	var msgs []string
	var errs []error
	seen := map[string]bool{}
	for _, err := range e.errs {
		msg := err.Error()
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			msg = oe.Op + ": " + oe.Err.Error()
		}
		if !seen[msg] && len(msgs) < 3 {
			seen[msg] = true
			msgs = append(msgs, msg)
			errs = append(errs, err)
		}
	}
	return msgs, errs
}

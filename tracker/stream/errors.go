package stream

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/segmentio/kafka-go"
)

// summarize shortens kafka-go's per-message write errors (one entry per
// message of the batch) to a count and the distinct causes, for logs.
func summarize(err error) error {
	var we kafka.WriteErrors
	if !errors.As(err, &we) {
		return err
	}
	var distinct []string
	seen := map[string]bool{}
	for _, e := range we {
		if e == nil {
			continue
		}
		msg := e.Error()
		// Connection errors differ only by their addresses: keep the cause.
		var oe *net.OpError
		if errors.As(e, &oe) && oe.Err != nil {
			msg = oe.Op + ": " + oe.Err.Error()
		}
		if !seen[msg] && len(distinct) < 3 {
			seen[msg] = true
			distinct = append(distinct, msg)
		}
	}
	return fmt.Errorf("%d of %d messages failed: %s", we.Count(), len(we), strings.Join(distinct, "; "))
}

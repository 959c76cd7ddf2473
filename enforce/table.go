package enforce

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ratioguard/ratioguard/enforce/store"
)

// WriteTable prints planned changes as the dry-run table: member, rule,
// current figures, planned change.
func WriteTable(w io.Writer, rows []store.Row) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no changes planned")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tRULE\tCURRENT\tPLANNED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", member(r), r.Rule, clean(r.Current), clean(r.Planned))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d planned changes\n", len(rows))
	return err
}

func member(r store.Row) string {
	if r.Member == "" {
		return fmt.Sprintf("#%d", r.UserID)
	}
	return fmt.Sprintf("%s (#%d)", r.Member, r.UserID)
}

// clean keeps a cell on one line.
func clean(s string) string { return strings.NewReplacer("\t", " ", "\n", " ").Replace(s) }

package detectors

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown documents the detectors and the thresholds in force, for
// docs/DETECTION.md.
func WriteMarkdown(w io.Writer, cfg *Config, ds []Detector) error {
	var b strings.Builder
	b.WriteString("## Detectors\n\n")
	b.WriteString("Every detector reads the raw ClickHouse `announces` table (raw deltas, never promotion credit) and its rollups, ")
	b.WriteString("scores each subject in [0, 1] (signals combined by a noisy-OR of weight × strength unless stated), and reports scores ≥ ")
	fmt.Fprintf(&b, "%.2f. Severity: ≥ 0.9 critical, ≥ 0.75 high, ≥ 0.6 medium, else low. ", cfg.ReportThreshold)
	fmt.Fprintf(&b, "Staff classes %v and allowlisted members are never reported; declared seedboxes and allowlisted networks are left out of network counts. ", cfg.StaffClasses)
	fmt.Fprintf(&b, "A dismissed report reopens only when the severity rises or the magnitude grows %.1f×.\n\n", cfg.MaterialIncrease)
	for _, d := range ds {
		doc := d.Doc()
		fmt.Fprintf(&b, "### %s (`%s`)\n\n", doc.Title, d.Name())
		fmt.Fprintf(&b, "- Catches: %s\n- Lookback: %s\n- Signals:\n", doc.Catches, d.Lookback(cfg))
		for _, s := range doc.Signals {
			fmt.Fprintf(&b, "  - %s\n", s)
		}
		fmt.Fprintf(&b, "- Honest look-alikes: %s\n", doc.LookAlikes)
		inc := doc.Incremental
		if inc == "" {
			inc = "every member who announced since the previous pass, over the whole lookback"
		}
		if pd, ok := d.(Periodic); ok && pd.Cadence(cfg) > 0 {
			if doc.Incremental == "" {
				inc = fmt.Sprintf("only on passes that cross a multiple of %s, then every member who announced since the previous multiple, over the whole lookback", pd.Cadence(cfg))
			} else {
				inc = fmt.Sprintf("only on passes that cross a multiple of %s, with the announces since the previous multiple: %s", pd.Cadence(cfg), inc)
			}
		}
		fmt.Fprintf(&b, "- Incremental passes re-evaluate: %s\n\n", inc)
	}
	b.WriteString("### Thresholds in force\n\n```json\n")
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("encode detector config: %w", err)
	}
	b.Write(js)
	b.WriteString("\n```\n")
	_, err = io.WriteString(w, b.String())
	return err
}

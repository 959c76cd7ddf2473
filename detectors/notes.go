package detectors

import "strings"

func joinNotes(notes []string) string { return strings.Join(notes, "; ") }

// firedNames lists the signals that fired, for summaries.
func firedNames(sig []Signal) string {
	var names []string
	for _, s := range sig {
		if s.Fired {
			names = append(names, s.Name)
		}
	}
	if len(names) == 0 {
		return "no signal fired"
	}
	return "fired: " + strings.Join(names, ", ")
}

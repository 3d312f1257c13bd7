// Package display publishes rich output from notebook cells and toolkit code: HTML,
// Markdown, LaTeX, JSON, images, plots, and progress bars that update in place.
//
// It knows nothing of Jupyter: the executor installs a Sink that turns each call into
// a display_data, update_display_data or clear_output message. Without a Sink (tests,
// plain Go programs) text/plain representations go to standard output.
package display

// MIMEBundle maps MIME types ("text/html", "image/png", ...) to their data. Binary data
// ([]byte) is base64-encoded by the Sink; strings are sent as they are.
type MIMEBundle map[string]any

// Sink receives what cells publish. Implementations must be safe for concurrent use.
type Sink interface {
	// Display publishes data. A non-empty id names the output so that a later call with
	// update = true replaces it in place.
	Display(data MIMEBundle, metadata map[string]any, id string, update bool)
	// ClearOutput clears the cell's output; with wait, only when new output arrives.
	ClearOutput(wait bool)
}

// Package kernel is goinv's Jupyter side: the messaging protocol (version 5.3) over
// ZeroMQ, with a handler per request type, shaped like lgo's gojupyterscaffold.
//
// The kernel never runs user code itself. Cells, completions and inspections go to a
// supervised executor process (package supervisor); the kernel owns the five
// sockets, the execute queue, history, interrupts and restarts. Where to look:
//
//	connection.go  the connection file
//	wire.go        message framing and HMAC-SHA256 signatures
//	kernel.go      sockets, the shell queue, the control and stdin loops, heartbeat
//	handlers.go    one function per request type
//	execute.go     execute_request, stop_on_error and stdin bridging
//	history.go     history kept across restarts as a JSONL file
//
// Every request is answered on the socket it arrived on, wrapped in busy/idle status
// messages on iopub that carry the request's header as parent. The control socket
// has its own goroutine, so interrupt_request and shutdown_request are answered
// while a cell runs.
//
// Latency. An execute round trip crosses two processes, so the kernel keeps work
// off its path: busy and execute_input are published once the cell is on its way
// to the executor, the history line is written after the execute_reply. The iopub
// order is unchanged (busy, execute_input, output, result, idle), and the
// execute_result still goes before the reply: jupyter console shows only the iopub
// messages that are there when the reply arrives.
//
// Memory. The iopub socket queues at most 1,000 messages for a subscriber that does
// not read (as libzmq does), and after a second without requests both processes
// return freed heap pages to the OS (see internal/memrelease).
package kernel

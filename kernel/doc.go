// Package kernel is goinv's Jupyter side: the messaging protocol (version 5.3) over
// ZeroMQ, with a handler per request type, shaped like lgo's gojupyterscaffold.
//
// The kernel never runs user code itself. Cells, completions and inspections go to a
// supervised executor process (package supervisor); the kernel owns the five
// sockets, the execute queue, history, interrupts and restarts. Where to look:
//
//	connection.go  the connection file
//	wire.go        message framing and HMAC-SHA256 signatures
//	router.go      the shell, control and stdin sockets (ZeroMQ ROUTER)
//	pub.go         the iopub socket (ZeroMQ PUB)
//	transport.go   zmq4 transports that write a message in one write (heartbeat)
//	kernel.go      sockets, the shell queue, the control and stdin handlers, heartbeat
//	handlers.go    one function per request type
//	execute.go     execute_request, stop_on_error and stdin bridging
//	history.go     history kept across restarts as a JSONL file, indexed
//
// Every request is answered on the socket it arrived on, wrapped in busy/idle status
// messages on iopub that carry the request's header as parent. Control requests are
// handled on their connection's goroutine, so interrupt_request and
// shutdown_request are answered while a cell runs.
//
// Latency. An execute round trip crosses two processes, so the kernel keeps work
// and goroutine hand-offs off its path. The sockets are ZMTP implementations of
// goinv's own on top of zmq4's handshake: a request is decoded on its connection's
// goroutine and queued for the shell worker; replies and iopub messages are written
// on the goroutine that sends them, each in one write (zmq4's sockets passed every
// message through a goroutine of their own, and its PUB allocated an 8 KB queue
// chunk per message). Busy and execute_input leave together, in one write, once
// the cell is on its way to the executor; the history line is written after the
// execute_reply. The iopub order is unchanged (busy, execute_input, output,
// result, idle), and the execute_result still goes before the reply: jupyter
// console shows only the iopub messages that are there when the reply arrives.
// GOINV_TRACE=1 prints monotonic timestamps of each stage (GOINV_TRACE=/abs/file
// collects both processes' in one file).
//
// Memory. The iopub socket queues at most 1,000 messages for a subscriber that does
// not read (as libzmq does), per subscriber; this process collects garbage at
// GOGC=25 (its live heap is about a megabyte; see Main); the history file is
// indexed, not loaded; and after a second without requests both processes return
// freed heap pages to the OS (see internal/memrelease).
package kernel

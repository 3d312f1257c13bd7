package kernel

import (
	"runtime"
	"strings"
	"sync"

	"github.com/goinv/goinv/kernel/ipc"
)

// A handler answers one request type. s and mu are the socket it came on.
// (execute_request has its own path in dispatch.)
type handler func(k *Kernel, s *routerSocket, mu *sync.Mutex, m *Message)

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"kernel_info_request": (*Kernel).kernelInfo,
		"complete_request":    forward(ipc.KindComplete, "complete_reply"),
		"inspect_request":     forward(ipc.KindInspect, "inspect_reply"),
		"is_complete_request": forward(ipc.KindIsComplete, "is_complete_reply"),
		"history_request":     (*Kernel).history,
		"comm_info_request":   (*Kernel).commInfo,
		"comm_open":           (*Kernel).commOpen,
		"comm_msg":            func(*Kernel, *routerSocket, *sync.Mutex, *Message) {},
		"comm_close":          func(*Kernel, *routerSocket, *sync.Mutex, *Message) {},
		"interrupt_request":   (*Kernel).interrupt,
		"shutdown_request":    (*Kernel).shutdown,
	}
}

// dispatch runs the handler for m between busy and idle status messages.
func (k *Kernel) dispatch(s *routerSocket, mu *sync.Mutex, m *Message) {
	if m.Header.MsgType == "execute_request" {
		var afterIdle func()
		defer func() {
			k.publish(m, "status", statusIdle)
			if afterIdle != nil {
				afterIdle()
			}
		}()
		afterIdle = k.execute(s, mu, m) // publishes busy once the cell is on its way
		return
	}
	h, ok := handlers[m.Header.MsgType]
	defer k.publish(m, "status", statusIdle)
	k.publish(m, "status", statusBusy)
	if !ok {
		k.log.Printf("unsupported message type %q", m.Header.MsgType)
		if strings.HasSuffix(m.Header.MsgType, "_request") {
			k.reply(s, mu, m, strings.TrimSuffix(m.Header.MsgType, "_request")+"_reply", map[string]any{
				"status": "error", "ename": "NotImplemented", "evalue": "goinv does not handle " + m.Header.MsgType, "traceback": []string{}})
		}
		return
	}
	h(k, s, mu, m)
}

// LanguageInfo is the language_info of kernel_info_reply.
func LanguageInfo() map[string]any {
	return map[string]any{
		"name": "go", "version": strings.TrimPrefix(runtime.Version(), "go"), "mimetype": "text/x-go",
		"file_extension": ".go", "pygments_lexer": "go", "codemirror_mode": "go", "nbconvert_exporter": "script",
	}
}

func (k *Kernel) kernelInfo(s *routerSocket, mu *sync.Mutex, m *Message) {
	k.reply(s, mu, m, "kernel_info_reply", map[string]any{
		"status": "ok", "protocol_version": ProtocolVersion, "implementation": "goinv",
		"implementation_version": Version, "language_info": LanguageInfo(),
		"banner": "goinv " + Version + " — Go " + runtime.Version() + " interpreted by yaegi, with the goinv toolkit preloaded.\nType %help for magics.",
		"help_links": []map[string]string{
			{"text": "Go documentation", "url": "https://go.dev/doc/"},
			{"text": "Go standard library", "url": "https://pkg.go.dev/std"},
			{"text": "yaegi", "url": "https://github.com/traefik/yaegi"},
		},
		"debugger": false,
	})
}

// forward sends a request to the executor and relays its reply.
func forward(kind, replyType string) handler {
	return func(k *Kernel, s *routerSocket, mu *sync.Mutex, m *Message) {
		var c struct {
			Code        string `json:"code"`
			CursorPos   int    `json:"cursor_pos"`
			DetailLevel int    `json:"detail_level"`
		}
		decode(m, &c)
		content, err := k.exec.Request(ipc.Request{Kind: kind, Code: c.Code, Cursor: c.CursorPos, DetailLevel: c.DetailLevel})
		if err != nil {
			content = map[string]any{"status": "error", "ename": "ExecutorUnavailable", "evalue": err.Error(), "traceback": []string{err.Error()}}
		}
		k.reply(s, mu, m, replyType, content)
	}
}

func (k *Kernel) commInfo(s *routerSocket, mu *sync.Mutex, m *Message) {
	k.reply(s, mu, m, "comm_info_reply", map[string]any{"status": "ok", "comms": map[string]any{}})
}

// commOpen closes every comm: goinv registers no comm targets.
func (k *Kernel) commOpen(s *routerSocket, mu *sync.Mutex, m *Message) {
	var c struct {
		CommID     string `json:"comm_id"`
		TargetName string `json:"target_name"`
	}
	decode(m, &c)
	k.log.Printf("comm_open for unknown target %q: closing comm %s", c.TargetName, c.CommID)
	k.publish(m, "comm_close", map[string]any{"comm_id": c.CommID, "data": map[string]any{}})
}

func (k *Kernel) interrupt(s *routerSocket, mu *sync.Mutex, m *Message) {
	if trace {
		k.log.Printf("trace: interrupt")
	}
	k.exec.Interrupt()
	k.reply(s, mu, m, "interrupt_reply", map[string]any{"status": "ok"})
}

// shutdown ends the kernel. With restart set the process ends too: the kernel
// manager starts a new kernel process (and with it a fresh executor), as it does
// for every kernel; history survives in its file.
func (k *Kernel) shutdown(s *routerSocket, mu *sync.Mutex, m *Message) {
	var c struct {
		Restart bool `json:"restart"`
	}
	decode(m, &c)
	content := map[string]any{"status": "ok", "restart": c.Restart}
	k.exec.Interrupt()
	k.reply(s, mu, m, "shutdown_reply", content)
	k.publish(m, "shutdown_reply", content)
	k.publish(m, "status", statusIdle)
	k.cancel()
}

package shell

import (
	"bufio"
	"io"
	"os"
	"sync"
)

// console is the terminal: output from several goroutines, one line at a
// time, and, when a person is typing, a prompt kept at the bottom.
type console struct {
	in          io.Reader
	interactive bool // stdin and stdout are terminals: prompt, no echo

	mu       sync.Mutex
	w        io.Writer
	prompt   func() string
	prompted bool // the prompt is on screen, waiting for input
	err      error

	linesOnce sync.Once
	lines     chan string
	stop      chan struct{}
}

func newConsole(stdin io.Reader, stdout io.Writer) *console {
	return &console{
		in: stdin, w: stdout,
		interactive: isTerminal(stdin) && isTerminal(stdout),
		stop:        make(chan struct{}),
	}
}

// isTerminal reports whether v is a character device (a terminal).
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// readLines reads input lines in a goroutine; the channel closes at the end
// of input.
func (c *console) readLines() <-chan string {
	c.linesOnce.Do(func() {
		c.lines = make(chan string)
		go func() {
			defer close(c.lines)
			sc := bufio.NewScanner(c.in)
			sc.Buffer(make([]byte, 64*1024), 1024*1024)
			for sc.Scan() {
				select {
				case c.lines <- sc.Text():
				case <-c.stop:
					return
				}
			}
			c.mu.Lock()
			c.err = sc.Err()
			c.mu.Unlock()
		}()
	})
	return c.lines
}

func (c *console) readErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// println writes s and a newline, moving the prompt below it. s may hold
// text from Slack messages, and through them from Xplenty: its control
// characters are made visible (sanitize), never sent to the terminal.
func (c *console) println(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prompted {
		io.WriteString(c.w, "\r\033[K") // erase the prompt line
	}
	io.WriteString(c.w, sanitize(s)+"\n")
	if c.prompted {
		io.WriteString(c.w, sanitize(c.prompt()))
	}
}

// echo writes what was typed when nobody saw it typed (piped input), so
// the output reads like a transcript.
func (c *console) echo(s string) {
	if !c.interactive {
		c.println(s)
	}
}

func (c *console) showPrompt() {
	if !c.interactive {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.prompted {
		io.WriteString(c.w, sanitize(c.prompt()))
		c.prompted = true
	}
}

// inputRead notes that the user pressed enter: the prompt line is done.
func (c *console) inputRead() {
	c.mu.Lock()
	c.prompted = false
	c.mu.Unlock()
}

// done stops reading input (a reader blocked on a terminal stays blocked
// until the process exits; that is harmless).
func (c *console) done() {
	close(c.stop)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prompted {
		io.WriteString(c.w, "\n")
		c.prompted = false
	}
}

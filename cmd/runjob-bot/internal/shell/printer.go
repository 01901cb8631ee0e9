package shell

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/runjob/runjob/bot/slacktest"
)

// printer prints what the bot posts, as it happens: new messages in
// full, card edits as their status line, ephemerals for whoever they are
// shown to.
type printer struct {
	sh   *chat
	mu   sync.Mutex
	seen map[string]int    // message key → versions printed
	last map[string]string // message key → signature last printed
	n    int               // messages looked at
}

func msgKey(m slacktest.Message) string { return m.Channel + "/" + m.TS }

func (p *printer) run(ctx context.Context) {
	for {
		var snap *slacktest.Snapshot
		err := p.sh.fake.Wait(ctx, func(s *slacktest.Snapshot) bool {
			if p.news(s) {
				snap = s
				return true
			}
			return false
		})
		if err != nil {
			return
		}
		p.render(snap)
	}
}

// news reports whether snap holds anything not printed yet.
func (p *printer) news(snap *slacktest.Snapshot) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	msgs := snap.Messages()
	if len(msgs) != p.n {
		return true
	}
	for _, m := range msgs {
		if p.seen[msgKey(m)] != versions(m) {
			return true
		}
	}
	return false
}

// versions counts a message's versions, a deletion counting as one more.
func versions(m slacktest.Message) int {
	n := max(len(m.History), 1)
	if m.Deleted {
		n++
	}
	return n
}

func (p *printer) render(snap *slacktest.Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	msgs := snap.Messages()
	p.n = len(msgs)
	for _, m := range msgs {
		k := msgKey(m)
		done, total := p.seen[k], versions(m)
		if done == total {
			continue
		}
		p.seen[k] = total
		if m.Deleted {
			if done > 0 {
				p.sh.con.println(p.label(snap, m) + " runjob deleted a message")
			}
			continue
		}
		hist := m.History
		if len(hist) == 0 {
			hist = []slacktest.Version{{Text: m.Text, Blocks: m.Blocks}}
		}
		if done == 0 {
			// New: show it as it is now, in full.
			r := p.sh.text.message(m.Text, m.Blocks)
			p.last[k] = r.signature()
			p.full(snap, m, r, "runjob")
			continue
		}
		for _, v := range hist[min(done, len(hist)):] {
			r := p.sh.text.message(v.Text, v.Blocks)
			sig := r.signature()
			if sig == p.last[k] {
				continue
			}
			prevActions := p.last[k]
			p.last[k] = sig
			if r.jobID == 0 || m.Ephemeral {
				p.full(snap, m, r, "runjob (edited)")
				continue
			}
			prefix := p.label(snap, m) + " "
			out := prefix + fmt.Sprintf("runjob (edited card of job %d): ", r.jobID) + editLine(r)
			if _, acts, _ := strings.Cut(prevActions, "\x00"); acts != strings.Join(r.actions, "\x00") {
				out += "\n" + strings.Repeat(" ", width(prefix)) + "actions: " + actionList(r.actions)
			}
			p.sh.con.println(out)
		}
	}
}

func actionList(a []string) string {
	if len(a) == 0 {
		return "none"
	}
	return strings.Join(a, " · ")
}

// full prints a message with all its lines.
func (p *printer) full(snap *slacktest.Snapshot, m slacktest.Message, r rendered, author string) {
	prefix := p.label(snap, m) + " "
	indent := strings.Repeat(" ", width(prefix))
	var b strings.Builder
	b.WriteString(prefix + author + ": " + r.lines[0])
	for _, l := range r.lines[1:] {
		b.WriteString("\n" + indent + l)
	}
	if len(r.actions) > 0 {
		b.WriteString("\n" + indent + "actions: " + actionList(r.actions))
	}
	p.sh.con.println(b.String())
}

// label says where a message is: "[#sandbox]", "[#sandbox thread of job
// 1001]", "[only you]".
func (p *printer) label(snap *slacktest.Snapshot, m slacktest.Message) string {
	user, channel := p.sh.where()
	where := "#" + channelLabel(m.Channel)
	if m.Ephemeral {
		who := "only you"
		if m.User != user {
			who = "only @" + userLabel(m.User)
		}
		if m.Channel == channel {
			return "[" + who + "]"
		}
		return "[" + where + ", " + who + "]"
	}
	if m.ThreadTS != "" {
		parent, ok := snap.Message(m.Channel, m.ThreadTS)
		if ok {
			if pr := p.sh.text.message(parent.Text, parent.Blocks); pr.jobID != 0 {
				return fmt.Sprintf("[%s thread of job %d]", where, pr.jobID)
			}
		}
		return "[" + where + " thread]"
	}
	return "[" + where + "]"
}

package shell

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/render"
)

// The run form at the terminal. :form and :edit open the bot's modal
// through the fake Slack and fill it in one field at a time, doing what a
// person does in Slack's client: a search in a picker sends
// block_suggestion, a choice block_actions (the bot answers a package with
// views.update, filling in its variables), typing in the box changes the
// view's state, and Run sends view_submission, whose ack closes the form or
// shows errors on its blocks. The answers come from the shell's own input,
// so a script piped into the shell fills in forms too.

const (
	// formAckWait bounds the wait for the bot's ack of a search or a
	// submission. Slack gives up after 3 s; the bot answers well within it.
	formAckWait = 10 * time.Second
	// formUpdateWait bounds the wait for the bot's views.update after a
	// choice in a block that dispatches it (the package); the bot makes
	// none for a package its catalog does not know.
	formUpdateWait = 5 * time.Second
)

// formWaits are the bounds of the waits for the bot in a form: wait when
// set (Options.formWait, for tests on a busy machine), else formAckWait and
// formUpdateWait.
func formWaits(wait time.Duration) (ack, update time.Duration) {
	if wait > 0 {
		return wait, wait
	}
	return formAckWait, formUpdateWait
}

const formHelp = `While a form is open, the shell asks for each field in turn:
  a picker        type part of a name or an id to search (an empty line lists them all),
                  then the number of your choice; an exact id picks it at once
  the variables   one NAME=value or NAME:=expression a line, then an empty line; a line
                  with . alone keeps the text as it is, an empty line first empties it
  .               keeps the field as it is
  :cancel-form    closes the form without running anything (so does the end of input)
  :quit           closes the form and leaves the shell
Then the shell presses Run: the bot closes the form and posts the job's card, or shows
what is wrong, and the shell asks again for the fields in error.`

// openForm is :form: /runjob with no text, as typed in the current
// channel, then the dialogue on the form the bot opens. It reports whether
// to leave the shell.
func (sh *chat) openForm(ctx context.Context) bool {
	user, _ := sh.where()
	known := sh.viewIDs()
	if !sh.slash(ctx, "") {
		return false
	}
	return sh.formDialogue(ctx, user, known)
}

// editForm is :edit: a click on Edit & re-run on a job's card, then the
// dialogue on the form the bot opens filled in.
func (sh *chat) editForm(ctx context.Context, arg string) bool {
	user, _ := sh.where()
	known := sh.viewIDs()
	if !sh.click(ctx, render.ActionEdit, arg) {
		return false
	}
	return sh.formDialogue(ctx, user, known)
}

func (sh *chat) formDialogue(ctx context.Context, user string, known map[string]bool) bool {
	v, ok := sh.waitForm(ctx, user, known)
	if !ok {
		sh.note("the bot opened no form")
		return false
	}
	f := &form{sh: sh, user: user, id: v.ID}
	f.ackWait, f.updateWait = formWaits(sh.formWait)
	return f.fill(ctx, v)
}

// viewIDs are the views the fake Slack has now, open or closed.
func (sh *chat) viewIDs() map[string]bool {
	ids := map[string]bool{}
	for _, v := range sh.fake.Snapshot().Views() {
		ids[v.ID] = true
	}
	return ids
}

// waitForm waits for a run form opened for user that is not among known,
// until the bot has finished with what the shell sent (it opens the form
// before it reports the command handled), or lineTimeout.
func (sh *chat) waitForm(ctx context.Context, user string, known map[string]bool) (slacktest.View, bool) {
	target := sh.sent.Load()
	deadline := time.Now().Add(lineTimeout)
	var found slacktest.View
	opened := func(s *slacktest.Snapshot) bool {
		for _, v := range s.OpenViews(user) {
			if !known[v.ID] && v.CallbackID == render.FormCallbackID {
				found = v
				return true
			}
		}
		return false
	}
	for {
		handled := sh.handled.Load() >= target // before the look: the form precedes it
		if opened(sh.fake.Snapshot()) {
			return found, true
		}
		left := time.Until(deadline)
		if handled || left <= 0 || ctx.Err() != nil {
			return slacktest.View{}, false
		}
		// The bot's hook does not wake the fake: look again every 100 ms.
		wctx, cancel := context.WithTimeout(ctx, min(100*time.Millisecond, left))
		err := sh.fake.Wait(wctx, opened)
		cancel()
		if err == nil {
			return found, true
		}
	}
}

func (sh *chat) setAsking(prompt string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.asking = prompt
}

// form is one run form being filled in.
type form struct {
	sh   *chat
	user string
	id   string // the view's id

	ackWait, updateWait time.Duration // see formWaits
}

// step is how a field's dialogue ended.
type step int

const (
	stepDone  step = iota // the field is filled in (or kept)
	stepClose             // close the form: :cancel-form, end of input, a failure
	stepQuit              // close the form and leave the shell
)

func (f *form) say(s string) { f.sh.con.println("[form] " + s) }

func (f *form) view() (slacktest.View, bool) { return f.sh.fake.View(f.id) }

// fill shows the form, asks for each input in turn, and submits it until
// the bot takes it. It reports whether to leave the shell.
func (f *form) fill(ctx context.Context, v slacktest.View) bool {
	f.sh.con.println(f.text(v))
	f.say("fill it in field by field (:help explains, :cancel-form closes it)")
	todo := inputBlocks(v)
	for len(todo) > 0 {
		for _, id := range todo {
			if st := f.field(ctx, id); st != stepDone {
				return f.close(ctx, st)
			}
		}
		errs, closed, ok := f.submit(ctx)
		switch {
		case closed:
			return false
		case !ok:
			return f.close(ctx, stepClose)
		}
		v, open := f.view()
		if !open {
			return f.close(ctx, stepClose)
		}
		todo = slices.DeleteFunc(inputBlocks(v), func(id string) bool { return errs[id] == "" })
	}
	return f.close(ctx, stepClose)
}

// close closes the form unless it is closed already, and reports whether
// to leave the shell.
func (f *form) close(ctx context.Context, st step) bool {
	if v, ok := f.view(); ok && v.Open {
		err := f.sh.retry(ctx, func() error {
			_, err := f.sh.fake.CloseView(ctx, f.user, f.id)
			return err
		})
		if err != nil {
			f.say("could not close the form: " + err.Error())
		} else {
			f.say("closed the form; nothing was run")
		}
	}
	return st == stepQuit
}

// field asks for the input block blockID.
func (f *form) field(ctx context.Context, blockID string) step {
	v, ok := f.view()
	if !ok || !v.Open {
		f.say("the form is closed")
		return stepClose
	}
	b, _ := v.Block(blockID)
	if len(b.Elements) == 0 {
		return stepDone
	}
	switch el := b.Elements[0]; el.Type {
	case "static_select", "external_select":
		return f.pick(ctx, v, b, el)
	case "plain_text_input":
		return f.typeText(ctx, v, b, el)
	default:
		f.say(fmt.Sprintf("%s is a %s, which the shell cannot fill in; it stays as it is", b.Label, el.Type))
		return stepDone
	}
}

// ask reads the answer to a question of the form, echoing it (when echo
// is set) as the shell echoes piped input. Lines starting with # are
// comments; :cancel-form closes the form, :quit leaves the shell and :help
// explains the form; the end of input closes the form.
func (f *form) ask(ctx context.Context, prompt string, echo bool) (string, step, bool) {
	sh := f.sh
	sh.setAsking(prompt)
	defer sh.setAsking("")
	for {
		sh.con.showPrompt()
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return "", stepQuit, false
		case line, ok = <-sh.con.readLines():
		}
		sh.con.inputRead()
		if !ok {
			f.say("end of input")
			return "", stepClose, false
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if word, _ := splitWord(trimmed); strings.HasPrefix(word, ":") || strings.HasPrefix(word, "/") {
			sh.con.echo(prompt + sh.maskSecrets(trimmed))
			switch word {
			case ":cancel-form":
				return "", stepClose, false
			case ":quit", ":q", ":exit":
				return "", stepQuit, false
			case ":help", ":h", ":?":
				sh.con.println(formHelp)
			default:
				f.say(fmt.Sprintf("%s waits until the form is done; :cancel-form closes the form", wordShown(word)))
			}
			continue
		}
		if echo {
			sh.con.echo(strings.TrimRight(prompt+sh.maskArgs(trimmed), " "))
		}
		return line, stepDone, true
	}
}

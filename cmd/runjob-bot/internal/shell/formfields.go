package shell

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/render"
)

// The form's fields, asked for one at a time, and its submission.

// pick asks for the choice of a picker: a static one's options are
// numbered; an external one is searched (block_suggestion) and what the
// search found is numbered.
func (f *form) pick(ctx context.Context, v slacktest.View, b slacktest.ViewBlock, el slacktest.ViewElement) step {
	cur := v.Value(b.BlockID, el.ActionID).Selected
	search := el.Type == "external_select"
	var list []slacktest.Option
	hint := b.Label + ": type part of a name or an id to search (an empty line lists them all), then a number"
	if !search {
		list = el.Options
		if len(list) == 0 {
			f.say(b.Label + " offers nothing to pick; it stays as it is")
			return stepDone
		}
		hint = b.Label + ": type a number, or an id"
	}
	if cur != nil {
		hint += "; . keeps " + cur.Text
	}
	if !search {
		hint += "\n" + numbered(list)
	}
	f.say(hint)
	prompt := "form " + strings.ToLower(b.Label) + "> "
	for {
		line, st, ok := f.ask(ctx, prompt, true)
		if !ok {
			return st
		}
		line = strings.TrimSpace(line)
		var chosen *slacktest.Option
		if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(list) {
			chosen = &list[n-1]
		}
		switch {
		case chosen != nil:
		case line == "." && cur != nil:
			return stepDone
		case line == ".":
			f.say("nothing is chosen yet")
			continue
		case search:
			found, err := f.search(ctx, el, line)
			if err != nil {
				f.say("the search failed: " + err.Error())
				continue
			}
			if i := slices.IndexFunc(found, func(o slacktest.Option) bool { return o.Value == line }); i >= 0 {
				chosen = &found[i]
				break
			}
			list = found
			if len(found) == 0 {
				f.say("nothing matches; search again")
			} else {
				f.sh.con.println(numbered(found))
			}
			continue
		default:
			if i := slices.IndexFunc(list, func(o slacktest.Option) bool { return o.Value == line }); i >= 0 {
				chosen = &list[i]
				break
			}
			f.say(fmt.Sprintf("type a number from 1 to %d, or an id:\n%s", len(list), numbered(list)))
			continue
		}
		if f.choose(ctx, b, el, *chosen) {
			return stepDone
		}
	}
}

// numbered lists options for a choice by number.
func numbered(opts []slacktest.Option) string {
	lines := make([]string, len(opts))
	for i, o := range opts {
		lines[i] = fmt.Sprintf("    %d. %s", i+1, o.Text)
	}
	return strings.Join(lines, "\n")
}

// search types text into an external picker and returns what the bot
// offers.
func (f *form) search(ctx context.Context, el slacktest.ViewElement, text string) ([]slacktest.Option, error) {
	wctx, cancel := context.WithTimeout(ctx, f.ackWait)
	defer cancel()
	var opts []slacktest.Option
	err := f.sh.retry(wctx, func() error {
		var err error
		opts, err = f.sh.fake.SendBlockSuggestion(wctx, f.user, f.id, el.ActionID, text)
		return err
	})
	return opts, err
}

// choose chooses o in the picker, and shows what the bot changed in the
// form when the picker tells it (dispatch_action).
func (f *form) choose(ctx context.Context, b slacktest.ViewBlock, el slacktest.ViewElement, o slacktest.Option) bool {
	err := f.sh.retry(ctx, func() error {
		_, err := f.sh.fake.SendViewAction(ctx, f.user, f.id, b.BlockID, el.ActionID, o.Value)
		return err
	})
	dispatched := err == nil
	if err != nil && !errors.Is(err, slacktest.ErrNotDispatched) { // not dispatched: in the form's state only
		f.say("could not choose it: " + err.Error())
		return false
	}
	f.say(b.Label + ": " + o.Text)
	if dispatched {
		if was, ok := f.view(); ok {
			f.awaitUpdate(ctx, was)
		}
	}
	return true
}

// awaitUpdate waits for the bot's views.update of the form as it was, and
// shows the blocks it changed.
func (f *form) awaitUpdate(ctx context.Context, was slacktest.View) {
	wctx, cancel := context.WithTimeout(ctx, f.updateWait)
	defer cancel()
	v, err := f.sh.fake.WaitView(wctx, func(v slacktest.View) bool {
		return v.ID == f.id && (v.Hash != was.Hash || !v.Open)
	})
	switch {
	case err != nil:
		f.say("the bot did not change the form")
	case v.Open:
		if changed := f.changed(was, v); len(changed) > 0 {
			f.sh.con.println("[form] the bot filled in the form:\n" + strings.Join(changed, "\n"))
		}
	}
}

// typeText asks for the text of a text input: lines up to an empty one
// for a multi-line box, one line otherwise. The lines are echoed with
// secret values masked.
func (f *form) typeText(ctx context.Context, v slacktest.View, b slacktest.ViewBlock, el slacktest.ViewElement) step {
	cur := v.Value(b.BlockID, el.ActionID).Value
	now := " (empty)"
	if cur != "" {
		now = " now:\n" + indent(f.sh.maskVariables(cur))
	}
	how := "type the text"
	if el.Multiline {
		how = "type one line at a time and an empty line to end"
	}
	f.say(b.Label + now)
	how += "; . alone keeps the text as it is, an empty line first empties it"
	if strings.Contains(cur, render.Mask) {
		how += "; a line NAME=" + render.Mask + " keeps that secret's value"
	}
	f.say(how)
	prompt := "form " + strings.ToLower(b.Label) + "> "
	var lines []string
	var m varMasker
	for {
		line, st, ok := f.ask(ctx, prompt, false)
		if !ok {
			return st
		}
		if len(lines) == 0 && strings.TrimSpace(line) == "." {
			f.sh.con.echo(prompt + ".")
			return stepDone
		}
		if strings.TrimSpace(line) == "" {
			f.sh.con.echo(strings.TrimSpace(prompt))
			break
		}
		f.sh.con.echo(prompt + f.sh.maskVarLine(&m, line))
		lines = append(lines, line)
		if !el.Multiline {
			break
		}
	}
	if err := f.sh.fake.SetViewInput(f.id, b.BlockID, el.ActionID, strings.Join(lines, "\n")); err != nil {
		f.say("could not type it: " + err.Error())
		return stepClose
	}
	return stepDone
}

// submit presses Run. It returns the errors shown on the form's blocks,
// whether the bot closed the form, and false when the form could not be
// submitted at all.
func (f *form) submit(ctx context.Context) (errs map[string]string, closed, ok bool) {
	v, _ := f.view()
	f.say("pressed " + v.Submit)
	wctx, cancel := context.WithTimeout(ctx, f.ackWait)
	defer cancel()
	var sub slacktest.Submission
	err := f.sh.retry(wctx, func() error {
		var err error
		sub, err = f.sh.fake.SubmitView(wctx, f.user, f.id)
		return err
	})
	var refused *slacktest.FormError
	switch {
	case errors.As(err, &refused):
		f.sh.con.println("[form] Slack does not send the form:\n" + f.errorLines(v, refused.Errors))
		return refused.Errors, false, true
	case err != nil:
		f.say("the form was not submitted: " + err.Error())
		return nil, false, false
	case sub.Closed:
		f.say("the bot took the form and closed it")
		// The bot reports the run the submission starts like a command.
		f.sh.sent.Add(1)
		if !f.sh.con.interactive {
			f.sh.waitHandled(ctx, lineTimeout)
		}
		return nil, true, true
	case len(sub.Errors) == 0:
		f.say("the form stayed open, with nothing to correct")
		return nil, false, false
	}
	f.sh.con.println("[form] the bot did not take the form:\n" + f.errorLines(v, sub.Errors))
	return sub.Errors, false, true
}

// errorLines are a submission's errors under their blocks' labels, in the
// form's order.
func (f *form) errorLines(v slacktest.View, errs map[string]string) string {
	var lines []string
	for _, id := range inputBlocks(v) {
		if e, ok := errs[id]; ok {
			b, _ := v.Block(id)
			lines = append(lines, "  "+b.Label+": "+e)
		}
	}
	return strings.Join(lines, "\n")
}

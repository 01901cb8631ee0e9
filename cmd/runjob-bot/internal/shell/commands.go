package shell

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/notifier/render"
)

const help = `Shell commands:
  /runjob <text>    what you would type in Slack (/runjob help explains the grammar)
  :rerun [job id]   click Re-run on the job's card in this channel (default: the latest card)
  :stop [job id]    click Stop on the job's card and confirm (default: the latest card)
  :log [job id]     click Show log on a failed job's card (default: the latest such card)
  :form             open the bot's run form (what /runjob with no text does) and fill it in here
  :edit [job id]    click Edit & re-run on a finished job's card and fill in the form it opens
                    (default: the latest such card). The form asks for each field in turn:
                    a search or a number for a picker, lines ended by an empty line for the
                    variables; . keeps a field as it is, :cancel-form closes the form
  :confirm, :cancel answer the bot's latest "confirm the run" question to you
  :as <user id>     act as another Slack user, e.g. :as U0EVE (:as you goes back)
  :in <channel id>  go to another channel, e.g. :in C0DATA (:in sandbox goes back)
  :jobs             list the job cards in this channel
  :help             this help
  :quit             leave at once (end of input leaves too, after the jobs it started end)
Lines starting with # are comments, for scripts piped into the shell.`

var (
	userIDShape    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	channelIDShape = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
)

// handle acts on one line of input; it reports whether to leave.
func (sh *chat) handle(ctx context.Context, line string) (quit bool) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") { // comments, for scripts
		return false
	}
	sh.con.echo(sh.prompt() + sh.maskSecrets(line))
	word, rest := splitWord(line)
	switch word {
	case "/runjob":
		sh.slash(ctx, rest)
	case ":quit", ":q", ":exit":
		return true
	case ":help", ":h", ":?":
		sh.con.println(help)
	case ":rerun":
		sh.click(ctx, render.ActionRerun, rest)
	case ":stop":
		sh.click(ctx, render.ActionStop, rest)
	case ":log":
		sh.click(ctx, render.ActionLog, rest)
	case ":form":
		if rest != "" {
			sh.note(":form takes nothing after it: the form asks for each field in turn")
			return false
		}
		return sh.openForm(ctx)
	case ":edit":
		return sh.editForm(ctx, rest)
	case ":cancel-form":
		sh.note("no form is open here; :form opens one")
	case ":confirm":
		sh.answerPrompt(ctx, render.ActionConfirm)
	case ":cancel":
		sh.answerPrompt(ctx, render.ActionCancel)
	case ":as":
		sh.as(rest)
	case ":in":
		sh.in(rest)
	case ":jobs":
		sh.jobs()
	default:
		switch {
		case strings.HasPrefix(word, "/"):
			sh.note(fmt.Sprintf("there is no %s command here, only /runjob (try /runjob help)", wordShown(word)))
		case strings.HasPrefix(word, ":"):
			sh.note(fmt.Sprintf("unknown shell command %s; :help lists them", wordShown(word)))
		default:
			sh.note("type /runjob followed by what you would type in Slack, e.g. /runjob cluster=52 package=434 (or :help)")
		}
	}
	return false
}

func (sh *chat) note(s string) { sh.con.println("[shell] " + s) }

func (sh *chat) slash(ctx context.Context, text string) bool {
	user, channel := sh.where()
	return sh.send(ctx, func() error {
		_, err := sh.fake.SendSlashCommand(ctx, slacktest.SlashCommand{
			UserID: user, ChannelID: channel, ChannelName: channelLabel(channel),
			Command: "/runjob", Text: text,
		})
		return err
	})
}

// send sends an envelope to the bot, waiting a little for the bot's
// socket when it is reconnecting, and counts it for drain.
func (sh *chat) send(ctx context.Context, fn func() error) bool {
	sh.sent.Add(1)
	if err := sh.retry(ctx, fn); err != nil {
		sh.sent.Add(-1)
		sh.note(sendFailure(err))
		return false
	}
	if !sh.con.interactive {
		// A script reads as a sequence: each line's command is done (its
		// card posted, its answer given) before the next line is sent.
		// Slack itself runs commands concurrently; a person typing does
		// not notice the difference.
		sh.waitHandled(ctx, lineTimeout)
	}
	return true
}

// lineTimeout bounds how long piped input waits for one command.
const lineTimeout = 30 * time.Second

// waitHandled waits until the bot has finished every command sent so far.
func (sh *chat) waitHandled(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for sh.handled.Load() < sh.sent.Load() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

// retry calls fn, and once more when the bot's socket was reconnecting
// and is back within 10 s.
func (sh *chat) retry(ctx context.Context, fn func() error) error {
	err := fn()
	if errors.Is(err, slacktest.ErrNoConnection) {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if sh.fake.WaitConnections(wctx, 1) == nil {
			err = fn()
		}
		cancel()
	}
	return err
}

func sendFailure(err error) string {
	if errors.Is(err, slacktest.ErrNoConnection) {
		return "the bot is not connected right now (it reconnects on its own); try again in a moment"
	}
	return "could not reach the bot: " + err.Error()
}

// click presses a button of a job card in the current channel, as Slack
// would after the user confirmed the Stop dialog. It reports whether the
// click was sent.
func (sh *chat) click(ctx context.Context, action, arg string) bool {
	user, channel := sh.where()
	label := buttonLabels[action]
	var id int64
	if arg != "" {
		var err error
		if id, err = strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64); err != nil || id <= 0 {
			sh.note(fmt.Sprintf("%s is not a job id; write it like %s 1001", argShown(arg), verb(action)))
			return false
		}
	}
	card, found := sh.findCard(sh.fake.Snapshot(), channel, action, id)
	if found == nil {
		switch {
		case id == 0:
			sh.note(fmt.Sprintf("no card in #%s has %s %s button", channelLabel(channel), article(label), label))
		case card != nil:
			sh.note(fmt.Sprintf("the card of job %d has no %s button any more (%s)", id, label, card.status()))
		default:
			if other := sh.cardElsewhere(id, channel); other != "" {
				sh.note(fmt.Sprintf("the card of job %d is in #%s; go there with :in %s", id, channelLabel(other), other))
			} else {
				sh.note(fmt.Sprintf("there is no card of job %d in #%s", id, channelLabel(channel)))
			}
		}
		return false
	}
	if !sh.press(ctx, user, channel, found.TS, action) {
		return false
	}
	jobID := card.jobID
	if action == render.ActionStop {
		sh.note(fmt.Sprintf("clicked Stop on the card of job %d and confirmed", jobID))
	} else {
		sh.note(fmt.Sprintf("clicked %s on the card of job %d", label, jobID))
	}
	return true
}

// buttonLabels are the job card's buttons the shell can click, by action id.
var buttonLabels = map[string]string{
	render.ActionStop: "Stop", render.ActionRerun: "Re-run", render.ActionLog: "Show log", render.ActionEdit: "Edit & re-run",
}

// shellVerbs are the shell commands that click them.
var shellVerbs = map[string]string{
	render.ActionStop: ":stop", render.ActionRerun: ":rerun", render.ActionLog: ":log", render.ActionEdit: ":edit",
}

// press clicks a button of a message, as user.
func (sh *chat) press(ctx context.Context, user, channel, ts, action string) bool {
	return sh.send(ctx, func() error {
		_, err := sh.fake.SendBlockAction(ctx, slacktest.BlockAction{
			UserID: user, ChannelID: channel, MessageTS: ts, ActionID: action,
		})
		return err
	})
}

// answerPrompt clicks Start it or Cancel on the latest confirmation the
// bot asked of the current user in the current channel.
func (sh *chat) answerPrompt(ctx context.Context, action string) {
	user, channel := sh.where()
	hint := map[string]string{render.ActionConfirm: ":confirm", render.ActionCancel: ":cancel"}[action]
	msgs := sh.fake.Snapshot().Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Channel != channel || m.Deleted || (m.Ephemeral && m.User != user) {
			continue
		}
		if !slices.Contains(sh.text.message(m.Text, m.Blocks).actions, hint) {
			continue
		}
		if !sh.press(ctx, user, channel, m.TS, action) {
			return
		}
		sh.note("clicked " + map[string]string{render.ActionConfirm: "Start it", render.ActionCancel: "Cancel"}[action] + " on the confirmation")
		return
	}
	sh.note(fmt.Sprintf("nothing in #%s is waiting for your confirmation", channelLabel(channel)))
}

func verb(action string) string { return shellVerbs[action] }

// article is "a" or "an", for a button's label.
func article(label string) string {
	if strings.ContainsAny(label[:1], "AEIOU") {
		return "an"
	}
	return "a"
}

// findCard finds the latest card in channel for job id (any job when id
// is 0) and returns it rendered, and the message itself when it has the
// button for action.
func (sh *chat) findCard(snap *slacktest.Snapshot, channel, action string, id int64) (*rendered, *slacktest.Message) {
	want := verb(action) + " "
	msgs := snap.Messages()
	var card *rendered
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Channel != channel || m.ThreadTS != "" || m.Ephemeral || m.Deleted {
			continue
		}
		r := sh.text.message(m.Text, m.Blocks)
		if r.jobID == 0 || (id != 0 && r.jobID != id) {
			continue
		}
		if slices.ContainsFunc(r.actions, func(a string) bool { return strings.HasPrefix(a, want) }) {
			return &r, &m
		}
		if id != 0 && card == nil {
			card = &r
		}
	}
	return card, nil
}

// cardElsewhere returns the channel of a card of job id outside channel.
func (sh *chat) cardElsewhere(id int64, channel string) string {
	for _, m := range sh.fake.Snapshot().Messages() {
		if m.Channel != channel && m.ThreadTS == "" && !m.Ephemeral && !m.Deleted &&
			sh.text.message(m.Text, m.Blocks).jobID == id {
			return m.Channel
		}
	}
	return ""
}

func (sh *chat) as(arg string) {
	if arg == "" {
		u, _ := sh.where()
		sh.note(fmt.Sprintf("you are @%s (%s)", userLabel(u), u))
		return
	}
	id := strings.TrimPrefix(arg, "@")
	switch {
	case strings.EqualFold(arg, selfUserName) || strings.EqualFold(arg, "me"):
		id = selfUser
	case !userIDShape.MatchString(id):
		sh.note(fmt.Sprintf("%s is not a Slack user id; they look like U012AB3CD (U or W, then capital letters and digits)", argShown(arg)))
		return
	}
	sh.mu.Lock()
	sh.user = id
	sh.mu.Unlock()
	sh.note(fmt.Sprintf("you are now @%s (%s)", userLabel(id), id))
}

func (sh *chat) in(arg string) {
	if arg == "" {
		_, c := sh.where()
		sh.note(fmt.Sprintf("you are in #%s (%s)", channelLabel(c), c))
		return
	}
	id := strings.TrimPrefix(arg, "#")
	switch {
	case strings.EqualFold(strings.TrimPrefix(arg, "#"), homeChannelName):
		id = homeChannel
	case !channelIDShape.MatchString(id):
		sh.note(fmt.Sprintf("%s is not a Slack channel id; they look like C012AB3CD (C, G or D, then capital letters and digits)", argShown(arg)))
		return
	}
	sh.mu.Lock()
	sh.channel = id
	sh.mu.Unlock()
	sh.note(fmt.Sprintf("you are now in #%s (%s)", channelLabel(id), id))
}

// jobs lists the job cards of the current channel, oldest first.
func (sh *chat) jobs() {
	_, channel := sh.where()
	var out []string
	for _, m := range sh.fake.Snapshot().Messages() {
		if m.Channel != channel || m.ThreadTS != "" || m.Ephemeral || m.Deleted {
			continue
		}
		r := sh.text.message(m.Text, m.Blocks)
		if r.jobID == 0 {
			continue
		}
		line := fmt.Sprintf("  job %d: %s", r.jobID, editLine(r))
		if len(r.actions) > 0 {
			line += " · " + strings.Join(r.actions, " · ")
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		sh.note(fmt.Sprintf("no job cards in #%s yet", channelLabel(channel)))
		return
	}
	sh.con.println(fmt.Sprintf("[shell] job cards in #%s:\n%s", channelLabel(channel), strings.Join(out, "\n")))
}

package shell

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/bot/slacktest"
)

// userLabel is how the shell shows a user: "you" for the shell's user, else
// the id in lower case, as the fake Slack names users it was not told about.
func userLabel(id string) string {
	if id == selfUser {
		return selfUserName
	}
	return strings.ToLower(id)
}

// channelLabel is how the shell shows a channel.
func channelLabel(id string) string {
	if id == homeChannel {
		return homeChannelName
	}
	return strings.ToLower(id)
}

// chat is the session: who types where, and what was sent to the bot.
type chat struct {
	fake *slacktest.Server
	con  *console
	text renderer
	// formWait bounds the waits for the bot in a form; 0 means the
	// defaults (formWaits).
	formWait time.Duration
	// secrets names the variables whose values are not echoed: the bot's
	// own rule (SECRET_PATTERN and the policy file's lists), the same
	// object app.Serve uses.
	secrets *policy.Secrets

	mu            sync.Mutex
	user, channel string
	// asking is the prompt of the form's question being asked, "" when
	// no form is being filled in.
	asking string

	// sent counts commands and clicks sent to the bot; handled those the
	// bot finished (its command hook), so end of input can wait for them.
	sent, handled atomic.Int64
	// ended holds the jobs whose final reply the bot has dealt with and
	// recorded so (posted, sent as a direct message, or left out by the
	// channel's notify settings: its delivery hook): leaving earlier would
	// cut a delivery short and leave it to be retried.
	ended map[int64]bool
}

func (sh *chat) replied(id int64) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.ended == nil {
		sh.ended = map[int64]bool{}
	}
	sh.ended[id] = true
}

func (sh *chat) where() (user, channel string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.user, sh.channel
}

func (sh *chat) prompt() string {
	sh.mu.Lock()
	asking := sh.asking
	sh.mu.Unlock()
	if asking != "" {
		return asking
	}
	u, c := sh.where()
	return userLabel(u) + "@#" + channelLabel(c) + "> "
}

func (sh *chat) banner(set setup) string {
	xp := "Xplenty: the in-process sandbox (jobs end within about 20 s; some fail, as real ones do)."
	if !set.sandbox {
		xp = fmt.Sprintf("Xplenty: the REAL API at %s, account %s – jobs you start really run.", set.cfg.XplentyURL, set.cfg.XplentyAccountID)
	}
	store := "Store: embedded Redis (miniredis; forgotten on exit)."
	if !set.embedded {
		store = fmt.Sprintf("Store: Redis at %s (keys under %s).", set.cfg.Redis.Where(), set.cfg.RedisPrefix)
	}
	return "runjob shell – the real bot on a pretend Slack. " + xp + " " + store + "\n" +
		"You are @you (" + selfUser + ") in #" + homeChannelName + " (" + homeChannel + "). " +
		"Type slash commands as in Slack, :help for the shell's own (:rerun ID, :stop ID, :log ID, :form, :edit ID, :as USER, :in CHANNEL, :quit). Try:\n" +
		"  /runjob cluster=52 package=434 DATE=2026-11-01\n"
}

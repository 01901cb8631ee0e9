package shell

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runjob/runjob/bot/slacktest"
)

// drain waits, at end of input, until the bot has handled every command
// sent and delivered the final reply of every job whose card it posted, or
// until limit.
func (sh *chat) drain(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	announced := false
	for {
		snap := sh.fake.Snapshot()
		running, starting := sh.unfinished(snap), countStarting(snap)
		if len(running) == 0 && starting == 0 && sh.sent.Load() <= sh.handled.Load() {
			return
		}
		if !announced && (len(running) > 0 || starting > 0) {
			announced = true
			what := "the job being started"
			if len(running) > 0 {
				what = jobList(running)
			}
			sh.note(fmt.Sprintf("end of input: waiting up to %s for %s to end", limit.Round(time.Second), what))
		}
		left := time.Until(deadline)
		if left <= 0 {
			if len(running) > 0 {
				sh.note(fmt.Sprintf("leaving while %s still running", jobList(running)))
			}
			return
		}
		// The bot's hooks do not wake the fake Slack: look again at least
		// every 100 ms.
		wctx, cancel := context.WithTimeout(ctx, min(100*time.Millisecond, left))
		_ = sh.fake.Wait(wctx, func(s *slacktest.Snapshot) bool {
			return len(sh.unfinished(s)) < len(running) || countStarting(s) < starting
		})
		cancel()
		if ctx.Err() != nil {
			return
		}
	}
}

func jobList(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	if len(ids) == 1 {
		return "job " + s[0]
	}
	return "jobs " + strings.Join(s, ", ")
}

// countStarting counts the cards still saying "starting…": their job's id
// reaches the card through the bot's card edits, which may lag the command
// that started it, and until then the job is not in unfinished's list.
func countStarting(snap *slacktest.Snapshot) int {
	n := 0
	for _, m := range snap.Messages() {
		if !m.Ephemeral && !m.Deleted && m.ThreadTS == "" && strings.HasSuffix(m.Text, ": starting…") {
			n++
		}
	}
	return n
}

// unfinished lists the jobs that have a card but whose final reply has not
// been delivered yet.
func (sh *chat) unfinished(snap *slacktest.Snapshot) []int64 {
	var ids []int64
	for _, m := range snap.Messages() {
		if m.Ephemeral || m.Deleted || m.ThreadTS != "" {
			continue
		}
		if r := sh.text.message(m.Text, m.Blocks); r.jobID != 0 {
			ids = append(ids, r.jobID)
		}
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ids = slices.DeleteFunc(ids, func(id int64) bool { return sh.ended[id] })
	slices.Sort(ids)
	return ids
}

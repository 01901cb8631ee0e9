package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/xplenty"
)

func TestHomeViewStaysWithinSlacksLimits(t *testing.T) {
	var mine, running []job.Record
	for i := range 12 {
		r := freshRecord()
		r.JobID = int64(2000 + i)
		r.Status = xplenty.StatusCompleted
		mine = append(mine, r)
	}
	for i := range 40 {
		r := freshRecord()
		r.JobID = int64(3000 + i)
		r.Channel = "C0OPS"
		r.Run = named(r.Run, hostileName, longName)
		running = append(running, r)
	}
	v := HomeView(Home{Mine: mine, Running: running, MoreRunning: 5, Now: time.Unix(1_800_000_000, 0)})
	if n := len(v.Blocks.BlockSet); n > 100 {
		t.Fatalf("%d blocks, Slack takes 100", n)
	}
	// A message takes 50 blocks, a view 100: the blocks are checked as two
	// messages, and their ids for repeats across them.
	checkBlockKit(t, Message{Text: "home", Blocks: v.Blocks.BlockSet[:50]})
	checkBlockKit(t, Message{Text: "home", Blocks: v.Blocks.BlockSet[50:]})
	seen := map[string]bool{}
	for _, b := range v.Blocks.BlockSet {
		id := b.ID()
		if seen[id] {
			t.Errorf("block id %q repeated", id)
		}
		seen[id] = true
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Count(s, `"block_id":"home_mine_actions_`) != MaxHomeJobs || strings.Count(s, `"block_id":"home_running_actions_`) != MaxHomeRunning {
		t.Errorf("the tab does not show %d of mine and %d running", MaxHomeJobs, MaxHomeRunning)
	}
	if !strings.Contains(s, "and 15 more") {
		t.Errorf("the tab does not count the running jobs left out")
	}
	if !strings.Contains(s, `\u003c#C0OPS\u003e`) || strings.Contains(s, "<!channel>") {
		t.Errorf("channel or names not as they should be")
	}
	for _, m := range []string{ActionStop, ActionRerun} {
		if !strings.Contains(s, m) {
			t.Errorf("no %s button", m)
		}
	}
}

func TestHomeViewEmptyAndOddChannels(t *testing.T) {
	r := freshRecord()
	r.Channel = "<!here>"
	v := HomeView(Home{Mine: []job.Record{r}, Now: time.Unix(1_800_000_000, 0)})
	b, _ := json.Marshal(v)
	s := string(b)
	if strings.Contains(s, "here") || !strings.Contains(s, "Nothing is running in your channels") {
		t.Errorf("home %s", s)
	}
	v = HomeView(Home{Now: time.Unix(1_800_000_000, 0)})
	b, _ = json.Marshal(v)
	if !strings.Contains(string(b), "You have not started a job yet") {
		t.Errorf("empty home %s", b)
	}
}

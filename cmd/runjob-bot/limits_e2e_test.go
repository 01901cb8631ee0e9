package main

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/runjob/runjob/xplenty"
	"github.com/runjob/runjob/xplenty/xplentytest"
)

// Slack counts its text limits in UTF-16 code units, so 3,000 emoji are
// 6,000 of them: twice a section's limit. The failed job's card edit and its
// thread reply must still be accepted, with the error text shortened.
func TestE2EErrorTextOfEmojiIsShortenedNotRejected(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434")
	c := e.waitCard(1001, "idle")
	errText := strings.Repeat("😀", 3000)
	if err := e.xp.SetErrors(1001, errText); err != nil {
		t.Fatal(err)
	}
	e.setStatus(1001, xplenty.StatusFailed)
	e.waitCard(1001, "failed")
	r := e.waitReplies(c, 1)[0]
	if !strings.Contains(r.Text, "failed") || !strings.Contains(blocks(r), "😀😀😀") {
		t.Errorf("the reply lacks the status or the error text: %s / %s", r.Text, r.Blocks)
	}
	if strings.Contains(blocks(r), errText) || !strings.Contains(blocks(r), "…") {
		t.Errorf("the error text was not shortened with an ellipsis")
	}
	for _, call := range e.slack.Calls("") {
		if call.Method != "chat.update" && call.Method != "chat.postMessage" {
			continue
		}
		if res := call.Error; res != "" {
			t.Errorf("Slack refused a %s: %s", call.Method, res)
		}
	}
	var longest int
	for _, m := range e.slack.Messages() {
		longest = max(longest, len(utf16.Encode([]rune(m.Text))))
	}
	if longest > 40000 {
		t.Errorf("a message text is %d UTF-16 units long", longest)
	}
}

package slacktest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func cardBlocks(jobID string) []slack.Block {
	return []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Job *"+jobID+"* is running", false, false), nil, nil),
		slack.NewActionBlock("",
			slack.NewButtonBlockElement("runjob_rerun", jobID, slack.NewTextBlockObject(slack.PlainTextType, "Re-run", false, false)),
			slack.NewButtonBlockElement("runjob_stop", jobID, slack.NewTextBlockObject(slack.PlainTextType, "Stop", false, false)).
				WithStyle(slack.StyleDanger),
		),
	}
}

func TestPostUpdateAndRepliesWithMetadata(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	api := newAPI(t, fake, fake.BotToken())

	channel, cardTS, err := api.PostMessageContext(ctx, "C100",
		slack.MsgOptionText("Job 1001 running", false), slack.MsgOptionBlocks(cardBlocks("1001")...))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	if channel != "C100" || cardTS != "1700000000.000100" {
		t.Errorf("PostMessage = %q, %q; want C100, 1700000000.000100", channel, cardTS)
	}

	meta := slack.SlackMetadata{EventType: "runjob_transition", EventPayload: map[string]any{"job_id": "1001", "status": "completed"}}
	_, replyTS, err := api.PostMessageContext(ctx, "C100", slack.MsgOptionTS(cardTS),
		slack.MsgOptionText("Job 1001 completed", false), slack.MsgOptionMetadata(meta))
	if err != nil {
		t.Fatalf("PostMessage reply: %v", err)
	}
	if replyTS <= cardTS {
		t.Errorf("reply ts %q is not after card ts %q", replyTS, cardTS)
	}

	_, _, text, err := api.UpdateMessageContext(ctx, "C100", cardTS,
		slack.MsgOptionText("Job 1001 completed", false), slack.MsgOptionBlocks(cardBlocks("1001")...))
	if err != nil {
		t.Fatalf("UpdateMessage: %v", err)
	}
	if text != "Job 1001 completed" {
		t.Errorf("UpdateMessage text = %q", text)
	}

	msgs, hasMore, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
		ChannelID: "C100", Timestamp: cardTS, IncludeAllMetadata: true,
	})
	if err != nil {
		t.Fatalf("GetConversationReplies: %v", err)
	}
	if len(msgs) != 2 || hasMore {
		t.Fatalf("got %d messages (has_more %v), want parent and one reply", len(msgs), hasMore)
	}
	parent, reply := msgs[0], msgs[1]
	if parent.Timestamp != cardTS || parent.ThreadTimestamp != cardTS || parent.ReplyCount != 1 {
		t.Errorf("parent ts=%q thread_ts=%q reply_count=%d", parent.Timestamp, parent.ThreadTimestamp, parent.ReplyCount)
	}
	if parent.Text != "Job 1001 completed" || parent.Edited == nil || len(parent.Blocks.BlockSet) != 2 {
		t.Errorf("parent after update: text %q, edited %v, %d blocks", parent.Text, parent.Edited, len(parent.Blocks.BlockSet))
	}
	if parent.BotID != BotID || parent.User != BotUserID {
		t.Errorf("parent bot_id=%q user=%q", parent.BotID, parent.User)
	}
	if reply.Timestamp != replyTS || reply.ThreadTimestamp != cardTS || reply.Text != "Job 1001 completed" {
		t.Errorf("reply = ts %q thread_ts %q text %q", reply.Timestamp, reply.ThreadTimestamp, reply.Text)
	}
	if reply.Metadata.EventType != "runjob_transition" || reply.Metadata.EventPayload["job_id"] != "1001" {
		t.Errorf("reply metadata = %+v", reply.Metadata)
	}

	// Without include_all_metadata Slack leaves metadata out.
	msgs, _, _, err = api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C100", Timestamp: replyTS})
	if err != nil {
		t.Fatalf("GetConversationReplies without metadata: %v", err)
	}
	if len(msgs) != 2 || msgs[1].Metadata.EventType != "" {
		t.Errorf("without include_all_metadata: %d messages, reply metadata %+v", len(msgs), msgs[len(msgs)-1].Metadata)
	}

	stored, ok := fake.Message("C100", cardTS)
	if !ok {
		t.Fatalf("card not stored")
	}
	if stored.Updates != 1 || len(stored.History) != 2 || stored.History[0].Text != "Job 1001 running" || stored.History[1].Via != ViaUpdate {
		t.Errorf("card: updates %d, history %+v", stored.Updates, stored.History)
	}
	replies := fake.ThreadReplies("C100", cardTS)
	if len(replies) != 1 || replies[0].Metadata == nil || replies[0].Metadata.EventPayload["status"] != "completed" {
		t.Errorf("ThreadReplies = %+v", replies)
	}
	calls := fake.Calls("chat.postMessage")
	if len(calls) != 2 || calls[1].Params.Get("thread_ts") != cardTS || calls[0].Params.Has("token") {
		t.Errorf("chat.postMessage calls = %+v", calls)
	}
}

func TestRepliesPagination(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	api := newAPI(t, fake, fake.BotToken())
	_, parent, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("card", false))
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("reply", false), slack.MsgOptionTS(parent)); err != nil {
			t.Fatal(err)
		}
	}
	var all []slack.Message
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatalf("pagination does not end")
		}
		msgs, hasMore, next, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: "C1", Timestamp: parent, Limit: 2, Cursor: cursor,
		})
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		all = append(all, msgs...)
		if !hasMore {
			break
		}
		cursor = next
	}
	if len(all) != 5 || all[0].Timestamp != parent {
		t.Errorf("got %d messages across pages, first %q", len(all), all[0].Timestamp)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Timestamp <= all[i-1].Timestamp {
			t.Errorf("messages out of order: %q then %q", all[i-1].Timestamp, all[i].Timestamp)
		}
	}
}

func TestPostEphemeral(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	api := newAPI(t, fake, fake.BotToken())
	ts, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("Unknown token `pkg=x`", false))
	if err != nil {
		t.Fatalf("PostEphemeral: %v", err)
	}
	got := fake.Ephemerals("U1")
	if len(got) != 1 || got[0].TS != ts || got[0].Channel != "C1" || !got[0].Ephemeral || got[0].Via != ViaPostEphemeral {
		t.Errorf("Ephemerals(U1) = %+v", got)
	}
	if others := fake.Ephemerals("U2"); len(others) != 0 {
		t.Errorf("Ephemerals(U2) = %+v", others)
	}
	// An ephemeral is not a channel message: it cannot be updated.
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slack.MsgOptionText("x", false)); !isSlackError(err, "message_not_found") {
		t.Errorf("update of ephemeral: %v, want message_not_found", err)
	}
}

func isSlackError(err error, code string) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && se.Err == code
}

func TestErrors(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	api := newAPI(t, fake, fake.BotToken())

	if _, _, err := newAPI(t, fake, "xoxb-wrong").PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false)); !isSlackError(err, "invalid_auth") {
		t.Errorf("wrong token: %v, want invalid_auth", err)
	}
	if _, err := newAPI(t, fake, "xoxb-wrong").AuthTestContext(ctx); !isSlackError(err, "invalid_auth") {
		t.Errorf("auth.test with wrong token: %v, want invalid_auth", err)
	}
	if _, _, err := newAPI(t, fake, fake.AppToken()).PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false)); !isSlackError(err, "not_allowed_token_type") {
		t.Errorf("app token on chat.postMessage: %v, want not_allowed_token_type", err)
	}
	if _, _, err := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()), slack.OptionAppLevelToken("xapp-wrong")).
		StartSocketModeContext(ctx); !isSlackError(err, "invalid_auth") {
		t.Errorf("apps.connections.open with wrong app token: %v, want invalid_auth", err)
	}

	fake.SetNotInChannel("C9")
	if _, _, err := api.PostMessageContext(ctx, "C9", slack.MsgOptionText("x", false)); !isSlackError(err, "not_in_channel") {
		t.Errorf("post to C9: %v, want not_in_channel", err)
	}
	if _, err := api.PostEphemeralContext(ctx, "C9", "U1", slack.MsgOptionText("x", false)); !isSlackError(err, "not_in_channel") {
		t.Errorf("ephemeral to C9: %v, want not_in_channel", err)
	}
	fake.SetInChannel("C9")
	_, ts9, err := api.PostMessageContext(ctx, "C9", slack.MsgOptionText("x", false))
	if err != nil {
		t.Errorf("post to C9 after SetInChannel: %v", err)
	}

	fake.RateLimitNext("chat.update", 1, 1500*time.Millisecond)
	_, _, _, err = api.UpdateMessageContext(ctx, "C9", ts9, slack.MsgOptionText("y", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Errorf("rate limited update: %v, want *slack.RateLimitedError with RetryAfter 2s", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C9", ts9, slack.MsgOptionText("y", false)); err != nil {
		t.Errorf("update after the rate limit: %v", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C9", "1.000000", slack.MsgOptionText("y", false)); !isSlackError(err, "message_not_found") {
		t.Errorf("update of unknown ts: %v, want message_not_found", err)
	}

	fake.FailNext("chat.postMessage", 2, "fatal_error")
	for i := range 2 {
		if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false)); !isSlackError(err, "fatal_error") {
			t.Errorf("failure %d: %v, want fatal_error", i, err)
		}
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false)); err != nil {
		t.Errorf("post after FailNext ran out: %v", err)
	}

	if _, _, err := api.PostMessageContext(ctx, "C1"); !isSlackError(err, "no_text") {
		t.Errorf("post without text: %v, want no_text", err)
	}
	long := strings.Repeat("x", maxSectionText+1)
	_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false), slack.MsgOptionBlocks(
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, long, false, false), nil, nil)))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "invalid_blocks" || len(se.ResponseMetadata.Messages) != 1 ||
		!strings.Contains(se.ResponseMetadata.Messages[0], "/blocks/0/text/text") {
		t.Errorf("section over 3000 characters: %v (%+v), want invalid_blocks naming /blocks/0/text/text", err, se.ResponseMetadata)
	}

	calls := fake.Calls("chat.update")
	if len(calls) != 3 || calls[0].Status != http.StatusTooManyRequests || calls[0].Error != "ratelimited" || calls[1].Error != "" {
		t.Errorf("chat.update calls = %+v", calls)
	}
}

func TestOtherMethods(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	api := newAPI(t, fake, fake.BotToken())

	auth, err := api.AuthTestContext(ctx)
	if err != nil || auth.UserID != BotUserID || auth.BotID != BotID || auth.TeamID != TeamID {
		t.Errorf("AuthTest = %+v, %v", auth, err)
	}

	fake.SetUserGroup("S1", []string{"U1", "U2"})
	users, err := api.GetUserGroupMembersContext(ctx, "S1")
	if err != nil || strings.Join(users, ",") != "U1,U2" {
		t.Errorf("GetUserGroupMembers(S1) = %v, %v", users, err)
	}
	if _, err := api.GetUserGroupMembersContext(ctx, "S404"); !isSlackError(err, "no_such_subteam") {
		t.Errorf("unknown group: %v, want no_such_subteam", err)
	}

	fake.SetUserName("U1", "alice")
	user, err := api.GetUserInfoContext(ctx, "U1")
	if err != nil || user.ID != "U1" || user.Name != "alice" || user.TeamID != TeamID {
		t.Errorf("GetUserInfo(U1) = %+v, %v", user, err)
	}

	// Methods the fake does not know answer like Slack does.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fake.APIURL()+"chat.frobnicate", nil)
	req.Header.Set("Authorization", "Bearer "+fake.BotToken())
	var body struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	postRaw(t, req, &body)
	if body.OK || body.Error != "unknown_method" {
		t.Errorf("unknown method answered %+v", body)
	}

	// JSON bodies work as well as forms; blocks arrive as JSON, not a string.
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, fake.APIURL()+"chat.postMessage",
		strings.NewReader(`{"channel":"C7","text":"hi","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}],"unfurl_links":false}`))
	req.Header.Set("Authorization", "Bearer "+fake.BotToken())
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	var posted struct {
		OK      bool            `json:"ok"`
		TS      string          `json:"ts"`
		Message json.RawMessage `json:"message"`
	}
	postRaw(t, req, &posted)
	m, ok := fake.Message("C7", posted.TS)
	if !posted.OK || !ok || m.Text != "hi" || !strings.Contains(string(m.Blocks), `"block_id"`) {
		t.Errorf("JSON post: %+v, stored %+v", posted, m)
	}
	if call := fake.Calls("chat.postMessage"); len(call) != 1 || call[0].Params.Get("unfurl_links") != "false" {
		t.Errorf("JSON post recorded as %+v", call)
	}
}

func postRaw(t *testing.T, req *http.Request, into any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("%s answered %q: %v", req.URL, b, err)
	}
}

func TestWait(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t, Options{})
	api := newAPI(t, fake, fake.BotToken())
	fake.SetLatency("chat.postMessage", 20*time.Millisecond)

	errc := make(chan error, 1)
	go func() {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("later", false))
		errc <- err
	}()
	err := fake.Wait(ctx, func(s *Snapshot) bool {
		for _, m := range s.Messages() {
			if m.Text == "later" {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if err := <-errc; err != nil {
		t.Errorf("PostMessage: %v", err)
	}
}

func TestPostMessageTextLimitCountsUTF16Units(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()))
	ctx := context.Background()
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText(strings.Repeat("😀", maxMessageText/2), false)); err != nil {
		t.Errorf("text of %d UTF-16 units refused: %v", maxMessageText, err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText(strings.Repeat("😀", maxMessageText/2)+"x", false)); !isSlackError(err, "msg_too_long") {
		t.Errorf("text of %d UTF-16 units: %v, want msg_too_long", maxMessageText+1, err)
	}
}

// An archived channel refuses posts and edits with is_archived and keeps
// its history readable; a channel the bot left refuses all of it.
func TestArchivedAndLeftChannels(t *testing.T) {
	fake := New(Options{})
	defer fake.Close()
	api := newAPI(t, fake, fake.BotToken())
	ctx := context.Background()
	_, card, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("card", false))
	if err != nil {
		t.Fatal(err)
	}
	fake.SetArchived("C1")
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("reply", false), slack.MsgOptionTS(card)); !isSlackError(err, "is_archived") {
		t.Errorf("reply in an archived channel: %v, want is_archived", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", card, slack.MsgOptionText("edited", false)); !isSlackError(err, "is_archived") {
		t.Errorf("edit in an archived channel: %v, want is_archived", err)
	}
	if _, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("x", false)); !isSlackError(err, "is_archived") {
		t.Errorf("ephemeral in an archived channel: %v, want is_archived", err)
	}
	if msgs, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: card}); err != nil || len(msgs) != 1 {
		t.Errorf("replies of an archived channel = %d, %v; want the card", len(msgs), err)
	}
	fake.SetNotInChannel("C2")
	if _, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C2", Timestamp: card}); !isSlackError(err, "not_in_channel") {
		t.Errorf("replies of a channel the bot is not in: %v, want not_in_channel", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C2", card, slack.MsgOptionText("edited", false)); !isSlackError(err, "not_in_channel") {
		t.Errorf("edit in a channel the bot is not in: %v, want not_in_channel", err)
	}
}

// chat.postMessage to a user id posts in the bot's direct messages with
// them, and answers with that conversation's id.
func TestDirectMessages(t *testing.T) {
	fake := New(Options{})
	defer fake.Close()
	api := newAPI(t, fake, fake.BotToken())
	ctx := context.Background()
	channel, ts, err := api.PostMessageContext(ctx, "U1", slack.MsgOptionText("hello", false))
	if err != nil {
		t.Fatal(err)
	}
	if channel != DMChannel("U1") || channel[0] != 'D' {
		t.Errorf("direct message answered channel %q, want %q", channel, DMChannel("U1"))
	}
	dms := fake.DirectMessages("U1")
	if len(dms) != 1 || dms[0].TS != ts || dms[0].Text != "hello" || len(fake.DirectMessages("U2")) != 0 {
		t.Errorf("direct messages = %+v", dms)
	}
	if _, _, err := api.PostMessageContext(ctx, BotUserID, slack.MsgOptionText("x", false)); !isSlackError(err, "cannot_dm_bot") {
		t.Errorf("direct message to the bot: %v, want cannot_dm_bot", err)
	}
}

package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// The Home tab's side of the fake: who is in which channel (for
// users.conversations), the app_home_opened event, and clicks on the
// buttons of a published home tab.

// TypeEventsAPI is the envelope type of Events API events over Socket Mode.
const TypeEventsAPI = "events_api"

// SetMembers makes users members of channel (besides whoever the fake
// already counts: a user who sent a slash command in a channel is in it).
func (s *Server) SetMembers(channel string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range users {
		s.joinLocked(channel, u)
	}
}

// SetNotMember takes user out of channel.
func (s *Server) SetNotMember(channel, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.members[channel], user)
}

func (s *Server) joinLocked(channel, user string) {
	if s.members[channel] == nil {
		s.members[channel] = map[string]bool{}
	}
	s.members[channel][user] = true
}

// usersConversationsLocked answers users.conversations for the user
// parameter: the channels they are in, sorted, in pages of limit (default
// 100) with Slack's cursor.
func (s *Server) usersConversationsLocked(p url.Values) apiResult {
	user := p.Get("user")
	if user == "" {
		return failResult("user_not_found") // the bot's own: the fake has no list of those
	}
	var ids []string
	for ch, users := range s.members {
		if users[user] {
			ids = append(ids, ch)
		}
	}
	slices.Sort(ids)
	limit, err := strconv.Atoi(p.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 100
	}
	start := 0
	if c := p.Get("cursor"); c != "" {
		if start, err = strconv.Atoi(c); err != nil || start < 0 || start > len(ids) {
			return failResult("invalid_cursor")
		}
	}
	end := min(start+limit, len(ids))
	chans := make([]map[string]any, 0, end-start)
	for _, id := range ids[start:end] {
		chans = append(chans, map[string]any{"id": id, "name": id, "is_channel": true, "is_member": true})
	}
	next := ""
	if end < len(ids) {
		next = strconv.Itoa(end)
	}
	return okResult(map[string]any{"channels": chans, "response_metadata": map[string]any{"next_cursor": next}})
}

// SendAppHomeOpened sends the app_home_opened event of user opening the
// app's Home tab, as an events_api envelope, to the next connection. It
// returns the envelope id once the frame is written.
func (s *Server) SendAppHomeOpened(ctx context.Context, user string) (string, error) {
	s.mu.Lock()
	if err := s.sendableLocked(); err != nil {
		s.mu.Unlock()
		return "", err
	}
	event := map[string]any{"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home",
		"event_ts": s.nextTSLocked()}
	if v, ok := s.vs.homes[user]; ok {
		event["view"] = v.wire()
	}
	payload, _ := json.Marshal(map[string]any{
		"token": VerificationToken, "team_id": TeamID, "api_app_id": AppID, "event": event,
		"type": "event_callback", "event_id": "Ev" + randomID(10), "event_time": time.Now().Unix(),
	})
	env := s.newEnvelopeLocked(TypeEventsAPI, payload, false, nil)
	return s.sendLocked(ctx, env, false)
}

// SendHomeAction clicks, as user, the button with actionID and value on
// the home tab last published for them: block_actions from the view
// (container type view, no channel, no response_url), with a trigger_id.
// A user cannot click a button their home tab does not show.
func (s *Server) SendHomeAction(ctx context.Context, user, actionID, value string) (string, error) {
	s.mu.Lock()
	v, ok := s.vs.homes[user]
	if !ok {
		s.mu.Unlock()
		return "", fmt.Errorf("slacktest: %s has no home tab", user)
	}
	var found map[string]any
	for _, raw := range decodeBlockList(v.Blocks) {
		b := blockFrom(raw)
		for _, e := range b.Elements {
			if e.ActionID == actionID && e.Type == "button" && e.Value == value {
				found = map[string]any{"type": "button", "action_id": actionID, "block_id": b.BlockID, "value": value,
					"text": map[string]any{"type": "plain_text", "text": e.Text, "emoji": true}}
			}
		}
	}
	if found == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("slacktest: %s's home tab has no button %s with value %q", user, actionID, value)
	}
	return s.sendViewActionLocked(ctx, user, v, found)
}

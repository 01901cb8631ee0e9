package slacktest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// maxBodyBytes bounds request bodies; Slack's own limits are far lower.
const maxBodyBytes = 1 << 20

// tsEpoch is the seconds part of the first ts the fake hands out (Nov 2023).
const tsEpoch = 1700000000

// conversationsRepliesMaxLimit is Slack's documented maximum (and default) page
// size for conversations.replies.
const conversationsRepliesMaxLimit = 1000

// responseURLMaxUses is how often Slack lets an app use one response_url
// (https://docs.slack.dev/interactivity/handling-user-interaction#message_responses).
const responseURLMaxUses = 5

// apiResult is a Web API or response_url answer.
type apiResult struct {
	status     int
	retryAfter string
	body       any
	err        string // Slack error code, "" for ok
}

type errorBody struct {
	OK               bool           `json:"ok"`
	Error            string         `json:"error"`
	ResponseMetadata *errorMessages `json:"response_metadata,omitempty"`
}

type errorMessages struct {
	Messages []string `json:"messages"`
}

func okResult(fields map[string]any) apiResult {
	body := map[string]any{"ok": true}
	for k, v := range fields {
		body[k] = v
	}
	return apiResult{status: http.StatusOK, body: body}
}

// failResult is a Slack error: HTTP 200 with ok false, as the Web API answers.
func failResult(code string) apiResult {
	return apiResult{status: http.StatusOK, body: errorBody{Error: code}, err: code}
}

func blockFailResult(err error) apiResult {
	var be *blockError
	if !errors.As(err, &be) {
		return failResult("invalid_blocks")
	}
	res := failResult(be.code)
	if len(be.messages) > 0 {
		res.body = errorBody{Error: be.code, ResponseMetadata: &errorMessages{Messages: be.messages}}
	}
	return res
}

func rateLimitedResult(d time.Duration) apiResult {
	return apiResult{
		status:     http.StatusTooManyRequests,
		retryAfter: strconv.FormatInt(retryAfterSeconds(d), 10),
		body:       errorBody{Error: "ratelimited"},
		err:        "ratelimited",
	}
}

func writeResult(w http.ResponseWriter, res apiResult) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if res.retryAfter != "" {
		w.Header().Set("Retry-After", res.retryAfter)
	}
	w.WriteHeader(res.status)
	_ = json.NewEncoder(w).Encode(res.body)
}

// handleAPI serves /api/<method>.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	params, token, decodeErr := decodeRequest(r)

	s.mu.Lock()
	delay := s.latency[method]
	s.mu.Unlock()
	s.sleep(r, delay)
	s.waitHold(r, method)

	s.mu.Lock()
	var res apiResult
	if decodeErr != "" {
		res = failResult(decodeErr)
	} else {
		res = s.dispatchLocked(method, token, params, now)
	}
	call := Call{Method: method, Params: params, Time: now, Status: res.status, Error: res.err}
	if res.retryAfter != "" {
		secs, _ := strconv.ParseInt(res.retryAfter, 10, 64)
		call.RetryAfter = time.Duration(secs) * time.Second
	}
	s.calls = append(s.calls, call)
	s.notifyLocked()
	s.mu.Unlock()
	writeResult(w, res)
}

// decodeRequest reads the parameters of a Web API call from the query and a form or
// JSON body, and the token from the Authorization header or the token parameter
// (slack-go sends chat.* and most methods as forms with a token field). It returns
// a Slack error code when the body cannot be decoded.
func decodeRequest(r *http.Request) (params url.Values, token, errCode string) {
	params = url.Values{}
	for k, v := range r.URL.Query() {
		params[k] = v
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		return params, "", "invalid_form_data"
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var fromBody url.Values
	if ct == "application/json" {
		if fromBody, err = flattenJSON(body); err != nil {
			return params, "", "invalid_json"
		}
	} else if fromBody, err = url.ParseQuery(string(body)); err != nil {
		return params, "", "invalid_form_data"
	}
	for k, v := range fromBody {
		params[k] = v
	}
	token = params.Get("token")
	params.Del("token")
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = auth
	}
	return params, token, ""
}

// flattenJSON turns a JSON object into parameters: strings as they are, every other
// value (blocks, metadata, booleans) as its JSON text, like the form encoding.
func flattenJSON(body []byte) (url.Values, error) {
	v := url.Values{}
	if len(bytes.TrimSpace(body)) == 0 {
		return v, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	for k, raw := range m {
		var s string
		switch {
		case string(raw) == "null": // absent, as slack-go's omitted fields are
		case json.Unmarshal(raw, &s) == nil:
			v.Set(k, s)
		default:
			v.Set(k, string(raw))
		}
	}
	return v, nil
}

func truthy(s string) bool { return s == "1" || s == "true" }

// dispatchLocked answers a decoded Web API call. The caller holds s.mu.
func (s *Server) dispatchLocked(method, token string, p url.Values, now time.Time) apiResult {
	var handler func(url.Values) apiResult
	switch method {
	case "apps.connections.open":
		handler = s.connectionsOpenLocked
	case "auth.test":
		handler = s.authTestLocked
	case "chat.postMessage":
		handler = s.postMessageLocked
	case "chat.update":
		handler = s.updateLocked
	case "chat.delete":
		handler = s.deleteLocked
	case "chat.postEphemeral":
		handler = s.postEphemeralLocked
	case "conversations.replies":
		handler = s.repliesLocked
	case "usergroups.users.list":
		handler = s.userGroupUsersLocked
	case "users.info":
		handler = s.usersInfoLocked
	case "users.conversations":
		handler = s.usersConversationsLocked
	case "views.open":
		handler = func(p url.Values) apiResult { return s.viewsOpenLocked(p, now) }
	case "views.update":
		handler = func(p url.Values) apiResult { return s.viewsUpdateLocked(p, now) }
	case "views.publish":
		handler = func(p url.Values) apiResult { return s.viewsPublishLocked(p, now) }
	default:
		return failResult("unknown_method")
	}
	if code := s.authorize(method, token); code != "" {
		return failResult(code)
	}
	if wait := s.limitLocked(method, p, now); wait > 0 {
		return rateLimitedResult(wait)
	}
	if q := s.rateLimits[method]; len(q) > 0 {
		s.rateLimits[method] = q[1:]
		return rateLimitedResult(q[0])
	}
	if q := s.failures[method]; len(q) > 0 {
		s.failures[method] = q[1:]
		return failResult(q[0])
	}
	return handler(p)
}

// authorize checks the token the way Slack does: apps.connections.open wants the
// app-level token, everything else the bot token; the other kind of token is
// not_allowed_token_type, no token not_authed, anything else invalid_auth.
func (s *Server) authorize(method, token string) string {
	want, other := s.opts.BotToken, s.opts.AppToken
	if method == "apps.connections.open" {
		want, other = other, want
	}
	switch token {
	case want:
		return ""
	case "":
		return "not_authed"
	case other:
		return "not_allowed_token_type"
	default:
		return "invalid_auth"
	}
}

func (s *Server) connectionsOpenLocked(url.Values) apiResult {
	ticket := randomID(20)
	s.tickets[ticket] = true
	// Slack answers wss://wss-primary.slack.com/link/?ticket=…&app_id=…
	u := url.URL{
		Scheme:   "ws",
		Host:     s.http.Listener.Addr().String(),
		Path:     "/link/",
		RawQuery: url.Values{"ticket": {ticket}, "app_id": {AppID}}.Encode(),
	}
	return okResult(map[string]any{"url": u.String()})
}

func (s *Server) authTestLocked(url.Values) apiResult {
	return okResult(map[string]any{
		"url":                   "https://" + TeamDomain + ".slack.com/",
		"team":                  "Fake",
		"user":                  "runjob",
		"team_id":               TeamID,
		"user_id":               BotUserID,
		"bot_id":                BotID,
		"is_enterprise_install": false,
	})
}

// content is the message content of a chat.* call or a response_url post.
type content struct {
	text                string
	blocks, attachments json.RawMessage
	meta                *slack.SlackMetadata
	metaRaw             json.RawMessage
	// has* tell which fields were sent at all (chat.update changes only those).
	hasText, hasBlocks, hasAttach, hasMeta bool
	// visible is false when there is nothing to show (Slack's no_text).
	visible bool
}

func parseContent(p url.Values) (content, *apiResult) {
	var c content
	if p.Has("text") {
		c.hasText, c.text = true, p.Get("text")
		if textLen(c.text) > maxMessageText {
			res := failResult("msg_too_long")
			return c, &res
		}
	}
	if p.Has("blocks") {
		blocks, err := normalizeBlocks(p.Get("blocks"))
		if err != nil {
			res := blockFailResult(err)
			return c, &res
		}
		c.hasBlocks, c.blocks = true, blocks
	}
	if raw := p.Get("attachments"); raw != "" {
		var list []json.RawMessage
		if json.Unmarshal([]byte(raw), &list) != nil {
			res := failResult("invalid_attachments")
			return c, &res
		}
		c.hasAttach, c.attachments = true, json.RawMessage(raw)
	}
	if raw := p.Get("metadata"); raw != "" {
		var meta slack.SlackMetadata
		var payload struct {
			EventPayload json.RawMessage `json:"event_payload"`
		}
		if json.Unmarshal([]byte(raw), &meta) != nil || json.Unmarshal([]byte(raw), &payload) != nil {
			res := failResult("invalid_metadata_format")
			return c, &res
		}
		switch {
		case meta.EventType == "" && len(meta.EventPayload) == 0:
			// slack-go sends {"event_type":"","event_payload":null} in every
			// response_url post; Slack takes it as no metadata.
		case meta.EventType == "" || !bytes.HasPrefix(bytes.TrimSpace(payload.EventPayload), []byte("{")):
			res := failResult("invalid_metadata_format")
			return c, &res
		default:
			c.hasMeta, c.meta, c.metaRaw = true, &meta, json.RawMessage(raw)
		}
	}
	c.visible = c.text != "" || (c.hasBlocks && string(c.blocks) != "[]") ||
		(c.hasAttach && string(c.attachments) != "[]")
	return c, nil
}

func (s *Server) postMessageLocked(p url.Values) apiResult {
	channel := p.Get("channel")
	if channel == "" {
		return failResult("channel_not_found")
	}
	if isUserID(channel) {
		// A user id is the bot's direct messages with that user.
		if channel == BotUserID {
			return failResult("cannot_dm_bot")
		}
		channel = DMChannel(channel)
	}
	if code := s.refusesLocked(channel); code != "" {
		return failResult(code)
	}
	c, bad := parseContent(p)
	if bad != nil {
		return *bad
	}
	if !c.visible {
		return failResult("no_text")
	}
	threadTS := p.Get("thread_ts")
	if parent, ok := s.byKey[msgKey{channel, threadTS}]; ok && parent.ThreadTS != "" {
		threadTS = parent.ThreadTS // a reply to a reply lands in the parent's thread
	}
	m := s.newMessageLocked(channel, threadTS, c, ViaPostMessage)
	m.User = BotUserID
	m.ReplyBroadcast = threadTS != "" && truthy(p.Get("reply_broadcast"))
	s.storeLocked(m)
	return okResult(map[string]any{"channel": channel, "ts": m.TS, "message": s.wireLocked(m, true)})
}

func (s *Server) postEphemeralLocked(p url.Values) apiResult {
	channel, user := p.Get("channel"), p.Get("user")
	if channel == "" {
		return failResult("channel_not_found")
	}
	if code := s.refusesLocked(channel); code != "" {
		return failResult(code)
	}
	if user == "" {
		return failResult("user_not_in_channel")
	}
	c, bad := parseContent(p)
	if bad != nil {
		return *bad
	}
	if !c.visible {
		return failResult("no_text")
	}
	m := s.newMessageLocked(channel, p.Get("thread_ts"), c, ViaPostEphemeral)
	m.User, m.Ephemeral = user, true
	s.storeLocked(m)
	return okResult(map[string]any{"message_ts": m.TS})
}

func (s *Server) updateLocked(p url.Values) apiResult {
	channel, ts := p.Get("channel"), p.Get("ts")
	if channel == "" {
		return failResult("channel_not_found")
	}
	if code := s.refusesLocked(channel); code != "" {
		return failResult(code)
	}
	m, ok := s.byKey[msgKey{channel, ts}]
	if !ok || m.Ephemeral || m.Deleted {
		return failResult("message_not_found")
	}
	c, bad := parseContent(p)
	if bad != nil {
		return *bad
	}
	if !c.hasText && !c.hasBlocks && !c.hasAttach {
		return failResult("no_text")
	}
	s.editLocked(m, c, ViaUpdate)
	return okResult(map[string]any{"channel": channel, "ts": ts, "text": m.Text, "message": s.wireLocked(m, true)})
}

func (s *Server) deleteLocked(p url.Values) apiResult {
	channel, ts := p.Get("channel"), p.Get("ts")
	m, ok := s.byKey[msgKey{channel, ts}]
	if !ok || m.Ephemeral || m.Deleted {
		return failResult("message_not_found")
	}
	m.Deleted = true
	s.publishMessageLocked(m)
	return okResult(map[string]any{"channel": channel, "ts": ts})
}

func (s *Server) repliesLocked(p url.Values) apiResult {
	channel, ts := p.Get("channel"), p.Get("ts")
	if s.notInChannel[channel] {
		return failResult("not_in_channel")
	}
	m, ok := s.byKey[msgKey{channel, ts}]
	if !ok || m.Ephemeral {
		return failResult("thread_not_found")
	}
	parentKey := m.key()
	if m.ThreadTS != "" {
		parentKey = msgKey{channel, m.ThreadTS}
	}
	var thread []*message
	if parent, ok := s.byKey[parentKey]; ok && !parent.Deleted {
		thread = append(thread, parent)
	}
	for _, r := range s.replies[parentKey] {
		if !r.Deleted {
			thread = append(thread, r)
		}
	}
	limit := conversationsRepliesMaxLimit
	if l, err := strconv.Atoi(p.Get("limit")); err == nil && l > 0 && l < limit {
		limit = l
	}
	start := 0
	if cursor := p.Get("cursor"); cursor != "" {
		raw, err := base64.StdEncoding.DecodeString(cursor)
		from, ok := strings.CutPrefix(string(raw), "next_ts:")
		if err != nil || !ok {
			return failResult("invalid_cursor")
		}
		start = slices.IndexFunc(thread, func(m *message) bool { return m.TS >= from })
		if start < 0 {
			start = len(thread)
		}
	}
	end := min(start+limit, len(thread))
	withMeta := truthy(p.Get("include_all_metadata"))
	msgs := make([]wireMessage, 0, end-start)
	for _, m := range thread[start:end] {
		msgs = append(msgs, s.wireLocked(m, withMeta))
	}
	fields := map[string]any{"messages": msgs, "has_more": end < len(thread)}
	if end < len(thread) {
		cursor := base64.StdEncoding.EncodeToString([]byte("next_ts:" + thread[end].TS))
		fields["response_metadata"] = map[string]string{"next_cursor": cursor}
	}
	return okResult(fields)
}

func (s *Server) userGroupUsersLocked(p url.Values) apiResult {
	users, ok := s.groups[p.Get("usergroup")]
	if !ok {
		return failResult("no_such_subteam")
	}
	return okResult(map[string]any{"users": append([]string{}, users...)})
}

func (s *Server) usersInfoLocked(p url.Values) apiResult {
	id := p.Get("user")
	_, named := s.userNames[id]
	if !named && !strings.HasPrefix(id, "U") && !strings.HasPrefix(id, "W") {
		return failResult("user_not_found")
	}
	name := s.userNameLocked(id)
	return okResult(map[string]any{"user": map[string]any{
		"id":        id,
		"team_id":   TeamID,
		"name":      name,
		"deleted":   false,
		"real_name": name,
		"tz":        "Etc/UTC",
		"tz_label":  "Coordinated Universal Time",
		"tz_offset": 0,
		"profile":   map[string]any{"real_name": name, "display_name": name, "team": TeamID},
		"is_admin":  false,
		"is_owner":  false,
		"is_bot":    id == BotUserID,
		"updated":   tsEpoch,
	}})
}

// isUserID reports whether s has the shape of a user id (U… or W…).
func isUserID(s string) bool {
	if len(s) < 2 || s[0] != 'U' && s[0] != 'W' {
		return false
	}
	for _, c := range s[1:] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// newMessageLocked makes a message from content; the caller sets User and stores it.
func (s *Server) newMessageLocked(channel, threadTS string, c content, via string) *message {
	now := time.Now()
	m := &message{
		Message: Message{
			Channel:     channel,
			TS:          s.nextTSLocked(),
			ThreadTS:    threadTS,
			Text:        c.text,
			Blocks:      c.blocks,
			Attachments: c.attachments,
			Metadata:    c.meta,
			Via:         via,
			PostedAt:    now,
		},
		metaRaw: c.metaRaw,
	}
	m.History = []Version{{Text: m.Text, Blocks: m.Blocks, Metadata: m.Metadata, Via: via, At: now}}
	return m
}

func (s *Server) storeLocked(m *message) {
	m.idx = len(s.messages)
	s.messages = append(s.messages, m)
	s.publishMessageLocked(m)
	s.byKey[m.key()] = m
	if m.ThreadTS != "" && !m.Ephemeral {
		pk := msgKey{m.Channel, m.ThreadTS}
		s.replies[pk] = append(s.replies[pk], m)
	}
}

// editLocked applies the fields present in c to m and records the new version.
func (s *Server) editLocked(m *message, c content, via string) {
	if c.hasText {
		m.Text = c.text
	}
	if c.hasBlocks {
		m.Blocks = c.blocks
	}
	if c.hasAttach {
		m.Attachments = c.attachments
	}
	if c.hasMeta {
		m.Metadata, m.metaRaw = c.meta, c.metaRaw
	}
	m.Updates++
	m.editedTS = s.nextTSLocked()
	m.History = append(m.History, Version{Text: m.Text, Blocks: m.Blocks, Metadata: m.Metadata, Via: via, At: time.Now()})
	s.publishMessageLocked(m)
}

// wireMessage is a message object as the Web API and payloads carry it.
type wireMessage struct {
	BotID           string          `json:"bot_id,omitempty"`
	Type            string          `json:"type"`
	SubType         string          `json:"subtype,omitempty"`
	Text            string          `json:"text"`
	User            string          `json:"user,omitempty"`
	TS              string          `json:"ts"`
	AppID           string          `json:"app_id,omitempty"`
	Blocks          json.RawMessage `json:"blocks,omitempty"`
	Attachments     json.RawMessage `json:"attachments,omitempty"`
	Team            string          `json:"team,omitempty"`
	Edited          *wireEdited     `json:"edited,omitempty"`
	ThreadTS        string          `json:"thread_ts,omitempty"`
	ParentUserID    string          `json:"parent_user_id,omitempty"`
	ReplyCount      int             `json:"reply_count,omitempty"`
	ReplyUsersCount int             `json:"reply_users_count,omitempty"`
	LatestReply     string          `json:"latest_reply,omitempty"`
	ReplyUsers      []string        `json:"reply_users,omitempty"`
	Metadata        json.RawMessage `json:"metadata,omitempty"`
}

type wireEdited struct {
	User string `json:"user"`
	TS   string `json:"ts"`
}

// wireLocked renders m; metadata only when asked for, as conversations.replies
// returns it only with include_all_metadata.
func (s *Server) wireLocked(m *message, withMetadata bool) wireMessage {
	w := wireMessage{
		Type:        "message",
		Text:        m.Text,
		User:        m.User,
		TS:          m.TS,
		Blocks:      m.Blocks,
		Attachments: m.Attachments,
		Team:        TeamID,
		ThreadTS:    m.ThreadTS,
	}
	if m.User == BotUserID {
		w.BotID, w.AppID = BotID, AppID
	}
	if m.ReplyBroadcast {
		w.SubType = "thread_broadcast"
	}
	if m.Updates > 0 {
		w.Edited = &wireEdited{User: BotUserID, TS: m.editedTS}
	}
	if m.ThreadTS != "" {
		if parent, ok := s.byKey[msgKey{m.Channel, m.ThreadTS}]; ok {
			w.ParentUserID = parent.User
		}
	} else {
		var users []string
		for _, r := range s.replies[m.key()] {
			if r.Deleted {
				continue
			}
			w.ReplyCount++
			w.LatestReply = r.TS
			if !slices.Contains(users, r.User) {
				users = append(users, r.User)
			}
		}
		if w.ReplyCount > 0 {
			w.ThreadTS, w.ReplyUsers, w.ReplyUsersCount = m.TS, users, len(users)
		}
	}
	if withMetadata {
		w.Metadata = m.metaRaw
	}
	return w
}

// responseTarget is what a response_url answers to.
type responseTarget struct {
	user, channel string
	// source is the message an interaction happened on; for a slash command, the
	// last message posted through the URL. replace_original and delete_original
	// act on it.
	source    *message
	fromSlash bool
	uses      int
}

func (s *Server) newResponseURLLocked(t *responseTarget) string {
	id := strconv.Itoa(len(s.responseURLs) + 1)
	s.responseURLs[id] = t
	return s.http.URL + "/response/" + id
}

// handleResponseURL serves the response_url of slash commands and interactions.
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/response/")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	var params url.Values
	if err == nil {
		params, err = flattenJSON(body)
	}
	if params == nil {
		params = url.Values{}
	}

	s.mu.Lock()
	delay := s.latency[ViaResponseURL]
	s.mu.Unlock()
	s.sleep(r, delay)

	s.mu.Lock()
	res := s.responseURLLocked(id, params, err)
	s.calls = append(s.calls, Call{Method: ViaResponseURL, Params: params, Time: now, Status: res.status, Error: res.err})
	s.notifyLocked()
	s.mu.Unlock()
	writeResult(w, res)
}

func (s *Server) responseURLLocked(id string, p url.Values, decodeErr error) apiResult {
	failWith := func(status int, code string) apiResult {
		res := failResult(code)
		res.status = status
		return res
	}
	if decodeErr != nil {
		return failWith(http.StatusBadRequest, "invalid_payload")
	}
	if q := s.rateLimits[ViaResponseURL]; len(q) > 0 {
		s.rateLimits[ViaResponseURL] = q[1:]
		return rateLimitedResult(q[0])
	}
	if q := s.failures[ViaResponseURL]; len(q) > 0 {
		s.failures[ViaResponseURL] = q[1:]
		return failWith(http.StatusNotFound, q[0])
	}
	t, ok := s.responseURLs[id]
	if !ok {
		return failWith(http.StatusNotFound, "expired_url")
	}
	if t.uses >= responseURLMaxUses {
		return failWith(http.StatusNotFound, "used_url")
	}
	t.uses++
	res := s.respondLocked(t, p, ViaResponseURL)
	if res.err != "" && res.status == http.StatusOK {
		res.status = http.StatusBadRequest
	}
	return res
}

// respondLocked applies a response_url post or a slash command's ack payload.
func (s *Server) respondLocked(t *responseTarget, p url.Values, via string) apiResult {
	if truthy(p.Get("delete_original")) {
		if t.source != nil {
			t.source.Deleted = true
			s.publishMessageLocked(t.source)
		}
		return okResult(nil)
	}
	c, bad := parseContent(p)
	if bad != nil {
		return *bad
	}
	if !c.visible {
		return failResult("no_text")
	}
	if truthy(p.Get("replace_original")) && t.source != nil && !t.source.Deleted {
		s.editLocked(t.source, c, via)
		return okResult(nil)
	}
	m := s.newMessageLocked(t.channel, p.Get("thread_ts"), c, via)
	if p.Get("response_type") == slack.ResponseTypeInChannel {
		m.User = BotUserID
	} else {
		m.User, m.Ephemeral = t.user, true
	}
	s.storeLocked(m)
	if t.fromSlash {
		t.source = m
	}
	return okResult(nil)
}

// nextTSLocked returns a new message ts: unique, increasing, in Slack's
// "seconds.microseconds" form, starting at 1700000000.000100.
func (s *Server) nextTSLocked() string {
	s.seq++
	return fmt.Sprintf("%d.%06d", tsEpoch+s.seq/10000, s.seq%10000*100)
}

// randomID returns n random characters of [A-Z2-7].
func randomID(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(rand.Text())
	}
	return b.String()[:n]
}

// newUUID returns a random (version 4) UUID, the form of Slack's envelope ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/commands"
)

// NotifySettings is what a channel hears of its jobs (/runjob notify). The
// card is edited whatever they say; they decide which thread replies and
// notes are posted, which of them also go to the channel, and whether they
// mention the person they are about.
type NotifySettings struct {
	// Level is commands.NotifyAll, NotifyFailures or NotifyOff.
	Level commands.NotifyLevel
	// Broadcast is commands.NotifyFailures (failure replies are also
	// shown in the channel) or NotifyOff.
	Broadcast commands.NotifyLevel
	// Mention: the replies and notes mention the requester (and whoever
	// stopped the job), which notifies them.
	Mention bool
}

// DefaultNotify is what a channel hears until someone changes it: every
// reply and note, in the thread only, mentioning the requester.
var DefaultNotify = NotifySettings{Level: commands.NotifyAll, Broadcast: commands.NotifyOff, Mention: true}

// Apply returns n with the settings c gives changed.
func (n NotifySettings) Apply(c commands.Notify) NotifySettings {
	if c.Level != "" {
		n.Level = c.Level
	}
	if c.Broadcast != "" {
		n.Broadcast = c.Broadcast
	}
	if c.Mention != "" {
		n.Mention = c.Mention == commands.MentionOn
	}
	return n
}

// Notify returns the settings of channel.
func (s *Store) Notify(ctx context.Context, channel string) (NotifySettings, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Notify(channel)).Result()
	if err != nil {
		return NotifySettings{}, fmt.Errorf("notify settings of %s: %w", channel, err)
	}
	return decodeNotify(h), nil
}

// SetNotify changes the settings c gives for channel, and returns them as
// they were and as they are now, read and written in one transaction. The
// settings have no expiry: they last until changed.
func (s *Store) SetNotify(ctx context.Context, channel string, c commands.Notify) (before, after NotifySettings, err error) {
	var fields []any
	if c.Level != "" {
		fields = append(fields, fNotifyLevel, string(c.Level))
	}
	if c.Broadcast != "" {
		fields = append(fields, fNotifyBroadcast, string(c.Broadcast))
	}
	if c.Mention != "" {
		fields = append(fields, fNotifyMention, string(c.Mention))
	}
	key := s.keys.Notify(channel)
	var old *redis.MapStringStringCmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		old = p.HGetAll(ctx, key)
		if len(fields) > 0 {
			p.HSet(ctx, key, fields...)
		}
		return nil
	})
	if err != nil {
		return NotifySettings{}, NotifySettings{}, fmt.Errorf("set notify settings of %s: %w", channel, err)
	}
	before = decodeNotify(old.Val())
	return before, before.Apply(c), nil
}

// decodeNotify reads the hash of a channel's settings; a value it does not
// know (written by a later version, say) is left at the default.
func decodeNotify(h map[string]string) NotifySettings {
	n := DefaultNotify
	switch l := commands.NotifyLevel(h[fNotifyLevel]); l {
	case commands.NotifyAll, commands.NotifyFailures, commands.NotifyOff:
		n.Level = l
	}
	switch l := commands.NotifyLevel(h[fNotifyBroadcast]); l {
	case commands.NotifyFailures, commands.NotifyOff:
		n.Broadcast = l
	}
	switch commands.Mention(h[fNotifyMention]) {
	case commands.MentionOn:
		n.Mention = true
	case commands.MentionOff:
		n.Mention = false
	}
	return n
}

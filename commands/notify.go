package commands

// The notify sub-command: what a channel hears of its jobs.

// The keys of the notify sub-command, lower case.
const (
	keyBroadcast = "broadcast"
	keyMention   = "mention"
)

// notifyForm is the hint every notify error ends with.
var notifyForm = "Write " + code("/runjob notify") + " to see the settings, or change them with " +
	code("all") + ", " + code("failures") + " or " + code("off") + ", " +
	code("broadcast=failures") + " or " + code("broadcast=off") + ", " +
	code("mention=on") + " or " + code("mention=off") + ", like " +
	code("/runjob notify failures mention=off") + "."

// parseNotify reads the arguments of notify: at most one level word, one
// broadcast= and one mention=, in any order, words and values in any case.
func parseNotify(args []token) (Notify, error) {
	var n Notify
	set := map[string]string{} // "level", "broadcast", "mention" → the word that set it
	for _, tok := range args {
		key, dynamic, value, ok := splitKey(tok.items)
		what, got := "level", ""
		if ok {
			what = lowerASCII(key)
			if what != keyBroadcast && what != keyMention || dynamic {
				return Notify{}, &Error{Token: tok.text, Reason: "this is not a notify setting", Hint: notifyForm}
			}
			_, v, _, _ := scan(value)
			got = lowerASCII(v)
		} else {
			_, v, _, _ := scan(tok.items)
			got = lowerASCII(v)
		}
		if prev, dup := set[what]; dup {
			return Notify{}, &Error{Token: tok.text, Reason: "the " + what + " is already set by", Earlier: prev, Hint: "Give it once."}
		}
		set[what] = tok.text
		switch what {
		case "level":
			switch l := NotifyLevel(got); l {
			case NotifyAll, NotifyFailures, NotifyOff:
				n.Level = l
			default:
				return Notify{}, &Error{Token: tok.text, Reason: "this is not a notify setting", Hint: notifyForm}
			}
		case keyBroadcast:
			switch l := NotifyLevel(got); l {
			case NotifyFailures, NotifyOff:
				n.Broadcast = l
			default:
				return Notify{}, &Error{Token: tok.text, Reason: code(keyBroadcast) + " is " + code("failures") + " or " + code("off"),
					Hint: "Write " + code("broadcast=failures") + " to show failures in the channel too, or " + code("broadcast=off") + "."}
			}
		case keyMention:
			switch m := Mention(got); m {
			case MentionOn, MentionOff:
				n.Mention = m
			default:
				return Notify{}, &Error{Token: tok.text, Reason: code(keyMention) + " is " + code("on") + " or " + code("off"),
					Hint: "Write " + code("mention=off") + " to stop pinging whoever started a job, or " + code("mention=on") + "."}
			}
		}
	}
	return n, nil
}

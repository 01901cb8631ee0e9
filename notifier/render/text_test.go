package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/xplenty"
)

// Slack counts its limits in UTF-16 code units: every message stays within
// them when each piece of untrusted text is emoji outside the BMP (two
// units each), and the long ones end in an ellipsis instead of making
// Slack refuse the message.
func TestRenderEmojiCountTwiceAgainstSlacksLimits(t *testing.T) {
	const emoji = "😀"
	r := busyRecord()
	r.Variables = map[string]string{}
	for i := range 12 {
		r.Variables[fmt.Sprintf("VAR_%02d", i)] = strings.Repeat(emoji, 2000)
	}
	r.Variables[strings.Repeat(emoji, 500)] = "x"
	r.DynamicVariables = map[string]string{"D": strings.Repeat(emoji, 5000)}
	r.Preset = strings.Repeat(emoji, 1000)
	r.Requester = strings.Repeat(emoji, 500)
	r.Errors = strings.Repeat(emoji, 3000)
	r.Status = xplenty.Status(strings.Repeat(emoji, 300))
	for i := range 20 {
		r.Outputs = append(r.Outputs, xplenty.Output{ID: int64(i), Name: strings.Repeat(emoji, 300)})
	}
	s := Starting{Requester: r.Requester, Run: commands.Run{ClusterID: 52, PackageID: 434, Preset: r.Preset, Variables: r.Variables, DynamicVariables: r.DynamicVariables}}
	for name, m := range everyMessage(r, s, r.Errors, "https://app.xplenty.com/acme/jobs", r.Requester) {
		t.Run(name, func(t *testing.T) { checkBlockKit(t, m) })
	}
	failed := strings.Join(messageStrings(t, Reply(withStatus(r, xplenty.StatusFailed))), "\n")
	if !strings.Contains(failed, emoji+"…\n```") {
		t.Errorf("failed reply does not cut the error text of 3,000 emoji with an ellipsis")
	}
}

func TestClipAndTruncateCountUTF16Units(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"clip fits", clip("😀😀", 4), "😀😀"},
		{"clip cuts", clip("😀😀😀", 4), "😀…"},
		{"clip cuts before a pair that would straddle", clip("a😀😀", 3), "a…"},
		{"clip counts the escaped text", clip("😀&", 7), "😀&amp;"},
		{"clip keeps entities whole", clip("😀&x", 7), "😀…"},
		{"truncate fits", truncate("é😀", 3), "é😀"},
		{"truncate cuts", truncate("😀😀😀", 5), "😀😀…"},
		{"truncate of a BMP text", truncate("abcdef", 4), "abc…"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// An answer the bot writes itself (a long list, say) is cut at Slack's
// limit of the top-level text, never refused for its length.
func TestFitTextCutsAtSlacksMessageLimit(t *testing.T) {
	long := strings.Repeat("😀", maxMessageText)
	got := FitText(long)
	if n := textLen(got); n > maxMessageText || !strings.HasSuffix(got, "😀…") {
		t.Errorf("FitText of %d units gave %d units, ending %q", textLen(long), n, got[len(got)-8:])
	}
	if short := "Job 1001: running"; FitText(short) != short {
		t.Errorf("FitText changed a short text: %q", FitText(short))
	}
}

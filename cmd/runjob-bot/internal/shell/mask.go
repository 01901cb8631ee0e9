package shell

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/runjob/runjob/bot/slacktest"
	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/render"
)

// hidden replaces the arguments of a line that could hold a secret
// value but that the grammar cannot read.
const hidden = "(input hidden: it could not be parsed)"

// maskSecrets is a typed line as the echo of piped input shows it, the
// values of secret variables hidden: the bot never shows a secret value,
// and neither does its shell. The grammar itself (commands.Parse, on the text as Slack would
// send it) finds the values, so no quoting, escaping or Unicode space can
// make the echo disagree with what the bot reads. A run is echoed in
// canonical form (commands.Render) with secret values masked; other
// commands as typed; text the grammar refuses is hidden when it has an "=",
// which any value needs. The arguments of other slash commands and of shell
// commands get the same treatment, and so does a line without a command (a
// run typed without its /runjob).
func (sh *chat) maskSecrets(line string) string {
	word, args := splitWord(line)
	if (!strings.HasPrefix(word, "/") && !strings.HasPrefix(word, ":")) || strings.Contains(word, "=") {
		word, args = "", line // no command word: the whole line is arguments
	}
	masked := sh.maskArgs(args)
	if word == "" || masked == "" {
		return word + masked
	}
	return word + " " + masked
}

// splitWord splits a line into its first word and the rest, at the
// first separator of the /runjob grammar (a Unicode space, U+200B or
// U+FEFF), so that "/runjob" followed by a pasted no-break or zero-width
// space is still /runjob.
func splitWord(line string) (word, rest string) {
	i := strings.IndexFunc(line, isSep)
	if i < 0 {
		return line, ""
	}
	return line[:i], strings.TrimFunc(line[i:], isSep)
}

func isSep(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' }

// wordShown is a mistyped command word as a note quotes it: up to its
// first "=", after which a value, secret or not, could follow.
func wordShown(word string) string {
	w, _, _ := strings.Cut(word, "=")
	return w
}

// argShown is an argument as a note quotes it; one with an "=" could
// hold a value and is not repeated.
func argShown(arg string) string {
	if strings.Contains(arg, "=") {
		return "that"
	}
	return strconv.Quote(arg)
}

// maskArgs is the text of a command, as echoed by maskSecrets.
func (sh *chat) maskArgs(text string) string {
	cmd, err := commands.Parse(slacktest.EscapeText(text))
	switch run, isRun := cmd.(commands.Run); {
	case err != nil:
		if strings.Contains(text, "=") {
			return hidden
		}
		return text
	case isRun:
		run.Variables = sh.maskVars(run.Variables)
		run.DynamicVariables = sh.maskVars(run.DynamicVariables)
		return commands.Render(run)
	default: // help, list, status, stop, rerun: words and a job id
		return text
	}
}

// maskVars is vars with the values of secret variables replaced by Mask.
func (sh *chat) maskVars(vars map[string]string) map[string]string {
	if vars == nil {
		return nil
	}
	out := make(map[string]string, len(vars))
	for name, value := range vars {
		if sh.isSecret(name) {
			value = render.Mask
		}
		out[name] = value
	}
	return out
}

// isSecret reports whether the variable called name is secret by the
// bot's rule.
func (sh *chat) isSecret(name string) bool { return sh.secrets.IsSecret(name) }

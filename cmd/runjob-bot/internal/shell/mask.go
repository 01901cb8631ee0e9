package shell

import (
	"regexp"
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

// hiddenLine replaces a line of the variables box that could hold a
// secret value but that the grammar cannot read.
const hiddenLine = "(line hidden: it could not be parsed)"

// quoteRunes open and close quoted values in the variables box, where a
// value in quotes may span lines (commands straightens the curly ones).
const quoteRunes = `"'“”„‟‘’‚‛`

// varMasker masks the lines of the variables box one after the other.
type varMasker struct {
	// lost is set once a line the grammar refuses had a quote: a quoted
	// value may be open, and any later line could be part of it.
	lost bool
	// hid is set once a line was hidden.
	hid bool
}

// maskVarLine is a line of the variables box as the form's echo shows it,
// the values of secret variables masked. A line the grammar reads alone
// is shown as typed, or, when it sets a secret variable, in canonical form
// with the value masked. A line it refuses is shown as typed when it has no
// quote and no word of it sets a secret variable (MSG=hello world, one
// variable too many); otherwise it is hidden, and after one with a quote,
// every line: the quote may open a value that spans them.
func (sh *chat) maskVarLine(m *varMasker, line string) string {
	if m.lost {
		return hiddenLine
	}
	if strings.TrimSpace(line) == "" {
		return line
	}
	vars, dyn, err := commands.ParseVariables(line)
	switch {
	case err == nil:
		for _, set := range []map[string]string{vars, dyn} {
			for name := range set {
				if sh.isSecret(name) {
					return commands.VariableLines(vars, dyn, sh.isSecret, render.Mask)
				}
			}
		}
		return line
	case strings.ContainsAny(line, quoteRunes):
		m.lost, m.hid = true, true
		return hiddenLine
	case !sh.plainNames(line):
		m.hid = true
		return hiddenLine
	}
	return line
}

// varName is a variable name as the variables box takes it.
var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// plainNames reports whether every word of line (a line without quotes,
// whose words are split where the grammar splits them) that could set a
// variable, having an "=", sets one that is not secret: a value, if the
// line has one, is then no secret's.
func (sh *chat) plainNames(line string) bool {
	for _, w := range strings.FieldsFunc(line, isSep) {
		name, _, ok := strings.Cut(w, "=")
		if !ok {
			continue
		}
		name = strings.TrimSuffix(name, ":")
		if !varName.MatchString(name) || sh.isSecret(name) {
			return false
		}
	}
	return true
}

// maskVariables is the text of the variables box as the form shows it:
// line by line (maskVarLine), or, when that hides a line but the text as a
// whole reads (a quoted value spanning lines), in canonical form with the
// secret values masked.
func (sh *chat) maskVariables(text string) string {
	var m varMasker
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = sh.maskVarLine(&m, l)
	}
	if m.hid {
		if vars, dyn, err := commands.ParseVariables(text); err == nil {
			return commands.VariableLines(vars, dyn, sh.isSecret, render.Mask)
		}
	}
	return strings.Join(lines, "\n")
}

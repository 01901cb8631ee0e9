package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Hints shared by several errors.
var (
	runForm    = code("/runjob cluster=52 package=434 [NAME=value ...]")
	presetForm = code("/runjob nightly [NAME=value ...]")
)

// Parse reads the text of a /runjob command, as Slack sends it (see the
// package comment for what it undoes). It returns one of the Command types,
// or an *Error for the person who typed it.
func Parse(text string) (Command, error) {
	if len(text) > maxWireBytes {
		return nil, tooLong()
	}
	if !utf8.ValidString(text) {
		return nil, &Error{Reason: "the text is not valid UTF-8", Hint: "Type the command again."}
	}
	toks, err := lex(normalize(text))
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return Form{}, nil
	}
	switch word := lowerASCII(toks[0].text); word {
	case wordPackages, wordClusters:
		words, err := filterWords(word, toks[1:])
		if err != nil {
			return nil, err
		}
		if word == wordPackages {
			return Packages{Words: words}, nil
		}
		return Clusters{Words: words}, nil
	case wordHelp, wordList, wordForm:
		if len(toks) > 1 {
			return nil, &Error{
				Token:  toks[1].text,
				Reason: code(word) + " takes no arguments",
				Hint:   "Write " + code("/runjob "+word) + ".",
			}
		}
		switch word {
		case wordHelp:
			return Help{}, nil
		case wordForm:
			return Form{}, nil
		}
		return List{}, nil
	case wordNotify:
		n, err := parseNotify(toks[1:])
		if err != nil {
			return nil, err
		}
		return n, nil
	case wordStatus, wordStop, wordRerun:
		id, err := parseJobID(toks[0].text, toks[1:])
		if err != nil {
			return nil, err
		}
		switch word {
		case wordStatus:
			return Status{JobID: id}, nil
		case wordStop:
			return Stop{JobID: id}, nil
		default:
			return Rerun{JobID: id}, nil
		}
	}
	run, err := parseRun(toks)
	if err != nil {
		return nil, err
	}
	return run, nil
}

// filterWords reads the words packages and clusters filter by.
func filterWords(sub string, args []token) ([]string, error) {
	if len(args) > MaxFilterWords {
		return nil, &Error{
			Token:  args[MaxFilterWords].text,
			Reason: fmt.Sprintf("%s filters by at most %d words", code(sub), MaxFilterWords),
		}
	}
	var words []string
	for _, a := range args {
		_, v, _, _ := scan(a.items)
		if why := valueProblem(v); why != "" {
			return nil, &Error{Token: a.text, Reason: why}
		}
		if utf8.RuneCountInString(v) > MaxTargetNameLen {
			return nil, &Error{Token: a.text, Reason: fmt.Sprintf("a word to look for has at most %d characters", MaxTargetNameLen)}
		}
		if v != "" {
			words = append(words, v)
		}
	}
	return words, nil
}

// parseJobID reads the one argument of status, stop and rerun; sub is the
// sub-command word as typed.
func parseJobID(sub string, args []token) (int64, error) {
	word := lowerASCII(sub)
	example := code(word + " 1001")
	if len(args) == 0 {
		return 0, &Error{Token: sub, Reason: "the job id is missing", Hint: "Write " + example + "."}
	}
	if len(args) > 1 {
		return 0, &Error{
			Token:  args[1].text,
			Reason: code(word) + " takes one job id and nothing else",
			Hint:   "Write " + example + ".",
		}
	}
	_, v, _, _ := scan(args[0].items)
	if len(v) > 0 && v[0] == '#' {
		v = v[1:]
	}
	id, why := parseID(v)
	if why != "" {
		return 0, &Error{Token: args[0].text, Reason: "a job id is " + why, Hint: "Write " + example + "."}
	}
	return id, nil
}

// parseID reads a positive decimal int64 written with ASCII digits only. It
// returns a reason (to follow "the cluster is ...") when s is not one.
func parseID(s string) (int64, string) {
	if s == "" {
		return 0, "a positive whole number"
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, "a positive whole number"
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, "a positive whole number, and this one is too large"
	}
	if err != nil || n == 0 {
		return 0, "a positive whole number"
	}
	return n, ""
}

// runParser holds what parseRun has read so far, and where it read it for
// errors about repeats.
type runParser struct {
	run     Run
	idTok   map[string]string // cluster/package → the word that set it
	nameTok map[string]string // variable name → the word that set it
}

// parseRun reads a run: an optional preset name first, then key=value words.
func parseRun(toks []token) (Run, error) {
	p := runParser{idTok: map[string]string{}, nameTok: map[string]string{}}
	for i, tok := range toks {
		key, dynamic, value, ok := splitKey(tok.items)
		if !ok {
			if i == 0 {
				if err := p.preset(tok); err != nil {
					return Run{}, err
				}
				continue
			}
			return Run{}, &Error{
				Token:  tok.text,
				Reason: "this should be " + code("NAME=value") + " or " + code("NAME:=expression"),
				Hint: "Put values with spaces in double quotes, like " + code(`MSG="hello world"`) +
					"; a preset name goes first.",
			}
		}
		var err error
		switch lowerASCII(key) {
		case keyCluster, keyPackage:
			err = p.id(tok, lowerASCII(key), dynamic, value)
		default:
			err = p.variable(tok, key, dynamic, value)
		}
		if err != nil {
			return Run{}, err
		}
	}
	if p.run.Preset == "" {
		var missing string
		noCluster := p.run.ClusterID == 0 && p.run.ClusterName == ""
		noPackage := p.run.PackageID == 0 && p.run.PackageName == ""
		switch {
		case noCluster && noPackage:
			missing = "the cluster and package are missing"
		case noCluster:
			missing = "the cluster is missing"
		case noPackage:
			missing = "the package is missing"
		}
		if missing != "" {
			return Run{}, &Error{
				Reason: missing,
				Hint:   "A run needs both: " + runForm + ", or a preset: " + presetForm + ".",
			}
		}
	}
	if utf8.RuneCountInString(Render(p.run)) > MaxTextLen {
		return Run{}, tooLong()
	}
	return p.run, nil
}

func (p *runParser) preset(tok token) error {
	switch {
	case reserved(tok.text):
		// Sub-commands never get here; cluster and package do, typed
		// with a space instead of "=".
		key := lowerASCII(tok.text)
		return &Error{
			Token:  tok.text,
			Reason: "the " + key + " is set with " + code(key+"=…"),
			Hint:   "Write " + runForm + ".",
		}
	case !validPreset(tok.text):
		return &Error{
			Token:  tok.text,
			Reason: "this is not a sub-command, a preset name or " + code("NAME=value"),
			Hint:   "Try " + code("/runjob help") + ".",
		}
	case len(tok.text) > MaxNameLen:
		return &Error{
			Token:  tok.text,
			Reason: fmt.Sprintf("a preset name has at most %d characters", MaxNameLen),
		}
	}
	p.run.Preset = tok.text
	return nil
}

// id reads cluster= or package= with an id or a name; key is "cluster"
// or "package".
func (p *runParser) id(tok token, key string, dynamic bool, value []item) error {
	example := code(key+"=52") + " or " + code(key+`="prod etl"`)
	if key == keyPackage {
		example = code(key+"=434") + " or " + code(key+"=orders_daily")
	}
	if p.run.Preset != "" {
		return &Error{
			Token:  tok.text,
			Reason: "the preset " + code(p.run.Preset) + " already sets the cluster and package",
			Hint:   "Leave out " + code(tok.text) + ", or run without the preset: " + runForm + ".",
		}
	}
	if dynamic {
		return &Error{Token: tok.text, Reason: "the " + key + " is an id or a name, not an expression", Hint: "Write " + example + "."}
	}
	if prev, ok := p.idTok[key]; ok {
		return &Error{
			Token:   tok.text,
			Reason:  "the " + key + " is already set by",
			Earlier: prev,
			Hint:    "Give it once.",
		}
	}
	_, v, _, _ := scan(value)
	var n int64
	var name string
	switch {
	case strings.TrimSpace(v) == "":
		return &Error{Token: tok.text, Reason: "the " + key + "'s id or name is missing", Hint: "Write it like " + example + "."}
	case numberLike(v):
		var why string
		if n, why = parseID(v); why != "" {
			return &Error{Token: tok.text, Reason: "the " + key + " id must be " + why, Hint: "Write it like " + example + "."}
		}
	default:
		if why := valueProblem(v); why != "" {
			return &Error{Token: tok.text, Reason: why}
		}
		if utf8.RuneCountInString(v) > MaxTargetNameLen {
			return &Error{Token: tok.text, Reason: fmt.Sprintf("a %s name has at most %d characters", key, MaxTargetNameLen)}
		}
		name = v
	}
	p.idTok[key] = tok.text
	if key == keyCluster {
		p.run.ClusterID, p.run.ClusterName = n, name
	} else {
		p.run.PackageID, p.run.PackageName = n, name
	}
	return nil
}

// variable reads NAME=value or NAME:=expression.
func (p *runParser) variable(tok token, name string, dynamic bool, value []item) error {
	switch {
	case name == "":
		return &Error{
			Token:  tok.text,
			Reason: "the variable name is missing",
			Hint:   "Write " + code("NAME=value") + ", like " + code("DATE=2026-11-01") + ".",
		}
	case !validName(name):
		return &Error{
			Token:  tok.text,
			Reason: code(name) + " is not a variable name",
			Hint: fmt.Sprintf("Names start with a letter or _, have only letters, digits and _, "+
				"and are at most %d characters long, like %s.", MaxNameLen, code("DATE=2026-11-01")),
		}
	}
	if prev, ok := p.nameTok[name]; ok {
		return &Error{
			Token:   tok.text,
			Reason:  code(name) + " is already set by",
			Earlier: prev,
			Hint:    "Give each variable once.",
		}
	}
	if len(p.nameTok) == MaxVariables {
		return &Error{
			Token:  tok.text,
			Reason: fmt.Sprintf("a run can set at most %d variables", MaxVariables),
		}
	}
	if len(value) == 0 {
		if dynamic {
			return &Error{Token: tok.text, Reason: "the expression is missing", Hint: "Write one, like " + code(name+":=CurrentTime()") + "."}
		}
		return &Error{Token: tok.text, Reason: "the value is missing", Hint: "For an empty value write " + code(name+`=""`) + "."}
	}
	_, v, _, _ := scan(value)
	if dynamic && v == "" {
		return &Error{Token: tok.text, Reason: "an expression can't be empty", Hint: "Write one, like " + code(name+":=CurrentTime()") + "."}
	}
	if why := valueProblem(v); why != "" {
		return &Error{Token: tok.text, Reason: why}
	}
	p.nameTok[name] = tok.text
	m := &p.run.Variables
	if dynamic {
		m = &p.run.DynamicVariables
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[name] = v
	return nil
}

// splitKey splits a word at its first "=": the key must be typed text with
// no quotes; a key ending in ":" (NAME:=) is a dynamic variable's. ok is false
// when the word has no such key.
func splitKey(items []item) (key string, dynamic bool, value []item, ok bool) {
	for i, it := range items {
		if it.kind != typed || it.r == '"' || it.r == '\'' {
			return "", false, nil, false
		}
		if it.r == '=' {
			key = itemsText(items[:i])
			if k, found := strings.CutSuffix(key, ":"); found {
				return k, true, items[i+1:], true
			}
			return key, false, items[i+1:], true
		}
	}
	return "", false, nil, false
}

func tooLong() *Error {
	return &Error{
		Reason: fmt.Sprintf("the command is too long: the most is %d characters", MaxTextLen),
		Hint:   "Set fewer or shorter variables.",
	}
}

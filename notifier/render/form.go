package render

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
)

// The run form: a modal opened by /runjob with no arguments, or by Edit &
// re-run. Its ids are a contract (design.md): the view's callback_id
// FormCallbackID, and blocks whose block_id and action_id are both
// FormPackage (an external_select whose options come from
// block_suggestion, each option's value a package id), FormCluster (option
// value a cluster id) and FormVariables (a multi-line text input, one
// NAME=value or NAME:=expression a line).
const (
	FormCallbackID = "runjob_run"
	FormPackage    = "package"
	FormCluster    = "cluster"
	FormVariables  = "variables"
)

// Slack's limits on a view's parts.
const (
	maxViewTitle     = 24
	maxOptionText    = 75
	maxOptionValue   = 150
	maxStaticOptions = 100
	maxInputValue    = 3000
	maxMetadata      = 3000
)

// Option is one choice of a picker: an id, and the label shown for it.
type Option struct {
	Value string // a package or cluster id in decimal
	Label string // plain text, from the catalog: cleaned and capped here
}

// Form is the run form as the bot fills it.
type Form struct {
	// Metadata is the view's private_metadata: the bot's note of where the
	// run goes and what it edits, opaque here (at most 3,000 characters).
	Metadata string
	// EditOf is the job the form edits (Edit & re-run), 0 for a new run.
	EditOf int64
	// Package is the package chosen, nil when none is.
	Package *Option
	// Clusters are the cluster picker's choices, in order; nil makes the
	// picker search as one types (external_select), as the package's does.
	Clusters []Option
	// Cluster is the cluster chosen, nil when none is.
	Cluster *Option
	// Variables is the text of the variables box.
	Variables string
	// Note is a line of mrkdwn under the box (the package's declared
	// variables, a notice), already safe to show; "" for none.
	Note string
}

// FormView is the modal of f.
func FormView(f Form) slack.ModalViewRequest {
	title := "Run an Xplenty job"
	var blocks []slack.Block
	if f.EditOf != 0 {
		title = "Edit & re-run"
		blocks = append(blocks, section("runjob_form_intro", fmt.Sprintf(
			"Run job %d again with changes. Secret values show as %s and are kept as they were, for this package, unless you type new ones.",
			f.EditOf, Mask)))
	}

	pkg := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, plain("Type to search packages"), FormPackage)
	pkg.MinQueryLength = new(0)
	if f.Package != nil {
		pkg.InitialOption = option(*f.Package)
	}
	pkgBlock := slack.NewInputBlock(FormPackage, plain("Package"), nil, pkg)
	pkgBlock.DispatchAction = true // choosing one fills in its variables

	var cl *slack.SelectBlockElement
	if f.Clusters == nil {
		cl = slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, plain("Type to search clusters"), FormCluster)
		cl.MinQueryLength = new(0)
	} else {
		opts := make([]*slack.OptionBlockObject, 0, min(len(f.Clusters), maxStaticOptions))
		for _, o := range f.Clusters[:min(len(f.Clusters), maxStaticOptions)] {
			opts = append(opts, option(o))
		}
		cl = slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Pick a cluster"), FormCluster, opts...)
	}
	if f.Cluster != nil {
		cl.InitialOption = option(*f.Cluster)
	}

	vars := slack.NewPlainTextInputBlockElement(plain("DATE=2026-11-01"), FormVariables)
	vars.Multiline = true
	vars.MaxLength = maxInputValue
	vars.InitialValue = truncate(f.Variables, maxInputValue)
	varsBlock := slack.NewInputBlock(FormVariables, plain("Variables"),
		plain(`One NAME=value or NAME:=expression a line. Put a value with spaces in double quotes: MSG="hello world".`), vars)
	varsBlock.Optional = true

	blocks = append(blocks, pkgBlock, slack.NewInputBlock(FormCluster, plain("Cluster"), nil, cl), varsBlock)
	if f.Note != "" {
		blocks = append(blocks, slack.NewContextBlock("runjob_form_note", mrkdwn(truncate(f.Note, maxSectionText))))
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain(truncate(title, maxViewTitle)),
		Submit:          plain("Run"),
		Close:           plain("Cancel"),
		Blocks:          slack.Blocks{BlockSet: blocks},
		PrivateMetadata: truncate(f.Metadata, maxMetadata),
		CallbackID:      FormCallbackID,
	}
}

// option is a picker's choice within Slack's limits.
func option(o Option) *slack.OptionBlockObject {
	return slack.NewOptionBlockObject(truncate(o.Value, maxOptionValue), plain(OptionLabel(o.Label)), nil)
}

// OptionLabel makes text from the catalog fit a picker's label: on one
// line, without control characters or bidi overrides, at most 75
// characters. A plain_text label shows & < > as they are.
func OptionLabel(s string) string {
	s = strings.TrimSpace(oneLine(s))
	if s == "" {
		s = "(no name)"
	}
	return truncate(s, maxOptionText)
}

// OptionsAnswer is block_suggestion's answer. Unlike slack-go's
// OptionsResponse it always writes "options", as [] when nothing matches.
type OptionsAnswer struct {
	Options []*slack.OptionBlockObject `json:"options"`
}

// Options are block_suggestion's answer: the choices, at most 100.
func Options(opts []Option) OptionsAnswer {
	out := make([]*slack.OptionBlockObject, 0, min(len(opts), maxStaticOptions))
	for _, o := range opts[:min(len(opts), maxStaticOptions)] {
		out = append(out, option(o))
	}
	return OptionsAnswer{Options: out}
}

// IDOption is the choice of an id labelled with a name from the catalog
// and, when extra is set, more of our own words: "orders_daily (434)",
// "prod-etl (52) · available". The name is shortened so the id always shows.
func IDOption(id int64, name, extra string) Option {
	v := strconv.FormatInt(id, 10)
	tail := " (" + v + ")"
	if extra != "" {
		tail += " · " + extra
	}
	name = strings.TrimSpace(oneLine(name))
	if name == "" {
		return Option{Value: v, Label: truncate(v+strings.TrimPrefix(tail, " ("+v+")"), maxOptionText)}
	}
	return Option{Value: v, Label: truncate(name, max(1, maxOptionText-len([]rune(tail)))) + tail}
}

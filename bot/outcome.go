package bot

// Outcome is how a command or a click ended, as counted in the metrics
// (runjob_commands_total's result label is its String).
type Outcome uint8

// The outcomes of a command or a click.
const (
	proceed    Outcome = iota // not an end: the next step of the pipeline goes on
	Started                   // a job was started
	Confirm                   // the runner was asked to confirm a protected run
	Stopped                   // Xplenty was asked to stop a job
	Status                    // a job's status was shown
	List                      // the channel's recent jobs were shown
	Help                      // the usage was shown
	Cancelled                 // a run waiting for its confirmation was dropped
	Denied                    // the allowlist or the policy said no
	Invalid                   // the command or the click made no sense
	Refused                   // Xplenty refused the run or the stop
	Duplicate                 // a redelivery, or a double click: nothing done twice
	Expired                   // a confirmation that is no longer there
	Error                     // the bot's database could not be reached
	CannotPost                // the job card could not be posted: nothing started
	Unknown                   // the run request's answer was lost; the job is looked for
	Posted                    // a job's log was posted in its thread
	FormOpened                // the run form was opened
	Notify                    // the channel's notify settings were shown or changed
)

var outcomeNames = [...]string{
	proceed: "proceed", Started: "started", Confirm: "confirm", Stopped: "stopped", Status: "status",
	List: "list", Help: "help", Cancelled: "cancelled", Denied: "denied", Invalid: "invalid",
	Refused: "refused", Duplicate: "duplicate", Expired: "expired", Error: "error",
	CannotPost: "cannot_post", Unknown: "unknown", Posted: "posted", FormOpened: "form", Notify: "notify",
}

// String is the outcome's name in metrics and logs.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "other"
}

// keepsClaim reports whether a double-click claim stays taken after an
// act that ended so: it may have started a job, or will.
func (o Outcome) keepsClaim() bool { return o == Started || o == Confirm || o == Unknown }

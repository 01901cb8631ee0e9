// Package xplenty is runjob's client for the Xplenty (Integrate.io ETL) jobs
// API: run a package on a cluster, follow the job, list what changed, stop
// it, read its log; the catalog a run names, packages (with their
// declared variables) and clusters (with their status); and the account's
// web hooks, which tell the bot at once that a job changed.
//
// It exists so the rest of the bot never deals with the API's wire format,
// its quirks (numbers sent as text and text as numbers, timestamps with any
// offset or none, two output shapes), its error answers or its hourly call
// budget. Every call goes through one request path that turns non-2xx
// answers into *ErrorResponse, retries only what is safe to retry, records
// the rate-limit headers, and never lets the API key reach an error string.
//
// Starting a job is not idempotent. A run request whose answer was lost
// fails with an error for which errors.Is(err, ErrOutcomeUnknown) holds: the
// job may or may not have started, and only a look at the job list can tell.
//
// Package xplentytest provides an in-memory Xplenty speaking the same wire
// format, for tests, benchmarks and the bot's sandbox.
package xplenty

// Package app runs the bot: it builds the Slack, Xplenty and Redis clients
// from the configuration, wires them into the bot, the watcher and the
// deliverer, serves until its context ends, and shuts down in order.
package app

// Package config reads the bot's configuration from the environment and
// checks it. Vars lists every variable with its default and description
// (deploy/env.example documents the same list, and a test in deploy/ keeps
// the two in step); Read reads them with the defaults of one mode (serve,
// shell, audit); Env.Check validates what serve needs.
package config

// Package render turns a job into what the bot says about it in Slack: the
// Block Kit cards and thread replies with their plain-text fallbacks, and
// the masking of secret values (Scrubber). Every function is pure: the same
// record always gives the same message, so a card can be re-rendered from
// Redis on every edit and golden files pin the output.
//
// Two rules hold everywhere:
//   - text from users or Xplenty goes through clip (Escape, then a length cap
//     that never cuts an entity in half) or code before it reaches Slack, and
//     every mrkdwn object is verbatim, so Slack does not auto-link or
//     auto-mention anything we did not write ourselves;
//   - values of secret variables are replaced by Mask, and also scrubbed from
//     Xplenty's free text (errors, output names), which may echo them.
//
// Untrusted text arrives raw (never escaped by the caller) and is treated in
// one order, by renderer.clean and then clip: secret values are replaced,
// control characters and bidi overrides are removed or turned into spaces
// (see unsafeRune), secret values are replaced again (in case a removed
// character split one), and only then is the text escaped, once. Scrubbing
// after escaping would miss a secret holding &, < or >.
package render

/**
 * The prepare step: the header fields the backend gets, session cookies, and the hand-off to HTML
 * injection. Internal.
 */
package io.github.invertingproxy.agent.rewrite;

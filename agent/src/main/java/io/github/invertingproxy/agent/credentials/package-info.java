/**
 * How the agent authenticates to the proxy: none, a token file, or Google credentials (gcloud,
 * Application Default Credentials, the metadata server).
 */
package io.github.invertingproxy.agent.credentials;

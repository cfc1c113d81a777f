/**
 * What happens in the agent, told to observers such as the metrics.
 */
package io.github.invertingproxy.agent.observe;

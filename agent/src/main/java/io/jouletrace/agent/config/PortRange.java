package io.jouletrace.agent.config;

/**
 * The ports the Prometheus endpoint may take: one port ({@code first == last}), {@code 0} for any
 * free port, or the first free port of {@code first..last}; {@code -1} for off.
 *
 * @param first the first port to try
 * @param last the last port to try
 */
public record PortRange(int first, int last) {}
